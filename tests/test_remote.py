"""Remote mode: ketju in front of a real SPARQL engine gives the embedded answers.

Every check runs against two engines loaded with the same build: the Oxigraph server (from the
store folder) and Virtuoso 7 (Debian's `virtuoso-opensource`, loaded from the build's N-Quads
dump with its bulk loader). Virtuoso is started once for the session (loading takes ~15 s).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest

from ketju.core.project import Project
from ketju.core.queries import example_values, load_queries
from ketju.infra.feeds.dumps import DUMPS_DIR
from ketju.infra.sparql.analysis import analyse
from ketju.infra.sparql.engines import empty_aggregates
from ketju.infra.store import EmbeddedCatalogue, EngineUnavailable, RemoteCatalogue
from tests.servers import (
    ISQL,
    VIRTUOSO,
    Server,
    Virtuoso,
    ketju_server,
    oxigraph_server,
    virtuoso_server,
)

#: Real servers: ketju in remote mode over real engines.
pytestmark = pytest.mark.slow

ENGINES = ["oxigraph", "virtuoso"]
#: What an engine still answers differently, and why (the tests expect these to fail).
KNOWN_DIFFERENCES: dict[str, dict[str, str]] = {}
#: Routes whose answer still differs on an engine (start of the path), and why.
KNOWN_ROUTE_DIFFERENCES: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class Engine:
    name: str
    #: Its SPARQL 1.1 query endpoint.
    endpoint: str
    server: Server


@pytest.fixture(scope="session")
def virtuoso(built_project: Project, server_logs: Path) -> Iterator[Virtuoso]:
    """Virtuoso 7, once for the session, loaded from the build's N-Quads dump."""
    if not (VIRTUOSO.exists() and ISQL.exists()):
        pytest.fail("Virtuoso 7 is not installed: `make tools` installs Debian's "
                    "virtuoso-opensource")
    dump = built_project.store_link.resolve() / DUMPS_DIR / "ketju.nq.gz"
    with virtuoso_server(dump, server_logs) as running:
        yield running


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, built_project: Project,
           server_logs: Path) -> Iterator[Engine]:
    if request.param == "virtuoso":
        running: Virtuoso = request.getfixturevalue("virtuoso")
        yield Engine("virtuoso", running.endpoint, running)
        return
    with oxigraph_server(built_project.store_link.resolve(), server_logs) as oxigraph:
        yield Engine("oxigraph", oxigraph.base + "/query", oxigraph)


@pytest.fixture(scope="module")
def embedded_server(built_project: Project, server_logs: Path) -> Iterator[Server]:
    with ketju_server(built_project.root, server_logs) as running:
        yield running


@pytest.fixture(scope="module")
def servers(built_project: Project, server_logs: Path, embedded_server: Server,
            engine: Engine) -> Iterator[tuple[Server, Server]]:
    with ketju_server(built_project.root, server_logs,
                      sparql_endpoint=engine.endpoint) as remote:
        yield embedded_server, remote


def answer_set(response: httpx.Response) -> set[tuple[tuple[str, str], ...]]:
    assert response.status_code == 200, response.text
    rows = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in rows.variables]  # type: ignore[union-attr]
    return {tuple((n, str(row[n])) for n in names) for row in rows}  # type: ignore[union-attr]


def test_every_named_query_gives_the_embedded_answer(built_project: Project,
                                                     engine: Engine) -> None:
    """Each query of queries/, with its declared example parameters bound, answers the same
    from the embedded store and from a real engine."""
    embedded = EmbeddedCatalogue.open(built_project)
    remote = RemoteCatalogue(engine.endpoint)
    differ = []
    queries = load_queries(built_project.queries_dir)
    assert len(queries) >= 15
    for query in queries.values():
        bindings = query.bindings(example_values(query))
        if query.name in KNOWN_DIFFERENCES.get(engine.name, {}):
            with contextlib.suppress(EngineUnavailable):
                if rows_set(remote.select(query.body, bindings), query.body) == rows_set(
                        embedded.select(query.body, bindings), query.body):
                    continue
            differ.append((query.name, "fails"))
            continue
        if analyse(query.body).form == "CONSTRUCT":
            ours = {str(t) for t in embedded.construct(query.body, bindings)}
            theirs = {str(t) for t in remote.construct(query.body, bindings)}
        else:
            ours = rows_set(embedded.select(query.body, bindings), query.body)
            theirs = rows_set(remote.select(query.body, bindings), query.body)
        if ours != theirs:
            differ.append((query.name, sorted(ours - theirs)[:3], sorted(theirs - ours)[:3]))
        if query.name != "goals-without-indicators":
            assert ours, f"{query.name} answers nothing on the example data"
    remote.close()
    known = KNOWN_DIFFERENCES.get(engine.name, {})
    assert not [d for d in differ if d[0] not in known], differ
    if differ:
        pytest.xfail("; ".join(f"{d[0]}: {known[d[0]]}" for d in differ))


