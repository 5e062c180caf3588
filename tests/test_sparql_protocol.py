"""`/sparql` against every line of standards/sparql-protocol.md, on a real server.

The W3C suite preloads three one-triple graphs; ketju is read-only, so the same checks use three
of the catalogue's own graphs (one per source file).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph

from ketju.core.namespaces import graph_iri
from ketju.core.project import Project
from tests.servers import InProcessServer, Server, in_process_server

G1 = graph_iri("data/national/producers.ttl")
G2 = graph_iri("data/national/segments.ttl")
G3 = graph_iri("data/national/data-sources.ttl")
ID = "https://w3id.org/ketju/id/national/"
SUBJECTS_QUERY = "SELECT DISTINCT ?s WHERE { ?s ?p ?o }"
GRAPHS_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def server(built_project: Project) -> Iterator[InProcessServer]:
    with in_process_server(built_project, query_timeout=10) as running:
        yield running


def solutions(response: httpx.Response, var: str) -> set[str]:
    assert response.status_code == 200, response.text
    parsed = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    return {row[var].value for row in parsed if row[var] is not None}


def boolean(response: httpx.Response) -> bool:
    assert response.status_code == 200, response.text
    return bool(ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON))


def kinds_of(subjects: set[str]) -> set[str]:
    return {s.removeprefix(ID).split("/")[0] for s in subjects}


# -- queries that must succeed ----------------------------------------------------------------


def test_post_form_with_dataset_in_url(server: Server) -> None:
    response = server.post(server.sparql, params={"default-graph-uri": G1},
                          data={"query": "ASK {}"})
    assert boolean(response) is True


def test_get_with_default_graph(server: Server) -> None:
    assert boolean(server.get(server.sparql, params={"query": "ASK {}",
                                                    "default-graph-uri": G1})) is True


def test_post_direct(server: Server) -> None:
    response = server.post(server.sparql, content="ASK {}",
                          headers={"Content-Type": "application/sparql-query"})
    assert boolean(response) is True


@pytest.mark.parametrize("method", ["GET", "POST-direct"])
def test_two_default_graphs_are_merged(server: Server, method: str) -> None:
    params = [("default-graph-uri", G1), ("default-graph-uri", G2)]
    if method == "GET":
        response = server.get(server.sparql, params=[*params, ("query", SUBJECTS_QUERY)])
    else:
        response = server.post(server.sparql, params=params, content=SUBJECTS_QUERY,
                              headers={"Content-Type": "application/sparql-query"})
    assert kinds_of(solutions(response, "s")) == {"producer", "segment"}


@pytest.mark.parametrize("method", ["GET", "POST-direct"])
def test_two_named_graphs_are_visible(server: Server, method: str) -> None:
    params = [("named-graph-uri", G1), ("named-graph-uri", G2)]
    if method == "GET":
        response = server.get(server.sparql, params=[*params, ("query", GRAPHS_QUERY)])
    else:
        response = server.post(server.sparql, params=params, content=GRAPHS_QUERY,
                              headers={"Content-Type": "application/sparql-query"})
    assert solutions(response, "g") == {G1, G2}


def test_default_and_named_graphs_together(server: Server) -> None:
    query = ("SELECT ?s ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?x ?y ?z } } }")
    response = server.get(server.sparql, params=[
        ("query", query), ("default-graph-uri", G3), ("named-graph-uri", G1),
        ("named-graph-uri", G2)])
    assert kinds_of(solutions(response, "s")) == {"data-source"}
    assert solutions(response, "g") == {G1, G2}


def test_protocol_dataset_wins_over_from(server: Server) -> None:
    query = f"SELECT DISTINCT ?s FROM <{G3}> WHERE {{ ?s ?p ?o }}"
    response = server.get(server.sparql, params={"query": query, "default-graph-uri": G1})
    assert kinds_of(solutions(response, "s")) == {"producer"}
    named = f"SELECT DISTINCT ?g FROM NAMED <{G3}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = server.get(server.sparql, params={"query": named, "named-graph-uri": G1})
    assert solutions(response, "g") == {G1}


def test_default_graph_is_the_union_of_all_graphs(server: Server) -> None:
    response = server.get(server.sparql, params={"query": """SELECT ?s WHERE {
        ?s a <https://w3id.org/ketju/ontology#ServiceChain> }"""})
    assert len(solutions(response, "s")) >= 7


# -- FROM and FROM NAMED mean what SPARQL says (issue 11, point 6) ------------------------------


def test_from_a_graph_that_does_not_exist_is_an_empty_default_graph(server: Server) -> None:
    query = ("SELECT (COUNT(*) AS ?n) FROM <http://nonexistent.example/g> "
             "WHERE { ?s ?p ?o }")
    assert solutions(server.get(server.sparql, params={"query": query}), "n") == {"0"}


@pytest.mark.parametrize("query", [
    f"SELECT DISTINCT ?s FROM <{G1}> WHERE {{ ?s ?p ?o }}",
    f"select distinct ?s from<{G1}>where{{?s ?p ?o}}",
    f"PREFIX g: <{G1.rsplit('/', 1)[0]}/> SELECT DISTINCT ?s FROM g:{G1.rsplit('/', 1)[1]} "
    "WHERE { ?s ?p ?o } # a SERVICE in a comment: the parse decides",
])
def test_from_a_source_file_gives_only_its_triples(server: Server, query: str) -> None:
    assert kinds_of(solutions(server.get(server.sparql, params={"query": query}), "s")) == {
        "producer"}


def test_from_two_graphs_merges_them(server: Server) -> None:
    query = f"SELECT DISTINCT ?s FROM <{G1}> FROM <{G2}> WHERE {{ ?s ?p ?o }}"
    assert kinds_of(solutions(server.get(server.sparql, params={"query": query}), "s")) == {
        "producer", "segment"}


def test_from_named_gives_those_graphs_and_an_empty_default_graph(server: Server) -> None:
    named = f"SELECT DISTINCT ?g FROM NAMED <{G1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert solutions(server.get(server.sparql, params={"query": named}), "g") == {G1}
    default = f"ASK FROM NAMED <{G1}> WHERE {{ ?s ?p ?o }}"
    assert boolean(server.get(server.sparql, params={"query": default})) is False


def test_from_without_from_named_leaves_no_named_graphs(server: Server) -> None:
    query = f"ASK FROM <{G1}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert boolean(server.get(server.sparql, params={"query": query})) is False


def test_protocol_graphs_replace_the_whole_dataset_of_the_query(server: Server) -> None:
    # named-graph-uri alone: the default graph is empty, FROM included.
    query = f"ASK FROM <{G3}> WHERE {{ ?s ?p ?o }}"
    response = server.get(server.sparql, params={"query": query, "named-graph-uri": G1})
    assert boolean(response) is False
    # default-graph-uri alone: no named graphs, FROM NAMED included.
    query = f"ASK FROM NAMED <{G3}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = server.get(server.sparql, params={"query": query, "default-graph-uri": G1})
    assert boolean(response) is False


def test_without_any_dataset_graph_queries_see_every_named_graph(server: Server) -> None:
    response = server.get(server.sparql, params={"query": GRAPHS_QUERY})
    assert {G1, G2, G3} <= solutions(response, "g")


# -- result type follows the query form -------------------------------------------------------


@pytest.mark.parametrize(("accept", "fmt"), [
    ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/csv", ox.QueryResultsFormat.CSV),
    ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_select_in_every_results_format(server: Server, accept: str,
                                        fmt: ox.QueryResultsFormat) -> None:
    query = f"SELECT ?s ?label WHERE {{ ?s <http://www.w3.org/2004/02/skos/core#prefLabel> " \
            f"?label FILTER(STRSTARTS(STR(?s), '{ID}producer/')) }} ORDER BY ?s ?label"
    response = server.get(server.sparql, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200
    expected = "application/sparql-results+json" if "json" in accept else accept
    assert response.headers["content-type"] == f"{expected}; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    if fmt == ox.QueryResultsFormat.CSV:  # CSV loses term types, so Oxigraph will not parse it
        reader = csv.DictReader(io.StringIO(response.text))
        labels = {row["label"] for row in reader}
        rows = list(labels)
    else:
        rows = list(ox.parse_query_results(response.content, format=fmt))
        labels = {row["label"].value for row in rows}
    assert "Kansaneläkelaitos (Kela)" in labels or any("Kela" in label for label in labels)
    assert len(rows) >= 21


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml"])
def test_ask_gives_a_boolean(server: Server, accept: str) -> None:
    response = server.get(server.sparql, params={"query": "ASK { ?s ?p ?o }"},
                         headers={"Accept": accept})
    fmt = ox.QueryResultsFormat.JSON if "json" in accept else ox.QueryResultsFormat.XML
    assert bool(ox.parse_query_results(response.content, format=fmt)) is True


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    ("text/turtle", "turtle"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
])
@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
def test_graph_forms_in_every_rdf_format(server: Server, accept: str, rdflib_format: str,
                                         form: str) -> None:
    kela = f"<{ID}producer/kela>"
    query = (f"CONSTRUCT {{ {kela} ?p ?o }} WHERE {{ {kela} ?p ?o }}" if form == "CONSTRUCT"
             else f"DESCRIBE {kela}")
    response = server.get(server.sparql, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert len(graph) > 3
    assert any(str(s).endswith("/producer/kela") for s in graph.subjects())


def test_format_parameter_overrides_accept(server: Server) -> None:
    response = server.get(server.sparql, params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1",
                                                "format": "csv"},
                         headers={"Accept": "application/sparql-results+xml"})
    assert response.headers["content-type"].startswith("text/csv")


@pytest.mark.parametrize(("query", "accept"), [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "text/turtle"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "image/png"),
    ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "application/sparql-results+json"),
])
def test_nothing_acceptable_is_406(server: Server, query: str, accept: str) -> None:
    response = server.get(server.sparql, params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406
    assert "available" in response.text


def test_q_values_pick_the_preferred_format(server: Server) -> None:
    response = server.get(server.sparql, params={"query": "ASK {}"}, headers={
        "Accept": "application/sparql-results+json;q=0.5, application/sparql-results+xml"})
    assert response.headers["content-type"].startswith("application/sparql-results+xml")


# -- bad requests --------------------------------------------------------------------------------


def test_query_with_put_is_refused(server: Server) -> None:
    response = server.put(server.sparql, params={"query": "ASK {}"})
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


def test_two_queries(server: Server) -> None:
    response = server.get(server.sparql, params=[("query", "ASK {}"), ("query", "ASK {}")])
    assert response.status_code == 400
    assert "exactly one" in response.text


def test_post_text_plain(server: Server) -> None:
    response = server.post(server.sparql, content="ASK {}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


@pytest.mark.parametrize("body", [b"query=ASK%20%7B%7D", b"ASK {}"])
def test_post_without_content_type(server: Server, body: bytes) -> None:
    request = httpx.Request("POST", server.sparql, content=body)
    assert "content-type" not in request.headers
    response = server.client().send(request)
    assert response.status_code == 400
    assert "Content-Type" in response.text


def test_direct_post_in_utf16(server: Server) -> None:
    response = server.post(server.sparql, content="ASK {}".encode("utf-16"), headers={
        "Content-Type": "application/sparql-query; charset=UTF-16"})
    assert response.status_code == 415


def test_malformed_query(server: Server) -> None:
    response = server.get(server.sparql, params={"query": "ASK {"})
    assert response.status_code == 400
    assert "not valid SPARQL" in response.text


def count_triples(server: Server) -> str:
    response = server.get(server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) WHERE "
                                                         "{ GRAPH ?g { ?s ?p ?o } }"})
    return next(iter(solutions(response, "n")))


@pytest.mark.parametrize("attempt", [
    {"method": "GET", "params": {"update": "INSERT DATA { <a:a> <a:b> <a:c> }"}},
    {"method": "POST", "data": {"update": "INSERT DATA { <a:a> <a:b> <a:c> }"}},
    {"method": "POST", "content": "update=CLEAR%20ALL&update=CLEAR%20ALL",
     "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    {"method": "POST", "content": "DROP ALL",
     "headers": {"Content-Type": "application/sparql-update"}},
    {"method": "POST", "content": "DROP ALL".encode("utf-16"),
     "headers": {"Content-Type": "application/sparql-update; charset=UTF-16"}},
    {"method": "POST", "content": "INSERT DATA {",
     "headers": {"Content-Type": "application/sparql-update"}},
    {"method": "POST", "data": {"update": "WITH <a:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                "using-named-graph-uri": "a:h"}},
    {"method": "POST", "data": {"query": "CLEAR ALL"}},
    {"method": "GET", "params": {"query": "DELETE WHERE { ?s ?p ?o }"}},
    {"method": "POST", "data": {"query": "LOAD <http://127.0.0.1:9/x.ttl>"}},
])
def test_every_update_is_refused_and_changes_nothing(server: Server,
                                                     attempt: dict[str, object]) -> None:
    before = count_triples(server)
    response = server.request(url=server.sparql, **attempt)  # type: ignore[arg-type]
    assert response.status_code == 403, response.text
    assert "read-only" in response.text
    assert count_triples(server) == before


def test_client_errors_are_4xx_with_a_message(server: Server) -> None:
    response = server.get(server.sparql, params={"query": "SELECT ?x WHERE { ?x <a:b> ?y } "
                                                         "GROUP BY ?nope ORDER BY"})
    assert 400 <= response.status_code < 500
    assert response.text.strip()


# -- service description, CORS, HEAD, OPTIONS ---------------------------------------------------


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    (None, "turtle"), ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "xml")])
def test_service_description(server: Server, accept: str | None, rdflib_format: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = server.get(server.sparql, headers=headers)
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=rdflib_format)
    result = graph.query("""
        PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
        SELECT ?endpoint ?format ?feature ?named WHERE {
            ?s sd:endpoint ?endpoint ; sd:supportedLanguage sd:SPARQL11Query ;
               sd:resultFormat ?format ; sd:feature ?feature ;
               sd:defaultDataset/sd:namedGraph/sd:name ?named }""")
    rows = list(result)
    assert {str(r.endpoint) for r in rows} == {server.sparql}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in {str(r.format) for r in rows}
    assert {str(r.feature) for r in rows} == {
        "http://www.w3.org/ns/sparql-service-description#UnionDefaultGraph"}
    assert G1 in {str(r.named) for r in rows}


