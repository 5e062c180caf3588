"""A line chart drawn on the server as SVG (no JavaScript): `line_chart(ChartModel) -> str`.

One `<svg role="img">` with a `<title>` and a `<desc>` (its accessible name and description),
a value axis with round ticks, a period axis with the periods' labels (every n-th when they
are many), one line per series and, when given, the target as a dashed line with its label.
Series differ in colour AND in marker shape and dash pattern, so the chart reads without
colour (and in black-and-white print); the legend shows both. Everything is drawn with
presentation attributes (no `<style>`), so the site's Content-Security-Policy needs no hash.
The page puts the same numbers in a table next to the chart for screen readers and print.

Every text (titles, series names, period labels) is escaped here.

>>> svg = line_chart(ChartModel("c1", "Osuus", "Kuvaus", ("2023", "2024"),
...     (ChartSeries("A <b>", (70.0, 80.0)),), target=75.0, target_label="Tavoite 75"))
>>> svg.startswith('<svg') and 'role="img"' in svg and "A &lt;b&gt;" in svg
True
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from html import escape

#: The drawing's size (user units; the SVG scales to its container's width).
WIDTH, HEIGHT = 640, 300
#: The width of the drawing for phones, so its 12-unit text stays about 12 px on a
#: 360-400 px screen instead of shrinking to 7 (`responsive_chart` gives both).
NARROW_WIDTH = 360
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 16, 44
LEGEND_ROW = 20
FONT = "system-ui, sans-serif"
INK, MUTED, GRID = "#1a1a1a", "#4a4a4a", "#d5d9dd"
TARGET_COLOUR = "#8a3b00"
#: Okabe-Ito colours (distinguishable with the common colour vision deficiencies), darkened
#: where needed for 3:1 contrast against white.
COLOURS = ("#0b5cad", "#b35900", "#00795c", "#a8327a", "#5c4b00", "#2e6f9e", "#6b2fb3",
           "#4a4a4a")
#: Dash patterns per series (solid first), the second way apart from colour.
DASHES = ("", "6 3", "2 3", "8 3 2 3", "10 4", "4 2 1 2", "1 2", "12 2")
#: Marker shapes per series, the third way apart.
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "triangle-down", "plus", "bar")
MAX_PERIOD_LABELS = 12
#: Width of a character of the labels (12px system-ui digits), to thin period labels.
CHAR_W = 7
#: Characters of a series name in the legend before it is cut (the table has it whole).
LEGEND_CHARS = 48


@dataclass(frozen=True)
class ChartSeries:
    """One line: its name and one value (or None: no observation) per period of the chart."""

    label: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class ChartModel:
    """What a chart shows. `uid` makes the ids inside the SVG unique on the page."""

    uid: str
    title: str
    description: str
    periods: tuple[str, ...]
    series: tuple[ChartSeries, ...]
    unit: str = ""
    target: float | None = None
    target_label: str = ""
    #: The value axis's label (the unit in words) and the word for "no data" when empty.
    axis_label: str = ""
    empty_text: str = ""


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about `count` of them (steps of 1, 2 or 5
    times a power of ten).

    >>> nice_ticks(61.5, 83)
    [60.0, 70.0, 80.0, 90.0]
    >>> nice_ticks(0, 1)
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> nice_ticks(5, 5)
    [4.0, 4.5, 5.0, 5.5, 6.0]
    """
    if high < low:
        low, high = high, low
    if high == low:
        low, high = low - 1, high + 1
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(float(round(value, 10)))
        value += step
        if ticks[-1] >= high:
            break
    return ticks


def label_every(periods: int, most: int = MAX_PERIOD_LABELS) -> int:
    """Label every n-th period so at most `most` labels show.

    >>> label_every(12), label_every(13), label_every(40)
    (1, 2, 4)
    """
    return max(1, math.ceil(periods / most))


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tick_text(value: float) -> str:
    return f"{value:.10g}"


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    r = 4.0
    if shape == "circle":
        return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{colour}"/>'
    if shape == "square":
        return (f'<rect x="{_n(x - r)}" y="{_n(y - r)}" width="{_n(2 * r)}" height="{_n(2 * r)}"'
                f' fill="{colour}"/>')
    if shape in ("cross", "plus"):
        if shape == "cross":
            d = (f"M{_n(x - r)} {_n(y - r)}L{_n(x + r)} {_n(y + r)}"
                 f"M{_n(x - r)} {_n(y + r)}L{_n(x + r)} {_n(y - r)}")
        else:
            d = f"M{_n(x - r)} {_n(y)}H{_n(x + r)}M{_n(x)} {_n(y - r)}V{_n(y + r)}"
        return f'<path d="{d}" stroke="{colour}" stroke-width="2.5" fill="none"/>'
    points = {
        "triangle": ((x, y - r - 1), (x + r + 1, y + r), (x - r - 1, y + r)),
        "triangle-down": ((x, y + r + 1), (x + r + 1, y - r), (x - r - 1, y - r)),
        "diamond": ((x, y - r - 1), (x + r + 1, y), (x, y + r + 1), (x - r - 1, y)),
        "bar": ((x - r - 1, y - 2), (x + r + 1, y - 2), (x + r + 1, y + 2), (x - r - 1, y + 2)),
    }[shape]
    return (f'<polygon points="{" ".join(f"{_n(px)},{_n(py)}" for px, py in points)}"'
            f' fill="{colour}"/>')


