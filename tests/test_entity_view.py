"""Entity pages' view model (`ketju.domain.entities.describe`): the same description as the
straightforward reading of the store (every statement, every link, every name looked up
afresh), for an entity of every kind in data/, with few queries.

The oracle below is the description as it was made before names were looked up in one list and
vocabulary names kept per snapshot; both must agree to the last name and link.
"""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import GRAPH, ID, PREFIXES
from ketju.core.project import Project
from ketju.domain.entities import (
    DESCRIPTION_PROPERTIES,
    LABEL_PROPERTIES,
    RDF_TYPE,
    Description,
    describe,
    name_table,
    names_of,
)
from ketju.domain.texts import Texts
from ketju.infra.snapshot import Snapshot, SnapshotSource

ONTOLOGY = PREFIXES["ketju"]


@pytest.fixture(scope="module")
def source(built_project: Project) -> SnapshotSource:
    return SnapshotSource.embedded(built_project, cache_entries=0)


def fresh(source: SnapshotSource) -> Snapshot:
    """A snapshot of the same build with nothing kept yet."""
    current = source.current()
    return Snapshot(current.version, current.data, current.queries, current.files, 0)


class Counting(Snapshot):
    """A snapshot that counts the named queries it runs."""

    def __init__(self, other: Snapshot) -> None:
        super().__init__(other.version, other.data, other.queries, other.files, 0)
        self.ran: list[str] = []

    def select(self, name: str, /, **bindings):  # type: ignore[no-untyped-def]
        self.ran.append(name)
        return super().select(name, **bindings)


def one_of_each_kind(snapshot: Snapshot) -> dict[str, str]:
    """An entity of every class used in data/ (the first by IRI), by class local name."""
    rows = snapshot.data.select(
        "SELECT ?class (MIN(STR(?s)) AS ?first) WHERE { GRAPH ?g { ?s a ?class } "
        f"FILTER(STRSTARTS(STR(?g), '{GRAPH}data/') && isIRI(?s)) }} GROUP BY ?class")
    return {row["class"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]: row["first"].value
            for row in rows}


def oracle_names(snapshot: Snapshot, iris: set[str]) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for iri in sorted(i for i in iris if i):
        for row in snapshot.select("names-of", node=[ox.NamedNode(iri)]):
            if isinstance(row["name"], ox.Literal):
                names[iri].setdefault(row["name"].language or "", row["name"].value)
    return names


def oracle(snapshot: Snapshot, iri: str, offset: int = 0, limit: int = 50) -> dict:
    """What an entity page shows, read plainly: statements, sources, links and their names."""
    bind = {"entity": ox.NamedNode(iri)}
    rows = snapshot.select("entity-statements", **bind)
    linking = sorted({(r["property"].value, r["subject"].value)
                      for r in snapshot.select("entity-links-here", **bind)})
    page = linking[offset:offset + limit]
    names = oracle_names(snapshot, {r["property"].value for r in rows} | {iri} | {
        r["value"].value for r in rows if isinstance(r["value"], ox.NamedNode)})
    # The linking subjects and the properties they link by (named on the page, issue 14).
    for subject, texts in oracle_names(snapshot, {n for link in page for n in link}).items():
        names[subject].update(texts)
    by_property: dict[str, list[tuple]] = defaultdict(list)
    seen = set()
    for row in rows:
        prop, value = row["property"].value, row["value"]
        if (prop, str(value)) in seen:
            continue
        seen.add((prop, str(value)))
        if isinstance(value, ox.NamedNode):
            by_property[prop].append(("node", value.value, names.get(value.value, {})))
        elif isinstance(value, ox.Literal):
            by_property[prop].append(("text", value.value, value.language or "",
                                      value.datatype.value))
    sources = sorted({r["graph"].value.removeprefix(GRAPH) for r in rows
                      if r["graph"].value.startswith((GRAPH + "data/", GRAPH + "ontology/"))})
    return {
        "names": names.get(iri, {}),
        "statements": [(p, names.get(p, {}), v) for p, v in sorted(by_property.items())
                       if p != RDF_TYPE],
        "types": [v[1] for v in by_property.get(RDF_TYPE, [])],
        "sources": sources,
        "links": (len(linking), [(s, names.get(s, {}), p, names.get(p, {})) for p, s in page]),
    }


