"""The one-pass view models (issue 15): a chain page's chain and goal tree come from one
query, the package page's package and goals from one each, and they are what the old
multi-query path gave for every chain and package of the catalogue (that path is kept here,
as it was, to compare against)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox
import pytest

from ketju.core.project import Project
from ketju.domain.chains import (
    DESCRIPTION,
    ONTOLOGY,
    Chain,
    ChainNotFound,
    Step,
    Transition,
    chain_view,
    load_chain,
)
from ketju.domain.entities import name_table, names_of
from ketju.domain.goals import Goal, Indicator, goal_tree
from ketju.domain.packages import PART_ROLES, Package, PackageService, load_package
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot, SnapshotSource

SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
TYPES = "PREFIX ketju: <https://w3id.org/ketju/ontology#> SELECT ?s WHERE { ?s a ketju:%s }"


@pytest.fixture(scope="module")
def snapshot(built_project: Project) -> Snapshot:
    return SnapshotSource.embedded(built_project, cache_entries=0).current()


def of_type(snapshot: Snapshot, local_name: str) -> list[str]:
    return sorted({row["s"].value for row in snapshot.data.select(TYPES % local_name)})


class Counting:
    """The snapshot's data with every query counted."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.data, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return counted


@contextmanager
def counting(snapshot: Snapshot) -> Iterator[Counting]:
    counter = Counting(snapshot.data)
    original, snapshot.data = snapshot.data, counter  # type: ignore[assignment]
    try:
        yield counter
    finally:
        snapshot.data = original


def test_every_chain_is_what_the_old_queries_gave(snapshot: Snapshot) -> None:
    chains = of_type(snapshot, "ServiceChain")
    assert len(chains) >= 8
    for iri in chains:
        chain, goals = chain_view(snapshot, iri)
        assert chain == old_load_chain(snapshot, iri), iri
        assert goals == old_goal_tree(snapshot, iri), iri
        assert load_chain(snapshot, iri) == chain
        assert goal_tree(snapshot, iri) == goals


def test_every_package_is_what_the_old_queries_gave(snapshot: Snapshot) -> None:
    packages = of_type(snapshot, "ServicePackage")
    assert len(packages) >= 2
    for iri in packages:
        assert load_package(snapshot, iri) == old_load_package(snapshot, iri), iri
        assert goal_tree(snapshot, iri) == old_goal_tree(snapshot, iri), iri


def test_the_chain_view_is_one_query_and_checks_the_type_once(snapshot: Snapshot) -> None:
    iri = of_type(snapshot, "ServiceChain")[0]
    # Before the build's table of names is made, the names of shared nodes take one more.
    snapshot = Snapshot(snapshot.version, snapshot.data, snapshot.queries, snapshot.files, 0)
    with counting(snapshot) as counter:
        before = chain_view(snapshot, iri)
    assert counter.calls == ["construct", "select"]
    name_table(snapshot)
    with counting(snapshot) as counter:
        chain, goals = chain_view(snapshot, iri)
    assert counter.calls == ["construct"]
    assert chain.steps and goals
    assert (chain, goals) == before == (old_load_chain(snapshot, iri),
                                        old_goal_tree(snapshot, iri))
    package = of_type(snapshot, "ServicePackage")[0]
    with counting(snapshot) as counter, pytest.raises(ChainNotFound):
        chain_view(snapshot, package)
    assert counter.calls == ["construct"]


def test_package_and_goal_tree_are_one_query_each(snapshot: Snapshot) -> None:
    iri = of_type(snapshot, "ServicePackage")[0]
    # Names: one names-of query before the build's table of names is made, none after.
    snapshot = Snapshot(snapshot.version, snapshot.data, snapshot.queries, snapshot.files, 0)
    for names in (["select"], []):
        with counting(snapshot) as counter:
            package = load_package(snapshot, iri)
        assert counter.calls == ["construct", *names]
        with counting(snapshot) as counter:
            goals = goal_tree(snapshot, iri)
        assert counter.calls == ["construct", *names]
        assert package == old_load_package(snapshot, iri) and package.services
        assert goals == old_goal_tree(snapshot, iri) and goals
        name_table(snapshot)


# -- the old multi-query path, as it was before issue 15 -----------------------------------

