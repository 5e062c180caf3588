"""The goal tree (tavoitepuu) of a package or chain: main goal, intermediate goals by
perspective, producer-specific sub-goals, each with its indicators (mittarit) and their data
sources (tietolähteet), as in the handbook's table.

The tree is assembled from the owner's subgraph (`goal-graph`, or the goal part of
`chain-graph`): one query, not one for the goals and one for their names."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from ketju.core.namespaces import ONTOLOGY, PREFIXES
from ketju.domain.entities import names_of
from ketju.domain.texts import Node, Subgraph, Texts
from ketju.infra.snapshot import Snapshot

K = ONTOLOGY
#: Goals and what measures them are named by skos:prefLabel, else rdfs:label.
NAMES = (PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label")


@dataclass
class Indicator:
    node: Node
    data_sources: list[Node] = field(default_factory=list)
    reported_by: Node | None = None
    frequency: Node | None = None
    kinds: list[Node] = field(default_factory=list)


@dataclass
class Goal:
    node: Node
    main: bool
    level: Node | None
    perspectives: list[Node]
    parent: str | None
    indicators: list[Indicator] = field(default_factory=list)
    children: list[Goal] = field(default_factory=list)


def goal_tree(snapshot: Snapshot, owner: str) -> list[Goal]:
    """The goals of `owner` as a forest: roots are goals whose parent is not among them. One
    query, and the build's table of names (or one `names-of` query before it is made)."""
    graph = Subgraph(snapshot.construct("goal-graph", owner=ox.NamedNode(owner)))
    return goals_of(graph.named(names_of(snapshot, graph.nodes())), owner)


def goals_of(graph: Subgraph, owner: str) -> list[Goal]:
    """The goal forest of `owner` assembled from its subgraph: main goals first, then the
    others, each by IRI; children under their parent (ketju:contributesTo) when it is there."""
    mains = graph.iris(owner, K + "hasMainGoal")
    others = [g for g in graph.iris(owner, K + "hasGoal") if g not in mains]
    goals = {iri: _goal(graph, iri, iri in mains) for iri in mains + others}
    roots = []
    for goal in goals.values():
        if goal.parent in goals and goal.parent != goal.node.iri:
            goals[goal.parent].children.append(goal)
        else:
            roots.append(goal)
    return sorted(roots, key=lambda g: (not g.main, g.node.iri))


def _goal(graph: Subgraph, iri: str, main: bool) -> Goal:
    def node(value: str) -> Node:
        return graph.node(value, *NAMES)

    level = graph.iri(iri, K + "goalLevel")
    return Goal(
        node=node(iri), main=main, level=node(level) if level else None,
        perspectives=[node(p) for p in graph.iris(iri, K + "goalPerspective")],
        parent=graph.iri(iri, K + "contributesTo"),
        indicators=[_indicator(graph, i) for i in graph.iris(iri, K + "measuredBy")],
    )


def _indicator(graph: Subgraph, iri: str) -> Indicator:
    def node(value: str | None) -> Node | None:
        return graph.node(value, *NAMES) if value else None

    return Indicator(
        graph.node(iri, *NAMES),
        data_sources=[graph.node(d, *NAMES) for d in graph.iris(iri, K + "dataSource")],
        reported_by=node(graph.iri(iri, K + "reportedBy")),
        frequency=node(graph.iri(iri, PREFIXES["dct"] + "accrualPeriodicity")),
        kinds=[graph.node(k, *NAMES) for k in graph.iris(iri, K + "indicatorKind")],
    )


@dataclass
class GoalPlace:
    """Where a goal sits: the packages and chains whose goal it is, the goals above it in
    their tree (from the main goal down) and the goal itself with its sub-goals."""

    owners: list[Node]
    ancestors: list[Node]
    goal: Goal | None


def goal_place(snapshot: Snapshot, goal: str) -> GoalPlace:
    """The goal's place in the goal tree of the first package or chain that has it."""
    owners = sorted({row["subject"].value for row in snapshot.select(
        "entity-links-here", entity=ox.NamedNode(goal))
        if row["property"].value in (K + "hasGoal", K + "hasMainGoal")})
    names = names_of(snapshot, owners)
    place = GoalPlace([Node(o, names.get(o, Texts())) for o in owners], [], None)
    for owner in owners[:1]:
        path = _path_to(goal_tree(snapshot, owner), goal, [])
        if path:
            place.ancestors = [g.node for g in path[:-1]]
            place.goal = path[-1]
    return place


def _path_to(goals: list[Goal], iri: str, above: list[Goal]) -> list[Goal] | None:
    for goal in goals:
        if goal.node.iri == iri:
            return [*above, goal]
        if (found := _path_to(goal.children, iri, [*above, goal])) is not None:
            return found
    return None
