"""A service package (palvelukokonaisuus) as its page shows it: services grouped by sector and
level as in the handbook's figure, then its chains, sub-packages, interfaces, steering measures
and plan templates. All of it comes from one query (`package-graph`, the package's subgraph),
assembled here."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ketju.core.namespaces import ONTOLOGY, PREFIXES
from ketju.domain.entities import names_of
from ketju.domain.texts import Node, Subgraph
from ketju.infra.snapshot import Snapshot

K = ONTOLOGY
#: Parts are named by skos:prefLabel, else rdfs:label.
NAMES = (PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label")
#: How the package points to each kind of part (a chain points to its package instead).
PART_LINKS = {"sub-package": "hasSubPackage", "related-package": "relatedPackage",
              "interface": "hasInterface", "steering-measure": "hasSteeringMeasure",
              "plan-template": "customerPlanTemplate"}

PART_ROLES = ("chain", "sub-package", "related-package", "interface", "steering-measure",
              "plan-template")


@dataclass(frozen=True)
class PackageService:
    service: Node
    sector: Node | None
    level: Node | None
    level_rank: int | None
    producers: tuple[Node, ...]


@dataclass(frozen=True)
class Package:
    iri: str
    services: tuple[PackageService, ...]
    parts: dict[str, tuple[Node, ...]]

    def by_sector(self) -> list[tuple[Node | None, list[tuple[Node | None, list[PackageService]]]]]:
        """Sectors, each with its levels (lightest first), each with its services."""
        sectors: dict[str, tuple[Node | None, dict[str, tuple[Node | None, int,
                                                            list[PackageService]]]]] = {}
        for item in self.services:
            sector_key = item.sector.iri if item.sector else ""
            _, levels = sectors.setdefault(sector_key, (item.sector, {}))
            level_key = item.level.iri if item.level else ""
            levels.setdefault(level_key, (item.level, item.level_rank or 99, []))[2].append(item)
        return [
            (sector, [(level, services) for level, _, services in
                      sorted(levels.values(), key=lambda v: v[1])])
            for _, (sector, levels) in sorted(sectors.items())
        ]


def load_package(snapshot: Snapshot, iri: str) -> Package:
    """The package `iri` as its page shows it, from one query (and the build's table of
    names, or one `names-of` query before it is made)."""
    graph = Subgraph(snapshot.construct("package-graph", package=ox.NamedNode(iri)))
    graph.named(names_of(snapshot, graph.nodes()))

    def node(value: str) -> Node:
        return graph.node(value, *NAMES)

    services = []
    for service in graph.iris(iri, K + "includesService"):
        sector = graph.iri(service, K + "sector")
        level = graph.iri(service, K + "serviceLevel")
        rank = graph.literal(level, K + "rank") if level else None
        services.append(PackageService(
            service=node(service),
            sector=node(sector) if sector else None,
            level=node(level) if level else None,
            level_rank=int(rank) if rank is not None else None,
            producers=tuple(node(p) for p in graph.iris(service, K + "producedBy")),
        ))
    # As the handbook's figure reads: by sector, then level (lightest first), then service.
    services.sort(key=lambda s: (s.sector is not None, s.sector.iri if s.sector else "",
                                 s.level_rank is not None, s.level_rank or 0, s.service.iri))
    parts = {role: tuple(node(p) for p in graph.iris(iri, K + link))
             for role, link in PART_LINKS.items()}
    parts["chain"] = tuple(node(c) for c in graph.subjects(K + "partOfPackage", iri))
    return Package(iri, tuple(services), {role: parts[role] for role in PART_ROLES})
