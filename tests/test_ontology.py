"""The ontology and the vocabularies: every term labelled and defined, aligned with standards."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import ONTOLOGY, PREFIXES, VOCAB
from tests.conftest import ROOT, ontology_paths, store_of


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return store_of(ontology_paths())


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    prefixes = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())
    rows = store.query(prefixes + query, use_default_graph_as_union=True)
    return [{v.value: row[v.value].value for v in rows.variables if row[v.value] is not None}
            for row in rows]


def test_every_ontology_term_has_labels_and_definitions(store: ox.Store) -> None:
    terms = select(store, f"""
        SELECT DISTINCT ?term WHERE {{
            ?term a ?kind . VALUES ?kind {{ owl:Class owl:ObjectProperty owl:DatatypeProperty
                                            owl:AnnotationProperty }}
            FILTER(STRSTARTS(STR(?term), "{ONTOLOGY}")) }}""")
    assert len(terms) > 100
    missing = select(store, f"""
        SELECT DISTINCT ?term ?need WHERE {{
            ?term a ?kind . VALUES ?kind {{ owl:Class owl:ObjectProperty owl:DatatypeProperty
                                            owl:AnnotationProperty }}
            FILTER(STRSTARTS(STR(?term), "{ONTOLOGY}"))
            VALUES (?need ?p ?lang) {{
                ("label fi" rdfs:label "fi") ("label sv" rdfs:label "sv")
                ("label en" rdfs:label "en")
                ("definition fi" skos:definition "fi") ("definition en" skos:definition "en") }}
            FILTER NOT EXISTS {{ ?term ?p ?text FILTER(LANG(?text) = ?lang) }} }}""")
    assert missing == []


@pytest.mark.parametrize(("term", "standard"), [
    ("Service", "cpsv:PublicService"),
    ("Organiser", "cv:PublicOrganisation"),
    ("Organiser", "org:Organization"),
    ("Producer", "org:Organization"),
    ("CustomerSegment", "skos:Concept"),
    ("IndicatorObservation", "qb:Observation"),
])
def test_classes_align_with_standards(store: ox.Store, term: str, standard: str) -> None:
    prefix, local = standard.split(":")
    assert store.query(f"ASK {{ <{ONTOLOGY}{term}> <{PREFIXES['rdfs']}subClassOf> "
                       f"<{PREFIXES[prefix]}{local}> }}", use_default_graph_as_union=True)


def test_chain_order_is_plain_sparql_not_rdf_lists(store: ox.Store) -> None:
    for prop, kind in [
        ("position", "DatatypeProperty"), ("followedBy", "ObjectProperty"),
        ("parallelWith", "SymmetricProperty"), ("alternativeTo", "SymmetricProperty"),
        ("optional", "DatatypeProperty"),
    ]:
        assert store.query(f"ASK {{ ketju:{prop} a owl:{kind} }}",
                           prefixes=PREFIXES, use_default_graph_as_union=True), prop
    assert not select(store, "SELECT ?p WHERE { ?p rdfs:range rdf:List }")


def test_every_concept_is_in_an_existing_scheme_with_three_labels(store: ox.Store) -> None:
    problems = select(store, """
        SELECT ?c ?problem WHERE {
            ?c a skos:Concept .
            { FILTER NOT EXISTS { ?c skos:inScheme ?s } BIND("no scheme" AS ?problem) }
            UNION { ?c skos:inScheme ?s FILTER NOT EXISTS { ?s a skos:ConceptScheme }
                    BIND("scheme not declared" AS ?problem) }
            UNION { VALUES ?lang { "fi" "sv" "en" }
                    FILTER NOT EXISTS { ?c skos:prefLabel ?l FILTER(LANG(?l) = ?lang) }
                    BIND(CONCAT("no label ", ?lang) AS ?problem) } }""")
    assert problems == []


def test_project_concepts_are_defined_in_finnish_and_english(store: ox.Store) -> None:
    missing = select(store, f"""
        SELECT ?c ?lang WHERE {{ ?c a skos:Concept . FILTER(STRSTARTS(STR(?c), "{VOCAB}"))
            FILTER(!STRSTARTS(STR(?c), "{VOCAB}region/"))
            VALUES ?lang {{ "fi" "en" }}
            FILTER NOT EXISTS {{ ?c skos:definition ?d FILTER(LANG(?d) = ?lang) }} }}""")
    assert missing == []


@pytest.mark.parametrize(("scheme", "codes"), [
    ("service-level", {"hyte", "basic", "extended-basic", "specialised", "most-demanding"}),
    ("transition-kind", {"referral", "consultation", "direct-booking", "information-transfer"}),
    ("steering-means", {"norm", "information", "resource", "dialogue", "contract",
                        "owner-strategic", "finance-results"}),
    ("integration-form", {"case-manager", "process-organisation", "shared-premises-teams"}),
    ("segment-kind", {"permanent", "changing"}),
])
def test_vocabulary_codes(store: ox.Store, scheme: str, codes: set[str]) -> None:
    rows = select(store, f"SELECT ?c WHERE {{ ?c skos:inScheme <{VOCAB}{scheme}> }}")
    assert {r["c"].rsplit("/", 1)[1] for r in rows} == codes


def test_service_levels_are_ranked_light_to_heavy(store: ox.Store) -> None:
    rows = select(store, f"""SELECT ?c ?rank WHERE {{ ?c skos:inScheme <{VOCAB}service-level> ;
        ketju:rank ?rank }} ORDER BY ?rank""")
    assert [r["c"].rsplit("/", 1)[1] for r in rows] == [
        "hyte", "basic", "extended-basic", "specialised", "most-demanding"]


def test_segmentation_models_of_the_handbook(store: ox.Store) -> None:
    rows = select(store, """SELECT ?model (COUNT(?s) AS ?n) WHERE {
        ?model a ketju:SegmentationModel . ?s skos:inScheme ?model } GROUP BY ?model""")
    sizes = {r["model"].rsplit("/", 1)[1]: int(r["n"]) for r in rows}
    assert sizes["segmentation-moisanen-virta-2018"] == 4
    assert sizes["segmentation-lynn-2007"] == 4
    assert sizes["segmentation-koivisto-2020-need"] == 2
    assert len(sizes) == 9


def test_own_producers_are_steered_by_ownership_private_by_contract(store: ox.Store) -> None:
    rows = select(store, f"""SELECT ?type ?means WHERE {{
        ?type ketju:primarySteeringMeans ?means FILTER(STRSTARTS(STR(?type), "{VOCAB}")) }}""")
    pairs = {(r["type"].rsplit("/", 1)[1], r["means"].rsplit("/", 1)[1]) for r in rows}
    assert ("own-production", "owner-strategic") in pairs
    assert ("private-contracted", "contract") in pairs


def test_generated_files_cite_their_sources() -> None:
    for path in (ROOT / "ontology" / "generated").glob("*.ttl"):
        head = path.read_text(encoding="utf-8")[:1500]
        assert "ketju codelists" in head and "commit" in head.lower(), path.name
