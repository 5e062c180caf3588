"""A service package (palvelukokonaisuus) as its page shows it: services grouped by sector and
level as in the handbook's figure, then its chains, sub-packages, interfaces, steering measures
and plan templates."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ketju.domain.entities import names_of
from ketju.domain.texts import Node
from ketju.infra.snapshot import Snapshot

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
