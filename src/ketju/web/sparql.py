"""`/sparql`: the SPARQL 1.1 Protocol (query operation), read-only and guarded.

A plain ASGI application rather than a FastAPI route: it is the hottest path of the server and
handles every method, media type and error case itself (standards/sparql-protocol.md lists them;
tests/test_sparql_protocol.py checks each one).

Before a query reaches a query process: every protocol parameter is validated (graph IRIs parse
as IRIs, at most `MAX_DATASET_GRAPHS` of them, each at most `MAX_GRAPH_IRI_CHARS` long), the
query is checked (analysis.check_query: size, updates, nesting), and the client address may
have at most `max_client_queries` queries running or waiting (429 beyond). `GET /graph-store`
reads go through `guarded_answer` too, with the same caps, headers, time limit and cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl

import pyoxigraph as ox
from starlette.requests import Request

from ketju.core.queries import MAX_IRI_CHARS
from ketju.core.settings import Settings
from ketju.infra.snapshot import AnswerCache
from ketju.infra.sparql.analysis import QueryRefused, check_query, refuse_services
from ketju.infra.sparql.backend import QueryBackend, QueryRequest
from ketju.infra.sparql.formats import RDF_FORMATS, RESULT_FORMATS, Format, parse_accept
from ketju.infra.sparql.metrics import ANSWERS_CAPPED, CACHE_HITS, QUERIES_STOPPED
from ketju.infra.sparql.pool import QueryFailed, QueryPool
from ketju.web.http import (
    RDF_OFFERS,
    RESULT_OFFERS,
    named_offer,
    negotiate,
    problem,
    public_base_url,
)

log = logging.getLogger("ketju.sparql")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

ALLOW = "GET, HEAD, POST, OPTIONS"
EXPOSED = "X-Ketju-Rows, X-Ketju-Capped, X-Ketju-Max-Rows, X-Request-Id"
#: Most default-graph-uri plus named-graph-uri parameters one request may give.
MAX_DATASET_GRAPHS = 64
#: Longest graph IRI accepted in a parameter (characters): the cap of every IRI parameter.
MAX_GRAPH_IRI_CHARS = MAX_IRI_CHARS
#: Seconds a client over its query cap is asked to wait.
CLIENT_RETRY_AFTER = 2


class ProtocolError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class ClientSlots:
    """How many queries each client address has running or waiting; at most `limit` (0: no
    cap). The address is the ASGI client's: behind a reverse proxy, run the server with the
    proxy's address in uvicorn's `forwarded_allow_ips` so that it is the real client's."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, int] = {}

    @contextlib.contextmanager
    def hold(self, client: str) -> Iterator[None]:
        held = self._held.get(client, 0)
        if self.limit > 0 and held >= self.limit:
            raise ProtocolError(429, f"You already have {held} queries running or waiting; at "
                                     f"most {self.limit} are accepted at once from one address. "
                                     "Wait for an answer, then send the next query.",
                                {"Retry-After": str(CLIENT_RETRY_AFTER)})
        self._held[client] = held + 1
        try:
            yield
        finally:
            left = self._held.pop(client) - 1
            if left:
                self._held[client] = left


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def graph_iris(values: list[str], name: str) -> tuple[str, ...]:
    """The values of a graph parameter, each an absolute IRI of sane length, or 400."""
    for value in values:
        if len(value) > MAX_GRAPH_IRI_CHARS:
            raise ProtocolError(400, f"A {name} is {len(value)} characters long; at most "
                                     f"{MAX_GRAPH_IRI_CHARS} are accepted.")
        try:
            ox.NamedNode(value)
        except ValueError:
            raise ProtocolError(400, f"A {name} is not an absolute IRI.") from None
        if ":" not in value:
            raise ProtocolError(400, f"A {name} is not an absolute IRI.")
    return tuple(values)


