"""Aligning the steps of two chains in order (Needleman-Wunsch with free gaps): the matched steps
and what differs in them, the steps only one side has, moved steps, shared goals and indicators,
and the score."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import pyoxigraph as ox

from ketju.domain.chains import (
    Chain,
    Node,
    Step,
    Texts,
)
from ketju.domain.compare.similarity import (
    SCORE_DEFINITION,
    StepFeatures,
    _match,
    feature_similarity,
    features,
)
from ketju.infra.snapshot import Snapshot
from ketju.infra.store import Row

# Alignment

def _dp_table(values: list[list[float]], n: int, m: int) -> list[list[float]]:
    """H[i][j]: the best alignment value of the first i steps of A and the first j of B."""
    table = [[0.0] * (m + 1)]
    prev = table[0]
    for i in range(n):
        row = values[i]
        cur = [0.0] * (m + 1)
        left = 0.0
        for j in range(m):
            up = prev[j + 1]
            best = up if up > left else left
            s = row[j]
            if s:
                diagonal = prev[j] + s
                if diagonal > best:
                    best = diagonal
            cur[j + 1] = best
            left = best
        table.append(cur)
        prev = cur
    return table


def _dp_value(columns: Sequence[Sequence[float]], n: int) -> float:
    """The alignment value only, one column (a step of B against all n steps of A) at a time.

    Computes the same cells as `_dp_table` with the same additions, so the same value.
    """
    prev = [0.0] * (n + 1)
    for column in columns:
        cur = [0.0] * (n + 1)
        above = 0.0
        for i in range(n):
            left = prev[i + 1]
            best = left if left > above else above
            s = column[i]
            if s:
                diagonal = prev[i] + s
                if diagonal > best:
                    best = diagonal
            cur[i + 1] = best
            above = best
        prev = cur
    return prev[n]


def dice(value: float, n_a: int, n_b: int) -> float:
    """The score 2·V / (n_A + n_B), 1 for two empty chains."""
    return 2.0 * value / (n_a + n_b) if n_a + n_b else 1.0


class Difference(NamedTuple):
    """What differs between two matched steps: kind and the values on each side."""

    kind: str  # producer-type, level, service-classes, service-tasks, handover-kind
    a: tuple[Node, ...]
    b: tuple[Node, ...]


class MatchedPair(NamedTuple):
    a: Step
    b: Step
    similarity: float
    differences: tuple[Difference, ...]


class MovedPair(NamedTuple):
    """Two steps that would match but stand in a different place in the two orders."""

    a: Step
    b: Step
    similarity: float
    differences: tuple[Difference, ...]
    #: Matched pairs (position in A, position in B) whose order this pair inverts.
    inverted_with: tuple[tuple[int, int], ...]
    #: Every inversion is with a parallel or alternative step (not a real order difference).
    parallel_only: bool


@dataclass(frozen=True)
class GoalItem:
    """A goal or an indicator of a chain (with an indicator's data sources)."""

    node: Node
    main: bool = False
    data_sources: tuple[Node, ...] = ()


@dataclass(frozen=True)
class ChainGoals:
    goals: tuple[GoalItem, ...] = ()
    indicators: tuple[GoalItem, ...] = ()


class SharedItem(NamedTuple):
    """A goal or indicator both chains have: the same IRI, or the same Finnish label."""

    a: GoalItem
    b: GoalItem
    by: str  # "iri" or "label"
    data_sources: tuple[Node, ...]  # data sources both indicators use


@dataclass(frozen=True)
class Comparison:
    a: Chain
    b: Chain
    matched: tuple[MatchedPair, ...]
    only_a: tuple[Step, ...]
    only_b: tuple[Step, ...]
    order_differences: tuple[MovedPair, ...]
    shared_goals: tuple[SharedItem, ...]
    shared_indicators: tuple[SharedItem, ...]
    #: The alignment in order: (position in A or None, position in B or None).
    alignment: tuple[tuple[int | None, int | None], ...]
    value: float
    score: float

    def to_dict(self, lang: str = "fi") -> dict[str, Any]:
        """A JSON-serialisable form, labels in `lang` (with fallback)."""
        def step(s: Step) -> dict[str, Any]:
            return _step_dict(s, lang)

        def difference(d: Difference) -> dict[str, Any]:
            return {"kind": d.kind, "a": [_node_dict(n, lang) for n in d.a],
                    "b": [_node_dict(n, lang) for n in d.b]}

        def shared(item: SharedItem) -> dict[str, Any]:
            return {"a": _node_dict(item.a.node, lang), "b": _node_dict(item.b.node, lang),
                    "by": item.by,
                    "data_sources": [_node_dict(n, lang) for n in item.data_sources]}

        return {
            "a": _chain_dict(self.a, lang), "b": _chain_dict(self.b, lang),
            "score": round(self.score, 6), "value": round(self.value, 6),
            "score_definition": SCORE_DEFINITION,
            "matched": [{"a": step(p.a), "b": step(p.b), "similarity": round(p.similarity, 6),
                         "differences": [difference(d) for d in p.differences]}
                        for p in self.matched],
            "only_a": [step(s) for s in self.only_a],
            "only_b": [step(s) for s in self.only_b],
            "order_differences": [
                {"a": step(p.a), "b": step(p.b), "similarity": round(p.similarity, 6),
                 "differences": [difference(d) for d in p.differences],
                 "inverted_with": [{"a": x, "b": y} for x, y in p.inverted_with],
                 "parallel_only": p.parallel_only}
                for p in self.order_differences],
            "shared_goals": [shared(g) for g in self.shared_goals],
            "shared_indicators": [shared(i) for i in self.shared_indicators],
            "alignment": [{"a": x, "b": y} for x, y in self.alignment],
        }


def _node_dict(node: Node | None, lang: str) -> dict[str, str] | None:
    return {"iri": node.iri, "label": node.label(lang)} if node is not None else None


def _chain_dict(chain: Chain, lang: str) -> dict[str, Any]:
    return {"iri": chain.iri, "label": chain.label(lang), "region": _region(chain.iri),
            "steps": len(chain.steps)}


def _step_dict(step: Step, lang: str) -> dict[str, Any]:
    return {
        "iri": step.iri, "position": step.position, "label": step.label(lang),
        "service": _node_dict(step.service, lang), "producer": _node_dict(step.producer, lang),
        "producer_type": _node_dict(step.producer_type, lang),
        "level": _node_dict(step.level, lang), "level_rank": step.level_rank,
        "service_classes": list(step.service_classes),
        "service_tasks": [_node_dict(t, lang) for t in step.service_tasks],
    }


def _region(iri: str) -> str:
    return iri.split("/id/", 1)[1].split("/", 1)[0] if "/id/" in iri else ""


def _incoming(chain: Chain) -> dict[int, dict[str, Node]]:
    kinds: dict[int, dict[str, Node]] = defaultdict(dict)
    for transition in chain.transitions:
        kinds[transition.to_position].setdefault(transition.kind.iri, transition.kind)
    return kinds


def _differences(a: Step, b: Step, fa: StepFeatures, fb: StepFeatures,
                 in_a: Mapping[str, Node], in_b: Mapping[str, Node]) -> tuple[Difference, ...]:
    found = []
    if fa.producer_type != fb.producer_type:
        found.append(Difference("producer-type", _opt(a.producer_type), _opt(b.producer_type)))
    if (fa.level, fa.level_rank) != (fb.level, fb.level_rank):
        found.append(Difference("level", _opt(a.level), _opt(b.level)))
    if fa.classes != fb.classes:
        found.append(Difference("service-classes",
                                tuple(Node(c) for c in sorted(fa.classes - fb.classes)),
                                tuple(Node(c) for c in sorted(fb.classes - fa.classes))))
    if fa.tasks != fb.tasks:
        found.append(Difference("service-tasks",
                                tuple(t for t in a.service_tasks if t.iri not in fb.tasks),
                                tuple(t for t in b.service_tasks if t.iri not in fa.tasks)))
    # A first step has no hand-over into it; that is not a difference in kind.
    if in_a and in_b and set(in_a) != set(in_b):
        found.append(Difference("handover-kind", tuple(in_a[k] for k in sorted(in_a)),
                                tuple(in_b[k] for k in sorted(in_b))))
    return tuple(found)


def _opt(node: Node | None) -> tuple[Node, ...]:
    return (node,) if node is not None else ()


def align(a: Chain, b: Chain, goals_a: ChainGoals | None = None,
          goals_b: ChainGoals | None = None) -> Comparison:
    """Align the steps of two chains (see the module documentation) and report on them.

    Goals and indicators are compared when both `goals_a` and `goals_b` are given
    (`load_goals`).
    """
    steps_a, steps_b = a.steps, b.steps
    n, m = len(steps_a), len(steps_b)
    fa = [features(s) for s in steps_a]
    fb = [features(s) for s in steps_b]
    similarity, values = _similarities(fa, fb)
    table = _dp_table(values, n, m)
    pairs, ops = _trace_back(values, table, n, m)

    in_a, in_b = _incoming(a), _incoming(b)

    def differences(x: int, y: int) -> tuple[Difference, ...]:
        sa, sb = steps_a[x], steps_b[y]
        return _differences(sa, sb, fa[x], fb[y], in_a.get(sa.position, {}),
                            in_b.get(sb.position, {}))

    matched = tuple(MatchedPair(steps_a[x], steps_b[y], similarity[x][y], differences(x, y))
                    for x, y in pairs)
    matched_a = {x for x, _ in pairs}
    matched_b = {y for _, y in pairs}
    free_a = [x for x in range(n) if x not in matched_a]
    free_b = [y for y in range(m) if y not in matched_b]
    moved = _moved(values, free_a, free_b)
    order_differences = tuple(
        _moved_pair(a, b, pairs, x, y, similarity[x][y], differences(x, y)) for x, y in moved)
    taken_a = {x for x, _ in moved}
    taken_b = {y for _, y in moved}
    shared_goals, shared_indicators = _shared_goals(a, b, goals_a, goals_b)
    value = table[n][m]
    return Comparison(
        a=a, b=b, matched=matched,
        only_a=tuple(steps_a[x] for x in free_a if x not in taken_a),
        only_b=tuple(steps_b[y] for y in free_b if y not in taken_b),
        order_differences=order_differences,
        shared_goals=shared_goals, shared_indicators=shared_indicators,
        alignment=tuple((steps_a[x].position if x is not None else None,
                         steps_b[y].position if y is not None else None) for x, y in ops),
        value=value, score=dice(value, n, m),
    )


def _similarities(fa: Sequence[StepFeatures], fb: Sequence[StepFeatures],
                  ) -> tuple[list[list[float]], list[list[float]]]:
    """The similarity and the match value of every pair of steps (A's rows, B's columns);
    steps with equal features are computed once."""
    distinct: dict[StepFeatures, int] = {}
    ids_a = [distinct.setdefault(f, len(distinct)) for f in fa]
    ids_b = [distinct.setdefault(f, len(distinct)) for f in fb]
    unique = list(distinct)
    memo: dict[tuple[int, int], tuple[float, float]] = {}
    n, m = len(fa), len(fb)
    similarity = [[0.0] * m for _ in range(n)]
    values = [[0.0] * m for _ in range(n)]
    for i in range(n):
        x = ids_a[i]
        row_s, row_v = similarity[i], values[i]
        for j in range(m):
            y = ids_b[j]
            pair = memo.get((x, y))
            if pair is None:
                c, s = feature_similarity(unique[x], unique[y])
                pair = memo[x, y] = (s, _match(c, s))
            row_s[j], row_v[j] = pair
    return similarity, values


def _trace_back(values: list[list[float]], table: list[list[float]], n: int, m: int,
                ) -> tuple[list[tuple[int, int]], list[tuple[int | None, int | None]]]:
    """The matched pairs (indexes into A and B) and the whole alignment (None: a gap), in
    order, read back from the dynamic-programming table."""
    pairs: list[tuple[int, int]] = []
    ops: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 and j > 0:
        s = values[i - 1][j - 1]
        if s and table[i][j] == table[i - 1][j - 1] + s:
            pairs.append((i - 1, j - 1))
            ops.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif table[i][j] == table[i - 1][j]:
            ops.append((i - 1, None))
            i -= 1
        else:
            ops.append((None, j - 1))
            j -= 1
    ops.extend((k, None) for k in range(i - 1, -1, -1))
    ops.extend((None, k) for k in range(j - 1, -1, -1))
    pairs.reverse()
    ops.reverse()
    return pairs, ops


def _moved(values: list[list[float]], free_a: list[int], free_b: list[int],
           ) -> list[tuple[int, int]]:
    """Moved steps: unmatched steps of A and B that would match, paired best similarity
    first, in A's order."""
    candidates = sorted(((values[x][y], x, y) for x in free_a for y in free_b if values[x][y]),
                        key=lambda t: (-t[0], t[1], t[2]))
    moved: list[tuple[int, int]] = []
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    for _, x, y in candidates:
        if x not in taken_a and y not in taken_b:
            moved.append((x, y))
            taken_a.add(x)
            taken_b.add(y)
    moved.sort()
    return moved


def _moved_pair(a: Chain, b: Chain, pairs: list[tuple[int, int]], x: int, y: int,
                similarity: float, differences: tuple[Difference, ...]) -> MovedPair:
    """A moved pair, with the matched pairs it crosses; `parallel_only` when each of those
    runs in parallel with (or is an alternative to) the moved step."""
    sa, sb = a.steps[x], b.steps[y]
    inverted = [(px, py) for px, py in pairs if (px < x) != (py < y)]
    real = [(px, py) for px, py in inverted
            if not (_related(sa, a.steps[px]) or _related(sb, b.steps[py]))]
    return MovedPair(
        sa, sb, similarity, differences,
        tuple((a.steps[px].position, b.steps[py].position) for px, py in inverted),
        parallel_only=bool(inverted) and not real)


def _shared_goals(a: Chain, b: Chain, goals_a: ChainGoals | None, goals_b: ChainGoals | None,
                  ) -> tuple[tuple[SharedItem, ...], tuple[SharedItem, ...]]:
    """The goals and the indicators both chains have (none unless both goals are given)."""
    if goals_a is None or goals_b is None:
        return (), ()
    cross_region = _region(a.iri) != _region(b.iri)
    return (_shared(goals_a.goals, goals_b.goals, cross_region),
            _shared(goals_a.indicators, goals_b.indicators, cross_region))


def _related(step: Step, other: Step) -> bool:
    """Whether two steps of one chain run in parallel or are alternatives to each other."""
    return (other.position in step.parallel_with or other.position in step.alternative_to
            or step.position in other.parallel_with or step.position in other.alternative_to)


def normalise_label(text: str) -> str:
    """Casefolded, without diacritics or punctuation, single spaces: for comparing labels."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _shared(items_a: Sequence[GoalItem], items_b: Sequence[GoalItem],
            by_label: bool) -> tuple[SharedItem, ...]:
    found: list[SharedItem] = []
    used: set[str] = set()
    labels_b: dict[str, list[GoalItem]] = defaultdict(list)
    by_iri = {item.node.iri: item for item in items_b}
    for item in items_b:
        label = normalise_label(item.node.names.values.get("fi", ""))
        if label:
            labels_b[label].append(item)
    for item in items_a:
        other = by_iri.get(item.node.iri)
        how = "iri"
        if other is None or other.node.iri in used:
            other, how = None, "label"
            label = normalise_label(item.node.names.values.get("fi", ""))
            if by_label and label:
                other = next((o for o in labels_b.get(label, ()) if o.node.iri not in used),
                             None)
        if other is None:
            continue
        used.add(other.node.iri)
        sources_b = {d.iri for d in other.data_sources}
        found.append(SharedItem(item, other, how,
                                tuple(d for d in item.data_sources if d.iri in sources_b)))
    return tuple(found)


def load_goals(snapshot: Snapshot, chain: str) -> ChainGoals:
    """The goals and indicators of a chain, with labels and data sources (`chain-goals`)."""
    return load_goals_of(snapshot, [chain])[chain]


def load_goals_of(snapshot: Snapshot, chains: Sequence[str]) -> dict[str, ChainGoals]:
    """`load_goals` of several chains with one `chain-goals` query."""
    rows: dict[str, list[Row]] = {chain: [] for chain in chains}
    if chains:
        for row in snapshot.select("chain-goals",
                                   chain=[ox.NamedNode(chain) for chain in rows]):
            rows[row["chain"].value].append(row)
    return {chain: _goals(found) for chain, found in rows.items()}


def _goals(rows: Iterable[Row]) -> ChainGoals:
    """The ChainGoals of one chain's `chain-goals` rows."""
    names: dict[str, dict[str, str]] = defaultdict(dict)
    kinds: dict[str, str] = {}
    main: set[str] = set()
    sources: dict[str, list[str]] = {}
    for row in rows:
        iri = row["node"].value
        kinds[iri] = row["kind"].value
        label = row.get("label")
        if isinstance(label, ox.Literal):
            names[iri].setdefault(label.language or "", label.value)
        if row["kind"].value == "goal" and "main" in row and row["main"].value == "true":
            main.add(iri)
        if "dataSources" in row and row["dataSources"].value:
            sources[iri] = sorted(row["dataSources"].value.split())

    def node(iri: str) -> Node:
        return Node(iri, Texts(dict(names.get(iri, {}))))

    def items(kind: str) -> tuple[GoalItem, ...]:
        return tuple(GoalItem(node(iri), iri in main, tuple(node(d) for d in sources.get(iri, ())))
                     for iri in sorted(k for k, v in kinds.items() if v == kind))

    return ChainGoals(goals=tuple(sorted(items("goal"), key=lambda g: not g.main)),
                      indicators=items("indicator"))
