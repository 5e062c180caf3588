"""The geometry of a chain's drawing: lanes, columns, boxes, hand-overs and their labels
(`layout(chain, lang) -> Layout`), a pure function of the chain and the language; with the
drawing's colours, sizes and text measures, which `render` shares. See the package's docstring
for what the drawing shows."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from ketju.core.languages import DEFAULT, LANGUAGES
from ketju.domain.chains import Chain, Step, Transition, draft_status, is_placeholder
from ketju.domain.monitoring import duration_parts
from ketju.web.i18n import translate

LaneMode = Literal["producer", "sector"]

FONT = "system-ui, sans-serif"

# Service levels by rank (1 hyte ... 5 most demanding): viridis, light to dark.
LEVEL_COLOURS: dict[int, str] = {
    1: "#fde725",
    2: "#5ec962",
    3: "#21918c",
    4: "#3b528b",
    5: "#440154",
}
NO_LEVEL_COLOUR = "#d9d9d9"
INK = "#1a1a1a"
MUTED = "#4a4a4a"
HANDOVER = "#2b2b2b"
FOLLOWS = "#767676"

# Geometry (px).
MARGIN = 16
HEADER_H = 26
LANE_HEAD_W = 196
LEAD_GAP = 36
TRAIL_GAP = 40
MIN_GAP = 48
BOX_W = 184
BOX_H = 92
BAND_H = 20
ROW_H = 124
PAD = (ROW_H - BOX_H) // 2
NAME_CHARS = 24
NAME_LINES = 3
BACK_TRACK = 30
#: Radius of a hand-over's numbered marker (the number's text is in the list under the drawing).
MARKER_R = 10
MARKER_BOX = 2 * MARKER_R + 4
#: How much wider a gap grows for each arrow that comes into it.
GAP_PER_EDGE = 12


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1 ... 21)."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with `background`."""
    black, white = "#000000", "#ffffff"
    if contrast_ratio(black, background) >= contrast_ratio(white, background):
        return black
    return white


LEVEL_TEXT: dict[int, str] = {rank: text_colour_on(c) for rank, c in LEVEL_COLOURS.items()}
NO_LEVEL_TEXT = text_colour_on(NO_LEVEL_COLOUR)


# ---------------------------------------------------------------------------------------------
# Text helpers
# ---------------------------------------------------------------------------------------------

_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SAFE_URL = re.compile(r"(?i:https?://)[^\x00-\x20\x7f\\]+|/(?![/\\])[^\x00-\x20\x7f\\]*")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                          "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


@lru_cache(maxsize=8192)
def _esc(text: str) -> str:
    """Text safe as XML character data or as a double-quoted attribute value (kept: a page
    draws its chain twice, and names come back on every page of the chain)."""
    return _NOT_XML.sub("", text).translate(_ESCAPES)


def safe_href(url: str | None) -> str | None:
    """`url` if it is an http(s) URL or a site-relative path ("/..." but not "//..."), else None.

    Whitespace, control characters and backslashes are refused anywhere, because browsers
    strip or reinterpret them (" javascript:", "/\\evil.example", "/\\t/evil.example").
    """
    if url and _SAFE_URL.fullmatch(url):
        return url
    return None


def no_link(iri: str) -> str | None:
    """The default link callback: no step is a link."""
    return None


def humanise_duration(value: str, lang: str) -> str:
    """An xsd:duration in words: "P7D" -> "7 pv" (fi), "7 d" (sv), "7 days" (en).

    Anything that is not a plain positive ISO 8601 duration is returned as it is.
    """
    found = duration_parts(value)
    if found is None:
        return value
    parts = []
    for unit, number in found:
        number = number.replace(",", ".")
        shown = number.rstrip("0").rstrip(".") if "." in number else str(int(number))
        if lang != "en":
            shown = shown.replace(".", ",")
        key = f"diagram_unit_{unit}" + ("_one" if float(number) == 1 else "")
        parts.append(translate(key, lang).format(n=shown))
    return " ".join(parts) or value


