"""The monitoring views on the pages (issue 13): the indicator page (chart with the target
line, table, latest value and status, how it is monitored), the national indicator page (a
line per region), the monitoring sections of the package, chain and goal pages, the waits at
a chain's hand-overs and the compare page's shared national indicators; in fi, sv and en.
Browser cases (axe in Chromium, no JavaScript, screenshots for the README) are marked slow."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ketju.core.project import Project
from tests.servers import InProcessServer, in_process_server
from tests.test_monitoring import (
    KS_CHAIN,
    LAPPI_HOME,
    NATIONAL_HOME,
    PS_CHAIN,
    VS,
    VS_CHAIN,
    VS_FLOW,
    VS_HOME,
    VS_SURGERY,
    monitored_project,
)

__all__ = ["monitored_project"]  # the fixture, imported to be used here

ROOT = Path(__file__).resolve().parents[1]
VS_YOUTH = VS + "package/nuorten-palvelukokonaisuus"
LAPPI_CHAIN = "https://w3id.org/ketju/id/lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"


def path_of(iri: str) -> str:
    return "/" + iri.removeprefix("https://w3id.org/ketju/")


@pytest.fixture(scope="module")
def app(monitored_project: Project) -> Iterator[InProcessServer]:
    with in_process_server(monitored_project) as server:
        yield server


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Tree(HTMLParser):
    """A page as an ElementTree (the standard library's parser; pages are well formed)."""

    def __init__(self) -> None:
        super().__init__()
        self.root = ET.Element("document")
        self.open = [self.root]
        self.last: ET.Element | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = ET.SubElement(self.open[-1], tag, {k: v or "" for k, v in attrs})
        self.last = None
        if tag not in VOID:
            self.open.append(element)
        else:
            self.last = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.last = ET.SubElement(self.open[-1], tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        if any(e.tag == tag for e in self.open[1:]):
            while self.open[-1].tag != tag:
                self.open.pop()
            self.last = self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.last is not None:
            self.last.tail = (self.last.tail or "") + data
        else:
            parent = self.open[-1]
            if len(parent):
                parent[-1].tail = (parent[-1].tail or "") + data
            else:
                parent.text = (parent.text or "") + data


def parse(markup: str) -> ET.Element:
    tree = _Tree()
    tree.feed(markup)
    return tree.root


def page(app: InProcessServer, path: str, lang: str = "fi") -> ET.Element:
    response = app.get(app.base + path, params={"lang": lang})
    assert response.status_code == 200, response.text[:500]
    return parse(response.text)


def text(node: ET.Element) -> str:
    return " ".join("".join(node.itertext()).split())


def all_of(node: ET.Element, tag: str, **attrs: str) -> list[ET.Element]:
    """Descendants `tag` whose attributes hold the values (`class_`: one of the classes)."""
    found = []
    for element in node.iter(tag):
        if all((value in element.get("class", "").split()) if key == "class_"
               else element.get(key.replace("_", "-")) == value
               for key, value in attrs.items()):
            found.append(element)
    return found


def section(doc: ET.Element, title_id: str) -> ET.Element:
    found = all_of(doc, "section", aria_labelledby=title_id)
    assert found, f"no section {title_id}"
    return found[0]


# -- the indicator page ---------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "latest", "status", "trend"), [
    ("fi", "75,2 %", "Tavoite saavutettu", "laskee (heikkenee)"),
    ("sv", "75,2 %", "Målet uppnått", "sjunker (försämras)"),
    ("en", "75.2 %", "Target reached", "falling (worsening)"),
])
def test_indicator_page_shows_latest_status_and_trend(app: InProcessServer, lang: str,
                                                      latest: str, status: str,
                                                      trend: str) -> None:
    doc = page(app, path_of(VS_HOME), lang)
    monitoring = text(section(doc, "monitoring-title"))
    assert latest.replace(" ", "\u00a0") in "".join(section(doc, "monitoring-title").itertext())
    assert "2024-Q4" in monitoring and status in monitoring and trend in monitoring
    # The target 75 % by 2025, the warning threshold 70 %; the previous value 75.3.
    assert "75" in monitoring and "2025" in monitoring and "70" in monitoring
    assert "75" + (".3" if lang == "en" else ",3") in monitoring


