"""A service chain drawn on the server as SVG: swimlanes, steps in order, labelled hand-overs.

`chain_svg(chain, lang)` returns one self-contained `<svg>` element (no script, no external
resources, no foreignObject) for the chain page. Everything in it that comes from contributed
data is escaped, and links are only emitted for http(s) URLs or site-relative paths.

Layout
------
* **Lanes** (rows of the drawing): one horizontal swimlane per responsible producer, in the order
  in which the producers first appear in the chain (`lanes="sector"` groups by service sector
  instead). The lane label on the left gives the producer's name and, in smaller text, its
  producer type.
* **Columns**: steps are taken in position order and each step starts a new column, except that
  steps joined by `parallelWith` or `alternativeTo` (transitively) share the column of the first
  of them. When several steps of one column fall in the same lane, the lane grows a sub-row for
  each, so boxes never overlap.
* **Boxes**: a coloured band at the top gives the position and the service level as text; the
  band's colour also tells the level (five ranks, a viridis ramp from light to dark, readable in
  all common colour-vision deficiencies; the band text is black or white, whichever has the
  higher contrast, always at least 4.5:1). The step name is wrapped into at most three lines;
  the full name is in the box's `<title>` (shown on hover). Alternative steps have a dashed
  border and an "or" pill between them; parallel steps are joined by a double line and an
  "in parallel" pill; optional steps have a dotted border, a grey body and the word "optional".
* **Hand-overs** (`ketju:Transition`): dark arrows from the right side of the from-step to the
  left side of the to-step, drawn as smooth curves through their label. The label sits in the
  gap just before the to-step's column and gives the kind, the maximum wait (humanised ISO 8601
  duration, "P7D" -> "7 pv") and the responsible producer and/or role. The gaps between columns
  are as wide as their widest label; labels in one gap are pushed apart so they never overlap.
  An arrow that skips columns runs along the gutter between rows so it does not cross boxes.
  An arrow between two steps of one column loops out to the right of the column.
* **Back edges** (to an earlier column, e.g. monitoring -> assessment): leave the from-step to the
  right, run along a channel below all lanes (one track per back edge, labelled there) and
  enter the to-step from the left.
* `followedBy` relations without a described hand-over are thin grey arrows without a label.
* **Legend** under the lanes: the level colours with their names, and the line and border styles.
* **Accessibility**: `role="img"` with `aria-labelledby` pointing to a `<title>` and a `<desc>`
  that summarises the chain in words (counts, the sequence with producer and level of each
  step, parallel, alternative and optional steps, returns to earlier steps). Ids derive from a
  hash of the chain IRI, so several diagrams can share a page.

The drawing is deterministic (same chain and language, same bytes) and sized by its content
(`viewBox`, with `width` and `height` equal to it so it shows at 100 % and scrolls rather than
shrinks; wrap it in an `overflow-x: auto` container).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from ketju.core.languages import DEFAULT, LANGUAGES
from ketju.domain.chains import Chain, Step, Transition
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
MIN_GAP = 64
BOX_W = 184
BOX_H = 92
BAND_H = 20
ROW_H = 124
PAD = (ROW_H - BOX_H) // 2
LABEL_LINE = 13
LABEL_FONT = 11
NAME_CHARS = 24
NAME_LINES = 3
LABEL_CHARS = 24
BACK_TRACK = 30


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
_DURATION = re.compile(
    r"P(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?"
    r"(?:(\d+(?:[.,]\d+)?)D)?(?:T(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?"
    r"(?:(\d+(?:[.,]\d+)?)S)?)?"
)
_DURATION_UNITS = ("year", "month", "week", "day", "hour", "minute", "second")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                          "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _esc(text: str) -> str:
    """Text safe as XML character data or as a double-quoted attribute value."""
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
    match = _DURATION.fullmatch(value.strip())
    if not match or value.strip().endswith(("P", "T")):
        return value
    parts = []
    for unit, number in zip(_DURATION_UNITS, match.groups(), strict=True):
        if number is None:
            continue
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


def _n(value: float) -> str:
    """A coordinate, rounded to one decimal, without trailing zeros."""
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


@dataclass
class _Label:
    lines: list[tuple[str, bool]]  # (text, bold)
    title: str
    width: float = 0
    desired: float = 0
    top: float = 0
    cx: float = 0

    @property
    def height(self) -> float:
        return len(self.lines) * LABEL_LINE + 6


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


def _transition_label(transition: Transition, lang: str, source: Step, target: Step) -> _Label:
    kind = transition.kind.label(lang)
    lines: list[tuple[str, bool]] = [(line, True) for line in wrap(kind, LABEL_CHARS, 2)]
    details = [kind]
    if transition.maximum_wait:
        wait = translate("diagram_max_wait", lang).format(
            duration=humanise_duration(transition.maximum_wait, lang))
        lines.append((_cut(wait, LABEL_CHARS), False))
        details.append(wait)
    parties = _party(transition, lang)
    lines.extend((line, False) for party in parties for line in wrap(party, LABEL_CHARS, 2))
    if parties:
        details.append(translate("diagram_responsible", lang).format(party=", ".join(parties)))
    name = transition.names.pick(lang)[0]
    head = f"{source.position} → {target.position}" + (f": {name}" if name else "")
    title = head + "\n" + " · ".join(details)
    width = max(_width(text, LABEL_FONT, bold) for text, bold in lines) + 10
    return _Label(lines=lines, title=title, width=width)


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


def chain_svg(chain: Chain, lang: str, link: Callable[[str], str | None] = no_link,
              *, lanes: LaneMode = "producer") -> str:
    """The chain as one `<svg>` element (a string), with texts in `lang`.

    `link(step_iri)` may give the URL of a step's page; only http(s) URLs and site-relative
    paths are used. `lanes` chooses the swimlanes: one per producer (default) or per sector.
    """
    return render(layout(chain, lang, lanes), link)


def layout(chain: Chain, lang: str, lanes: LaneMode = "producer") -> Layout:
    """The geometry of the chain's drawing in `lang` (label sizes depend on the texts)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    lanes = "sector" if lanes == "sector" else "producer"
    steps = _unique_steps(chain)
    column, n_columns, parallel, alternative = _columns(steps)
    lane_list, lane_of = _lanes(steps, lang, lanes)
    boxes, n_rows = _cells(steps, column, lane_list, lane_of, lanes)
    edges = _edges(chain, steps, boxes, lang)
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
    for edge in back_edges:
        if edge.label is not None:
            width = max(width, (edge.source.x + edge.target.x + BOX_W) / 2
                        + edge.label.width / 2 + MARGIN)
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
        width_guess=width_guess, width=width, shown=shown)


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
        lane_list.append(_Lane(key, name, name_lang, sub))
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


