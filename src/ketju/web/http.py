"""HTTP helpers of the web layer: the public URL of a request and problem answers.

Every URL an answer carries (JSON-LD `@context`, `page` and `api` links, `Link` headers, feed
IRIs) starts from `public_base_url`. With `--public-base-url` set (as it should be on a public
server) the client's `Host` header never reaches an answer; without it, only a `Host` that is a
plain host name or address is used, so markup, paths or spaces cannot get in. Errors are
`{"status", "detail"}` JSON (`problem`), the same for every route; a request whose parameters
FastAPI refuses gets 400 with the reason, never the value echoed back.

The one place for what every route does with HTTP:
- `problem`: every error answer (JSON `{"status", "detail"}`; plain text where a route has
  always answered so, like 406 with the formats on offer; a page for browsers, rendered by the
  caller);
- `negotiate`: the answer's format, `?format=` first, then `Accept`, over a table of `Offer`s
  (media types and synonyms; RDF formats from `ketju.infra.sparql.formats`). A `?format=`
  that names nothing on offer falls back to `Accept` (issue 12): clients written for other
  engines send values of their own (SPARQLWrapper sends `format=n3`, or `format=json-ld`
  and `format=application/ld+json,application/x-json+ld`, beside a right `Accept`), and
  `Accept` is the standard; 406 only when neither can be met;
- `not_modified`, `cache_headers`: conditional requests (ETag, If-None-Match, If-Modified-Since
  -> 304) and the caching headers that go with them (ETag, Last-Modified, Vary);
- `public_base_url`.

>>> negotiate(PAGE_OFFERS, "text/turtle;q=0.9, text/html").name
'html'
>>> negotiate(PAGE_OFFERS, "application/ld+json", "ttl").name
'turtle'
>>> negotiate(JSON_OR_HTML, "application/json, text/html;q=0.5").name
'json'
>>> negotiate(RESULT_OFFERS, "text/csv;q=0.5, application/sparql-results+json").name
'json'
>>> negotiate(RDF_OFFERS, None, "ttl").format.media_type
'text/turtle'
>>> negotiate(RDF_OFFERS, "image/png") is None
True
>>> negotiate(RDF_OFFERS, "text/turtle;q=0, */*", refusals=True).name
'ntriples'
>>> negotiate(RDF_OFFERS, "text/turtle, application/n3", "n3").name
'turtle'
>>> negotiate(RDF_OFFERS, "*/*", ["json-ld", "application/ld+json,application/x-json+ld"]).name
'jsonld'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ketju import __version__
from ketju.infra.sparql.formats import RDF_FORMATS, RESULT_FORMATS, Format, parse_accept

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


def problem(status: int, detail: str, headers: Mapping[str, str] | None = None, *,
            text: bool = False, page: str | None = None) -> Response:
    """An error answer: the status and a plain-language reason, as JSON `{"status",
    "detail"}`; as plain text (`text`, the reason and a newline) where a route answers so;
    or, for a browser, the `page` (HTML) the caller rendered."""
    extra = dict(headers or {})
    if page is not None:
        return HTMLResponse(page, status_code=status, headers=extra)
    if text:
        return Response(detail + "\n", status_code=status, headers=extra,
                        media_type="text/plain; charset=utf-8")
    return JSONResponse({"status": status, "detail": detail}, status_code=status,
                        headers=extra or None)


# --- content negotiation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Offer:
    """A format a route can answer in: its name, the `?format=` values that ask for it, and
    the `Accept` media ranges that ask for it (synonyms and wildcards spelled out)."""

    name: str
    names: frozenset[str]
    accepts: frozenset[str]
    #: The RDF (or results) format, when the offer is one.
    format: Format | None = field(default=None, compare=False)

    @classmethod
    def of(cls, fmt: Format, by_media_type: bool = True) -> Offer:
        """An offer of an RDF or results format, accepted for its media type and aliases,
        their `type/*`, and `*/*`; asked for by its names (and, `by_media_type`, by its
        media type and aliases as `?format=` values too, as the SPARQL protocol allows)."""
        media = (fmt.media_type, *fmt.aliases)
        return cls(fmt.name, frozenset({*fmt.names, *(media if by_media_type else ())}),
                   frozenset({"*/*", *media, *(m.split("/")[0] + "/*" for m in media)}), fmt)


def offers_of(formats: Sequence[Format], by_media_type: bool = True) -> tuple[Offer, ...]:
    """The offers of a table of formats, in its order (the first is preferred)."""
    return tuple(Offer.of(fmt, by_media_type) for fmt in formats)


HTML_OFFER = Offer("html", frozenset({"html"}),
                   frozenset({"text/html", "application/xhtml+xml", "*/*", "text/*"}))
#: The RDF formats (graph-store, feeds, the SPARQL endpoint's graphs).
RDF_OFFERS = offers_of(RDF_FORMATS)
#: What SPARQL SELECT and ASK answer in.
RESULT_OFFERS = offers_of(RESULT_FORMATS)
#: Entity pages (`/id/...`, `/resource`): HTML for browsers and `*/*`, else an RDF format
#: (`?format=` by name: html, turtle, ttl, jsonld, ...).
PAGE_OFFERS: tuple[Offer, ...] = (HTML_OFFER, *offers_of(RDF_FORMATS, by_media_type=False))
#: The dataset description: an explicit `text/html` gets the page, `*/*` means Turtle.
DESCRIPTION_OFFERS: tuple[Offer, ...] = (
    Offer("html", frozenset({"html"}), frozenset({"text/html", "application/xhtml+xml"})),
    *offers_of(RDF_FORMATS, by_media_type=False))
#: Pages that are also JSON (search, the dumps list): JSON only when it is ranked first.
JSON_OR_HTML: tuple[Offer, ...] = (
    Offer("json", frozenset({"json"}), frozenset({"application/json", "application/*"})),
    Offer("html", frozenset({"html"}), frozenset({"text/html", "application/xhtml+xml",
                                                  "text/*", "*/*"})))
#: Named queries: JSON unless CSV is asked for.
JSON_OR_CSV: tuple[Offer, ...] = (
    Offer("json", frozenset({"json"}), frozenset({"application/json"})),
    Offer("csv", frozenset({"csv"}), frozenset({"text/csv"})))


def named_offer(offers: Sequence[Offer], param: str | Sequence[str] | None) -> Offer | None:
    """The offer that `?format=` names, or None. `param` is one value or all the values
    given; each may be a comma-separated list (of names or media types, parameters such as
    `;q=` ignored). The last value that names an offer wins (a later parameter overrides an
    earlier one); within a value, the first name that does.

    >>> named_offer(RESULT_OFFERS, ["tsv", "text/tab-separated-values"]).name
    'tsv'
    >>> named_offer(RDF_OFFERS, "application/turtle, text/turtle;q=0.9").name
    'turtle'
    >>> named_offer(RDF_OFFERS, ["n3"]) is None
    True
    """
    values = [param] if isinstance(param, str) else list(param or ())
    for value in reversed(values):
        for piece in value.split(","):
            wanted = piece.split(";", 1)[0].strip().lower()
            if not wanted:
                continue
            for offer in offers:
                if wanted in offer.names:
                    return offer
    return None


def negotiate(offers: Sequence[Offer], accept: str | None,
              param: str | Sequence[str] | None = None, *,
              default: Offer | None = None, refusals: bool = False) -> Offer | None:
    """The offer to answer with: the one `?format=` names (`named_offer`); when it names
    none (or is not given), the first that the most wanted `Accept` range asks for (q-values,
    then specificity, then order); else `default`. With `refusals`, an offer whose media
    type the client refused (`q=0`) is never chosen by `Accept`."""
    if param and (named := named_offer(offers, param)) is not None:
        return named
    ranges = parse_accept(accept)
    refused = {media for media, q in ranges if q <= 0} if refusals else set()
    for media, q in ranges:
        if q <= 0:
            continue
        for offer in offers:
            if media in offer.accepts and not (
                    offer.format is not None and offer.format.media_type in refused):
                return offer
    return default


def negotiate_request(request: Request, offers: Sequence[Offer], param: str | None = None,
                      **options: Any) -> Offer | None:
    """`negotiate` with the request's `Accept` and every `?format=` it gives (`param`, the
    value a route declared, when the query string has none)."""
    values = request.query_params.getlist("format") or ([param] if param else [])
    return negotiate(offers, request.headers.get("accept"), values, **options)


# --- conditional requests --------------------------------------------------------------------

def _opaque(tag: str) -> str:
    """An entity tag without its weakness mark: If-None-Match compares weakly (RFC 9110)."""
    return tag.strip().removeprefix("W/")


def not_modified(request: Request, etag: str, modified: datetime | None = None) -> bool:
    """Whether the client's copy is current: If-None-Match (weak comparison, `*`), else
    If-Modified-Since against `modified`."""
    if (match := request.headers.get("if-none-match")) is not None:
        tags = [_opaque(tag) for tag in match.split(",")]
        return "*" in tags or _opaque(etag) in tags
    if modified is not None and (since := request.headers.get("if-modified-since")) is not None:
        try:
            return parsedate_to_datetime(since) >= modified.replace(microsecond=0)
        except (TypeError, ValueError):
            return False
    return False


def build_etag(build_version: str, *parts: str) -> str:
    """A weak entity tag for an answer that follows from the build, ketju's own version (a new
    release may render the same build differently) and `parts` (what the answer depends on)."""
    digest = hashlib.sha256("|".join((build_version, __version__, *parts)).encode()).hexdigest()
    return f'W/"{digest[:24]}"'


def cache_headers(etag: str, modified: datetime | None = None, vary: str | None = "Accept",
                  cache_control: str = "public, max-age=300") -> dict[str, str]:
    """ETag, Last-Modified, Vary and Cache-Control of an answer that changes with the build."""
    headers = {"ETag": etag}
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    if vary:
        headers["Vary"] = vary
    headers["Cache-Control"] = cache_control
    return headers


def unchanged(request: Request, headers: dict[str, str],
              modified: datetime | None = None) -> Response | None:
    """304 with `headers` when the client's copy (by `headers["ETag"]`) is current."""
    if not_modified(request, headers["ETag"], modified):
        return Response(status_code=304, headers=headers)
    return None


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


async def invalid_request(request: Request, error: Exception) -> Response:
    """400 and the reasons, for parameters that do not fit their declared type or length."""
    assert isinstance(error, RequestValidationError)
    return problem(400, validation_detail(error))


def install_problem_handlers(app: FastAPI) -> None:
    """Parameters that do not fit their declared type or length get 400 and the reason."""
    app.add_exception_handler(RequestValidationError, invalid_request)
