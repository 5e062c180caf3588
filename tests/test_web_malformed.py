"""No malformed request gets a 500 (issue 11, point 9): paths that cannot be IRIs, and bad
values for every parameter and header of every page route, get 400 or 404 with a message,
never a traceback in the server log. (The documented API routes are fuzzed by schemathesis in
test_openapi.py; pages are not in the OpenAPI document, so they are listed here.)"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.servers import Server

pytestmark = pytest.mark.slow

CHAIN = "/id/varsinais-suomi/chain/lonkkamurtuma"
#: Paths whose IRI is not an IRI, or that try to climb out of their route.
MALFORMED_PATHS = [
    "/id/a%20b", "/vocab/%22", "/id/%3C", "/id/%3E", "/id/%7B", "/id/%7D", "/id/%00",
    "/id/%5E", "/id/%60", "/id/%7C", "/id/%5C", "/id/%FF", "/id/%C0%AF", "/vocab/%ZZ",
    "/id/%0A", "/id/%0D%0AX-Injected:%201", f"{CHAIN}%3E", f"{CHAIN}%20x", "/id/" + "a" * 3000,
    "//evil.example/x", "/id/%E2%80%AE", "/vocab/%EF%BF%BF", "/feeds/ldes/%C2%B2",
    "/feeds/ldes/%E0%A5%A8", "/feeds/ldes/-1", "/feeds/ldes/" + "9" * 40, "/dumps/%00",
    "/dumps/%2E%2E%2Fmanifest.json", "/static/%00", "/static/..%2F..%2Fsettings.py",
    "/docs/assets/%00", "/api/chains/%00/x", "/api/chains/a%20b/c/similar",
]
#: Each page route and the parameters it reads.
PAGE_PARAMS = {
    "/": ["lang"],
    "/regions": ["lang"],
    CHAIN: ["lang", "format", "links"],
    "/vocab/service-level/specialised": ["lang", "format", "links"],
    "/resource": ["iri", "links", "format", "lang"],
    "/search": ["q", "kind", "region", "page", "format", "lang"],
    "/compare": ["chains", "lang"],
    "/catalog": ["format"],
    "/.well-known/void": ["format"],
    "/dumps/": ["format"],
    "/feeds/cpsv-ap": ["format"],
    "/feeds/ldes": ["format"],
    "/feeds/ldes/0": ["format"],
    "/sparql": ["lang"],
}
#: Raw (already encoded) values that each parameter gets in turn.
BAD_VALUES = [
    "", "%00", "%22%3E%3Cscript%3Ealert(1)%3C/script%3E", "a%20b", "%FF", "-1", "0",
    "9" * 30, "x" * 3000, "%0D%0AX-Injected:%201", "http://a%20b", "https://x/%3C",
    "%E2%80%AE", "http://" + "a" * 2100, "javascript:alert(1)", "..%2F..%2F",
    "varsinais-suomi/lonkkamurtuma,%00", "a/b/c/d,e/f", "%5B%5D",
]
BAD_HEADERS: list[dict[str, str]] = [
    {"Host": "a b"}, {"Host": 'x"><script>'}, {"Host": "[::1"}, {"Host": "a/b?c#d"},
    {"Accept": "text/html;q=abc, */*;q=nan"}, {"Accept": "\x7f/\x7f"},
    {"Accept-Language": "%00;q=x, ,;q=1e999"}, {"Cookie": "lang=\x7f; lang=xx"},
    {"If-None-Match": "\x01"}, {"If-Modified-Since": "Mon, 99 Foo 99999 99:99:99 GMT"},
    {"X-Request-Id": "a\tb" + "c" * 200},
]


def raw_get(server: Server, target: str, headers: dict[str, str] | None = None) -> int:
    """GET with the request target sent as it is (no client-side normalising or encoding)."""
    address = urlsplit(server.base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    try:
        connection.putrequest("GET", target, skip_host="Host" in (headers or {}),
                              skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value.encode("latin-1"))
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def no_traceback(server: Server) -> Iterator[None]:
    """The test's requests leave no traceback in the server log."""
    start = len(server.log_text())
    yield
    time.sleep(0.5)  # a traceback is written after its 500 has been sent
    log = server.log_text()[start:]
    assert "Traceback" not in log, log[log.find("Traceback") - 300:][:4000]


@pytest.mark.parametrize("path", MALFORMED_PATHS)
def test_malformed_paths_are_400_or_404(server: Server, no_traceback: None, path: str) -> None:
    status = raw_get(server, path)
    assert status in (400, 404), (path, status)


@pytest.mark.parametrize("route", sorted(PAGE_PARAMS))
def test_bad_parameter_values_are_never_a_server_error(server: Server, no_traceback: None,
                                                      route: str) -> None:
    failures = []
    for name in PAGE_PARAMS[route]:
        for value in BAD_VALUES:
            extra = "iri=https%3A%2F%2Fw3id.org%2Fketju%2Fid%2Fnational%2Fproducer%2Fkela&" \
                if route == "/resource" and name != "iri" else ""
            target = f"{route}?{extra}{name}={value}"
            status = raw_get(server, target)
            if status >= 500:
                failures.append((target[:120], status))
    assert failures == []


@pytest.mark.parametrize("headers", BAD_HEADERS, ids=lambda h: next(iter(h)))
def test_bad_headers_are_never_a_server_error(server: Server, no_traceback: None,
                                              headers: dict[str, str]) -> None:
    routes = [*sorted(PAGE_PARAMS), "/api/chains?limit=1", "/api/search?q=lonkk"]
    if "Host" in headers:
        # /sparql is a raw ASGI app with its own Host handling, tested with the endpoint.
        routes.remove("/sparql")
    failures = [(route, status) for route in routes
                if (status := raw_get(server, route, headers)) >= 500]
    assert failures == []


def test_a_path_that_is_not_an_iri_gets_the_not_found_page(server: Server) -> None:
    address = urlsplit(server.base)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
    connection.request("GET", "/id/a%20b", headers={"Accept": "text/html"})
    response = connection.getresponse()
    body = response.read().decode("utf-8")
    connection.close()
    assert response.status == 404
    assert "<h1>" in body and "/id/a b" in body, "the page says which path was not found"
