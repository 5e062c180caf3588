"""The home page's content (etusivu): ways in by region, customer segment and kind, the chains
that several regions describe (with a one-click comparison), and what changed recently.

Everything here follows from the build, so it is made once per snapshot (`home_overview`,
kept by the snapshot) from two small named queries (home-entities, home-segments), the
region counts the home page always showed (`catalogue_regions`) and the newest page of the
build's LDES change stream (`recent_changes`); the page itself is then only a template.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from ketju.core import kinds as registry
from ketju.core.namespaces import ACTIVITY_STREAMS, ADMS_STATUS, DCT, ID, RDF
from ketju.domain.entities import names_of
from ketju.domain.regions import Region, catalogue_regions
from ketju.domain.texts import Node, Texts
from ketju.infra.feeds import ldes
from ketju.infra.snapshot import Snapshot

#: A comparison takes at most this many chains (as `/compare` does).
MAX_COMPARED = 6
#: How many recent changes, shared chains and named packages or chains the page shows.
RECENT = 8
SHARED = 8
NAMED = 12
DRAFT = ADMS_STATUS + "UnderDevelopment"
#: The kinds the home page lists by name (the query home-entities asks for the same).
LISTED = registry.shown_on(registry.ORGANISER)
CHAIN = registry.by_name("ServiceChain").iri


@dataclass(frozen=True)
class Entry:
    """A package or chain: its node, region and whether it is a draft."""

    node: Node
    region: str
    draft: bool = False


@dataclass(frozen=True)
class SharedChains:
    """The chains of one customer segment in several regions."""

    segment: Node
    chains: tuple[Entry, ...]
    #: The regions' short names, in the order of `chains` (one chain per region).
    regions: tuple[str, ...]

    @property
    def compared(self) -> tuple[Entry, ...]:
        """The chains the comparison shows: at most `MAX_COMPARED`, finished descriptions
        first (drafts copied from another region after them)."""
        return tuple(sorted(self.chains, key=lambda e: e.draft)[:MAX_COMPARED])

    @property
    def compare_path(self) -> str:
        """`/compare?chains=a,b,...` for the `compared` chains (`region/slug` names keep the
        link short)."""
        return "/compare?chains=" + ",".join(
            e.node.iri.removeprefix(ID).replace("/chain/", "/", 1) for e in self.compared)


@dataclass(frozen=True)
class Change:
    """One recent version in the change stream: which entity, when, and whether deleted."""

    node: Node
    kind: str | None
    region: str
    issued: datetime
    deleted: bool


@dataclass
class HomeOverview:
    regions: list[Region]
    #: Every customer segment with how many packages and chains target it, by kind.
    segments: list[tuple[Node, dict[str, int]]]
    #: Packages, then chains (`LISTED`): how many, and the first `NAMED` of them by name.
    listed: list[tuple[str, int, list[Entry]]]
    shared: list[SharedChains]
    recent: list[Change] = field(default_factory=list)
    #: Names of the regions' organisers by short name (for chains' region labels).
    region_names: dict[str, Node] = field(default_factory=dict)
    #: How many entities of each kind the whole catalogue holds (the regions' counts summed).
    counts: dict[str, int] = field(default_factory=dict)


def _region(iri: str) -> str:
    return iri.removeprefix(ID).split("/", 1)[0]


def home_overview(snapshot: Snapshot) -> HomeOverview:
    """What the home page shows, made once per snapshot."""
    return snapshot.kept("home-overview", lambda: _overview(snapshot))


def _overview(snapshot: Snapshot) -> HomeOverview:
    regions = catalogue_regions(snapshot)
    rows = snapshot.select("home-entities")
    segment_iris = [row["segment"].value for row in snapshot.select("home-segments")]
    entities: dict[str, str] = {}
    drafts: set[str] = set()
    by_segment: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        iri = row["entity"].value
        entities.setdefault(iri, row["kind"].value)
        if "status" in row and row["status"].value == DRAFT:
            drafts.add(iri)
        if "segment" in row:
            by_segment[row["segment"].value].add(iri)
    recent = recent_changes(snapshot)
    names = names_of(snapshot, {*entities, *segment_iris, *by_segment,
                                *(c.node.iri for c in recent)})

    def node(iri: str) -> Node:
        return Node(iri, names.get(iri, Texts()))

    def entry(iri: str) -> Entry:
        return Entry(node(iri), _region(iri), iri in drafts)

    def by_name(iris: list[str]) -> list[Entry]:
        return sorted((entry(i) for i in iris), key=lambda e: (e.node.label("fi").casefold(),
                                                               e.node.iri))

    local = {registry.by_name(kind).iri: kind for kind in LISTED}
    segments = []
    for iri in {*segment_iris, *by_segment}:
        counts = Counter(local[entities[e]] for e in by_segment.get(iri, ()))
        segments.append((node(iri), dict(counts)))
    segments.sort(key=lambda s: (-sum(s[1].values()), s[0].label("fi").casefold()))
    shared = []
    for iri, members in by_segment.items():
        one_per_region: dict[str, Entry] = {}
        for chain in by_name([m for m in members if entities[m] == CHAIN]):
            # A region with several chains for the segment: its finished one speaks for it.
            held = one_per_region.get(chain.region)
            if held is None or (held.draft and not chain.draft):
                one_per_region[chain.region] = chain
        if len(one_per_region) >= 2:
            picked = tuple(sorted(one_per_region.values(), key=lambda e: e.region))
            shared.append(SharedChains(node(iri), picked, tuple(e.region for e in picked)))
    shared.sort(key=lambda s: (-len(s.chains), s.segment.label("fi").casefold()))
    listed = []
    for kind in LISTED:
        iris = [i for i, k in entities.items() if k == registry.by_name(kind).iri]
        listed.append((kind, len(iris), by_name(iris)[:NAMED]))
    return HomeOverview(
        regions=regions, segments=segments, listed=listed, shared=shared[:SHARED],
        recent=[Change(node(c.node.iri), c.kind, c.region, c.issued, c.deleted)
                for c in recent],
        region_names={r.slug: r.organiser for r in regions if r.organiser is not None},
        counts=dict(sum((Counter(r.counts) for r in regions), Counter())))


def recent_changes(snapshot: Snapshot, limit: int = RECENT) -> list[Change]:
    """The newest versions in the build's LDES change stream, one per entity, newest first
    (none in remote mode or for a store built without the stream)."""
    if snapshot.files is None:
        return []
    folder = ldes.feed_folder(snapshot.files.folder)
    try:
        index = json.loads((folder / ldes.INDEX).read_text(encoding="utf-8"))
        pages = [page["file"] for page in index.get("pages", [])]
    except (OSError, ValueError, TypeError, KeyError):
        return []
    found: dict[str, Change] = {}
    for name in reversed(pages):
        for change in sorted(_page_changes(folder / name), key=lambda c: c.issued,
                             reverse=True):
            iri = change.node.iri
            if iri not in found:
                found[iri] = change
        if len(found) >= limit:
            break
    return sorted(found.values(), key=lambda c: c.issued, reverse=True)[:limit]


def _page_changes(path: Path) -> list[Change]:
    """The versions (members) on one page of the stream."""
    entity: dict[str, str] = {}
    issued: dict[str, datetime] = {}
    deleted: set[str] = set()
    try:
        triples = list(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES, lenient=True))
    except (OSError, SyntaxError, ValueError):
        return []
    for s, p, o, *_ in triples:
        if not isinstance(s, ox.NamedNode):
            continue
        if p.value == DCT + "isVersionOf" and isinstance(o, ox.NamedNode):
            entity[s.value] = o.value
        elif p.value == DCT + "issued" and isinstance(o, ox.Literal):
            try:
                issued[s.value] = datetime.fromisoformat(o.value)
            except ValueError:
                continue
        elif p.value == RDF + "type" and o.value == ACTIVITY_STREAMS + "Delete":
            deleted.add(s.value)
    changes = []
    for version, iri in entity.items():
        if version not in issued:
            continue
        segment = iri.removeprefix(ID).split("/")
        try:
            kind = registry.by_segment(segment[1]).name if len(segment) > 2 else None
        except KeyError:
            kind = None
        changes.append(Change(Node(iri), kind, _region(iri), issued[version],
                              version in deleted))
    return changes
