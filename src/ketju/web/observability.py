"""Request ids, access log lines and Prometheus metrics for every request.

A plain ASGI middleware (it wraps the raw /sparql app too). Each request gets an id (the
client's X-Request-Id when it is a sane token, else a new one), echoed in the response and in
one access log line with its duration. With several server processes the metrics are collected
through prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by `ketju serve`).
The SPARQL guard's own counters are in ketju.infra.sparql.metrics (below the web layer); /metrics
shows them with these.

What a client sent is logged inert (`printable`): a decoded `%0A` in a path cannot start a
forged log line, nor a `%1B` an escape sequence in a terminal; long paths are cut.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

access_log = logging.getLogger("ketju.access")

REQUESTS = Counter("ketju_http_requests_total", "HTTP requests by route, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("ketju_http_request_duration_seconds", "Time to answer, by route", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                             5, 10, 30, 60))
#: Pages and API answers sent from the snapshot's cache of kept answers (`pages.kept`): how
#: often a visitor is spared making the answer afresh.
KEPT_ANSWERS = Counter("ketju_kept_answers_total",
                       "Answers sent from the cache of kept answers (pages, compare, search)")

_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: Most characters of a path written into the access log.
LOGGED_PATH_CHARS = 2000
KNOWN_ROUTES = ("sparql", "graph-store", "id", "api", "feeds", "healthz", "metrics", "search",
                "static", "compare", "dumps", "catalog", ".well-known", "docs", "openapi.json")


def route_of(path: str) -> str:
    first = path.strip("/").split("/", 1)[0]
    return "/" + first if first in KNOWN_ROUTES else ("/" if not first else "/other")


def printable(text: str, limit: int = LOGGED_PATH_CHARS) -> str:
    r"""`text` safe to write into a log line: backslashes, control characters and other
    non-printable characters (line and paragraph separators, bidirectional overrides) as
    Python-style escapes, cut at `limit` characters (then ending in `...`).

    >>> print(printable("/id/x\nGET /admin 200"))
    /id/x\x0aGET /admin 200
    >>> print(printable("/id/\u202egnp.exe\\"))
    /id/\u202egnp.exe\\
    """
    cut = text[:limit]
    if not cut.isprintable() or "\\" in cut:
        cut = "".join(c if c.isprintable() and c != "\\" else _escape(c) for c in cut)
    return cut + ("..." if len(text) > limit else "")


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\\":
        return "\\\\"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def metrics_text() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class Observability:
    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_of(scope["path"])
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            LATENCY.labels(route).observe(elapsed)
            access_log.info("%s %s %s %d %.1fms", request_id, printable(scope["method"], 20),
                            printable(scope["path"]), status, elapsed * 1000)
