"""The REST/JSON API: named queries as typed endpoints, and the catalogue's resources as JSON-LD.

- `/api/queries/{name}`: every `queries/*.rq`, its declared parameters checked and bound (never
  pasted), answers as plain JSON objects or CSV, paged with `limit`/`offset`, `Link` headers and
  the true total.
- `/api/regions`, `/api/packages`, `/api/chains`, `/api/services`, `/api/producers`,
  `/api/service-classes`: filterable, paged lists; each item also at its own URL, as JSON-LD
  with the context published at `/api/context.jsonld`. A list is a page of a
  `hydra:Collection` (`collection_page`; `ketju.infra.jsonld` says how its keys are RDF).

Every URL in an answer (`@context`, `page`, `api`, `Link`) starts from the public base URL
(`ketju.web.http.public_base_url`: `--public-base-url`, else a checked `Host`), and a `Link`
header repeats only the parameters the route declares. IRI parameters are capped at
`MAX_IRI_CHARS` characters (400 beyond). CSV answers are made safe for spreadsheets
(`ketju.infra.sparql.results.spreadsheet_cell`); JSON keeps every value as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Body, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ketju.core import kinds as registry
from ketju.core.kinds import Kind
from ketju.core.lifecycle import STATE_WORDS, STATUS_WORDS
from ketju.core.namespaces import ID, JHS183_SCHEME, ONTOLOGY, VOCAB, organiser_iri
from ketju.core.queries import (
    MAX_IRI_CHARS,
    MAX_LANG_CHARS,
    MAX_LIST,
    MAX_STRING,
    NamedQuery,
    ParameterError,
)
from ketju.domain.compare import chain_iri
from ketju.domain.entities import names_of
from ketju.domain.reuse import ReuseError, derive_chain
from ketju.infra.jsonld import Compactor, context
from ketju.infra.snapshot import Snapshot
from ketju.infra.sparql.analysis import analyse
from ketju.infra.sparql.results import spreadsheet_cell
from ketju.web.http import (
    JSON_OR_CSV,
    build_etag,
    cache_headers,
    negotiate_request,
    problem,
    public_base_url,
    unchanged,
)
from ketju.web.openapi_docs import JSONLDResponse
from ketju.web.services import ServicesDep, SnapshotDep

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long")}


class Problem(BaseModel):
    """An error answer: the HTTP status and a plain-language reason."""

    status: int
    detail: str


class QueryAnswer(BaseModel):
    """A page of a named query's answer."""

    query: str
    parameters: dict[str, Any]
    total: int = Field(description="Rows in the whole answer, not only this page.")
    limit: int
    offset: int
    items: list[dict[str, Any]]


class QueryParameter(BaseModel):
    name: str
    type: str
    required: bool
    description: str
    default: Any = None
    example: Any = None
    values: list[str] = []


class QueryDescription(BaseModel):
    name: str
    summary: str
    description: str
    parameters: list[QueryParameter]
    url: str


