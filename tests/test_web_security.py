"""Security headers on every answer and no third-party script (issue 11, point 12).

Every answer carries a Content-Security-Policy (this origin only, no inline script, no inline
style but by hash, no framing), `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and
a `Referrer-Policy`, the raw /sparql app included. In Chromium, no page breaks the policy (a
`securitypolicyviolation` listener and the console), the chain diagram keeps its style, YASGUI
runs a query, and `/docs` shows every operation with every request to another host refused.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from ketju.web.security import YASGUI_TABLE_STYLE, content_security_policy, style_hash
from tests.servers import Served, Server
from tests.test_browser import PAGES as BROWSER_PAGES

STATIC = Path(__file__).resolve().parents[1] / "src" / "ketju" / "web" / "static"
CHAIN = "/id/varsinais-suomi/chain/lonkkamurtuma"
#: One answer of every kind: pages, the query page and its answers, API, feeds, files, errors.
ANSWERS = ["/", CHAIN, "/search?q=lonkka", "/compare?chains=varsinais-suomi/lonkkamurtuma",
           "/sparql", "/sparql?query=ASK%7B%7D", "/api/regions?limit=1", "/openapi.json",
           "/docs", "/docs/try", "/catalog", "/dumps/", "/feeds/ldes", "/static/ketju.css",
           "/docs/assets/swagger-ui.css", "/healthz", "/no/such/page", "/api/chains/x/y",
           "/id/a%20b", "/api/chains?limit=0"]
PAGES = {**BROWSER_PAGES, "docs": "/docs", "catalog": "/catalog", "dumps": "/dumps/",
         "compare": "/compare?chains=varsinais-suomi/lonkkamurtuma,pohjois-savo/lonkkamurtuma",
         "hostile": "/id/kainuu/producer/vihamielinen"}


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def test_the_policy_allows_nothing_from_elsewhere_and_no_inline_script() -> None:
    policy = directives(content_security_policy())
    assert policy["default-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    sources = [s for values in policy.values() for s in values]
    assert not [s for s in sources if s in ("'unsafe-inline'", "'unsafe-eval'", "*", "blob:")
                or s.startswith(("http:", "https:")) or "." in s.strip("'")]


def test_the_yasgui_style_hash_matches_the_vendored_file() -> None:
    script = (STATIC / "yasgui" / "yasgui.min.js").read_text(encoding="utf-8")
    found = re.search(r"createStyle\(\w+,`([^`]*)`\)", script)
    assert found is not None, "YASGUI no longer adds its table style this way: check the policy"
    assert style_hash(found.group(1)) == YASGUI_TABLE_STYLE


@pytest.fixture
def server(hostile_server: Served) -> Served:
    return hostile_server


@pytest.mark.slow
@pytest.mark.parametrize("path", ANSWERS)
def test_every_answer_carries_the_security_headers(server: Server, path: str) -> None:
    answer = server.get(server.base + path)
    assert answer.status_code < 500
    policy = directives(answer.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"] and policy["script-src"] == ["'self'"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"


@pytest.mark.slow
def test_the_chain_page_allows_exactly_its_diagram_style(server: Server) -> None:
    answer = server.get(server.base + CHAIN)
    # Two drawings (wide and narrow, issue 14), each with its own style.
    styles = re.findall(r"<style>(.*?)</style>", answer.text, re.DOTALL)
    assert len(styles) == 2
    style_src = directives(answer.headers["content-security-policy"])["style-src"]
    for style in styles:
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in style_src
    assert "'unsafe-inline'" not in style_src
    kept = server.get(server.base + CHAIN)
    assert kept.headers["content-security-policy"] == answer.headers["content-security-policy"]


@pytest.mark.slow
def test_docs_page_has_no_inline_script_and_nothing_from_elsewhere(server: Server) -> None:
    page = server.get(server.base + "/docs/try").text
    assert re.findall(r"<script>", page) == [], "every script has a src"
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)
    assert server.get(server.base + "/redoc").headers["location"] == "/docs"


@pytest.mark.slow
def test_openapi_documents_400_for_refused_parameters(server: Server) -> None:
    spec = server.get(server.base + "/openapi.json").json()
    operations = [op for item in spec["paths"].values() for op in item.values()]
    assert not [op["operationId"] for op in operations if "422" in op["responses"]]
    with_parameters = [op for op in operations if op.get("parameters")]
    assert with_parameters and all("400" in op["responses"] for op in with_parameters)


# -- in Chromium -----------------------------------------------------------------------------------


WATCH = """window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
  [e.violatedDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber].join(' ')));"""


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    """A page that records policy violations and refuses every request to another host."""
    context = browser.new_context(locale="fi-FI")
    opened = context.new_page()
    here = urlsplit(server.base).netloc
    log: dict[str, list[str]] = {"console": [], "elsewhere": []}

    def only_here(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme == "data" or url.netloc == here:
            route.continue_()
        else:
            log["elsewhere"].append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    opened.on("console", lambda message: log["console"].append(message.text))
    opened.add_init_script(WATCH)
    opened.log = log  # type: ignore[attr-defined]
    yield opened
    context.close()


def violations(page: Page) -> list[str]:
    log: dict[str, Any] = page.log  # type: ignore[attr-defined]
    found: list[str] = page.evaluate("window.__violations")
    return found + [m for m in log["console"] if "Content Security Policy" in m]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_page_breaks_the_policy(page: Page, server: Server, name: str) -> None:
    page.goto(server.base + PAGES[name])
    page.wait_for_load_state("networkidle")
    assert violations(page) == []
    assert page.log["elsewhere"] == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_the_chain_diagram_keeps_its_style(page: Page, server: Server) -> None:
    page.goto(server.base + CHAIN)
    diagram = page.locator("svg.ketju-diagram:visible")
    assert diagram.bounding_box()["height"] > 100  # type: ignore[index]
    assert page.evaluate("[...document.querySelectorAll('svg.ketju-diagram style')]"
                         ".every(s => s.sheet !== null)"), "the diagrams' <style> was applied"
    assert violations(page) == []


@pytest.mark.slow
def test_yasgui_runs_a_query_under_the_policy(page: Page, server: Server) -> None:
    page.goto(server.base + "/sparql")
    page.locator(".yasqe_queryButton").click()
    page.wait_for_selector(".yasr table tbody tr", timeout=30_000)
    assert page.locator(".yasr table tbody tr").count() > 1
    assert violations(page) == []
    assert page.log["elsewhere"] == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_docs_render_every_operation_with_the_network_off(page: Page, server: Server) -> None:
    page.goto(server.base + "/docs/try")
    page.wait_for_selector(".opblock", timeout=30_000)
    spec = server.get(server.base + "/openapi.json").json()
    operations = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    shown = page.evaluate("[...document.querySelectorAll('.opblock')].map(e => e.id)")
    assert len(operations) > 60
    assert [o for o in operations if not any(i.endswith("-" + o) for i in shown)] == []
    page.locator(".opblock-summary").first.click()
    page.wait_for_selector(".opblock-body", timeout=10_000)
    assert violations(page) == []
    assert page.log["elsewhere"] == []  # type: ignore[attr-defined]
