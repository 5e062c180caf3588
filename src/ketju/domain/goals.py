"""The goal tree (tavoitepuu) of a package or chain: main goal, intermediate goals by
perspective, producer-specific sub-goals, each with its indicators (mittarit) and their data
sources (tietolähteet), as in the handbook's table."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from ketju.domain.entities import names_of
from ketju.domain.texts import Node
from ketju.infra.snapshot import Snapshot


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
