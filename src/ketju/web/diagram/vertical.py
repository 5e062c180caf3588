"""The chain drawn top to bottom for narrow screens (`vertical_svg`), 360 units wide.

The same chain as the swimlane drawing, read like a list: one full-width box per step, in
the order of the columns (steps joined by `parallelWith` or `alternativeTo` follow each
other, joined by the same connectors and pills as in the wide drawing: a double line and
"in parallel", a dashed line and "or"). The producer is written in the box, since there are
no lanes. A hand-over to the next box is a short arrow down; one that skips boxes runs in the
gutter on the right, a return to an earlier step in the gutter on the left (one track each,
shared by hand-overs whose spans do not meet, the shortest nearest the boxes so the longer go
round them). Every hand-over carries the numbered marker of the wide drawing (`Handover`),
so the list under the drawings serves both.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

from ketju.core.languages import DEFAULT, LANGUAGES
from ketju.domain.chains import Chain, Step, draft_status, is_placeholder
from ketju.web.diagram.layout import (
    BAND_H,
    FOLLOWS,
    FONT,
    HANDOVER,
    INK,
    MARKER_BOX,
    MUTED,
    Handover,
    _Box,
    _columns,
    _Edge,
    _esc,
    _Groups,
    _level_colours,
    _level_text,
    _n,
    _unique_steps,
    _width,
    handovers,
    humanise_duration,
    no_link,
    safe_href,
    wrap,
)
from ketju.web.diagram.render import _describe, _legend, draft_mark, marker
from ketju.web.i18n import translate

#: Width of the drawing (user units = CSS px at 100 %): fits a 390 px phone with its margins.
NARROW_WIDTH = 360
MARGIN = 6
GAP = 40
GROUP_GAP = 34
TRACK = 12
TRACK_START = 16
ATTACH = 9
#: Room at the top of a draft's drawing for the draft mark.
DRAFT_H = 30


@dataclass
class _VBox:
    step: Step
    index: int
    column: int
    y: float = 0
    height: float = 0
    name_lines: list[str] = field(default_factory=list)
    producer_lines: list[str] = field(default_factory=list)
    extra: str = ""

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass
class _VEdge:
    source: _VBox
    target: _VBox
    handover: Handover | None
    side: str = "down"  # down (next box), right (skips boxes), left (back)
    track: int = 0
    out_y: float = 0
    in_y: float = 0
    marker_y: float = 0
    x: float = 0


def vertical_svg(chain: Chain, lang: str, link: Callable[[str], str | None] = no_link,
                 listed: list[Handover] | None = None) -> str:
    """The chain top to bottom as one `<svg>` element, `NARROW_WIDTH` units wide; `listed`
    are the numbered hand-overs (`handovers(chain, lang)` when not given)."""
    lang = lang if lang in LANGUAGES else DEFAULT
    if listed is None:
        listed = handovers(chain, lang)
    uid = "kd-" + hashlib.sha256(chain.iri.encode("utf-8")).hexdigest()[:10] + "-n"
    steps = _unique_steps(chain)
    column, _, parallel, alternative = _columns(steps)
    order = sorted(steps, key=lambda s: (column[s.position], s.position))
    boxes = {s.position: _VBox(s, i, column[s.position]) for i, s in enumerate(order)}
    edges = _vedges(chain, steps, boxes, listed)
    left_tracks = _tracks([e for e in edges if e.side == "left"])
    right_tracks = _tracks([e for e in edges if e.side == "right"])
    left_w = TRACK_START + TRACK * left_tracks if left_tracks else 0
    right_w = TRACK_START + TRACK * right_tracks if right_tracks else 0
    x0 = MARGIN + left_w
    box_w = NARROW_WIDTH - 2 * MARGIN - left_w - right_w
    _size_boxes(list(boxes.values()), box_w, lang)
    draft = draft_status(chain) is not None
    y = float(MARGIN) + (DRAFT_H if draft else 0)
    previous: _VBox | None = None
    for box in (boxes[s.position] for s in order):
        if previous is not None:
            same = previous.column == box.column
            y += GROUP_GAP if same else GAP
        box.y = y
        y += box.height
        previous = box
    lanes_bottom = y
    _attach(edges, x0, box_w)
    out: list[str] = [draft_mark(lang, NARROW_WIDTH - MARGIN, MARGIN)] if draft else []
    w = out.append
    for edge in edges:
        w(_vedge(uid, edge, x0, box_w))
    connectors, pills = _connectors(order, boxes, column, parallel, alternative, x0, lang)
    out.extend(connectors)
    out.extend(_vbox(box, x0, box_w, lang, link) for box in (boxes[s.position] for s in order))
    out.extend(pills)
    for edge in edges:
        if edge.handover is not None:
            h = edge.handover
            out.append(marker(h.from_position, h.to_position, h.number, h.marker_title,
                              edge.x, edge.marker_y))
    shown = {"handover": any(e.handover is not None for e in edges),
             "follows": any(e.handover is None for e in edges),
             "back": any(e.side == "left" for e in edges),
             "alternative": bool(alternative.sets()),
             "parallel": bool(parallel.sets()),
             "optional": any(s.optional for s in steps)}
    legend, legend_height = _legend(uid, lang, steps, shown, NARROW_WIDTH, lanes_bottom + 12)
    height = lanes_bottom + 12 + legend_height + MARGIN
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" id="{uid}" '
            f'class="ketju-diagram ketju-diagram-narrow" role="img" '
            f'aria-labelledby="{uid}-t {uid}-d" lang="{lang}" '
            f'viewBox="0 0 {NARROW_WIDTH} {_n(height)}" width="{NARROW_WIDTH}" '
            f'height="{_n(height)}" font-family="{FONT}" font-size="13">')
    title = translate("diagram_title", lang).format(name=chain.label(lang))
    transitions = {t.iri: t for t in chain.transitions}
    described = _describe(steps, {p: _Box(b.step, b.column, 0) for p, b in boxes.items()},
                          [_Edge(_Box(e.source.step, e.source.column, 0),
                                 _Box(e.target.step, e.target.column, 0),
                                 None if e.handover is None else transitions[e.handover.iri],
                                 kind="back" if e.side == "left" else "forward")
                           for e in edges], parallel, alternative, lang)
    if draft:
        described = translate("draft_title", lang) + ". " + described
    return "".join([
        head, f'<title id="{uid}-t">{_esc(title)}</title>',
        f'<desc id="{uid}-d">{_esc(described)}</desc>',
        f'<style>#{uid} a:focus-visible .kd-border,#{uid} a:hover .kd-border'
        '{stroke:#000;stroke-width:3}</style>',
        '<defs>',
        *(f'<marker id="{uid}-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
          'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
          f'<path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>'
          for name, colour in (("h", HANDOVER), ("f", FOLLOWS))),
        '</defs>', *out, legend, '</svg>'])


def _vedges(chain: Chain, steps: list[Step], boxes: dict[int, _VBox],
            listed: list[Handover]) -> list[_VEdge]:
    """The numbered hand-overs, then followedBy relations without one; each down to the next
    box, along the right gutter (skipping boxes) or the left one (back)."""
    edges = [_VEdge(boxes[h.from_position], boxes[h.to_position], h) for h in listed]
    described = {(h.from_position, h.to_position) for h in listed}
    for step in steps:
        for nxt in sorted(set(step.followed_by)):
            if nxt in boxes and nxt != step.position and (step.position, nxt) not in described:
                edges.append(_VEdge(boxes[step.position], boxes[nxt], None))
    for edge in edges:
        delta = edge.target.index - edge.source.index
        edge.side = "down" if delta == 1 else "right" if delta > 1 else "left"
    return edges


def _tracks(edges: list[_VEdge]) -> int:
    """Tracks of one gutter, shortest spans nearest the boxes (so longer ones go round them
    instead of crossing): an edge takes the first track where no edge's span of boxes overlaps
    its own (sharing an end box is fine: one leaves at its bottom, the other comes in at its
    top). Returns how many tracks are used."""
    taken: list[list[tuple[int, int]]] = []

    def span(edge: _VEdge) -> tuple[int, int]:
        return (min(edge.source.index, edge.target.index),
                max(edge.source.index, edge.target.index))

    for edge in sorted(edges, key=lambda e: (span(e)[1] - span(e)[0], span(e))):
        low, high = span(edge)
        for track, spans in enumerate(taken):
            if all(high <= a or b <= low for a, b in spans):
                edge.track = track
                spans.append((low, high))
                break
        else:
            edge.track = len(taken)
            taken.append([(low, high)])
    return len(taken)


def _size_boxes(boxes: list[_VBox], box_w: float, lang: str) -> None:
    """Each box's texts (wrapped to its width) and its height, which follows from them."""
    for box in boxes:
        box.name_lines, box.producer_lines, box.extra = _box_texts(box.step, box_w, lang)
        box.height = (BAND_H + 8 + 16 * len(box.name_lines) + 1 + 14 * len(box.producer_lines)
                      + (14 if box.extra else 0) + 6)


