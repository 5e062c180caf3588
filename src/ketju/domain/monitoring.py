"""Monitoring (seuranta): an indicator's values over time against its target.

From the observations of the build (RDF Data Cube, `ketju:IndicatorObservation`) this module
makes what the pages show at a glance:

- an indicator's **series**: the total (every breakdown `ketju:total`) and one series per
  breakdown (sex, age group, from-level to to-level, hand-over), each sorted by period;
- its **latest value** and **trend** (the latest total against the one before);
- its **target status**, the contract's one rule (`target_status`): reached, on track,
  off track or no data, in the indicator's direction (its own `ketju:polarity`, else its
  national indicator's);
- **how its monitoring is organised** (handbook tasks 8 and 9): who reports it, to whom, how
  often, through which channel, in which dialogue forum;
- a national indicator's series **per region** (every regional indicator that follows it);
- the **monitoring summary** of a goal tree (each goal's indicators with latest value, trend
  and status);
- per **hand-over** of a chain, the measured wait against the hand-over's `ketju:maximumWait`;
- for several chains, the national indicators two or more of them measure, side by side.

Every query is a named query (`queries/monitoring-*.rq`) with its parameters bound. The rules
(status, trend, periods, durations) are pure functions with doctests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from ketju.core.namespaces import (
    DCT,
    ID,
    ONTOLOGY,
    PREFIXES,
    RDF,
    SDMX_ATTRIBUTE,
    SDMX_CODE,
    SDMX_DIMENSION,
    VOCAB,
)
from ketju.domain.entities import names_of
from ketju.domain.goals import Goal
from ketju.domain.observations import TOTAL
from ketju.domain.texts import Node, Subgraph, Texts
from ketju.infra.snapshot import Snapshot

K = ONTOLOGY
SKOS = PREFIXES["skos"]
NAMES = (SKOS + "prefLabel", PREFIXES["rdfs"] + "label")
HIGHER = VOCAB + "polarity/higher-is-better"
LOWER = VOCAB + "polarity/lower-is-better"
PRELIMINARY = SDMX_CODE + "obsStatus-P"
#: Units of time: an observation broken down by a hand-over in one of these is a wait.
TIME_UNITS = {VOCAB + "unit/days": 1.0, VOCAB + "unit/hours": 1 / 24}

#: The target statuses, best first (`target_status`).
REACHED, ON_TRACK, OFF_TRACK, NO_DATA = "reached", "on-track", "off-track", "no-data"
STATUSES = (REACHED, ON_TRACK, OFF_TRACK, NO_DATA)

#: The breakdown dimensions of an observation, in the order of the data structure.
BREAKDOWNS = (("sex", SDMX_DIMENSION + "sex"), ("ageGroup", K + "ageGroup"),
              ("fromLevel", K + "fromLevel"), ("toLevel", K + "toLevel"),
              ("transition", K + "transition"))


# -- pure rules -------------------------------------------------------------------------------

_PERIOD = re.compile(r"^(\d{4})(?:-Q([1-4])|-(0[1-9]|1[0-2]))?$")


def period_key(period: str) -> tuple[int, int, int]:
    """The order of reference periods: by year, then by the first month the period covers,
    longer periods first (a year before its first quarter, a quarter before its first month).

    >>> sorted(["2024-Q3", "2023", "2024-05", "2024", "2024-Q1"], key=period_key)
    ['2023', '2024', '2024-Q1', '2024-05', '2024-Q3']
    """
    match = _PERIOD.match(period)
    if match is None:
        return (0, 0, 0)
    year, quarter, month = match.groups()
    if quarter:
        return (int(year), 3 * int(quarter) - 2, 1)
    if month:
        return (int(year), int(month), 2)
    return (int(year), 1, 0)


def is_better(value: float, than: float, polarity: str) -> bool:
    """Whether `value` is at least as good as `than` in the indicator's direction.

    >>> is_better(80, 75, HIGHER), is_better(3, 2, LOWER), is_better(2, 2, LOWER)
    (True, False, True)
    """
    return value >= than if polarity == HIGHER else value <= than


def target_status(values: Sequence[float], target: float | None, polarity: str | None,
                  warning: float | None = None) -> str:
    """The status of an indicator against its target (the contract's rule).

    `values` are the total series in period order (the latest last). "reached" when the
    latest is at least as good as the target; else "on-track" when a warning threshold is set
    and the latest is at least as good as it, or (no threshold) when the last two values move
    towards the target; else "off-track". "no-data" without values, without a numeric
    target, or without a direction to judge by.

    >>> target_status([70, 76], 75, HIGHER)
    'reached'
    >>> target_status([60, 70], 75, HIGHER)
    'on-track'
    >>> target_status([72, 70], 75, HIGHER)
    'off-track'
    >>> target_status([72, 71], 75, HIGHER, warning=70)
    'on-track'
    >>> target_status([72, 69], 75, HIGHER, warning=70)
    'off-track'
    >>> target_status([3.5, 2.5], 2, LOWER)
    'on-track'
    >>> target_status([1.5], 2, LOWER)
    'reached'
    >>> target_status([3], 2, LOWER)
    'off-track'
    >>> target_status([], 2, LOWER), target_status([3], None, LOWER), target_status([3], 2, None)
    ('no-data', 'no-data', 'no-data')
    """
    if not values or target is None or polarity not in (HIGHER, LOWER):
        return NO_DATA
    latest = values[-1]
    if is_better(latest, target, polarity):
        return REACHED
    if warning is not None:
        return ON_TRACK if is_better(latest, warning, polarity) else OFF_TRACK
    if len(values) >= 2 and values[-1] != values[-2] and is_better(values[-1], values[-2],
                                                                   polarity):
        return ON_TRACK
    return OFF_TRACK


def trend(values: Sequence[float]) -> str | None:
    """The direction of the last two values: "up", "down" or "flat"; None with fewer.

    >>> trend([1, 2]), trend([2, 1]), trend([2, 2]), trend([5])
    ('up', 'down', 'flat', None)
    """
    if len(values) < 2:
        return None
    latest, previous = values[-1], values[-2]
    return "up" if latest > previous else "down" if latest < previous else "flat"


def judged(direction: str | None, polarity: str | None) -> str | None:
    """Whether a trend is an improvement in the indicator's direction: "better", "worse",
    "same", or None when there is no trend or no direction.

    >>> judged("up", HIGHER), judged("up", LOWER), judged("flat", LOWER), judged("up", None)
    ('better', 'worse', 'same', None)
    """
    if direction is None or polarity not in (HIGHER, LOWER):
        return None
    if direction == "flat":
        return "same"
    return "better" if (direction == "up") == (polarity == HIGHER) else "worse"


#: A plain ISO 8601 duration (a decimal may have a comma, as ISO 8601 allows).
_DURATION = re.compile(
    r"P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?"
    r"(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?"
    r"(?:(\d+(?:[.,]\d+)?)S)?)?"
)
DURATION_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")
_DAYS = {"year": 365.0, "month": 30.0, "week": 7.0, "day": 1.0, "hour": 1 / 24,
         "minute": 1 / 1440, "second": 1 / 86400}


def duration_parts(value: str) -> list[tuple[str, str]] | None:
    """The (unit, number) parts of a plain ISO 8601 duration, largest unit first, or None:
    what the pages write in words and what `duration_days` counts.

    >>> duration_parts("P1Y2M"), duration_parts("PT"), duration_parts("-P1D")
    ([('year', '1'), ('month', '2')], None, None)
    """
    text = value.strip()
    match = _DURATION.fullmatch(text)
    if not match or text.endswith(("P", "T")):
        return None
    parts = [(unit, number) for unit, number in zip(DURATION_UNITS, match.groups(),
                                                    strict=True) if number is not None]
    return parts or None


def duration_words(value: str, lang: str, word: Callable[[str, str], str]) -> str | None:
    """An ISO 8601 duration in words, or None when it is not one: each part is
    `word(key, number)`, the key being its unit with "_one" when it counts one (the texts'
    keys: "day_one", "month"), the number as the language writes it.

    >>> duration_words("P1DT1,5H", "fi", lambda key, n: f"{n} {key}")
    '1 day_one 1,5 hour'
    """
    parts = duration_parts(value)
    if parts is None:
        return None
    amounts = [(unit, float(number.replace(",", "."))) for unit, number in parts]
    return " ".join(word(unit + ("_one" if amount == 1 else ""), format_number(amount, lang))
                    for unit, amount in amounts)


def duration_days(duration: str) -> float | None:
    """An xsd:duration (`ketju:maximumWait`, as the data writes it: "P2D", "P3M", "PT48H") in
    days; a month counts 30 days and a year 365. None when it is not a duration.

    >>> duration_days("P2D"), duration_days("PT48H"), duration_days("P3M"), duration_days("P1W")
    (2.0, 2.0, 90.0, 7.0)
    >>> duration_days("2 days") is None, duration_days("P") is None
    (True, True)
    """
    parts = duration_parts(duration)
    if parts is None:
        return None
    return sum(float(number.replace(",", ".")) * _DAYS[unit] for unit, number in parts)


def number(text: str) -> float | None:
    """A decimal literal as a number (None when it is not one).

    >>> number("82.5"), number("x")
    (82.5, None)
    """
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def format_number(value: float, lang: str) -> str:
    """A value as people read it: at most two decimals, trailing zeros dropped, a decimal
    comma in Finnish and Swedish, a thin space between thousands.

    >>> format_number(82.5, "fi"), format_number(82.5, "en"), format_number(3.0, "sv")
    ('82,5', '82.5', '3')
    >>> format_number(12345.678, "fi") == "12\u202f345,68"
    True
    """
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    text = text.replace(",", "\u202f")
    return text.replace(".", ",") if lang in ("fi", "sv") else text


# -- the view model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One observed value of an indicator (havainto)."""

    iri: str
    period: str
    value: float
    unit: str | None
    preliminary: bool
    area: str | None
    #: The breakdown dimensions that are not ketju:total: (dimension, value IRI) pairs.
    breakdown: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Series:
    """The values of one indicator (and one breakdown of it) in period order."""

    key: str
    #: The breakdown's parts, e.g. (female,) or (basic, specialised); () for the total.
    parts: tuple[Node, ...]
    observations: tuple[Observation, ...]
    #: The dimension of each part (`sex`, `ageGroup`, `fromLevel`, `toLevel`, `transition`).
    dimensions: tuple[str, ...] = ()

    @property
    def values(self) -> list[float]:
        return [o.value for o in self.observations]

    @property
    def latest(self) -> Observation | None:
        return self.observations[-1] if self.observations else None

    @property
    def previous(self) -> Observation | None:
        return self.observations[-2] if len(self.observations) >= 2 else None

    def by_period(self) -> dict[str, Observation]:
        return {o.period: o for o in self.observations}


@dataclass(frozen=True)
class Target:
    """A measurable target (tavoitearvo): a number, its unit, the period by which it should
    be reached, an optional warning threshold and the old free text as a note."""

    iri: str
    value: float | None
    unit: str | None
    period: str | None
    warning: float | None
    note: Texts = field(default_factory=Texts)


@dataclass(frozen=True)
class Forum:
    """A dialogue forum where the indicator's data is discussed (dialogifoorumi)."""

    node: Node
    frequency: Node | None
    participants: tuple[Node, ...]
    description: Texts = field(default_factory=Texts)


@dataclass(frozen=True)
class Organisation:
    """How an indicator's monitoring is organised (seurannan järjestäminen): who reports
    it, to whom, how often, through which channel, in which forums."""

    reporters: tuple[Node, ...] = ()
    reports_to: tuple[Node, ...] = ()
    frequency: Node | None = None
    channels: tuple[Node, ...] = ()
    forums: tuple[Forum, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.reporters or self.reports_to or self.frequency or self.channels
                    or self.forums)


@dataclass(frozen=True)
class IndicatorMonitoring:
    """An indicator's monitoring at a glance: series, latest, trend, target and status."""

    indicator: Node
    national: Node | None
    polarity: Node | None
    unit: Node | None
    #: Short symbol of the unit by language ("%", "vrk"), else its name.
    unit_symbol: Texts
    target: Target | None
    total: Series
    breakdowns: tuple[Series, ...]
    organisation: Organisation

    @property
    def latest(self) -> Observation | None:
        return self.total.latest

    @property
    def previous(self) -> Observation | None:
        return self.total.previous

    @property
    def trend(self) -> str | None:
        return trend(self.total.values)

    @property
    def judgement(self) -> str | None:
        return judged(self.trend, self.polarity.iri if self.polarity else None)

    @property
    def status(self) -> str:
        target = self.target
        return target_status(self.total.values, target.value if target else None,
                             self.polarity.iri if self.polarity else None,
                             target.warning if target else None)

    @property
    def periods(self) -> list[str]:
        """Every period any of its series has, in order."""
        found = {o.period for s in (self.total, *self.breakdowns) for o in s.observations}
        return sorted(found, key=period_key)


def _observation(row: Mapping[str, ox.NamedNode | ox.Literal | ox.BlankNode | ox.Triple]
                 ) -> Observation | None:
    value = number(row["value"].value)
    if value is None:
        return None
    breakdown = tuple((name, row[name].value) for name, _ in BREAKDOWNS
                      if name in row and row[name].value != TOTAL)
    return Observation(
        iri=row["observation"].value, period=row["period"].value, value=value,
        unit=row["unit"].value if "unit" in row else None,
        preliminary="status" in row and row["status"].value == PRELIMINARY,
        area=row["area"].value if "area" in row else None, breakdown=breakdown)


def _series(observations: Iterable[Observation], names: Mapping[str, Texts]
            ) -> tuple[Series, tuple[Series, ...]]:
    """The total series and the breakdowns' series (by breakdown IRIs), each by period; of
    two observations of one period and breakdown (IC-12 forbids it) the first IRI counts."""
    groups: dict[tuple[tuple[str, str], ...], dict[str, Observation]] = {}
    for observation in sorted(observations, key=lambda o: o.iri):
        groups.setdefault(observation.breakdown, {}).setdefault(observation.period,
                                                                observation)

    def series(key: tuple[tuple[str, str], ...]) -> Series:
        by_period = groups.get(key, {})
        return Series(
            key="total" if not key else "|".join(v for _, v in key),
            parts=tuple(Node(v, names.get(v, Texts())) for _, v in key),
            observations=tuple(by_period[p] for p in sorted(by_period, key=period_key)),
            dimensions=tuple(d for d, _ in key))

    return series(()), tuple(series(k) for k in sorted(groups) if k)


def _observations(snapshot: Snapshot, indicators: Sequence[str]
                  ) -> dict[str, list[Observation]]:
    found: dict[str, list[Observation]] = {i: [] for i in indicators}
    if not indicators:
        return found
    rows = snapshot.select("monitoring-series",
                           indicator=[ox.NamedNode(i) for i in sorted(set(indicators))])
    for row in rows:
        observation = _observation(row)
        if observation is not None:
            found.setdefault(row["indicator"].value, []).append(observation)
    return found


def _target(graph: Subgraph, iri: str) -> Target:
    def decimal(prop: str) -> float | None:
        text = graph.literal(iri, prop)
        return number(text) if text is not None else None

    return Target(iri=iri, value=decimal(RDF + "value"),
                  unit=graph.iri(iri, SDMX_ATTRIBUTE + "unitMeasure"),
                  period=graph.literal(iri, K + "targetPeriod"),
                  warning=decimal(K + "warningThreshold"),
                  note=graph.texts(iri, SKOS + "note"))


def indicators_monitoring(snapshot: Snapshot, indicators: Sequence[str]
                          ) -> dict[str, IndicatorMonitoring]:
    """The monitoring of each of `indicators` (two queries for all of them, and the names)."""
    if not indicators:
        return {}
    wanted = sorted(set(indicators))
    graph = Subgraph(snapshot.construct("monitoring-indicator-graph",
                                        indicator=[ox.NamedNode(i) for i in wanted]))
    observations = _observations(snapshot, wanted)
    nodes = graph.nodes() | {v for obs in observations.values() for o in obs
                             for _, v in o.breakdown}
    names = names_of(snapshot, nodes)
    graph.named(names)

    def node(iri: str | None) -> Node | None:
        return graph.node(iri, *NAMES) if iri else None

    def nodes_of(subject: str, prop: str) -> tuple[Node, ...]:
        return tuple(graph.node(i, *NAMES) for i in graph.iris(subject, prop))

    result = {}
    for iri in wanted:
        national = graph.iri(iri, K + "nationalIndicator")
        polarity = graph.iri(iri, K + "polarity") or (
            graph.iri(national, K + "polarity") if national else None)
        unit = graph.iri(iri, SDMX_ATTRIBUTE + "unitMeasure") or (
            graph.iri(national, SDMX_ATTRIBUTE + "unitMeasure") if national else None)
        targets = graph.iris(iri, K + "hasTarget")
        forums = tuple(Forum(node=graph.node(f, *NAMES),
                             frequency=node(graph.iri(f, DCT + "accrualPeriodicity")),
                             participants=nodes_of(f, K + "participant"),
                             description=graph.texts(f, DCT + "description"))
                       for f in graph.iris(iri, K + "discussedIn"))
        total, breakdowns = _series(observations.get(iri, ()), names)
        symbol = graph.texts(unit, SKOS + "altLabel") if unit else Texts()
        result[iri] = IndicatorMonitoring(
            indicator=graph.node(iri, *NAMES), national=node(national),
            polarity=node(polarity), unit=node(unit),
            unit_symbol=symbol or (names.get(unit, Texts()) if unit else Texts()),
            target=_target(graph, targets[0]) if targets else None,
            total=total, breakdowns=breakdowns,
            organisation=Organisation(
                reporters=nodes_of(iri, K + "reportingProducer"),
                reports_to=nodes_of(iri, K + "reportsTo"),
                frequency=node(graph.iri(iri, DCT + "accrualPeriodicity")),
                channels=nodes_of(iri, K + "reportingChannel"), forums=forums))
    return result


def indicator_monitoring(snapshot: Snapshot, iri: str) -> IndicatorMonitoring:
    """The monitoring of one indicator (its page)."""
    return indicators_monitoring(snapshot, [iri])[iri]


# -- a national indicator by region -----------------------------------------------------------


@dataclass(frozen=True)
class RegionSeries:
    """One region's indicator that follows a national indicator, with its monitoring."""

    region: Node
    monitoring: IndicatorMonitoring


@dataclass(frozen=True)
class NationalMonitoring:
    national: IndicatorMonitoring
    regions: tuple[RegionSeries, ...]

    @property
    def periods(self) -> list[str]:
        found = {o.period for r in self.regions for o in r.monitoring.total.observations}
        return sorted(found, key=period_key)


def region_of(iri: str) -> str:
    """The region segment of a data IRI.

    >>> region_of("https://w3id.org/ketju/id/pohjois-savo/indicator/x")
    'pohjois-savo'
    """
    return iri.split("/id/", 1)[-1].split("/", 1)[0]


def national_monitoring(snapshot: Snapshot, iri: str) -> NationalMonitoring:
    """A national indicator and every region's indicator that follows it (the organiser
    whose package or chain it measures names the region; else the IRI's region)."""
    rows = snapshot.select("monitoring-national", national=ox.NamedNode(iri))
    organisers: dict[str, str | None] = {}
    for row in rows:
        organiser = row.get("organiser")
        if organiser is not None or row["indicator"].value not in organisers:
            organisers[row["indicator"].value] = organiser.value if organiser else None
    found = indicators_monitoring(snapshot, [iri, *organisers])
    names = names_of(snapshot, [o for o in organisers.values() if o])
    regions = []
    for indicator, organiser in organisers.items():
        region = Node(organiser, names.get(organiser, Texts())) if organiser else \
            Node(ID + region_of(indicator), Texts({"": region_of(indicator)}))
        regions.append(RegionSeries(region, found[indicator]))
    regions.sort(key=lambda r: (region_of(r.monitoring.indicator.iri), r.monitoring.indicator.iri))
    return NationalMonitoring(found[iri], tuple(regions))



# -- the monitoring summary of a goal tree ----------------------------------------------------


@dataclass(frozen=True)
class GoalMonitoring:
    """One goal and the monitoring of each of its indicators."""

    goal: Node
    main: bool
    depth: int
    indicators: tuple[IndicatorMonitoring, ...]


def _walk(goals: Iterable[Goal], depth: int = 0) -> Iterable[tuple[Goal, int]]:
    for goal in goals:
        yield goal, depth
        yield from _walk(goal.children, depth + 1)


def goals_monitoring(snapshot: Snapshot, goals: Sequence[Goal]) -> list[GoalMonitoring]:
    """The monitoring summary of a goal tree: each goal (tree order) with its indicators'
    latest value, trend and target status. Goals without indicators are left out."""
    walked = list(_walk(goals))
    indicators = [i.node.iri for goal, _ in walked for i in goal.indicators]
    found = indicators_monitoring(snapshot, indicators)
    return [GoalMonitoring(goal.node, goal.main, depth,
                           tuple(found[i.node.iri] for i in goal.indicators))
            for goal, depth in walked if goal.indicators]


def goal_monitoring(snapshot: Snapshot, goal: str) -> list[GoalMonitoring]:
    """The monitoring summary of one goal and the goals that contribute to it."""
    rows = snapshot.select("monitoring-goal-indicators", root=ox.NamedNode(goal))
    by_goal: dict[str, list[str]] = {}
    for row in rows:
        by_goal.setdefault(row["goal"].value, []).append(row["indicator"].value)
    found = indicators_monitoring(snapshot, [i for v in by_goal.values() for i in v])
    names = names_of(snapshot, list(by_goal))
    order = [goal, *sorted(g for g in by_goal if g != goal)]
    return [GoalMonitoring(Node(g, names.get(g, Texts())), g == goal, 0 if g == goal else 1,
                           tuple(found[i] for i in by_goal[g]))
            for g in order if g in by_goal]


def status_counts(summary: Iterable[GoalMonitoring]) -> dict[str, int]:
    """How many indicators of a summary are in each status (for the section's overview).

    >>> status_counts([])
    {'reached': 0, 'on-track': 0, 'off-track': 0, 'no-data': 0}
    """
    counts = dict.fromkeys(STATUSES, 0)
    seen: set[str] = set()
    for goal in summary:
        for indicator in goal.indicators:
            if indicator.indicator.iri not in seen:
                seen.add(indicator.indicator.iri)
                counts[indicator.status] += 1
    return counts


# -- waits at hand-overs ----------------------------------------------------------------------


@dataclass(frozen=True)
class HandoverWait:
    """The measured wait at one hand-over (siirtymä) against its maximum."""

    transition: str
    indicator: Node
    #: The maximum as written (xsd:duration) and in the unit of the measured values.
    maximum_text: str | None
    maximum: float | None
    unit: Node | None
    unit_symbol: Texts
    observations: tuple[Observation, ...]

    @property
    def latest(self) -> Observation | None:
        return self.observations[-1] if self.observations else None

    @property
    def within(self) -> bool | None:
        """Whether the latest measured wait is at most the maximum (None: nothing to judge)."""
        if self.latest is None or self.maximum is None:
            return None
        return self.latest.value <= self.maximum

    @property
    def trend(self) -> str | None:
        return trend([o.value for o in self.observations])


def handover_waits(snapshot: Snapshot, chain: str) -> dict[str, list[HandoverWait]]:
    """For each hand-over of `chain` that has data, the measured waits (observations broken
    down by the hand-over, in a unit of time, every other breakdown total), by transition
    IRI, one per indicator that measures it, each against the transition's maximum wait."""
    rows = snapshot.select("monitoring-chain-waits", chain=ox.NamedNode(chain))
    grouped: dict[tuple[str, str], dict[str, Observation]] = {}
    maxima: dict[str, str] = {}
    units: dict[tuple[str, str], str] = {}
    for row in rows:
        unit = row["unit"].value if "unit" in row else None
        if unit not in TIME_UNITS:
            continue  # customers handed over, not a wait
        if any(name in row and row[name].value != TOTAL
               for name, _ in BREAKDOWNS if name != "transition"):
            continue
        value = number(row["value"].value)
        if value is None:
            continue
        transition, indicator = row["transition"].value, row["indicator"].value
        if "maximumWait" in row:
            maxima[transition] = row["maximumWait"].value
        key = (transition, indicator)
        units.setdefault(key, unit)
        if units[key] != unit:
            continue
        observation = Observation(
            iri=row["observation"].value, period=row["period"].value, value=value,
            unit=unit, preliminary="status" in row and row["status"].value == PRELIMINARY,
            area=None)
        grouped.setdefault(key, {}).setdefault(observation.period, observation)
    names = names_of(snapshot, {i for _, i in grouped} | set(units.values()))
    symbols = _unit_symbols(snapshot, {i for _, i in grouped})
    waits: dict[str, list[HandoverWait]] = {}
    for (transition, indicator), by_period in sorted(grouped.items()):
        unit = units[(transition, indicator)]
        text = maxima.get(transition)
        days = duration_days(text) if text else None
        waits.setdefault(transition, []).append(HandoverWait(
            transition=transition, indicator=Node(indicator, names.get(indicator, Texts())),
            maximum_text=text, maximum=days / TIME_UNITS[unit] if days is not None else None,
            unit=Node(unit, names.get(unit, Texts())), unit_symbol=symbols.get(unit, Texts()),
            observations=tuple(by_period[p] for p in sorted(by_period, key=period_key))))
    return waits


def _unit_symbols(snapshot: Snapshot, indicators: set[str]) -> dict[str, Texts]:
    """The short symbols (skos:altLabel) of the units of `indicators`, e.g. "vrk", "%"."""
    if not indicators:
        return {}
    graph = Subgraph(snapshot.construct("monitoring-indicator-graph", indicator=[
        ox.NamedNode(i) for i in sorted(indicators)]))
    units = {u for i in indicators for u in graph.iris(i, SDMX_ATTRIBUTE + "unitMeasure")}
    return {u: graph.texts(u, SKOS + "altLabel") for u in units}


# -- chains side by side ----------------------------------------------------------------------


@dataclass(frozen=True)
class SharedMeasure:
    """A national indicator that two or more of the compared chains measure: each chain's
    indicator for it with its monitoring (None for a chain that does not measure it)."""

    national: Node
    unit_symbol: Texts
    by_chain: tuple[IndicatorMonitoring | None, ...]

    @property
    def periods(self) -> list[str]:
        found = {o.period for m in self.by_chain if m for o in m.total.observations}
        return sorted(found, key=period_key)


def shared_measures(snapshot: Snapshot, chains: Sequence[str]) -> list[SharedMeasure]:
    """For the chains compared, the national indicators at least two of them measure, with
    each chain's values (in the order of `chains`)."""
    if len(chains) < 2:
        return []
    rows = snapshot.select("monitoring-shared-national",
                           chain=[ox.NamedNode(c) for c in chains])
    measures: dict[str, dict[str, str]] = {}
    for row in rows:
        measures.setdefault(row["national"].value, {}).setdefault(row["chain"].value,
                                                                  row["indicator"].value)
    shared = {n: by for n, by in measures.items() if len(by) >= 2}
    found = indicators_monitoring(snapshot, [*shared, *(i for by in shared.values()
                                                       for i in by.values())])
    return [SharedMeasure(found[n].indicator, found[n].unit_symbol,
                          tuple(found[by[c]] if c in by else None for c in chains))
            for n, by in sorted(shared.items())]
