"""Search (`ketju.infra.search`): the FTS5 index built from a store, and ranked, filtered
queries."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core import namespaces as ns
from ketju.core.project import Project
from ketju.infra import search
from ketju.infra.search import SearchResults, build_index, normalise

HIP_FRACTURE_CHAINS = {
    "https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma",
    "https://w3id.org/ketju/id/pohjois-savo/chain/lonkkamurtuma",
    "https://w3id.org/ketju/id/pohjois-pohjanmaa/chain/lonkkamurtuma",
}
HIP_REPLACEMENT_CHAIN = "https://w3id.org/ketju/id/pirkanmaa/chain/lonkkaproteesi"
P5_6 = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P5.6"

HOSTILE = [
    '"',
    'lonkka" OR "x',
    "NEAR(a b)",
    "*",
    "a:b",
    "(((",
    "x" * 500,
    "'; DROP TABLE x; --",
    "lonkka OR murtuma",
    "-lonkka",
    "l_fi : lonkka",
    "{l_fi} : lonkka",
    "lonkk*",
    "^lonkka",
    "lonkka AND NOT x",
    "\x00\n\t\u2028",
]


@pytest.fixture(scope="module")
def index(built_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = ox.Store.read_only(str(built_project.store_link.resolve()))
    path = tmp_path_factory.mktemp("search") / search.INDEX_FILE
    assert build_index(store, path) > 500
    return path


def iris(results: SearchResults) -> list[str]:
    return [hit.iri for hit in results.hits]


def test_index_holds_every_kind_of_entity(index: Path) -> None:
    with sqlite3.connect(index) as connection:
        kinds = {kind for (kind,) in connection.execute("SELECT DISTINCT kind FROM entity")}
        (entities,) = connection.execute("SELECT value FROM meta WHERE key = 'entities'")
        (rows,) = connection.execute("SELECT count(*) FROM entity")
    assert int(entities[0]) == rows[0]
    assert {"ServicePackage", "ServiceChain", "Service", "Producer", "Organiser", "Interface",
            "Goal", "Indicator", "DataSource", "CustomerSegment", "SteeringMeasure",
            "ServiceTask", "ServiceClass", "ServiceLevel"} <= kinds
    assert "ChainStep" not in kinds and "Transition" not in kinds


def test_word_prefix_finds_the_hip_fracture_chains_first(index: Path) -> None:
    results = search.search(index, "lonkk", limit=50)
    assert HIP_FRACTURE_CHAINS | {HIP_REPLACEMENT_CHAIN} <= set(iris(results))
    assert results.total >= len(results.hits) >= 4
    assert all(hit.kind == "ServiceChain" for hit in results.hits[:4])
    assert all(hit.label.startswith("Lonkka") for hit in results.hits[:4])
    kinds = [hit.kind for hit in results.hits]
    if "Service" in kinds:  # chains before services
        assert max(i for i, k in enumerate(kinds) if k == "ServiceChain") < kinds.index("Service")
    assert [hit.score for hit in results.hits] == sorted(
        (hit.score for hit in results.hits), reverse=True)
    first = results.hits[0]
    assert first.label_lang == "fi" and first.region in {
        "varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa", "pirkanmaa"}
    assert first.snippet and len(first.snippet) <= search.SNIPPET_CHARS + 1


@pytest.mark.parametrize("variant", ["LONKKA", "Lonkka", "lönkkä", "LÖNKKÄ", "lonkká", " lonkka "])
def test_case_and_diacritics_do_not_matter(index: Path, variant: str) -> None:
    expected = search.search(index, "lonkka", limit=100)
    results = search.search(index, variant, limit=100)
    assert results.total == expected.total
    assert iris(results) == iris(expected)
    assert set(iris(results)) >= HIP_FRACTURE_CHAINS


def test_infix_finds_words_inside_compounds_below_word_starts(index: Path) -> None:
    results = search.search(index, "murtuma", limit=100)
    found = {hit.iri: hit for hit in results.hits}
    assert set(found) >= HIP_FRACTURE_CHAINS
    # "Lonkkamurtumapotilaan ...": inside a word, so tier 2 (score in [1, 2)).
    assert all(1 <= found[iri].score < 2 for iri in HIP_FRACTURE_CHAINS)
    # A label with a word starting "murtuma" ("... murtumat ...") ranks above them.
    word_starts = [hit for hit in results.hits if 2 <= hit.score < 3]
    assert word_starts and "murtum" in normalise(word_starts[0].label)


def test_swedish_query_gives_swedish_labels(index: Path) -> None:
    results = search.search(index, "höftfraktur", lang="sv", limit=50)
    found = {hit.iri: hit for hit in results.hits}
    assert set(found) >= HIP_FRACTURE_CHAINS
    for iri in HIP_FRACTURE_CHAINS:
        assert found[iri].label_lang == "sv"
        assert "höftfraktur" in found[iri].label
    assert iris(search.search(index, "HOFTFRAKTUR", lang="sv", limit=50)) == iris(results)
    english = search.search(index, "höftfraktur", lang="en", limit=50)
    assert {hit.label_lang for hit in english.hits} == {"en"}


def test_kind_filter(index: Path) -> None:
    everything = search.search(index, "lonkk", limit=200)
    chains = search.search(index, "lonkk", kinds=["ServiceChain"], limit=200)
    assert {hit.kind for hit in chains.hits} == {"ServiceChain"}
    assert chains.total == sum(hit.kind == "ServiceChain" for hit in everything.hits)
    assert set(iris(chains)) >= HIP_FRACTURE_CHAINS
    two = search.search(index, "lonkk", kinds=["ServiceChain", "Goal"], limit=200)
    assert {hit.kind for hit in two.hits} == {"ServiceChain", "Goal"}
    assert two.total == sum(hit.kind in {"ServiceChain", "Goal"} for hit in everything.hits)
    assert search.search(index, "lonkk", kinds=["NoSuchKind"]).total == 0


def test_region_filter(index: Path) -> None:
    results = search.search(index, "lonkk", region="pirkanmaa", limit=200)
    assert results.total >= 1
    assert {hit.region for hit in results.hits} == {"pirkanmaa"}
    assert HIP_REPLACEMENT_CHAIN in iris(results)
    both = search.search(index, "lonkk", region="pohjois-savo", kinds=["ServiceChain"])
    assert iris(both) == ["https://w3id.org/ketju/id/pohjois-savo/chain/lonkkamurtuma"]
    assert search.search(index, "lonkk", region="atlantis").total == 0


def test_jhs183_service_class(index: Path) -> None:
    results = search.search(index, "Erikoissairaanhoito")
    found = {hit.iri: hit for hit in results.hits}
    assert P5_6 in found
    assert found[P5_6].kind == "ServiceClass" and found[P5_6].region is None
    assert found[P5_6].score >= 3  # the whole label: the first tier
    assert iris(search.search(index, "erikoissairaanhoito", kinds=["ServiceClass"]))[0] == P5_6
    assert iris(search.search(index, "P5.6"))[0] == P5_6  # its notation


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_are_plain_text(index: Path, query: str) -> None:
    results = search.search(index, query)
    assert isinstance(results, SearchResults)
    assert results.total >= len(results.hits)


def test_operators_keep_no_meaning(index: Path) -> None:
    # Quotes and OR are text: every word must match, so no more than for "lonkka" alone.
    assert search.search(index, 'lonkka" OR "x').total <= search.search(index, "lonkka").total
    assert search.search(index, "lonkka OR x").total == search.search(index, "lonkka or x").total
    assert search.search(index, "*").total == 0
    assert search.search(index, "lonkk*").total == search.search(index, "lonkk").total
    assert search.search(index, "'; DROP TABLE entity; --").total == 0
    assert search.search(index, "lonkk").total > 0  # the index is intact


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "—", "?!"])
def test_empty_queries_find_nothing(index: Path, query: str) -> None:
    assert search.search(index, query) == SearchResults(0, [])


def test_paging_is_consistent(index: Path) -> None:
    everything = search.search(index, "hoito", limit=search.MAX_LIMIT)
    assert 20 < everything.total <= search.MAX_LIMIT
    pages: list[str] = []
    for offset in range(0, everything.total + 10, 7):
        page = search.search(index, "hoito", limit=7, offset=offset)
        assert page.total == everything.total
        assert len(page.hits) == max(0, min(7, everything.total - offset))
        pages.extend(iris(page))
    assert pages == iris(everything)
    assert len(set(pages)) == everything.total
    assert search.search(index, "hoito", limit=0) == SearchResults(everything.total, [])
    beyond = search.search(index, "hoito", offset=everything.total + 5)
    assert beyond == SearchResults(everything.total, [])
    assert len(search.search(index, "hoito", limit=10_000).hits) <= search.MAX_LIMIT


def test_concurrent_searches(index: Path) -> None:
    queries = ["lonkk", "murtuma", "hoito", "höftfraktur", "Erikoissairaanhoito"]
    expected = {q: iris(search.search(index, q)) for q in queries}
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(10):
                for q in queries:
                    assert iris(search.search(index, q)) == expected[q]
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


TINY = """
@prefix ketju: <https://w3id.org/ketju/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://w3id.org/ketju/id/lappi/chain/vain-suomeksi> a ketju:ServiceChain ;
    skos:prefLabel "Testiketju vain suomeksi"@fi ;
    dct:description "Kuvaus, jossa on \\"lainausmerkit\\", sarkain\\tja\\nrivinvaihto."@fi .