def _box_texts(step: Step, box_w: float, lang: str) -> tuple[list[str], list[str], str]:
    name = step.label(lang)
    name_chars = max(12, int((box_w - 16) / (13 * 0.56)))
    small_chars = max(12, int((box_w - 16) / (11.5 * 0.56)))
    producer = step.producer.label(lang)
    extras = []
    if step.optional:
        extras.append(f'({translate("diagram_optional", lang)})')
    if step.maximum_duration:
        extras.append(translate("diagram_max_duration", lang).format(
            duration=humanise_duration(step.maximum_duration, lang)))
    return wrap(name, name_chars, 4), wrap(producer, small_chars, 3), " · ".join(extras)


def _attach(edges: list[_VEdge], x0: float, box_w: float) -> None:
    """Where each edge leaves and enters its boxes, its x and its marker's y; markers of one
    gutter are pushed apart so they never overlap."""
    leaving: dict[tuple[int, str], int] = {}
    entering: dict[tuple[int, str], int] = {}
    for edge in sorted(edges, key=lambda e: (e.side, e.track)):
        s, g = edge.source, edge.target
        if edge.side == "down":
            edge.x = x0 + box_w / 2
            edge.out_y, edge.in_y = s.bottom, g.y
            edge.marker_y = (s.bottom + g.y) / 2
            continue
        k = leaving.get((s.index, edge.side), 0)
        leaving[(s.index, edge.side)] = k + 1
        j = entering.get((g.index, edge.side), 0)
        entering[(g.index, edge.side)] = j + 1
        if edge.side == "right":
            edge.x = x0 + box_w + TRACK_START + TRACK * edge.track - TRACK / 2
            edge.out_y = s.bottom - ATTACH - 6 * k
            edge.in_y = g.y + ATTACH + 6 * j
        else:
            edge.x = x0 - TRACK_START - TRACK * edge.track + TRACK / 2
            edge.out_y = s.y + ATTACH + 6 * k
            edge.in_y = g.bottom - ATTACH - 6 * j
        edge.marker_y = (edge.out_y + edge.in_y) / 2
    for side in ("left", "right"):
        placed = sorted((e for e in edges if e.side == side and e.handover is not None),
                        key=lambda e: e.marker_y)
        previous = -1e9
        for edge in placed:
            edge.marker_y = max(edge.marker_y, previous + MARKER_BOX)
            previous = edge.marker_y


