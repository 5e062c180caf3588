"""`GET /feeds/cpsv-ap`: the catalogue's services as CPSV-AP 3.2.0, by content negotiation.

With the embedded store the route sends the file the build wrote (`{store}/feeds/`); in remote
mode, where there is no such file, it computes the export from the catalogue once per snapshot
and keeps it with the snapshot. ETag and Last-Modified come from the build, so an unchanged
build is 304.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from ketju.infra.feeds import cpsv
from ketju.infra.snapshot import Snapshot
from ketju.infra.sparql.formats import RDF_FORMATS, Format
from ketju.web.http import RDF_OFFERS, cache_headers, negotiate_request, problem, unchanged
from ketju.web.pages import Site
from ketju.web.services import ServicesDep, SnapshotDep

OFFERED = ", ".join(fmt.media_type for fmt in RDF_FORMATS)
DESCRIPTION = (
    "Every service of the catalogue as a `cpsv:PublicService` of the EU Core Public Service "
    "Vocabulary Application Profile (CPSV-AP 3.2.0): identifier, titles and descriptions in "
    "the languages the service has, its competent authority (`cv:PublicOrganisation` with "
    "`dct:spatial`), channels, PTV target groups (`dct:audience`) and life events "
    "(`cv:isGroupedBy`), the JHS 183 class as `cv:thematicArea`. Packages and chains are "
    "ketju's own extension, linked to their services with `dct:hasPart`. The export conforms "
    "to the official CPSV-AP 3.2.0 SHACL shapes.\n\n"
    "Formats by `Accept` or `?format=`: Turtle (default), JSON-LD, N-Triples, RDF/XML; "
    "406 when none of them is acceptable."
)


def _computed(snapshot: Snapshot, fmt: str) -> bytes:
    """Remote mode: the export in one format, made once per snapshot; the queries run once
    (concurrent requests wait for them, `Snapshot.kept`)."""
    triples = snapshot.kept("cpsv-triples", lambda: cpsv.cpsv_graph(snapshot.data))

    def serialised() -> bytes:
        body = cpsv.serialize(triples, fmt)
        assert body is not None
        return body

    return snapshot.kept(("cpsv", fmt), serialised)


#: The CPSV-AP feed.
router = APIRouter(tags=["Feeds"])


@router.api_route(
    "/feeds/cpsv-ap", methods=["GET", "HEAD"], response_class=Response,
    summary="The services as CPSV-AP 3.2.0 (Turtle, JSON-LD, N-Triples, RDF/XML)",
    description=DESCRIPTION, operation_id="feed_cpsv_ap",
    responses={
        200: {"description": "The CPSV-AP export.",
              "content": {fmt.media_type: {"schema": {"type": "string"}}
                          for fmt in RDF_FORMATS}},
        304: {"description": "Not modified since the ETag or date given."},
        406: {"description": "None of the offered formats is acceptable.",
              "content": {"text/plain": {"schema": {"type": "string"}}}},
    },
)
def cpsv_ap(
    request: Request, services: ServicesDep, snapshot: SnapshotDep,
    format: Annotated[str | None, Query(
        description="turtle, ntriples, jsonld or rdfxml (overrides Accept)",
        max_length=40)] = None,
) -> Response:
    offer = negotiate_request(request, RDF_OFFERS, format, refusals=True)
    if offer is None or offer.format is None:
        return problem(406, f"Available formats: {OFFERED}", {"Vary": "Accept"}, text=True)
    return _feed(request, Site(services.settings, snapshot), offer.format)


def _feed(request: Request, site: Site, fmt: Format) -> Response:
    snapshot = site.snapshot
    assert snapshot is not None
    modified = site.last_modified()
    headers = cache_headers(site.etag("feeds/cpsv-ap", fmt.name), modified)
    if (answer := unchanged(request, headers, modified)) is not None:
        return answer
    path = cpsv.precomputed(snapshot, fmt.name)
    if path is not None:
        return FileResponse(path, media_type=fmt.content_type, headers=headers)
    body = _computed(snapshot, fmt.name)
    return Response(b"" if request.method == "HEAD" else body, media_type=fmt.content_type,
                    headers={**headers, "Content-Length": str(len(body))})
