"""Real SPARQL clients get correct answers: SPARQLWrapper, rdflib's SPARQLStore, Comunica."""

from __future__ import annotations

import json
import subprocess

import pytest
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, TURTLE, SPARQLWrapper

from tests.servers import InProcessServer, Server
from tests.tools import npm_tool

KELA = "https://w3id.org/ketju/id/national/producer/kela"
LABELS = f"""SELECT ?label WHERE {{ <{KELA}>
    <http://www.w3.org/2004/02/skos/core#prefLabel> ?label }} ORDER BY ?label"""
EXPECTED = {"Kansaneläkelaitos (Kela)", "Folkpensionsanstalten (FPA)",
            "Social Insurance Institution of Finland (Kela)"}


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
