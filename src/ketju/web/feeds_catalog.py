"""`/catalog`, `/.well-known/void` and `/dumps/`: the dataset description and the dumps.

- `GET /catalog` and `GET /.well-known/void`: the same DCAT-AP 3 + VoID description (see
  `ketju.infra.feeds.catalog`), Turtle by default (also for `*/*`), N-Triples, JSON-LD or RDF/XML by
  `Accept` or `?format=`; a browser asking for HTML gets a small page showing the Turtle.
- `GET /dumps/`: the list of dumps of the store being served, as an HTML table or, when asked
  (`Accept: application/json` or `?format=json`), as JSON.
- `GET /dumps/{file}`: one dump (only the names in `dumps.json`, and `SHA256SUMS`), served as a
  gzip download with its SHA-256 as strong ETag; ranges and `If-None-Match` work.

The statistics come from the store folder (`catalog.json`, `dumps.json`, written by `ketju
build`). A server in remote mode has no store folder: it describes the remote data from live
counts (without dumps) and answers 503 for the dumps.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from ketju.infra.feeds import catalog, dumps
from ketju.infra.snapshot import Snapshot
from ketju.infra.sparql.formats import OXIGRAPH_RDF, RDF_FORMATS, Format
from ketju.web.http import (
    DESCRIPTION_OFFERS,
    JSON_OR_HTML,
    cache_headers,
    negotiate,
    problem,
    public_base_url,
    unchanged,
)
from ketju.web.openapi_docs import RDF_MEDIA, answers
from ketju.web.pages import Site
from ketju.web.services import ServicesDep, SnapshotDep

HTML = "html"
MEDIA_TYPES = {"nquads": "application/n-quads", "turtle": "text/turtle"}
FORMAT_LABELS = {"nquads": "N-Quads", "turtle": "Turtle"}
CACHE = "public, max-age=300"

FormatParam = Annotated[str | None, Query(
    description="turtle (default), ntriples, jsonld, rdfxml or html; overrides Accept")]
ListFormatParam = Annotated[str | None, Query(description="html (default) or json")]


def _negotiate(request: Request, param: str | None) -> str | Format | None:
    """`?format=` first; then Accept, where an explicit text/html wins and */* means Turtle."""
    offer = negotiate(DESCRIPTION_OFFERS, request.headers.get("accept"), param)
    return None if offer is None else offer.format or HTML


def description_stats(snapshot: Snapshot) -> dict[str, Any]:
    """The statistics of the data served: saved with the build, else counted live (remote
    mode, or a store built before the description existed); made once per snapshot."""
    def make() -> dict[str, Any]:
        if snapshot.files is not None:
            saved = catalog.load_stats(snapshot.files.folder)
            if saved is not None:
                return saved
        data = snapshot.data
        graphs = dict(data.named_graphs())
        built_at = snapshot.build_info().get("built_at") or ""
        stats = catalog.collect_stats(data.select, graphs, sum(graphs.values()), str(built_at))
        stats["dumps"] = {}
        return stats

    return snapshot.kept("catalog-stats", make)


def _description_page(turtle: str, base: str) -> str:
    """A small HTML page for people who open the description in a browser."""
    links = " · ".join(f'<a href="?format={name}">{label}</a>' for name, label in (
        ("turtle", "Turtle"), ("jsonld", "JSON-LD"), ("ntriples", "N-Triples"),
        ("rdfxml", "RDF/XML")))
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ketju: dataset description (DCAT-AP 3, VoID)</title>
<link rel="stylesheet" href="/static/ketju.css"></head>
<body><main id="content">
<h1>ketju: dataset description</h1>
<p>The catalogue, its datasets (the whole catalogue and each region), their
<a href="/dumps/">dumps</a> and the <a href="/sparql">SPARQL endpoint</a>, described in
DCAT-AP 3 and VoID. As RDF: {links}.</p>
<h2>Turtle</h2>
<pre>{html.escape(turtle)}</pre>
<p><a href="{html.escape(base)}/">ketju</a></p>
</main></body></html>
"""


def _description(request: Request, site: Site, param: str | None) -> Response:
    fmt = _negotiate(request, param)
    if fmt is None:
        offered = ", ".join(f.media_type for f in RDF_FORMATS)
        return problem(406, f"Available formats: {offered}, text/html", text=True)
    snapshot = site.snapshot
    assert snapshot is not None
    base = public_base_url(request)
    name = fmt if isinstance(fmt, str) else fmt.name
    modified = site.last_modified()
    headers = cache_headers(site.etag("catalog", name, base), modified, cache_control=CACHE)
    if (answer := unchanged(request, headers, modified)) is not None:
        return answer
    triples = catalog.catalog_triples(description_stats(snapshot), base, snapshot.build_info())
    if isinstance(fmt, Format):
        options = {"prefixes": catalog.PREFIXES} if fmt.name in ("turtle", "rdfxml") else {}
        body = ox.serialize(triples, format=OXIGRAPH_RDF[fmt.name], **options)
        media_type = fmt.content_type
    else:
        turtle = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=catalog.PREFIXES)
        body = _description_page(turtle.decode("utf-8"), base).encode("utf-8")
        media_type = "text/html; charset=utf-8"
    return Response(b"" if request.method == "HEAD" else body, media_type=media_type,
                    headers={**headers, "Content-Length": str(len(body))})


def _dumps(snapshot: Snapshot) -> tuple[Path, dict[str, dict[str, Any]]] | Response:
    """The dumps folder of the build being served and its index, or the answer to give."""
    files = snapshot.files
    if files is None:
        return problem(503, "Dumps are made by `ketju build` with the embedded store; this "
                             "server reads a remote SPARQL endpoint and has none to serve.",
                        {"Retry-After": "3600"})
    folder = dumps.dumps_folder(files.folder)
    index = snapshot.kept("dumps-index", lambda: dumps.load_index(files.folder))
    if not index:
        return problem(503, "The store being served was built without dumps; run "
                             "`ketju build` again.", {"Retry-After": "60"})
    return folder, index



def _size(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{count} B"


def _listing_page(files: list[dict[str, Any]]) -> str:
    rows = "\n".join(
        f'<tr><th scope="row"><a href="/dumps/{html.escape(f["name"])}" download>'
        f'{html.escape(f["name"])}</a></th><td>{html.escape(f["region"] or "all regions")}</td>'
        f'<td>{FORMAT_LABELS.get(f["format"], html.escape(str(f["format"])))}, gzip</td>'
        f'<td>{_size(f["bytes"])}</td>'
        f'<td>{f["triples"]:,}</td><td><code>{html.escape(f["sha256"])}</code></td></tr>'
        for f in files)
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ketju: dumps</title><link rel="stylesheet" href="/static/ketju.css"></head>
<body><main id="content">
<h1>ketju: dumps</h1>
<p>The whole catalogue and each region, as gzip-compressed N-Quads (every graph with its name,
one per source file) and Turtle (the union of the graphs). Check downloads with
<a href="/dumps/{dumps.SUMS}">{dumps.SUMS}</a> (<code>sha256sum -c {dumps.SUMS}</code>). The
<a href="/catalog">dataset description</a> (DCAT-AP 3, VoID) lists them too.</p>
<table>
<caption>Dumps of the data being served</caption>
<thead><tr><th scope="col">File</th><th scope="col">Region</th><th scope="col">Format</th>
<th scope="col">Size</th><th scope="col">Statements</th><th scope="col">SHA-256</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</main></body></html>
"""


#: The dataset description and the dumps.
router = APIRouter(tags=["Feeds"])

described = answers("The description in the format asked for.", *RDF_MEDIA, "text/html",
                    statuses=(304, 406), problem_media=("text/plain",))


@router.api_route("/catalog", methods=["GET", "HEAD"], response_class=Response,
                  responses=described,
                  summary="Dataset description: DCAT-AP 3 catalogue with VoID")
@router.api_route("/.well-known/void", methods=["GET", "HEAD"], response_class=Response,
                  responses=described,
                  summary="VoID description of the dataset (same as /catalog)")
def description(request: Request, services: ServicesDep, snapshot: SnapshotDep,
                format: FormatParam = None) -> Response:
    return _description(request, Site(services.settings, snapshot), format)


@router.api_route("/dumps/", methods=["GET", "HEAD"], response_class=Response,
                  responses=answers("The dumps with size and SHA-256.", "text/html",
                                    "application/json", statuses=(503,)),
                  summary="The downloadable dumps: HTML table, or JSON when asked")
def listing(request: Request, snapshot: SnapshotDep,
            format: ListFormatParam = None) -> Response:
    found = _dumps(snapshot)
    if isinstance(found, Response):
        return found
    _, index = found
    base = public_base_url(request)
    files = [{"name": name, "url": f"{base}/dumps/{name}",
              "media_type": MEDIA_TYPES.get(str(facts.get("format")), "application/gzip"),
              "compression": "gzip", **facts}
             for name, facts in sorted(index.items(),
                                       key=lambda item: (item[1].get("region") is not None,
                                                         str(item[1].get("region")),
                                                         item[0]))]
    headers = {"Vary": "Accept", "Cache-Control": CACHE}
    if negotiate(JSON_OR_HTML, request.headers.get("accept"), format) is JSON_OR_HTML[0]:
        body = json.dumps({"files": files, "sha256sums": f"{base}/dumps/{dumps.SUMS}",
                           "description": f"{base}/catalog",
                           "built_at": snapshot.build_info().get("built_at")},
                          indent=2).encode("utf-8")
        media_type = "application/json"
    else:
        body = _listing_page(files).encode("utf-8")
        media_type = "text/html; charset=utf-8"
    return Response(b"" if request.method == "HEAD" else body, media_type=media_type,
                    headers={**headers, "Content-Length": str(len(body))})


@router.api_route("/dumps/{name}", methods=["GET", "HEAD"], response_class=Response,
                  responses=answers("The file.", "application/gzip", "text/plain",
                                    statuses=(304, 404, 503),
                                    problem_media=("application/json", "text/html")),
                  summary="One dump (gzip), or SHA256SUMS")
def dump_file(request: Request, snapshot: SnapshotDep, name: str) -> Response:
    found = _dumps(snapshot)
    if isinstance(found, Response):
        return found
    folder, index = found
    if name == dumps.SUMS:
        path = folder / dumps.SUMS
        if not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type="text/plain; charset=utf-8",
                            headers={"Cache-Control": CACHE})
    facts = index.get(name)
    path = folder / name
    if facts is None or not path.is_file():
        raise HTTPException(404, f"There is no dump named {name!r}.")
    headers = cache_headers(f'"{facts["sha256"]}"', vary=None, cache_control=CACHE)
    if (answer := unchanged(request, headers)) is not None:
        return answer
    return FileResponse(path, media_type="application/gzip", filename=name,
                        headers=headers)


@router.api_route("/dumps", methods=["GET", "HEAD"], include_in_schema=False)
def listing_without_slash(request: Request, snapshot: SnapshotDep,
                          format: ListFormatParam = None) -> Response:
    return listing(request, snapshot, format)