class Item(BaseModel):
    """A resource in a list: JSON-LD under the published context."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")
    id: str = Field(alias="@id")
    type: str = Field(alias="@type")
    label: dict[str, str] = Field(description="Names by language (fi, sv, en).")
    page: str = Field(description="The HTML page of the resource.")
    api: str = Field(description="The resource at its own API URL.")
    region: str | None = None
    organiser: str | None = None
    producerType: str | None = None
    notation: str | None = None
    broader: str | None = None


class PageView(BaseModel):
    """This page of a list (`hydra:PartialCollectionView`) and the pages around it."""

    model_config = ConfigDict(populate_by_name=True)
    id: str = Field(alias="@id", description="This page's URL.")
    type: str = Field(alias="@type", default="PartialCollectionView")
    first: str
    previous: str | None = Field(default=None, description="Absent on the first page.")
    next: str | None = Field(default=None, description="Absent on the last page.")
    last: str
    limit: int
    offset: int


class ItemPage(BaseModel):
    """A page of a list: JSON-LD, a `hydra:Collection` whose members are `items`."""

    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")
    id: str = Field(alias="@id", description="The whole list's URL (without paging).")
    type: str = Field(alias="@type", default="Collection")
    total: int = Field(description="Items in the whole list (hydra:totalItems).")
    limit: int
    offset: int
    view: PageView
    items: list[Item] = Field(description="This page's items (hydra:member).")


PROBLEMS = {400: {"model": Problem, "description": "A parameter is wrong; the reason says why."},
            404: {"model": Problem, "description": "No such resource."}}
#: The same for routes whose success is JSON-LD: their problems are still plain JSON.
PROBLEMS_LD: dict[int | str, Any] = {
    status: {"description": entry["description"], "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for status, entry in PROBLEMS.items()}


def plain(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Any:
    """A term as a plain JSON value: IRIs and texts as strings, numbers and booleans as such."""
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in NUMERIC:
            try:
                number = float(term.value)
            except ValueError:
                return term.value
            return int(number) if number.is_integer() and "." not in term.value else number
        if datatype == XSD + "boolean":
            return term.value == "true"
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return term.value if isinstance(term, ox.NamedNode) else str(term)


def page_urls(request: Request, total: int, limit: int, offset: int,
              keep: Collection[str]) -> dict[str, str]:
    """The URLs of a paged answer: `collection` (the list without paging), `page` (this page)
    and its `first`, `previous`, `next` and `last` pages (those that exist): this URL under the
    public base, with the request's parameters named in `keep` (those the route declares and
    checked; anything else a client adds is not repeated)."""
    params = [(k, v) for k, v in request.query_params.multi_items()
              if k in keep and k != "offset"]
    base = public_base_url(request) + quote(request.url.path)

    def url(at: int) -> str:
        return base + "?" + urlencode([*params, ("offset", str(at))])

    unpaged = [(k, v) for k, v in params if k != "limit"]
    urls = {"collection": base + ("?" + urlencode(unpaged) if unpaged else ""),
            "page": url(offset), "first": url(0)}
    if offset > 0:
        urls["previous"] = url(max(0, offset - limit))
    if offset + limit < total:
        urls["next"] = url(offset + limit)
    urls["last"] = url(max(0, ((total - 1) // limit) * limit) if total else 0)
    return urls


#: The `Link` relation of each page (RFC 8288 names the previous page `prev`).
LINK_RELATIONS = {"first": "first", "previous": "prev", "next": "next", "last": "last"}


def link_header(request: Request, total: int, limit: int, offset: int,
                keep: Collection[str]) -> str:
    """`Link` to the first, previous, next and last page (`page_urls`)."""
    urls = page_urls(request, total, limit, offset, keep)
    return ", ".join(f'<{urls[name]}>; rel="{relation}"'
                     for name, relation in LINK_RELATIONS.items() if name in urls)


def collection_page(request: Request, context_url: str | dict[str, Any], total: int,
                    limit: int, offset: int, items: list[dict[str, Any]],
                    keep: Collection[str], **extra: Any) -> dict[str, Any]:
    """A list answer as JSON-LD: a page of a `hydra:Collection` (`items` its members, `total`
    its `hydra:totalItems`) with `view`, the `hydra:PartialCollectionView` of this page and its
    neighbours. `total`, `limit`, `offset` and `items` stay where plain JSON clients read
    them."""
    urls = page_urls(request, total, limit, offset, keep)
    view = {"@id": urls["page"], "@type": "PartialCollectionView",
            **{name: urls[name] for name in LINK_RELATIONS if name in urls},
            "limit": limit, "offset": offset}
    return {"@context": context_url, "@id": urls["collection"], "@type": "Collection",
            **extra, "total": total, "limit": limit, "offset": offset, "view": view,
            "items": items}


def run_named(snapshot: Snapshot, query: NamedQuery,
              bindings: dict[str, Any]) -> list[dict[str, Any]]:
    """A named query's whole answer as plain rows, kept in the snapshot's cache (by query and
    parameters), so paging through it does not run it again."""
    key = ("rows", query.name, repr(sorted((k, str(v)) for k, v in bindings.items())))
    if (rows := snapshot.cache.get(key)) is not None:
        return rows  # type: ignore[no-any-return]
    if analyse(query.body).form == "CONSTRUCT":
        rows = [{"subject": plain(t.subject), "predicate": plain(t.predicate),
                 "object": plain(t.object)}
                for t in snapshot.data.construct(query.body, bindings)]
    else:
        rows = [{k: plain(v) for k, v in row.items()}
                for row in snapshot.data.select(query.body, bindings)]
    snapshot.cache.put(key, rows)
    return rows


def _openapi_parameter(param: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "iri": {"type": "string", "format": "uri", "maxLength": MAX_IRI_CHARS},
        "string": {"type": "string", "maxLength": MAX_STRING},
        "lang": {"type": "string", "pattern": "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                 "maxLength": MAX_LANG_CHARS},
        "integer": {"type": "integer", "minimum": -99999999999, "maximum": 999999999999},
        "enum": {"type": "string", "enum": list(param.values)},
        # No maxLength on the items: 100 IRIs of 2,000 characters would not fit in a request
        # line (the HTTP server takes about 64 KiB); the cap is checked and in the description.
        "list": {"type": "array", "items": {"type": "string", "format": "uri"},
                 "maxItems": MAX_LIST},
        "date": {"type": "string", "format": "date"},
    }[param.type]
    if param.default is not None:
        schema["default"] = param.default
    description = param.description or param.name
    if param.type == "list":
        description += f" (at most {MAX_LIST} IRIs of at most {MAX_IRI_CHARS} characters)"
    spec: dict[str, Any] = {"name": param.name, "in": "query", "required": param.required,
                            "description": description, "schema": schema}
    if param.type == "list":
        spec["style"], spec["explode"] = "form", True
    if param.example is not None:
        spec["example"] = param.example
    return spec


PAGING = [
    {"name": "limit", "in": "query", "required": False, "description": "Rows per page.",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}},
    {"name": "offset", "in": "query", "required": False, "description": "Rows to skip.",
     "schema": {"type": "integer", "minimum": 0, "default": 0}},
    {"name": "format", "in": "query", "required": False,
     "description": "json (default) or csv; overrides Accept (another value falls back to "
                    "Accept).",
     "schema": {"type": "string", "enum": ["json", "csv"]}},
]


def _paging(request: Request) -> tuple[int, int] | Response:
    try:
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        return problem(400, "limit and offset must be whole numbers.")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return problem(400, f"limit must be 1–{MAX_LIMIT} and offset 0 or more.")
    return limit, offset


def _csv(rows: list[dict[str, Any]], page: list[dict[str, Any]]) -> str:
    """A page of rows as CSV, with the columns of the whole answer; text that a spreadsheet
    would run as a formula gets a leading quote."""
    columns = sorted({k for row in rows for k in row}, key=str)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: spreadsheet_cell(v) if isinstance(v, str) else v
                      for k, v in row.items()} for row in page)
    return buffer.getvalue()


def answer_named(query: NamedQuery, request: Request, snapshot: Snapshot) -> Response:
    """`/api/queries/{name}`: a page of a named query's answer, as JSON or CSV."""
    paging = _paging(request)
    if isinstance(paging, Response):
        return paging
    limit, offset = paging
    raw: dict[str, str | list[str]] = {}
    for name in {k for k in request.query_params if k not in ("limit", "offset", "format")}:
        values = request.query_params.getlist(name)
        raw[name] = values if len(values) > 1 else values[0]
    try:
        bindings = query.bindings(raw)
    except ParameterError as error:
        return problem(400, str(error))
    rows = run_named(snapshot, query, bindings)
    page = rows[offset:offset + limit]
    declared = {p.name for p in query.params} | {"limit", "format"}
    headers = {"Link": link_header(request, len(rows), limit, offset, declared),
               "X-Total-Count": str(len(rows)), "Cache-Control": "public, max-age=60"}
    offer = negotiate_request(request, JSON_OR_CSV, default=JSON_OR_CSV[0])
    if offer is not None and offer.name == "csv":
        return Response(_csv(rows, page), media_type="text/csv; charset=utf-8",
                        headers=headers)
    answer = {"query": query.name, "parameters": {k: str(v) for k, v in raw.items()},
              "total": len(rows), "limit": limit, "offset": offset, "items": page}
    return JSONResponse(answer, headers=headers)


