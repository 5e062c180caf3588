"""Remote mode: what a client is told when the SPARQL engine gives no answer.

`RemoteCatalogue` raises `EngineUnavailable` with the status and message: 504 when the engine
did not answer within the deadline, 502 when it could not be reached or failed, 503 when too
many requests already wait for it (with Retry-After). One handler answers it on every route:
JSON `{"status", "detail"}` for the API and other clients, a page for browsers; never a 500.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from ketju.infra.store import EngineUnavailable
from ketju.web.http import problem
from ketju.web.pages import HTML, Site, label_html_context, page_format, page_language
from ketju.web.services import snapshot_of
from ketju.web.templating import render


async def engine_unavailable(request: Request, error: Exception) -> Response:
    """The engine gave no answer: a page for browsers, JSON for the others; never a 500."""
    assert isinstance(error, EngineUnavailable)
    # Rendered in the event loop from what is known (the build as last checked): the
    # answer to a failed call never waits for the engine again.
    headers = {"Cache-Control": "no-store"}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if not request.url.path.startswith("/api/") and page_format(request) == HTML:
        site = Site(request.app.state.services.settings, snapshot_of(request))
        lang = page_language(request)
        html = render("unavailable.html", lang, detail=error.message, build=site.build(),
                      path=request.url.path, query_lang=None, lang_query="",
                      **label_html_context(site, lang))
        return problem(error.status, error.message, headers, page=html)
    return problem(error.status, error.message, headers=headers)


def install_engine_errors(app: FastAPI) -> None:
    app.add_exception_handler(EngineUnavailable, engine_unavailable)
