"""What the OpenAPI document says routes answer: media types and statuses, so that generated
clients (and the schemathesis test) see every status and content type a route really sends."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from ketju.sparql.formats import RDF_FORMATS

RDF_MEDIA = tuple(fmt.media_type for fmt in RDF_FORMATS)
_TEXT = {"schema": {"type": "string"}}
_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

_STATUS_TEXT = {
    304: "Not modified since the ETag or date given.",
    400: "A parameter is wrong; the reason says why.",
    404: "No such resource.",
    406: "None of the offered formats is acceptable; the answer lists them.",
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