def _named_endpoint(query: NamedQuery) -> Callable[..., Response]:
    # A closure, not a default argument: FastAPI would publish a defaulted parameter as a
    # request body, and a body could then replace the query text.
    def endpoint(request: Request, snapshot: SnapshotDep) -> Response:
        return answer_named(query, request, snapshot)

    return endpoint


def named_query_routes(app: FastAPI, queries: Mapping[str, NamedQuery]) -> None:
    """One GET route per named query, with its parameters in the OpenAPI document (the
    queries are the project's, so these routes are made with the app)."""
    for query in queries.values():
        app.add_api_route(
            f"/api/queries/{query.name}", _named_endpoint(query), methods=["GET"],
            tags=["Named queries"],
            summary=query.summary, description=query.description or query.summary,
            response_model=QueryAnswer, responses={**PROBLEMS, 200: {"content": {
                "text/csv": {"schema": {"type": "string"}}}}},
            openapi_extra={"parameters": [_openapi_parameter(p) for p in query.params]
                           + PAGING},
            operation_id=f"query_{query.name.replace('-', '_')}",
        )


#: The parameters of the resource lists that their `Link` headers carry.
FILTERS = ("region", "segment", "serviceClass", "producerType", "status", "state", "valid_on",
           "limit")
#: The kinds the API lists, by their path (`/api/{kind.api}`), from the registry of kinds.
LISTED = {kind.api: kind for kind in registry.KINDS if kind.api and kind.list_query}

