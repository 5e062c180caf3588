"""Linked-data pages: every IRI under the base resolves, for people (HTML in fi/sv/en) and for
machines (Turtle, JSON-LD, N-Triples, RDF/XML) by content negotiation on the IRI itself.

Routes stay thin: they pick the language and format, call a domain function (entities, chains,
packages, goals) and render a template. ETag and Last-Modified come from the build, so pages of
an unchanged build answer 304.

A path that cannot be an IRI (`/id/a%20b`, `/vocab/%22`) is a plain 404 page; links built
from the request stay on this site (the language switch is a `?lang=` link relative to the
page, an IRI under the data base whose rest starts with `/` is not a local path).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pkgutil import resolve_name
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ketju.core import kinds as registry
from ketju.core import lifecycle as core_lifecycle
from ketju.core.languages import LANGUAGES
from ketju.core.namespaces import ONTOLOGY, VOCAB, organiser_iri
from ketju.core.queries import MAX_IRI_CHARS
from ketju.domain import chains, lifecycle
from ketju.domain.entities import (
    Description,
    NotFound,
    describe,
    entity_rdf,
    names_of,
    step_positions,
)
from ketju.domain.goals import goal_place, goal_tree
from ketju.domain.home import home_overview
from ketju.domain.packages import load_package
from ketju.domain.regions import region_catalogue
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot
from ketju.infra.sparql.formats import OXIGRAPH_RDF, RDF_FORMATS, Format
from ketju.web import facts as entity_facts
from ketju.web import humanise, monitoring
from ketju.web.http import (
    PAGE_OFFERS,
    build_etag,
    cache_headers,
    negotiate_request,
    not_modified,
    problem,
    unchanged,
)
from ketju.web.i18n import choose_language
from ketju.web.observability import KEPT_ANSWERS
from ketju.web.openapi_docs import RDF_MEDIA, SWAGGER_UI, answers, api_reference
from ketju.web.security import content_security_policy
from ketju.web.services import ServicesDep, SnapshotDep, snapshot_of
from ketju.web.templating import render

HTML = "html"
LANG_COOKIE = "lang"
PAGE_PREFIXES = {
    "ketju": ONTOLOGY, "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "org": "http://www.w3.org/ns/org#",
    "cv": "http://data.europa.eu/m8g/", "prov": "http://www.w3.org/ns/prov#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
#: Query parameters a page's language links carry over (the others are dropped).
CARRIED_PARAMS = ("iri", "links", "q", "kind", "region", "page", "chains", "view")
#: Longest query string the language links carry over (an IRI of `MAX_IRI_CHARS`, encoded).
MAX_CARRIED_QUERY = 8000
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def page_format(request: Request) -> str | Format | None:
    """HTML or an RDF format: `?format=` first, then Accept (browsers and */* get HTML)."""
    offer = negotiate_request(request, PAGE_OFFERS)
    return None if offer is None else offer.format or HTML


def page_language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                           request.headers.get("accept-language"))


class Site:
    """What the pages need to know: where IRIs live and which build is served."""

    def __init__(self, settings: Any, snapshot: Snapshot | None) -> None:
        self.snapshot = snapshot
        self.base: str = settings.data_base

    def local_path(self, iri: str) -> str | None:
        """The path of an IRI on this server, if it is under the data base (and its path
        starts with one `/`: `//host/x` or `/\\host/x` would lead browsers to another host)."""
        if iri.startswith(self.base) and not iri[len(self.base):].startswith(("/", "\\")):
            return "/" + iri[len(self.base):]
        return None

    def href(self, iri: str) -> str | None:
        """A safe link for an IRI: local path, resource page, or external http(s); else none."""
        local = self.local_path(iri)
        if local is not None:
            return local
        if iri.startswith(("http://", "https://")):
            return "/resource?iri=" + quote(iri, safe="")
        return None

    def build(self) -> dict[str, Any]:
        assert self.snapshot is not None
        return self.snapshot.build_info()

    def last_modified(self) -> datetime:
        built = self.build().get("built_at")
        try:
            return datetime.fromisoformat(built) if built else datetime.now(UTC)
        except ValueError:
            return datetime.now(UTC)

    def etag(self, *parts: str) -> str:
        assert self.snapshot is not None
        return build_etag(self.snapshot.version, *parts)


def label_html_context(site: Site, lang: str) -> dict[str, Any]:
    """Helpers the templates use to show names (marking fallbacks) and links."""

    def name(node: Node | Description | None) -> dict[str, str]:
        if node is None:
            return {"text": "", "lang": lang, "fallback": ""}
        texts: Texts = node.names
        text, used = texts.pick(lang)
        if not text:
            text = node.iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
            used = lang
        return {"text": text, "lang": used or lang, "fallback": used if used != lang else ""}

    def text_of(texts: Texts) -> dict[str, str]:
        text, used = texts.pick(lang)
        return {"text": text, "lang": used or lang, "fallback": used if used and used != lang
                else ""}

    def prop(node: Node) -> dict[str, str]:
        """A property's (or type's) name: its label, else its local name in words."""
        text, used = node.names.pick(lang)
        if not text:
            return {"text": humanise.words_of(node.iri), "lang": "en", "fallback": ""}
        return {"text": text, "lang": used or lang, "fallback": used if used != lang else ""}

    def human(text: str, datatype: str, property_iri: str = "") -> str:
        return humanise.literal(text, datatype, lang, property_iri)

    return {"name": name, "text_of": text_of, "href": site.href, "LANGUAGES": LANGUAGES,
            "prop_name": prop, "human": human}


def carried_query(request: Request) -> str:
    """The query string the language links keep (without `lang`): only the parameters pages
    read, so a kept page never repeats what one client added to its URL."""
    kept = urlencode([(k, v) for k, v in request.query_params.multi_items()
                      if k in CARRIED_PARAMS])
    return kept if len(kept) <= MAX_CARRIED_QUERY else ""


def render_page(request: Request, site: Site, template: str, lang: str, status: int = 200,
                etag_parts: tuple[str, ...] = (), inline_styles: tuple[str, ...] = (),
                **context: Any) -> Response:
    """A page from a template, with caching headers; `inline_styles` are the texts of the
    `<style>` elements the page's own markup holds (the diagram's), allowed by their hash."""
    # The query string counts as far as pages read it (not `lang`, which `lang` stands for):
    # the same page asked by `?lang=`, cookie or Accept-Language is one answer, kept once.
    etag = site.etag(template, lang, request.url.path, carried_query(request), *etag_parts)
    modified = site.last_modified()
    headers = cache_headers(etag, modified, "Accept, Accept-Language, Cookie")
    if status == 200 and not_modified(request, etag, modified):
        return remember_language(request, Response(status_code=304, headers=headers))
    html = render(template, lang, build=site.build(), path=request.url.path,
                  query_lang=request.query_params.get("lang"),
                  lang_query=carried_query(request), **label_html_context(site, lang),
                  **context)
    if inline_styles:
        headers["Content-Security-Policy"] = content_security_policy(inline_styles)
    return remember_language(request, HTMLResponse(html, status_code=status, headers=headers))


def remember_language(request: Request, response: Response) -> Response:
    """A page asked with `?lang=` (the language switch) sets the language cookie, so the
    choice holds on the pages that follow; made afresh or kept, the answer is the same."""
    if (lang := request.query_params.get("lang")) in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            httponly=True)
    return response


def rdf_response(request: Request, site: Site, triples: list[ox.Triple], fmt: Format,
                 iri: str) -> Response:
    etag = site.etag("rdf", fmt.name, iri)
    modified = site.last_modified()
    headers = cache_headers(etag, modified, "Accept")
    if (answer := unchanged(request, headers, modified)) is not None:
        return answer
    prefixes = PAGE_PREFIXES if fmt.name in ("turtle", "rdfxml") else None
    body = ox.serialize(triples, format=OXIGRAPH_RDF[fmt.name],
                        **({"prefixes": prefixes} if prefixes else {}))
    return Response(b"" if request.method == "HEAD" else body, media_type=fmt.content_type,
                    headers={**headers, "Content-Length": str(len(body))})


def not_found_page(request: Request, site: Site, iri: str | None) -> Response:
    lang = page_language(request)
    return render_page(request, site, "not_found.html", lang, status=404, iri=iri)


async def entity_response(request: Request, site: Site, iri: str,
                          links_offset: int) -> Response:
    """An entity's page or RDF. Finished answers are kept per build (like the SPARQL answers,
    `--result-cache-entries`): a page only changes when the store is rebuilt."""
    fmt = page_format(request)
    if fmt is None:
        offered = ", ".join(["text/html", *(f.media_type for f in RDF_FORMATS)])
        return problem(406, f"Available formats: {offered}", text=True)
    def produce() -> Response:
        return _entity_response(request, site, iri, links_offset, fmt)

    if request.method != "GET":
        return await run_in_threadpool(produce)
    variant = fmt.name if isinstance(fmt, Format) else \
        f"html:{page_language(request)}:{carried_query(request)}"
    return await kept(request, site, f"page|{iri}|{links_offset}|{variant}", produce)


async def kept(request: Request, site: Site, key: str,
               produce: Callable[[], Response]) -> Response:
    """An answer that only changes when the store is rebuilt, kept in the cache of the
    snapshot it was made from (`--result-cache-entries` of them); `key` names all else it
    depends on (no version: a new build is a new snapshot with a cache of its own).

    A kept answer is sent straight from the event loop (the cache is safe to share between
    threads); only a new one is made in a worker thread (queries and templates block), so
    repeat visits never queue behind thread hand-offs. The language cookie a `?lang=` request
    sets is not kept with the answer but set on each (`remember_language`), so the switch is
    served from the kept answer too.
    """
    snapshot = site.snapshot
    assert snapshot is not None
    hit = snapshot.cache.get(("answer", key))
    if hit is not None:
        KEPT_ANSWERS.inc()
        body, headers = hit
        if "etag" in headers and not_modified(request, headers["etag"], site.last_modified()):
            answer = Response(status_code=304, headers=headers)
        else:
            answer = Response(body, headers=headers)
        # Pages (HTML) set the cookie, as `render_page` does; JSON answers never do.
        is_page = headers.get("content-type", "").startswith("text/html")
        return remember_language(request, answer) if is_page else answer
    response = await run_in_threadpool(produce)
    if response.status_code == 200 and isinstance(response.body, bytes):
        snapshot.cache.put(("answer", key),
                           (response.body, {k.lower(): v for k, v in response.headers.items()
                                            if k.lower() not in _NOT_KEPT}),
                           len(response.body))
    return response


#: Headers of a made answer that are not kept with it: the length (set again on sending)
#: and the cookie of a `?lang=` request (`remember_language` sets it on every such answer).
_NOT_KEPT = frozenset({"content-length", "set-cookie"})


def _entity_response(request: Request, site: Site, iri: str, links_offset: int,
                     fmt: str | Format) -> Response:
    snapshot = site.snapshot
    assert snapshot is not None
    statements = request.query_params.get("view") == "statements"
    try:
        # All statements list every link; the page for people leaves some out (facts.py).
        description = describe(snapshot, iri, links_offset=max(0, links_offset),
                               hide_link=None if statements else entity_facts.link_filter(iri))
    except NotFound:
        return not_found_page(request, site, iri)
    if isinstance(fmt, Format):
        return rdf_response(request, site, entity_rdf(snapshot, iri), fmt, iri)
    lang = page_language(request)
    context: dict[str, Any] = {"entity": description, "formats": RDF_FORMATS,
                               **entity_hrefs(request, iri)}
    if statements:
        # Every statement and every link, for the curious; the page itself speaks in words.
        ordered = entity_facts.in_chain_order(description.statements, step_positions(
            snapshot, entity_facts.stated_steps(description)))
        return render_page(request, site, "statements.html", lang, curie=entity_facts.curie,
                           statements=ordered, **context)
    template = "entity.html"
    # The page of the entity's first kind (in the registry's order) that has one.
    types = {t.iri for t in description.types}
    kind = next((k for k in registry.KINDS if k.page is not None and k.iri in types), None)
    if kind is not None and kind.page is not None:
        view = view_loader(kind.page.loader)(snapshot, iri, lang)
        if view is None:
            return not_found_page(request, site, iri)
        template = kind.page.template
        context.update(view)
    context.update(in_words(snapshot, description, template, lang))
    # Draft chains are marked wherever a page lists chains (kept per build: no query).
    context["drafts"] = chains.draft_chains(snapshot)
    # So are proposed, retired and withdrawn descriptions and target models (per build too).
    context["lifecycle_marks"] = lifecycle.marks(snapshot)
    return render_page(request, site, template, lang, **context)


def in_words(snapshot: Snapshot, description: Description, template: str,
             lang: str) -> dict[str, Any]:
    """What `entity.html` says about any entity besides its kind's own sections: its kinds,
    its facts and what relates to it (ketju.web.facts), with the names of other regions."""
    shown = entity_facts.SHOWN_BY_TEMPLATE.get(template, entity_facts.Shown())
    lived = lifecycle_context(snapshot, description)
    shown = entity_facts.with_shown(shown, lived.pop("shown"))
    kinds = entity_facts.kinds_of(description)
    related = entity_facts.related(description, shown, step_positions(
        snapshot, entity_facts.linking_steps(description)))
    regions = {VOCAB + "region/" + r: r for group in related for r in group.regions()}
    names = names_of(snapshot, list(regions))
    return {
        "kind_names": ["kind_" + k.name for k in kinds],
        # Else its type of the ontology, by name (a chain's step, a hand-over), or nothing.
        "kind_node": None if kinds else next(
            (t for t in description.types if t.iri.startswith(ONTOLOGY) and t.names), None),
        "facts": entity_facts.facts(description, lang, shown),
        "related": related,
        "region_names": {r: Node(iri, names[iri]) for iri, r in regions.items() if iri in names},
        **lived,
    }


#: The kinds whose pages show a life cycle (descriptions) and the decision's own.
DESCRIPTIONS = frozenset({ONTOLOGY + "ServicePackage", ONTOLOGY + "ServiceChain"})
DECISION = core_lifecycle.DECISION


def lifecycle_context(snapshot: Snapshot, description: Description) -> dict[str, Any]:
    """A description's life cycle (`lifecycle`: status, validity, decision, what it replaces
    and is replaced by, its current state or target models) or a decision's own view
    (`decision`: body, date, reference, page and what it approved), from the build's table
    (no query once it is made); `shown` are the properties the page then shows itself."""
    types = {t.iri for t in description.types}
    found: dict[str, Any] = {"lifecycle": None, "decision": None, "shown": frozenset()}
    if types & DESCRIPTIONS:
        lived = lifecycle.lifecycle_of(snapshot, description.iri)
        if lived is not None:
            found.update(lifecycle=lived, shown=lifecycle.PROPERTIES)
    elif DECISION in types:
        found.update(decision=lifecycle.decision_of(snapshot, description.iri),
                     shown=lifecycle.DECISION_PROPERTIES)
    return found


def entity_hrefs(request: Request, iri: str) -> dict[str, str]:
    """The page's own address (`page_href`) and the start of a link to it with other
    parameters (`here`, then `view=...`, `links=...`, `format=...`): on `/resource` both keep
    the `iri` parameter, which a bare `?view=statements` would drop."""
    if request.url.path == "/resource":
        own = "?" + urlencode({"iri": iri})
        return {"here": own + "&", "page_href": request.url.path + own}
    return {"here": "?", "page_href": request.url.path}


#: What a kind's page loader is: `(snapshot, iri, lang)` to the template's context, or None
#: for "not found" (see `ketju.core.kinds.Page`).
ViewLoader = Callable[[Snapshot, str, str], "dict[str, Any] | None"]


@cache
def view_loader(dotted: str) -> ViewLoader:
    """The loader a kind's page names (`module:function`), imported once."""
    loader: ViewLoader = resolve_name(dotted)
    return loader


def chain_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """A service chain's page: the chain, its diagram (wide and narrow, with the numbered
    hand-overs), what remains to complete if it is a draft, and its goals."""
    try:
        chain, goals = chains.chain_view(snapshot, iri)  # one query: chain and goal tree
    except chains.ChainNotFound:
        return None
    from ketju.web.diagram import chain_diagram

    context: dict[str, Any] = {"chain": chain, **draft_context(snapshot, chain)}
    # No links inside the image: a role="img" must not hold controls; the table links.
    diagram = chain_diagram(chain, lang)
    context["diagram"] = diagram
    context["handover_numbers"] = {h.iri: h.number for h in diagram.handovers}
    context["diagram_href"] = _diagram_path(iri)
    # The diagrams' own <style> (hover and focus rules) are allowed by their hash.
    context["inline_styles"] = tuple(_STYLE.findall(diagram.wide + diagram.narrow))
    context["duration"] = lambda value: humanise.duration(value, lang)
    context["goals"] = goals
    context.update(monitored_goals(snapshot, goals))
    context.update(monitoring.waits_section(snapshot, iri))
    return context


def draft_context(snapshot: Snapshot, chain: chains.Chain) -> dict[str, Any]:
    """What `draft_notice` shows of a draft chain: its `Draft`, the chain it comes from and
    the names of the regions it names (from the build's names: no query once they are made)."""
    draft = chains.draft_status(chain)
    if draft is None:
        return {"draft": None, "draft_source": None, "draft_regions": {}}
    regions = {r for r in (draft.source_region, *(b.region for b in draft.borrowed)) if r}
    organisers = {region: organiser_iri(region) for region in regions}
    wanted = {*organisers.values(), *([draft.derived_from] if draft.derived_from else [])}
    names = names_of(snapshot, wanted)
    return {"draft": draft,
            "draft_source": Node(draft.derived_from, names.get(draft.derived_from, Texts()))
            if draft.derived_from else None,
            "draft_regions": {region: Node(iri, names[iri])
                              for region, iri in organisers.items() if iri in names}}


#: The part of a chain's IRI the diagram's own address adds to (`/id/{region}/chain/{slug}`).
_CHAIN_PATH = re.compile(r"id/([a-z0-9][a-z0-9-]*)/chain/([a-z0-9][a-z0-9-]*)")
DIAGRAM_FILE = "diagram.svg"


def _diagram_path(iri: str) -> str | None:
    """The site-relative address of a chain's drawing on its own (None for a chain outside
    the `/id/{region}/chain/{slug}` pattern: it has its page but no such address)."""
    match = re.search(r"/(id/[^?#]*)$", iri)
    if match is None or not _CHAIN_PATH.fullmatch(match.group(1)):
        return None
    return "/" + match.group(1) + "/" + DIAGRAM_FILE


def organiser_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """An organiser's page: the packages and chains it organises."""
    return {"holdings": region_catalogue(snapshot, iri),
            "held_kinds": registry.shown_on(registry.ORGANISER)}


def package_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """A service package's page: its parts and goals."""
    goals = goal_tree(snapshot, iri)
    return {"package": load_package(snapshot, iri), "goals": goals,
            **monitored_goals(snapshot, goals)}


def monitored_goals(snapshot: Snapshot, goals: list[Any]) -> dict[str, Any]:
    """The monitoring of a goal tree, and each indicator's by its IRI (for one section of
    goals with their indicators' latest values, not a table per goal)."""
    section = monitoring.goals_section(snapshot, goals)
    section["monitored"] = {found.indicator.iri: found
                            for goal in section["monitoring_summary"]
                            for found in goal.indicators}
    return section


def goal_view(snapshot: Snapshot, iri: str, lang: str) -> dict[str, Any] | None:
    """A goal's page: its place in its owner's goal tree (owner, the goals it contributes
    to, its sub-goals) and the monitoring of its indicators and of the goals that contribute."""
    view = monitoring.goal_view(snapshot, iri, lang)
    if view is None:
        return None
    monitored = {found.indicator.iri: found for goal in view["monitoring_summary"]
                 for found in goal.indicators}
    return {**view, "place": goal_place(snapshot, iri), "monitored": monitored}


#: The pages: home, regions, every IRI under the base (`/id/`, `/vocab/`) and `/resource`.
router = APIRouter(tags=["Pages"])


async def site_page(request: Request, site: Site, name: str,
                    context: Callable[[], dict[str, Any]]) -> Response:
    """A page of the whole site (home, regions): kept per build and language like the
    entity pages, its context made once (`context`, itself kept by the snapshot)."""
    lang = page_language(request)

    def produce() -> Response:
        return render_page(request, site, name, lang, **context())

    if request.method != "GET":
        return await run_in_threadpool(produce)
    return await kept(request, site, f"site|{name}|{lang}|{carried_query(request)}", produce)


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
async def home(request: Request, services: ServicesDep, snapshot: SnapshotDep) -> Response:
    """The home page: ways in by region, segment and kind, chains several regions describe
    (with a comparison), recent changes and the search box (`ketju.domain.home`)."""
    site = Site(services.settings, snapshot)
    return await site_page(request, site, "home.html", lambda: {
        "home": home_overview(snapshot), "kinds": registry.shown_on(registry.HOME),
        "region_kinds": registry.shown_on(registry.REGIONS)})


@router.api_route("/regions", methods=["GET", "HEAD"], include_in_schema=False)
async def regions(request: Request, services: ServicesDep, snapshot: SnapshotDep) -> Response:
    site = Site(services.settings, snapshot)
    return await site_page(request, site, "regions.html", lambda: {
        "regions": [r for r in home_overview(snapshot).regions
                    if r.organiser is not None or r.total],
        "kinds": registry.shown_on(registry.REGIONS)})


@router.api_route("/id/{region}/chain/{slug}/diagram.svg", methods=["GET", "HEAD"],
                  include_in_schema=False)
async def chain_diagram_file(request: Request, services: ServicesDep, snapshot: SnapshotDep,
                             region: str, slug: str) -> Response:
    """The chain's swimlane drawing on its own, full size, with the hand-overs in words
    (`?view=1` opens it in the browser; else it is a download named after the chain)."""
    site = Site(services.settings, snapshot)
    path = f"id/{region}/chain/{slug}"
    if not _CHAIN_PATH.fullmatch(path):
        return await run_in_threadpool(not_found_page, request, site, None)
    iri = services.settings.data_base + path
    lang = page_language(request)
    inline = request.query_params.get("view") == "1"

    def produce() -> Response:
        return _diagram_file(request, site, iri, lang, f"ketju-{region}-{slug}-{lang}.svg",
                             inline)

    if request.method != "GET":
        return await run_in_threadpool(produce)
    return await kept(request, site, f"diagram|{iri}|{lang}|{int(inline)}", produce)


def _diagram_file(request: Request, site: Site, iri: str, lang: str, filename: str,
                  inline: bool) -> Response:
    snapshot = site.snapshot
    assert snapshot is not None
    try:
        chain = chains.load_chain(snapshot, iri)
    except chains.ChainNotFound:
        return not_found_page(request, site, iri)
    from ketju.web.diagram import layout, render

    svg = render(layout(chain, lang), listed=True)
    etag = site.etag("diagram", lang, iri, str(inline))
    headers = cache_headers(etag, site.last_modified(), "Accept-Language, Cookie")
    if not_modified(request, etag, site.last_modified()):
        return Response(status_code=304, headers=headers)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n").encode("utf-8")
    headers["Content-Disposition"] = ("inline" if inline else "attachment") + \
        f'; filename="{filename}"'
    # The drawing's own <style> is allowed by its hash; nothing else runs or loads.
    headers["Content-Security-Policy"] = content_security_policy(_STYLE.findall(svg))
    return Response(b"" if request.method == "HEAD" else body,
                    media_type="image/svg+xml; charset=utf-8",
                    headers={**headers, "Content-Length": str(len(body))})


@router.api_route("/id/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/vocab/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def entity(request: Request, services: ServicesDep, snapshot: SnapshotDep, path: str,
                 links: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    iri = services.settings.data_base + request.url.path.lstrip("/")
    site = Site(services.settings, snapshot)
    if not is_iri(iri):
        # `/id/a%20b`: no IRI of the catalogue can have this path.
        return await run_in_threadpool(not_found_page, request, site, None)
    return await entity_response(request, site, iri, links)


@router.api_route("/resource", methods=["GET", "HEAD"], response_class=Response,
                  responses=answers("The entity's page or its RDF.", "text/html",
                                    *RDF_MEDIA, statuses=(304, 400, 404, 406),
                                    problem_media=("text/plain", "text/html")),
                  summary="Any entity of the catalogue by its IRI (also outside the base)")
async def resource(request: Request, services: ServicesDep, snapshot: SnapshotDep,
                   iri: Annotated[str, Query(max_length=MAX_IRI_CHARS)],
                   links: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    if not is_iri(iri):
        return problem(400, f"'{iri}' is not an absolute IRI.", text=True)
    return await entity_response(request, Site(services.settings, snapshot), iri, links)


def is_iri(text: str) -> bool:
    """An absolute IRI that the store accepts, and not longer than `MAX_IRI_CHARS`."""
    if len(text) > MAX_IRI_CHARS or not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", text):
        return False
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


async def http_error(request: Request, error: Exception) -> Response:
    """An HTTP error raised by a route or by routing: a helpful 404 page for browsers; JSON
    for the API and every other status."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404 and not request.url.path.startswith("/api/"):
        services = request.app.state.services
        site = Site(services.settings, snapshot_of(request))
        lang = page_language(request)
        html = render("not_found.html", lang, iri=None, build=site.build(),
                      path=request.url.path, query_lang=None, lang_query="",
                      **label_html_context(site, lang))
        return problem(404, str(error.detail), error.headers, page=html)
    return problem(error.status_code, str(error.detail), headers=error.headers)


def install_not_found(app: FastAPI) -> None:
    """A helpful 404 page for browsers; JSON for the API."""
    app.add_exception_handler(StarletteHTTPException, http_error)


@router.api_route("/docs", methods=["GET", "HEAD"], include_in_schema=False)
async def api_docs(request: Request, services: ServicesDep, snapshot: SnapshotDep) -> Response:
    """The API reference: every operation of the OpenAPI document, grouped as it tags them,
    as plain HTML (Swagger UI, to try the calls, is at /docs/try)."""
    site = Site(services.settings, snapshot)
    spec = request.app.openapi()
    return await site_page(request, site, "api_docs.html", lambda: {
        "groups": api_reference(spec), "info": spec.get("info", {}),
        "swagger_ui": SWAGGER_UI, "openapi_url": request.app.openapi_url})
