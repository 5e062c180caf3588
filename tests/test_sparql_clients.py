"""Real SPARQL clients get correct answers: SPARQLWrapper, rdflib's SPARQLStore, Comunica.

Issue 12: SPARQLWrapper sends its own `format` parameters beside a right `Accept` (`format=n3`;
`format=json-ld&format=application/ld+json,application/x-json+ld`); a `format` that names
nothing on offer falls back to `Accept`, so every format each client offers works, for every
query form it applies to, over GET and POST, in this process and against a real `ketju serve`
(marked slow)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import warnings
from collections.abc import Callable
from typing import Any
from xml.dom.minidom import Document

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)

from tests.servers import InProcessServer, Served, Server
from tests.tools import npm_tool

KELA = "https://w3id.org/ketju/id/national/producer/kela"
LABELS = f"""SELECT ?label WHERE {{ <{KELA}>
    <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }} ORDER BY ?label"""
EXPECTED = {"Kansaneläkelaitos (Kela)", "Folkpensionsanstalten (FPA)",
            "Social Insurance Institution of Finland (Kela)"}
LANGUAGES = {"Kansaneläkelaitos (Kela)": "fi", "Folkpensionsanstalten (FPA)": "sv",
             "Social Insurance Institution of Finland (Kela)": "en"}
ASK = f"ASK {{ <{KELA}> a <https://w3id.org/ketju/ontology#Producer> }}"
CONSTRUCT = f"CONSTRUCT {{ <{KELA}> ?p ?o }} WHERE {{ <{KELA}> ?p ?o }}"
DESCRIBE = f"DESCRIBE <{KELA}>"


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    """In this process: SPARQLWrapper and rdflib call it through urllib (see tests/servers)."""
    return app_server


def test_sparqlwrapper_select_ask_construct(server: Server) -> None:
    client = SPARQLWrapper(server.sparql)
    client.setQuery(LABELS)
    client.setReturnFormat(JSON)
    rows = client.queryAndConvert()["results"]["bindings"]  # type: ignore[index]
    assert {r["label"]["value"] for r in rows} == EXPECTED
    assert {r["label"]["xml:lang"] for r in rows} == {"fi", "sv", "en"}
    client.setQuery(f"ASK {{ <{KELA}> a <https://w3id.org/ketju/ontology#Producer> }}")
    assert client.queryAndConvert()["boolean"] is True  # type: ignore[index]
    client.setQuery(f"CONSTRUCT {{ <{KELA}> ?p ?o }} WHERE {{ <{KELA}> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = Graph().parse(data=client.queryAndConvert(), format="turtle")  # type: ignore[arg-type]
    assert (URIRef(KELA), None, None) in graph
    client.setMethod("POST")
    client.setQuery(LABELS)
    client.setReturnFormat(JSON)
    assert len(client.queryAndConvert()["results"]["bindings"]) == 3  # type: ignore[index]


def test_rdflib_sparqlstore(server: Server) -> None:
    graph = Graph(store=SPARQLStore(server.sparql, returnFormat="json"))
    labels = {str(row.label) for row in graph.query(LABELS)}  # type: ignore[union-attr]
    assert labels == EXPECTED
    producers = set(graph.subjects(
        URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        URIRef("https://w3id.org/ketju/ontology#Producer")))
    assert URIRef(KELA) in producers


@pytest.mark.slow
def test_comunica_command_line(real_server: Server) -> None:
    comunica = npm_tool("@comunica/query-sparql@4", "comunica-sparql")
    done = subprocess.run(
        [str(comunica), f"sparql@{real_server.sparql}", LABELS, "-t",
         "application/sparql-results+json"],
        capture_output=True, text=True, timeout=120, check=True)
    rows = json.loads(done.stdout)["results"]["bindings"]
    assert {r["label"]["value"] for r in rows} == EXPECTED


# -- every format each client offers (issue 12) ------------------------------------------------

@pytest.fixture(scope="module", params=["in-process", pytest.param("real", marks=pytest.mark.slow)])
def endpoint(request: pytest.FixtureRequest) -> Served:
    """The example catalogue's server: in this process, and (slow) a real `ketju serve`."""
    return request.getfixturevalue(  # type: ignore[no-any-return]
        "real_server" if request.param == "real" else "app_server")