def test_service_description_honours_the_public_url(built_project: Project) -> None:
    with in_process_server(built_project, public_base_url="https://ketju.example.fi") as proxied:
        response = proxied.get(proxied.sparql, headers={"Accept": "application/n-triples"})
    assert "<https://ketju.example.fi/sparql> <http://www.w3.org/ns/sparql-service-" \
           "description#endpoint> <https://ketju.example.fi/sparql>" in response.text


def test_browsers_get_the_query_page(server: Server) -> None:
    response = server.get(server.sparql, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language": "sv"})
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="sv">' in response.text
    assert "/static/yasgui/yasgui.min.js" in response.text
    assert "catalogue-summary" in response.text
    assert "cdn" not in response.text.lower()
    asset = server.get(server.base + "/static/yasgui/yasgui.min.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


def test_cors(server: Server) -> None:
    response = server.get(server.sparql, params={"query": "ASK {}"},
                         headers={"Origin": "https://thl.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = server.options(server.sparql, headers={
        "Origin": "https://thl.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "content-type"


def test_head_has_the_headers_of_get_and_no_body(server: Server) -> None:
    params = {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}
    get = server.get(server.sparql, params=params)
    head = server.head(server.sparql, params=params)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]


# -- Graph Store Protocol (read) -----------------------------------------------------------------


@pytest.mark.parametrize(("accept", "rdflib_format"), [
    (None, "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml")])
def test_graph_store_get_named_graph(server: Server, accept: str | None,
                                     rdflib_format: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = server.get(server.base + "/graph-store", params={"graph": G1}, headers=headers)
    assert response.status_code == 200
    graph = Graph().parse(data=response.content, format=rdflib_format)
    assert {str(s).removeprefix(ID).split("/")[0] for s in graph.subjects()} == {"producer"}


def test_graph_store_default_graph_is_the_union_capped_like_sparql(server: Server) -> None:
    """The union (over 10,000 triples) comes through the guarded query processes, cut off at
    max_rows (10,000 here) and saying so, with the dumps named for the rest."""
    response = server.get(server.base + "/graph-store?default",
                         headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.text.count("\n") == 10_000
    assert response.headers["x-ketju-rows"] == "10000"
    assert response.headers["x-ketju-capped"] == "true"
    assert "/dumps/" in response.headers["warning"]
    graphs = {line.rsplit(" ", 2)[0] for line in response.text.splitlines()}
    assert len(graphs) > 100  # triples of many source files: the union, not one graph


def test_graph_store_head_and_absent_graph(server: Server) -> None:
    head = server.head(server.base + "/graph-store", params={"graph": G1})
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) > 1000
    absent = server.get(server.base + "/graph-store",
                       params={"graph": "https://w3id.org/ketju/graph/nope.ttl"})
    assert absent.status_code == 404
    assert "no graph" in absent.text


def test_graph_store_decodes_the_iri_exactly_once(server: Server) -> None:
    once = G1.replace(":", "%3A").replace("/", "%2F")
    assert server.get(f"{server.base}/graph-store?graph={once}").status_code == 200
    twice = once.replace("%", "%25")  # decoded twice it would name the same graph
    response = server.get(f"{server.base}/graph-store?graph={twice}")
    assert response.status_code == 400
    assert "not an absolute IRI" in response.text


def test_graph_store_needs_one_of_graph_or_default(server: Server) -> None:
    assert server.get(server.base + "/graph-store").status_code == 400


def test_graph_store_refuses_an_overlong_graph_iri(server: Server) -> None:
    response = server.get(server.base + "/graph-store",
                         params={"graph": "https://w3id.org/" + "x" * 5000})
    assert response.status_code == 400
    assert "at most 2000" in response.text
    assert "xxxxxxxx" not in response.text


# -- every parameter is checked before a query process sees it (issue 11, point 2) -------------


@pytest.mark.parametrize(("params", "words"), [
    ({"default-graph-uri": "bad iri"}, "default-graph-uri is not an absolute IRI"),
    ({"named-graph-uri": "bad iri"}, "named-graph-uri is not an absolute IRI"),
    ({"default-graph-uri": "relative/graph"}, "not an absolute IRI"),
    ({"named-graph-uri": "<http://x>"}, "not an absolute IRI"),
    ({"default-graph-uri": "http://x.example/" + "g" * 3000}, "at most 2000"),
    ([("named-graph-uri", f"http://x.example/{i}") for i in range(65)], "at most 64"),
])
def test_bad_dataset_parameters_are_400_with_a_message(server: Server, params: object,
                                                       words: str) -> None:
    query = [("query", "ASK { ?s ?p ?o }")]
    given = list(params.items()) if isinstance(params, dict) else list(params)  # type: ignore[union-attr]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for response in (server.get(server.sparql, params=query + given),
                     server.post(server.sparql, content=urlencode(query + given), headers=form)):
        assert response.status_code == 400, response.text
        assert words in response.text
    health = server.get(server.base + "/healthz").json()
    assert health["query_processes"] == 4  # three general processes and the reserve, alive
    assert 'reason="crash"' not in server.get(server.base + "/metrics").text


@pytest.mark.parametrize("host", ["a b", "<x>", "evil.example/path", "a" * 300])
def test_a_malformed_host_header_does_not_break_the_service_description(
        server: Server, host: str) -> None:
    response = server.get(server.sparql, headers={"Host": host,
                                                 "Accept": "application/n-triples"})
    assert response.status_code == 200
    endpoint = server.sparql.replace("localhost", "127.0.0.1")
    assert f"<{endpoint}> <http://www.w3.org/ns/sparql-service-description#endpoint>" \
        in response.text
