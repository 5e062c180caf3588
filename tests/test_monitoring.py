"""Monitoring (ketju.domain.monitoring): an indicator's series, latest value, trend and target
status; a national indicator by region; a goal tree's summary; waits at hand-overs; chains
side by side.

On the real tree: the illustrative observations of data/{region}/observations/*.csv, the
targets, national indicators and monitoring organisation of data/. One edge case no
contribution has (a wait measured in hours against a maximum in days) is loaded beside, from
tests/fixtures/monitoring/hours.ttl."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import ID, VOCAB
from ketju.core.project import Project
from ketju.domain import monitoring as m
from ketju.domain.chains import chain_view
from ketju.infra.snapshot import Snapshot, SnapshotSource
from tests.conftest import FIXTURES, copy_tree

CRAFTED = FIXTURES / "monitoring"
VS = ID + "varsinais-suomi/"
VS_HOME = VS + "indicator/lonkkamurtuma-kotona-120-vrk"
VS_SURGERY = VS + "indicator/lonkkamurtuma-leikattu-48-h"
VS_DELAY = VS + "indicator/lonkkamurtuma-siirtoviive"
VS_FLOW = VS + "indicator/lonkkamurtuma-paluut-erikoissairaanhoitoon"
VS_CHAIN = VS + "chain/lonkkamurtuma"
PS_CHAIN = ID + "pohjois-savo/chain/lonkkamurtuma"
KS_CHAIN = ID + "keski-suomi/chain/lonkkamurtuma"
LAPPI_HOME = ID + "lappi/indicator/lonkkamurtuma-pohjois-pohjanmaa-lonkkamurtuma-kotona-120-vrk"
NATIONAL_HOME = ID + "national/indicator/lonkkamurtuma-kotona-120-vrk"


def load_crafted(project: Project, path: Path = CRAFTED / "hours.ttl") -> None:
    """Add `path` to the project's built store as a graph of its own (no validation): for
    edge cases no contribution holds."""
    store = ox.Store(str(project.store_link.resolve()))
    store.load(path=str(path), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("https://w3id.org/ketju/graph/test/monitoring"))
    store.flush()
    del store


@pytest.fixture(scope="session")
def monitored_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The real tree, built, with the hours edge case beside."""
    from ketju.infra.build import build

    project = copy_tree(tmp_path_factory.mktemp("monitored"))
    build(project)
    load_crafted(project)
    return project


@pytest.fixture(scope="module")
def snapshot(monitored_project: Project) -> Snapshot:
    return SnapshotSource.embedded(monitored_project, cache_entries=0).current()


# -- the pure rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "target", "polarity", "warning", "expected"), [
    ([70, 75], 75, m.HIGHER, None, "reached"),         # exactly the target is reached
    ([76, 74], 75, m.HIGHER, None, "off-track"),       # fell below and moves away
    ([60, 61], 75, m.HIGHER, None, "on-track"),        # below, moving towards it
    ([61, 61], 75, m.HIGHER, None, "off-track"),       # not moving is not on track
    ([61], 75, m.HIGHER, None, "off-track"),           # one value below, no threshold
    ([80, 71], 75, m.HIGHER, 70, "on-track"),          # the threshold decides, not the trend
    ([80, 69.9], 75, m.HIGHER, 70, "off-track"),
    ([2.5, 2.1], 2, m.LOWER, None, "on-track"),
    ([2.5, 2.0], 2, m.LOWER, None, "reached"),
    ([1.0, 2.6], 2, m.LOWER, 2.5, "off-track"),
    ([], 2, m.LOWER, None, "no-data"),
    ([3], None, m.LOWER, None, "no-data"),
])
def test_target_status_rule(values: list[float], target: float | None, polarity: str,
                            warning: float | None, expected: str) -> None:
    assert m.target_status(values, target, polarity, warning) == expected


def test_periods_sort_by_time_not_text() -> None:
    periods = ["2024-Q4", "2024-10", "2023-Q4", "2024-Q1", "2024-02"]
    # A quarter comes before the first of its months (the longer period first).
    assert sorted(periods, key=m.period_key) == ["2023-Q4", "2024-Q1", "2024-02", "2024-Q4",
                                                  "2024-10"]


