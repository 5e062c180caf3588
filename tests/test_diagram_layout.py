"""The diagram's layout as a pure function: a chain in, geometry out (no SVG). Every chain of
data/ is laid out and the geometry checked for what a reader relies on: steps left to right
in order, one lane per producer (or sector), parallel and alternative steps in one column,
no two boxes or two labels of one gap on top of each other."""

from __future__ import annotations

from itertools import combinations, pairwise

import pytest

from ketju.core.project import Project
from ketju.domain.chains import Chain, load_chain
from ketju.infra.snapshot import SnapshotSource
from ketju.web.diagram import BOX_H, BOX_W, Layout, chain_svg, layout, render

TYPES = ("PREFIX ketju: <https://w3id.org/ketju/ontology#> "
         "SELECT ?c WHERE { ?c a ketju:ServiceChain }")


@pytest.fixture(scope="module")
def chains(built_project: Project) -> list[Chain]:
    snapshot = SnapshotSource.embedded(built_project).current()
    iris = sorted({row["c"].value for row in snapshot.data.select(TYPES)})
    assert len(iris) >= 8
    return [load_chain(snapshot, iri) for iri in iris]


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two rectangles (x, y, width, height) share more than an edge."""
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_steps_go_left_to_right_in_position_order(chains: list[Chain]) -> None:
    for chain in chains:
        drawing = layout(chain, "fi")
        boxes = [drawing.boxes[s.position] for s in drawing.steps]
        assert [b.step.position for b in boxes] == sorted(s.position for s in chain.steps)
        for a, b in pairwise(boxes):
            assert a.column <= b.column, chain.iri
            assert (a.x < b.x) == (a.column < b.column), chain.iri


def test_one_lane_per_producer_in_order_of_first_appearance(chains: list[Chain]) -> None:
    for chain in chains:
        drawing = layout(chain, "fi")
        producers = list(dict.fromkeys(s.producer.iri for s in drawing.steps))
        assert [lane.key for lane in drawing.lanes] == producers, chain.iri
        for step in drawing.steps:
            assert drawing.lanes[drawing.boxes[step.position].lane].key == step.producer.iri
        sectors = list(dict.fromkeys(s.sector.iri if s.sector else "" for s in drawing.steps))
        assert [lane.key for lane in layout(chain, "fi", "sector").lanes] == sectors


def test_boxes_sit_inside_their_lane_and_never_overlap(chains: list[Chain]) -> None:
    for chain in chains:
        for mode in ("producer", "sector"):
            drawing = layout(chain, "sv", mode)  # type: ignore[arg-type]
            rects = [(b.x, b.y, BOX_W, BOX_H) for b in drawing.boxes.values()]
            assert not any(overlap(a, b) for a, b in combinations(rects, 2)), chain.iri
            for box in drawing.boxes.values():
                lane = drawing.lanes[box.lane]
                assert lane.first_row <= box.row < lane.first_row + lane.rows
            assert all(x + BOX_W <= drawing.lanes_right for x, *_ in rects)


def test_parallel_and_alternative_steps_share_a_column(chains: list[Chain]) -> None:
    joined = 0
    for chain in chains:
        drawing = layout(chain, "fi")
        for step in drawing.steps:
            for other in (*step.parallel_with, *step.alternative_to):
                if other in drawing.boxes:
                    joined += 1
                    assert drawing.boxes[other].column == drawing.boxes[step.position].column
    assert joined  # the examples have both kinds


def test_labels_of_one_gap_do_not_overlap_and_back_edges_run_below(chains: list[Chain]) -> None:
    for chain in chains:
        drawing = layout(chain, "en")
        by_gap: dict[int, list[tuple[float, float, float, float]]] = {}
        for edge in drawing.edges:
            if edge.label is not None and edge.kind != "back":
                label = edge.label
                by_gap.setdefault(edge.gap, []).append(
                    (label.cx - label.width / 2, label.top, label.width, label.height))
            if edge.kind == "back":
                assert edge.target.column < edge.source.column
                assert drawing.channel_top > max(b.y + BOX_H for b in drawing.boxes.values())
        for rects in by_gap.values():
            assert not any(overlap(a, b) for a, b in combinations(rects, 2)), chain.iri


def test_layout_is_pure_and_render_draws_it(chains: list[Chain]) -> None:
    for chain in chains:
        first, second = layout(chain, "fi"), layout(chain, "fi")
        assert isinstance(first, Layout)
        assert first == second  # same chain, same geometry; the chain is not changed
        assert render(first) == chain_svg(chain, "fi")
