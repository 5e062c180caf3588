"""Where user queries run: the embedded store's guarded process pool, or a remote engine.

Both take the same request and give the same answer (serialised, capped), so the endpoint does
not care which one it talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
import pyoxigraph as ox

from ketju.core.settings import Settings
from ketju.infra.remote import EngineAnswer, EngineUnavailable, engine_message, post_query
from ketju.infra.sparql.engines import normalise_rows, normalise_triple, readable_results
from ketju.infra.sparql.formats import OXIGRAPH_RESULTS
from ketju.infra.sparql.pool import QueryFailed, QueryPool
from ketju.infra.sparql.results import (
    Answer,
    serialize_triples,
    take,
    write_boolean,
    write_solutions,
)
from ketju.infra.sparql.worker import stack_bytes

if TYPE_CHECKING:
    from ketju.infra.store import RemoteCatalogue

log = logging.getLogger("ketju.sparql")
#: Why SERVICE is refused when the query processes keep the host network.
REFUSED_UNISOLATED = "refused: query processes could not be isolated from the network"


@dataclass(frozen=True)
class QueryRequest:
    query: str
    form: str | None
    format: str
    max_rows: int
    #: The protocol's dataset (default-graph-uri, named-graph-uri). When either is given it
    #: replaces the query's FROM / FROM NAMED; when neither is, the query's own dataset
    #: applies, and without one the default graph is the union of all graphs.
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    #: SERVICE or FROM may be keywords of the query (analysis.keyword_candidates): it is
    #: parsed before it runs (analysis.inspect).
    check: bool = False


@dataclass(frozen=True)
class QueryAnswer:
    form: str
    body: bytes
    count: int
    capped: bool


class QueryBackend(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def run(self, request: QueryRequest, timeout: float,
                  disconnected: asyncio.Event | None = None) -> QueryAnswer: ...

    def version(self) -> str:
        """Identifies the data answered from (changes when the store is rebuilt)."""
        ...


class EmbeddedBackend:
    """User queries in killable processes over the on-disk store.

    The main pool (general processes and the reserve, see pool.py) runs without network when
    the kernel permits a network namespace per process. With allowed SERVICE hosts, a query
    whose parse shows SERVICE calls, every one of them to an allowed host, is handed on to a
    second, small pool whose processes keep the network; every other query runs without it.
    If the main pool could not be isolated, SERVICE is refused whatever the allowed hosts:
    query processes never get the host network silently.
    """

    #: The query processes parse queries that need it (QueryRequest.check) themselves.
    checks_queries = True

    def __init__(self, store_path: Callable[[], Path], settings: Settings) -> None:
        self._store_path = store_path
        self.settings = settings
        stack = stack_bytes(settings.max_query_bytes)
        self.pool = QueryPool(store_path, settings.query_workers, settings.query_memory_mb,
                              reserve=True, queue_timeout=settings.queue_timeout, stack=stack)
        self.federated: QueryPool | None = None
        if settings.allowed_service_hosts:
            self.federated = QueryPool(store_path, min(2, settings.query_workers),
                                       settings.query_memory_mb, network=True,
                                       queue_timeout=settings.queue_timeout, stack=stack)

    async def start(self) -> None:
        await self.pool.start()
        if self.federated is not None:
            if self.pool.isolated:
                await self.federated.start()
            else:
                log.warning("query processes could not be isolated from the network: SERVICE "
                            "is refused whatever the allowed hosts")
                self.federated = None

    async def close(self) -> None:
        await self.pool.close()
        if self.federated is not None:
            await self.federated.close()

    def version(self) -> str:
        return self._store_path().name

    def federation(self) -> dict[str, Any]:
        """What /healthz says about SERVICE: refused or allowed (to which hosts), and whether
        the query processes run without network."""
        isolated = self.pool.isolated
        hosts = list(self.settings.allowed_service_hosts)
        if self.federated is not None:
            service = "allowed hosts only"
        elif hosts and not isolated:
            service = REFUSED_UNISOLATED
        else:
            service = "refused (no allowed hosts)"
        return {"service": service, "allowed_hosts": hosts if self.federated else [],
                "isolated": isolated}

    def _refusal(self) -> str:
        if self.settings.allowed_service_hosts and self.federated is None:
            return REFUSED_UNISOLATED
        return "federated queries are switched off"

    async def run(self, request: QueryRequest, timeout: float,
                  disconnected: asyncio.Event | None = None) -> QueryAnswer:
        payload = {
            "query": request.query,
            "format": request.format,
            "max_rows": request.max_rows,
            "default_graphs": None if request.default_graphs is None
            else list(request.default_graphs),
            "named_graphs": None if request.named_graphs is None else list(request.named_graphs),
            "check": request.check,
            "allowed_hosts": list(self.settings.allowed_service_hosts)
            if self.federated is not None else [],
            "refusal": self._refusal(),
        }
        reply = await self.pool.execute(payload, timeout, disconnected)
        if reply.header.get("needs_network") and self.federated is not None:
            reply = await self.federated.execute(payload, timeout, disconnected)
        header = reply.header
        if not header.get("ok"):
            status = int(header.get("status", 500))
            raise QueryFailed(status, header.get("message") or "The query failed.", "query")
        return QueryAnswer(header["form"], reply.body, header["count"], header["capped"])


class RemoteBackend:
    """User queries forwarded to another SPARQL 1.1 engine, answers re-serialised and capped.

    The engine must use the union of its graphs as default graph, as ketju does (Oxigraph:
    `--union-default-graph`; Virtuoso does without FROM). Its terms are read as the embedded
    store writes them (sparql.engines). Each query has a total deadline (the query time limit) over
    sending, waiting and reading the whole answer: 504 when it passes, 502 when the engine
    cannot be reached or fails, 400 with the engine's own words when it refuses the query.
    The catalogue of the same engine tells which build it holds (the answers' cache key).
    """

    def __init__(self, endpoint: str, catalogue: RemoteCatalogue | None = None,
                 connections: int = 100) -> None:
        self.endpoint = endpoint
        self.catalogue = catalogue
        self.connections = connections
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=self.connections,
                              max_keepalive_connections=min(self.connections, 20))
        self._client = httpx.AsyncClient(timeout=None, limits=limits)
        if self.catalogue is not None:
            # The first look at the engine's build (or its failure), so pages start with the
            # right version; bounded, and waited for in a thread, not in the event loop.
            self.catalogue.check_soon()
            await asyncio.to_thread(self.catalogue.ready.wait, min(5.0, self.catalogue.timeout))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self.catalogue is not None:
            await asyncio.to_thread(self.catalogue.close)

    def version(self) -> str:
        return "remote:" + (self.catalogue.version() if self.catalogue is not None else "")

    async def run(self, request: QueryRequest, timeout: float,
                  disconnected: asyncio.Event | None = None) -> QueryAnswer:
        assert self._client is not None
        graph_form = request.form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if graph_form else "application/sparql-results+json"
        params: list[tuple[str, str]] = [("query", request.query)]
        params += [("default-graph-uri", g) for g in request.default_graphs or ()]
        params += [("named-graph-uri", g) for g in request.named_graphs or ()]
        try:
            response = await _unless_gone(
                post_query(self._client, self.endpoint, params, accept, timeout), disconnected)
        except EngineUnavailable as failed:
            if failed.status == 504:
                raise QueryFailed(504, f"The SPARQL engine did not answer within {timeout:g} s "
                                       "(the query time limit): narrow the query down (add "
                                       "LIMIT, more specific patterns) or try again later.",
                                  "timeout") from None
            raise QueryFailed(failed.status, failed.message, "remote") from None
        if response.status >= 400:
            words = engine_message(response)
            if response.status < 500:
                raise QueryFailed(400, words or "The SPARQL engine refused the query.", "query")
            raise QueryFailed(502, "The SPARQL engine failed to answer"
                                   + (f": {words}" if words else "."), "remote")
        try:
            # Parsed and re-serialised in a thread: 10,000 rows must not hold the event loop.
            return await asyncio.to_thread(_read_answer, request, response.body, graph_form)
        except (SyntaxError, ValueError):
            raise QueryFailed(502, "The SPARQL engine's answer could not be read (it may have "
                                   "been cut off by the engine's own time limit).",
                              "remote") from None


async def _unless_gone(call: Coroutine[Any, Any, EngineAnswer],
                       disconnected: asyncio.Event | None) -> EngineAnswer:
    """The call's answer; if the client goes away first, the call is cancelled (which closes
    the connection to the engine) and the query is stopped."""
    if disconnected is None:
        return await call
    task = asyncio.ensure_future(call)
    gone = asyncio.ensure_future(disconnected.wait())
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise QueryFailed(499, "The client went away; the query was stopped.", "disconnect")
    return task.result()


def _read_answer(request: QueryRequest, body: bytes, graph_form: bool) -> QueryAnswer:
    """The engine's answer in the format asked for, capped; what is not that format (or is
    cut off) raises SyntaxError."""
    if graph_form:
        triples = (normalise_triple(q.triple)
                   for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
        answer = serialize_triples(triples, request.format, request.max_rows)
        return QueryAnswer(request.form or "CONSTRUCT", answer.body, answer.count,
                           answer.capped)
    results = ox.parse_query_results(readable_results(body), format=ox.QueryResultsFormat.JSON)
    if isinstance(results, ox.QueryBoolean):
        return QueryAnswer("ASK", write_boolean(bool(results), request.format), 1, False)
    if request.format not in OXIGRAPH_RESULTS:
        raise QueryFailed(406, "A SELECT query gives a results table.", "query")
    answer = _remote_select(results, request)
    return QueryAnswer("SELECT", answer.body, answer.count, answer.capped)


def _remote_select(results: ox.QuerySolutions, request: QueryRequest) -> Answer:
    """The first rows of an engine's results table, read as the embedded store gives them
    (sparql.engines), in the format asked for."""
    names = [v.value for v in results.variables]
    kept, capped = take(({n: t for n, t in zip(names, s, strict=True) if t is not None}
                         for s in results), request.max_rows)
    rows = normalise_rows(kept, request.query)  # type: ignore[arg-type]
    body = write_solutions(names, [[row.get(n) for n in names] for row in rows], request.format)
    return Answer(body, len(rows), capped)
