"""A comparison as plain text, for the command line."""

from __future__ import annotations

from collections.abc import Sequence

from ketju.domain.chains import (
    Node,
    Step,
)
from ketju.domain.compare.alignment import Comparison, Difference

# Plain-text report

def format_comparison(comparison: Comparison, lang: str = "fi") -> str:
    """A plain-text report of a comparison for the command line."""
    a, b = comparison.a, comparison.b
    width = max([len(s.label(lang)) for s in (*a.steps, *b.steps)] + [10])
    width = min(width, 48)
    lines = [
        f"A: {a.label(lang)}  <{a.iri}>",
        f"B: {b.label(lang)}  <{b.iri}>",
        f"Similarity: {comparison.score:.3f}  (2 × {comparison.value:.3f} / "
        f"({len(a.steps)} + {len(b.steps)}) steps)",
        "",
        "Steps in order (A | B | similarity):",
    ]
    by_a, by_b = a.by_position, b.by_position
    pair_of = {(p.a.position, p.b.position): p for p in comparison.matched}
    moved_a = {p.a.position: p for p in comparison.order_differences}
    moved_b = {p.b.position: p for p in comparison.order_differences}

    def cell(step: Step | None, side: str) -> str:
        if step is None:
            return " " * (width + 4)
        text = step.label(lang)
        text = text if len(text) <= width else text[:width - 1] + "…"
        return f"{side}{step.position:<2} {text:<{width}}"

    for x, y in comparison.alignment:
        step_a = by_a.get(x) if x is not None else None
        step_b = by_b.get(y) if y is not None else None
        if step_a is not None and step_b is not None:
            pair = pair_of[(x, y)]
            note = ", ".join(_difference_text(d, lang) for d in pair.differences)
            lines.append(f"  {cell(step_a, 'A')} | {cell(step_b, 'B')} | "
                         f"{pair.similarity:.2f}" + (f"  ({note})" if note else ""))
        elif step_a is not None:
            where = moved_a.get(step_a.position)
            note = f"moved: B{where.b.position}" if where else "only A"
            lines.append(f"  {cell(step_a, 'A')} | {cell(None, 'B')} | {note}")
        elif step_b is not None:
            where = moved_b.get(step_b.position)
            note = f"moved: A{where.a.position}" if where else "only B"
            lines.append(f"  {cell(None, 'A')} | {cell(step_b, 'B')} | {note}")

    def listing(title: str, steps: Sequence[Step], side: str) -> None:
        lines.append("")
        lines.append(f"{title}:" + ("" if steps else " none"))
        lines.extend(f"  {side}{s.position} {s.label(lang)}" for s in steps)

    listing("Only in A", comparison.only_a, "A")
    listing("Only in B", comparison.only_b, "B")
    lines.append("")
    lines.append("Order differences:" + ("" if comparison.order_differences else " none"))
    for moved in comparison.order_differences:
        inverted = "; ".join(
            f"A{x} {by_a[x].label(lang)} / B{y} {by_b[y].label(lang)}"
            for x, y in moved.inverted_with)
        flag = " (parallel steps only)" if moved.parallel_only else ""
        lines.append(f"  A{moved.a.position} {moved.a.label(lang)} ~ B{moved.b.position} "
                     f"{moved.b.label(lang)} ({moved.similarity:.2f}){flag}: order inverted "
                     f"against {inverted}")
    for title, items in (("Shared goals", comparison.shared_goals),
                         ("Shared indicators", comparison.shared_indicators)):
        lines.append("")
        lines.append(f"{title}:" + ("" if items else " none"))
        for item in items:
            sources = ", ".join(d.label(lang) for d in item.data_sources)
            lines.append(f"  {item.a.node.label(lang)}"
                         + (f"  [B: {item.b.node.label(lang)}]"
                            if item.b.node.label(lang) != item.a.node.label(lang) else "")
                         + f"  (same {item.by})" + (f"; data: {sources}" if sources else ""))
    return "\n".join(lines) + "\n"


def _difference_text(difference: Difference, lang: str) -> str:
    def side(nodes: tuple[Node, ...]) -> str:
        return "/".join(n.label(lang) for n in nodes) or "-"
    name = {"producer-type": "producer type", "level": "level",
            "service-classes": "classes", "service-tasks": "tasks",
            "handover-kind": "hand-over"}.get(difference.kind, difference.kind)
    return f"{name} {side(difference.a)} ≠ {side(difference.b)}"