def old_load_chain(snapshot: Snapshot, iri: str) -> Chain:
    """Read a chain with three named queries: its steps, its hand-overs and their texts."""
    chain = ox.NamedNode(iri)
    if not snapshot.data.ask(f"ASK {{ ?chain a <{ONTOLOGY}ServiceChain> }}", {"chain": chain}):
        raise ChainNotFound(iri)
    texts: dict[tuple[str, str], dict[str, str]] = {}
    for row in snapshot.select("chain-texts", chain=chain):
        text = row["text"]
        lang = text.language if isinstance(text, ox.Literal) and text.language else ""
        owner = row["node"].value if "node" in row else iri  # no node: the chain's own text
        texts.setdefault((owner, row["property"].value), {})[lang] = text.value

    def names(node: str, prop: str = SKOS_LABEL) -> Texts:
        return Texts(texts.get((node, prop), {}))

    def node(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple],
             key: str) -> Node | None:
        value = row.get(key)
        return Node(value.value, names(value.value)) if value is not None else None  # type: ignore[union-attr]

    def positions(row: dict[str, object], key: str) -> tuple[int, ...]:
        value = row.get(key)
        text = value.value if value is not None else ""  # type: ignore[attr-defined]
        return tuple(sorted(int(p) for p in text.split(",") if p))

    steps = []
    for row in snapshot.select("chain-steps", chain=chain):
        step_iri = row["step"].value
        steps.append(Step(
            iri=step_iri,
            position=int(row["position"].value),
            names=names(step_iri),
            service=node(row, "service"),  # type: ignore[arg-type]
            producer=node(row, "producer"),  # type: ignore[arg-type]
            producer_type=node(row, "producerType"),
            level=node(row, "level"),
            level_rank=int(row["levelRank"].value) if "levelRank" in row else None,
            sector=node(row, "sector"),
            service_tasks=tuple(Node(i, names(i)) for i in sorted(
                row["serviceTasks"].value.split())) if "serviceTasks" in row else (),
            service_classes=tuple(sorted(row["serviceClasses"].value.split()))
            if "serviceClasses" in row else (),
            optional=row["optional"].value == "true" if "optional" in row else False,
            maximum_duration=row["maximumDuration"].value if "maximumDuration" in row else None,
            followed_by=positions(row, "followedBy"),
            parallel_with=positions(row, "parallelWith"),
            alternative_to=positions(row, "alternativeTo"),
            entry_criterion=names(step_iri, ONTOLOGY + "entryCriterion"),
            exit_criterion=names(step_iri, ONTOLOGY + "exitCriterion"),
        ))
    transitions = []
    for row in snapshot.select("chain-transitions", chain=chain):
        transition_iri = row["transition"].value
        transitions.append(Transition(
            iri=transition_iri,
            names=names(transition_iri),
            from_step=row["fromStep"].value,
            from_position=int(row["fromPosition"].value),
            to_step=row["toStep"].value,
            to_position=int(row["toPosition"].value),
            kind=node(row, "kind"),  # type: ignore[arg-type]
            responsible_producer=node(row, "responsibleProducer"),
            responsible_role=node(row, "responsibleRole"),
            maximum_wait=row["maximumWait"].value if "maximumWait" in row else None,
            trigger=names(transition_iri, ONTOLOGY + "trigger"),
            information=names(transition_iri, ONTOLOGY + "transferredInformation"),
        ))
    return Chain(
        iri=iri,
        names=names(iri),
        description=names(iri, DESCRIPTION),
        steps=tuple(sorted(steps, key=lambda s: s.position)),
        transitions=tuple(transitions),
    )


def old_goal_tree(snapshot: Snapshot, owner: str) -> list[Goal]:
    """The goals of `owner` as a forest: roots are goals whose parent is not among them."""
    rows = snapshot.select("goal-tree", owner=ox.NamedNode(owner))
    wanted: set[str] = set()
    for row in rows:
        for key in ("goal", "level", "indicator", "dataSource", "reportedBy", "frequency"):
            if key in row:
                wanted.add(row[key].value)
        for key in ("perspectives", "indicatorKinds"):
            if key in row:
                wanted.update(row[key].value.split())
    names = names_of(snapshot, wanted)

    def node(iri: str) -> Node:
        return Node(iri, names[iri]) if iri in names else Node(iri)

    goals: dict[str, Goal] = {}
    for row in rows:
        iri = row["goal"].value
        goal = goals.get(iri)
        if goal is None:
            goal = goals[iri] = Goal(
                node=node(iri), main=row["main"].value == "true",
                level=node(row["level"].value) if "level" in row else None,
                perspectives=[node(p) for p in sorted(row["perspectives"].value.split())]
                if "perspectives" in row else [],
                parent=row["parent"].value if "parent" in row else None,
            )
        if "indicator" not in row:
            continue
        indicator_iri = row["indicator"].value
        indicator = next((i for i in goal.indicators if i.node.iri == indicator_iri), None)
        if indicator is None:
            indicator = Indicator(
                node(indicator_iri),
                reported_by=node(row["reportedBy"].value) if "reportedBy" in row else None,
                frequency=node(row["frequency"].value) if "frequency" in row else None,
                kinds=[node(k) for k in sorted(row["indicatorKinds"].value.split())]
                if "indicatorKinds" in row else [],
            )
            goal.indicators.append(indicator)
        if "dataSource" in row and all(d.iri != row["dataSource"].value
                                       for d in indicator.data_sources):
            indicator.data_sources.append(node(row["dataSource"].value))
    roots = []
    for goal in goals.values():
        if goal.parent in goals and goal.parent != goal.node.iri:
            goals[goal.parent].children.append(goal)
        else:
            roots.append(goal)
    return sorted(roots, key=lambda g: (not g.main, g.node.iri))


def old_load_package(snapshot: Snapshot, iri: str) -> Package:
    bind = {"package": ox.NamedNode(iri)}
    service_rows = snapshot.select("package-services", **bind)
    part_rows = snapshot.select("package-parts", **bind)
    wanted = {row[k].value for row in service_rows for k in ("service", "sector", "level")
              if k in row}
    wanted |= {p for row in service_rows if "producers" in row
               for p in row["producers"].value.split()}
    wanted |= {row["part"].value for row in part_rows}
    names = names_of(snapshot, wanted)

    def node(value: str) -> Node:
        return Node(value, names[value]) if value in names else Node(value)

    services = tuple(
        PackageService(
            service=node(row["service"].value),
            sector=node(row["sector"].value) if "sector" in row else None,
            level=node(row["level"].value) if "level" in row else None,
            level_rank=int(row["levelRank"].value) if "levelRank" in row else None,
            producers=tuple(node(p) for p in sorted(row["producers"].value.split()))
            if "producers" in row else (),
        )
        for row in service_rows
    )
    parts: dict[str, list[Node]] = {role: [] for role in PART_ROLES}
    for row in part_rows:
        parts[row["role"].value].append(node(row["part"].value))
    return Package(iri, services, {k: tuple(v) for k, v in parts.items()})
