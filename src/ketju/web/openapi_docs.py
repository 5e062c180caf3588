"""What the OpenAPI document says routes answer: media types and statuses, so that generated
clients (and the schemathesis test) see every status and content type a route really sends;
and the pages that show it: `/docs`, a page of the site made from the document
(`api_reference`: plain HTML in the site's languages, no script), and `/docs/try`, Swagger UI to
try the calls, served with its script and styles from this server: it works without a network,
loads nothing from another site and runs under the site's Content-Security-Policy (no inline
script: it is started by `/static/openapi-docs.js`).
`/docs/assets/` holds Swagger UI's released files (package `fastapi-offline`). `/redoc`
redirects to `/docs`: ReDoc fetches its logo from its maker's CDN and starts its search in a
`blob:` worker, which the policy refuses.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ketju.infra.sparql.formats import RDF_FORMATS

RDF_MEDIA = tuple(fmt.media_type for fmt in RDF_FORMATS)
_TEXT = {"schema": {"type": "string"}}
_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

_STATUS_TEXT = {
    304: "Not modified since the ETag or date given.",
    400: "A parameter is wrong; the reason says why.",
    404: "No such resource.",
    406: "None of the offered formats is acceptable; the answer lists them.",
    429: "Too many queries from this address at once; retry after Retry-After seconds.",
    503: "Not available in this mode (for example remote mode); the reason says why.",
}


class JSONLDResponse(JSONResponse):
    """JSON that is also RDF: answered as application/ld+json."""

    media_type = "application/ld+json"


def answers(description: str, *media: str, statuses: tuple[int, ...] = (),
            problem_media: tuple[str, ...] = ("application/json",)) -> dict[int | str, Any]:
    """A `responses=` mapping: 200 in the given media types, plus the listed error statuses
    (their body in `problem_media`; 304 has none)."""
    documented: dict[int | str, Any] = {
        200: {"description": description, "content": {m: _TEXT for m in media}}}
    for status in statuses:
        entry: dict[str, Any] = {"description": _STATUS_TEXT[status]}
        if status != 304:
            entry["content"] = {m: _PROBLEM.get(m, _TEXT)
                                for m in problem_media}
        documented[status] = entry
    return documented


# --- /docs: the API reference as a page of the site ------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    where: str
    required: bool
    kind: str
    description: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    media: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    body: tuple[str, ...]
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class OperationGroup:
    tag: str
    anchor: str
    operations: tuple[Operation, ...]


def _kind(schema: dict[str, Any]) -> str:
    """A parameter's schema in a few words: type, allowed values, bounds."""
    if "anyOf" in schema:
        return " | ".join(_kind(s) for s in schema["anyOf"] if s.get("type") != "null")
    if schema.get("type") == "array":
        return f"[{_kind(schema.get('items', {}))}]"
    words = [str(schema.get("type", "string"))]
    if "enum" in schema:
        words.append("(" + ", ".join(str(v) for v in schema["enum"]) + ")")
    for key, sign in (("minimum", "≥"), ("maximum", "≤"), ("maxLength", "length ≤")):
        if key in schema:
            words.append(f"{sign} {schema[key]}")
    return " ".join(words)


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def api_reference(spec: dict[str, Any]) -> list[OperationGroup]:
    """The OpenAPI document as groups of operations (by their first tag, in the order the
    document first names them), for a plain page that needs no script: what Swagger UI shows,
    readable by screen readers and on a phone."""
    groups: dict[str, list[Operation]] = {}
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or method not in ("get", "head", "post", "put", "delete"):
                continue
            parameters = tuple(
                Parameter(p["name"], p.get("in", ""), bool(p.get("required")),
                          _kind(p.get("schema", {})), p.get("description", ""))
                for p in op.get("parameters", []))
            answers = tuple(
                Answer(str(code), entry.get("description", ""),
                       tuple(entry.get("content", {})))
                for code, entry in sorted(op.get("responses", {}).items()))
            tag = (op.get("tags") or ["API"])[0]
            groups.setdefault(tag, []).append(Operation(
                method.upper(), path, _slug(f"{method} {path}"), op.get("summary", ""),
                op.get("description", ""), parameters,
                tuple(op.get("requestBody", {}).get("content", {})), answers))
    return [OperationGroup(tag, "tag-" + _slug(tag), tuple(ops)) for tag, ops in groups.items()]


# --- Swagger UI from files in a package, /redoc a redirect to it ------------------------------

#: Swagger UI as released, shipped by the `fastapi-offline` package (FastAPI's own page loads
#: it from a CDN, which leaves it blank without a network and trusts a third party with
#: scripts that run on this origin).
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"
#: Where Swagger UI is (to try the API in the browser); `/docs` is the site's own page of the
#: same document (ketju.web.pages), which works without a script and passes axe, which
#: Swagger UI's own markup does not (no main landmark or top heading, contrast, nested controls).
SWAGGER_UI = "/docs/try"

_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="{assets}/favicon.png">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _docs_html(title: str, head: str, body: str) -> str:
    return _DOCS_PAGE.format(title=html.escape(title), assets=ASSETS_URL, head=head, body=body)


def install_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI) from files in the package, started by a script file
    (`/static/openapi-docs.js`, no inline script), `/redoc` as a redirect to it; and the
    OpenAPI document's answer to refused parameters as 400 `Problem` (what
    `ketju.web.http` sends)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    swagger = _docs_html(
        f"{app.title}: API (Swagger UI)",
        f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">',
        f'<div id="swagger-ui" data-openapi-url="{html.escape(openapi_url)}"></div>\n'
        f'<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>\n'
        '<script src="/static/openapi-docs.js"></script>')

    @app.get(SWAGGER_UI, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> RedirectResponse:
        return RedirectResponse("/docs", status_code=308)

    del swagger_ui, redoc
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = refused_as_400(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object", "required": ["status", "detail"],
    "description": "An error answer: the HTTP status and a plain-language reason.",
    "properties": {"status": {"type": "integer", "title": "Status"},
                   "detail": {"type": "string", "title": "Detail"}}}


def refused_as_400(schema: dict[str, Any]) -> dict[str, Any]:
    """Document what the server sends for parameters it refuses: 400 with a `Problem` (see
    `ketju.web.http.install_problem_handlers`), not FastAPI's default 422."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is None:
                continue
            bad = responses.setdefault("400", {"description": _STATUS_TEXT[400]})
            bad.setdefault("content", {}).setdefault(
                "application/json", {"schema": {"$ref": "#/components/schemas/Problem"}})
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Problem", PROBLEM_SCHEMA)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema
