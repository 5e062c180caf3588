"""Talking to a remote SPARQL 1.1 engine (`ketju serve --sparql-endpoint URL`) safely.

Every call has a total deadline: sending, waiting and reading the whole answer together, so an
engine that never answers or trickles a byte at a time is cut off at the deadline (httpx's own
timeouts are per read, and a trickle resets them). What goes wrong becomes one exception,
`EngineUnavailable`, with the status and message the client is told: 504 when the engine did
not answer in time, 502 when it could not be reached or failed, 503 when too many requests
already wait for it. The server turns it into an answer (JSON for the API, a page for
browsers); nothing of it is a 500.

`post_query` is the async call (the SPARQL endpoint); `EngineClient` makes the same call
from worker threads (pages, API and feeds), with the same total deadline.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpcore
import httpx

log = logging.getLogger("ketju.remote")

#: Most characters of an engine's error text passed on to the client.
MESSAGE_CHARS = 500
#: Most bytes of an engine's error answer read (the rest is not needed for a message).
ERROR_BYTES = 64 * 1024


class EngineUnavailable(Exception):
    """The remote engine gave no usable answer; `status` and `message` are for the client."""

    def __init__(self, status: int, message: str, retry_after: int | None = None,
                 state: str = "failing") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        #: What it says about the engine (for /healthz): timeout, unreachable or failing.
        self.state = state


@dataclass(frozen=True)
class EngineAnswer:
    status: int
    content_type: str
    body: bytes


def too_late(timeout: float) -> EngineUnavailable:
    return EngineUnavailable(504, f"The SPARQL engine did not answer within {timeout:g} s.",
                             state="timeout")


async def post_query(client: httpx.AsyncClient, endpoint: str,
                     params: list[tuple[str, str]], accept: str,
                     timeout: float) -> EngineAnswer:
    """POST a query (SPARQL 1.1 Protocol, form-encoded) and read the whole answer, all within
    `timeout` seconds. An error status is returned with the start of its text, not raised."""
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(
                "POST", endpoint, content=urlencode(params).encode(),
                headers={"Accept": accept,
                         "Content-Type": "application/x-www-form-urlencoded"},
            ) as response:
                content_type = response.headers.get("content-type", "")
                if response.status_code >= 400:
                    return EngineAnswer(response.status_code, content_type,
                                        await _start_of(response, ERROR_BYTES))
                return EngineAnswer(response.status_code, content_type, await response.aread())
    except TimeoutError:
        raise too_late(timeout) from None
    except httpx.ConnectError as error:
        log.warning("SPARQL engine %s: %s", endpoint, error)
        raise EngineUnavailable(502, "The SPARQL engine could not be reached.",
                                state="unreachable") from None
    except httpx.RequestError as error:
        # Reset, broken off or garbled: the engine's end, said without its internals.
        log.warning("SPARQL engine %s: %r", endpoint, error)
        raise EngineUnavailable(502, "The connection to the SPARQL engine broke off before "
                                     "it answered.", state="unreachable") from None


async def _start_of(response: httpx.Response, limit: int) -> bytes:
    data = b""
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return data[:limit]


_DROPPED = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def engine_message(answer: EngineAnswer, limit: int = MESSAGE_CHARS) -> str:
    """The engine's error text as one plain line: no markup, no control characters, short."""
    text = answer.body.decode("utf-8", errors="replace")
    if "html" in answer.content_type.lower() or text.lstrip().startswith("<"):
        text = html.unescape(_TAG.sub(" ", _DROPPED.sub(" ", text)))
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > limit:
        text = text[:limit - 1].rstrip() + "…"
    return text


class EngineClient:
    """Connections to the engine for calls from worker threads (ketju's own queries), each
    call with a total deadline: every socket operation waits at most until the calling
    thread's deadline, so neither a silent engine nor one that trickles gets past it. The
    I/O stays in the calling thread (a hop to an event loop of its own cost two thirds of
    the calls per second at 16 threads, measured)."""

    def __init__(self, connections: int) -> None:
        self._deadline = threading.local()
        self._pool = httpcore.ConnectionPool(
            max_connections=connections, max_keepalive_connections=connections,
            network_backend=_DeadlineBackend(self._deadline))

    def post(self, endpoint: str, params: list[tuple[str, str]], accept: str,
             timeout: float) -> EngineAnswer:
        """POST a query and read the whole answer within `timeout` seconds (as `post_query`)."""
        self._deadline.at = time.monotonic() + timeout
        limits = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        try:
            with self._pool.stream(
                "POST", endpoint, content=urlencode(params).encode(),
                headers=[("Accept", accept), ("Content-Type", "application/x-www-form-urlencoded"),
                         ("User-Agent", "ketju")],
                extensions={"timeout": limits},
            ) as response:
                content_type = _header(response.headers, b"content-type")
                if response.status >= 400:
                    data = b""
                    for chunk in response.iter_stream():
                        data += chunk
                        if len(data) >= ERROR_BYTES:
                            break
                    return EngineAnswer(response.status, content_type, data[:ERROR_BYTES])
                return EngineAnswer(response.status, content_type, response.read())
        except httpcore.TimeoutException:
            raise too_late(timeout) from None
        except httpcore.ConnectError as error:
            log.warning("SPARQL engine %s: %s", endpoint, error)
            raise EngineUnavailable(502, "The SPARQL engine could not be reached.",
                                    state="unreachable") from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol,
                OSError) as error:
            log.warning("SPARQL engine %s: %r", endpoint, error)
            raise EngineUnavailable(502, "The connection to the SPARQL engine broke off before "
                                         "it answered.", state="unreachable") from None
        finally:
            self._deadline.at = None

    def close(self) -> None:
        self._pool.close()


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own sockets, with each wait cut to what is left of the thread's deadline."""

    def __init__(self, deadline: threading.local) -> None:
        self._deadline = deadline
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(
            host, port, _left(self._deadline, timeout, httpcore.ConnectTimeout), local_address,
            socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        stream = self._backend.connect_unix_socket(
            path, _left(self._deadline, timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: threading.local) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(self._deadline, timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(self._deadline, timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(
            ssl_context, server_hostname, _left(self._deadline, timeout, httpcore.ConnectTimeout)),
            self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


def _left(deadline: threading.local, timeout: float | None,
          late: type[httpcore.TimeoutException]) -> float | None:
    """The time one socket operation may wait: its own timeout, cut to the deadline."""
    at: float | None = getattr(deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise late("the deadline has passed")
    return left if timeout is None else min(timeout, left)