def test_indicator_chart_has_target_line_and_a_table(app: InProcessServer) -> None:
    doc = page(app, path_of(VS_HOME), "en")
    svg = all_of(all_of(doc, "figure", class_="chart")[0], "svg")[0]
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby", "").split()
    assert "values by period" in text(all_of(svg, "title", id=title_id)[0])
    description = text(all_of(svg, "desc", id=desc_id)[0])
    assert "12 periods" in description and "Target 75 %" in description
    assert "Latest value 75.2 % (2024-Q4)" in description
    assert len(all_of(svg, "polyline")) == 1
    assert all_of(svg, "line", stroke_dasharray="8 4")
    table = all_of(doc, "table", class_="values")[0]
    headers = [text(th) for th in all_of(all_of(table, "thead")[0], "th")]
    assert headers == ["Period", "All"]
    rows = all_of(all_of(table, "tbody")[0], "tr")
    assert len(rows) == 12
    first, last = [text(c) for c in rows[0]], [text(c) for c in rows[-1]]
    assert first == ["2022-Q1", "70.4 %"]
    assert last[0] == "2024-Q4" and last[1].startswith("75.2") and "prelim" in last[1]


def test_a_flow_is_drawn_beside_its_total(app: InProcessServer) -> None:
    doc = page(app, path_of(VS_FLOW), "en")
    svg = all_of(all_of(doc, "figure", class_="chart")[0], "svg")[0]
    assert len(all_of(svg, "polyline")) == 2
    table = all_of(doc, "table", class_="values")[0]
    headers = [text(th) for th in all_of(all_of(table, "thead")[0], "th")]
    assert len(headers) == 3 and headers[1] == "All" and " → " in headers[2]


def test_indicator_page_shows_how_monitoring_is_organised(app: InProcessServer) -> None:
    doc = page(app, path_of(VS_HOME), "en")
    organisation = text(section(doc, "organisation-title"))
    assert "Monitoring forum of the organiser and the producers" in organisation
    assert "Quarterly" in organisation or "quarterly" in organisation
    links = {a.get("href") for a in all_of(section(doc, "organisation-title"), "a")}
    assert path_of(VS + "producer/ortopedia") in links
    assert path_of(VS + "organiser/varsinais-suomi") in links


def test_an_indicator_without_observations_says_so(app: InProcessServer) -> None:
    doc = page(app, "/id/pohjois-savo/indicator/lonkkamurtuma-kuntoutukseen-7-vrk", "en")
    monitoring = text(section(doc, "monitoring-title"))
    assert "no observations" in monitoring and "No data" in monitoring
    assert not all_of(doc, "figure", class_="chart")


# -- the national indicator page ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_national_indicator_page_draws_every_region(app: InProcessServer, lang: str) -> None:
    doc = page(app, path_of(NATIONAL_HOME), lang)
    svg = all_of(all_of(doc, "figure", class_="chart")[0], "svg")[0]
    assert len(all_of(svg, "polyline")) == 5  # the five hip-fracture regions
    table = all_of(doc, "table", class_="values")[0]
    assert len(all_of(all_of(table, "tbody")[0], "tr")) == 12
    assert len(all_of(all_of(table, "thead")[0], "th")) == 6  # the period and five regions
    regions = all_of(all_of(all_of(doc, "table", class_="monitoring")[0], "tbody")[0], "tr")
    assert len(regions) == 5
    assert path_of(VS_HOME) in {a.get("href") for row in regions for a in all_of(row, "a")}
    lappi = next(text(row) for row in regions
                 if path_of(LAPPI_HOME) in {a.get("href") for a in all_of(row, "a")})
    assert ("68,4" if lang != "en" else "68.4") in lappi


# -- package, chain, goal, compare -------------------------------------------------------------


