"""Monitoring (ketju.domain.monitoring): an indicator's series, latest value, trend and target
status; a national indicator by region; a goal tree's summary; waits at hand-overs; chains
side by side.

The indicators, their targets, national indicators and monitoring organisation are the real
ones of data/. The observations are crafted to hit each status with known values: contribution
CSVs (tests/fixtures/monitoring/{region}.csv) validated and loaded by the real build, and one
edge case (a wait in hours) loaded beside as Turtle."""

from __future__ import annotations

import shutil
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
VS_CHAIN = VS + "chain/lonkkamurtuma"
PS_CHAIN = ID + "pohjois-savo/chain/lonkkamurtuma"
NATIONAL_HOME = ID + "national/indicator/lonkkamurtuma-kotona-120-vrk"


def load_crafted(project: Project, path: Path = CRAFTED / "hours.ttl") -> None:
    """Add `path` to the project's built store as a graph of its own (no validation): for
    edge cases no contribution can hold yet."""
    store = ox.Store(str(project.store_link.resolve()))
    store.load(path=str(path), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode("https://w3id.org/ketju/graph/test/monitoring"))
    store.flush()
    del store


@pytest.fixture(scope="session")
def monitored_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The real tree with the crafted observation files as contributions (validated and
    loaded by the build, as a region's CSV would be) and the hours edge case beside."""
    from ketju.infra.build import build

    project = copy_tree(tmp_path_factory.mktemp("monitored"))
    for region in ("varsinais-suomi", "pohjois-savo"):
        folder = project.data_dir / region / "observations"
        folder.mkdir(exist_ok=True)
        shutil.copy(CRAFTED / f"{region}.csv", folder / "monitoring-test.csv")
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
    assert len(home.total.observations) == 12
    assert home.total.observations[0].period == "2022-Q1"
    assert home.latest is not None and home.latest.period == "2024-Q4"
    assert home.latest.value == 73.5 and home.latest.preliminary
    assert home.previous is not None and home.previous.value == 72
    assert home.trend == "up" and home.judgement == "better"
    # 73.5 is below the target 75 but above the warning threshold 70.
    assert home.target is not None and home.target.value == 75 and home.target.warning == 70
    assert home.target.period == "2025"
    assert home.status == "on-track"
    # Inherited from the national indicator: the direction; its own: the unit.
    assert home.polarity is not None and home.polarity.iri == m.HIGHER
    assert home.national is not None and home.national.iri == NATIONAL_HOME
    assert home.unit is not None and home.unit.iri == VOCAB + "unit/percent"
    assert home.unit_symbol.pick("fi")[0] == "%"


def test_breakdowns_are_series_of_their_own(snapshot: Snapshot) -> None:
    home = m.indicator_monitoring(snapshot, VS_HOME)
    by_key = {s.key: s for s in home.breakdowns}
    female = by_key["http://purl.org/linked-data/sdmx/2009/code#sex-F"]
    assert [o.period for o in female.observations] == ["2024-Q3", "2024-Q4"]
    assert female.values == [74.0, 75.5]
    assert female.parts[0].label("fi") == "naiset"
    assert len(home.breakdowns) == 2  # the total stays out of the breakdowns
    assert home.periods[-1] == "2024-Q4"


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
    (VS_SURGERY, "reached", "up"),       # 91 >= 90
    (VS_DELAY, "off-track", "up"),       # 3.4 days: over the target 2 and the threshold 3
])
def test_status_of_known_indicators(snapshot: Snapshot, indicator: str, status: str,
                                    trend: str) -> None:
    found = m.indicator_monitoring(snapshot, indicator)
    assert (found.status, found.trend) == (status, trend)


def test_an_indicator_without_observations_has_no_data(snapshot: Snapshot) -> None:
    other = ID + "pohjois-savo/indicator/lonkkamurtuma-kuntoutukseen-7-vrk"
    found = m.indicator_monitoring(snapshot, other)
    assert found.latest is None and found.status == "no-data" and found.trend is None


# -- national, goals, hand-overs, comparison ------------------------------------------------------