def _edges(chain: Chain, steps: list[Step], boxes: dict[int, _Box], lang: str) -> list[_Edge]:
    """Every hand-over, then followedBy relations without one; each forward, back or within
    one column."""
    edges: list[_Edge] = []
    described: set[tuple[int, int]] = set()
    for transition in sorted(chain.transitions,
                             key=lambda tr: (tr.from_position, tr.to_position, tr.iri)):
        source = boxes.get(transition.from_position)
        target = boxes.get(transition.to_position)
        if source is None or target is None or source is target:
            continue
        described.add((source.step.position, target.step.position))
        edges.append(_Edge(source, target, transition,
                           label=_transition_label(transition, lang, source.step, target.step)))
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
    for edge in edges:
        if edge.label is not None and edge.kind != "back":
            widths[edge.gap] = max(widths[edge.gap], edge.label.width + reserve_left[edge.gap]
                                   + reserve_right[edge.gap])
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
            # A tight bracket just right of the column; the label beside it, in the gap.
            sign = 1 if g.row > s.row else -1
            xs = s.x + BOX_W
            xb = xs + edge.offset
            y0, y1, r = s.mid + 10 * sign, g.mid - 10 * sign, 6
            edge.path = (f"M{_n(xs)} {_n(y0)}H{_n(xb - r)}Q{_n(xb)} {_n(y0)} {_n(xb)} "
                         f"{_n(y0 + r * sign)}V{_n(y1 - r * sign)}Q{_n(xb)} {_n(y1)} "
                         f"{_n(xb - r)} {_n(y1)}H{_n(xs)}")
            if edge.label is not None:
                edge.label.cx = gaps.label_centre(edge.gap)


