"""What a request carries and an answer repeats stays inert (issue 11, point 10): links built
from the request stay on this site, the access log cannot be forged, IRI parameters are capped
(400 beyond `MAX_IRI_CHARS`), `Link` headers repeat only declared parameters, and every URL in
an answer starts from the public base URL (`--public-base-url`, else a checked `Host`)."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx
import pytest

from ketju.core.project import Project
from ketju.core.queries import MAX_IRI_CHARS
from ketju.web.observability import printable
from ketju.web.pages import Site
from tests.servers import Server, ketju_server

ID = "https://w3id.org/ketju/id/"
CHAIN = f"{ID}varsinais-suomi/chain/lonkkamurtuma"
PUBLIC = "https://ketju.example.fi"


@pytest.fixture(scope="module")
def proxied(built_project: Project, server_logs: Path) -> Iterator[Server]:
    """A server behind a proxy: its public URL is set."""
    with ketju_server(built_project.root, server_logs, public_base_url=PUBLIC) as running:
        yield running


def raw(server: Server, target: str, headers: dict[str, str] | None = None
        ) -> tuple[int, dict[str, str], str]:
    """GET with the target and headers sent as they are; status, headers, body."""
    address = urlsplit(server.base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest("GET", target, skip_host="Host" in (headers or {}))
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8", errors="replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


# -- links built from the request --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("path", ["//evil.example/x", "//evil.example/x?lang=sv",
                                  "/\\evil.example/x", "/id/keski-suomi/chain/ei-ole",
                                  "/search?q=lonkka&lang=en", "/regions"])
def test_language_links_stay_on_this_site(server: Server, path: str) -> None:
    status, _, body = raw(server, path, {"Accept": "text/html"})
    assert status in (200, 404)
    links = re.findall(r'<a href="([^"]*)" hreflang="(\w+)"', body)
    assert {lang for _, lang in links} == {"fi", "sv", "en"}
    page_url = server.base + path
    for href, _ in links:
        # Browsers read "\\" as "/" in http(s) URLs: "/\\host/x" is "//host/x".
        href = href.replace("&amp;", "&").replace("\\", "/")
        resolved = urlsplit(urljoin(page_url, href))
        assert resolved.netloc == urlsplit(server.base).netloc, href


@pytest.mark.slow
def test_language_links_keep_the_search_but_not_what_a_client_added(server: Server) -> None:
    _, _, body = raw(server, "/search?q=lonkka&junk=%3Cx%3E")
    assert 'href="?q=lonkka&amp;lang=sv"' in body
    assert "junk" not in re.sub(r'href="/search\?[^"]*"', "", body)


def fake_site(base: str = "https://w3id.org/ketju/") -> Site:
    return Site(SimpleNamespace(data_base=base), None)


@pytest.mark.parametrize("iri", ["https://w3id.org/ketju//evil.example/x",
                                 "https://w3id.org/ketju/\\evil.example/x",
                                 "https://w3id.org/ketju//\\evil.example"])
def test_iris_under_the_base_never_link_to_another_host(iri: str) -> None:
    site = fake_site()
    assert site.local_path(iri) is None
    assert site.href(iri) == "/resource?iri=" + quote(iri, safe="")


def test_iris_under_the_base_are_local_paths() -> None:
    assert fake_site().href(CHAIN) == "/id/varsinais-suomi/chain/lonkkamurtuma"


# -- the access log ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "logged"), [
    ("/id/x\nforged 200", "/id/x\\x0aforged 200"),
    ("/id/x\r\n", "/id/x\\x0d\\x0a"),
    ("/id/\x1b[31mred", "/id/\\x1b[31mred"),
    ("/id/\u2028x\u202ey", "/id/\\u2028x\\u202ey"),
    ("/id/a\\x0ab", "/id/a\\\\x0ab"),
    ("/id/ääkkönen", "/id/ääkkönen"),
])
def test_logged_text_is_printable_and_unambiguous(text: str, logged: str) -> None:
    assert printable(text) == logged


def test_logged_paths_are_cut() -> None:
    assert printable("/id/" + "a" * 10_000, 100) == "/id/" + "a" * 96 + "..."


@pytest.mark.slow
def test_a_decoded_newline_cannot_forge_an_access_log_line(server: Server) -> None:
    forged = "2030-01-01 00:00:00,000 ketju.access 0 GET /admin 200 1.0ms"
    raw(server, "/id/x%0A" + quote(forged))
    # The line is written once the answer is sent: wait for it.
    deadline = time.monotonic() + 30
    while "/id/x\\x0a2030-01-01" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = server.log_text().splitlines()
    assert not any(line.startswith(forged) for line in lines)
    assert any("ketju.access" in line and "/id/x\\x0a2030-01-01" in line for line in lines)


# -- caps on IRI parameters ----------------------------------------------------------------------


def long_iri(length: int) -> str:
    return "https://x.example/" + "a" * (length - len("https://x.example/"))


#: (path, parameter) of every place that takes an IRI.
IRI_PARAMETERS = [
    ("/api/queries/chain-steps", "chain"),
    ("/api/queries/names-of", "node"),
    ("/api/queries/chains", "segment"),
    ("/api/chains", "segment"),
    ("/api/services", "serviceClass"),
    ("/api/producers", "producerType"),
    ("/api/service-classes", "broader"),
    ("/resource", "iri"),
    ("/api/compare", "chains"),
    ("/compare", "chains"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "name"), IRI_PARAMETERS)
def test_iri_parameters_beyond_the_cap_are_400(server: Server, path: str, name: str) -> None:
    for length in (MAX_IRI_CHARS + 1, 60_000):
        response = server.get(server.base + path, params={name: long_iri(length)})
        assert response.status_code == 400, (length, response.text[:300])
        assert "2000" in response.text or "chain IRI" in response.text
        assert long_iri(length)[:300] not in response.text, "the value is not echoed back"
        assert sum(len(v) for v in response.headers.values()) < 4000


@pytest.mark.slow
@pytest.mark.parametrize(("path", "name"), [p for p in IRI_PARAMETERS if "compare" not in p[0]])
def test_iri_parameters_up_to_the_cap_are_taken(server: Server, path: str, name: str) -> None:
    response = server.get(server.base + path, params={name: long_iri(MAX_IRI_CHARS)})
    assert response.status_code in (200, 404), response.text[:300]


@pytest.mark.slow
@pytest.mark.parametrize(("path", "params"), [
    ("/api/search", {"q": "x" * 201}),
    ("/api/queries/resource-producers", {"region": "x" * 501}),
    ("/api/queries/chains", {"lang": "fi-" + "-".join(["abcdefgh"] * 10)}),
])
def test_string_parameters_beyond_their_cap_are_400(server: Server, path: str,
                                                    params: dict[str, str]) -> None:
    assert server.get(server.base + path, params=params).status_code == 400


# -- Link headers ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/api/chains?limit=2", "/api/search?q=palvelu&limit=2",
                                  "/api/regions?limit=2", "/api/service-classes?limit=2"])
def test_link_headers_repeat_only_declared_parameters(server: Server, path: str) -> None:
    response = server.get(server.base + path + "&junk=" + "j" * 5000)
    assert response.status_code == 200
    assert "junk" not in response.headers["link"]
    assert len(response.headers["link"]) < 1000


@pytest.mark.slow
def test_link_headers_keep_repeated_parameters(server: Server) -> None:
    response = server.get(server.base + "/api/search", params=[
        ("q", "lonkk"), ("kind", "ServiceChain"), ("kind", "Service"), ("limit", "1")])
    following = httpx.Response(200, headers={"link": response.headers["link"]}).links["next"]
    assert following["url"].count("kind=") == 2


# -- the public base URL ---------------------------------------------------------------------------


def urls_in(value: Any) -> list[str]:
    """Every http(s) URL in a JSON value (not the vocabulary IRIs of an inline JSON-LD
    `@context`; a context's URL is one of this server's)."""
    if isinstance(value, dict):
        return [u for k, v in value.items() if not (k == "@context" and isinstance(v, dict))
                for u in urls_in(v)]
    if isinstance(value, list):
        return [u for v in value for u in urls_in(v)]
    return [value] if isinstance(value, str) and value.startswith(("http://", "https://")) \
        else []


#: Answers that carry URLs of this server.
WITH_URLS = ["/api/chains?limit=3", "/api/regions?limit=2", "/api/service-classes?limit=2",
             "/api/queries", "/api/chains/varsinais-suomi/lonkkamurtuma",
             "/api/chains/varsinais-suomi/lonkkamurtuma/similar?limit=2",
             "/api/search?q=lonkk&limit=2", "/api/queries/regions?limit=2"]


def own_urls(server_url: str, answer: httpx.Response) -> list[str]:
    """The URLs of this server's answer that are not data IRIs."""
    found = urls_in(answer.json()) + re.findall(r"<([^>]+)>", answer.headers.get("link", ""))
    return [u for u in found if not u.startswith(("https://w3id.org/", "http://uri.suomi.fi/",
                                                  "http://www.w3.org/", "http://purl.org/"))]


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_URLS)
def test_public_base_url_is_honoured_whatever_the_host(proxied: Server, path: str) -> None:
    answer = proxied.get(proxied.base + path, headers={"Host": "evil.example"})
    assert answer.status_code == 200, answer.text[:300]
    urls = own_urls(proxied.base, answer)
    assert urls, "the answer links to this server"
    assert all(u.startswith(PUBLIC + "/") for u in urls), urls[:5]
    assert "evil.example" not in answer.text + answer.headers.get("link", "")


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/catalog", "/feeds/ldes", "/dumps/?format=json"])
def test_feeds_use_the_public_base_url_too(proxied: Server, path: str) -> None:
    answer = proxied.get(proxied.base + path, headers={"Host": "evil.example"})
    assert answer.status_code == 200
    assert PUBLIC in answer.text and "evil.example" not in answer.text


@pytest.mark.slow
@pytest.mark.parametrize("host", ["a b", 'x"><script>', "[::1", "a/b?c", "user@evil.example",
                                  "evil.example:80:80", "e" * 300 + ".example"])
def test_a_host_that_is_not_a_host_is_not_repeated(server: Server, host: str) -> None:
    status, headers, body = raw(server, "/api/chains?limit=1", {"Host": host})
    assert status == 200
    listed = own_urls(server.base, httpx.Response(200, text=body, headers=headers))
    assert listed and all(u.startswith(server.base + "/") for u in listed), listed[:3]