def wrap(text: str, width: int, lines: int) -> list[str]:
    """`text` in at most `lines` lines of at most `width` characters, with an ellipsis if cut.

    Words longer than a line are split with a hyphen.
    """
    out: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            room = width - len(current) - 1 if current else width
            if room < 4:
                out.append(current)
                current, room = "", width
            head = word[:room - 1] + "-"
            current = f"{current} {head}" if current else head
            out.append(current)
            current = ""
            word = word[room - 1:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    if len(out) > lines:
        out[lines - 1:] = [_cut(" ".join(out[lines - 1:]), width)]
    return out


def _cut(text: str, width: int) -> str:
    """`text` on one line of at most `width` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of the rendered width of `text` in a sans-serif font."""
    return len(text) * size * (0.6 if bold else 0.56)


@lru_cache(maxsize=8192)
def _n(value: float) -> str:
    """A coordinate, rounded to one decimal, without trailing zeros (kept: drawings repeat
    their coordinates)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------------------------------------
# Model of the drawing
# ---------------------------------------------------------------------------------------------

@dataclass
class _Box:
    step: Step
    column: int
    lane: int
    row: int = 0
    x: float = 0
    y: float = 0

    @property
    def mid(self) -> float:
        return self.y + BOX_H / 2


@dataclass
class _Lane:
    key: str
    name: str
    name_lang: str
    sub: str
    rows: int = 1
    first_row: int = 0
    #: A placeholder producer of a draft, still to be replaced (drawn dashed).
    placeholder: bool = False


@dataclass
class _Label:
    """A hand-over's numbered marker on its arrow: the number is drawn, the full text (kind,
    maximum wait, who is responsible) is the marker's `<title>` and the item of the same
    number in the list under the drawing (`Handover`), so no text is ever cut or laid over
    a connector."""

    number: int
    title: str
    width: float = MARKER_BOX
    desired: float = 0
    top: float = 0
    cx: float = 0

    @property
    def height(self) -> float:
        return MARKER_BOX


@dataclass(frozen=True)
class Handover:
    """One described hand-over in words, numbered as its marker in the drawings: the steps
    it joins, its kind, the maximum wait (humanised) and who is responsible."""

    number: int
    iri: str
    from_position: int
    to_position: int
    from_name: str
    to_name: str
    name: str
    kind: str
    wait: str
    responsible: str

    @property
    def steps_text(self) -> str:
        return (f"{self.from_position}. {self.from_name} → {self.to_position}. "
                f"{self.to_name}")

    @property
    def details(self) -> str:
        return " · ".join(part for part in (self.kind, self.wait, self.responsible) if part)

    @property
    def text(self) -> str:
        """The whole hand-over on one line (the arrow's title, the downloaded drawing)."""
        return f"{self.steps_text}: {self.details}"

    @property
    def marker_title(self) -> str:
        """The marker's tooltip: number, steps, the hand-over's own name, its details."""
        head = f"{self.number}. {self.from_position} → {self.to_position}" + (
            f": {self.name}" if self.name else "")
        return head + "\n" + self.details


@dataclass
class _Edge:
    source: _Box
    target: _Box
    transition: Transition | None
    kind: Literal["forward", "same", "back"] = "forward"
    label: _Label | None = None
    gap: int = 0
    gutter: float | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    path: str = ""
    track: int = 0
    offset: float = 0


def _level_text(step: Step, lang: str) -> str:
    if step.level_rank in LEVEL_COLOURS:
        return translate(f"diagram_level_{step.level_rank}", lang)
    if step.level is not None:
        return step.level.label(lang)
    return translate("diagram_no_level", lang)


def _level_colours(step: Step) -> tuple[str, str]:
    if step.level_rank in LEVEL_COLOURS:
        return LEVEL_COLOURS[step.level_rank], LEVEL_TEXT[step.level_rank]  # type: ignore[index]
    return NO_LEVEL_COLOUR, NO_LEVEL_TEXT


def _unique_steps(chain: Chain) -> list[Step]:
    """The steps once each, in position order (a step may come back once per row of a join)."""
    seen: set[str] = set()
    positions: set[int] = set()
    steps = []
    for step in sorted(chain.steps, key=lambda s: (s.position, s.iri)):
        if step.iri in seen or step.position in positions:
            continue
        seen.add(step.iri)
        positions.add(step.position)
        steps.append(step)
    return steps


class _Groups:
    """Union-find over step positions."""

    def __init__(self, positions: Iterable[int]) -> None:
        self.parent = {p: p for p in positions}

    def find(self, p: int) -> int:
        while self.parent[p] != p:
            self.parent[p] = self.parent[self.parent[p]]
            p = self.parent[p]
        return p

    def union(self, a: int, b: int) -> None:
        if a in self.parent and b in self.parent:
            ra, rb = self.find(a), self.find(b)
            if ra != rb:
                self.parent[max(ra, rb)] = min(ra, rb)

    def sets(self) -> list[list[int]]:
        groups: dict[int, list[int]] = {}
        for p in sorted(self.parent):
            groups.setdefault(self.find(p), []).append(p)
        return [g for g in groups.values() if len(g) > 1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Groups) and self.sets() == other.sets()

    __hash__ = None  # type: ignore[assignment]


def _party(transition: Transition, lang: str) -> list[str]:
    parties = []
    for node in (transition.responsible_producer, transition.responsible_role):
        if node is not None:
            parties.append(node.label(lang))
    return parties


def handovers(chain: Chain, lang: str) -> list[Handover]:
    """The chain's described hand-overs in drawing order (from, to, IRI), numbered from 1 as
    their markers; hand-overs whose ends are not drawn steps are left out."""
    lang = lang if lang in LANGUAGES else DEFAULT
    by_position = {s.position: s for s in _unique_steps(chain)}
    found: list[Handover] = []
    for transition in sorted(chain.transitions,
                             key=lambda tr: (tr.from_position, tr.to_position, tr.iri)):
        source = by_position.get(transition.from_position)
        target = by_position.get(transition.to_position)
        if source is None or target is None or source is target:
            continue
        wait = ""
        if transition.maximum_wait:
            wait = translate("diagram_max_wait", lang).format(
                duration=humanise_duration(transition.maximum_wait, lang))
        parties = _party(transition, lang)
        responsible = (translate("diagram_responsible", lang).format(party=", ".join(parties))
                       if parties else "")
        found.append(Handover(
            number=len(found) + 1, iri=transition.iri, from_position=source.position,
            to_position=target.position, from_name=source.label(lang),
            to_name=target.label(lang), name=transition.names.pick(lang)[0],
            kind=transition.kind.label(lang), wait=wait, responsible=responsible))
    return found


def _marker_label(handover: Handover) -> _Label:
    return _Label(number=handover.number, title=handover.marker_title)


# ---------------------------------------------------------------------------------------------
# Layout: the chain -> geometry (no SVG)
# ---------------------------------------------------------------------------------------------

@dataclass
class Layout:
    """Where everything of one chain's drawing goes: lanes, boxes, edges (with their labels,
    points and paths), the back-edge channel and the size. `layout` makes it from the chain;
    `render` writes it as SVG."""

    uid: str
    lang: str
    lane_mode: LaneMode
    title: str
    steps: list[Step]
    lanes: list[_Lane]
    boxes: dict[int, _Box]
    edges: list[_Edge]
    parallel: _Groups
    alternative: _Groups
    top: float
    lanes_right: float
    channel_top: float
    legend_top: float
    width_guess: float
    width: float
    shown: dict[str, bool]
    handovers: list[Handover] = field(default_factory=list)
    #: Whether the chain is a draft (`draft_status`): the drawing says so in its header.
    draft: bool = False


@dataclass
class _Gaps:
    """The gaps between columns (gap g lies before column g; the last is the trailing margin)
    and what their sides keep clear for vertical tracks."""

    widths: list[float]
    reserve_left: list[float]
    reserve_right: list[float]
    column_x: list[float]
    left: float

    def gap_left(self, g: int) -> float:
        return self.column_x[g - 1] + BOX_W if g > 0 else self.left

    def gap_centre(self, g: int) -> float:
        return self.gap_left(g) + self.widths[g] / 2

    def label_centre(self, g: int) -> float:
        """The middle of the part of gap `g` that labels may use."""
        return self.gap_left(g) + (self.reserve_left[g] + self.widths[g]
                                   - self.reserve_right[g]) / 2


def layout(chain: Chain, lang: str, lanes: LaneMode = "producer") -> Layout:
    """The geometry of the chain's drawing in `lang` (label sizes depend on the texts)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    lanes = "sector" if lanes == "sector" else "producer"
    steps = _unique_steps(chain)
    column, n_columns, parallel, alternative = _columns(steps)
    lane_list, lane_of = _lanes(steps, lang, lanes)
    boxes, n_rows = _cells(steps, column, lane_list, lane_of, lanes)
    listed = handovers(chain, lang)
    edges = _edges(chain, steps, boxes, listed)
    back_edges = [e for e in edges if e.kind == "back"]
    gaps = _gaps(edges, back_edges, n_columns)
    top = MARGIN + HEADER_H
    for box in boxes.values():
        box.x = gaps.column_x[box.column]
        box.y = top + box.row * ROW_H + PAD
    lowest = _place_labels(edges, boxes, top, top + n_rows * ROW_H)
    _route(edges, gaps)
    channel_top = lowest + 22
    channel_bottom = channel_top + len(back_edges) * BACK_TRACK if back_edges else lowest
    lanes_right = gaps.column_x[-1] + BOX_W + gaps.widths[-1] if gaps.column_x else \
        gaps.left + gaps.widths[-1]
    width_guess = max(lanes_right + MARGIN, 760.0)
    width = width_guess
    shown = {"handover": any(e.transition is not None for e in edges),
             "follows": any(e.transition is None for e in edges),
             "back": bool(back_edges),
             "alternative": bool(alternative.sets()),
             "parallel": bool(parallel.sets()),
             "optional": any(s.optional for s in steps)}
    return Layout(
        uid="kd-" + hashlib.sha256(chain.iri.encode("utf-8")).hexdigest()[:10], lang=lang,
        lane_mode=lanes, title=chain.label(lang), steps=steps, lanes=lane_list, boxes=boxes,
        edges=edges, parallel=parallel, alternative=alternative, top=top,
        lanes_right=lanes_right, channel_top=channel_top, legend_top=channel_bottom + 20,
        width_guess=width_guess, width=width, shown=shown, handovers=listed,
        draft=draft_status(chain) is not None)


def _columns(steps: list[Step]) -> tuple[dict[int, int], int, _Groups, _Groups]:
    """A new column per step; parallel and alternative groups share the first one's column."""
    by_position = {s.position: s for s in steps}
    columns_of = _Groups(by_position)
    parallel = _Groups(by_position)
    alternative = _Groups(by_position)
    for step in steps:
        for other in step.parallel_with:
            columns_of.union(step.position, other)
            parallel.union(step.position, other)
        for other in step.alternative_to:
            columns_of.union(step.position, other)
            alternative.union(step.position, other)
    column_index: dict[int, int] = {}
    column: dict[int, int] = {}
    for step in steps:
        root = columns_of.find(step.position)
        column[step.position] = column_index.setdefault(root, len(column_index))
    return column, max(len(column_index), 1), parallel, alternative


def _lane_key(step: Step, lanes: LaneMode) -> str:
    return (step.sector.iri if step.sector else "") if lanes == "sector" else step.producer.iri


def _lanes(steps: list[Step], lang: str, lanes: LaneMode) -> tuple[list[_Lane], dict[str, int]]:
    """The lanes in order of first appearance, and the index of each lane's key."""
    lane_list: list[_Lane] = []
    lane_of: dict[str, int] = {}
    for step in steps:
        key = _lane_key(step, lanes)
        if key in lane_of:
            continue
        sub = ""
        if lanes == "sector" and step.sector is None:
            name, name_lang = translate("diagram_no_sector", lang), lang
        else:
            node = step.sector if lanes == "sector" else step.producer
            assert node is not None
            name, name_lang = node.names.pick(lang)
            name = name or node.label(lang)
            if lanes == "producer" and step.producer_type:
                sub = step.producer_type.label(lang)
        lane_of[key] = len(lane_list)
        lane_list.append(_Lane(key, name, name_lang, sub, placeholder=lanes == "producer"
                               and is_placeholder(step.producer)))
    return lane_list, lane_of


def _cells(steps: list[Step], column: dict[int, int], lane_list: list[_Lane],
           lane_of: dict[str, int], lanes: LaneMode) -> tuple[dict[int, _Box], int]:
    """A box per step in its lane and column; a lane grows a sub-row for each step that
    shares one of its cells, so boxes never overlap. Returns the boxes and the row count."""
    boxes: dict[int, _Box] = {}
    cells: dict[tuple[int, int], list[_Box]] = {}
    for step in steps:
        box = _Box(step, column[step.position], lane_of[_lane_key(step, lanes)])
        boxes[step.position] = box
        cells.setdefault((box.lane, box.column), []).append(box)
    for (lane, _), members in cells.items():
        lane_list[lane].rows = max(lane_list[lane].rows, len(members))
    row = 0
    for lane_item in lane_list:
        lane_item.first_row = row
        row += lane_item.rows
    for (lane, _), members in cells.items():
        for i, box in enumerate(members):
            box.row = lane_list[lane].first_row + i
    return boxes, max(row, 1)


def _edges(chain: Chain, steps: list[Step], boxes: dict[int, _Box],
           listed: list[Handover]) -> list[_Edge]:
    """Every hand-over (numbered as in `listed`), then followedBy relations without one; each
    forward, back or within one column."""
    edges: list[_Edge] = []
    described: set[tuple[int, int]] = set()
    transitions = {t.iri: t for t in chain.transitions}
    for handover in listed:
        source, target = boxes[handover.from_position], boxes[handover.to_position]
        described.add((source.step.position, target.step.position))
        edges.append(_Edge(source, target, transitions[handover.iri],
                           label=_marker_label(handover)))
    for step in steps:
        for nxt in sorted(set(step.followed_by)):
            if nxt in boxes and nxt != step.position and (step.position, nxt) not in described:
                edges.append(_Edge(boxes[step.position], boxes[nxt], None))
    for edge in edges:
        if edge.target.column > edge.source.column:
            edge.kind = "forward"
            edge.gap = edge.target.column
        elif edge.target.column == edge.source.column:
            edge.kind = "same"
            edge.gap = edge.source.column + 1
        else:
            edge.kind = "back"
    return edges


def _gaps(edges: list[_Edge], back_edges: list[_Edge], n_columns: int) -> _Gaps:
    """Gap widths and column positions. Brackets of same-column edges and back edges leave on
    the right of their column, back edges come in on the left of the target's column; labels
    in a gap keep clear of the tracks on its sides, and a gap is as wide as its widest label."""
    reserve_left = [12.0] * (n_columns + 1)
    reserve_right = [12.0] * (n_columns + 1)
    brackets: dict[int, int] = {}
    for edge in edges:
        if edge.kind == "same":
            j = brackets.get(edge.gap, 0)
            brackets[edge.gap] = j + 1
            edge.offset = 14 + 5 * j
            reserve_left[edge.gap] = max(reserve_left[edge.gap], edge.offset + 10)
    for k, edge in enumerate(back_edges):
        edge.track = k
        edge.offset = 12 + 5 * k
        exit_gap, entry_gap = edge.source.column + 1, edge.target.column
        reserve_left[exit_gap] = max(reserve_left[exit_gap], edge.offset + 10)
        reserve_right[entry_gap] = max(reserve_right[entry_gap], edge.offset + 10)
    widths = [float(LEAD_GAP)] + [float(MIN_GAP)] * (n_columns - 1) + [float(TRAIL_GAP)]
    for g in range(n_columns + 1):
        widths[g] = max(widths[g], reserve_left[g] + reserve_right[g] + 8)
    crossing: dict[int, int] = {}
    for edge in edges:
        if edge.kind != "back":
            crossing[edge.gap] = crossing.get(edge.gap, 0) + 1
        if edge.label is not None and edge.kind != "back":
            widths[edge.gap] = max(widths[edge.gap], edge.label.width + reserve_left[edge.gap]
                                   + reserve_right[edge.gap])
    # Room for the arrows that meet in a gap to stay apart (and beside the markers).
    for g, count in crossing.items():
        widths[g] = max(widths[g], MARKER_BOX + GAP_PER_EDGE * count)
    left = float(MARGIN + LANE_HEAD_W)
    column_x = []
    x = left
    for c in range(n_columns):
        x += widths[c]
        column_x.append(x)
        x += BOX_W
    return _Gaps(widths, reserve_left, reserve_right, column_x, left)


def _place_labels(edges: list[_Edge], boxes: dict[int, _Box], top: float,
                  rows_bottom: float) -> float:
    """Gutters for forward edges that skip columns, and labels in their gap without overlaps
    (pushed down in order of where they would like to be). Returns the lowest label bottom
    (at least the bottom of the lanes)."""

    def row_occupied(row_index: int, first: int, last: int) -> bool:
        return any(b.row == row_index and first < b.column < last for b in boxes.values())

    gutter_use: dict[float, int] = {}
    for edge in edges:
        s, g = edge.source, edge.target
        if edge.kind == "forward" and g.column - s.column > 1 and (
                s.row != g.row or row_occupied(s.row, s.column, g.column)):
            boundary = top + (s.row + 1) * ROW_H if g.row >= s.row else top + s.row * ROW_H
            k = gutter_use.get(boundary, 0)
            gutter_use[boundary] = k + 1
            edge.gutter = boundary + ((k + 1) // 2) * 6 * (1 if k % 2 else -1)
        if edge.label is not None and edge.kind != "back":
            start = edge.gutter if edge.gutter is not None else s.mid
            edge.label.desired = (start + g.mid) / 2
    by_gap: dict[int, list[_Label]] = {}
    for edge in edges:
        if edge.label is not None and edge.kind != "back":
            by_gap.setdefault(edge.gap, []).append(edge.label)
    lowest = float(rows_bottom)
    for labels in by_gap.values():
        previous_bottom = -1e9
        for label in sorted(labels, key=lambda lb: lb.desired):  # stable: edge order on ties
            label.top = max(label.desired - label.height / 2, previous_bottom + 4)
            previous_bottom = label.top + label.height
        lowest = max(lowest, previous_bottom)
    return lowest


def _route(edges: list[_Edge], gaps: _Gaps) -> None:
    """Points of forward edges (through their gutter and label) and brackets of same-column
    edges; back edges are routed when drawn (`_back_path`)."""
    for edge in edges:
        s, g = edge.source, edge.target
        label_y = edge.label.top + edge.label.height / 2 if edge.label is not None else None
        if edge.kind == "forward":
            start, end = (s.x + BOX_W, s.mid), (g.x, g.mid)
            lx = gaps.label_centre(g.column)
            middle: list[tuple[float, float]] = []
            if edge.gutter is not None:
                middle = [(gaps.gap_centre(s.column + 1), edge.gutter),
                          (g.x - gaps.widths[g.column], edge.gutter)]
            if label_y is not None:
                middle.append((lx, label_y))
            edge.points = [start, *middle, end]
            if edge.label is not None:
                edge.label.cx = lx
        elif edge.kind == "same":
            # A tight bracket just right of the column, its marker on it.
            sign = 1 if g.row > s.row else -1
            xs = s.x + BOX_W
            xb = xs + edge.offset
            y0, y1, r = s.mid + 10 * sign, g.mid - 10 * sign, 6
            edge.path = (f"M{_n(xs)} {_n(y0)}H{_n(xb - r)}Q{_n(xb)} {_n(y0)} {_n(xb)} "
                         f"{_n(y0 + r * sign)}V{_n(y1 - r * sign)}Q{_n(xb)} {_n(y1)} "
                         f"{_n(xb - r)} {_n(y1)}H{_n(xs)}")
            if edge.label is not None:  # the marker on the bracket's upright
                edge.label.cx = xb