<https://w3id.org/ketju/id/lappi/service/only-english> a ketju:Service ;
    skos:prefLabel "Testing service in English only"@en .
<https://w3id.org/ketju/id/lappi/service/bara-svenska> a ketju:Service ;
    skos:prefLabel "Testtjänst bara på svenska"@sv-FI .
<https://w3id.org/ketju/id/lappi/producer/untagged> a ketju:Producer ;
    rdfs:label "Testituottaja ilman kieltä" .
<https://w3id.org/ketju/id/lappi/chain/vain-suomeksi/step/yksi> a ketju:ChainStep ;
    skos:prefLabel "Testivaihe"@fi .
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = ox.Store()
    for graph in ("https://w3id.org/ketju/graph/a", "https://w3id.org/ketju/graph/b"):
        store.load(TINY.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))
    path = tmp_path_factory.mktemp("tiny") / search.INDEX_FILE
    assert build_index(store, path) == 4  # not the step; each entity once though in 2 graphs
    return path


@pytest.mark.parametrize(("lang", "expected"), [
    ("fi", {"vain-suomeksi": "fi", "only-english": "en", "bara-svenska": "sv", "untagged": ""}),
    ("sv", {"vain-suomeksi": "fi", "only-english": "en", "bara-svenska": "sv", "untagged": ""}),
    ("en", {"vain-suomeksi": "fi", "only-english": "en", "bara-svenska": "sv", "untagged": ""}),
])
def test_label_fallback_tells_the_language_used(
        tiny: Path, lang: str, expected: dict[str, str]) -> None:
    results = search.search(tiny, "test", lang=lang)
    assert results.total == 4
    used = {hit.iri.rsplit("/", 1)[1]: hit.label_lang for hit in results.hits}
    assert used == expected


