"""The CPSV-AP 3.2.0 feed: the export of the example data, checked against the data itself and
against the official SHACL shapes of CPSV-AP 3.2.0 with pySHACL (zero violations), served by
`GET /feeds/cpsv-ap` (embedded and remote) and written by `ketju export cpsv-ap`.

The shapes are `standards/cpsv-ap/cpsv-ap-SHACL.ttl`, a byte-for-byte copy of SEMICeu/CPSV-AP
`releases/3.2.0/shacl/cpsv-ap-SHACL.ttl` (master @ e37f5e19; see standards/cpsv-ap/SOURCE.txt).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from ketju.core.project import Project
from ketju.infra.feeds import cpsv
from ketju.infra.store import EmbeddedCatalogue
from tests.conftest import ROOT
from tests.servers import InProcessServer, Server, ketju_server, oxigraph_server

SHAPES = ROOT / "standards" / "cpsv-ap" / "cpsv-ap-SHACL.ttl"
CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
DCT = Namespace("http://purl.org/dc/terms/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
KETJU = Namespace("https://w3id.org/ketju/ontology#")
ID = "https://w3id.org/ketju/id/"
FINLAND = URIRef("http://publications.europa.eu/resource/authority/country/FIN")
PARSE = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
MEDIA = {"turtle": "text/turtle", "ntriples": "application/n-triples",
         "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}
PREFIXES = """PREFIX ketju: <https://w3id.org/ketju/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX cv: <http://data.europa.eu/m8g/>
"""


@pytest.fixture(scope="module")
def catalogue(built_project: Project) -> EmbeddedCatalogue:
    return EmbeddedCatalogue.open(built_project)


@pytest.fixture(scope="module")
def export(built_project: Project) -> Graph:
    """The export the build wrote (N-Triples)."""
    path = cpsv.feed_file(built_project.store_link.resolve(), "ntriples")
    return Graph().parse(path, format="nt")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(SHAPES, format="turtle")


def pairs(catalogue: EmbeddedCatalogue, query: str) -> dict[str, set[str]]:
    """{?a: {?b, ...}} from a two-variable SELECT over the store."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in catalogue.select(PREFIXES + query):
        found[row["a"].value].add(row["b"].value)
    return found


def violations(data: Graph, shapes: Graph) -> tuple[bool, list[str]]:
    conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, inference="none")
    sh = Namespace("http://www.w3.org/ns/shacl#")
    results = []
    for result in report.subjects(RDF.type, sh.ValidationResult):
        results.append(" ".join(f"{p.split('#')[-1]}={report.value(result, p)}" for p in (
            sh.focusNode, sh.resultPath, sh.sourceConstraintComponent, sh.resultMessage)))
    return bool(conforms), results


# --- The export of the example data ----------------------------------------------------------


def test_build_wrote_every_format_and_counted_the_services(built_project: Project,
                                                           export: Graph) -> None:
    folder = built_project.store_link.resolve()
    manifest = json.loads((folder / "build.json").read_text("utf-8"))
    services = set(export.subjects(RDF.type, CPSV.PublicService))
    assert manifest["cpsv_ap_services"] == len(services) > 50
    assert manifest["cpsv_ap_triples"] == len(export)
    for fmt, syntax in PARSE.items():
        graph = Graph().parse(cpsv.feed_file(folder, fmt), format=syntax)
        assert len(graph) == len(export), fmt


def test_the_file_is_what_the_catalogue_gives(built_project: Project,
                                              catalogue: EmbeddedCatalogue) -> None:
    """The build's file and a fresh computation (as in remote mode) agree line for line, and
    the order is stable (subjects together, so the Turtle is readable)."""
    computed = cpsv.cpsv_graph(catalogue)
    path = cpsv.feed_file(built_project.store_link.resolve(), "ntriples")
    assert cpsv.serialize(computed, "ntriples") == path.read_bytes()
    assert computed == cpsv.cpsv_graph(catalogue)
    subjects = [str(t.subject) for t in computed]
    assert subjects == sorted(subjects)


