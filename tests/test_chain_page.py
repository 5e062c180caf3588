"""The chain page made for people (issue 14, point 4): the diagram fits the page (a narrow
drawing for phones, the wide one shrinks), hand-overs are numbered markers explained in full
in a list under the drawings, drafts say what remains to complete, the drawing downloads as
SVG, durations read as words and the page has a print stylesheet."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ketju.core.project import Project
from ketju.domain.chains import (
    UNDER_DEVELOPMENT,
    Draft,
    draft_chains,
    draft_status,
    is_placeholder,
    load_chain,
)
from ketju.infra.snapshot import Snapshot, SnapshotSource
from ketju.web.diagram import NARROW_WIDTH, chain_diagram, handovers
from tests.servers import InProcessServer

SVG = "{http://www.w3.org/2000/svg}"
ID = "https://w3id.org/ketju/id/"
DRAFT = ID + "lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"
SOURCE = ID + "pohjois-pohjanmaa/chain/lonkkamurtuma"
VARSINAIS_SUOMI = ID + "varsinais-suomi/chain/lonkkamurtuma"
TYPES = ("PREFIX ketju: <https://w3id.org/ketju/ontology#> "
         "SELECT ?c WHERE { ?c a ketju:ServiceChain }")


@pytest.fixture(scope="module")
def snapshot(built_project: Project) -> Snapshot:
    return SnapshotSource.embedded(built_project).current()


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def all_chains(snapshot: Snapshot) -> list[str]:
    return sorted({row["c"].value for row in snapshot.data.select(TYPES)})


class Text(HTMLParser):
    """The text of an HTML page outside <svg>, <script> and <style>, and its `<ol
    class="handovers">` items."""

    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.items: list[str] = []
        self.in_list = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("svg", "script", "style"):
            self.skip += 1
        if tag == "ol" and ("class", "handovers") in attrs:
            self.in_list = True
        if tag == "li" and self.in_list:
            self.items.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("svg", "script", "style"):
            self.skip -= 1
        if tag == "ol":
            self.in_list = False

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        self.text.append(data)
        if self.in_list and self.items:
            self.items[-1] += data


def read(html: str) -> Text:
    parser = Text()
    parser.feed(html)
    return parser


# ---------------------------------------------------------------------------------------------
# The drawings
# ---------------------------------------------------------------------------------------------

def test_markers_are_numbered_uniquely_and_match_the_list(snapshot: Snapshot) -> None:
    for iri in all_chains(snapshot):
        chain = load_chain(snapshot, iri)
        diagram = chain_diagram(chain, "fi")
        numbers = [h.number for h in diagram.handovers]
        assert numbers == list(range(1, len(numbers) + 1)), iri
        for svg in (diagram.wide, diagram.narrow):
            root = ET.fromstring(svg)
            markers = [g for g in root.iter(SVG + "g")
                       if "ketju-marker" in g.get("class", "").split()]
            drawn = sorted(int(m.get("data-number", "0")) for m in markers)
            assert drawn == numbers, iri
            for m in markers:
                h = diagram.handovers[int(m.get("data-number", "0")) - 1]
                assert (m.get("data-from"), m.get("data-to")) == (
                    str(h.from_position), str(h.to_position))
                assert "".join(m.itertext()).endswith(str(h.number))


def test_no_handover_text_is_cut(snapshot: Snapshot) -> None:
    """The list gives each hand-over whole: both steps, the kind, the wait and who is
    responsible; no "…" anywhere in it or in the markers."""
    for lang in ("fi", "sv", "en"):
        for iri in all_chains(snapshot):
            chain = load_chain(snapshot, iri)
            for h in handovers(chain, lang):
                assert "…" not in h.text
                transition = next(t for t in chain.transitions if t.iri == h.iri)
                assert h.kind == transition.kind.label(lang)
                assert chain.by_position[h.from_position].label(lang) in h.text
                assert chain.by_position[h.to_position].label(lang) in h.text
                if transition.responsible_producer is not None:
                    assert transition.responsible_producer.label(lang) in h.responsible
                if transition.maximum_wait:
                    assert h.wait and not re.search(r"\bP\d", h.wait), h.wait
            root = ET.fromstring(chain_diagram(chain, lang).wide)
            for g in root.iter(SVG + "g"):
                if "ketju-marker" in g.get("class", ""):
                    assert "…" not in "".join(g.itertext())


def test_varsinais_suomi_referral_in_the_list(snapshot: Snapshot) -> None:
    chain = load_chain(snapshot, VARSINAIS_SUOMI)
    for lang, kind, wait in (("fi", "lähete", "enintään 2 pv"), ("sv", "remiss", "högst 2 d"),
                             ("en", "referral", "max. 2 days")):
        h = next(h for h in handovers(chain, lang) if (h.from_position, h.to_position) == (4, 5))
        assert h.kind == kind and h.wait == wait
    fi = next(h for h in handovers(chain, "fi") if (h.from_position, h.to_position) == (4, 5))
    assert "kotiutuskoordinaattori" in fi.responsible


def test_narrow_drawing_fits_a_phone(snapshot: Snapshot) -> None:
    assert NARROW_WIDTH <= 390 - 2 * 12
    for iri in all_chains(snapshot):
        chain = load_chain(snapshot, iri)
        for lang in ("fi", "sv", "en"):
            root = ET.fromstring(chain_diagram(chain, lang).narrow)
            _, _, width, height = (float(v) for v in root.get("viewBox", "").split())
            assert width == NARROW_WIDTH and float(root.get("width", "0")) <= 390
            # Every box, path point and marker lies inside the drawing.
            for rect in root.iter(SVG + "rect"):
                x, w = float(rect.get("x", "0")), float(rect.get("width", "0"))
                assert x >= 0 and x + w <= width + 0.5, (iri, rect.attrib)
            for circle in root.iter(SVG + "circle"):
                cx, r = float(circle.get("cx", "0")), float(circle.get("r", "0"))
                assert r <= cx and cx + r <= width, iri
                assert float(circle.get("cy", "0")) + r <= height
            for path in root.iter(SVG + "path"):
                xs = [float(n) for n in re.findall(r"[MLHQ](-?[\d.]+)", path.get("d", ""))]
                assert all(0 <= x <= width for x in xs), (iri, path.get("d"))


def test_narrow_drawing_keeps_steps_in_order_and_marks_groups(snapshot: Snapshot) -> None:
    chain = load_chain(snapshot, VARSINAIS_SUOMI)
    root = ET.fromstring(chain_diagram(chain, "fi").narrow)
    boxes = [g for g in root.iter(SVG + "g") if "ketju-step" in g.get("class", "").split()]
    ys = {int(b.get("data-position", "0")): float(next(
        r for r in b.iter(SVG + "rect") if "kd-border" in r.get("class", "")).get("y", "0"))
        for b in boxes}
    assert sorted(ys) == list(range(1, 10))
    assert [p for p, _ in sorted(ys.items(), key=lambda item: item[1])] == list(range(1, 10))
    pills = {g.get("data-between") for g in root.iter(SVG + "g")
             if "ketju-parallel-marker" in g.get("class", "")}
    assert pills == {"5 6", "7 8"}
    # The producer is written in the box, since the narrow drawing has no lanes.
    names = " ".join(t.text or "" for t in root.iter(SVG + "text")
                     if "kd-producer" in t.get("class", ""))
    assert chain.by_position[1].producer.label("fi").split()[0] in names


def test_parallel_and_alternative_differ_in_both_drawings(snapshot: Snapshot) -> None:
    chain = load_chain(snapshot, ID + "keski-uusimaa/chain/nuoret-paihteidenkayttajat")
    for svg in (chain_diagram(chain, "fi").wide, chain_diagram(chain, "fi").narrow):
        root = ET.fromstring(svg)
        alternative = [g for g in root.iter(SVG + "g")
                       if "ketju-alternative-marker" in g.get("class", "")]
        parallel = [g for g in root.iter(SVG + "g")
                    if "ketju-parallel-marker" in g.get("class", "")]
        assert [g.get("data-between") for g in alternative] == ["1 2"]
        assert [g.get("data-between") for g in parallel] == ["4 5"]
        assert "".join(alternative[0].itertext()) == "tai"
        assert "".join(parallel[0].itertext()) == "rinnakkain"
        dashed = [r for r in alternative[0].iter(SVG + "rect") if r.get("stroke-dasharray")]
        assert dashed and not [r for r in parallel[0].iter(SVG + "rect")
                               if r.get("stroke-dasharray")]


# ---------------------------------------------------------------------------------------------
# Drafts
# ---------------------------------------------------------------------------------------------

def test_the_derived_chain_is_a_draft_with_what_remains(snapshot: Snapshot) -> None:
    chain = load_chain(snapshot, DRAFT)
    assert chain.status == UNDER_DEVELOPMENT and chain.derived_from == SOURCE
    draft = draft_status(chain)
    assert isinstance(draft, Draft)
    assert draft.under_development and draft.source_region == "pohjois-pohjanmaa"
    producers = [p.producer.iri.rsplit("/", 1)[-1] for p in draft.placeholders]
    assert producers == [
        "placeholder-pohjois-pohjanmaa-yhteispaivystys", "placeholder-pohjois-pohjanmaa-ortopedia",
        "placeholder-pohjois-pohjanmaa-sairaalakuntoutus",
        "placeholder-pohjois-pohjanmaa-kotihoito", "placeholder-pohjois-pohjanmaa-kotikuntoutus",
        "placeholder-pohjois-pohjanmaa-liikuntayhdistys"]
    ortopedia = draft.placeholders[1]
    assert ortopedia.steps == (2, 4) and all(is_placeholder(p.producer)
                                             for p in draft.placeholders)
    assert "TÄYDENNÄ" in ortopedia.producer.label("fi")
    assert [b.position for b in draft.borrowed] == [1, 2, 3, 4, 5, 6, 7]
    assert {b.region for b in draft.borrowed} == {"pohjois-pohjanmaa"}
    assert draft.remaining == 6 + 7


def test_approved_chains_are_not_drafts(snapshot: Snapshot) -> None:
    drafts = draft_chains(snapshot)
    assert set(drafts) == {DRAFT}
    assert drafts[DRAFT].derived_from == SOURCE and drafts[DRAFT].placeholders == 6
    for iri in all_chains(snapshot):
        assert (draft_status(load_chain(snapshot, iri)) is not None) == (iri == DRAFT), iri
    assert draft_chains(snapshot) is drafts, "made once per build"


def test_draft_page_says_what_remains(server: InProcessServer) -> None:
    for lang, words in (("fi", ("Luonnos", "TÄYDENNÄ", "Pohjois-Pohjanmaa")),
                        ("sv", ("Utkast", "KOMPLETTERA", "Norra Österbotten")),
                        ("en", ("Draft", "TO BE COMPLETED", "North Ostrobothnia"))):
        page = server.get(server.base + "/id/lappi/chain/lonkkamurtuma-pohjois-pohjanmaa",
                          params={"lang": lang})
        assert page.status_code == 200
        text = " ".join(read(page.text).text)
        notice = text[text.index(words[0]):]
        for word in words:
            assert word in notice, (lang, word)
        assert 'class="draft-notice"' in page.text
        assert page.text.count('class="draft-items"') == 2
    approved = server.get(server.base + "/id/varsinais-suomi/chain/lonkkamurtuma")
    assert "draft-notice" not in approved.text


# ---------------------------------------------------------------------------------------------
# The page, the download
# ---------------------------------------------------------------------------------------------

def test_page_has_both_drawings_the_list_and_print_css(server: InProcessServer,
                                                       snapshot: Snapshot) -> None:
    chain = load_chain(snapshot, VARSINAIS_SUOMI)
    page = server.get(server.base + "/id/varsinais-suomi/chain/lonkkamurtuma?lang=fi")
    assert page.status_code == 200
    html = page.text
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert 'class="diagram-wide"' in html and 'class="diagram-narrow"' in html
    assert '<link rel="stylesheet" href="/static/print.css" media="print">' in html
    parsed = read(html)
    expected = handovers(chain, "fi")
    assert len(parsed.items) == len(expected) == len(chain.transitions)
    for item, h in zip(parsed.items, expected, strict=True):
        text = " ".join(item.split())
        assert h.from_name in text and h.to_name in text and h.kind in text
        assert (h.wait or h.kind) in text and "…" not in text
    # Durations read as words in the tables too, not P2D (the long form of ketju.web.humanise;
    # the diagram keeps its short "2 pv").
    tables = html[html.index('id="steps-title"'):html.index('id="goals-title"')]
    visible = " ".join(read(tables).text)
    assert "2 päivää" in visible
    assert not re.search(r"\bP(T?\d+[YMWDHS])+\b", visible), re.findall(r"\bP\w+", visible)
    # Both drawings' styles are allowed by hash, nothing else inline.
    policy = page.headers["content-security-policy"]
    assert policy.count("'sha256-") >= 2
    assert '/id/varsinais-suomi/chain/lonkkamurtuma/diagram.svg' in html


def test_print_stylesheet_is_served(server: InProcessServer) -> None:
    css = server.get(server.base + "/static/print.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    text = css.text
    assert "size: A4 landscape" in text
    assert re.search(r"header\.site[^{]*\{[^}]*display: none", text)
    assert "break-inside: avoid" in text and "table-header-group" in text
    assert ".diagram-narrow { display: none !important; }" in text


def test_diagram_downloads_as_svg(server: InProcessServer, snapshot: Snapshot) -> None:
    url = server.base + "/id/varsinais-suomi/chain/lonkkamurtuma/diagram.svg"
    answer = server.get(url, params={"lang": "sv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="ketju-varsinais-suomi-lonkkamurtuma-sv.svg"')
    assert answer.headers["etag"] and "max-age" in answer.headers["cache-control"]
    assert "style-src 'self'" in answer.headers["content-security-policy"]
    root = ET.fromstring(answer.content)
    assert root.tag == SVG + "svg" and root.get("lang") == "sv"
    # On its own, the drawing carries the hand-overs in words, whole.
    chain = load_chain(snapshot, VARSINAIS_SUOMI)
    listing = next(g for g in root.iter(SVG + "g")
                   if "ketju-handover-list" in g.get("class", ""))
    words = " ".join(t.text or "" for t in listing.iter(SVG + "text"))
    for h in handovers(chain, "sv"):
        assert h.kind in words and h.to_name.split()[0] in words
    again = server.get(url, params={"lang": "sv"},
                       headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    opened = server.get(url, params={"lang": "sv", "view": "1"})
    assert opened.headers["content-disposition"].startswith("inline;")
    head = server.client().head(url)
    assert head.status_code == 200 and head.content == b""


@pytest.mark.parametrize("path", ["/id/varsinais-suomi/chain/ei-ole/diagram.svg",
                                  "/id/varsinais-suomi/package/nuorten-palvelukokonaisuus/diagram.svg",
                                  "/id/Varsinais_Suomi/chain/x/diagram.svg"])
def test_no_diagram_of_what_is_not_a_chain(server: InProcessServer, path: str) -> None:
    assert server.get(server.base + path).status_code == 404


def test_very_wide_chains_turn_vertical_sooner(server: InProcessServer,
                                               snapshot: Snapshot) -> None:
    """A chain whose swimlanes are over 1,800 px at full size would shrink below about 60 %
    on a desktop page: the page marks it, and the stylesheet draws it top to bottom up to
    75rem."""
    wide = chain_diagram(load_chain(snapshot, VARSINAIS_SUOMI), "fi")
    assert wide.very_wide and wide.wide_width > 1800
    eksote = chain_diagram(load_chain(snapshot, ID + "etela-karjala/chain/asiakasohjautuvuus"),
                           "fi")
    assert not eksote.very_wide
    page = server.get(server.base + "/id/varsinais-suomi/chain/lonkkamurtuma").text
    assert 'class="diagram diagram-very-wide"' in page
    css = server.get(server.base + "/static/ketju.css").text
    assert ".diagram-very-wide .diagram-wide { display: none; }" in css


def test_narrow_drawing_of_hostile_empty_and_long_chains() -> None:
    from ketju.domain.chains import Chain
    from ketju.domain.texts import Texts
    from ketju.web.diagram import vertical_svg
    from tests.test_diagram import HOSTILE, hostile_chain, twenty_step_chain

    svg = vertical_svg(hostile_chain(), "fi", link=lambda iri: "javascript:alert(1)")
    root = ET.fromstring(svg)  # well-formed despite the data
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1].lower()
                in {"script", "foreignobject", "a", "image", "use"}]
    assert HOSTILE in "".join(root.itertext())  # as text, escaped
    empty = Chain(iri=ID + "test/chain/empty", names=Texts({"fi": "Tyhjä"}),
                  description=Texts(), steps=(), transitions=())
    assert "Ketjulle ei ole kuvattu vaiheita." in vertical_svg(empty, "fi")
    long = ET.fromstring(vertical_svg(twenty_step_chain(), "fi"))
    assert float(long.get("width", "0")) == NARROW_WIDTH
    numbers = [g.get("data-number") for g in long.iter(SVG + "g")
               if "ketju-marker" in g.get("class", "")]
    assert numbers == [str(n) for n in range(1, 21)]


def test_a_drafts_drawings_say_it_is_a_draft(snapshot: Snapshot) -> None:
    """Printed or downloaded, a draft's drawing says so; its placeholder lanes are marked."""
    for lang, words in (("fi", "Luonnos"), ("sv", "Utkast"), ("en", "Draft")):
        diagram = chain_diagram(load_chain(snapshot, DRAFT), lang)
        for svg in (diagram.wide, diagram.narrow):
            root = ET.fromstring(svg)
            mark = [g for g in root.iter(SVG + "g") if "ketju-draft-mark" in g.get("class", "")]
            assert len(mark) == 1 and words in "".join(mark[0].itertext())
            assert (root.findtext(SVG + "desc") or "").startswith(words)
        lanes = [g for g in ET.fromstring(diagram.wide).iter(SVG + "g")
                 if "ketju-lane" in g.get("class", "").split()]
        assert len(lanes) == 6 and all("ketju-placeholder-lane" in g.get("class", "")
                                       for g in lanes)
    approved = chain_diagram(load_chain(snapshot, VARSINAIS_SUOMI), "fi")
    assert "ketju-draft-mark" not in approved.wide + approved.narrow
    assert "ketju-placeholder-lane" not in approved.wide
