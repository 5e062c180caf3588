"""Any entity of the catalogue as a description: its names, statements, sources and the links
that point to it ("what links here", paged, never unbounded).

Every page starts from this; pages for chains, packages and the like add their own views.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ketju.core.namespaces import GRAPH, ID, ONTOLOGY, PREFIXES, RDF_TYPE
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot

LABEL_PROPERTIES = (PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label")
DESCRIPTION_PROPERTIES = (PREFIXES["dct"] + "description", PREFIXES["skos"] + "definition")
LINKS_PAGE_SIZE = 50
#: At most this many vocabulary nodes have their names kept per snapshot (`names_of`).
VOCABULARY_NAMES_KEPT = 100_000


@dataclass(frozen=True)
class Value:
    """One value of a property: a node (with names) or a literal."""

    node: Node | None = None
    text: str = ""
    lang: str = ""
    datatype: str = ""

    @property
    def is_node(self) -> bool:
        return self.node is not None


@dataclass(frozen=True)
class Statement:
    property: Node
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Links:
    """A page of the statements that point to the entity."""

    total: int
    offset: int
    limit: int
    items: tuple[tuple[Node, Node], ...]

    @property
    def next_offset(self) -> int | None:
        following = self.offset + self.limit
        return following if following < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


@dataclass(frozen=True)
class Description:
    iri: str
    names: Texts
    descriptions: Texts
    types: tuple[Node, ...]
    statements: tuple[Statement, ...]
    sources: tuple[str, ...]
    links: Links
    _names: dict[str, Texts] = field(default_factory=dict, repr=False)

    def label(self, lang: str) -> str:
        return self.names.pick(lang)[0] or self.iri.rstrip("/").rsplit("/", 1)[-1]

    def has_type(self, local_name: str) -> bool:
        return any(t.iri == ONTOLOGY + local_name for t in self.types)

    def name_of(self, iri: str) -> Node:
        return Node(iri, self._names.get(iri, Texts()))

    def values_of(self, property_iri: str) -> tuple[Value, ...]:
        for statement in self.statements:
            if statement.property.iri == property_iri:
                return statement.values
        return ()


class NotFound(LookupError):
    """Nothing is said about this IRI in the catalogue."""


def _texts(rows: list[tuple[str, ox.Literal]]) -> Texts:
    values: dict[str, str] = {}
    for _, literal in rows:
        values.setdefault(literal.language or "", literal.value)
    return Texts(values)


def describe(snapshot: Snapshot, iri: str,
             links_offset: int = 0, links_limit: int = LINKS_PAGE_SIZE,
             hide_link: Callable[[str], bool] | None = None) -> Description:
    """The entity's description; `hide_link(subject)` leaves links out before they are
    counted and paged (a page for people does not list a region's observations)."""
    entity = ox.NamedNode(iri)
    bind = {"entity": entity}
    rows = snapshot.select("entity-statements", **bind)
    # Every link, sorted and paged here: ordering IRIs in SPARQL is the slow part.
    linking = sorted({(row["property"].value, row["subject"].value)
                      for row in snapshot.select("entity-links-here", **bind)})
    if not rows and not linking:
        raise NotFound(iri)
    if hide_link is not None:
        linking = [(p, s) for p, s in linking if not hide_link(s)]
    # The names of the properties, the values and the page of links in one lookup by list: a
    # join from the entity to every label of the store is planned badly at national scale
    # (seconds, not ms).
    page = linking[links_offset:links_offset + links_limit]
    pointed = {row["property"].value for row in rows} | {
        row["value"].value for row in rows if isinstance(row["value"], ox.NamedNode)}
    names: dict[str, dict[str, str]] = defaultdict(dict)
    # The linking subjects and the properties they link by are named too.
    linked = {n for link in page for n in link}
    for owner, texts in names_of(snapshot, pointed | {iri} | linked).items():
        names[owner].update(texts.values)

    def node(value: str) -> Node:
        return Node(value, Texts(names.get(value, {})))

    by_property: dict[str, list[Value]] = defaultdict(list)
    sources: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for row in rows:
        prop, value, graph = row["property"].value, row["value"], row["graph"].value
        if graph.startswith(GRAPH + "data/") or graph.startswith(GRAPH + "ontology/"):
            sources.add(graph.removeprefix(GRAPH))
        key = (prop, str(value))
        if key in seen:
            continue
        seen.add(key)
        if isinstance(value, ox.NamedNode):
            by_property[prop].append(Value(node=node(value.value)))
        elif isinstance(value, ox.Literal):
            by_property[prop].append(Value(text=value.value, lang=value.language or "",
                                           datatype=value.datatype.value))
    own = {prop: [v for v in values if not v.is_node] for prop, values in by_property.items()}
    labels = [(p, ox.Literal(v.text, language=v.lang or None))
              for p in LABEL_PROPERTIES for v in own.get(p, [])]
    descriptions = [(p, ox.Literal(v.text, language=v.lang or None))
                    for p in DESCRIPTION_PROPERTIES for v in own.get(p, [])]
    types = tuple(v.node for v in by_property.get(RDF_TYPE, []) if v.node is not None)
    statements = tuple(
        Statement(node(prop), tuple(values))
        for prop, values in sorted(by_property.items())
        if prop != RDF_TYPE
    )
    items = tuple((node(subject), node(prop)) for prop, subject in page)
    return Description(
        iri=iri, names=_texts(labels), descriptions=_texts(descriptions), types=types,
        statements=statements, sources=tuple(sorted(sources)),
        links=Links(len(linking), links_offset, links_limit, items),
        _names={k: Texts(v) for k, v in names.items()},
    )


def name_table(snapshot: Snapshot) -> NameTable:
    """Every named node of the build with its names (`names-all`), kept with the snapshot.

    A name looked up in the store costs 15-40 µs a node at national scale, which was most of
    a producer's page (its 50 linking entities); from this table it is a dictionary lookup.
    The server makes it in the background when a build starts being served (about 4 s for
    95,000 named nodes at 1M triples); until then `names_of` asks the store.
    """
    return snapshot.kept("names", lambda: NameTable(snapshot.select("names-all")))


class NameTable:
    """The names of every named node, each node's names packed in one string
    ("fi<US>text<RS>sv<US>text") to hold a national catalogue in tens of megabytes, not
    hundreds (a dictionary and three strings a node cost five times as much)."""

    def __init__(self, rows: list[dict[str, ox.NamedNode | ox.Literal]]) -> None:
        names: dict[str, dict[str, str]] = defaultdict(dict)
        for row in rows:
            name = row["name"]
            if isinstance(name, ox.Literal):
                names[row["node"].value].setdefault(name.language or "", name.value)
        self._packed = {iri: "\x1e".join(f"{lang}\x1f{text}" for lang, text in values.items())
                        for iri, values in names.items()}

    def __len__(self) -> int:
        return len(self._packed)

    def get(self, iri: str) -> Texts | None:
        """The names of `iri`, or None when it has none."""
        packed = self._packed.get(iri)
        if packed is None:
            return None
        return Texts(dict(part.split("\x1f", 1) for part in packed.split("\x1e")))


def names_of(snapshot: Snapshot, iris: set[str] | list[str]) -> dict[str, Texts]:
    """Names of many nodes at once, in every language (only nodes that have a name).

    From the build's `name_table` once it is made. Before that, the names of vocabulary
    nodes (every IRI outside the regional data: ontology terms, code lists, service classes)
    are kept with the snapshot once looked up: they are few and on nearly every page. The
    rest are looked up with one `names-of` query per 500 nodes.
    """
    if snapshot.has("names"):
        table = name_table(snapshot)
        return {iri: texts for iri in set(iris) if (texts := table.get(iri)) is not None}
    known: dict[str, Texts] = snapshot.kept("vocabulary-names", dict)
    found: dict[str, Texts] = {}
    wanted: list[str] = []
    for iri in sorted({i for i in iris if i}):
        texts = known.get(iri)
        if texts is None:
            wanted.append(iri)
        elif texts:
            found[iri] = texts
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(wanted), 500):
        chunk: list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = [
            ox.NamedNode(i) for i in wanted[start:start + 500]]
        for row in snapshot.select("names-of", node=chunk):
            name = row["name"]
            if isinstance(name, ox.Literal):
                names[row["node"].value].setdefault(name.language or "", name.value)
    for iri in wanted:
        texts = Texts(names[iri]) if iri in names else Texts()
        if texts:
            found[iri] = texts
        if not iri.startswith(ID) and len(known) < VOCABULARY_NAMES_KEPT:
            known[iri] = texts
    return found