def rows_set(rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]],
             query: str = "") -> set[tuple[tuple[str, str], ...]]:
    """Rows as comparable sets; a GROUP_CONCAT's parts in order (SPARQL leaves their order to
    the engine)."""
    joined = empty_aggregates(query)
    return {tuple(sorted((k, unordered(v.value) if k in joined else str(v))
                         for k, v in row.items())) for row in rows}


def test_catalogue_binds_parameters_the_same_way(built_project: Project,
                                                 engine: Engine) -> None:
    embedded = EmbeddedCatalogue.open(built_project)
    remote = RemoteCatalogue(engine.endpoint)
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
    capped = remote.get(remote.sparql, params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                        timeout=60)
    assert capped.headers["x-ketju-capped"] == "true", capped.text[:300]
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


CHAIN_IRI = re.compile(r"https://w3id\.org/ketju/id/([a-z0-9-]+)/chain/([a-z0-9-]+)")


def remote_routes(embedded: Server, project: Project) -> list[tuple[str, str]]:
    """(path, Accept) of every kind of answer that reads the data: named queries, resource
    lists and items, chain pages, comparisons, similar chains, search, feeds."""
    routes = [(f"/api/{api}?limit=200", "application/json") for api in
              ("regions", "chains", "packages", "services", "producers", "service-classes")]
    chains = sorted(set(CHAIN_IRI.findall(embedded.get(
        embedded.base + "/api/chains?limit=200").text)))
    assert len(chains) >= 5
    for region, slug in chains:
        routes += [(f"/api/chains/{region}/{slug}", "application/ld+json"),
                   (f"/api/chains/{region}/{slug}/similar?lang=en", "application/json"),
                   (f"/id/{region}/chain/{slug}?lang=en", "text/html")]
    names = [f"{region}/{slug}" for region, slug in chains]
    for first, second in pairwise(names):
        routes.append((f"/api/compare?chains={first},{second}&lang=sv", "application/json"))
    routes.append(("/api/compare?chains=" + ",".join(names[:4]), "application/json"))
    for query in load_queries(project.queries_dir).values():
        params = "&".join(f"{name}={quote(str(one), safe='')}"
                          for name, value in example_values(query).items()
                          for one in (value if isinstance(value, list) else [value]))
        routes.append((f"/api/queries/{query.name}?limit=1000&{params}", "application/json"))
    routes += [("/api/search?q=lonkk&limit=50", "application/json"),
               ("/search?q=kotiutus&lang=fi", "text/html"),
               ("/feeds/cpsv-ap", "application/n-triples"),
               ("/regions?lang=sv", "text/html"),
               ("/id/varsinais-suomi/package/nuorten-palvelukokonaisuus?lang=fi", "text/html"),
               ("/compare?chains=" + ",".join(names[:2]) + "&lang=en", "text/html")]
    return routes


#: The variables each named query binds to a GROUP_CONCAT.
JOINED = {query.name: empty_aggregates(query.body)
          for query in load_queries(Path(__file__).parent.parent / "queries").values()}


def unordered(joined: str) -> str:
    return " ".join(sorted(re.split(r"[\s,]+", joined)))


def comparable(response: httpx.Response, base: str) -> object:
    """An answer with the server's own origin taken out; RDF as a set of statements."""
    media = response.headers.get("content-type", "")
    text = response.text.replace(base, "BASE")
    if media.startswith("application/n-triples"):
        return sorted(set(text.splitlines()))
    if "json" in media:
        body = httpx.Response(200, content=text.encode()).json()
        if isinstance(body, dict) and body.get("total", 0) > len(body.get("items", ())):
            # A page of rows that tie under ORDER BY may hold other rows: the count must agree.
            del body["items"]
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            # Rows that tie under the query's ORDER BY come in the engine's order, and so
            # do the parts of a GROUP_CONCAT.
            joined = JOINED.get(str(body.get("query")), frozenset())
            body["items"] = sorted((
                {k: unordered(v) if k in joined and isinstance(v, str) else v
                 for k, v in item.items()} for item in body["items"]), key=repr)
        return body
    return text


