"""Pages in a real headless Chromium: search, follow a result, switch language, read the
diagram's accessible name; axe-core finds no serious or critical issue on any kind of page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page

from ketju.core.project import Project
from tests.servers import Server, ketju_server
from tests.tools import npm_package, serious_axe_violations

pytestmark = pytest.mark.slow
PAGES = {
    "home": "/",
    "regions": "/regions",
    "chain": "/id/varsinais-suomi/chain/lonkkamurtuma",
    "step": "/id/varsinais-suomi/chain/lonkkamurtuma/step/leikkaus",
    "package": "/id/keski-suomi/package/nuorten-palvelukokonaisuus",
    "service": "/id/keski-suomi/service/lastensuojelu",
    "producer": "/id/national/producer/kela",
    "organiser": "/id/keski-suomi/organiser/keski-suomi",
    "segment": "/id/national/segment/lonkkamurtumapotilaat",
    "goal": "/id/keski-suomi/goal/nuoret-paatavoite",
    "indicator": "/id/varsinais-suomi/indicator/lonkkamurtuma-kotona-120-vrk",
    "data-source": "/id/national/data-source/sotkanet",
    "concept": "/vocab/service-level/specialised",
    "jhs-class": "/resource?iri=" + quote("http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P5.6",
                                          safe=""),
    "search": "/search?q=lonkka",
    "sparql": "/sparql",
    "not-found": "/id/keski-suomi/chain/ei-ole",
}


@pytest.fixture(scope="module")
def server(hostile_project: Project, server_logs: Path) -> Iterator[Server]:
    """The example catalogue plus the hostile contribution, served for the browser."""
    with ketju_server(hostile_project.root, server_logs) as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="fi-FI")
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.dialogs = dialogs  # type: ignore[attr-defined]
    yield opened
    context.close()


def test_search_follow_switch_language_and_read_the_diagram(page: Page, server: Server) -> None:
    page.goto(server.base + "/")
    page.get_by_role("searchbox").first.fill("lonkk")
    page.get_by_role("searchbox").first.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q=lonkk"))
    result = page.get_by_role("link", name=re.compile("Lonkkamurtumapotilaan")).first
    result.click()
    page.wait_for_url(re.compile(r"/id/.*/chain/lonkkamurtuma"))
    diagram = page.get_by_role("img", name=re.compile("Lonkkamurtumapotilaan"))
    assert diagram.count() == 1
    page.get_by_role("link", name="svenska").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("img", name=re.compile("höftfraktur", re.I)).count() == 1
    page.goto(server.base + "/regions")
    assert page.locator("html").get_attribute("lang") == "sv", "the choice is remembered"


def test_pages_work_without_javascript(browser: Browser, server: Server) -> None:
    context = browser.new_context(java_script_enabled=False, locale="fi-FI")
    page = context.new_page()
    page.goto(server.base + PAGES["chain"])
    assert page.get_by_role("img").count() >= 1
    page.goto(server.base + "/sparql")
    page.locator("#query").fill("ASK { ?s ?p ?o }")
    with page.expect_navigation():
        page.get_by_role("button", name="Suorita").click()
    assert "true" in page.content()
    context.close()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_no_serious_accessibility_issue(browser: Browser, server: Server, name: str) -> None:
    serious = serious_axe_violations(browser, server.base + PAGES[name])
    assert serious == [], serious


@pytest.mark.parametrize("path", ["/id/kainuu/producer/vihamielinen",
                                  "/id/kainuu/service/vihamielinen",
                                  "/search?q=script", "/id/kainuu/organiser/kainuu"])
def test_hostile_text_is_inert(page: Page, server: Server, path: str) -> None:
    page.goto(server.base + path)
    for link in page.locator("a").all():
        href = link.get_attribute("href") or ""
        assert not href.strip().lower().startswith("javascript:")
    page.wait_for_timeout(300)
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.locator("script:not([src])").count() <= 1


#: Chain pages whose diagrams are read at phone and desktop width (issue 14): one with
#: parallel steps, one that branches, one that returns to an earlier step, and a draft.
CHAIN_PAGES = ("/id/varsinais-suomi/chain/lonkkamurtuma",
               "/id/pohjois-pohjanmaa/chain/lonkkamurtuma",
               "/id/etela-karjala/chain/asiakasohjautuvuus",
               "/id/lappi/chain/lonkkamurtuma-pohjois-pohjanmaa")


@pytest.mark.parametrize("width", [390, 1366])
def test_chain_diagram_fits_and_every_handover_reads_whole(browser: Browser, server: Server,
                                                           width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fi-FI")
    page = context.new_page()
    for path in CHAIN_PAGES:
        page.goto(server.base + path)
        shown = [svg for svg in page.locator(".diagram svg").all() if svg.is_visible()]
        assert len(shown) == 1, path
        box = shown[0].bounding_box()
        assert box is not None and box["x"] >= 0, path
        assert box["x"] + box["width"] <= width, (path, box)
        markers = shown[0].locator(".ketju-marker").all()
        for marker in markers:
            inner = marker.bounding_box()
            assert inner is not None
            assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box[
                "width"] + 0.5, path
            assert box["y"] <= inner["y"] and inner["y"] + inner["height"] <= box["y"] + box[
                "height"] + 0.5, path
        items = page.locator("ol.handovers > li").all()
        assert len(items) == len(markers) > 0, path
        for number, item in enumerate(items, 1):
            assert item.is_visible()
            text = item.inner_text()
            assert "…" not in text and "→" in text, (path, text)
            assert item.evaluate("e => e.scrollWidth <= e.clientWidth + 1 && "
                                 "e.scrollHeight <= e.clientHeight + 1"), (path, text)
            where = item.bounding_box()
            assert where is not None and where["x"] + where["width"] <= width, (path, text)
            assert shown[0].locator(f'.ketju-marker[data-number="{number}"]').count() == 1
    context.close()


def test_chain_page_prints_the_wide_diagram_alone(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fi-FI")
    page = context.new_page()
    page.goto(server.base + CHAIN_PAGES[0])
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    assert not page.locator("footer.site").is_visible()
    assert page.locator(".diagram-wide svg").is_visible()
    assert not page.locator(".diagram-narrow svg").is_visible()
    assert page.locator("ol.handovers").is_visible()
    pdf = page.pdf(format="A4", landscape=True, print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    context.close()


# -- issue 14: one layout from phone to desk ------------------------------------------------

#: The pages whose layout the look owns (the whole matrix is in test_pages_for_people.py).
LAYOUT_PAGES = {
    "home": "/", "regions": "/regions", "search": "/search?q=lonkka", "sparql": "/sparql",
    "indicator": PAGES["indicator"],
    "national-indicator": "/id/national/indicator/lonkkamurtuma-kotona-120-vrk",
}
#: The header's pieces, as boxes; any two that intersect overlap on screen.
HEADER_OVERLAPS = """() => {
  const pieces = [...document.querySelectorAll(
    'header.site .brand a, header.site .tagline, header.site .languages li,' +
    'header.site .main-nav li, header.site .search-box input, header.site .search-box button')];
  const boxes = pieces.map(e => {
    const r = e.getBoundingClientRect();
    return {name: (e.textContent || e.tagName).trim().slice(0, 40) || e.tagName,
            left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  });
  const found = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 &&
        b.top < a.bottom - 1) found.push([a.name, b.name]);
  }));
  const outside = boxes.filter(b => b.left < 0 || b.right > window.innerWidth + 1)
                       .map(b => b.name);
  return {overlaps: found, outside: outside, pieces: boxes.length};
}"""


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize("width", [320, 390, 1366])
def test_layout_fits_phone_and_desk(browser: Browser, server: Server, width: int,
                                    lang: str) -> None:
    """No page of the look scrolls sideways at 320, 390 or 1366 px, nothing in the header
    overlaps (the brand's subtitle once ran into the navigation: "palveluketjutAlueet"), and
    axe finds no violation of any impact at that width (stacked tables, search landmarks)."""
    axe = (npm_package("axe-core@4", "axe-core") / "axe.min.js").read_text(encoding="utf-8")
    # axe is added as an inline script, which the site's Content-Security-Policy refuses.
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fi-FI",
                                  bypass_csp=True)
    page = context.new_page()
    try:
        for name, path in LAYOUT_PAGES.items():
            page.goto(f"{server.base}{path}{'&' if '?' in path else '?'}lang={lang}")
            page.wait_for_load_state("load")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"{name} ({lang}) is {scroll} px wide at {width} px"
            header = page.evaluate(HEADER_OVERLAPS)
            assert header["pieces"] >= 10, name
            assert header["overlaps"] == [], f"{name} ({lang}, {width} px): {header}"
            assert header["outside"] == [], f"{name} ({lang}, {width} px): {header}"
            page.add_script_tag(content=axe)
            violations = page.evaluate("""async () => {
                const r = await axe.run(document, { resultTypes: ['violations'] });
                return r.violations.map(v => v.id + ': ' + v.nodes[0].html.slice(0, 120)); }""")
            assert violations == [], f"{name} ({lang}, {width} px): {violations}"
    finally:
        context.close()
