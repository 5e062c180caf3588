"""HTTP helpers of the web layer: the public URL of a request and problem answers.

Every URL an answer carries (JSON-LD `@context`, `page` and `api` links, `Link` headers, feed
IRIs) starts from `public_base_url`. With `--public-base-url` set (as it should be on a public
server) the client's `Host` header never reaches an answer; without it, only a `Host` that is a
plain host name or address is used, so markup, paths or spaces cannot get in. Errors are
`{"status", "detail"}` JSON (`problem`), the same for every route; a request whose parameters
FastAPI refuses gets 400 with the reason, never the value echoed back.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

#: A host name, an IPv4 address or a bracketed IPv6 address, with an optional port: what a
#: `Host` header may be (RFC 9110 7.2) without user info, path, query or spaces.
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
#: The longest host name DNS allows, plus room for a port.
_MAX_HOST = 260


def public_base_url(request: Request) -> str:
    """The server's public URL without a trailing slash.

    The setting `public_base_url` (`--public-base-url`) when it is set; else the scheme and
    `Host` of the request, when the `Host` is a plain host name or address with an optional
    port; else the address the server listens on.
    """
    configured: str | None = request.app.state.services.settings.public_base_url
    if configured:
        return configured.rstrip("/")
    scheme = request.url.scheme if request.url.scheme in ("http", "https") else "http"
    host = request.headers.get("host", "")
    if len(host) > _MAX_HOST or not _HOST.fullmatch(host):
        server = request.scope.get("server")
        if server and server[0]:
            address = f"[{server[0]}]" if ":" in server[0] else server[0]
            host = f"{address}:{server[1]}" if server[1] else address
        else:
            host = "localhost"
    return f"{scheme}://{host.lower()}"


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error answer: the status and a plain-language reason, as JSON."""
    return JSONResponse({"status": status, "detail": detail}, status_code=status,
                        headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """Where a refused value was: `query parameter iri`, `path parameter slug`, `body`."""
    place = str(loc[0]) if loc else "request"
    names = [str(part)[:80] for part in loc[1:]]
    return f"{place} parameter {'.'.join(names)}" if names else place


def validation_detail(error: RequestValidationError) -> str:
    """The reasons FastAPI refused a request, without the values themselves (a refused value
    may be 60 KB or carry markup: it is not repeated back)."""
    reasons = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'not valid')}"
               for e in error.errors()[:5]]
    return "; ".join(reasons) + "."


def install_problem_handlers(app: FastAPI) -> None:
    """Parameters that do not fit their declared type or length get 400 and the reason."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(400, validation_detail(error))

    del invalid_request