def style_of(index: int) -> tuple[str, str, str]:
    """The colour, dash pattern and marker of the `index`-th series (cycling).

    >>> style_of(0), style_of(1)[1:], style_of(8) == style_of(0)
    (('#0b5cad', '', 'circle'), ('6 3', 'square'), True)
    """
    return (COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)],
            MARKERS[index % len(MARKERS)])


@dataclass(frozen=True)
class Geometry:
    """Where things go: the plot area, the value scale, the x of each period."""

    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    ticks: tuple[float, ...]
    xs: tuple[float, ...]
    height: float

    def y(self, value: float) -> float:
        low, high = self.ticks[0], self.ticks[-1]
        share = (value - low) / (high - low) if high != low else 0.5
        return self.plot_bottom - share * (self.plot_bottom - self.plot_top)


def geometry(model: ChartModel, width: int = WIDTH) -> Geometry:
    """The chart's geometry: a pure function of the model.

    >>> line = ChartSeries("s", (1.0, 2.0, None))
    >>> g = geometry(ChartModel("g", "t", "d", ("a", "b", "c"), (line,), target=4.0))
    >>> g.xs[0] == g.plot_left + (g.plot_right - g.plot_left) / 6, g.ticks[-1] >= 4
    (True, True)
    >>> g.y(g.ticks[0]) == g.plot_bottom and g.y(g.ticks[-1]) == g.plot_top
    True
    """
    values = [v for s in model.series for v in s.values if v is not None]
    if model.target is not None:
        values.append(model.target)
    ticks = nice_ticks(min(values), max(values)) if values else [0.0, 1.0]
    plot_bottom = HEIGHT - BOTTOM
    count = max(1, len(model.periods))
    band = (width - RIGHT - LEFT) / count
    xs = tuple(LEFT + band * (i + 0.5) for i in range(len(model.periods)))
    legend = LEGEND_ROW * len(model.series) + (LEGEND_ROW if model.target is not None else 0)
    return Geometry(LEFT, width - RIGHT, TOP, plot_bottom, tuple(ticks), xs,
                    HEIGHT + legend + 8)


def responsive_chart(model: ChartModel) -> str:
    """The chart drawn twice, wide and narrow, for the stylesheet to show one by the screen's
    width (the narrow one on phones, the wide one in print); the hidden one is out of the
    accessibility tree too, so a screen reader meets one chart.

    >>> html = responsive_chart(ChartModel("c", "t", "d", ("2024",), ()))
    >>> html.count('role="img"'), 'id="c-title"' in html, 'id="c-narrow-title"' in html
    (2, True, True)
    """
    narrow = dataclasses.replace(model, uid=model.uid + "-narrow")
    return (f'<div class="chart-wide">{line_chart(model)}</div>'
            f'<div class="chart-narrow">{line_chart(narrow, NARROW_WIDTH)}</div>')