#: `/api/...`: the catalogue's resources as JSON-LD, filtered and paged.
router = APIRouter(prefix="/api", tags=["Resources"])


def compactor(snapshot: Snapshot) -> tuple[Compactor, dict[str, Any]]:
    """The JSON-LD context of the snapshot's ontology and its compactor, made once per
    snapshot."""
    def make() -> tuple[Compactor, dict[str, Any]]:
        rows = snapshot.select("ontology-properties")
        document = context([(r["property"].value, r["kind"].value,
                             r["range"].value if "range" in r else None) for r in rows])
        return Compactor(document), document

    return snapshot.kept("jsonld-context", make)


def item_page(request: Request, data_base: str, snapshot: Snapshot,
              iris: list[tuple[str, dict[str, Any]]], total: int, limit: int, offset: int,
              type_name: str, linked: Collection[str]) -> dict[str, Any]:
    """A page of a resource list (`collection_page`): each IRI with its names, page and API
    URL and the extra properties given (those without a value left out)."""
    names = names_of(snapshot, [iri for iri, _ in iris])
    base = public_base_url(request)
    listed = []
    for iri, extra in iris:
        local = iri.removeprefix(data_base)
        listed.append({
            "@id": iri, "@type": type_name,
            "label": dict(sorted(names[iri].values.items())) if iri in names else {},
            "page": base + "/" + local if iri.startswith(data_base)
            else base + "/resource?" + urlencode({"iri": iri}),
            "api": extra.pop("api"), **{k: v for k, v in extra.items() if v}})
    return collection_page(request, base + "/api/context.jsonld", total, limit, offset,
                           listed, linked)


def paged(request: Request, data_base: str, snapshot: Snapshot,
          listed: list[tuple[str, dict[str, Any]]], limit: int, offset: int, type_name: str,
          linked: Collection[str], **headers: str) -> JSONResponse:
    """The answer of a resource list: one page of `listed`, with its `Link` header."""
    body = item_page(request, data_base, snapshot, listed[offset:offset + limit],
                     len(listed), limit, offset, type_name, linked)
    return JSONResponse(body, headers={
        "Link": link_header(request, len(listed), limit, offset, linked), **headers})


def jsonld_item(request: Request, snapshot: Snapshot, iri: str, type_iri: str) -> Response:
    """One resource as JSON-LD under the published context; 404 unless it is a `type_iri`.

    Its statements and those of its steps and hand-overs (`entity-rdf`), as the store has
    them: not `entity_rdf`'s names of linked nodes, which the answer does not embed (and
    whose rdfs:label, entailed, the store does not hold)."""
    triples = snapshot.construct("entity-rdf", entity=ox.NamedNode(iri))
    subject, of_type = ox.NamedNode(iri), ox.NamedNode(type_iri)
    if not any(t.subject == subject and t.predicate.value.endswith("#type")
               and t.object == of_type for t in triples):
        name = type_iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return problem(404, f"There is no {name} <{iri}> in the catalogue.")
    compact, _ = compactor(snapshot)
    node = compact.node(iri, triples)
    base = public_base_url(request)
    body = {"@context": base + "/api/context.jsonld", **node}
    return JSONLDResponse(body, headers={"Link": f'<{base}/api/context.jsonld>; '
                                         'rel="http://www.w3.org/ns/json-ld#context"'})


@router.get("/context.jsonld", summary="The JSON-LD context of every API answer",
            response_class=JSONLDResponse,
            responses={304: {"description": "Not modified since the ETag given."}})
def jsonld_context(request: Request, snapshot: SnapshotDep) -> Response:
    # Fetched by a JSON-LD processor for every answer it reads: an ETag of the build lets it
    # keep its copy.
    headers = cache_headers(build_etag(snapshot.version, "jsonld-context"), vary=None)
    if (answer := unchanged(request, headers)) is not None:
        return answer
    _, document = compactor(snapshot)
    return JSONLDResponse(document, headers=headers)


