"""Regions (alueet) and what each holds: the home page's table and the region pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from ketju.core.namespaces import ID
from ketju.domain.entities import names_of
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot


@dataclass
class Region:
    slug: str
    organiser: Node | None
    code: str | None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def catalogue_regions(snapshot: Snapshot) -> list[Region]:
    """Every region with an organiser or data, with counts per kind (national last)."""
    regions: dict[str, Region] = {}
    organisers = snapshot.select("regions")
    names = names_of(snapshot, [row["organiser"].value for row in organisers])
    for row in organisers:
        slug = row["organiser"].value.removeprefix(ID).split("/", 1)[0]
        regions[slug] = Region(slug, Node(row["organiser"].value,
                                          names.get(row["organiser"].value, Texts())),
                               row["code"].value if "code" in row else None)
    for row in snapshot.select("catalogue-summary"):
        slug = row["region"].value
        region = regions.setdefault(slug, Region(slug, None, None))
        kind = row["class"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        region.counts[kind] = int(row["count"].value)
    return sorted(regions.values(), key=lambda r: (r.slug == "national", r.code or "99", r.slug))


def region_catalogue(snapshot: Snapshot,
                     organiser: str) -> dict[str, list[tuple[Node, list[Node]]]]:
    """Packages and chains of an organiser, each with its target segments."""
    rows = snapshot.select("region-catalogue", organiser=ox.NamedNode(organiser))
    names = names_of(snapshot, {row[k].value for row in rows
                                for k in ("entity", "segment") if k in row})
    grouped: dict[str, dict[str, list[Node]]] = defaultdict(dict)
    for row in rows:
        kind = row["kind"].value.rsplit("#", 1)[1]
        segments = grouped[kind].setdefault(row["entity"].value, [])
        if "segment" in row:
            iri = row["segment"].value
            segments.append(Node(iri, names.get(iri, Texts())))
    return {
        kind: [(Node(iri, names.get(iri, Texts())), segments)
               for iri, segments in entities.items()]
        for kind, entities in grouped.items()
    }