@pytest.mark.parametrize(("lang", "reached", "on_track", "off_track"), [
    ("fi", "Tavoite saavutettu", "Oikealla suunnalla", "Jäljessä tavoitteesta"),
    ("sv", "Målet uppnått", "På rätt väg", "Släpar efter målet"),
    ("en", "Target reached", "On track", "Off track"),
])
def test_chain_page_monitoring_section(app: InProcessServer, lang: str, reached: str,
                                       on_track: str, off_track: str) -> None:
    # Issue 14: as on a package's page, the chain's goals and their monitoring are one
    # section, each indicator one line with its latest value, trend, target and status.
    def rows_of(chain: str) -> dict[str | None, str]:
        monitoring = section(page(app, path_of(chain), lang), "goals-title")
        return {all_of(row, "a")[0].get("href"): text(row)
                for row in all_of(monitoring, "li", class_="goal-indicator")
                if all_of(row, "a")}

    vs = rows_of(VS_CHAIN)
    assert reached in vs[path_of(VS_HOME)]
    assert on_track in vs[path_of(VS_SURGERY)]
    assert off_track in rows_of(LAPPI_CHAIN)[path_of(LAPPI_HOME)]


def test_chain_page_waits_against_the_maximum(app: InProcessServer) -> None:
    doc = page(app, path_of(VS_CHAIN), "en")
    waits = [text(row) for row in
             all_of(all_of(all_of(doc, "table", class_="waits")[0], "tbody")[0], "tr")]
    # The maximum as words (issue 14), not P2D.
    ward = next(t for t in waits if "(2 days)" in t)
    assert "2 d" in ward and "Within the maximum" in ward
    # The crafted wait in hours: 20 hours against P1D, shown in hours (24 h).
    home = next(t for t in waits if "(1 day)" in t)
    assert "20 h" in home and "24 h" in home and "Within the maximum" in home
    over = page(app, path_of(KS_CHAIN), "en")
    rows = all_of(all_of(all_of(over, "table", class_="waits")[0], "tbody")[0], "tr")
    assert any("2.3 d" in text(r) and "Exceeds the maximum" in text(r) for r in rows)


def test_package_page_has_a_monitoring_section(app: InProcessServer) -> None:
    # Issue 14: a package's goals and their monitoring are one section (the goal tree, each
    # indicator one line with its latest value, trend, target and status).
    doc = page(app, path_of(VS_YOUTH), "sv")
    monitoring = section(doc, "goals-title")
    rows = {all_of(row, "a")[0].get("href"): text(row)
            for row in all_of(monitoring, "li", class_="goal-indicator") if all_of(row, "a")}
    guarantee = rows[path_of(VS + "indicator/nuoret-hoitotakuun-ajassa")]
    assert "86,4" in guarantee and "På rätt väg" in guarantee


def test_goal_page_shows_its_indicators(app: InProcessServer) -> None:
    doc = page(app, path_of(VS + "goal/lonkkamurtuma-kotiin-paluu"), "en")
    monitoring = section(doc, "monitoring-title")
    # Issue 14: the goal and its sub-goals as a tree, each indicator one line (no tables).
    first = all_of(monitoring, "li", class_="goal-indicator")[0]
    assert all_of(first, "a")[0].get("href") == path_of(VS_HOME)
    assert "Target reached" in text(first) and "75.2" in text(first)


def test_compare_page_shows_shared_national_indicators(app: InProcessServer) -> None:
    response = app.get(app.base + "/compare", params={
        "chains": f"{VS_CHAIN},{PS_CHAIN}", "lang": "en"})
    assert response.status_code == 200
    doc = parse(response.text)
    measures = section(doc, "measures-title")
    parts = list(measures)
    heading = next(i for i, e in enumerate(parts) if e.tag == "h3"
                   and text(e) == "Share living in their own home 120 days after the hip fracture")
    table, figure = parts[heading + 1], parts[heading + 2]
    # A row per chain, named by its region (issue 14: the table stacks on a phone).
    rows = [text(row) for row in all_of(all_of(table, "tbody")[0], "tr")]
    assert rows[0].startswith("Southwest Finland wellbeing services county") and "75.2" in rows[0]
    assert rows[1].startswith("North Savo wellbeing services county") and "70.4" in rows[1]
    # Drawn wide and narrow (phones); each drawing has one line per chain.
    wide, narrow = (next(d for d in all_of(figure, "div") if d.get("class") == f"chart-{w}")
                    for w in ("wide", "narrow"))
    assert len(all_of(wide, "polyline")) == len(all_of(narrow, "polyline")) == 2
    # The legend tells the chains apart by their regions' names (both chains have the same
    # name; issue 14: names, never the short names of the IRIs).
    legend = [text(t) for t in all_of(wide, "text") if "county" in text(t)]
    assert legend == ["Southwest Finland wellbeing services county",
                      "North Savo wellbeing services county"]