# -- one indicator ------------------------------------------------------------------------------


def test_indicator_series_latest_trend_and_status(snapshot: Snapshot) -> None:
    home = m.indicator_monitoring(snapshot, VS_HOME)
    # data/varsinais-suomi/observations/lonkkamurtuma.csv: 2022-Q1 ... 2024-Q4, the last
    # preliminary; 75.3 then 75.2 against the target 75 (warning 70) by 2025.
    assert len(home.total.observations) == 12
    assert home.total.observations[0].period == "2022-Q1"
    assert home.total.observations[0].value == 70.4
    assert home.latest is not None and home.latest.period == "2024-Q4"
    assert home.latest.value == 75.2 and home.latest.preliminary
    assert home.previous is not None and home.previous.value == 75.3
    assert home.trend == "down" and home.judgement == "worse"
    assert home.target is not None and home.target.value == 75 and home.target.warning == 70
    assert home.target.period == "2025"
    assert home.status == "reached"
    # The direction is the national indicator's (the regional one has none of its own).
    assert home.polarity is not None and home.polarity.iri == m.HIGHER
    assert home.national is not None and home.national.iri == NATIONAL_HOME
    assert home.unit is not None and home.unit.iri == VOCAB + "unit/percent"
    assert home.unit_symbol.pick("fi")[0] == "%"
    assert home.breakdowns == ()


def test_a_flow_between_levels_is_a_breakdown(snapshot: Snapshot) -> None:
    flow = m.indicator_monitoring(snapshot, VS_FLOW)
    assert len(flow.total.observations) == 12 and len(flow.breakdowns) == 1
    moved = flow.breakdowns[0]
    assert moved.dimensions == ("fromLevel", "toLevel")
    assert [p.iri for p in moved.parts] == [VOCAB + "service-level/basic",
                                            VOCAB + "service-level/specialised"]
    assert len(moved.observations) == 12
    # 9 then 9 customers against the target 6 (lower is better), warning 9: on track.
    assert flow.latest is not None and flow.latest.value == 9
    assert (flow.trend, flow.status) == ("flat", "on-track")


def test_monitoring_organisation(snapshot: Snapshot) -> None:
    org = m.indicator_monitoring(snapshot, VS_HOME).organisation
    assert [n.iri for n in org.reporters] == [VS + "producer/ortopedia"]
    assert [n.iri for n in org.reports_to] == [VS + "organiser/varsinais-suomi"]
    assert [n.iri for n in org.channels] == [VOCAB + "reporting-channel/national-register"]
    assert org.frequency is not None and org.frequency.iri.endswith("QUARTERLY")
    forum = org.forums[0]
    assert forum.node.label("en") == "Monitoring forum of the organiser and the producers"
    assert forum.frequency is not None and forum.frequency.iri.endswith("ANNUAL_2")
    assert VS + "organiser/varsinais-suomi" in {p.iri for p in forum.participants}


@pytest.mark.parametrize(("indicator", "status", "trend"), [
    (VS_HOME, "reached", "down"),       # 75.2 >= 75
    (VS_SURGERY, "on-track", "down"),   # 89.4 < 90 but above the warning threshold 85
    (VS_DELAY, "reached", "down"),      # 2.0 days, the target 2 (lower is better)
    (LAPPI_HOME, "off-track", "down"),  # 68.4 < the warning threshold 70
    (ID + "pohjois-savo/indicator/lonkkamurtuma-kuntoutukseen-7-vrk", "no-data", None),
])
def test_status_of_known_indicators(snapshot: Snapshot, indicator: str, status: str,
                                    trend: str | None) -> None:
    found = m.indicator_monitoring(snapshot, indicator)
    assert (found.status, found.trend) == (status, trend)


def test_an_indicator_without_observations_has_no_data(snapshot: Snapshot) -> None:
    other = ID + "pohjois-savo/indicator/lonkkamurtuma-kuntoutukseen-7-vrk"
    found = m.indicator_monitoring(snapshot, other)
    assert found.latest is None and found.status == "no-data" and found.trend is None
    assert found.target is not None and found.target.value == 95  # a target, but no data


# -- national, goals, hand-overs, comparison ------------------------------------------------------


