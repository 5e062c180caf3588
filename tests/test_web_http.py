"""web/http.py: the one negotiation function gives what each of the negotiators it replaced
gave (issue 15), over many Accept headers and ?format= values; problem answers and
conditional requests keep their shape. Issue 12 changed one thing, marked in the old
negotiators below: a ?format= that names nothing on offer falls back to Accept."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from ketju.infra.sparql.formats import RDF_FORMATS, RESULT_FORMATS, Format, parse_accept
from ketju.web import http

# --- the negotiators as they were before web/http.py (copied from the tree at af4d2dd) -------

HTML = "html"


def _matches(media_range: str, fmt: Format) -> bool:
    if media_range == "*/*":
        return True
    candidates = (fmt.media_type, *fmt.aliases)
    if media_range.endswith("/*"):
        major = media_range[:-2]
        return any(c.split("/")[0] == major for c in candidates)
    return media_range in candidates


def old_choose(formats: tuple[Format, ...], accept: str | None,
               format_param: str | None = None) -> Format | None:
    if format_param:
        wanted = format_param.strip().lower()
        for fmt in formats:
            if wanted in fmt.names or wanted == fmt.media_type or wanted in fmt.aliases:
                return fmt
        # issue 12: no longer `return None`; Accept decides.
    ranges = parse_accept(accept)
    excluded = {media for media, q in ranges if q == 0.0}
    for media, q in ranges:
        if q == 0.0:
            continue
        for fmt in formats:
            if _matches(media, fmt) and fmt.media_type not in excluded:
                return fmt
    return None


FORMAT_PARAMS = {"html": HTML, **{name: fmt for fmt in RDF_FORMATS for name in fmt.names}}


def old_page_negotiate(accept: str | None, param: str | None) -> str | Format | None:
    if param and param.lower() in FORMAT_PARAMS:  # issue 12: else Accept decides
        return FORMAT_PARAMS[param.lower()]
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        if media in ("text/html", "application/xhtml+xml", "*/*", "text/*"):
            return HTML
        fmt = old_choose(RDF_FORMATS, media)
        if fmt is not None:
            return fmt
    return None


def old_catalog_negotiate(accept: str | None, param: str | None) -> str | Format | None:
    if param and param.lower() in FORMAT_PARAMS:  # issue 12: else Accept decides
        return FORMAT_PARAMS[param.lower()]
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        if media in ("text/html", "application/xhtml+xml"):
            return HTML
        fmt = old_choose(RDF_FORMATS, media)
        if fmt is not None:
            return fmt
    return None


def old_wants_json(accept: str | None, param: str | None) -> bool:
    if param and param.lower() in ("json", "html"):  # issue 12: else Accept decides
        return param.lower() == "json"
    for media, q in parse_accept(accept):
        if q <= 0:
            continue
        if media in ("application/json", "application/*"):
            return True
        if media in ("text/html", "application/xhtml+xml", "text/*", "*/*"):
            return False
    return False


# --- what clients send ---------------------------------------------------------------------

MEDIA = ["text/html", "application/xhtml+xml", "*/*", "text/*", "application/*", "image/*",
         "text/turtle", "application/x-turtle", "application/n-triples", "text/plain",
         "application/ld+json", "application/json", "application/rdf+xml", "application/xml",
         "text/xml", "text/csv", "application/sparql-results+json",
         "application/sparql-results+xml", "text/tab-separated-values", "image/png"]
PARAMS = [None, "", "html", "HTML", "turtle", "ttl", "nt", "n-triples", "jsonld", "json-ld",
          "json", "xml", "rdf", "owl", "rdfxml", "csv", "tsv", "srj", "srx", "text/turtle",
          "application/json", "png", "n3"]
Q = st.sampled_from(["", ";q=1", ";q=0.9", ";q=0.5", ";q=0.1", ";q=0", ";q=x", ";level=1"])
ACCEPT = st.one_of(st.none(), st.just(""), st.lists(
    st.tuples(st.sampled_from(MEDIA), Q).map("".join), min_size=1, max_size=5).map(", ".join))
PARAM = st.sampled_from(PARAMS)


def named(offer: http.Offer | None) -> str | Format | None:
    return None if offer is None else offer.format or offer.name


@settings(max_examples=300, deadline=None)
@given(ACCEPT, PARAM)
def test_pages_choose_as_before(accept: str | None, param: str | None) -> None:
    assert named(http.negotiate(http.PAGE_OFFERS, accept, param)) == \
        old_page_negotiate(accept, param)


@settings(max_examples=300, deadline=None)
@given(ACCEPT, PARAM)
def test_dataset_description_chooses_as_before(accept: str | None, param: str | None) -> None:
    assert named(http.negotiate(http.DESCRIPTION_OFFERS, accept, param)) == \
        old_catalog_negotiate(accept, param)


@settings(max_examples=300, deadline=None)
@given(ACCEPT, PARAM)
def test_json_or_html_as_before(accept: str | None, param: str | None) -> None:
    offer = http.negotiate(http.JSON_OR_HTML, accept, param)
    assert (offer is http.JSON_OR_HTML[0]) == old_wants_json(accept, param)


@settings(max_examples=300, deadline=None)
@given(ACCEPT, PARAM)
def test_rdf_and_results_as_before(accept: str | None, param: str | None) -> None:
    for offers, formats in ((http.RDF_OFFERS, RDF_FORMATS),
                            (http.RESULT_OFFERS, RESULT_FORMATS)):
        offer = http.negotiate(offers, accept, param, refusals=True)
        assert (None if offer is None else offer.format) == old_choose(formats, accept, param)


@pytest.mark.parametrize(("accept", "param", "csv"), [
    (None, None, False), ("text/csv", None, True), ("application/json", None, False),
    ("text/csv;q=0.5, application/json", None, False), ("*/*", "csv", True),
    ("text/csv", "json", False), ("text/html, text/csv;q=0.9", None, True)])
def test_named_queries_answer_csv_when_asked(accept: str | None, param: str | None,
                                             csv: bool) -> None:
    offer = http.negotiate(http.JSON_OR_CSV, accept, param, default=http.JSON_OR_CSV[0])
    assert offer is not None and (offer.name == "csv") == csv


@pytest.mark.parametrize(("offers", "accept", "values", "name"), [
    # What SPARQLWrapper sends for JSON-LD, N3 and TSV (issue 12).
    (http.RDF_OFFERS, "application/ld+json,application/x-json+ld",
     ["json-ld", "application/ld+json,application/x-json+ld"], "jsonld"),
    (http.RDF_OFFERS, "application/turtle,text/turtle,text/rdf+n3", ["n3"], "turtle"),
    (http.RESULT_OFFERS, "text/tab-separated-values", ["tsv", "text/tab-separated-values"], "tsv"),
    # The last value that names an offer wins; one that names none is passed over.
    (http.RESULT_OFFERS, None, ["csv", "json", "nope"], "json"),
    (http.RDF_OFFERS, "text/turtle", ["text/csv;q=1, application/n-triples"], "ntriples"),
    (http.PAGE_OFFERS, "text/html", ["pdf"], "html"),
])
def test_every_format_value_is_read_and_one_that_names_nothing_gives_way(
        offers: tuple[http.Offer, ...], accept: str | None, values: list[str],
        name: str) -> None:
    offer = http.negotiate(offers, accept, values, refusals=True)
    assert offer is not None and offer.name == name


def test_406_only_when_neither_format_nor_accept_can_be_met() -> None:
    assert http.negotiate(http.RDF_OFFERS, "image/png", "csv", refusals=True) is None
    assert http.negotiate(http.RDF_OFFERS, "text/turtle;q=0", "n3", refusals=True) is None


def request(**headers: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": b"",
                    "headers": [(k.replace("_", "-").encode(), v.encode())
                                for k, v in headers.items()]})


def test_conditional_requests() -> None:
    built = datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC)
    etag = 'W/"abc"'
    assert http.not_modified(request(if_none_match='W/"abc"'), etag, built)
    assert http.not_modified(request(if_none_match='"x", "abc"'), etag, built), \
        "If-None-Match compares weakly"
    assert http.not_modified(request(if_none_match="*"), '"strong"')
    assert not http.not_modified(request(if_none_match='"other"'), etag, built)
    since = format_datetime(built, usegmt=True)
    assert http.not_modified(request(if_modified_since=since), etag, built)
    assert not http.not_modified(request(if_modified_since="yesterday"), etag, built)
    assert not http.not_modified(request(if_modified_since=since), etag), "no date, no 304"
    headers = http.cache_headers(etag, built, "Accept, Cookie")
    assert headers == {"ETag": etag, "Last-Modified": since, "Vary": "Accept, Cookie",
                       "Cache-Control": "public, max-age=300"}
    answer = http.unchanged(request(if_none_match=etag), headers, built)
    assert answer is not None and answer.status_code == 304 and answer.headers["etag"] == etag
    assert http.unchanged(request(), headers, built) is None


def test_problem_answers() -> None:
    plain = http.problem(404, "No such chain.", {"Retry-After": "5"})
    assert plain.status_code == 404 and plain.headers["retry-after"] == "5"
    assert plain.headers["content-type"] == "application/json"
    assert json.loads(plain.body) == {"status": 404, "detail": "No such chain."}
    text = http.problem(406, "Available formats: text/turtle", text=True)
    assert text.body == b"Available formats: text/turtle\n"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    page = http.problem(503, "Down.", page="<p>Down.</p>")
    assert page.body == b"<p>Down.</p>" and page.headers["content-type"].startswith("text/html")
