"""`/feeds/ldes`: the LDES change stream that `ketju build` wrote into the store folder.

`GET /feeds/ldes` is the root node: the `ldes:EventStream` with `tree:view <>` and a time window
(two `tree:Relation`s on `dct:issued`) to every page; `GET /feeds/ldes/{page}` is a page of
members (see `ketju.infra.feeds.ldes`). Turtle by default; N-Triples, JSON-LD, N-Quads and TriG by
`Accept` or `?format=`. Pages that can no longer change are served with
`Cache-Control: immutable` and a year's lifetime, the newest page and the root for a minute;
all with a strong ETag made from the content, so `If-None-Match` answers 304.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ketju.infra.feeds import ldes
from ketju.infra.snapshot import Snapshot
from ketju.infra.sparql.formats import RDF_FORMATS, Format
from ketju.web.http import (
    cache_headers,
    named_offer,
    negotiate,
    offers_of,
    problem,
    public_base_url,
    unchanged,
)
from ketju.web.openapi_docs import answers
from ketju.web.services import SnapshotDep

PROFILE = "https://w3id.org/tree/profile"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=60"

#: What the stream is served as; the first is the default (also for browsers and */*).
LDES_FORMATS: tuple[Format, ...] = (
    *(fmt for fmt in RDF_FORMATS if fmt.name in ("turtle", "ntriples", "jsonld")),
    Format("nquads", "application/n-quads", (), ("nquads", "nq", "n-quads"),
           "http://www.w3.org/ns/formats/N-Quads"),
    Format("trig", "application/trig", (), ("trig",), "http://www.w3.org/ns/formats/TriG"),
)
LDES_OFFERS = offers_of(LDES_FORMATS)
#: Turtle is valid TriG and N-Triples valid N-Quads: the same bytes under another type.
_SAME_AS = {"trig": "turtle", "nquads": "ntriples"}
_ORDERED = {"turtle", "ntriples", "nquads", "trig"}

FormatParam = Annotated[str | None, Query(
    description="turtle (default), ntriples, jsonld, nquads or trig; overrides Accept")]


def _pick_format(request: Request, param: str | None) -> Format | None:
    """`?format=` first (when it names a format on offer), then Accept; None when nothing
    acceptable can be produced (406)."""
    accept = request.headers.get("accept")
    offer = negotiate(LDES_OFFERS, accept, param, refusals=True)
    if (offer is None and named_offer(LDES_OFFERS, param) is None and accept
            and "text/html" in accept.lower()):
        return LDES_FORMATS[0]  # a browser: Turtle reads well enough
    return None if offer is None else offer.format


def _body(path: Path, fmt: str, base: str) -> bytes:
    """A stored page (N-Triples) in one format, its IRIs under the public URL."""
    data = path.read_bytes().replace(ldes.PLACEHOLDER.encode(), base.encode())
    fmt = _SAME_AS.get(fmt, fmt)
    if fmt == "ntriples":
        return data
    triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    if fmt == "jsonld":
        jsonld: bytes = ox.serialize(triples, format=ox.RdfFormat.JSON_LD)
        return jsonld
    prefixes = {name: iri.replace(ldes.PLACEHOLDER, base)
                for name, iri in ldes.PAGE_PREFIXES.items()}
    turtle: bytes = ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes)
    # The serializer writes the prefixes in no fixed order; the bytes behind a strong ETag
    # must not differ between processes, so sort them.
    head, body = [], turtle.split(b"\n")
    while body and body[0].startswith(b"@prefix "):
        head.append(body.pop(0))
    return b"\n".join([*sorted(head), b"", *body])


def _etag(sha256: str, fmt: Format, base: str) -> str:
    """A strong ETag: the stored content, the format and the public URL decide the bytes."""
    return '"' + hashlib.sha256(f"{sha256}|{fmt.name}|{base}".encode()).hexdigest()[:32] + '"'


def _feed(snapshot: Snapshot) -> tuple[Path, dict[str, Any]] | Response:
    """The feed folder of the build being served and its index, or the answer to give."""
    files = snapshot.files
    if files is None:
        return problem(503, "The LDES change stream is built with the embedded store "
                             "(`ketju build`); this server reads a remote SPARQL endpoint and "
                             "has no stream to serve.")
    folder = ldes.feed_folder(files.folder)

    def read_index() -> dict[str, Any]:
        index: dict[str, Any] = json.loads((folder / ldes.INDEX).read_text(encoding="utf-8"))
        return index

    try:
        index = snapshot.kept("ldes-index", read_index)
    except (OSError, ValueError):
        return problem(503, "The store being served was built without the LDES change "
                             "stream; run `ketju build` again.", {"Retry-After": "60"})
    return folder, index


def _answer(request: Request, snapshot: Snapshot, path: Path, sha256: str, immutable: bool,
            fmt: Format, base: str) -> Response:
    """A page or the root in the chosen format, with its caching headers (or 304). The
    bytes are kept in the snapshot's cache: the pages of a build never change, and the
    content hash, the format and the public URL are the key."""
    etag = _etag(sha256, fmt, base)
    media = fmt.content_type + (f'; profile="{PROFILE}"' if fmt.name in _ORDERED else "")
    headers = cache_headers(etag, cache_control=IMMUTABLE if immutable else SHORT_LIVED)
    if (answer := unchanged(request, headers)) is not None:
        return answer
    key = ("ldes", str(path), sha256, fmt.name, base)
    body = snapshot.cache.get(key)
    if body is None:
        body = _body(path, fmt.name, base)
        snapshot.cache.put(key, body, len(body))
    headers["Content-Length"] = str(len(body))
    return Response(b"" if request.method == "HEAD" else body, media_type=media,
                    headers=headers)


def _not_acceptable() -> Response:
    """406 with the media types on offer."""
    offered = ", ".join(f.media_type for f in LDES_FORMATS)
    return problem(406, f"The change stream is RDF; ask for one of: {offered}.")


ROOT_DOC = (
    "A Linked Data Event Stream (ldes:EventStream) of every version of every service package, "
    "service chain, service and producer, taken from the git history of the data; deletions "
    "are as:Delete tombstones. This root node lists every page once with its time window "
    "(tree:GreaterThanOrEqualToRelation and tree:LessThanRelation on dct:issued). Replicate "
    "by following the relations; stay in sync by re-reading the root and the newest page.")
PAGE_DOC = (
    "Members (versions and deletions) in time order, in the TREE profile order. Every page but "
    "the newest is immutable once it is full of committed versions, and is then served with "
    "Cache-Control: immutable and a strong ETag (If-None-Match gives 304).")


def _stream(request: Request, snapshot: Snapshot,
            format: str | None) -> Response | tuple[Format, Path, dict[str, Any]]:
    """The format asked for and the stream of the store being served, or the answer to give
    when there is none (406, 503)."""
    fmt = _pick_format(request, format)
    if fmt is None:
        return _not_acceptable()
    found = _feed(snapshot)
    if isinstance(found, Response):
        return found
    return (fmt, *found)


def root(request: Request, snapshot: SnapshotDep, format: FormatParam = None) -> Response:
    """The root node of the stream."""
    stream = _stream(request, snapshot, format)
    if isinstance(stream, Response):
        return stream
    fmt, folder, index = stream
    entry = index["root"]
    return _answer(request, snapshot, folder / entry["file"], entry["sha256"], False, fmt,
                   public_base_url(request) + "/")


def page(request: Request, snapshot: SnapshotDep, page: str,
         format: FormatParam = None) -> Response:
    """One page of members."""
    stream = _stream(request, snapshot, format)
    if isinstance(stream, Response):
        return stream
    fmt, folder, index = stream
    pages = index["pages"]
    # Digits 0-9 only: str.isdigit() also takes "²", which int() refuses.
    if not re.fullmatch(r"[0-9]{1,9}", page) or str(int(page)) != page \
            or int(page) >= len(pages):
        extent = f"pages 0–{len(pages) - 1}" if pages else "no pages yet"
        return problem(404, f"There is no page '{page[:40]}' in the change stream; it has "
                             f"{extent}. Start at /feeds/ldes.")
    entry = pages[int(page)]
    return _answer(request, snapshot, folder / entry["file"], entry["sha256"],
                   entry["immutable"], fmt, public_base_url(request) + "/")


#: `/feeds/ldes` and `/feeds/ldes/{page}` (GET documented, HEAD as well).
router = APIRouter(tags=["Feeds"])
documented = answers("The node in the format asked for.",
                     *(fmt.media_type for fmt in LDES_FORMATS), statuses=(304, 406, 503))
router.add_api_route("/feeds/ldes", root, methods=["GET"], operation_id="ldes_root",
                     response_class=Response, responses=documented,
                     summary="LDES change stream: the event stream and its root node",
                     description=ROOT_DOC)
router.add_api_route("/feeds/ldes", root, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/feeds/ldes/{page}", page, methods=["GET"], operation_id="ldes_page",
                     response_class=Response,
                     responses={**documented, 404: {
                         "description": "No such page; the reason gives the range.",
                         "content": {"application/json": {"schema": {"type": "object"}}}}},
                     summary="LDES change stream: one page of members, oldest first",
                     description=PAGE_DOC)
router.add_api_route("/feeds/ldes/{page}", page, methods=["HEAD"], include_in_schema=False)