def test_national_indicator_by_region(snapshot: Snapshot) -> None:
    national = m.national_monitoring(snapshot, NATIONAL_HOME)
    regions = {r.region.iri: r.monitoring for r in national.regions}
    # Five regions follow it; two report values here.
    assert len(regions) == 5 and VS + "organiser/varsinais-suomi" in regions
    assert {iri for iri, found in regions.items() if found.latest} == {
        VS + "organiser/varsinais-suomi", ID + "pohjois-savo/organiser/pohjois-savo"}
    ps = regions[ID + "pohjois-savo/organiser/pohjois-savo"]
    assert ps.latest is not None and ps.latest.value == 72
    assert ps.trend == "down" and ps.judgement == "worse"
    assert len(national.periods) == 12


def test_goal_tree_summary_of_a_chain(snapshot: Snapshot) -> None:
    _, goals = chain_view(snapshot, VS_CHAIN)
    summary = m.goals_monitoring(snapshot, goals)
    statuses = {i.indicator.iri: i.status for g in summary for i in g.indicators}
    assert statuses[VS_HOME] == "on-track"
    assert statuses[VS_SURGERY] == "reached"
    assert statuses[VS_DELAY] == "off-track"
    assert summary[0].main and summary[0].indicators[0].indicator.iri == VS_HOME
    counts = m.status_counts(summary)
    assert counts["reached"] == 1 and counts["on-track"] == 1 and counts["off-track"] == 1


def test_goal_summary_of_one_goal(snapshot: Snapshot) -> None:
    goal = VS + "goal/lonkkamurtuma-kotiin-paluu"
    summary = m.goal_monitoring(snapshot, goal)
    assert summary[0].goal.iri == goal
    assert [i.indicator.iri for i in summary[0].indicators] == [VS_HOME]


def test_waits_at_hand_overs_against_the_maximum(snapshot: Snapshot) -> None:
    waits = m.handover_waits(snapshot, VS_CHAIN)
    ward = waits[VS_CHAIN + "/transition/vuodeosasto-jatkohoito"][0]
    assert ward.maximum_text == "P2D" and ward.maximum == 2.0
    assert ward.latest is not None and ward.latest.value == 3.4 and ward.within is False
    days, hours = sorted(waits[VS_CHAIN + "/transition/jatkohoito-kotihoito"],
                         key=lambda w: w.unit.iri if w.unit else "")
    assert days.maximum == 1.0 and days.latest is not None and days.latest.value == 0.8
    assert days.within is True and days.indicator.iri == VS_DELAY
    # P1D in the unit of the observations (hours): 24; the latest is 20 hours.
    assert hours.maximum == 24.0 and hours.within is True and hours.trend == "down"
    assert hours.unit is not None and hours.unit.iri == VOCAB + "unit/hours"
    assert set(waits) == {VS_CHAIN + "/transition/vuodeosasto-jatkohoito",
                          VS_CHAIN + "/transition/jatkohoito-kotihoito"}


def test_two_chains_side_by_side(snapshot: Snapshot) -> None:
    shared = {s.national.iri: s for s in m.shared_measures(snapshot, [VS_CHAIN, PS_CHAIN])}
    assert NATIONAL_HOME in shared
    vs, ps = shared[NATIONAL_HOME].by_chain
    assert vs is not None and vs.indicator.iri == VS_HOME
    assert ps is not None and ps.latest is not None and ps.latest.value == 72
    assert m.shared_measures(snapshot, [VS_CHAIN]) == []


def test_every_maximum_wait_in_the_data_is_understood(snapshot: Snapshot) -> None:
    """The maximum waits as data/ writes them (xsd:duration: P2D, P3M, ...) all parse."""
    rows = snapshot.data.select(
        "SELECT ?wait WHERE { ?t <https://w3id.org/ketju/ontology#maximumWait> ?wait }")
    waits = {row["wait"].value for row in rows}
    assert {"P1D", "P2D", "P3M"} <= waits
    assert all(m.duration_days(w) is not None for w in waits), waits