def test_every_route_gives_the_embedded_answer(servers: tuple[Server, Server],
                                               built_project: Project, engine: Engine) -> None:
    """Pages, API answers, comparisons, similar chains, search and feeds are the same in
    front of the engine as over the embedded store (with the same status)."""
    embedded, remote = servers
    differ = []
    for path, accept in remote_routes(embedded, built_project):
        ours = embedded.get(embedded.base + path, headers={"Accept": accept}, timeout=120)
        theirs = remote.get(remote.base + path, headers={"Accept": accept}, timeout=120)
        assert ours.status_code == 200, (path, ours.text[:300])
        if theirs.status_code != ours.status_code:
            differ.append((path, theirs.status_code, theirs.text[:300]))
        elif comparable(ours, embedded.base) != comparable(theirs, remote.base):
            differ.append((path, "differs"))
    assert "Traceback" not in remote.log_text()
    known = KNOWN_ROUTE_DIFFERENCES.get(engine.name, {})
    reasons = {why for path, *_ in differ for start, why in known.items()
               if path.startswith(start)}
    assert not [d for d in differ if not any(d[0].startswith(k) for k in known)], \
        (engine.name, differ)
    if reasons:
        pytest.xfail("; ".join(sorted(reasons)))


def test_a_stopped_engine_is_told_not_a_python_error(built_project: Project, server_logs: Path,
                                                     virtuoso: Virtuoso) -> None:
    """Virtuoso stopped (SIGSTOP: it holds its connections and answers nothing): every route
    that needs it answers 504 naming the SPARQL engine; once it runs again, they answer."""
    with ketju_server(built_project.root, server_logs, sparql_endpoint=virtuoso.endpoint,
                      query_timeout=2) as remote:
        # (Similar chains are answered from the index made at start-up, without the engine.)
        routes = ["/api/regions?limit=3", "/api/compare?chains=varsinais-suomi/lonkkamurtuma,"
                  "pohjois-savo/lonkkamurtuma", "/api/queries/catalogue-summary?limit=4"]
        assert remote.get(remote.base + routes[0], timeout=60).status_code == 200
        os.killpg(virtuoso.process.pid, signal.SIGSTOP)
        try:
            for path in routes:
                response = remote.get(remote.base + path, timeout=60)
                assert response.status_code in (502, 503, 504), (path, response.text)
                detail = response.json()["detail"]
                assert "SPARQL engine" in detail and "invalid literal" not in detail, detail
            page = remote.get(remote.base + "/id/varsinais-suomi/chain/lonkkamurtuma?lang=en",
                              headers={"Accept": "text/html"}, timeout=60)
            assert page.status_code in (502, 503, 504)
            assert "The data is not available right now" in page.text
        finally:
            os.killpg(virtuoso.process.pid, signal.SIGCONT)
        assert "Traceback" not in remote.log_text()


def test_sparql_endpoint_gives_the_embedded_answer(servers: tuple[Server, Server],
                                                   built_project: Project,
                                                   engine: Engine) -> None:
    """Users' queries through /sparql (the named queries that need no parameter) answer the
    same rows over the engine as over the embedded store: the engine's terms are read the
    same way there too."""
    embedded, remote = servers
    asked = 0
    for query in load_queries(built_project.queries_dir).values():
        if any(p.required for p in query.params) or analyse(query.body).form != "SELECT":
            continue
        answers = [server.post(server.sparql, data={"query": query.body}, timeout=120,
                               headers={"Accept": "application/sparql-results+json"})
                   for server in (embedded, remote)]
        ours, theirs = (sparql_rows(answer, query.body) for answer in answers)
        assert ours == theirs, (engine.name, query.name, sorted(ours ^ theirs)[:3])
        asked += 1
    assert asked >= 10


def sparql_rows(response: httpx.Response, query: str) -> set[tuple[tuple[str, str], ...]]:
    assert response.status_code == 200, response.text[:300]
    solutions = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
    rows = [{n: row[n] for n in names if row[n] is not None}  # type: ignore[index]
            for row in solutions]  # type: ignore[union-attr]
    return rows_set(rows, query)  # type: ignore[arg-type]