def test_every_service_is_a_public_service(catalogue: EmbeddedCatalogue,
                                           export: Graph) -> None:
    services = {row["s"].value for row in catalogue.select(
        PREFIXES + "SELECT ?s WHERE { ?s a ketju:Service }")}
    assert services == {str(s) for s in export.subjects(RDF.type, CPSV.PublicService)}
    for service in services:
        identifiers = list(export.objects(URIRef(service), DCT.identifier))
        assert identifiers == [Literal(service)], service


def test_titles_and_descriptions_in_the_languages_of_the_service(
        catalogue: EmbeddedCatalogue, export: Graph) -> None:
    labels = pairs(catalogue, "SELECT ?a (LANG(?l) AS ?b) WHERE { ?a a ketju:Service ; "
                              "skos:prefLabel ?l }")
    texts = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:Service ; dct:description ?b }")
    assert any(len(languages) == 3 for languages in labels.values())
    for service, languages in labels.items():
        titles = list(export.objects(URIRef(service), DCT.title))
        assert {t.language for t in titles if isinstance(t, Literal)} == languages, service
        descriptions = {str(d) for d in export.objects(URIRef(service), DCT.description)}
        assert descriptions == texts[service], service


def test_competent_authority_is_a_public_organisation_with_an_area(
        catalogue: EmbeddedCatalogue, export: Graph) -> None:
    organisers = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:Service ; "
                                  "ketju:organiser ?b }")
    for service, expected in organisers.items():
        authorities = {str(a) for a in export.objects(URIRef(service), CV.hasCompetentAuthority)}
        assert authorities == expected, service
        for authority in map(URIRef, authorities):
            assert (authority, RDF.type, CV.PublicOrganisation) in export
            assert any(isinstance(label, Literal) and label.language == "fi"
                       for label in export.objects(authority, SKOS.prefLabel))
            areas = list(export.objects(authority, DCT.spatial))
            assert areas and all((a, RDF.type, DCT.Location) in export for a in areas)
    # The county's own region; the workaround areas where the data has none (module docstring
    # of ketju.infra.feeds.cpsv): Finland for Kela, the county a municipality lies in.
    assert export.value(URIRef(f"{ID}etela-karjala/organiser/etela-karjala"), DCT.spatial) == \
        URIRef("https://w3id.org/ketju/vocab/region/etela-karjala")
    assert export.value(URIRef(f"{ID}national/producer/kela"), DCT.spatial) == FINLAND
    assert export.value(URIRef(f"{ID}keski-suomi/organisation/jyvaskylan-kaupunki"),
                        DCT.spatial) == URIRef("https://w3id.org/ketju/vocab/region/keski-suomi")
    assert (FINLAND, SKOS.prefLabel, Literal("Suomi", lang="fi")) in export


def test_jhs183_classes_are_thematic_areas(catalogue: EmbeddedCatalogue,
                                           export: Graph) -> None:
    classes = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:Service ; "
                               "ketju:serviceClass ?b }")
    for service, expected in classes.items():
        found = {str(c) for c in export.objects(URIRef(service), CV.thematicArea)}
        assert found == expected, service
        for concept in map(URIRef, found):
            assert (concept, RDF.type, SKOS.Concept) in export
            assert export.value(concept, SKOS.notation) is not None
            assert export.value(concept, SKOS.inScheme) == URIRef(
                "http://uri.suomi.fi/codelist/ptv/ptvserclass2")


def test_ptv_target_groups_and_life_events_where_the_data_has_them(
        catalogue: EmbeddedCatalogue, export: Graph) -> None:
    groups = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:Service . { ?a "
                              "ketju:ptvTargetGroup ?b } UNION { ?a ketju:targetSegment ?s . "
                              "?s ketju:ptvTargetGroup ?b } }")
    events = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:Service ; ketju:lifeEvent ?b }")
    assert groups and events
    for service in {str(s) for s in export.subjects(RDF.type, CPSV.PublicService)}:
        audience = {str(g) for g in export.objects(URIRef(service), DCT.audience)}
        assert audience == groups.get(service, set()), service
        grouped = {str(e) for e in export.objects(URIRef(service), CV.isGroupedBy)}
        assert grouped == events.get(service, set()), service
    for event in {URIRef(e) for found in events.values() for e in found}:
        for kind in (CV.Event, CV.LifeEvent, SKOS.Concept):
            assert (event, RDF.type, kind) in export
        assert str(export.value(event, DCT.identifier)).startswith("KE")
        assert set(export.objects(event, CV.hasRelatedService)) == {
            URIRef(s) for s, found in events.items() if str(event) in found}
    for group in {URIRef(g) for found in groups.values() for g in found}:
        assert (group, RDF.type, SKOS.Concept) in export
        assert str(export.value(group, SKOS.notation)).startswith("KR")