# ---------------------------------------------------------------------------------------------
# Rendering: geometry -> SVG
# ---------------------------------------------------------------------------------------------

def render(drawing: Layout, link: Callable[[str], str | None] = no_link) -> str:
    """The drawing as one `<svg>` element."""
    uid, lang = drawing.uid, drawing.lang
    legend, legend_height = _legend(uid, lang, drawing.steps, drawing.shown,
                                    drawing.width_guess, drawing.legend_top)
    width, height = drawing.width, drawing.legend_top + legend_height + MARGIN
    out: list[str] = []
    w = out.append
    w(f'<svg xmlns="http://www.w3.org/2000/svg" id="{uid}" class="ketju-diagram" role="img" '
      f'aria-labelledby="{uid}-t {uid}-d" lang="{lang}" viewBox="0 0 {_n(width)} {_n(height)}" '
      f'width="{_n(width)}" height="{_n(height)}" font-family="{FONT}" font-size="13">')
    w(f'<title id="{uid}-t">'
      f'{_esc(translate("diagram_title", lang).format(name=drawing.title))}</title>')
    summary = _describe(drawing.steps, drawing.boxes, drawing.edges, drawing.parallel,
                        drawing.alternative, lang)
    w(f'<desc id="{uid}-d">{_esc(summary)}</desc>')
    w(f'<style>#{uid} a:focus-visible .kd-border,#{uid} a:hover .kd-border'
      '{stroke:#000;stroke-width:3}'
      f'#{uid} a:hover .kd-name{{text-decoration:underline}}</style>')
    w('<defs>')
    for name, colour in (("h", HANDOVER), ("f", FOLLOWS)):
        w(f'<marker id="{uid}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
          'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
          f'<path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>')
    w('</defs>')
    out.extend(_render_lanes(drawing))
    pills = _render_connectors(drawing, w)
    out.extend(_render_edge(drawing, edge) for edge in drawing.edges)
    out.extend(_box(drawing.boxes[step.position], lang, link) for step in drawing.steps)
    # Labels on top of everything they might touch.
    out.extend(_render_label(drawing, edge) for edge in drawing.edges if edge.label is not None)
    out.extend(pills)
    out.append(legend)
    out.append('</svg>')
    return "".join(out)


def _render_lanes(drawing: Layout) -> list[str]:
    out = [f'<text x="{MARGIN + 8}" y="{MARGIN + 16}" font-size="12" font-weight="bold" '
           f'fill="{MUTED}">{_esc(translate("diagram_lanes_" + drawing.lane_mode, drawing.lang))}'
           '</text>']
    w = out.append
    for i, lane_item in enumerate(drawing.lanes):
        y0 = drawing.top + lane_item.first_row * ROW_H
        h = lane_item.rows * ROW_H
        fill = "#f2f4f7" if i % 2 == 0 else "#ffffff"
        w(f'<g class="ketju-lane"><title>{_esc(lane_item.name)}'
          f'{_esc(" (" + lane_item.sub + ")") if lane_item.sub else ""}</title>')
        w(f'<rect x="{MARGIN}" y="{_n(y0)}" width="{_n(drawing.lanes_right - MARGIN)}" '
          f'height="{h}" fill="{fill}" stroke="#c8cfd8"/>')
        w(f'<rect x="{MARGIN}" y="{_n(y0)}" width="{LANE_HEAD_W}" height="{h}" fill="#e4e9ef" '
          'stroke="#c8cfd8"/>')
        name_lines = wrap(lane_item.name, 24, 3)
        sub_lines = wrap(lane_item.sub, 28, 2) if lane_item.sub else []
        block = len(name_lines) * 16 + len(sub_lines) * 14
        ty = y0 + h / 2 - block / 2 + 12
        lang_attr = (f' lang="{_esc(lane_item.name_lang)}"'
                     if lane_item.name_lang != drawing.lang else "")
        for line in name_lines:
            w(f'<text x="{MARGIN + 10}" y="{_n(ty)}" font-size="12.5" font-weight="bold" '
              f'fill="{INK}"{lang_attr}>{_esc(line)}</text>')
            ty += 16
        for line in sub_lines:
            w(f'<text x="{MARGIN + 10}" y="{_n(ty)}" font-size="11" fill="{MUTED}">'
              f'{_esc(line)}</text>')
            ty += 14
        w('</g>')
    return out