def _vedge(uid: str, edge: _VEdge, x0: float, box_w: float) -> str:
    colour, stroke, mark = (HANDOVER, "1.6", "h") if edge.handover is not None else (
        FOLLOWS, "1.1", "f")
    classes = "ketju-handover" if edge.handover is not None else "ketju-follows"
    if edge.side == "left":
        classes += " ketju-back"
    r = 5.0
    if edge.side == "down":
        d = f"M{_n(edge.x)} {_n(edge.out_y)}V{_n(edge.in_y)}"
    else:
        bx = x0 + box_w if edge.side == "right" else x0
        sign = 1 if edge.side == "right" else -1
        down = 1 if edge.in_y > edge.out_y else -1
        x = edge.x
        d = (f"M{_n(bx)} {_n(edge.out_y)}H{_n(x - sign * r)}"
             f"Q{_n(x)} {_n(edge.out_y)} {_n(x)} {_n(edge.out_y + down * r)}"
             f"V{_n(edge.in_y - down * r)}Q{_n(x)} {_n(edge.in_y)} {_n(x - sign * r)} "
             f"{_n(edge.in_y)}H{_n(bx)}")
    title = (edge.handover.text if edge.handover is not None
             else f"{edge.source.step.position} → {edge.target.step.position}")
    return (f'<g class="{classes}" data-from="{edge.source.step.position}" '
            f'data-to="{edge.target.step.position}"><title>{_esc(title)}</title>'
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{stroke}" '
            f'marker-end="url(#{uid}-{mark})"/></g>')


def _connectors(order: list[Step], boxes: dict[int, _VBox], column: dict[int, int],
                parallel: _Groups, alternative: _Groups, x0: float,
                lang: str) -> tuple[list[str], list[str]]:
    """Between consecutive boxes of one parallel or alternative group: the connector (double
    line or dashed) and its pill ("in parallel" / "or"), left of the arrows."""
    lines: list[str] = []
    pills: list[str] = []
    for a_step, b_step in pairwise(order):
        if column[a_step.position] != column[b_step.position]:
            continue
        a, b = boxes[a_step.position], boxes[b_step.position]
        same_alt = alternative.find(a_step.position) == alternative.find(b_step.position)
        kind = "alternative" if same_alt else "parallel"
        cx = x0 + 48
        y1, y2 = a.bottom, b.y
        if kind == "parallel":
            lines.append(f'<path class="ketju-parallel" d="M{_n(cx - 2)} {_n(y1)}V{_n(y2)}'
                         f'M{_n(cx + 2)} {_n(y1)}V{_n(y2)}" stroke="{HANDOVER}" '
                         'stroke-width="1.2" fill="none"/>')
            text = translate("diagram_parallel", lang)
        else:
            lines.append(f'<path class="ketju-alternative" d="M{_n(cx)} {_n(y1)}V{_n(y2)}" '
                         f'stroke="{HANDOVER}" stroke-width="1.5" stroke-dasharray="6 4" '
                         'fill="none"/>')
            text = translate("diagram_or", lang)
        pw = _width(text, 11, True) + 14
        py = (y1 + y2) / 2
        dash = ' stroke-dasharray="4 2"' if kind == "alternative" else ""
        pills.append(
            f'<g class="ketju-{kind}-marker" data-between="{a_step.position} '
            f'{b_step.position}"><rect x="{_n(cx - pw / 2)}" y="{_n(py - 9)}" '
            f'width="{_n(pw)}" height="18" rx="9" fill="#ffffff" stroke="{HANDOVER}"{dash}/>'
            f'<text x="{_n(cx)}" y="{_n(py + 4)}" font-size="11" font-weight="bold" '
            f'text-anchor="middle" fill="{INK}">{_esc(text)}</text></g>')
    return lines, pills