def test_national_indicator_by_region(snapshot: Snapshot) -> None:
    national = m.national_monitoring(snapshot, NATIONAL_HOME)
    latest = {m.region_of(r.monitoring.indicator.iri): r.monitoring.latest.value
              for r in national.regions if r.monitoring.latest}
    # Every hip-fracture region reports it, for the same twelve quarters.
    assert latest == {"keski-suomi": 71.8, "lappi": 68.4, "pohjois-pohjanmaa": 77.5,
                      "pohjois-savo": 70.4, "varsinais-suomi": 75.2}
    assert len(national.periods) == 12
    regions = {r.region.iri for r in national.regions}
    assert VS + "organiser/varsinais-suomi" in regions


def test_goal_tree_summary_of_a_chain(snapshot: Snapshot) -> None:
    _, goals = chain_view(snapshot, VS_CHAIN)
    summary = m.goals_monitoring(snapshot, goals)
    statuses = {i.indicator.iri: i.status for g in summary for i in g.indicators}
    assert statuses == {VS_HOME: "reached", VS_SURGERY: "on-track", VS_DELAY: "reached",
                        VS_FLOW: "on-track"}
    assert summary[0].main and summary[0].indicators[0].indicator.iri == VS_HOME
    assert m.status_counts(summary) == {"reached": 2, "on-track": 2, "off-track": 0,
                                        "no-data": 0}


def test_goal_summary_of_one_goal(snapshot: Snapshot) -> None:
    goal = VS + "goal/lonkkamurtuma-kotiin-paluu"
    summary = m.goal_monitoring(snapshot, goal)
    assert summary[0].goal.iri == goal
    assert [i.indicator.iri for i in summary[0].indicators] == [VS_HOME]
    assert len(summary) > 1  # the goals that contribute to it follow


def test_waits_at_hand_overs_against_the_maximum(snapshot: Snapshot) -> None:
    ward = m.handover_waits(snapshot, VS_CHAIN)[VS_CHAIN + "/transition/vuodeosasto-jatkohoito"]
    days = next(w for w in ward if w.indicator.iri == VS_DELAY)
    assert days.maximum_text == "P2D" and days.maximum == 2.0 and len(days.observations) == 12
    assert days.latest is not None and days.latest.value == 2.0 and days.within is True
    # Keski-Suomi's latest wait, 2.3 days, is over its P2D.
    ks = m.handover_waits(snapshot, KS_CHAIN)
    over = ks[KS_CHAIN + "/transition/vuodeosasto-kuntoutusosasto"][0]
    assert over.latest is not None and over.latest.value == 2.3 and over.within is False


def test_a_wait_in_hours_is_compared_in_hours(snapshot: Snapshot) -> None:
    waits = m.handover_waits(snapshot, VS_CHAIN)[VS_CHAIN + "/transition/jatkohoito-kotihoito"]
    hours = next(w for w in waits if w.unit is not None and w.unit.iri == VOCAB + "unit/hours")
    # P1D in the unit of the observations (hours): 24; the latest is 20 hours.
    assert hours.maximum == 24.0 and hours.within is True and hours.trend == "down"


def test_two_chains_side_by_side(snapshot: Snapshot) -> None:
    shared = {s.national.iri: s for s in m.shared_measures(snapshot, [VS_CHAIN, PS_CHAIN])}
    assert NATIONAL_HOME in shared
    vs, ps = shared[NATIONAL_HOME].by_chain
    assert vs is not None and vs.indicator.iri == VS_HOME
    assert ps is not None and ps.latest is not None and ps.latest.value == 70.4
    assert m.shared_measures(snapshot, [VS_CHAIN]) == []


def test_every_maximum_wait_in_the_data_is_understood(snapshot: Snapshot) -> None:
    """The maximum waits as data/ writes them (xsd:duration: P2D, P3M, ...) all parse."""
    rows = snapshot.data.select(
        "SELECT ?wait WHERE { ?t <https://w3id.org/ketju/ontology#maximumWait> ?wait }")
    waits = {row["wait"].value for row in rows}
    assert {"P1D", "P2D", "P3M"} <= waits
    assert all(m.duration_days(w) is not None for w in waits), waits