def _render_connectors(drawing: Layout, w: Callable[[str], None]) -> list[str]:
    """Parallel and alternative connectors (written behind the boxes by `w`); returns their
    pills, which go on top."""
    pills: list[str] = []
    lang = drawing.lang
    for groups, kind in ((drawing.parallel, "parallel"), (drawing.alternative, "alternative")):
        for members in groups.sets():
            members_boxes = sorted((drawing.boxes[p] for p in members),
                                   key=lambda b: (b.column, b.row))
            for a, b in pairwise(members_boxes):
                if a.column != b.column:
                    continue
                cx = a.x + BOX_W / 2 + (-18 if kind == "parallel" else 18)
                y1, y2 = a.y + BOX_H, b.y
                if kind == "parallel":
                    w(f'<path class="ketju-parallel" d="M{_n(cx - 2)} {_n(y1)}V{_n(y2)}'
                      f'M{_n(cx + 2)} {_n(y1)}V{_n(y2)}" stroke="{HANDOVER}" '
                      'stroke-width="1.2" fill="none"/>')
                    text = translate("diagram_parallel", lang)
                else:
                    w(f'<path class="ketju-alternative" d="M{_n(cx)} {_n(y1)}V{_n(y2)}" '
                      f'stroke="{HANDOVER}" stroke-width="1.5" stroke-dasharray="6 4" '
                      'fill="none"/>')
                    text = translate("diagram_or", lang)
                pw = _width(text, 11, True) + 14
                py = y1 + PAD
                pill_dash = ' stroke-dasharray="4 2"' if kind == "alternative" else ""
                pills.append(
                    f'<g class="ketju-{kind}-marker" data-between="{a.step.position} '
                    f'{b.step.position}"><rect x="{_n(cx - pw / 2)}" y="{_n(py - 9)}" '
                    f'width="{_n(pw)}" height="18" rx="9" fill="#ffffff" stroke="{HANDOVER}"'
                    f'{pill_dash}/>'
                    f'<text x="{_n(cx)}" y="{_n(py + 4)}" font-size="11" font-weight="bold" '
                    f'text-anchor="middle" fill="{INK}">{_esc(text)}</text></g>')
    return pills


def _render_edge(drawing: Layout, edge: _Edge) -> str:
    marker = "h" if edge.transition is not None else "f"
    colour, stroke = (HANDOVER, "1.6") if edge.transition is not None else (FOLLOWS, "1.1")
    classes = "ketju-handover" if edge.transition is not None else "ketju-follows"
    if edge.kind == "back":
        classes += " ketju-back"
        d = _back_path(edge, drawing.channel_top)
    else:
        d = edge.path or _curve(edge.points)
    title = edge.label.title if edge.label is not None else (
        f"{edge.source.step.position} → {edge.target.step.position}")
    return (f'<g class="{classes}" data-from="{edge.source.step.position}" '
            f'data-to="{edge.target.step.position}"><title>{_esc(title)}</title>'
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'marker-end="url(#{drawing.uid}-{marker})"/></g>')


def _render_label(drawing: Layout, edge: _Edge) -> str:
    label = edge.label
    assert label is not None
    head = (f'<g class="ketju-label" data-from="{edge.source.step.position}" '
            f'data-to="{edge.target.step.position}"><title>{_esc(label.title)}</title>')
    if edge.kind == "back":  # one line, in the channel below the lanes
        cy = drawing.channel_top + edge.track * BACK_TRACK
        text = " · ".join(line for line, _ in label.lines)
        lw = _width(text, LABEL_FONT) + 12
        cx = (edge.source.x + BOX_W + edge.target.x) / 2
        return (head + f'<rect x="{_n(cx - lw / 2)}" y="{_n(cy - 9)}" width="{_n(lw)}" '
                f'height="18" rx="3" fill="#ffffff" fill-opacity="0.95"/>'
                f'<text x="{_n(cx)}" y="{_n(cy + 4)}" font-size="{LABEL_FONT}" '
                f'text-anchor="middle" fill="{INK}">{_esc(text)}</text></g>')
    cx = label.cx
    out = [head, f'<rect x="{_n(cx - label.width / 2)}" y="{_n(label.top)}" '
           f'width="{_n(label.width)}" height="{_n(label.height)}" rx="3" fill="#ffffff" '
           'fill-opacity="0.95" stroke="#d0d5dc"/>']
    ly = label.top + 3 + 10
    for text, bold in label.lines:
        weight = ' font-weight="bold"' if bold else ""
        out.append(f'<text x="{_n(cx)}" y="{_n(ly)}" font-size="{LABEL_FONT}" '
                   f'text-anchor="middle" fill="{INK if bold else MUTED}"{weight}>'
                   f'{_esc(text)}</text>')
        ly += LABEL_LINE
    out.append('</g>')
    return "".join(out)