def test_eksote_channels(catalogue: EmbeddedCatalogue, export: Graph) -> None:
    channels = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:Service ; cv:hasChannel ?b }")
    eksote = {s: c for s, c in channels.items() if s.startswith(f"{ID}etela-karjala/")}
    assert len(eksote[f"{ID}etela-karjala/service/yhteydenotto"]) == 8
    for service, expected in eksote.items():
        assert {str(c) for c in export.objects(URIRef(service), CV.hasChannel)} == expected
        for channel in map(URIRef, expected):
            assert (channel, RDF.type, CV.Channel) in export
            assert list(export.objects(channel, DCT.identifier)) == [Literal(str(channel))]
            types = list(export.objects(channel, DCT.type))
            assert len(types) == 1 and (types[0], RDF.type, SKOS.Concept) in export
            assert str(types[0]).startswith("https://w3id.org/ketju/vocab/channel-type/")


def test_packages_and_chains_link_to_their_services(catalogue: EmbeddedCatalogue,
                                                    export: Graph) -> None:
    packages = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:ServicePackage ; "
                                "ketju:includesService ?b }")
    chains = pairs(catalogue, "SELECT ?a ?b WHERE { ?a a ketju:ServiceChain ; "
                              "ketju:hasStep/ketju:service ?b }")
    assert len(packages) >= 5 and len(chains) >= 8
    for package, services in packages.items():
        assert (URIRef(package), RDF.type, KETJU.ServicePackage) in export
        assert (URIRef(package), RDF.type, CPSV.PublicService) not in export
        parts = {str(p) for p in export.objects(URIRef(package), DCT.hasPart)}
        assert services <= parts, package
        assert {str(p) for p in export.objects(URIRef(package), KETJU.includesService)} == \
            services
    for chain, services in chains.items():
        assert (URIRef(chain), RDF.type, KETJU.ServiceChain) in export
        assert {str(p) for p in export.objects(URIRef(chain), DCT.hasPart)} == services, chain
        for step in export.objects(URIRef(chain), KETJU.hasStep):
            assert export.value(step, KETJU.service) is not None
            assert export.value(step, KETJU.position) is not None
    # Never the inverse: on a public service dct:isPartOf must point to a dcat:Dataset.
    assert not list(export.triples((None, DCT.isPartOf, None)))


def test_official_cpsv_ap_shapes_report_zero_violations(export: Graph, shapes: Graph) -> None:
    conforms, results = violations(export, shapes)
    assert conforms and not results, "\n".join(results[:20])


def _first(graph: Graph, kind: URIRef, prefix: str = "") -> URIRef:
    return sorted(s for s in graph.subjects(RDF.type, kind)
                  if isinstance(s, URIRef) and str(s).startswith(prefix))[0]


def _drop(predicate: URIRef, subject_of: Callable[[Graph], Node],
          obj: URIRef | None = None) -> Callable[[Graph], None]:
    def edit(graph: Graph) -> None:
        graph.remove((subject_of(graph), predicate, obj))
    return edit