def list_kind(kind: Kind, request: Request, data_base: str, snapshot: Snapshot,
              filters: dict[str, str | None], limit: int, offset: int) -> Response:
    """`/api/{kind.api}`: the kind's list query with the filters given, one page of it."""
    assert kind.list_query is not None and kind.segment is not None and kind.api is not None
    query = snapshot.queries[kind.list_query]
    declared = {p.name for p in query.params}
    raw: dict[str, str | list[str]] = {}
    if region := filters.pop("region"):
        # A query that knows regions by their folder takes the name; the others take the
        # region's organiser.
        if "region" in declared:
            raw["region"] = region
        else:
            raw["organiser"] = organiser_iri(region)
    for name, value in filters.items():
        if value and name in declared:
            raw[name] = value
        elif value:
            return problem(400, f"{kind.api} cannot be filtered by {name}.")
    try:
        bindings = query.bindings(raw)
    except ParameterError as error:
        return problem(400, str(error))
    base = public_base_url(request)
    seen: dict[str, dict[str, Any]] = {}
    for row in snapshot.data.select(query.body, bindings):
        iri = row[kind.segment].value
        if iri in seen:
            continue
        path = iri.removeprefix(ID).replace(f"/{kind.segment}/", "/", 1)
        seen[iri] = {
            "api": f"{base}/api/{kind.api}/{path}",
            "region": iri.removeprefix(ID).split("/", 1)[0],
            "organiser": row["organiser"].value if "organiser" in row else None,
            # A producer's own type; for other kinds ?producerType is a filter's value.
            "producerType": row["producerType"].value if "producerType" in row
            and kind.iri == ONTOLOGY + "Producer" else None,
        }
    listed = list(seen.items())
    return paged(request, data_base, snapshot, listed, limit, offset, kind.name, FILTERS,
                 **{"X-Total-Count": str(len(listed))})