def test_fallback_order(tiny: Path) -> None:
    # fi -> en -> sv: a Swedish-only label is shown when asking for Finnish or English.
    hit = search.search(tiny, "testtjanst", lang="en").hits[0]
    assert (hit.label, hit.label_lang) == ("Testtjänst bara på svenska", "sv")
    hit = search.search(tiny, "testing", lang="sv").hits[0]
    assert (hit.label, hit.label_lang) == ("Testing service in English only", "en")


def test_texts_keep_their_original_spelling(tiny: Path) -> None:
    hit = search.search(tiny, "lainausmerkit").hits[0]
    assert hit.label == "Testiketju vain suomeksi"
    assert hit.snippet == 'Kuvaus, jossa on "lainausmerkit", sarkain ja rivinvaihto.'
    assert hit.region == "lappi" and hit.score < 1  # found in the description only


def test_rebuilt_index_replaces_the_old_one(tiny: Path, tmp_path: Path) -> None:
    path = tmp_path / search.INDEX_FILE
    store = ox.Store()
    store.load(TINY.encode(), format=ox.RdfFormat.TURTLE)
    build_index(store, path)
    assert search.search(path, "testiketju").total == 1
    store.remove(ox.Quad(ox.NamedNode("https://w3id.org/ketju/id/lappi/chain/vain-suomeksi"),
                         ox.NamedNode(ns.RDF_TYPE),
                         ox.NamedNode(ns.ONTOLOGY + "ServiceChain")))
    assert build_index(store, path) == 3
    assert search.search(path, "testiketju").total == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [search.INDEX_FILE]


def test_normalise() -> None:
    assert normalise("Lönkkä") == "lonkka"
    assert normalise("ÅÄÖ åäö") == "aao aao"
    assert normalise("Straße") == "strasse"
    assert normalise("Ŝŧŗäñğé") == "sŧrange"  # ŧ has no decomposition: kept
    assert search.words("Lonkkamurtumapotilaan hoito- ja kuntoutusketju (v2)") == [
        "lonkkamurtumapotilaan", "hoito", "ja", "kuntoutusketju", "v2"]