def test_pages_keep_the_site_policy(app: InProcessServer) -> None:
    """The charts use presentation attributes, no inline style: the site's policy holds."""
    response = app.get(app.base + path_of(VS_HOME))
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "<style" not in response.text and " style=" not in response.text


def test_hostile_labels_stay_escaped_in_charts() -> None:
    from ketju.web.chart import ChartModel, ChartSeries, line_chart

    svg = line_chart(ChartModel("x", "<script>", "a & b", ("2024",),
                                (ChartSeries('"><script>alert(1)</script>', (1.0,)),)))
    assert "<script" not in svg and "&lt;script&gt;" in svg


# -- in the browser (slow) ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(monitored_project: Project, server_logs: Path) -> Iterator[object]:
    from tests.servers import ketju_server

    with ketju_server(monitored_project.root, server_logs) as running:
        yield running


BROWSER_PAGES = {
    "indicator": path_of(VS_HOME),
    "national-indicator": path_of(NATIONAL_HOME),
    "chain": path_of(VS_CHAIN),
    "package": path_of(VS_YOUTH),
    "goal": path_of(VS + "goal/lonkkamurtuma-kotiin-paluu"),
    "compare": f"/compare?chains={VS_CHAIN},{PS_CHAIN}",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BROWSER_PAGES))
@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_monitoring_pages_pass_axe(browser: object, served: object, name: str,
                                   lang: str) -> None:
    from tests.tools import serious_axe_violations

    separator = "&" if "?" in BROWSER_PAGES[name] else "?"
    url = served.base + BROWSER_PAGES[name] + f"{separator}lang={lang}"  # type: ignore[attr-defined]
    serious = serious_axe_violations(browser, url)
    assert serious == [], serious


@pytest.fixture(scope="module")
def served_real(built_project: Project, server_logs: Path) -> Iterator[object]:
    """The real tree only (no crafted edge case), for the README's screenshots."""
    from tests.servers import ketju_server

    with ketju_server(built_project.root, server_logs) as running:
        yield running


@pytest.mark.slow
def test_charts_without_javascript_and_screenshots(browser: object, served_real: object,
                                                   tmp_path: Path) -> None:
    """The chart is in the page as sent (no script draws it), and the parts of pages that
    `make screenshots` pictures for the README (tools/screenshots.py DETAILS) are there."""
    served = served_real
    context = browser.new_context(  # type: ignore[attr-defined]
        java_script_enabled=False, locale="fi-FI", viewport={"width": 1100, "height": 900})
    tab = context.new_page()
    tab.goto(served.base + path_of(VS_HOME) + "?lang=fi")  # type: ignore[attr-defined]
    chart = tab.get_by_role("img", name=re.compile("arvot ajanjaksoittain"))
    assert chart.count() == 1
    docs = tmp_path
    tab.locator("#monitoring-title").locator("xpath=..").screenshot(
        path=str(docs / "monitoring-indicator.png"))
    tab.goto(served.base + path_of(VS_CHAIN) + "?lang=fi")  # type: ignore[attr-defined]
    tab.locator("#monitoring").screenshot(path=str(docs / "monitoring-chain.png"))
    tab.goto(served.base + path_of(NATIONAL_HOME) + "?lang=en")  # type: ignore[attr-defined]
    tab.locator("figure.chart").screenshot(path=str(docs / "monitoring-national.png"))
    context.close()
    assert (docs / "monitoring-indicator.png").stat().st_size > 10_000


def test_series_are_named_by_their_breakdown() -> None:
    from ketju.domain.monitoring import Series
    from ketju.domain.texts import Node, Texts
    from ketju.web.monitoring import series_label

    def node(name: str) -> Node:
        return Node("https://example.org/" + name, Texts({"en": name}))

    flow = Series("f", (node("basic"), node("specialised")), (), ("fromLevel", "toLevel"))
    group = Series("g", (node("female"), node("75+")), (), ("sex", "ageGroup"))
    assert series_label(flow, "en") == "basic → specialised"
    assert series_label(group, "en") == "female, 75+"
    assert series_label(Series("total", (), ()), "sv") == "Alla"
