"""Search (haku): the `/search` page and `/api/search`, both calling `ketju.infra.search`.

With the embedded store the index is the file the build wrote beside the store; a store built
without one (an older ketju) or a remote engine gets an index built here once per snapshot
(`search.index_for`, kept by the snapshot with its pooled connections).

The JSON answer is also JSON-LD, under its own inline context (`CONTEXT`): a page of a
`hydra:Collection` like the API's lists (`ketju.web.api.collection_page`) whose members are
the entities found (`@id`, their class as `@type`, `page` their HTML page). What belongs to the
search and not to the entity (the label picked, its language, snippet, score, kind in words,
region's short name) is JSON only: no term of the context maps it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from ketju.core import kinds as registry
from ketju.core.namespaces import FOAF, SKOS, organiser_iri
from ketju.domain import chains
from ketju.domain.entities import names_of
from ketju.infra import search
from ketju.infra.jsonld import COLLECTION_TERMS
from ketju.infra.snapshot import Snapshot
from ketju.web.api import (
    PROBLEMS,
    SLUG,
    collection_page,
    link_header,
    list_media,
    list_response,
)
from ketju.web.http import JSON_OR_HTML, negotiate_request
from ketju.web.i18n import translate
from ketju.web.pages import Site, kept, page_language, render_page
from ketju.web.services import ServicesDep, SnapshotDep

PAGE_SIZE = 20
#: The kinds a search can be narrowed to (class local names), as an enumeration for OpenAPI.
SearchKind = StrEnum("SearchKind", {k: k for k in (*search.KIND_CLASSES, "Concept")})
#: The parameters a search answer's `Link` header carries to the other pages.
LINKED_PARAMS = ("q", "lang", "kind", "region", "limit", "format")


def kind_label(kind: str, lang: str) -> str:
    """The kind in words; vocabulary concepts of other schemes are just "concept"."""
    label = translate("kind_" + kind, lang)
    return label if label != "kind_" + kind else translate("kind_Concept", lang)


#: The inline JSON-LD context of a search answer: the list's terms, and of an item only its
#: `page` (foaf:page); the other keys of an item are the search's, not the entity's.
CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    **{term: definition for term, definition in COLLECTION_TERMS.items()
       if term not in ("api", "region", "Region", "items")},
    "items": {**COLLECTION_TERMS["items"], "@context": {
        "page": {"@id": FOAF + "page", "@type": "@id"}}},
}
#: The class of each kind a hit can have (a SKOS concept of another scheme is a "Concept").
KIND_TYPES = {**{kind.name: kind.iri for kind in registry.KINDS if kind.searched},
              "Concept": SKOS + "Concept"}
#: The answer in the OpenAPI document (JSON that is JSON-LD).
SEARCH_PAGE: dict[str, Any] = {"type": "object", "required": [
    "@context", "@id", "@type", "query", "total", "limit", "offset", "view", "items"],
    "properties": {"@context": {"type": "object"}, "@id": {"type": "string"},
                   "@type": {"type": "string"}, "query": {"type": "string"},
                   "total": {"type": "integer"}, "limit": {"type": "integer"},
                   "offset": {"type": "integer"}, "view": {"type": "object"},
                   "items": {"type": "array", "items": {"type": "object",
                                                        "required": ["@id", "iri", "page"]}}}}


def _item(request: Request, site: Site, hit: search.Hit, lang: str) -> dict[str, Any]:
    item = {"@id": hit.iri, "iri": hit.iri, "page": site.href(hit.iri), "kind": hit.kind,
            "kindLabel": kind_label(hit.kind, lang), "region": hit.region,
            "label": hit.label, "labelLanguage": hit.label_lang or None,
            "snippet": hit.snippet, "score": round(hit.score, 4)}
    if (type_iri := KIND_TYPES.get(hit.kind)) is not None:
        item["@type"] = type_iri
    return item


#: `/search` and `/api/search`.
router = APIRouter()


def results(snapshot: Snapshot, q: str, lang: str, kind: list[SearchKind] | None,
            region: str | None, limit: int, offset: int) -> search.SearchResults:
    index = snapshot.kept("search-index", lambda: search.index_for(snapshot))
    return search.search(index, q, lang=lang, region=region, limit=limit,
                         offset=offset, kinds=[k.value for k in kind] if kind else None)


def json_answer(request: Request, site: Site, found: search.SearchResults, q: str,
                lang: str, limit: int, offset: int) -> JSONResponse:
    body = collection_page(request, CONTEXT, found.total, max(1, limit), offset,
                           [_item(request, site, hit, lang) for hit in found.hits],
                           LINKED_PARAMS, query=q)
    return list_response(request, body, {
        "Link": link_header(request, found.total, max(1, limit), offset, LINKED_PARAMS),
        "X-Total-Count": str(found.total)})


@router.get("/api/search", tags=["Search"], response_class=JSONResponse, responses={
    **PROBLEMS, 200: {"description": "A page of the entities found (JSON that is JSON-LD).",
                      "content": {"application/json": {"schema": SEARCH_PAGE}}}},
            operation_id="search", summary="Search labels and descriptions in fi, sv and en")
async def search_api(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    q: Annotated[str, Query(min_length=1, max_length=search.MAX_QUERY_CHARS,
                            description="Words to find; each must match (word starts, "
                            "or inside labels from three letters). Case and diacritics "
                            "do not matter.", examples=["lonkk"])],
    lang: Annotated[str, Query(pattern="^(fi|sv|en)$",
                               description="Language of labels and ranking")] = "fi",
    kind: Annotated[list[SearchKind] | None, Query(
        description="Only these kinds (repeatable)")] = None,
    region: Annotated[str | None, Query(pattern=SLUG, max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=search.MAX_LIMIT)] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    site = Site(state.settings, snapshot)

    def produce() -> Response:
        found = results(snapshot, q, lang, kind, region, limit, offset)
        return json_answer(request, site, found, q, lang, limit, offset)

    return await kept(request, site, f"search|{request.url}|{list_media(request)}", produce)


@router.api_route("/search", methods=["GET", "HEAD"], include_in_schema=False)
async def search_page(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    q: Annotated[str, Query(max_length=search.MAX_QUERY_CHARS)] = "",
    kind: Annotated[list[SearchKind] | None, Query()] = None,
    region: Annotated[str | None, Query(pattern=SLUG, max_length=60)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    lang = page_language(request)
    as_json = negotiate_request(request, JSON_OR_HTML) is JSON_OR_HTML[0]
    site = Site(state.settings, snapshot)

    def produce() -> Response:
        return search_answer(request, site, q, kind, region, page, lang, as_json)

    if request.method != "GET":
        return await run_in_threadpool(produce)
    return await kept(request, site, f"search|{request.url}|{lang}|{as_json}", produce)


def search_answer(request: Request, site: Site, q: str, kind: list[SearchKind] | None,
                  region: str | None, page: int, lang: str, as_json: bool) -> Response:
    assert site.snapshot is not None
    offset = (page - 1) * PAGE_SIZE
    found = (results(site.snapshot, q, lang, kind, region, PAGE_SIZE, offset) if q.strip()
             else search.SearchResults(0, []))
    if as_json:
        return json_answer(request, site, found, q, lang, PAGE_SIZE, offset)
    pages = max(1, -(-found.total // PAGE_SIZE))

    def page_url(number: int) -> str:
        others = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        return "/search?" + urlencode([*others, ("page", str(number))])

    items = [_item(request, site, hit, lang) for hit in found.hits]
    # People read regions by name: the organiser's, in the page's language.
    organisers = {item["region"]: organiser_iri(item["region"]) for item in items
                  if item["region"]}
    names = names_of(site.snapshot, set(organisers.values()))
    for item in items:
        if (texts := names.get(organisers.get(item["region"], ""))) is not None:
            item["regionName"] = texts.pick(lang)[0] or item["region"]
    return render_page(request, site, "search.html", lang, search_query=q, found=found,
                       items=items,
                       page=page, pages=pages, first=offset + 1,
                       prev_url=page_url(page - 1) if page > 1 else None,
                       next_url=page_url(page + 1) if page < pages else None,
                       drafts=chains.draft_chains(site.snapshot),
                       # The kinds the search is limited to (the home page's boxes set one),
                       # kept by the form and shown with a way back to every kind.
                       limited_to=[(k.value, kind_label(k.value, lang)) for k in kind or []],
                       every_kind_url="/search?" + urlencode(
                           [(k, v) for k, v in request.query_params.multi_items()
                            if k not in ("kind", "page")]))