def line_chart(model: ChartModel, width: int = WIDTH) -> str:
    """The chart as one `<svg>` element (see the module docstring), `width` units wide."""
    g = geometry(model, width)
    uid = escape(model.uid)
    out: list[str] = []
    w = out.append
    w(f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart"'
      f' viewBox="0 0 {width} {_n(g.height)}" width="{width}" height="{_n(g.height)}"'
      f' aria-labelledby="{uid}-title {uid}-desc" font-family="{FONT}" font-size="12">')
    w(f'<title id="{uid}-title">{escape(model.title)}</title>')
    w(f'<desc id="{uid}-desc">{escape(model.description)}</desc>')
    w(f'<rect x="0" y="0" width="{width}" height="{_n(g.height)}" fill="#ffffff"/>')
    # The value axis: grid lines and tick labels.
    for tick in g.ticks:
        y = g.y(tick)
        w(f'<line x1="{_n(g.plot_left)}" y1="{_n(y)}" x2="{_n(g.plot_right)}" y2="{_n(y)}"'
          f' stroke="{GRID}" stroke-width="1"/>')
        w(f'<text x="{_n(g.plot_left - 6)}" y="{_n(y + 4)}" text-anchor="end"'
          f' fill="{MUTED}">{escape(_tick_text(tick))}</text>')
    if model.axis_label:
        w(f'<text x="4" y="{_n(g.plot_top - 4 if g.plot_top > 12 else 12)}" fill="{MUTED}">'
          f'{escape(model.axis_label)}</text>')
    w(f'<line x1="{_n(g.plot_left)}" y1="{_n(g.plot_bottom)}" x2="{_n(g.plot_right)}"'
      f' y2="{_n(g.plot_bottom)}" stroke="{INK}" stroke-width="1"/>')
    # The period axis: every n-th label (as many as fit side by side), the latest always.
    longest = max((len(p) for p in model.periods), default=1)
    fits = max(2, int((g.plot_right - g.plot_left) // (longest * CHAR_W + 12)))
    every = label_every(len(model.periods), min(MAX_PERIOD_LABELS, fits))
    for i, (period, x) in enumerate(zip(model.periods, g.xs, strict=True)):
        w(f'<line x1="{_n(x)}" y1="{_n(g.plot_bottom)}" x2="{_n(x)}" y2="{_n(g.plot_bottom + 4)}"'
          f' stroke="{INK}" stroke-width="1"/>')
        if (len(model.periods) - 1 - i) % every == 0:
            w(f'<text x="{_n(x)}" y="{_n(g.plot_bottom + 18)}" text-anchor="middle"'
              f' fill="{INK}">{escape(period)}</text>')
    if not any(v is not None for s in model.series for v in s.values):
        w(f'<text x="{_n((g.plot_left + g.plot_right) / 2)}"'
          f' y="{_n((g.plot_top + g.plot_bottom) / 2)}" text-anchor="middle" fill="{MUTED}">'
          f'{escape(model.empty_text)}</text>')
    # The target line, dashed, with its label above it at the right.
    if model.target is not None:
        y = g.y(model.target)
        w(f'<line x1="{_n(g.plot_left)}" y1="{_n(y)}" x2="{_n(g.plot_right)}" y2="{_n(y)}"'
          f' stroke="{TARGET_COLOUR}" stroke-width="2" stroke-dasharray="8 4"/>')
        # At the left, where a rising or falling line is least likely to be.
        w(f'<text x="{_n(g.plot_left + 4)}" y="{_n(y - 5)}" text-anchor="start"'
          f' fill="{TARGET_COLOUR}" font-weight="bold">{escape(model.target_label)}</text>')
    # The series: a line through the observed periods (a gap where one is missing).
    for index, series in enumerate(model.series):
        colour, dash, marker = style_of(index)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        runs: list[list[tuple[float, float]]] = [[]]
        for x, value in zip(g.xs, series.values, strict=False):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((x, g.y(value)))
        for run in runs:
            if len(run) >= 2:
                points = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                w(f'<polyline points="{points}" fill="none" stroke="{colour}"'
                  f' stroke-width="2"{dash_attr}/>')
        for run in runs:
            for x, y in run:
                w(_marker(marker, x, y, colour))
    # The legend: marker and line sample, then the name.
    y = HEIGHT + 4
    for index, series in enumerate(model.series):
        colour, dash, marker = style_of(index)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        w(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + 36}" y2="{y}" stroke="{colour}"'
          f' stroke-width="2"{dash_attr}/>')
        w(_marker(marker, LEFT + 18, y, colour))
        most = (width - LEFT - 44) // CHAR_W if width < WIDTH else LEGEND_CHARS
        label = series.label if len(series.label) <= most else series.label[:most - 1] + "…"
        w(f'<text x="{LEFT + 44}" y="{y + 4}" fill="{INK}">{escape(label)}</text>')
        y += LEGEND_ROW
    if model.target is not None:
        w(f'<line x1="{LEFT}" y1="{y}" x2="{LEFT + 36}" y2="{y}" stroke="{TARGET_COLOUR}"'
          f' stroke-width="2" stroke-dasharray="8 4"/>')
        w(f'<text x="{LEFT + 44}" y="{y + 4}" fill="{INK}">{escape(model.target_label)}</text>')
    w("</svg>")
    return "".join(out)


__all__ = ["ChartModel", "ChartSeries", "geometry", "line_chart", "nice_ticks",
           "responsive_chart", "style_of"]
