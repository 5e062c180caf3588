"""What a target model (tavoitetila) changes in its own current state (nykytila), in the
comparison's vocabulary: steps added, removed, changed and moved, and hand-overs changed.

The two chains are aligned as any two chains are (`align`); within one region the same
producers, step durations and hand-over waits are comparable too, so a matched step also
differs by its producer (`producer`) and its maximum duration (`maximum-duration`), and a
hand-over between two matched steps by its maximum wait (`maximum-wait`) and kind
(`handover-kind`). A hand-over of the target model between steps that are not both matched, or
between matched steps the current state does not hand over between, is added; the reverse is
removed. Differences read from the current state (`a`) to the target model (`b`).
"""

from __future__ import annotations

from typing import Any

from ketju.domain.chains import Chain, Step, Transition
from ketju.domain.compare.alignment import Comparison, _node_dict, _step_dict, align


def _literal(value: str | None) -> list[dict[str, str]]:
    return [{"value": value, "label": value}] if value else []


def _handover(transition: Transition, chain: Chain, lang: str) -> dict[str, Any]:
    """A hand-over by the positions and names of its steps (in its own chain)."""
    steps = chain.by_position
    source, to = steps.get(transition.from_position), steps.get(transition.to_position)
    return {"iri": transition.iri, "from": transition.from_position,
            "to": transition.to_position,
            "from_label": source.label(lang) if source else "",
            "to_label": to.label(lang) if to else "",
            "kind": _node_dict(transition.kind, lang), "maximum_wait": transition.maximum_wait}


def _step_changes(a: Step, b: Step, found: list[dict[str, Any]], lang: str
                  ) -> list[dict[str, Any]]:
    """The comparison's differences of two matched steps and the producer and duration."""
    extra = []
    if a.producer.iri != b.producer.iri:
        extra.append({"kind": "producer", "a": [_node_dict(a.producer, lang)],
                      "b": [_node_dict(b.producer, lang)]})
    if a.maximum_duration != b.maximum_duration:
        extra.append({"kind": "maximum-duration", "a": _literal(a.maximum_duration),
                      "b": _literal(b.maximum_duration)})
    return found + extra


def target_changes(current: Chain, target: Chain, lang: str = "fi",
                   comparison: Comparison | None = None) -> dict[str, Any]:
    """What `target` (the target model) changes in `current` (its current state), as JSON:
    `added`, `removed` (steps), `changed` (matched steps with their differences), `moved`
    (steps in another place in the order), `handovers_changed`, `handovers_added` and
    `handovers_removed`; every list in step order."""
    result = comparison or align(current, target)
    as_dict = result.to_dict(lang)
    changed = []
    for pair, shown in zip(result.matched, as_dict["matched"], strict=True):
        differences = _step_changes(pair.a, pair.b, shown["differences"], lang)
        if differences:
            changed.append({"current": shown["a"], "target": shown["b"],
                            "differences": differences})
    moved = [{"current": shown["a"], "target": shown["b"],
              "differences": _step_changes(pair.a, pair.b, shown["differences"], lang)}
             for pair, shown in zip(result.order_differences, as_dict["order_differences"],
                                    strict=True)]
    # Hand-overs: by the target positions of both ends (matched and moved steps).
    to_target = {p.a.position: p.b.position
                 for p in (*result.matched, *result.order_differences)}
    theirs = {(t.from_position, t.to_position): t for t in target.transitions}
    seen: set[tuple[int, int]] = set()
    handovers_changed, handovers_removed = [], []
    for transition in current.transitions:
        ends = (to_target.get(transition.from_position), to_target.get(transition.to_position))
        other = theirs.get(ends) if None not in ends else None  # type: ignore[arg-type]
        if other is None:
            handovers_removed.append(_handover(transition, current, lang))
            continue
        seen.add(ends)  # type: ignore[arg-type]
        differences = []
        if transition.maximum_wait != other.maximum_wait:
            differences.append({"kind": "maximum-wait", "a": _literal(transition.maximum_wait),
                                "b": _literal(other.maximum_wait)})
        if transition.kind.iri != other.kind.iri:
            differences.append({"kind": "handover-kind", "a": [_node_dict(transition.kind, lang)],
                                "b": [_node_dict(other.kind, lang)]})
        if differences:
            handovers_changed.append({"current": _handover(transition, current, lang),
                                      "target": _handover(other, target, lang),
                                      "differences": differences})
    handovers_added = [_handover(t, target, lang) for ends, t in sorted(theirs.items())
                       if ends not in seen]
    return {
        "added": [_step_dict(s, lang) for s in result.only_b],
        "removed": [_step_dict(s, lang) for s in result.only_a],
        "changed": changed,
        "moved": moved,
        "handovers_changed": handovers_changed,
        "handovers_added": handovers_added,
        "handovers_removed": handovers_removed,
    }