def _vbox(box: _VBox, x: float, box_w: float, lang: str,
          link: Callable[[str], str | None]) -> str:
    step = box.step
    y = box.y
    band, band_text = _level_colours(step)
    level = _level_text(step, lang)
    name, name_lang = step.names.pick(lang)
    if not name:
        name_lang = step.service.names.pick(lang)[1]
    details = [step.producer.label(lang), level]
    if box.extra:
        details.append(box.extra)
    classes_extra = " ketju-placeholder-producer" if is_placeholder(step.producer) else ""
    title = f"{step.position}. {step.label(lang)}\n" + " · ".join(details)
    dash, body = "", "#ffffff"
    if step.optional:
        dash, body = ' stroke-dasharray="2 3"', "#f0f0f0"
    elif step.alternative_to:
        dash = ' stroke-dasharray="7 4"'
    classes = "ketju-step" + (" ketju-optional" if step.optional else "") + (
        " ketju-alternative-step" if step.alternative_to else "") + (
        " ketju-parallel-step" if step.parallel_with else "") + classes_extra
    r = 6
    h = box.height
    level_x = x + 8 + _width(str(step.position), 12, True) + 8
    parts = [f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(box_w)}" height="{_n(h)}" rx="{r}" '
             f'fill="{body}"/>',
             f'<path d="M{_n(x)} {_n(y + BAND_H)}V{_n(y + r)}Q{_n(x)} {_n(y)} {_n(x + r)} '
             f'{_n(y)}H{_n(x + box_w - r)}Q{_n(x + box_w)} {_n(y)} {_n(x + box_w)} '
             f'{_n(y + r)}V{_n(y + BAND_H)}z" fill="{band}"/>',
             f'<text x="{_n(x + 8)}" y="{_n(y + 14.5)}" font-size="12" font-weight="bold" '
             f'fill="{band_text}">{step.position}</text>',
             f'<text class="ketju-level" x="{_n(level_x)}" y="{_n(y + 14.5)}" font-size="12" '
             f'fill="{band_text}">{_esc(level)}</text>']
    lang_attr = f' lang="{_esc(name_lang)}"' if name_lang and name_lang != lang else ""
    ty = y + BAND_H + 18
    for line in box.name_lines:
        parts.append(f'<text class="kd-name" x="{_n(x + 8)}" y="{_n(ty)}" fill="{INK}"'
                     f'{lang_attr}>{_esc(line)}</text>')
        ty += 16
    ty += 1
    for line in box.producer_lines:
        parts.append(f'<text class="kd-producer" x="{_n(x + 8)}" y="{_n(ty)}" font-size="11.5" '
                     f'fill="{MUTED}">{_esc(line)}</text>')
        ty += 14
    if box.extra:
        style = ' font-style="italic"' if step.optional else ""
        parts.append(f'<text class="ketju-optional-text" x="{_n(x + 8)}" y="{_n(ty)}" '
                     f'font-size="11.5"{style} fill="{MUTED}">{_esc(box.extra)}</text>')
    parts.append(f'<rect class="kd-border" x="{_n(x)}" y="{_n(y)}" width="{_n(box_w)}" '
                 f'height="{_n(h)}" rx="{r}" fill="none" stroke="{HANDOVER}" '
                 f'stroke-width="1.5"{dash}/>')
    inner = f"<title>{_esc(title)}</title>" + "".join(parts)
    group = f'<g class="{classes}" data-position="{step.position}" data-column="{box.column}">'
    href = safe_href(link(step.iri))
    if href is not None:
        return f'{group}<a href="{_esc(href)}">{inner}</a></g>'
    return f"{group}{inner}</g>"
