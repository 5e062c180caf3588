"""The drawing as SVG: `render(Layout) -> str`, one self-contained `<svg>` element (no
script, no external resources); every text from contributed data is escaped."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from ketju.domain.chains import Step
from ketju.web.diagram.layout import (
    BACK_TRACK,
    BAND_H,
    BOX_H,
    BOX_W,
    FOLLOWS,
    FONT,
    HANDOVER,
    INK,
    LANE_HEAD_W,
    LEVEL_COLOURS,
    LEVEL_TEXT,
    MARGIN,
    MARKER_R,
    MUTED,
    NAME_CHARS,
    NAME_LINES,
    NO_LEVEL_COLOUR,
    NO_LEVEL_TEXT,
    PAD,
    ROW_H,
    Handover,
    Layout,
    _Box,
    _cut,
    _Edge,
    _esc,
    _Groups,
    _level_colours,
    _level_text,
    _n,
    _width,
    humanise_duration,
    no_link,
    safe_href,
    wrap,
)
from ketju.web.i18n import translate

# ---------------------------------------------------------------------------------------------
# Rendering: geometry -> SVG
# ---------------------------------------------------------------------------------------------

def render(drawing: Layout, link: Callable[[str], str | None] = no_link, *,
           listed: bool = False) -> str:
    """The drawing as one `<svg>` element; `listed` adds the hand-overs in words under the
    legend (for the drawing on its own, without the page's list)."""
    uid, lang = drawing.uid, drawing.lang
    legend, legend_height = _legend(uid, lang, drawing.steps, drawing.shown,
                                    drawing.width_guess, drawing.legend_top)
    listing, listing_height = handover_list(
        drawing.handovers, drawing.width, drawing.legend_top + legend_height,
        lang) if listed else ("", 0)
    width = drawing.width
    height = drawing.legend_top + legend_height + listing_height + MARGIN
    out: list[str] = []
    w = out.append
    w(f'<svg xmlns="http://www.w3.org/2000/svg" id="{uid}" class="ketju-diagram" role="img" '
      f'aria-labelledby="{uid}-t {uid}-d" lang="{lang}" viewBox="0 0 {_n(width)} {_n(height)}" '
      f'width="{_n(width)}" height="{_n(height)}" font-family="{FONT}" font-size="13">')
    w(f'<title id="{uid}-t">'
      f'{_esc(translate("diagram_title", lang).format(name=drawing.title))}</title>')
    summary = _describe(drawing.steps, drawing.boxes, drawing.edges, drawing.parallel,
                        drawing.alternative, lang)
    if drawing.draft:
        summary = translate("draft_title", lang) + ". " + summary
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
    out.append(listing)
    out.append('</svg>')
    return "".join(out)


def _render_lanes(drawing: Layout) -> list[str]:
    out = [f'<text x="{MARGIN + 8}" y="{MARGIN + 16}" font-size="12" font-weight="bold" '
           f'fill="{MUTED}">{_esc(translate("diagram_lanes_" + drawing.lane_mode, drawing.lang))}'
           '</text>']
    w = out.append
    if drawing.draft:
        w(draft_mark(drawing.lang, drawing.lanes_right, MARGIN - 2))
    for i, lane_item in enumerate(drawing.lanes):
        y0 = drawing.top + lane_item.first_row * ROW_H
        h = lane_item.rows * ROW_H
        fill = "#f2f4f7" if i % 2 == 0 else "#ffffff"
        classes = "ketju-lane" + (" ketju-placeholder-lane" if lane_item.placeholder else "")
        w(f'<g class="{classes}"><title>{_esc(lane_item.name)}'
          f'{_esc(" (" + lane_item.sub + ")") if lane_item.sub else ""}</title>')
        w(f'<rect x="{MARGIN}" y="{_n(y0)}" width="{_n(drawing.lanes_right - MARGIN)}" '
          f'height="{h}" fill="{fill}" stroke="#c8cfd8"/>')
        head = ('fill="#fff4e5" stroke="#8a3b00" stroke-dasharray="5 3"'
                if lane_item.placeholder else 'fill="#e4e9ef" stroke="#c8cfd8"')
        w(f'<rect x="{MARGIN}" y="{_n(y0)}" width="{LANE_HEAD_W}" height="{h}" {head}/>')
        sub_lines = wrap(lane_item.sub, 28, 2) if lane_item.sub else []
        # As many lines of the name as the lane has room for (placeholders' names are long
        # and differ only at their end).
        name_lines = wrap(lane_item.name, 24, max(3, int((h - 16 - 14 * len(sub_lines)) // 16)))
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
    """The hand-over's numbered marker on its arrow (in the channel below the lanes for a
    back edge)."""
    label = edge.label
    assert label is not None
    if edge.kind == "back":
        cx = (edge.source.x + BOX_W + edge.target.x) / 2
        cy = drawing.channel_top + edge.track * BACK_TRACK
    else:
        cx, cy = label.cx, label.top + label.height / 2
    return marker(edge.source.step.position, edge.target.step.position, label.number,
                  label.title, cx, cy)


def draft_mark(lang: str, right: float, top: float) -> str:
    """"Draft: the description is not complete", right-aligned at `right`, in a dashed frame
    (a printed or downloaded drawing of a draft says so)."""
    text = translate("draft_title", lang)
    width = _width(text, 12.5, True) + 22
    return (f'<g class="ketju-draft-mark"><rect x="{_n(right - width)}" y="{_n(top)}" '
            f'width="{_n(width)}" height="22" rx="3" fill="#fff4e5" stroke="#8a3b00" '
            f'stroke-width="1.5" stroke-dasharray="5 3"/><text x="{_n(right - 8)}" '
            f'y="{_n(top + 15.5)}" font-size="12" font-weight="bold" text-anchor="end" '
            f'fill="#5c2600">{_esc(text)}</text></g>')


def marker(source: int, target: int, number: int, title: str, cx: float, cy: float) -> str:
    """A numbered marker centred on (cx, cy): a white disc with a dark ring and the number."""
    text = str(number)
    size = 11 if len(text) < 3 else 9
    return (f'<g class="ketju-label ketju-marker" data-from="{source}" data-to="{target}" '
            f'data-number="{number}"><title>{_esc(title)}</title>'
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="{MARKER_R}" fill="#ffffff" '
            f'stroke="{HANDOVER}" stroke-width="1.6"/>'
            f'<text x="{_n(cx)}" y="{_n(cy + size * 0.36)}" font-size="{size}" '
            f'font-weight="bold" text-anchor="middle" fill="{INK}">{text}</text></g>')


def handover_list(handovers: list[Handover], width: float, top: float,
                  lang: str) -> tuple[str, float]:
    """The hand-overs in words under the legend, numbered as their markers (for the drawing
    on its own, downloaded: on the page the list is HTML under the drawing). Lines are
    wrapped to `width`, never cut. Returns the markup and its height."""
    if not handovers:
        return "", 0
    chars = max(20, int((width - 2 * MARGIN - 30) / (12 * 0.56)))
    out = ['<g class="ketju-handover-list" font-size="12">',
           f'<text x="{MARGIN}" y="{_n(top + 14)}" font-weight="bold" fill="{INK}">'
           f'{_esc(translate("diagram_handovers", lang))}</text>']
    y = top + 14 + 22
    for handover in handovers:
        out.append(f'<text x="{MARGIN + 18}" y="{_n(y)}" font-weight="bold" '
                   f'text-anchor="end" fill="{INK}">{handover.number}.</text>')
        for line in wrap(handover.text, chars, 1000):
            out.append(f'<text x="{MARGIN + 26}" y="{_n(y)}" fill="{INK}">{_esc(line)}</text>')
            y += 16
        y += 4
    out.append('</g>')
    return "".join(out), y - top


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

    def symbol_item(symbol: Callable[[float, float], str], key: str,
                    text_key: str | None = None) -> None:
        if not shown[key]:
            return
        text = t("diagram_legend_" + (text_key or key), lang)
        sx, sy = place(46 + _width(text, 12))
        out.append(symbol(sx, sy))
        out.append(f'<text x="{_n(sx + 44)}" y="{_n(sy)}" fill="{INK}">{_esc(text)}</text>')

    symbol_item(lambda sx, sy: f'<path d="M{_n(sx)} {_n(sy - 4)}H{_n(sx + 36)}" '
                f'stroke="{HANDOVER}" stroke-width="1.6" marker-end="url(#{uid}-h)"/>'
                f'<circle cx="{_n(sx + 15)}" cy="{_n(sy - 4)}" r="7" fill="#ffffff" '
                f'stroke="{HANDOVER}" stroke-width="1.4"/>'
                f'<text x="{_n(sx + 15)}" y="{_n(sy - 0.8)}" font-size="9" font-weight="bold" '
                f'text-anchor="middle" fill="{INK}">1</text>', "handover", "numbered")
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
