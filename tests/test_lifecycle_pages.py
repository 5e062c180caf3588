"""A description's life cycle on the pages (issue 16, point 4), on the example data: a retired
description says so at the top and links its successor, which links back; a proposed one says
what approval still needs; a decision's page reads well; a current state and its target model
link each other with a one-click comparison, and the comparison of the two is labelled by
state and lists what the target model changes (`/compare`, `/api/compare`).

In process and fast; one slow browser check (axe at every impact, no sideways scrolling at
390 px) of the chain pages with the life-cycle block and of the comparison of the two.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from playwright.sync_api import Browser

from ketju.core.project import Project
from ketju.domain.lifecycle import Lifecycle
from ketju.domain.texts import Node
from tests.servers import InProcessServer, ketju_server
from tests.tools import npm_package

ID = "https://w3id.org/ketju/id/"
VS = ID + "varsinais-suomi/"
CURRENT = VS + "chain/lonkkamurtuma"
TARGET = VS + "chain/lonkkamurtuma-tavoitetila"
RETIRED = VS + "package/nuorten-palvelukokonaisuus-2023"
SUCCESSOR = VS + "package/nuorten-palvelukokonaisuus"
CHAIN_DECISION = VS + "decision/lonkkamurtuma-2024"
PACKAGE_DECISION = VS + "decision/nuorten-palvelukokonaisuus-2023"
#: Watched parts of a page: by class (the notices) or by id.
WATCHED = ("lifecycle-retired", "lifecycle-missing", "lifecycle-pair", "lifecycle-line",
           "lifecycle", "decision", "target-changes", "compared")


def path(iri: str) -> str:
    return "/" + iri.removeprefix("https://w3id.org/ketju/")


class Page(HTMLParser):
    """A page as a reader meets it: the first heading, and the text and links of the watched
    parts (by class), in the order they come."""

    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.h1 = ""
        self.order: list[str] = []  # watched parts and h2 ids, as they come
        self.texts: dict[str, list[str]] = {}
        self.links: dict[str, list[str]] = {}
        self._open: list[list[str]] = []
        self._skip = 0
        self._in_h1 = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "h1":
            self._in_h1 = True
        if tag == "h2" and values.get("id"):
            self.order.append("h2#" + str(values["id"]))
        if tag == "a" and values.get("href"):
            for keys in self._open:
                for key in keys:
                    self.links[key].append(str(values["href"]))
        if tag in self.VOID:
            return
        classes = (values.get("class") or "").split()
        keys = [c for c in classes if c in WATCHED]
        for key in keys:
            self.order.append(key)
            self.texts.setdefault(key, [])
            self.links.setdefault(key, [])
        self._open.append(keys)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "h1":
            self._in_h1 = False
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_h1:
            self.h1 += data
        for keys in self._open:
            for key in keys:
                self.texts[key].append(data)

    def text(self, key: str) -> str:
        return " ".join(" ".join(self.texts.get(key, [])).split())


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def page(server: InProcessServer, iri_or_path: str, lang: str) -> Page:
    where = path(iri_or_path) if iri_or_path.startswith("https://") else iri_or_path
    # (`params` would replace the query string the path has.)
    response = server.get(f"{server.base}{where}{'&' if '?' in where else '?'}lang={lang}")
    assert response.status_code == 200, (where, response.status_code)
    return Page(response.text)


@pytest.mark.parametrize(("lang", "retired", "instead"), [
    ("fi", "Tämä kuvaus on vanhentunut", "Käytä sen sijaan kuvausta"),
    ("sv", "Den här beskrivningen är föråldrad", "Använd i stället beskrivningen"),
    ("en", "This description is retired", "Use this description instead"),
])
def test_a_retired_description_says_so_first_and_links_its_successor(
        server: InProcessServer, lang: str, retired: str, instead: str) -> None:
    shown = page(server, RETIRED, lang)
    notice = shown.text("lifecycle-retired")
    assert retired in notice and instead in notice
    # Until when it was in force, as the language writes dates.
    assert {"fi": "31.3.2025", "sv": "31.3.2025", "en": "31 March 2025"}[lang] in notice
    assert shown.links["lifecycle-retired"] == [path(SUCCESSOR)]
    # A notice at the top: before any other section of the page.
    assert shown.order[0] == "lifecycle-retired"
    # And in the life-cycle block among the facts: its status in words.
    assert {"fi": "vanhentunut", "sv": "föråldrad", "en": "retired"}[lang] in \
        shown.text("lifecycle")
    assert path(SUCCESSOR) in shown.links["lifecycle"]


@pytest.mark.parametrize(("lang", "replaces"), [
    ("fi", "Tämä kuvaus korvaa aiemman kuvauksen"),
    ("en", "This description replaces an earlier one"),
])
def test_the_successor_links_back_to_what_it_replaced(server: InProcessServer, lang: str,
                                                      replaces: str) -> None:
    shown = page(server, SUCCESSOR, lang)
    assert "lifecycle-retired" not in shown.order
    assert replaces in shown.text("lifecycle-line")
    assert shown.links["lifecycle-line"] == [path(RETIRED)]
    assert path(RETIRED) in shown.links["lifecycle"]


@pytest.mark.parametrize(("lang", "words"), [
    ("fi", ["Ennen hyväksymistä puuttuu", "ehdotettu", "hyväksyvä päätös"]),
    ("sv", ["Saknas före godkännandet", "föreslagen", "beslutet som godkänner den"]),
    ("en", ["Missing before it can be approved", "proposed", "the approving decision"]),
])
def test_a_proposed_description_says_what_approval_still_needs(
        server: InProcessServer, lang: str, words: list[str]) -> None:
    shown = page(server, TARGET, lang)
    missing = shown.text("lifecycle-missing")
    for word in words:
        assert word in missing
    assert words[1] in shown.text("lifecycle")


def test_a_drafts_notice_lists_what_approval_needs_among_what_remains(
        server: InProcessServer) -> None:
    """A chain derived with `ketju reuse` (a draft with placeholders) has one notice: what
    remains to complete, then what approval needs."""
    response = server.get(f"{server.base}/id/lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"
                          "?lang=en")
    notice = re.search(r'<section class="draft-notice".*?</section>', response.text, re.S)
    assert notice is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", notice.group(0)).split())
    remaining, approval = text.split("Missing before it can be approved")
    assert "Producers to replace with the region" in remaining and "TO BE COMPLETED" in remaining
    assert "the approving decision" in approval and "the date from which it is valid" in approval
    assert "lifecycle-missing" not in response.text.replace(
        'class="draft-items lifecycle-missing"', "")


@pytest.mark.parametrize(("lang", "retired", "proposed", "target"), [
    ("fi", "vanhentunut", "ehdotettu", "tavoitetila"),
    ("en", "retired", "proposed", "target model"),
])
def test_the_regions_lists_mark_retired_proposed_and_target_models(
        server: InProcessServer, lang: str, retired: str, proposed: str, target: str) -> None:
    response = server.get(f"{server.base}/id/varsinais-suomi/organiser/varsinais-suomi"
                          f"?lang={lang}")
    marks: dict[str, list[str]] = {}
    for item in re.findall(r"<li>(.*?)</li>", response.text):
        link = re.search(r'href="([^"]+)"', item)
        if link:
            marks[link.group(1)] = re.findall(r'class="tag lifecycle-mark">([^<]+)<', item)
    assert marks[path(RETIRED)] == [retired]
    assert marks[path(TARGET)] == [proposed, target]
    assert marks[path(SUCCESSOR)] == marks[path(CURRENT)] == []


@pytest.mark.parametrize(("lang", "bodies"), [("fi", "Toimielimet"), ("sv", "Organ"),
                                              ("en", "Governing bodies")])
def test_a_regions_deciding_bodies_are_not_named_by_a_type(server: InProcessServer,
                                                          lang: str, bodies: str) -> None:
    response = server.get(f"{server.base}/id/varsinais-suomi/organiser/varsinais-suomi"
                          f"?lang={lang}")
    headings = re.findall(r'<h3 id="related-\d+">([^<]+)</h3>', response.text)
    assert f"{bodies} (1)" in headings, headings
    assert not any("Organisation" in h or "Organization" in h for h in headings)


@pytest.mark.parametrize(("lang", "words"), [
    ("fi", ["Kuvauksen tila on luonnos", "hyväksyvä päätös", "päivämäärä, josta alkaen"]),
    ("en", ["Its status is draft", "the approving decision", "the date from which"]),
])
def test_a_draft_package_says_what_approval_still_needs(server: InProcessServer, lang: str,
                                                        words: list[str]) -> None:
    shown = page(server, ID + "keski-suomi/package/nuorten-palvelukokonaisuus", lang)
    assert shown.order[0] == "lifecycle-missing"
    for word in words:
        assert word in shown.text("lifecycle-missing")


def test_what_approval_needs_is_what_the_shapes_require() -> None:
    proposed = Node("http://example.org/vocab/status/Proposed")
    lived = Lifecycle("http://example.org/x",
                      status=Node("https://w3id.org/ketju/vocab/status/Proposed"))
    assert lived.stage == "proposed" and lived.missing == ("decision", "valid_from")
    dated = Lifecycle("http://example.org/x", status=lived.status, valid_from="2026-01-01")
    assert dated.missing == ("decision",)
    approved = Lifecycle("http://example.org/x",
                         status=Node("http://purl.org/adms/status/Completed"))
    assert approved.missing == () and approved.stage == "approved"
    assert Lifecycle("http://example.org/x", status=proposed).stage is None


@pytest.mark.parametrize(("lang", "words"), [
    ("fi", ["Päätös", "Päättäjä", "Päätöspäivä", "13.5.2024", "Aluehallitus 13.5.2024 § 142"]),
    ("en", ["Decision", "Decided by", "Date of decision", "13 May 2024",
            "Aluehallitus 13.5.2024 § 142"]),
])
def test_a_decisions_page_says_who_decided_when_and_what_it_approved(
        server: InProcessServer, lang: str, words: list[str]) -> None:
    shown = page(server, CHAIN_DECISION, lang)
    section = shown.text("decision")
    for word in words:
        assert word in section
    assert path(CURRENT) in shown.links["decision"]
    # The body is linked by its name.
    assert any(link.startswith("/id/varsinais-suomi/organisation/")
               for link in shown.links["decision"])


def test_the_decision_is_among_the_approved_descriptions_life_cycle(
        server: InProcessServer) -> None:
    shown = page(server, CURRENT, "fi")
    block = shown.text("lifecycle")
    assert "Hyväksytty päätöksellä" in block and "Aluehallitus 13.5.2024 § 142" in block
    assert path(CHAIN_DECISION) in shown.links["lifecycle"]
    assert "voimassa" in block and "1.6.2024 alkaen" in block
    assert "nykytila" in block


def compare_link(links: list[str]) -> list[str]:
    found = [link for link in links if link.startswith("/compare?")]
    assert len(found) == 1, links
    return parse_qs(urlparse(found[0]).query)["chains"][0].split(",")


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_current_state_and_target_model_link_each_other_with_a_comparison(
        server: InProcessServer, lang: str) -> None:
    current, target = page(server, CURRENT, lang), page(server, TARGET, lang)
    assert path(TARGET) in current.links["lifecycle-pair"]
    assert path(CURRENT) in target.links["lifecycle-pair"]
    assert compare_link(current.links["lifecycle-pair"]) == [CURRENT, TARGET]
    assert compare_link(target.links["lifecycle-pair"]) == [CURRENT, TARGET]
    assert {"fi": "Tämä kuvaus on nykytila", "en": "This description is the current state"}[
        lang] in current.text("lifecycle-pair")
    assert {"fi": "Tämä kuvaus on tavoitetila", "en": "This description is a target model"}[
        lang] in target.text("lifecycle-pair")


@pytest.mark.parametrize(("lang", "heading", "labels", "changes"), [
    ("fi", "Nykytila → tavoitetila", ("Nykytila", "Tavoitetila"),
     ("Mitä tavoitetila muuttaa", "Uudet vaiheet", "enimmäisodotus")),
    ("en", "Current state → target model", ("Current state", "Target model"),
     ("What the target model changes", "Steps added", "maximum wait")),
])
@pytest.mark.parametrize("order", [(CURRENT, TARGET), (TARGET, CURRENT)])
def test_comparing_a_current_state_with_its_target_model(
        server: InProcessServer, lang: str, heading: str, labels: tuple[str, str],
        changes: tuple[str, ...], order: tuple[str, str]) -> None:
    shown = page(server, "/compare?chains=" + ",".join(order), lang)
    assert " ".join(shown.h1.split()) == heading
    compared = shown.text("compared")
    # Labelled by state (current state first, whatever the order asked), not by region.
    assert compared.index(labels[0]) < compared.index(labels[1])
    for words in changes:
        assert words in shown.text("target-changes")


@pytest.mark.parametrize("chain", [CURRENT, TARGET])
def test_the_picker_of_either_offers_the_comparison_of_the_two(server: InProcessServer,
                                                               chain: str) -> None:
    response = server.get(f"{server.base}/compare?chains={chain}&lang=en")
    assert response.status_code == 200
    found = [unquote(href) for href in
             re.findall(r'href="(/compare\?chains=[^"]+)"', response.text)]
    assert f"/compare?chains={CURRENT},{TARGET}" in found


def test_a_cross_region_comparison_stays_as_it_was(server: InProcessServer) -> None:
    shown = page(server, "/compare?chains=varsinais-suomi/lonkkamurtuma,"
                 "pohjois-savo/lonkkamurtuma", "fi")
    assert " ".join(shown.h1.split()) != "Nykytila → tavoitetila"
    assert "target-changes" not in shown.order


def test_the_api_says_what_the_target_model_changes(server: InProcessServer) -> None:
    response = server.get(server.base + "/api/compare",
                          params={"chains": f"{TARGET},{CURRENT}", "lang": "en"})
    assert response.status_code == 200, response.text
    states = response.json()["lifecycle"]
    assert (states["current"], states["target"]) == (CURRENT, TARGET)
    changes = states["changes"]
    # A step added: the physiotherapist's home visit before home rehabilitation.
    assert [step["iri"].startswith(TARGET + "/step/") for step in changes["added"]] == [True]
    assert not changes["removed"]
    # Hand-overs with a shorter wait: to surgery within 24 h, to the health-centre hospital
    # within a day.
    waits = [(d["a"][0]["value"], d["b"][0]["value"]) for c in changes["handovers_changed"]
             for d in c["differences"] if d["kind"] == "maximum-wait"]
    assert waits and all(before != after for before, after in waits)
    # A cross-region comparison has none.
    other = server.get(server.base + "/api/compare",
                       params={"chains": f"{CURRENT},pohjois-savo/lonkkamurtuma"})
    assert "lifecycle" not in other.json()


# -- in a browser ------------------------------------------------------------------------------

AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact,
                                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""


@pytest.mark.slow
def test_life_cycle_pages_in_a_browser(browser: Browser, built_project: Project,
                                       server_logs: Path) -> None:
    """The chain pages with the life-cycle block, the retired package and the comparison of a
    current state with its target model: axe finds nothing at any impact, and nothing pushes
    the page sideways at 390 px (nor at 1366 px)."""
    axe = (npm_package("axe-core@4", "axe-core") / "axe.min.js").read_text(encoding="utf-8")
    pages = [path(CURRENT), path(TARGET), path(RETIRED), path(CHAIN_DECISION),
             f"/compare?chains={unquote(CURRENT)},{unquote(TARGET)}"]
    problems = []
    with ketju_server(built_project.root, server_logs) as served:
        for width, height in ((390, 844), (1366, 900)):
            context = browser.new_context(viewport={"width": width, "height": height},
                                          bypass_csp=True)
            tab = context.new_page()
            for where in pages:
                for lang in ("fi", "en"):
                    sep = "&" if "?" in where else "?"
                    response = tab.goto(f"{served.base}{where}{sep}lang={lang}")
                    assert response is not None and response.status == 200, where
                    assert tab.locator(".lifecycle, .decision, .target-changes").count() > 0
                    wide = tab.evaluate("() => document.documentElement.scrollWidth")
                    if wide > width:
                        problems.append(f"{where} {lang}: {wide} px wide at {width} px")
                    tab.add_script_tag(content=axe)
                    for v in tab.evaluate(AXE):
                        problems.append(f"{where} {lang} {width}: {v['id']} ({v['impact']}) "
                                        f"{v['nodes']}")
            context.close()
    assert not problems, "\n".join(problems)
