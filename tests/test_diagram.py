"""The chain diagram (server-side SVG): layout, hand-overs, accessibility, languages, safety."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from ketju.core.project import Project
from ketju.domain.chains import Chain, Step, Transition, load_chain
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import SnapshotSource
from ketju.web.diagram import (
    INK,
    LEVEL_COLOURS,
    LEVEL_TEXT,
    MUTED,
    chain_svg,
    contrast_ratio,
    handovers,
    humanise_duration,
    safe_href,
    wrap,
)

SVG = "{http://www.w3.org/2000/svg}"
ID = "https://w3id.org/ketju/id/"
VOCAB = "https://w3id.org/ketju/vocab/"
VARSINAIS_SUOMI = ID + "varsinais-suomi/chain/lonkkamurtuma"
PIRKANMAA = ID + "pirkanmaa/chain/lonkkaproteesi"
KESKI_UUSIMAA = ID + "keski-uusimaa/chain/nuoret-paihteidenkayttajat"
EKSOTE = ID + "etela-karjala/chain/asiakasohjautuvuus"
ALL_CHAINS = (
    EKSOTE,
    ID + "etela-pohjanmaa/chain/muistipotilas",
    KESKI_UUSIMAA,
    PIRKANMAA,
    ID + "pohjois-pohjanmaa/chain/lonkkamurtuma",
    ID + "pohjois-savo/chain/lonkkamurtuma",
    VARSINAIS_SUOMI,
)


@pytest.fixture(scope="module")
def chain_of(built_project: Project) -> Callable[[str], Chain]:
    snapshot = SnapshotSource.embedded(built_project).current()
    cache: dict[str, Chain] = {}

    def get(iri: str) -> Chain:
        if iri not in cache:
            cache[iri] = load_chain(snapshot, iri)
        return cache[iri]

    return get


# ---------------------------------------------------------------------------------------------
# Reading the SVG
# ---------------------------------------------------------------------------------------------

def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def has_class(element: ET.Element, name: str) -> bool:
    return name in element.get("class", "").split()


def of_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if has_class(e, name)]


def texts(element: ET.Element) -> list[str]:
    """The visible texts (the <text> elements) under `element`, in document order."""
    return ["".join(t.itertext()) for t in element.iter(SVG + "text")]


def title_of(element: ET.Element) -> str:
    title = element.find(f".//{SVG}title")
    return "".join(title.itertext()) if title is not None else ""


def boxes(root: ET.Element) -> dict[int, ET.Element]:
    found: dict[int, ET.Element] = {}
    for group in of_class(root, "ketju-step"):
        position = int(group.get("data-position", "0"))
        assert position not in found, f"step {position} drawn twice"
        found[position] = group
    return found


def border(box: ET.Element) -> ET.Element:
    rect = next(r for r in box.iter(SVG + "rect") if has_class(r, "kd-border"))
    return rect


def box_x(box: ET.Element) -> float:
    return float(border(box).get("x", "nan"))


def box_name(box: ET.Element) -> str:
    lines = [("".join(t.itertext())) for t in box.iter(SVG + "text") if has_class(t, "kd-name")]
    return " ".join(lines)


def label(root: ET.Element, source: int, target: int) -> ET.Element:
    return next(g for g in of_class(root, "ketju-label")
                if g.get("data-from") == str(source) and g.get("data-to") == str(target))


def edge(root: ET.Element, source: int, target: int) -> ET.Element:
    return next(g for g in root.iter(SVG + "g")
                if (has_class(g, "ketju-handover") or has_class(g, "ketju-follows"))
                and g.get("data-from") == str(source) and g.get("data-to") == str(target))


def unique_steps(chain: Chain) -> list[Step]:
    seen: dict[str, Step] = {}
    for step in chain.steps:
        seen.setdefault(step.iri, step)
    return sorted(seen.values(), key=lambda s: s.position)


def path_ys(d: str) -> list[float]:
    """The y coordinates of a path made of M, L, H, V, C and Q commands (absolute)."""
    ys: list[float] = []
    for command, args in re.findall(r"([MLHVCQz])([^MLHVCQz]*)", d):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if command == "V":
            ys.extend(numbers)
        elif command in "MLCQ":
            ys.extend(numbers[1::2])
    return ys


# ---------------------------------------------------------------------------------------------
# Varsinais-Suomi: the hip-fracture chain with parallel steps
# ---------------------------------------------------------------------------------------------

def test_one_box_per_step_with_position_and_name(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    root = parse(chain_svg(chain, "fi"))
    drawn = boxes(root)
    steps = unique_steps(chain)
    assert sorted(drawn) == [s.position for s in steps] == list(range(1, 10))
    for step in steps:
        box = drawn[step.position]
        name = step.label("fi")
        assert box_name(box) == name
        assert title_of(box).startswith(f"{step.position}. {name}")
        assert str(step.position) in texts(box)


def test_one_lane_per_producer_in_order_of_appearance(
        chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    root = parse(chain_svg(chain, "fi"))
    expected: list[str] = []
    for step in unique_steps(chain):
        assert step.producer_type is not None
        lane = f"{step.producer.label('fi')} ({step.producer_type.label('fi')})"
        if lane not in expected:
            expected.append(lane)
    lanes = of_class(root, "ketju-lane")
    assert [title_of(lane) for lane in lanes] == expected
    assert len(lanes) == 7
    # The lane label also gives the producer type.
    assert "oma palvelutuotanto" in texts(lanes[0])


def test_parallel_steps_share_a_column_and_order_runs_left_to_right(
        chain_of: Callable[[str], Chain]) -> None:
    root = parse(chain_svg(chain_of(VARSINAIS_SUOMI), "fi"))
    drawn = boxes(root)
    x = {position: box_x(box) for position, box in drawn.items()}
    assert x[5] == x[6]
    assert x[7] == x[8]
    assert x[1] < x[2] < x[3] < x[4] < x[5] < x[7] < x[9]
    assert {m.get("data-between") for m in of_class(root, "ketju-parallel-marker")} == {
        "5 6", "7 8"}
    assert all("rinnakkain" in texts(m) for m in of_class(root, "ketju-parallel-marker"))


def test_referral_is_labelled_with_kind_wait_and_responsible(
        chain_of: Callable[[str], Chain]) -> None:
    """Issue 14: the arrow carries a numbered marker; kind, wait and who is responsible are
    its title and the list item of that number (`handovers`), never cut."""
    chain = chain_of(VARSINAIS_SUOMI)
    for lang, kind, wait in (("fi", "lähete", "enintään 2 pv"), ("sv", "remiss", "högst 2 d"),
                             ("en", "referral", "max. 2 days")):
        root = parse(chain_svg(chain, lang))
        listed = next(h for h in handovers(chain, lang)
                      if (h.from_position, h.to_position) == (4, 5))
        assert texts(label(root, 4, 5)) == [str(listed.number)]
        assert listed.kind == kind and listed.wait == wait
        assert kind in title_of(label(root, 4, 5)) and wait in title_of(label(root, 4, 5))
        assert "kotiutuskoordinaattori" in title_of(label(root, 4, 5)) or lang != "fi"
        assert "kotiutuskoordinaattori" in listed.responsible or lang != "fi"
        assert has_class(edge(root, 4, 5), "ketju-handover")


def test_every_transition_is_an_arrow_and_followed_by_without_one_a_thin_arrow(
        chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    root = parse(chain_svg(chain, "fi"))
    handovers = {(int(g.get("data-from", 0)), int(g.get("data-to", 0)))
                 for g in of_class(root, "ketju-handover")}
    follows = {(int(g.get("data-from", 0)), int(g.get("data-to", 0)))
               for g in of_class(root, "ketju-follows")}
    transitions = {(t.from_position, t.to_position) for t in chain.transitions}
    assert handovers == transitions
    followed = {(s.position, n) for s in unique_steps(chain) for n in s.followed_by}
    assert follows == followed - transitions == {(5, 8), (6, 7), (7, 9)}
    for group in of_class(root, "ketju-handover") + of_class(root, "ketju-follows"):
        path = group.find(SVG + "path")
        assert path is not None and path.get("marker-end", "").startswith("url(#")


def test_title_and_description_for_screen_readers(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    root = parse(chain_svg(chain, "fi"))
    assert root.get("role") == "img"
    ids = root.get("aria-labelledby", "").split()
    assert len(ids) == 2
    title, desc = (root.find(f"{SVG}*[@id='{i}']") for i in ids)
    assert title is not None and title.tag == SVG + "title"
    assert desc is not None and desc.tag == SVG + "desc"
    assert title.text == "Palveluketjun kaavio: " + chain.label("fi")
    summary = desc.text or ""
    assert "Vaiheita 9, tuottajia 7" in summary
    at = -1
    for step in unique_steps(chain):
        found = summary.find(f"{step.position}. {step.label('fi')}", at + 1)
        assert found > at, f"step {step.position} missing or out of order in the description"
        at = found
    assert "1. Ensihoito kotoa päivystykseen (Ensihoitopalvelu, erityistaso)" in summary
    assert "Rinnakkaiset vaiheet: 5 ja 6; 7 ja 8." in summary


# ---------------------------------------------------------------------------------------------
# Alternatives, optional steps, loops
# ---------------------------------------------------------------------------------------------

def test_alternative_steps_are_marked(chain_of: Callable[[str], Chain]) -> None:
    root = parse(chain_svg(chain_of(PIRKANMAA), "fi"))
    drawn = boxes(root)
    assert box_x(drawn[5]) == box_x(drawn[6])
    for position in (5, 6):
        assert has_class(drawn[position], "ketju-alternative-step")
        assert border(drawn[position]).get("stroke-dasharray")
    markers = of_class(root, "ketju-alternative-marker")
    assert [m.get("data-between") for m in markers] == ["5 6"]
    assert texts(markers[0]) == ["tai"]
    assert texts(of_class(parse(chain_svg(chain_of(PIRKANMAA), "sv")),
                          "ketju-alternative-marker")[0]) == ["eller"]
    desc = root.find(SVG + "desc")
    assert desc is not None and "Vaihtoehtoiset vaiheet: 5 tai 6." in (desc.text or "")
    assert not has_class(drawn[7], "ketju-alternative-step")


def test_optional_step_is_marked(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(KESKI_UUSIMAA)
    optional = [s.position for s in unique_steps(chain) if s.optional]
    assert optional == [6]
    for lang, word in (("fi", "valinnainen"), ("sv", "valfri"), ("en", "optional")):
        root = parse(chain_svg(chain, lang))
        drawn = boxes(root)
        assert has_class(drawn[6], "ketju-optional")
        assert any(word in line for line in texts(drawn[6]))
        assert border(drawn[6]).get("stroke-dasharray")
        assert not has_class(drawn[4], "ketju-optional")
        assert not any(word in line for line in texts(drawn[4]))
        desc = root.find(SVG + "desc")
        assert desc is not None and word in (desc.text or "")
    # Its alternatives (1 or 2) and parallel steps (4 and 5) are marked as well.
    root = parse(chain_svg(chain, "fi"))
    assert [m.get("data-between") for m in of_class(root, "ketju-alternative-marker")] == ["1 2"]
    assert [m.get("data-between") for m in of_class(root, "ketju-parallel-marker")] == ["4 5"]


def test_loop_back_is_drawn_below_the_lanes(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(EKSOTE)
    root = parse(chain_svg(chain, "fi"))
    back = [g for g in of_class(root, "ketju-back")]
    assert [(g.get("data-from"), g.get("data-to")) for g in back] == [("8", "4")]
    assert has_class(back[0], "ketju-handover")
    path = back[0].find(SVG + "path")
    assert path is not None
    bottoms = [float(border(b).get("y", 0)) + float(border(b).get("height", 0))
               for b in boxes(root).values()]
    assert max(path_ys(path.get("d", ""))) > max(bottoms)
    assert "tiedonsiirto" in title_of(label(root, 8, 4))
    desc = root.find(SVG + "desc")
    assert desc is not None and "Paluu aiempaan vaiheeseen: 8 → 4." in (desc.text or "")


def test_repeated_step_rows_are_drawn_once(chain_of: Callable[[str], Chain]) -> None:
    """chain-steps gives a step once per service task of its service; draw it once."""
    chain = chain_of(EKSOTE)
    root = parse(chain_svg(chain, "fi"))
    assert sorted(boxes(root)) == sorted({s.position for s in chain.steps})


# ---------------------------------------------------------------------------------------------
# Languages, colours, sizes
# ---------------------------------------------------------------------------------------------

def test_languages(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    expected = {
        "fi": ("Palveluketjun kaavio", "erityistaso", "Päivystys", "Tuottaja"),
        "sv": ("Servicekedjans diagram", "specialnivå", "Jour", "Producent"),
        "en": ("Service chain diagram", "specialised", "Emergency department", "Producer"),
    }
    for lang, (title, level, name, lanes) in expected.items():
        root = parse(chain_svg(chain, lang))
        assert root.get("lang") == lang
        assert (root.findtext(SVG + "title") or "").startswith(title)
        box = boxes(root)[2]
        assert level in texts(box)
        assert box_name(box) == name
        assert lanes in texts(root)
        legend = of_class(root, "ketju-legend")[0]
        assert level in texts(legend)


def test_level_colours_are_readable() -> None:
    assert len(LEVEL_COLOURS) == 5
    assert len(set(LEVEL_COLOURS.values())) == 5
    for rank, colour in LEVEL_COLOURS.items():
        assert contrast_ratio(LEVEL_TEXT[rank], colour) >= 4.5, rank
    for colour in (INK, MUTED):
        assert contrast_ratio(colour, "#ffffff") >= 4.5
        assert contrast_ratio(colour, "#f0f0f0") >= 4.5


def test_band_colour_and_text_follow_the_level(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(PIRKANMAA)
    root = parse(chain_svg(chain, "en"))
    for step in unique_steps(chain):
        box = boxes(root)[step.position]
        band = box.find(f".//{SVG}path")
        level_text = next(t for t in box.iter(SVG + "text") if has_class(t, "ketju-level"))
        assert step.level_rank is not None
        assert band is not None and band.get("fill") == LEVEL_COLOURS[step.level_rank]
        assert level_text.get("fill") == LEVEL_TEXT[step.level_rank]


def test_sector_lanes(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    root = parse(chain_svg(chain, "fi", lanes="sector"))
    assert [title_of(lane) for lane in of_class(root, "ketju-lane")] == [
        "terveyspalvelut", "sosiaalipalvelut"]
    assert "Sektori" in texts(root)
    assert len(boxes(root)) == 9


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_all_examples_are_well_formed_deterministic_and_distinct(
        chain_of: Callable[[str], Chain], lang: str) -> None:
    prefixes = set()
    for iri in ALL_CHAINS:
        chain = chain_of(iri)
        svg = chain_svg(chain, lang)
        assert svg == chain_svg(chain, lang)
        root = parse(svg)
        ids = [e.get("id") for e in root.iter() if e.get("id")]
        assert len(ids) == len(set(ids))
        prefix = root.get("id", "")
        assert all(i.startswith(prefix) for i in ids)
        prefixes.add(prefix)
        assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
        assert root.get("font-family") == "system-ui, sans-serif"
        assert len(boxes(root)) == len({s.position for s in chain.steps})
        references = re.findall(r"url\(#([^)]+)\)", svg)
        assert references and set(references) <= set(ids)
    assert len(prefixes) == len(ALL_CHAINS)


def test_links_to_step_pages(chain_of: Callable[[str], Chain]) -> None:
    chain = chain_of(VARSINAIS_SUOMI)
    root = parse(chain_svg(chain, "fi", link=lambda iri: "/" + iri.split("/ketju/", 1)[1]))
    anchors = list(root.iter(SVG + "a"))
    assert len(anchors) == 9
    assert anchors[0].get("href") == "/id/varsinais-suomi/chain/lonkkamurtuma/step/ensihoito"
    assert not list(parse(chain_svg(chain, "fi")).iter(SVG + "a"))


# ---------------------------------------------------------------------------------------------
# Hand-made chains: hostile data, size, speed
# ---------------------------------------------------------------------------------------------

def node(iri: str, name: str) -> Node:
    return Node(iri, Texts({"fi": name}))


def make_step(position: int, name: str, producer: Node, **extra: object) -> Step:
    values: dict[str, object] = {
        "iri": f"{ID}test/chain/c/step/s{position}",
        "position": position,
        "names": Texts({"fi": name}),
        "service": node(f"{ID}test/service/s{position}", name),
        "producer": producer,
        "producer_type": node(VOCAB + "producer-type/own-production", "oma tuotanto"),
        "level": node(VOCAB + "service-level/basic", "perustaso"),
        "level_rank": 2,
        "sector": node(VOCAB + "service-sector/health", "terveyspalvelut"),
        "service_tasks": (),
        "service_classes": (),
        "optional": False,
        "maximum_duration": None,
        "followed_by": (),
        "parallel_with": (),
        "alternative_to": (),
    }
    values.update(extra)
    return Step(**values)  # type: ignore[arg-type]


def make_transition(source: int, target: int, kind: Node, producer: Node | None,
                    wait: str | None = None) -> Transition:
    return Transition(
        iri=f"{ID}test/chain/c/transition/t{source}-{target}", names=Texts({"fi": "siirto"}),
        from_step=f"{ID}test/chain/c/step/s{source}", from_position=source,
        to_step=f"{ID}test/chain/c/step/s{target}", to_position=target, kind=kind,
        responsible_producer=producer, responsible_role=None, maximum_wait=wait)


HOSTILE = '<script>alert(1)</script>'


def hostile_chain() -> Chain:
    evil = node(f"{ID}test/producer/evil", 'Tuottaja "x" & <b onload="alert(1)">')
    kind = node(VOCAB + "transition-kind/referral", "<foreignObject>lähete</foreignObject>")
    steps = (
        make_step(1, HOSTILE, evil, followed_by=(2,), level=None, level_rank=None),
        make_step(2, "javascript:alert(2)\u0000\u0007", evil, optional=True,
                  maximum_duration="P1D"),
    )
    return Chain(
        iri=f"{ID}test/chain/c", names=Texts({"fi": "</title><script>alert(3)</script>"}),
        description=Texts(), steps=steps,
        transitions=(make_transition(1, 2, kind, evil, "P7D\"><script>"),))


def test_hostile_texts_and_links_are_neutralised() -> None:
    svg = chain_svg(hostile_chain(), "fi", link=lambda iri: "javascript:alert(1)")
    root = parse(svg)  # well-formed despite the data
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        assert tag not in {"script", "foreignobject", "iframe", "image", "use"}
        for attribute, value in element.attrib.items():
            name = attribute.rsplit("}", 1)[-1].lower()
            assert not name.startswith("on"), name
            assert "javascript:" not in value.lower() or name not in {"href", "src"}
            if name == "href":
                raise AssertionError(f"unexpected link {value!r}")
    assert not list(root.iter(SVG + "a"))
    assert "<script" not in svg.lower().replace("&lt;script", "")
    all_text = " ".join(texts(root))
    assert HOSTILE[:12] in all_text or HOSTILE in (root.findtext(SVG + "desc") or "")
    assert HOSTILE in title_of(boxes(root)[1])
    assert "\u0000" not in svg and "\u0007" not in svg


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "\tjavascript:x",
    "data:text/html,<script>", "vbscript:x", "//evil.example/", "/\\evil.example",
    "/\t/evil.example", "https://ok.example/ x", "", None, "ftp://x", "mailto:a@b",
])
def test_unsafe_links_are_refused(url: str | None) -> None:
    assert safe_href(url) is None


@pytest.mark.parametrize("url", [
    "/id/varsinais-suomi/chain/lonkkamurtuma/step/leikkaus", "/", "https://example.org/a?b=c&d",
    "HTTP://example.org/",
])
def test_safe_links_pass(url: str) -> None:
    assert safe_href(url) == url


def test_link_urls_are_escaped() -> None:
    root = parse(chain_svg(hostile_chain(), "fi", link=lambda iri: '/step?a=1&b="2"'))
    assert {a.get("href") for a in root.iter(SVG + "a")} == {'/step?a=1&b="2"'}


@pytest.mark.parametrize(("value", "lang", "expected"), [
    ("P7D", "fi", "7 pv"), ("P7D", "sv", "7 d"), ("P7D", "en", "7 days"),
    ("P1D", "en", "1 day"), ("P2D", "fi", "2 pv"), ("PT48H", "fi", "48 h"),
    ("PT48H", "en", "48 hours"), ("P3M", "fi", "3 kk"), ("P3M", "sv", "3 mån"),
    ("P3M", "en", "3 months"), ("P1Y", "fi", "1 v"), ("P2W", "en", "2 weeks"),
    ("P1DT12H", "fi", "1 pv 12 h"), ("PT1.5H", "fi", "1,5 h"), ("PT30M", "en", "30 min"),
    ("soon", "fi", "soon"), ("P", "fi", "P"), ("PT", "en", "PT"),
])
def test_durations_in_words(value: str, lang: str, expected: str) -> None:
    assert humanise_duration(value, lang) == expected


def test_wrap() -> None:
    assert wrap("Jatkohoito terveyskeskussairaalassa", 24, 3) == [
        "Jatkohoito", "terveyskeskussairaalassa"]
    lines = wrap("sana " * 30, 22, 3)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(len(line) <= 22 for line in lines)
    assert all(len(line) <= 10 for line in wrap("x" * 50, 10, 9))
    assert wrap("", 10, 2) == []


def twenty_step_chain() -> Chain:
    kinds = [node(VOCAB + f"transition-kind/{k}", k) for k in ("referral", "consultation")]
    producers = [node(f"{ID}test/producer/p{i}",
                      f"Tuottaja numero {i} hyvinvointialueen omassa tuotannossa")
                 for i in range(6)]
    steps = []
    transitions = []
    for position in range(1, 21):
        extra: dict[str, object] = {"level_rank": position % 5 + 1,
                                    "followed_by": (position + 1,) if position < 20 else ()}
        if position % 6 == 0:
            extra["parallel_with"] = (position + 1,)
        if position % 6 == 1 and position > 1:
            extra["parallel_with"] = (position - 1,)
        if position % 7 == 0:
            extra["optional"] = True
        steps.append(make_step(position, f"Vaihe {position}: pitkähkö palvelun nimi, jossa "
                               "on monta sanaa ja vielä lisää tekstiä", producers[position % 6],
                               **extra))
        if position < 20:
            transitions.append(make_transition(position, position + 1, kinds[position % 2],
                                               producers[position % 6], f"P{position}D"))
    transitions.append(make_transition(19, 3, kinds[0], producers[1]))
    return Chain(iri=f"{ID}test/chain/c", names=Texts({"fi": "Pitkä ketju"}),
                 description=Texts(), steps=tuple(steps), transitions=tuple(transitions))


def test_twenty_steps_size_and_render_time() -> None:
    chain = twenty_step_chain()
    svg = chain_svg(chain, "fi")
    root = parse(svg)
    assert len(boxes(root)) == 20
    assert len(svg.encode("utf-8")) < 200_000
    rounds = 50
    start = time.perf_counter()
    for _ in range(rounds):
        chain_svg(chain, "fi")
    per_render = (time.perf_counter() - start) / rounds
    print(f"chain_svg, 20 steps: {per_render * 1000:.2f} ms, {len(svg)} characters")