def _curve(points: list[tuple[float, float]]) -> str:
    """A path through `points`, horizontal at each of them (cubic curves in between)."""
    x0, y0 = points[0]
    parts = [f"M{_n(x0)} {_n(y0)}"]
    for x1, y1 in points[1:]:
        if abs(y1 - y0) < 0.05:
            parts.append(f"L{_n(x1)} {_n(y1)}")
        else:
            dx = (x1 - x0) / 2
            parts.append(f"C{_n(x0 + dx)} {_n(y0)} {_n(x1 - dx)} {_n(y1)} {_n(x1)} {_n(y1)}")
        x0, y0 = x1, y1
    return "".join(parts)


def _back_path(edge: _Edge, channel_top: float) -> str:
    """Out of the source to the right, along the channel under the lanes, into the target."""
    s, g = edge.source, edge.target
    k = edge.track
    r = 8.0
    sx, sy = s.x + BOX_W, s.mid + 14
    tx, ty = g.x, g.mid + 14
    xa = sx + edge.offset
    xb = tx - edge.offset
    cy = channel_top + k * BACK_TRACK
    return (f"M{_n(sx)} {_n(sy)}H{_n(xa - r)}Q{_n(xa)} {_n(sy)} {_n(xa)} {_n(sy + r)}"
            f"V{_n(cy - r)}Q{_n(xa)} {_n(cy)} {_n(xa - r)} {_n(cy)}H{_n(xb + r)}"
            f"Q{_n(xb)} {_n(cy)} {_n(xb)} {_n(cy - r)}V{_n(ty + r)}"
            f"Q{_n(xb)} {_n(ty)} {_n(xb + r)} {_n(ty)}H{_n(tx)}")


def _box(box: _Box, lang: str, link: Callable[[str], str | None]) -> str:
    step = box.step
    x, y = box.x, box.y
    band, band_text = _level_colours(step)
    level = _level_text(step, lang)
    name, name_lang = step.names.pick(lang)
    if not name:
        name, name_lang = step.service.names.pick(lang)
        name = name or step.service.label(lang)
    producer = step.producer.label(lang)
    details = [producer, level]
    if step.optional:
        details.append(translate("diagram_optional", lang))
    if step.maximum_duration:
        details.append(translate("diagram_max_duration", lang).format(
            duration=humanise_duration(step.maximum_duration, lang)))
    title = f"{step.position}. {name}\n" + " · ".join(details)
    href = safe_href(link(step.iri))
    dash = ""
    body = "#ffffff"
    if step.optional:
        dash, body = ' stroke-dasharray="2 3"', "#f0f0f0"
    elif step.alternative_to:
        dash = ' stroke-dasharray="7 4"'
    classes = "ketju-step" + (" ketju-optional" if step.optional else "") + (
        " ketju-alternative-step" if step.alternative_to else "") + (
        " ketju-parallel-step" if step.parallel_with else "")
    r = 6
    level_x = x + 8 + _width(str(step.position), 12, True) + 8
    level_chars = int((x + BOX_W - 6 - level_x) / (12 * 0.56))
    parts = [f'<rect x="{_n(x)}" y="{_n(y)}" width="{BOX_W}" height="{BOX_H}" rx="{r}" '
             f'fill="{body}"/>',
             f'<path d="M{_n(x)} {_n(y + BAND_H)}V{_n(y + r)}Q{_n(x)} {_n(y)} {_n(x + r)} {_n(y)}'
             f'H{_n(x + BOX_W - r)}Q{_n(x + BOX_W)} {_n(y)} {_n(x + BOX_W)} {_n(y + r)}'
             f'V{_n(y + BAND_H)}z" fill="{band}"/>',
             f'<text x="{_n(x + 8)}" y="{_n(y + 14.5)}" font-size="12" font-weight="bold" '
             f'fill="{band_text}">{step.position}</text>',
             f'<text class="ketju-level" x="{_n(level_x)}" y="{_n(y + 14.5)}" font-size="12" '
             f'fill="{band_text}">{_esc(_cut(level, level_chars))}</text>']
    lang_attr = f' lang="{_esc(name_lang)}"' if name_lang and name_lang != lang else ""
    ty = y + BAND_H + 18
    for line in wrap(name, NAME_CHARS, NAME_LINES):
        parts.append(f'<text class="kd-name" x="{_n(x + 8)}" y="{_n(ty)}" fill="{INK}"'
                     f'{lang_attr}>{_esc(line)}</text>')
        ty += 16
    if step.optional:
        parts.append(f'<text class="ketju-optional-text" x="{_n(x + 8)}" '
                     f'y="{_n(y + BOX_H - 8)}" font-size="11.5" font-style="italic" '
                     f'fill="{MUTED}">({_esc(translate("diagram_optional", lang))})</text>')
    parts.append(f'<rect class="kd-border" x="{_n(x)}" y="{_n(y)}" width="{BOX_W}" '
                 f'height="{BOX_H}" rx="{r}" fill="none" stroke="{HANDOVER}" '
                 f'stroke-width="1.5"{dash}/>')
    inner = f"<title>{_esc(title)}</title>" + "".join(parts)
    group = (f'<g class="{classes}" data-position="{step.position}" '
             f'data-column="{box.column}">')
    if href is not None:
        return f'{group}<a href="{_esc(href)}">{inner}</a></g>'
    return f"{group}{inner}</g>"