def entity_rdf(snapshot: Snapshot, iri: str) -> list[ox.Triple]:
    """The entity's statements, those of its steps and hand-overs, and the names of the IRIs
    it points to as rdfs:label (entailed by skos:prefLabel), so a client can show them."""
    triples = snapshot.construct("entity-rdf", entity=ox.NamedNode(iri))
    linked = {t.object.value for t in triples
              if t.subject.value == iri and isinstance(t.object, ox.NamedNode)} - {iri}
    label = ox.NamedNode(PREFIXES["rdfs"] + "label")
    for node, texts in names_of(snapshot, linked).items():
        triples.extend(ox.Triple(ox.NamedNode(node), label,
                                 ox.Literal(text, language=lang) if lang else ox.Literal(text))
                       for lang, text in texts.values.items())
    return triples


def step_positions(snapshot: Snapshot, steps: list[str]) -> dict[str, tuple[str, int]]:
    """The chain and position of each of `steps` that is a chain's step (to list steps in
    chain order, not by IRI)."""
    if not steps:
        return {}
    found: dict[str, tuple[str, int]] = {}
    chunk: list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = [
        ox.NamedNode(s) for s in sorted(set(steps))]
    for row in snapshot.select("step-positions", step=chunk):
        try:
            position = int(row["position"].value)
        except ValueError:
            continue
        found.setdefault(row["step"].value, (row["chain"].value, position))
    return found
