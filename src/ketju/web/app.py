"""The FastAPI application, built by a factory from settings: no module-level app or store.

`create_app(settings)` wires the source of snapshots (the embedded store, following rebuilds,
or a remote engine), the guarded SPARQL backend and the routes. The app holds the source
(`app.state.source`); routes get the snapshot to answer from through `SnapshotDep`. Routes stay
thin: they parse, call a domain function, pick a format.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from ketju import __version__
from ketju.core.project import Project
from ketju.core.queries import load_queries
from ketju.core.settings import Settings
from ketju.domain.compare import chain_index
from ketju.domain.entities import name_table
from ketju.domain.home import home_overview
from ketju.domain.lifecycle import lifecycle_table
from ketju.infra.snapshot import Snapshot, SnapshotSource
from ketju.infra.sparql.backend import EmbeddedBackend, QueryBackend, QueryRequest, RemoteBackend
from ketju.infra.sparql.description import renderer
from ketju.infra.store import RemoteCatalogue
from ketju.web import api, feeds_catalog, feeds_cpsv, feeds_ldes, observations, pages, search
from ketju.web.api import named_query_routes
from ketju.web.compare import router as compare_router
from ketju.web.http import RDF_OFFERS, install_problem_handlers, negotiate_request, problem
from ketju.web.observability import Observability, metrics_text
from ketju.web.openapi_docs import RDF_MEDIA, answers, install_docs
from ketju.web.pages import install_not_found
from ketju.web.query_page import query_page
from ketju.web.security import SecurityHeaders
from ketju.web.services import Services, ServicesDep, SnapshotDep, snapshot_of
from ketju.web.sparql import (
    ProtocolError,
    SparqlEndpoint,
    client_address,
    federation_status,
    graph_iris,
)
from ketju.web.unavailable import install_engine_errors

log = logging.getLogger("ketju")
STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None, project: Project | None = None,
               source: SnapshotSource | None = None) -> FastAPI:
    """The app over `source` (default: the project's store, or the remote engine of
    `settings.sparql_endpoint`)."""
    settings = settings or Settings.from_env()
    project = project or (Project(Path(settings.home)) if settings.home else Project.locate())
    backend: QueryBackend
    if source is None:
        queries = load_queries(project.queries_dir)
        if settings.sparql_endpoint:
            engine = RemoteCatalogue(settings.sparql_endpoint, timeout=settings.query_timeout,
                                     connections=settings.engine_connections)
            source = SnapshotSource.remote(engine, queries, settings.result_cache_entries)
        else:
            source = SnapshotSource.embedded(project, queries, settings.result_cache_entries)
    if source.engine is not None:
        backend = RemoteBackend(source.engine.endpoint, source.engine)
    else:
        snapshots = source

        def store_path() -> Path:
            files = snapshots.current().files
            assert files is not None
            return files.folder

        backend = EmbeddedBackend(store_path, settings)
    state = Services(settings, project, source, backend)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await backend.start()
        warm_builds(source, ready=settle_heap)
        try:
            yield
        finally:
            await backend.close()

    app = FastAPI(
        title="ketju",
        version=__version__,
        description="Catalogue of Finnish social and health service packages and chains.",
        lifespan=lifespan,
        # /docs and /redoc come from files in the package (install_docs), not from a CDN.
        docs_url=None, redoc_url=None,
    )
    app.state.services = state
    app.state.source = source

    def dataset() -> tuple[list[tuple[str, int]], int]:
        graphs = source.current().data.named_graphs()
        return graphs, sum(count for _, count in graphs)

    sparql = SparqlEndpoint(
        backend, settings,
        describe=renderer(dataset, federated=lambda: federation_status(
            backend, settings)["service"] == "allowed hosts only"),
        page=lambda scope: query_page(project, scope, settings),
    )
    app.router.routes.append(Route("/sparql", sparql, name="sparql"))
    app.state.sparql = sparql
    if STATIC.exists():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(graph_store_router)
    app.include_router(operations)
    named_query_routes(app, source.queries)
    for router in (feeds_cpsv.router, feeds_ldes.router, feeds_catalog.router, api.router,
                   observations.router,
                   compare_router, search.router, pages.router):
        app.include_router(router)
    install_docs(app)
    install_not_found(app)
    install_engine_errors(app)
    install_problem_handlers(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Observability)
    return app


#: `GET /graph-store`: a whole named graph (`?graph=`) or the union of all (`?default`).
graph_store_router = APIRouter(tags=["SPARQL"])
#: The graph-store read: every statement, through the guarded SPARQL path.
_EVERYTHING = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"


@graph_store_router.api_route(
    "/graph-store", methods=["GET", "HEAD"], response_class=Response,
    responses=answers("The graph's triples (at most `max_rows`; see X-Ketju-Capped).",
                      *RDF_MEDIA, statuses=(400, 404, 406, 429, 503)),
    summary="SPARQL 1.1 Graph Store Protocol (read): one graph as RDF")
async def graph_store(
    request: Request,
    state: ServicesDep,
    snapshot: SnapshotDep,
    graph: Annotated[str | None, Query(description="IRI of a named graph")] = None,
    default: Annotated[str | None, Query(description="Present: the default graph")] = None,
    format: Annotated[str | None, Query(description="turtle, ntriples, jsonld, rdfxml")]
    = None,
) -> Response:
    # Such reads can be as large as the store, so they run as the query `_EVERYTHING` (over
    # the named graph, or the union) through the same guarded path as `/sparql`: query
    # processes with the time limit and memory ceiling, the row cap with its headers
    # (X-Ketju-Rows, X-Ketju-Capped, Warning), the per-client cap and the result cache. An
    # answer cut off at the row cap points to /dumps/, where every build's whole data is.
    if (graph is None) == (default is None):
        return problem(400, "Give either ?graph=<IRI> or ?default.")
    offer = negotiate_request(request, RDF_OFFERS, format, refusals=True)
    if offer is None or offer.format is None:
        return problem(406, "Graphs are RDF: ask for text/turtle, application/n-triples, "
                            "application/ld+json or application/rdf+xml.")
    sparql: SparqlEndpoint = request.app.state.sparql
    try:
        if graph is not None:
            graph_iris([graph], "graph")
            if not await run_in_threadpool(snapshot.data.graph_exists, graph):
                return problem(404, f"There is no graph <{graph}> in this dataset.")
        status, body, headers = await sparql.guarded_answer(
            QueryRequest(query=_EVERYTHING, form="CONSTRUCT", format=offer.format.name,
                         max_rows=state.settings.max_rows,
                         default_graphs=None if graph is None else (graph,)),
            offer.format, client_address(request.scope), request.receive,
            capped_hint="the whole data is in the dumps at /dumps/")
    except ProtocolError as refused:
        return problem(refused.status, refused.message, refused.headers)
    headers["Content-Length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, status_code=status,
                    headers=headers)


#: `/healthz` and `/metrics`. Both answer in the event loop from what the process knows: no
#: thread, no engine, so they answer while every thread waits for a hung remote engine.
operations = APIRouter(tags=["Operations"])


@operations.get("/healthz", summary="Alive, and which build is served")
async def healthz(request: Request) -> dict[str, Any]:
    # `process` and `warm` tell a load balancer (or the benchmarks) which server process
    # answered and whether it has finished its start-up work (the chain index).
    state: Services = request.app.state.services
    snapshot = snapshot_of(request)
    info: dict[str, Any] = {"status": "ok", "version": __version__,
                            "mode": "remote" if state.source.engine is not None
                            else "embedded", "build": snapshot.build_info(),
                            "process": os.getpid(), "warm": is_warm(snapshot)}
    if isinstance(state.backend, EmbeddedBackend):
        info["query_processes"] = len(state.backend.pool.processes)
    # Whether user queries may call SERVICE, and whether query processes have no network.
    info["federation"] = federation_status(state.backend, state.settings)
    # Remote mode: how the engine was at the last call: ok, timeout, unreachable or failing.
    info.update(state.source.engine_status())
    return info


@operations.get("/metrics", summary="Prometheus metrics", response_class=Response,
                responses=answers("Prometheus text exposition format.", "text/plain"))
async def metrics() -> Response:
    body, content_type = metrics_text()
    return Response(body, media_type=content_type)


def warm_builds(source: SnapshotSource, ready: Callable[[], None] = lambda: None) -> None:
    """Make what every build's answers read (the table of names, the chain index, then the
    home page's overview) in the background as each build starts being served (seconds at
    national scale), so the first visitors after a start or a rebuild do not wait for it;
    call `ready` once, after the first build's names and chain index."""
    first = threading.Event()

    def warm(snapshot: Snapshot) -> None:
        try:
            name_table(snapshot)
            chain_index(snapshot)
        except Exception:  # pragma: no cover - the next request makes them and reports
            return
        if not first.is_set():
            first.set()
            ready()
        try:
            home_overview(snapshot)
            lifecycle_table(snapshot)  # the life cycles the pages of descriptions show
        except Exception:  # pragma: no cover - the home page makes it and reports
            return

    source.watch(warm)


def is_warm(snapshot: Snapshot) -> bool:
    """Whether the build's start-up work (`warm_builds`) is done."""
    return snapshot.has("names") and snapshot.has("chain-index")


def settle_heap() -> None:
    """Once start-up work is done: keep the long-lived objects (app, chain index) out of the
    cyclic collector's passes, and run its full pass rarely. Full passes stopped a server
    process for 45-120 ms every second or two under load at 1M triples, which was most of
    the p99 of answers that cost nothing (kept pages); cyclic garbage is still collected."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)


def factory() -> FastAPI:
    """Entry point for uvicorn (`ketju.web.app:factory`), reading settings from KETJU_*."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    return create_app()