def _legend(uid: str, lang: str, steps: list[Step], shown: dict[str, bool], width: float,
            top: float) -> tuple[str, float]:
    """The key to the level colours (all of them) and to the line and border styles used.

    Returns the markup, wrapped to `width`, and its height.
    """
    t = translate
    out = ['<g class="ketju-legend" font-size="12">']
    x, y = float(MARGIN), top + 14
    line_h = 24

    def place(item_width: float) -> tuple[float, float]:
        nonlocal x, y
        if x + item_width > width - MARGIN and x > MARGIN:
            x, y = float(MARGIN), y + line_h
        at = (x, y)
        x += item_width + 18
        return at

    heading = t("diagram_legend_level", lang) + ":"
    hx, hy = place(_width(heading, 12, True))
    out.append(f'<text x="{_n(hx)}" y="{_n(hy)}" font-weight="bold" fill="{INK}">'
               f'{_esc(heading)}</text>')
    entries = [(LEVEL_COLOURS[r], LEVEL_TEXT[r], str(r), t(f"diagram_level_{r}", lang))
               for r in sorted(LEVEL_COLOURS)]
    if any(s.level_rank not in LEVEL_COLOURS for s in steps):
        entries.append((NO_LEVEL_COLOUR, NO_LEVEL_TEXT, "–", t("diagram_no_level", lang)))
    for colour, ink, mark, text in entries:
        ex, ey = place(26 + _width(text, 12))
        out.append(f'<rect x="{_n(ex)}" y="{_n(ey - 12)}" width="20" height="16" rx="3" '
                   f'fill="{colour}" stroke="#555555" stroke-width="0.5"/>'
                   f'<text x="{_n(ex + 10)}" y="{_n(ey)}" font-size="11" font-weight="bold" '
                   f'text-anchor="middle" fill="{ink}">{_esc(mark)}</text>'
                   f'<text x="{_n(ex + 26)}" y="{_n(ey)}" fill="{INK}">{_esc(text)}</text>')
    x, y = float(MARGIN), y + line_h + 4

    def symbol_item(symbol: Callable[[float, float], str], key: str) -> None:
        if not shown[key]:
            return
        text = t("diagram_legend_" + key, lang)
        sx, sy = place(46 + _width(text, 12))
        out.append(symbol(sx, sy))
        out.append(f'<text x="{_n(sx + 44)}" y="{_n(sy)}" fill="{INK}">{_esc(text)}</text>')

    symbol_item(lambda sx, sy: f'<path d="M{_n(sx)} {_n(sy - 4)}H{_n(sx + 36)}" '
                f'stroke="{HANDOVER}" stroke-width="1.6" marker-end="url(#{uid}-h)"/>',
                "handover")
    symbol_item(lambda sx, sy: f'<path d="M{_n(sx)} {_n(sy - 4)}H{_n(sx + 36)}" '
                f'stroke="{FOLLOWS}" stroke-width="1.1" marker-end="url(#{uid}-f)"/>',
                "follows")
    symbol_item(lambda sx, sy: f'<path d="M{_n(sx + 30)} {_n(sy - 12)}V{_n(sy + 3)}'
                f'H{_n(sx + 4)}V{_n(sy - 8)}H{_n(sx + 12)}" fill="none" stroke="{HANDOVER}" '
                f'stroke-width="1.4" marker-end="url(#{uid}-h)"/>', "back")
    symbol_item(lambda sx, sy: f'<rect x="{_n(sx)}" y="{_n(sy - 12)}" width="36" height="15" '
                f'rx="3" fill="#ffffff" stroke="{HANDOVER}" stroke-width="1.5" '
                'stroke-dasharray="7 4"/>', "alternative")
    symbol_item(lambda sx, sy: f'<path d="M{_n(sx + 16)} {_n(sy - 13)}V{_n(sy + 4)}'
                f'M{_n(sx + 20)} {_n(sy - 13)}V{_n(sy + 4)}" stroke="{HANDOVER}" '
                'stroke-width="1.2"/>', "parallel")
    symbol_item(lambda sx, sy: f'<rect x="{_n(sx)}" y="{_n(sy - 12)}" width="36" height="15" '
                f'rx="3" fill="#f0f0f0" stroke="{HANDOVER}" stroke-width="1.5" '
                'stroke-dasharray="2 3"/>', "optional")
    out.append('</g>')
    if not any(shown.values()):
        y -= line_h + 4
    return "".join(out), (y - top) + 10


