"""Remote mode: ketju in front of a real Oxigraph server gives the embedded answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from ketju.core.project import Project
from ketju.core.queries import example_values, load_queries
from ketju.infra.sparql.analysis import analyse
from ketju.infra.store import EmbeddedCatalogue, RemoteCatalogue
from tests.servers import Server, ketju_server, oxigraph_server

#: Real servers: ketju in remote mode over the Oxigraph server.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oxigraph(built_project: Project, server_logs: Path) -> Iterator[Server]:
    with oxigraph_server(built_project.store_link.resolve(), server_logs) as running:
        yield running


@pytest.fixture(scope="module")
def servers(built_project: Project, server_logs: Path,
            oxigraph: Server) -> Iterator[tuple[Server, Server]]:
    with ketju_server(built_project.root, server_logs) as embedded, \
            ketju_server(built_project.root, server_logs,
                         sparql_endpoint=oxigraph.base + "/query") as remote:
        yield embedded, remote


def answer_set(response: httpx.Response) -> set[tuple[tuple[str, str], ...]]:
    assert response.status_code == 200, response.text
    rows = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in rows.variables]  # type: ignore[union-attr]
    return {tuple((n, str(row[n])) for n in names) for row in rows}  # type: ignore[union-attr]


def test_every_named_query_gives_the_embedded_answer(built_project: Project,
                                                     oxigraph: Server) -> None:
    """Each query of queries/, with its declared example parameters bound, answers the same
    from the embedded store and from a real Oxigraph server."""
    embedded = EmbeddedCatalogue.open(built_project)
    remote = RemoteCatalogue(oxigraph.base + "/query")
    queries = load_queries(built_project.queries_dir)
    assert len(queries) >= 15
    for query in queries.values():
        bindings = query.bindings(example_values(query))
        if analyse(query.body).form == "CONSTRUCT":
            ours = {str(t) for t in embedded.construct(query.body, bindings)}
            theirs = {str(t) for t in remote.construct(query.body, bindings)}
        else:
            ours = rows_set(embedded.select(query.body, bindings))
            theirs = rows_set(remote.select(query.body, bindings))
        assert ours == theirs, query.name
        if query.name != "goals-without-indicators":
            assert ours, f"{query.name} answers nothing on the example data"
    remote.close()


def rows_set(rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]],
             ) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted((k, str(v)) for k, v in row.items())) for row in rows}


def test_catalogue_binds_parameters_the_same_way(built_project: Project,
                                                 oxigraph: Server) -> None:
    embedded = EmbeddedCatalogue.open(built_project)
    remote = RemoteCatalogue(oxigraph.base + "/query")
    # pyoxigraph binds only variables the SELECT projects; named queries follow that rule.
    query = """SELECT ?entity ?lang ?label WHERE {
        ?entity <http://www.w3.org/2004/02/skos/core#prefLabel> ?label
        FILTER(LANG(?label) = ?lang) }"""
    bindings = {"entity": ox.NamedNode("https://w3id.org/ketju/id/national/producer/kela"),
                "lang": ox.Literal("fi")}
    assert embedded.select(query, bindings) == remote.select(query, bindings)
    hostile = {"entity": ox.NamedNode("https://w3id.org/ketju/id/national/producer/kela"),
               "lang": ox.Literal('fi") } UNION { ?entity ?p ?label FILTER("x')}
    assert embedded.select(query, hostile) == remote.select(query, hostile) == []
    assert remote.graph_exists(built_project.data_files()[0].graph)
    assert sorted(remote.named_graphs()) == sorted(embedded.named_graphs())
    # Which build the engine holds is read in the background (never in a request's way).
    assert remote.ready.wait(30) and remote.build_info()["triples"] > 10_000
    remote.close()


def test_remote_mode_serves_protocol_and_graph_store(servers: tuple[Server, Server]) -> None:
    _, remote = servers
    capped = remote.get(remote.sparql, params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert capped.headers["x-ketju-capped"] == "true"
    assert len(capped.json()["results"]["bindings"]) == 10_000
    refused = remote.post(remote.sparql, data={"update": "DROP ALL"})
    assert refused.status_code == 403
    service = remote.get(remote.sparql, params={
        "query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert service.status_code == 400
    graph = "https://w3id.org/ketju/graph/data/national/producers.ttl"
    store = remote.get(remote.base + "/graph-store", params={"graph": graph},
                      headers={"Accept": "application/n-triples"})
    assert store.status_code == 200 and "producer/kela" in store.text
    health = remote.get(remote.base + "/healthz").json()
    assert health["mode"] == "remote" and health["build"]["triples"] > 10_000
    description = remote.get(remote.sparql, headers={"Accept": "text/turtle"})
    assert description.status_code == 200 and graph in description.text