def view(description: Description) -> dict:
    """The same facts from a Description."""
    def value(v):  # type: ignore[no-untyped-def]
        if v.node is not None:
            return ("node", v.node.iri, v.node.names.values)
        return ("text", v.text, v.lang, v.datatype)

    return {
        "names": description.names.values,
        "statements": [(s.property.iri, s.property.names.values, [value(v) for v in s.values])
                       for s in description.statements],
        "types": [t.iri for t in description.types],
        "sources": list(description.sources),
        "links": (description.links.total, [
            (s.iri, s.names.values, p.iri, p.names.values) for s, p in description.links.items]),
    }


def test_every_kind_is_described_as_read_plainly(source: SnapshotSource) -> None:
    snapshot = fresh(source)
    kinds = one_of_each_kind(snapshot)
    assert {"ServiceChain", "Service", "Producer", "ServicePackage"} <= set(kinds)
    for kind, iri in sorted(kinds.items()):
        expected = oracle(snapshot, iri)
        # Twice: made with nothing kept, then with the vocabulary's names kept.
        for _ in range(2):
            assert view(describe(snapshot, iri)) == expected, (kind, iri)


def test_a_later_page_of_links_names_its_subjects(source: SnapshotSource) -> None:
    snapshot = fresh(source)
    rows = snapshot.data.select(
        "SELECT ?o (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o FILTER(isIRI(?o) && isIRI(?s)) "
        f"FILTER(STRSTARTS(STR(?o), '{ID}')) }} GROUP BY ?o ORDER BY DESC(?n) LIMIT 1")
    busiest = rows[0]["o"].value
    assert int(rows[0]["n"].value) > 4
    assert view(describe(snapshot, busiest, links_offset=2, links_limit=2)) == oracle(
        snapshot, busiest, 2, 2)


def test_an_entity_page_takes_three_queries_and_the_vocabulary_is_looked_up_once(
        source: SnapshotSource) -> None:
    snapshot = Counting(fresh(source))
    kinds = one_of_each_kind(snapshot)
    describe(snapshot, kinds["Service"])
    # Statements, links here, and the names of everything shown in one list.
    assert snapshot.ran == ["entity-statements", "entity-links-here", "names-of"]
    vocabulary = [iri for iri in snapshot.kept("vocabulary-names", dict)]
    assert vocabulary and not any(iri.startswith(ID) for iri in vocabulary)
    assert ONTOLOGY + "serviceClass" in vocabulary or ONTOLOGY + "organiser" in vocabulary


def test_names_of_is_the_same_with_the_vocabulary_kept(source: SnapshotSource) -> None:
    snapshot = fresh(source)
    wanted = {PREFIXES["skos"] + "prefLabel", ONTOLOGY + "organiser", ONTOLOGY + "nothing",
              ID + "national/producer/kela", *LABEL_PROPERTIES, *DESCRIPTION_PROPERTIES}
    first = names_of(snapshot, wanted)
    assert ONTOLOGY + "nothing" not in first and first[ONTOLOGY + "organiser"]
    assert names_of(snapshot, wanted) == first
    assert {k: v.values for k, v in first.items()} == {
        k: v for k, v in oracle_names(snapshot, wanted).items() if v}
    assert all(isinstance(v, Texts) for v in first.values())


def test_with_the_name_table_a_page_takes_two_queries_and_the_same_view(
        source: SnapshotSource) -> None:
    """Once the build's table of names is made (the server makes it in the background), an
    entity page asks the store only for its statements and links, and shows the same names."""
    snapshot = Counting(fresh(source))
    kinds = one_of_each_kind(snapshot)
    expected = {iri: oracle(snapshot, iri) for iri in kinds.values()}
    table = name_table(snapshot)
    assert table.get(ID + "national/producer/kela") and table.get(ONTOLOGY + "nothing") is None
    snapshot.ran.clear()
    for kind, iri in sorted(kinds.items()):
        assert view(describe(snapshot, iri)) == expected[iri], (kind, iri)
    assert set(snapshot.ran) == {"entity-statements", "entity-links-here"}
    # Every named node of the build, with the names a lookup by list finds.
    every = {row["node"].value for row in snapshot.data.select(
        "SELECT DISTINCT ?node WHERE { ?node <http://www.w3.org/2004/02/skos/core#prefLabel>"
        "|<http://www.w3.org/2000/01/rdf-schema#label> ?name FILTER(isIRI(?node)) }")}
    assert len(table) == len(every)
    assert {k: v.values for k, v in names_of(snapshot, every).items()} == {
        k: v for k, v in oracle_names(snapshot, every).items() if v}
