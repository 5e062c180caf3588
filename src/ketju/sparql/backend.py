"""Where user queries run: the embedded store's guarded process pool, or a remote engine.

Both take the same request and give the same answer (serialised, capped), so the endpoint does
not care which one it talks to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox

from ketju.sparql.formats import OXIGRAPH_RESULTS
from ketju.sparql.pool import QueryFailed, QueryPool
from ketju.sparql.results import serialize_select, serialize_triples, write_boolean


@dataclass(frozen=True)
class QueryRequest:
    query: str
    form: str | None
    format: str
    max_rows: int
    #: None: the union of all graphs (ketju's default dataset).
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None


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
    """User queries in killable processes over the on-disk store."""

    def __init__(self, store_path: Callable[[], Path], size: int, memory_mb: int,
                 allow_network: bool) -> None:
        self._store_path = store_path
        self.pool = QueryPool(store_path, size, memory_mb, allow_network=allow_network)

    async def start(self) -> None:
        await self.pool.start()

    async def close(self) -> None:
        await self.pool.close()

    def version(self) -> str:
        return self._store_path().name

    async def run(self, request: QueryRequest, timeout: float,
                  disconnected: asyncio.Event | None = None) -> QueryAnswer:
        reply = await self.pool.execute({
            "query": request.query,
            "format": request.format,
            "max_rows": request.max_rows,
            "default_graphs": None if request.default_graphs is None
            else list(request.default_graphs),
            "named_graphs": None if request.named_graphs is None else list(request.named_graphs),
        }, timeout, disconnected)
        header = reply.header
        if not header.get("ok"):
            status = int(header.get("status", 500))
            raise QueryFailed(status, header.get("message") or "The query failed.", "query")
        return QueryAnswer(header["form"], reply.body, header["count"], header["capped"])


class RemoteBackend:
    """User queries forwarded to another SPARQL 1.1 engine, answers re-serialised and capped.

    The engine must use the union of its graphs as default graph, as ketju does (Oxigraph:
    `--union-default-graph`).
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=None)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def version(self) -> str:
        return "remote"

    async def run(self, request: QueryRequest, timeout: float,
                  disconnected: asyncio.Event | None = None) -> QueryAnswer:
        assert self._client is not None
        graph_form = request.form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if graph_form else "application/sparql-results+json"
        params: list[tuple[str, str]] = [("query", request.query)]
        params += [("default-graph-uri", g) for g in request.default_graphs or ()]
        params += [("named-graph-uri", g) for g in request.named_graphs or ()]
        try:
            response = await self._client.post(
                self.endpoint, content=urlencode(params).encode(), timeout=timeout,
                headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.TimeoutException:
            raise QueryFailed(503, f"The query ran longer than the time limit of {timeout:g} s "
                                   "and was stopped.", "timeout") from None
        except httpx.HTTPError as error:
            raise QueryFailed(502, f"The SPARQL engine could not be reached: {error}",
                              "remote") from None
        if response.status_code >= 400:
            status = 400 if response.status_code < 500 else 502
            raise QueryFailed(status, response.text.strip() or "The SPARQL engine refused the "
                              "query.", "query")
        if graph_form:
            triples = (q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))
            answer = serialize_triples(triples, request.format, request.max_rows)
            return QueryAnswer(request.form or "CONSTRUCT", answer.body, answer.count,
                               answer.capped)
        results = ox.parse_query_results(response.content,
                                         format=ox.QueryResultsFormat.JSON)
        if isinstance(results, ox.QueryBoolean):
            return QueryAnswer("ASK", write_boolean(bool(results), request.format), 1, False)
        if request.format not in OXIGRAPH_RESULTS:
            raise QueryFailed(406, "A SELECT query gives a results table.", "query")
        answer = serialize_select(results, request.format, request.max_rows)
        return QueryAnswer("SELECT", answer.body, answer.count, answer.capped)