def _kind_routes(kind: Kind) -> None:
    """`/api/{kind.api}` (the list) and `/api/{kind.api}/{region}/{slug}` (one)."""
    assert kind.api is not None

    def listing(
        request: Request, services: ServicesDep, snapshot: SnapshotDep,
        region: Annotated[str | None, Query(pattern=SLUG, max_length=60,
                          description="A region's short name, e.g. pohjois-savo.")] = None,
        segment: Annotated[str | None, Query(max_length=MAX_IRI_CHARS,
                           description="IRI of a target segment.")] = None,
        serviceClass: Annotated[str | None, Query(max_length=MAX_IRI_CHARS,
                                description="IRI of a JHS 183 service class.")] = None,
        producerType: Annotated[str | None, Query(max_length=MAX_IRI_CHARS,
                                description="IRI of a producer type.")] = None,
        status: Annotated[str | None, Query(
            max_length=40, json_schema_extra={"enum": list(STATUS_WORDS)},
            description="The status of the description: draft, proposed, approved or "
                        "retired (replaced or withdrawn).")] = None,
        state: Annotated[str | None, Query(
            max_length=40, json_schema_extra={"enum": list(STATE_WORDS)},
            description="current (the current state) or target (the target model).")] = None,
        valid_on: Annotated[str | None, Query(
            max_length=40, json_schema_extra={"format": "date"},
            description="A day (YYYY-MM-DD) on which the description is valid: its validity "
                        "starts on or before it and ends on or after it, where the description "
                        "gives them. Add status=approved for the descriptions in force "
                        "that day.")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Any:
        filters = {"region": region, "segment": segment, "serviceClass": serviceClass,
                   "producerType": producerType, "status": status, "state": state,
                   "valid_on": valid_on}
        return list_kind(kind, request, services.settings.data_base, snapshot, filters, limit,
                         offset)

    def item(request: Request, snapshot: SnapshotDep,
             region: Annotated[str, Path(pattern=SLUG, max_length=60)],
             slug: Annotated[str, Path(pattern=SLUG, max_length=200)]) -> Any:
        return jsonld_item(request, snapshot, f"{ID}{region}/{kind.segment}/{slug}", kind.iri)

    operation = kind.api.replace("-", "_")
    router.add_api_route(f"/{kind.api}", listing, methods=["GET"], response_model=ItemPage,
                         summary=f"The catalogue's {kind.api}, filtered and paged",
                         responses=PROBLEMS, operation_id=f"list_{operation}")
    router.add_api_route(f"/{kind.api}/{{region}}/{{slug}}", item, methods=["GET"],
                         summary=f"One of the {kind.api} as JSON-LD", responses=PROBLEMS_LD,
                         response_class=JSONLDResponse, operation_id=f"get_{operation}")


for _kind in LISTED.values():
    _kind_routes(_kind)


@router.get("/regions", response_model=ItemPage, summary="The regions and their organisers",
            operation_id="list_regions")
def regions(request: Request, state: ServicesDep, snapshot: SnapshotDep,
            limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
            offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    base = public_base_url(request)
    listed = []
    for row in snapshot.select("regions"):
        slug = row["region"].value.removeprefix(VOCAB + "region/")
        listed.append((row["region"].value, {
            "api": f"{base}/api/regions/{slug}", "region": slug,
            "organiser": row["organiser"].value,
            "notation": row["code"].value if "code" in row else None}))
    return paged(request, state.settings.data_base, snapshot, listed, limit, offset, "Region",
                 ("limit",))


@router.get("/regions/{slug}", summary="A region as JSON-LD", responses=PROBLEMS_LD,
            response_class=JSONLDResponse, operation_id="get_region")
def region(request: Request, snapshot: SnapshotDep,
           slug: Annotated[str, Path(pattern=SLUG, max_length=60)]) -> Any:
    return jsonld_item(request, snapshot, f"{VOCAB}region/{slug}", ONTOLOGY + "Region")


@router.get("/service-classes", response_model=ItemPage, responses=PROBLEMS,
            summary="The JHS 183 service classes", operation_id="list_service_classes")
def service_classes(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    broader: Annotated[str | None, Query(max_length=MAX_IRI_CHARS,
                       description="IRI of a parent class.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    query = snapshot.queries["resource-service-classes"]
    try:
        bindings = query.bindings({"broader": broader} if broader else {})
    except ParameterError as error:
        return problem(400, str(error))
    base = public_base_url(request)
    listed = [(row["class"].value, {
        "api": f"{base}/api/service-classes/{row['notation'].value}",
        "notation": row["notation"].value,
        "broader": row["parent"].value if "parent" in row else None})
        for row in snapshot.data.select(query.body, bindings)]
    return paged(request, state.settings.data_base, snapshot, listed, limit, offset,
                 "ServiceClass", ("broader", "limit"))


@router.get("/service-classes/{code}", summary="A JHS 183 service class as JSON-LD",
            responses=PROBLEMS_LD, response_class=JSONLDResponse,
            operation_id="get_service_class")
def service_class(request: Request, snapshot: SnapshotDep,
                  code: Annotated[str, Path(pattern=r"^P[0-9]+(\.[0-9]+)*$",
                                            max_length=20)]) -> Any:
    iri = f"{JHS183_SCHEME}/code/{code}"
    return jsonld_item(request, snapshot, iri, ONTOLOGY + "ServiceClass")


@router.get("/queries", response_model=list[QueryDescription],
            summary="The named queries and their parameters", operation_id="list_queries")
def queries(request: Request, snapshot: SnapshotDep) -> Any:
    base = public_base_url(request)
    return [QueryDescription(
        name=q.name, summary=q.summary, description=q.description,
        url=f"{base}/api/queries/{q.name}",
        parameters=[QueryParameter(
            name=p.name, type=p.type, required=p.required, description=p.description,
            default=p.default, example=p.example, values=list(p.values))
            for p in q.params]) for q in snapshot.queries.values()]


@router.post(
    "/chains/{region}/{slug}/reuse", tags=["Compare and reuse"],
    summary="Derive a draft of this chain for another region (Turtle; nothing is stored)",
    responses={**PROBLEMS, 200: {"content": {"text/turtle": {"schema": {"type": "string"}}},
                                 "description": "The derived chain as Turtle."}},
    response_class=Response, operation_id="reuse_chain")
def reuse_chain(
    snapshot: SnapshotDep,
    region: Annotated[str, Path(pattern=SLUG, max_length=60)],
    slug: Annotated[str, Path(pattern=SLUG, max_length=200)],
    into: Annotated[str, Query(pattern=SLUG, max_length=60,
                               description="The target region's short name.")],
    producers: Annotated[dict[str, str] | None, Body(
        description="Source producer IRI -> target producer IRI.")] = None,
) -> Response:
    try:
        derived = derive_chain(snapshot, chain_iri(f"{region}/{slug}"), into,
                               producer_map=producers)
    except ReuseError as error:
        status = 404 if str(error).startswith("There is no service chain") else 400
        return problem(status, str(error))
    filename = f"{slug}-{region}.ttl"
    return Response(derived.turtle, media_type="text/turtle; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Ketju-Placeholders": str(len(derived.placeholders))})