def federation_status(backend: QueryBackend, settings: Settings) -> dict[str, Any]:
    """What /healthz says about SERVICE (refused, or allowed to which hosts) and whether the
    query processes run without network (None: a remote engine, which ketju cannot isolate)."""
    federation = getattr(backend, "federation", None)
    if federation is not None:
        return dict(federation())
    hosts = list(settings.allowed_service_hosts)
    return {"service": "allowed hosts only" if hosts else "refused (no allowed hosts)",
            "allowed_hosts": hosts, "isolated": None}


class SparqlEndpoint:
    """The ASGI app; `describe` renders the service description, `page` the query page."""

    def __init__(
        self,
        backend: QueryBackend,
        settings: Settings,
        describe: Callable[[str, Format], bytes],
        page: Callable[[Scope], bytes] | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.describe = describe
        self.page = page
        #: Protocol answers by (data version, query, dataset, format): the data only changes
        #: on a rebuild. Thread-safe (AnswerCache): graph-store reads share it.
        self.cache = AnswerCache(settings.result_cache_entries)
        self.clients = ClientSlots(settings.max_client_queries)
        # Remote mode: queries that need a parse are parsed in a query process of their own
        # (no store, no network), where the time limit and memory ceiling apply. It ends with
        # the server process (its stdin closes).
        self._checker: QueryPool | None = None
        self._checker_started: asyncio.Lock | None = None

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        method = scope["method"]
        try:
            if method == "OPTIONS":
                await self._send(send, 204, b"", {"Allow": ALLOW, **self._cors(headers, True)})
                return
            if method not in ("GET", "HEAD", "POST"):
                raise ProtocolError(405, f"{method} is not supported here; use GET or POST.",
                                    {"Allow": ALLOW})
            params = await self._params(scope, receive, headers, method)
            status, body, extra = await self._answer(scope, receive, headers, params)
        except ProtocolError as error:
            refused = problem(error.status, error.message, error.headers, text=True)
            status, body = refused.status_code, bytes(refused.body)
            extra = {"Content-Type": refused.headers["content-type"], **error.headers}
        extra.update(self._cors(headers, False))
        await self._send(send, status, b"" if method == "HEAD" else body, extra,
                         length=len(body))

    async def _send(self, send: Send, status: int, body: bytes, headers: dict[str, str],
                    length: int | None = None) -> None:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body) if length is None else length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    def _cors(self, headers: dict[str, str], preflight: bool) -> dict[str, str]:
        origins = self.settings.cors_origins
        origin = headers.get("origin")
        out: dict[str, str] = {}
        if "*" in origins:
            out["Access-Control-Allow-Origin"] = "*"
        elif origin and origin in origins:
            out["Access-Control-Allow-Origin"] = origin
            out["Vary"] = "Origin"
        else:
            return out
        out["Access-Control-Expose-Headers"] = EXPOSED
        if preflight:
            out["Access-Control-Allow-Methods"] = ALLOW
            out["Access-Control-Allow-Headers"] = headers.get(
                "access-control-request-headers", "Content-Type, Accept")
            out["Access-Control-Max-Age"] = "86400"
        return out

    # -- reading the request ------------------------------------------------------------------

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ProtocolError(400, "The client went away.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.settings.max_body_bytes:
                raise ProtocolError(413, f"The request body is larger than "
                                         f"{self.settings.max_body_bytes} bytes.")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    @staticmethod
    def _decode_params(raw: str) -> list[tuple[str, str]]:
        try:
            return parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise ProtocolError(400, "Parameters must be UTF-8 (percent-encoded).") from None

    async def _params(self, scope: Scope, receive: Receive, headers: dict[str, str],
                      method: str) -> list[tuple[str, str]]:
        params = self._decode_params(scope.get("query_string", b"").decode("latin-1"))
        if method != "POST":
            return params
        content_type = headers.get("content-type")
        if not content_type:
            raise ProtocolError(400, "A POST needs a Content-Type: "
                                     "application/x-www-form-urlencoded or "
                                     "application/sparql-query.")
        media, _, rest = content_type.partition(";")
        media = media.strip().lower()
        charset = "utf-8"
        for parameter in rest.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip('"').lower()
        if media == "application/sparql-update":
            raise ProtocolError(403, "This endpoint is read-only: SPARQL updates are not "
                                     "accepted.")
        if charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"Only UTF-8 is accepted, not {charset}.")
        body = await self._body(receive)
        if media == "application/x-www-form-urlencoded":
            try:
                return params + self._decode_params(body.decode("ascii"))
            except UnicodeDecodeError:
                raise ProtocolError(400, "A form body must be percent-encoded ASCII.") from None
        if media == "application/sparql-query":
            try:
                return [*params, ("query", body.decode("utf-8"))]
            except UnicodeDecodeError:
                raise ProtocolError(400, "The query is not valid UTF-8.") from None
        raise ProtocolError(415, f"Unsupported Content-Type {media}: send "
                                 "application/x-www-form-urlencoded or "
                                 "application/sparql-query.")

    # -- answering ------------------------------------------------------------------------------

    def public_url(self, scope: Scope, headers: dict[str, str]) -> str:
        """The endpoint's URL: the configured public base, else the request's Host when it
        is a plain host[:port], else the address the server listens on (web.http)."""
        if self.settings.public_base_url:
            base = self.settings.public_base_url.rstrip("/")
        else:
            base = public_base_url(Request(scope))
        return base + scope.get("root_path", "") + scope["path"]

    async def _answer(self, scope: Scope, receive: Receive, headers: dict[str, str],
                      params: list[tuple[str, str]]) -> tuple[int, bytes, dict[str, str]]:
        names = [name for name, _ in params]
        if "update" in names or "using-graph-uri" in names or "using-named-graph-uri" in names:
            raise ProtocolError(403, "This endpoint is read-only: SPARQL updates are not "
                                     "accepted.")
        queries = [value for name, value in params if name == "query"]
        formats = [value for name, value in params if name == "format"]
        if len(queries) > 1:
            raise ProtocolError(400, "Give exactly one query parameter.")
        accept = headers.get("accept")
        if not queries:
            if scope["method"] == "POST":
                raise ProtocolError(400, "The request has no query parameter.")
            return self._description(scope, headers, accept, formats)
        defaults = graph_iris([v for n, v in params if n == "default-graph-uri"],
                              "default-graph-uri")
        named = graph_iris([v for n, v in params if n == "named-graph-uri"], "named-graph-uri")
        if len(defaults) + len(named) > MAX_DATASET_GRAPHS:
            raise ProtocolError(400, f"The request names {len(defaults) + len(named)} graphs; "
                                     f"at most {MAX_DATASET_GRAPHS} are accepted.")
        try:
            shape = check_query(queries[0], self.settings.max_query_bytes,
                                self.settings.max_query_nesting)
        except QueryRefused as refused:
            raise ProtocolError(refused.status, refused.message) from None
        graph_form = shape.form in ("CONSTRUCT", "DESCRIBE")
        table = RDF_FORMATS if graph_form else RESULT_FORMATS
        # A `format` that names no format on offer falls back to Accept (web.http).
        offer = negotiate(RDF_OFFERS if graph_form else RESULT_OFFERS, accept, formats,
                          refusals=True)
        fmt = None if offer is None else offer.format
        if fmt is None:
            offered = ", ".join(f.media_type for f in table)
            raise ProtocolError(406, f"None of the requested formats can be given for a "
                                     f"{shape.form or 'query'}; available: {offered}.")
        request = QueryRequest(
            query=queries[0], form=shape.form, format=fmt.name,
            max_rows=self.settings.max_rows,
            default_graphs=defaults or None,
            named_graphs=named or None,
            check=shape.needs_parse,
        )
        return await self.guarded_answer(request, fmt, client_address(scope), receive)

    async def guarded_answer(self, request: QueryRequest, fmt: Format, client: str,
                             receive: Receive | None = None,
                             capped_hint: str = "page with LIMIT and OFFSET",
                             ) -> tuple[int, bytes, dict[str, str]]:
        """Answer a checked query from the cache or through the backend, with the client's
        cap, the time limit and the row cap; `receive` is watched for the client leaving."""
        key = hashlib.sha256(repr((self.backend.version(), request)).encode()).hexdigest()
        if (cached := self.cache.get(key)) is not None:
            CACHE_HITS.inc()
            return 200, cached[0], dict(cached[1])
        disconnected = asyncio.Event()
        watcher = (asyncio.ensure_future(self._watch_disconnect(receive, disconnected))
                   if receive is not None else None)
        try:
            with self.clients.hold(client):
                if request.check and not getattr(self.backend, "checks_queries", False):
                    await self._check_here(request, disconnected)
                answer = await self.backend.run(request, self.settings.query_timeout,
                                                disconnected)
        except QueryFailed as failed:
            if failed.reason != "query":
                QUERIES_STOPPED.labels(failed.reason).inc()
            retry = {"Retry-After": str(failed.retry_after)} if failed.retry_after else {}
            raise ProtocolError(failed.status, failed.message, retry) from None
        except ProtocolError as refused:
            if refused.status == 429:
                QUERIES_STOPPED.labels("client-limit").inc()
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
        out = {
            "Content-Type": fmt.content_type,
            "Vary": "Accept",
            "X-Ketju-Rows": str(answer.count),
            "X-Ketju-Max-Rows": str(self.settings.max_rows),
            "Cache-Control": "public, max-age=60",
        }
        if answer.capped:
            ANSWERS_CAPPED.inc()
            out["X-Ketju-Capped"] = "true"
            out["Warning"] = (f'199 ketju "Results cut off at {self.settings.max_rows} rows; '
                              f'{capped_hint}"')
        self.cache.put(key, (answer.body, out), len(answer.body))
        return 200, answer.body, out

    async def _check_here(self, request: QueryRequest, disconnected: asyncio.Event) -> None:
        """Remote mode: parse the query in a checking process and refuse SERVICE calls to
        hosts not allowed, before the query is forwarded to the engine."""
        if self._checker_started is None:
            self._checker_started = asyncio.Lock()
        async with self._checker_started:
            if self._checker is None:
                checker = QueryPool(None, 1, self.settings.query_memory_mb,
                                    queue_timeout=self.settings.queue_timeout)
                await checker.start()
                self._checker = checker
        reply = await self._checker.execute(
            {"query": request.query, "check": True, "run": False,
             "allowed_hosts": list(self.settings.allowed_service_hosts),
             "refusal": "federated queries are switched off"},
            self.settings.query_timeout, disconnected)
        if not reply.header.get("ok"):
            raise QueryFailed(int(reply.header.get("status", 400)),
                              reply.header.get("message") or "The query was refused.", "query")
        # The checking process has applied the same rule; this keeps it explicit here.
        try:
            refuse_services(tuple(reply.header.get("services") or ()),
                            self.settings.allowed_service_hosts,
                            "federated queries are switched off")
        except QueryRefused as refused:
            raise QueryFailed(refused.status, refused.message, "query") from None

    @staticmethod
    async def _watch_disconnect(receive: Receive, event: asyncio.Event) -> None:
        with contextlib.suppress(Exception):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    event.set()
                    return

    def _description(self, scope: Scope, headers: dict[str, str], accept: str | None,
                     formats: list[str]) -> tuple[int, bytes, dict[str, str]]:
        ranges = parse_accept(accept)
        top = ranges[0][1] if ranges else 0.0
        wants_html = named_offer(RDF_OFFERS, formats) is None and top > 0 and any(
            media in ("text/html", "application/xhtml+xml") for media, q in ranges if q == top)
        if wants_html and self.page is not None:
            return 200, self.page(scope), {"Content-Type": "text/html; charset=utf-8",
                                            "Vary": "Accept"}
        offer = negotiate(RDF_OFFERS, accept, formats, refusals=True)
        fmt = None if offer is None else offer.format
        if fmt is None:
            raise ProtocolError(406, "The service description is RDF: ask for text/turtle, "
                                     "application/ld+json, application/n-triples or "
                                     "application/rdf+xml.")
        body = self.describe(self.public_url(scope, headers), fmt)
        return 200, body, {"Content-Type": fmt.content_type, "Vary": "Accept"}