def _describe(steps: list[Step], boxes: dict[int, _Box], edges: list[_Edge],
              parallel: _Groups, alternative: _Groups, lang: str) -> str:
    """The chain in words, for screen readers."""
    t = translate
    producers = {s.producer.iri for s in steps}
    if not steps:
        return t("diagram_no_steps", lang)
    sentences = [t("diagram_summary", lang).format(
        steps=len(steps), producers=len(producers),
        transitions=sum(1 for e in edges if e.transition is not None))]
    by_column: dict[int, list[Step]] = {}
    for step in steps:
        by_column.setdefault(boxes[step.position].column, []).append(step)

    def item(step: Step) -> str:
        facts = [step.producer.label(lang), _level_text(step, lang)]
        if step.optional:
            facts.append(t("diagram_optional", lang))
        return f"{step.position}. {step.label(lang)} ({', '.join(facts)})"

    columns = []
    for members in by_column.values():
        text = item(members[0])
        for a, b in pairwise(members):
            same_alt = alternative.find(a.position) == alternative.find(b.position)
            joiner = t("diagram_or", lang) if same_alt else t("diagram_and", lang)
            text += f" {joiner} {item(b)}"
        columns.append(text)
    sentences.append(t("diagram_sequence", lang).format(sequence=" → ".join(columns)))

    def listing(groups: list[list[int]], joiner: str) -> str:
        return "; ".join(
            ", ".join(str(p) for p in g[:-1]) + f" {joiner} {g[-1]}" for g in groups)

    if parallel.sets():
        sentences.append(t("diagram_parallel_list", lang).format(
            list=listing(parallel.sets(), t("diagram_and", lang))))
    if alternative.sets():
        sentences.append(t("diagram_alternative_list", lang).format(
            list=listing(alternative.sets(), t("diagram_or", lang))))
    optional = [str(s.position) for s in steps if s.optional]
    if optional:
        sentences.append(t("diagram_optional_list", lang).format(list=", ".join(optional)))
    back = [f"{e.source.step.position} → {e.target.step.position}"
            for e in edges if e.kind == "back"]
    if back:
        sentences.append(t("diagram_back_list", lang).format(list=", ".join(back)))
    return " ".join(sentences)


__all__ = ["Layout", "chain_svg", "contrast_ratio", "humanise_duration", "layout", "render",
           "safe_href", "wrap"]