def wrapper(served: Served, query: str, fmt: str, method: str) -> Any:
    """What SPARQLWrapper gives for `query` in `fmt`, failing on any warning it raises (it
    warns when the answer is not in the format asked for)."""
    client = SPARQLWrapper(served.sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return client.queryAndConvert()


def store_graph(served: Served, query: str) -> Graph:
    """The graph a CONSTRUCT or DESCRIBE gives over the plain protocol (Accept only)."""
    answer = served.get(served.sparql, params={"query": query},
                        headers={"Accept": "application/n-triples"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return Graph().parse(data=answer.text, format="nt")


def labels_of_xml(document: Document) -> dict[str, str]:
    return {node.firstChild.data: node.getAttribute("xml:lang")  # type: ignore[union-attr]
            for node in document.getElementsByTagName("literal")}


def labels_of_csv(body: bytes) -> dict[str, str]:
    return {row["label"]: "" for row in csv.DictReader(io.StringIO(body.decode("utf-8")))}


def labels_of_tsv(body: bytes) -> dict[str, str]:
    """TSV cells are Turtle terms: `"Kansaneläkelaitos (Kela)"@fi`."""
    lines = body.decode("utf-8").splitlines()
    assert lines[0] == "?label"
    return {cell.rsplit("@", 1)[0][1:-1]: cell.rsplit("@", 1)[1] for cell in lines[1:]}


def labels_of_json(answer: dict[str, Any]) -> dict[str, str]:
    return {row["label"]["value"]: row["label"]["xml:lang"]
            for row in answer["results"]["bindings"]}


SELECT_READERS: dict[str, Callable[[Any], dict[str, str]]] = {
    JSON: labels_of_json, XML: labels_of_xml, CSV: labels_of_csv, TSV: labels_of_tsv}


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_in_every_results_format(endpoint: Served, fmt: str,
                                                      method: str) -> None:
    labels = SELECT_READERS[fmt](wrapper(endpoint, LABELS, fmt, method))
    assert set(labels) == EXPECTED
    if fmt != CSV:  # CSV carries no language tags (SPARQL 1.1 CSV/TSV results)
        assert labels == LANGUAGES


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [JSON, XML])
def test_sparqlwrapper_ask(endpoint: Served, fmt: str, method: str) -> None:
    answer = wrapper(endpoint, ASK, fmt, method)
    if fmt == JSON:
        assert answer["boolean"] is True
    else:
        assert answer.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("method", [GET, POST])
@pytest.mark.parametrize("fmt", [JSONLD, N3, TURTLE, XML, RDFXML])
@pytest.mark.parametrize("query", [CONSTRUCT, DESCRIBE], ids=["construct", "describe"])
def test_sparqlwrapper_graphs_in_every_rdf_format(endpoint: Served, query: str, fmt: str,
                                                  method: str) -> None:
    """JSON-LD and N3 answered 406 before issue 12 (their `format` values override Accept)."""
    answer = wrapper(endpoint, query, fmt, method)
    graph = answer if isinstance(answer, Graph) else Graph().parse(data=answer, format="turtle")
    expected = store_graph(endpoint, query)
    assert len(expected) > 10 and isomorphic(graph, expected)


@pytest.mark.parametrize("return_format", ["json", "xml", "csv", "tsv"])
def test_rdflib_sparqlstore_select_and_ask(endpoint: Served, return_format: str) -> None:
    graph = Graph(store=SPARQLStore(endpoint.sparql, returnFormat=return_format))
    labels = [row.label for row in graph.query(LABELS)]  # type: ignore[union-attr]
    assert {str(label) for label in labels} == EXPECTED
    if return_format != "csv":
        assert {str(label): label.language for label in labels} == LANGUAGES  # type: ignore[union-attr]
    if return_format in ("json", "xml"):  # the boolean formats of SPARQL 1.1 results
        assert graph.query(ASK).askAnswer is True


@pytest.mark.parametrize("return_format", ["xml", "turtle", "json-ld", "nt",
                                           "application/rdf+xml"])
def test_rdflib_sparqlstore_construct(endpoint: Served, return_format: str) -> None:
    """Every return format of SPARQLStore whose Accept names an RDF format (its "json" asks
    for application/sparql-results+json alone, which no graph is written in: 406 from any
    engine)."""
    store = Graph(store=SPARQLStore(endpoint.sparql, returnFormat=return_format))
    constructed = store.query(CONSTRUCT).graph
    assert constructed is not None and isomorphic(constructed, store_graph(endpoint, CONSTRUCT))
    assert (URIRef(KELA), None, Literal("Folkpensionsanstalten (FPA)", lang="sv")) \
        in constructed


# -- the protocol underneath: `format` falls back to Accept ------------------------------------

@pytest.mark.parametrize(("query", "params", "accept", "media_type"), [
    # SPARQLWrapper's JSON-LD and N3 requests, as sent.
    (CONSTRUCT, [("format", "json-ld"), ("format", "application/ld+json,application/x-json+ld")],
     "application/ld+json,application/x-json+ld", "application/ld+json"),
    (CONSTRUCT, [("format", "n3"), ("output", "n3"), ("results", "n3")],
     "application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3",
     "text/turtle"),
    # A format that names something on offer still wins over Accept.
    (LABELS, [("format", "csv")], "application/sparql-results+xml", "text/csv"),
    (CONSTRUCT, [("format", "nt")], "text/turtle", "application/n-triples"),
    # One that names nothing on offer (here: a results format for a graph) gives way.
    (CONSTRUCT, [("format", "csv")], "application/rdf+xml", "application/rdf+xml"),
    (LABELS, [("format", "turtle")], "text/tab-separated-values", "text/tab-separated-values"),
    (LABELS, [("format", "nope")], None, "application/sparql-results+json"),
])
def test_a_format_that_names_nothing_on_offer_falls_back_to_accept(
        server: InProcessServer, query: str, params: list[tuple[str, str]], accept: str | None,
        media_type: str) -> None:
    headers = {"Accept": accept} if accept else {}
    for answer in (server.get(server.sparql, params=[("query", query), *params], headers=headers),
                   server.post(server.sparql, data={"query": query, **dict(params)},
                               headers=headers)):
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].split(";")[0] == media_type


def test_406_only_when_accept_cannot_be_met_either(server: InProcessServer) -> None:
    refused = server.get(server.sparql, params={"query": CONSTRUCT, "format": "csv"},
                         headers={"Accept": "application/sparql-results+json"})
    assert refused.status_code == 406 and "available" in refused.text
    described = server.get(server.sparql, params={"format": "n3"},
                           headers={"Accept": "text/turtle"})
    assert described.status_code == 200
    assert described.headers["content-type"].startswith("text/turtle")
    page = server.get(server.sparql, params={"format": "n3"}, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(("path", "accept", "media_type"), [
    ("/id/national/producer/kela", "text/turtle", "text/turtle"),
    ("/id/national/producer/kela", "text/html", "text/html"),
    ("/feeds/cpsv-ap", "application/n-triples", "application/n-triples"),
    ("/catalog", "application/ld+json", "application/ld+json"),
    ("/search?q=lonkka", "application/json", "application/json"),
    ("/api/queries/class-coverage", "text/csv", "text/csv"),
    ("/api/observations?region=lappi", "text/csv", "text/csv"),
    ("/graph-store?graph=https://w3id.org/ketju/graph/data/national/producers.ttl",
     "application/ld+json", "application/ld+json"),
    ("/feeds/ldes", "application/n-triples", "application/n-triples"),
    ("/feeds/ldes", "text/html", "text/turtle"),  # a browser gets Turtle, format or not
])
def test_every_route_that_reads_format_falls_back_to_accept(
        server: InProcessServer, path: str, accept: str, media_type: str) -> None:
    joiner = "&" if "?" in path else "?"
    answer = server.get(f"{server.base}{path}{joiner}format=n3", headers={"Accept": accept})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].split(";")[0] == media_type
