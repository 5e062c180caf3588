"""What changed in the catalogue's descriptions between two sides, as change records.

Per service package and service chain (by IRI): the description added or removed, its name and
life cycle (status, validity, decision, successor, current state or target model), its steps
(added, removed, moved, changed), its hand-overs, goals, indicators and targets, the producers
it names, the services and parts of a package. A step "moved" when it left the order of the
steps both sides share (it is not in their longest common order); steps renumbered around an
added, removed or moved step did not move.

A status that goes backwards (retired to anything else, approved back to proposed or draft) is
a problem: its record has `problem` set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

from ketju.core.languages import DEFAULT, FALLBACK
from ketju.core.lifecycle import STATUS_WORDS
from ketju.core.namespaces import (
    ADMS,
    DCT,
    FOAF,
    ONTOLOGY,
    PROV,
    RDF,
    SDMX_ATTRIBUTE,
    SKOS,
)
from ketju.domain.monitoring import duration_parts
from ketju.domain.review.sources import Graph, Side

K = ONTOLOGY
PACKAGE, CHAIN = K + "ServicePackage", K + "ServiceChain"
LABEL = SKOS + "prefLabel"

#: Life-cycle ranks, in the order of the status words: a status may only move up (retired
#: ones share the last rank).
STATUS_RANK = {iri: rank for rank, iris in enumerate(STATUS_WORDS.values()) for iri in iris}

#: What is compared, per kind of entity: (property key, property IRI, how its value reads).
#: The keys name the texts (texts.toml `prop_*`); the value kinds say how a value is shown.
DESCRIPTION_PROPS = (
    ("status", ADMS + "status", "iri"), ("validFrom", K + "validFrom", "date"),
    ("validUntil", K + "validUntil", "date"), ("approvedBy", K + "approvedBy", "iri"),
    ("isReplacedBy", DCT + "isReplacedBy", "iri"), ("replaces", DCT + "replaces", "iri"),
    ("modelState", K + "modelState", "iri"), ("targetModelOf", K + "targetModelOf", "iri"),
)
STEP_PROPS = (
    ("service", K + "service", "iri"), ("producer", K + "responsibleProducer", "iri"),
    ("level", K + "serviceLevel", "iri"), ("class", K + "serviceClass", "iri"),
    ("maximumDuration", K + "maximumDuration", "duration"),
)
TRANSITION_PROPS = (
    ("from", K + "fromStep", "iri"), ("to", K + "toStep", "iri"),
    ("kind", K + "transitionKind", "iri"), ("maximumWait", K + "maximumWait", "duration"),
    ("producer", K + "responsibleProducer", "iri"),
)
#: The approving decision's own facts, when the description keeps the same decision.
DECISION_PROPS = (("decisionBody", PROV + "wasAssociatedWith", "iri"),
                  ("decisionDate", DCT + "date", "date"),
                  ("decisionReference", DCT + "identifier", "text"),
                  ("decisionPage", FOAF + "page", "text"))
GOAL_PROPS = (("goalLevel", K + "goalLevel", "iri"),)
INDICATOR_PROPS = (("unit", SDMX_ATTRIBUTE + "unitMeasure", "iri"),
                   ("nationalIndicator", K + "nationalIndicator", "iri"))
TARGET_PROPS = (("value", RDF + "value", "number"), ("period", K + "targetPeriod", "text"))
SERVICE_PROPS = (("level", K + "serviceLevel", "iri"), ("class", K + "serviceClass", "iri"),
                 ("producer", K + "producedBy", "iri"))
PROPERTY_KINDS = {key: how for props in (DESCRIPTION_PROPS, DECISION_PROPS, STEP_PROPS,
                                         TRANSITION_PROPS,
                                         GOAL_PROPS, INDICATOR_PROPS, TARGET_PROPS,
                                         SERVICE_PROPS) for key, _, how in props}
PROPERTY_KINDS |= {"label": "text", "position": "number", "measuredBy": "iri",
                   "service-added": "iri"}


@dataclass(frozen=True)
class Change:
    """One change: `kind` added, removed, moved, changed or renamed; `what` the kind of entity
    (description, decision, step, transition, goal, indicator, target, producer, service,
    part);
    `property` a key of PROPERTY_KINDS (None for added and removed); before and after the
    values as the data writes them (IRIs, lexical forms)."""

    kind: str
    description: str
    what: str
    entity: str
    property: str | None = None
    before: str | None = None
    after: str | None = None
    problem: bool = False
    #: The property's IRI (the data's own predicate).
    property_iri: str | None = None

    def record(self) -> dict[str, object]:
        """The JSON record."""
        return asdict(self)


@dataclass
class Review:
    """The changes between two sides, with both sides kept for the names."""

    base: Side
    head: Side
    changes: list[Change]
    #: Each description's kind ("chain" or "package") and state ("added", "removed",
    #: "changed"), in the order they are reported.
    descriptions: dict[str, tuple[str, str]]

    @property
    def problems(self) -> list[Change]:
        return [c for c in self.changes if c.problem]


def _label_key(graph: Graph, iri: str) -> str:
    """The labels of a node as one comparable text (every language)."""
    return " | ".join(sorted(f"{o.value}@{getattr(o, 'language', '')}"
                             for o in graph.objects(iri, LABEL)))


def _single(graph: Graph, iri: str, predicate: str) -> str | None:
    values = sorted(o.value for o in graph.objects(iri, predicate))
    return ", ".join(values) if values else None


def _same_number(before: str | None, after: str | None) -> bool:
    """Whether two lexical forms are one number ("75" and "75.0").

    >>> _same_number("75", "75.0"), _same_number("75", "80"), _same_number(None, "1")
    (True, False, False)
    """
    try:
        return before is not None and after is not None and Decimal(before) == Decimal(after)
    except InvalidOperation:
        return False


#: Seconds in each unit of the day-and-time part of a duration (years and months are counted
#: apart: a month has no fixed number of days).
_SECONDS = {"week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def _same_duration(before: str | None, after: str | None) -> bool:
    """Whether two durations are one length as XML Schema compares them ("P1D" and "PT24H").

    >>> _same_duration("P1D", "PT24H"), _same_duration("P1M", "P30D"), _same_duration("P2D", "P1D")
    (True, False, False)
    """
    def length(value: str | None) -> tuple[Decimal, Decimal] | None:
        parts = duration_parts(value) if value else None
        if parts is None:
            return None
        try:
            numbers = {unit: Decimal(number.replace(",", ".")) for unit, number in parts}
        except InvalidOperation:
            return None
        months = numbers.get("year", Decimal(0)) * 12 + numbers.get("month", Decimal(0))
        return months, sum((numbers.get(u, Decimal(0)) * n for u, n in _SECONDS.items()),
                           Decimal(0))

    first = length(before)
    return first is not None and first == length(after)


def _properties(out: list[Change], description: str, what: str, iri: str, base: Graph,
                head: Graph, props: Iterable[tuple[str, str, str]]) -> None:
    for key, predicate, how in props:
        before, after = _single(base, iri, predicate), _single(head, iri, predicate)
        if before != after and not (how == "number" and _same_number(before, after)) \
                and not (how == "duration" and _same_duration(before, after)):
            out.append(Change("changed", description, what, iri, key, before, after,
                              property_iri=predicate))


def _finnish(graph: Graph, iri: str) -> str | None:
    """The name the records keep: Finnish, else along the fallback order."""
    labels = {getattr(o, "language", None) or "": o.value for o in graph.objects(iri, LABEL)}
    for language in (*FALLBACK[DEFAULT], ""):
        if language in labels:
            return labels[language]
    return None


def _renamed(out: list[Change], description: str, what: str, iri: str, base: Graph,
             head: Graph) -> None:
    if _label_key(base, iri) != _label_key(head, iri) and base.has(iri) and head.has(iri):
        out.append(Change("renamed", description, what, iri, "label", _finnish(base, iri),
                          _finnish(head, iri), property_iri=LABEL))


def _members(out: list[Change], description: str, what: str, before: set[str],
             after: set[str]) -> list[str]:
    """Added and removed members; the shared ones, sorted."""
    for iri in sorted(after - before):
        out.append(Change("added", description, what, iri))
    for iri in sorted(before - after):
        out.append(Change("removed", description, what, iri))
    return sorted(before & after)


def _position(graph: Graph, step: str) -> float:
    try:
        return float(graph.value(step, K + "position") or "inf")
    except ValueError:
        return float("inf")


def _kept_in_order(before: list[str], after: list[str]) -> set[str]:
    """The steps that kept their order: a longest common subsequence of the two orders.

    >>> sorted(_kept_in_order(list("abcdef"), list("abecdf")))
    ['a', 'b', 'c', 'd', 'f']
    """
    n, m = len(before), len(after)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if before[i] == after[j]
                           else max(table[i + 1][j], table[i][j + 1]))
    kept, i, j = set(), 0, 0
    while i < n and j < m:
        if before[i] == after[j]:
            kept.add(before[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def _step_class(graph: Graph, step: str) -> str | None:
    own = _single(graph, step, K + "serviceClass")
    if own is not None:
        return own
    services = graph.iris(step, K + "service")
    classes = sorted({c for s in services for c in graph.iris(s, K + "serviceClass")})
    return ", ".join(classes) if classes else None


def _steps(out: list[Change], d: str, base: Graph, head: Graph) -> None:
    shared = _members(out, d, "step", set(base.iris(d, K + "hasStep")),
                      set(head.iris(d, K + "hasStep")))
    kept = _kept_in_order(sorted(shared, key=lambda s: (_position(base, s), s)),
                          sorted(shared, key=lambda s: (_position(head, s), s)))
    for step in shared:
        if step not in kept:
            out.append(Change("moved", d, "step", step, "position",
                              base.value(step, K + "position"), head.value(step, K + "position"),
                              property_iri=K + "position"))
        _renamed(out, d, "step", step, base, head)
        _properties(out, d, "step", step, base, head,
                    [p for p in STEP_PROPS if p[0] != "class"])
        # A step's JHS 183 class is its own, else its service's (where the data usually
        # puts it): a service reclassified shows on the steps it serves.
        before, after = _step_class(base, step), _step_class(head, step)
        if before != after:
            out.append(Change("changed", d, "step", step, "class", before, after,
                              property_iri=K + "serviceClass"))


def _transitions(out: list[Change], d: str, base: Graph, head: Graph) -> None:
    before, after = set(base.iris(d, K + "hasTransition")), set(head.iris(d, K + "hasTransition"))

    def ends(graph: Graph, transition: str) -> tuple[str | None, str | None]:
        return _single(graph, transition, K + "fromStep"), _single(graph, transition, K + "toStep")

    # A hand-over renamed in the data (a new IRI) that joins the same two steps is the same
    # hand-over to a reviewer: compared, not reported as one removed and one added.
    gone = {ends(base, t): t for t in sorted(before - after)}
    renamed = {t: gone[ends(head, t)] for t in sorted(after - before) if ends(head, t) in gone}
    shared = _members(out, d, "transition", before - set(renamed.values()),
                      after - set(renamed))
    for transition in shared:
        _properties(out, d, "transition", transition, base, head, TRANSITION_PROPS)
    for new, old in renamed.items():
        for key, predicate, how in TRANSITION_PROPS[2:]:
            was, now = _single(base, old, predicate), _single(head, new, predicate)
            if was != now and not (how == "duration" and _same_duration(was, now)):
                out.append(Change("changed", d, "transition", new, key, was, now,
                                  property_iri=predicate))


def _goals(out: list[Change], d: str, base: Graph, head: Graph) -> None:
    def goals(graph: Graph) -> set[str]:
        return set(graph.iris(d, K + "hasMainGoal")) | set(graph.iris(d, K + "hasGoal"))

    shared = _members(out, d, "goal", goals(base), goals(head))
    for goal in shared:
        _renamed(out, d, "goal", goal, base, head)
        _properties(out, d, "goal", goal, base, head, GOAL_PROPS)
        old, new = set(base.iris(goal, K + "measuredBy")), set(head.iris(goal, K + "measuredBy"))
        for indicator in sorted(new - old):
            out.append(Change("changed", d, "goal", goal, "measuredBy", None, indicator,
                              property_iri=K + "measuredBy"))
        for indicator in sorted(old - new):
            out.append(Change("changed", d, "goal", goal, "measuredBy", indicator, None,
                              property_iri=K + "measuredBy"))

    def indicators(graph: Graph) -> set[str]:
        return {i for g in goals(graph) for i in graph.iris(g, K + "measuredBy")}

    old_ind, new_ind = indicators(base), indicators(head)
    for iri in sorted((new_ind - old_ind) - {i for i in new_ind if base.has(i)}):
        out.append(Change("added", d, "indicator", iri))
    shared_ind = sorted(i for i in old_ind | new_ind if base.has(i) and head.has(i))
    for indicator in shared_ind:
        _renamed(out, d, "indicator", indicator, base, head)
        _properties(out, d, "indicator", indicator, base, head, INDICATOR_PROPS)
        targets = _members(out, d, "target", set(base.iris(indicator, K + "hasTarget")),
                           set(head.iris(indicator, K + "hasTarget")))
        for target in targets:
            _properties(out, d, "target", target, base, head, TARGET_PROPS)


def _producers(out: list[Change], d: str, base: Graph, head: Graph) -> None:
    """Producers this description names (its steps', hand-overs' and services') renamed."""
    def named(graph: Graph) -> set[str]:
        found: set[str] = set()
        for part in (graph.iris(d, K + "hasStep") + graph.iris(d, K + "hasTransition")
                     + graph.iris(d, K + "includesService")):
            found.update(graph.iris(part, K + "responsibleProducer"))
            found.update(graph.iris(part, K + "producedBy"))
        return found

    for producer in sorted(named(base) & named(head)):
        _renamed(out, d, "producer", producer, base, head)


def _parts_of(graph: Graph) -> dict[str, set[str]]:
    """Each package's parts: its dct:hasPart and what says it is ketju:partOfPackage of it."""
    found: dict[str, set[str]] = {}
    for subject, props in graph.index.items():
        for package in props.get(K + "partOfPackage", ()):
            found.setdefault(package.value, set()).add(subject)
        for part in props.get(DCT + "hasPart", ()):
            found.setdefault(subject, set()).add(part.value)
    return found


def _package(out: list[Change], d: str, base: Graph, head: Graph,
             parts: tuple[dict[str, set[str]], dict[str, set[str]]]) -> None:
    shared = _members(out, d, "service", set(base.iris(d, K + "includesService")),
                      set(head.iris(d, K + "includesService")))
    for service in shared:
        _renamed(out, d, "service", service, base, head)
        _properties(out, d, "service", service, base, head, SERVICE_PROPS)

    _members(out, d, "part", parts[0].get(d, set()), parts[1].get(d, set()))


def _life_cycle(out: list[Change], d: str, base: Graph, head: Graph) -> None:
    _properties(out, d, "description", d, base, head, DESCRIPTION_PROPS)
    decisions = set(base.iris(d, K + "approvedBy")) & set(head.iris(d, K + "approvedBy"))
    for decision in sorted(decisions):
        _renamed(out, d, "decision", decision, base, head)
        _properties(out, d, "decision", decision, base, head, DECISION_PROPS)
    before, after = base.value(d, ADMS + "status"), head.value(d, ADMS + "status")
    if before in STATUS_RANK and after in STATUS_RANK and STATUS_RANK[after] < STATUS_RANK[before]:
        for index, change in enumerate(out):
            if change.description == d and change.property == "status":
                out[index] = Change(change.kind, d, "description", d, "status", before, after,
                                    problem=True, property_iri=ADMS + "status")


def compare(base: Side, head: Side) -> Review:
    """Every change between the descriptions of `base` and `head`."""
    packages = set(base.data.subjects_of_type(PACKAGE)) | set(head.data.subjects_of_type(PACKAGE))
    old = set(base.data.subjects_of_type(PACKAGE)) | set(base.data.subjects_of_type(CHAIN))
    new = set(head.data.subjects_of_type(PACKAGE)) | set(head.data.subjects_of_type(CHAIN))
    parts = (_parts_of(base.data), _parts_of(head.data))

    def kind_of(iri: str) -> str:
        return "package" if iri in packages else "chain"

    changes: list[Change] = []
    states: dict[str, tuple[str, str]] = {}
    b, h = base.data, head.data
    for d in sorted(new - old):
        changes.append(Change("added", d, "description", d))
        states[d] = (kind_of(d), "added")
    for d in sorted(old - new):
        changes.append(Change("removed", d, "description", d))
        states[d] = (kind_of(d), "removed")
    for d in sorted(old & new):
        found: list[Change] = []
        _renamed(found, d, "description", d, b, h)
        _life_cycle(found, d, b, h)
        _steps(found, d, b, h)
        _transitions(found, d, b, h)
        _goals(found, d, b, h)
        _producers(found, d, b, h)
        _package(found, d, b, h, parts)
        if found:
            changes.extend(found)
            states[d] = (kind_of(d), "changed")
    return Review(base, head, changes, states)