MUTATIONS: dict[str, tuple[Callable[[Graph], None], str]] = {
    "service without description": (_drop(DCT.description, lambda g: _first(
        g, CPSV.PublicService)), "MinCount"),
    "service with two identifiers": (lambda g: g.add((_first(g, CPSV.PublicService),
                                                      DCT.identifier, Literal("x"))),
                                     "MaxCount"),
    "thematic area not a concept": (_drop(RDF.type, lambda g: URIRef(
        "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P5.6"), SKOS.Concept), "Class"),
    "area not a location": (_drop(RDF.type, lambda g: FINLAND, DCT.Location), "Class"),
    "life event without identifier": (_drop(DCT.identifier, lambda g: _first(
        g, CV.LifeEvent)), "MinCount"),
    "channel without identifier": (_drop(DCT.identifier, lambda g: _first(g, CV.Channel)),
                                   "MinCount"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_shapes_do_check_the_export(export: Graph, shapes: Graph, mutation: str) -> None:
    """Each kind the export types is really validated: breaking it gives a violation."""
    edit, component = MUTATIONS[mutation]
    broken = Graph()
    for triple in export:
        broken.add(triple)
    edit(broken)
    conforms, results = violations(broken, shapes)
    assert not conforms and any(f"{component}ConstraintComponent" in r for r in results), \
        results


def _memory_copy(project: Project) -> ox.Store:
    source = ox.Store.read_only(str(project.store_link.resolve()))
    store = ox.Store()
    store.extend(source.quads_for_pattern(None, None, None, None))
    return store


def test_a_service_without_description_gets_its_names(built_project: Project,
                                                       shapes: Graph) -> None:
    """The documented workaround: the shapes require a description; the names stand in."""
    store = _memory_copy(built_project)
    service = ox.NamedNode(f"{ID}etela-karjala/service/yhteydenotto")
    description = ox.NamedNode(str(DCT.description))
    for quad in list(store.quads_for_pattern(service, description, None, None)):
        store.remove(quad)
    triples = cpsv.cpsv_graph(cpsv.StoreReader(store))
    texts = {t.object for t in triples if t.subject == service and t.predicate == description}
    titles = {t.object for t in triples if t.subject == service
              and t.predicate == ox.NamedNode(str(DCT.title))}
    assert texts == titles and len(titles) == 3
    graph = Graph().parse(data=cpsv.serialize(triples, "ntriples"), format="nt")
    conforms, results = violations(graph, shapes)
    assert conforms, results[:10]


def test_ptv_service_id_is_an_adms_identifier(built_project: Project, shapes: Graph) -> None:
    """A PTV id does not become a second dct:identifier (the shape allows one)."""
    store = _memory_copy(built_project)
    service = ox.NamedNode(f"{ID}etela-karjala/service/yhteydenotto")
    store.add(ox.Quad(service, ox.NamedNode(str(KETJU.ptvServiceId)),
                      ox.Literal("0e6a-example"), ox.NamedNode(f"{ID}test")))
    graph = Graph().parse(data=cpsv.serialize(cpsv.cpsv_graph(cpsv.StoreReader(store)),
                                              "ntriples"), format="nt")
    adms = Namespace("http://www.w3.org/ns/adms#")
    identifier = graph.value(URIRef(service.value), adms.identifier)
    assert identifier is not None and (identifier, RDF.type, adms.Identifier) in graph
    assert graph.value(identifier, SKOS.notation) == Literal("0e6a-example")
    assert len(list(graph.objects(URIRef(service.value), DCT.identifier))) == 1
    assert len(list(graph.subjects(RDF.type, adms.Identifier))) == 1
    conforms, results = violations(graph, shapes)
    assert conforms, results[:10]


# --- GET /feeds/cpsv-ap ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


@pytest.mark.parametrize("fmt", sorted(MEDIA))
def test_feed_in_every_format(server: Server, export: Graph, fmt: str) -> None:
    response = server.get(server.base + "/feeds/cpsv-ap", headers={"Accept": MEDIA[fmt]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == MEDIA[fmt]
    assert "Accept" in response.headers["vary"]
    assert response.headers["etag"] and response.headers["last-modified"]
    graph = Graph().parse(data=response.content, format=PARSE[fmt])
    assert len(graph) == len(export)
    assert set(graph.subjects(RDF.type, CPSV.PublicService)) == set(
        export.subjects(RDF.type, CPSV.PublicService))


@pytest.mark.parametrize(("accept", "param", "media"), [
    (None, None, "text/turtle"),
    ("*/*", None, "text/turtle"),
    ("application/json", None, "application/ld+json"),
    ("text/turtle", "nt", "application/n-triples"),
    ("application/n-triples", "jsonld", "application/ld+json"),
    (None, "rdfxml", "application/rdf+xml"),
])
def test_feed_negotiation(server: Server, accept: str | None, param: str | None,
                          media: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = server.get(server.base + "/feeds/cpsv-ap", headers=headers,
                         params={"format": param} if param else {})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media


@pytest.mark.parametrize(("accept", "param"), [("image/png", None), ("text/html", None),
                                               ("image/png", "csv")])
def test_feed_refuses_what_it_cannot_give(server: Server, accept: str | None,
                                          param: str | None) -> None:
    response = server.get(server.base + "/feeds/cpsv-ap", headers={"Accept": accept or "*/*"},
                         params={"format": param} if param else {})
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_feed_etag_and_conditional_requests(server: Server) -> None:
    url = server.base + "/feeds/cpsv-ap"
    first = server.get(url, headers={"Accept": "text/turtle"})
    etag = first.headers["etag"]
    again = server.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    assert again.headers["etag"] == etag
    since = server.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    other = server.get(url, headers={"Accept": "application/n-triples", "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag
    head = server.head(url)
    assert head.status_code == 200 and not head.content
    assert int(head.headers["content-length"]) == len(first.content)


def test_feed_is_documented_in_openapi(server: Server) -> None:
    spec = server.get(server.base + "/openapi.json").json()
    operation = spec["paths"]["/feeds/cpsv-ap"]["get"]
    assert operation["tags"] == ["Feeds"] and "CPSV-AP" in operation["summary"]
    assert set(operation["responses"]["200"]["content"]) == set(MEDIA.values())
    assert "406" in operation["responses"]


@pytest.mark.slow
def test_remote_mode_computes_the_same_feed(built_project: Project, server_logs: Path,
                                            export: Graph) -> None:
    """In front of a remote SPARQL engine there is no build file: the route computes it."""
    with oxigraph_server(built_project.store_link.resolve(), server_logs) as oxigraph, \
            ketju_server(built_project.root, server_logs,
                         sparql_endpoint=oxigraph.base + "/query") as remote:
        response = remote.get(remote.base + "/feeds/cpsv-ap",
                             headers={"Accept": "application/n-triples"}, timeout=60)
        assert response.status_code == 200, response.text
        graph = Graph().parse(data=response.content, format="nt")
        assert set(graph) == set(export)
        etag = response.headers["etag"]
        assert remote.get(remote.base + "/feeds/cpsv-ap", headers={
            "Accept": "application/n-triples", "If-None-Match": etag}).status_code == 304


# --- ketju export cpsv-ap --------------------------------------------------------------------


def _cli(project: Project, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "KETJU_HOME": str(project.root)}
    return subprocess.run([sys.executable, "-m", "ketju", "export", *args], env=env,
                          capture_output=True, timeout=120)


@pytest.mark.slow
def test_cli_export_ntriples_parses(built_project: Project, export: Graph) -> None:
    done = _cli(built_project, "cpsv-ap", "--format", "ntriples")
    assert done.returncode == 0, done.stderr
    graph = Graph().parse(data=done.stdout, format="nt")
    assert set(graph) == set(export)


@pytest.mark.slow
def test_cli_export_to_a_file(built_project: Project, export: Graph, tmp_path: Path) -> None:
    target = tmp_path / "cpsv-ap.jsonld"
    done = _cli(built_project, "cpsv-ap", "--format", "jsonld", "--output", str(target))
    assert done.returncode == 0, done.stderr
    graph = Graph().parse(target, format="json-ld")
    assert len(graph) == len(export)
    turtle = _cli(built_project, "cpsv-ap")
    assert turtle.returncode == 0 and b"cpsv:PublicService" in turtle.stdout


@pytest.mark.parametrize("args", [("dcat-ap",), ("cpsv-ap", "--format", "csv")])
def test_cli_export_refuses_unknown_exports_and_formats(built_project: Project,
                                                        args: tuple[str, ...]) -> None:
    done = _cli(built_project, *args)
    assert done.returncode == 2
    assert done.stderr and not done.stdout
