"""The server-side SVG line chart (ketju.web.chart): well-formed SVG with an accessible name
and description, points where the values say, a gap where a period has no value, the target
as a dashed line, series told apart without colour, and every text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from ketju.web.chart import (
    HEIGHT,
    ChartModel,
    ChartSeries,
    geometry,
    line_chart,
    nice_ticks,
    style_of,
)

SVG = "{http://www.w3.org/2000/svg}"
PERIODS = ("2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4")


def model(**changes: object) -> ChartModel:
    base: dict[str, object] = {
        "uid": "c", "title": "Kotona 120 vrk", "description": "Neljä neljännestä.",
        "periods": PERIODS,
        "series": (ChartSeries("Kaikki", (60.0, 65.0, None, 70.0)),
                   ChartSeries("Naiset", (62.0, 66.0, 68.0, 71.0))),
        "target": 75.0, "target_label": "Tavoite 75 %", "unit": "%"}
    base.update(changes)
    return ChartModel(**base)  # type: ignore[arg-type]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_the_chart_is_an_image_with_title_and_description() -> None:
    root = parse(line_chart(model()))
    assert root.tag == SVG + "svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(SVG + "title").text == "Kotona 120 vrk"  # type: ignore[union-attr]
    assert root.find(SVG + "desc").text == "Neljä neljännestä."  # type: ignore[union-attr]
    assert root.find(f".//{SVG}style") is None and not root.findall(".//*[@style]")


def test_points_sit_at_their_period_and_value() -> None:
    chart = model()
    g = geometry(chart)
    root = parse(line_chart(chart))
    # The first series is drawn with circles: one per observed period (none for the gap).
    circles = [c for c in root.iter(SVG + "circle")
               if c.get("fill") == style_of(0)[0]]
    legend_y = HEIGHT + 4
    points = [(float(c.get("cx", 0)), float(c.get("cy", 0))) for c in circles
              if float(c.get("cy", 0)) != legend_y]
    assert len(points) == 3
    expected = [(g.xs[i], g.y(v)) for i, v in ((0, 60.0), (1, 65.0), (3, 70.0))]
    for (x, y), (ex, ey) in zip(points, expected, strict=True):
        assert abs(x - ex) < 0.1 and abs(y - ey) < 0.1
    # Higher values are drawn higher (smaller y), and the axis covers the target.
    assert g.y(70) < g.y(60) and g.ticks[0] <= 60 and g.ticks[-1] >= 75


def test_a_missing_period_breaks_the_line() -> None:
    root = parse(line_chart(model()))
    colour = style_of(0)[0]
    lines = [p for p in root.iter(SVG + "polyline") if p.get("stroke") == colour]
    # 60, 65 | gap | 70: one line of two points; the lone point has a marker only.
    assert [len(p.get("points", "").split()) for p in lines] == [2]
    second = [p for p in root.iter(SVG + "polyline") if p.get("stroke") == style_of(1)[0]]
    assert [len(p.get("points", "").split()) for p in second] == [4]


def test_target_is_a_labelled_dashed_line() -> None:
    chart = model()
    g = geometry(chart)
    root = parse(line_chart(chart))
    dashed = [line for line in root.iter(SVG + "line")
              if line.get("stroke-dasharray") == "8 4"]
    target_y = f"{g.y(75.0):.1f}".rstrip("0").rstrip(".")
    assert any(line.get("y1") == line.get("y2") == target_y for line in dashed)
    assert sum(1 for t in root.iter(SVG + "text") if t.text == "Tavoite 75 %") == 2  # + legend


def test_series_differ_by_more_than_colour() -> None:
    styles = [style_of(i) for i in range(8)]
    assert len({dash for _, dash, _ in styles}) == 8
    assert len({marker for _, _, marker in styles}) == 8
    root = parse(line_chart(model()))
    second = [p for p in root.iter(SVG + "polyline") if p.get("stroke") == style_of(1)[0]]
    assert second[0].get("stroke-dasharray") == style_of(1)[1]
    assert root.findall(f".//{SVG}rect[@fill='{style_of(1)[0]}']"), "squares mark series 2"


def test_period_labels_are_thinned_when_many() -> None:
    periods = tuple(f"{y}-Q{q}" for y in range(2015, 2025) for q in range(1, 5))
    root = parse(line_chart(model(periods=periods, series=(
        ChartSeries("x", tuple(float(i) for i in range(40))),))))
    labels = [t for t in root.iter(SVG + "text") if t.text in periods]
    assert 4 <= len(labels) <= 12 and labels[-1].text == "2024-Q4"
    # Labels never overlap: each is at least its own width (7 characters) from the next.
    xs = [float(t.get("x", 0)) for t in labels]
    assert min(b - a for a, b in pairwise(xs)) >= 7 * 7


@pytest.mark.parametrize("hostile", ['<script>alert(1)</script>', '" onload="x', "a & b"])
def test_every_text_is_escaped(hostile: str) -> None:
    svg = line_chart(model(title=hostile, description=hostile, periods=(hostile, "b"),
                           series=(ChartSeries(hostile, (1.0, 2.0)),), target_label=hostile,
                           uid='x" onload="y'))
    root = parse(svg)  # still well-formed
    assert "<script" not in svg
    assert root.find(SVG + "title").text == hostile  # type: ignore[union-attr]
    assert all(not k.startswith("on") for e in root.iter() for k in e.attrib)


def test_an_empty_chart_says_so() -> None:
    root = parse(line_chart(model(series=(ChartSeries("x", (None,) * 4),), target=None,
                                  empty_text="Ei tietoa")))
    assert any(t.text == "Ei tietoa" for t in root.iter(SVG + "text"))
    assert not list(root.iter(SVG + "polyline"))


def test_ticks_are_round() -> None:
    assert nice_ticks(0, 100) == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert nice_ticks(1.2, 3.4) == [1.0, 2.0, 3.0, 4.0]
