"""Comparing service chains across regions: step alignment, differences and a similarity score.

Two chains are compared by aligning their steps in position order, the way sequences are
aligned in bioinformatics (Needleman–Wunsch), so that the order of the steps counts and not
only which steps there are. The result lists the matched steps (with what differs in them), the
steps only one side has, the steps that both have in a different place in the order, the shared
goals and indicators, and a score.

Step similarity
    s(x, y) = (0.45·c + 0.20·t + 0.20·l + 0.15·p) / 1.00, in [0, 1], where

    - c, JHS 183 service classes of the steps' services: a Jaccard index in which a class of one
      step that the other lacks, but whose sibling (same parent code: P5.5 and P5.6 under P5;
      P5 and P5.6) the other has, counts as a quarter of a shared class:
      c = (|X ∩ Y| + ¼·k) / (|X ∪ Y| − k), k the number of such sibling pairs (per parent, the
      smaller of the two sides' counts of unshared classes under it);
    - t, service tasks: the Jaccard index |X ∩ Y| / |X ∪ Y|;
    - l, service level: 1 when equal, ½ when one rank apart, else 0;
    - p, producer type: 1 when equal, ½ for two kinds of private production (private,
      private-direct-choice, private-voucher, private-contracted), else 0.

    Two empty sets, and two missing values, count as equal; equal features give exactly 1.

Match value
    Two steps *match* when s > 0.5 and c > 0 (their services share a class or a parent class).
    The match value is the similarity above that threshold, rescaled to [0, 1]:
    m(x, y) = (s − 0.5) / (1 − 0.5) = 2s − 1 for a match, 0 otherwise. So one good match
    outweighs two weak ones: with the raw similarity the alignment would rather shift a whole
    run of steps by one (emergency care against the emergency department, the emergency
    department against surgery, ...) than leave one step unmatched. m depends on the two steps
    only, never on their neighbours or positions; m(x, x) = 1.

Alignment value
    The steps of each chain are taken in position order; parallel and alternative steps are
    separate steps in that order. An alignment is a set of matching pairs (x, y) whose positions
    increase on both sides together (no crossings), each step in at most one pair. V(A, B) is
    the largest sum of m over an alignment, found by dynamic programming over the two step
    sequences (Needleman–Wunsch with gaps costing nothing).

Score
    score(A, B) = 2·V(A, B) / (n_A + n_B), n the numbers of steps (1 when both are empty): the
    share of all steps that are matched, each match weighed by its match value (a Dice
    coefficient).

Properties (each tested with hypothesis in tests/test_compare.py)
    1. 0 ≤ score ≤ 1: every m ≤ 1 and an alignment has at most min(n_A, n_B) pairs, so
       V ≤ min(n_A, n_B) ≤ (n_A + n_B) / 2.
    2. Symmetric, score(A, B) = score(B, A): m is symmetric and the alignments of (B, A) are
       those of (A, B) mirrored.
    3. A chain with itself scores 1 with every step matched to itself: m(x, x) = 1, so the
       identity alignment reaches the bound V = n; an alignment worth n has n pairs of value 1,
       and n non-crossing pairs between two sequences of n steps can only be the identity.
    4. Deleting a step from either chain never raises V: every alignment of the smaller pair of
       chains is an alignment of the original pair with the same value, since m does not depend
       on context.
    5. Deletions from a self-comparison never raise the score: if B is A with some steps
       deleted (m of A's n steps kept, in order), then V(A, B) = m (the identity alignment of
       the kept steps reaches the bound min(n, m)), so score(A, B) = 2m / (n + m), which grows
       with m; deleting a further step from B lowers the score, and by symmetry the same holds
       with the sides exchanged.

    No score normalised by the chains' sizes can promise more for arbitrary pairs: deleting a
    step that is not matched keeps V and shrinks n_A + n_B, so the score rises
    (A = [x, y], B = [x] scores 2/3; without y, 1). Keeping the score constant instead would
    make every chain score 1 against any chain that contains it.

Order differences
    Matched pairs of an alignment never cross, so a step that both chains have in a different
    place is left unmatched by it. After the alignment, unmatched steps of A and of B that would
    match are paired (greedily, best similarity first) and reported as moved, with the matched
    pairs whose order they invert. Moved pairs do not count in V. With full chains
    (`load_chain`), a moved pair whose every inversion is with a step it runs in parallel with
    or is an alternative to is flagged `parallel_only` (not a real order difference).

Similar chains
    `ChainIndex` holds the comparison features of every chain (one `chain-features` query per
    data version) and ranks the chains most similar to one: a cheap estimate from an inverted
    index of (service class, level) and parent-class tokens picks the candidates, which are then
    aligned exactly (CANDIDATES of them). The scores returned are exact; the ranking is exact
    among the candidates, and a chain is missed only when the estimate puts it below
    CANDIDATES others (on 2,000 synthetic chains the top 10 equalled a brute-force ranking).
    Chains that share no parent class with the query cannot match any of its steps (c = 0)
    and score 0, so they are never candidates.
    `chain_index` keeps one index per snapshot (one build). `load_indexed_chains` takes
    the steps of the chains to compare from the index and only their names (one `names-of`
    query) and goals (`chain-goals`) from the store: the quick path for the API, with the same
    scores as `load_chains`, which reads the full chains with `load_chain`.
"""

from __future__ import annotations

import heapq
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple

import pyoxigraph as ox

from ketju.core.namespaces import ID, PRODUCER_TYPE
from ketju.domain.chains import (
    Chain,
    ChainNotFound,
    Node,
    Step,
    Texts,
    Transition,
    load_chain,
)
from ketju.domain.entities import names_of
from ketju.infra.snapshot import Snapshot
from ketju.infra.store import Row

#: Weights of the four parts of the step similarity (they sum to 1).
CLASS_WEIGHT = 0.45
TASK_WEIGHT = 0.20
LEVEL_WEIGHT = 0.20
PRODUCER_WEIGHT = 0.15
TOTAL_WEIGHT = CLASS_WEIGHT + TASK_WEIGHT + LEVEL_WEIGHT + PRODUCER_WEIGHT
#: How much an unshared class counts when the other step has a sibling of it (same parent).
SIBLING_CREDIT = 0.25
#: Level part for two levels one rank apart.
NEAR_LEVEL_CREDIT = 0.5
#: Producer-type part for two different kinds of private production.
PRODUCER_FAMILY_CREDIT = 0.5
#: Two steps match when their similarity is above this (and they share a parent class).
MATCH_THRESHOLD = 0.5
#: How many candidates `ChainIndex.similar` aligns exactly.
CANDIDATES = 100

PRODUCER_FAMILIES = {PRODUCER_TYPE + code: "private" for code in (
    "private", "private-direct-choice", "private-voucher", "private-contracted")}

SCORE_DEFINITION = (
    "score = 2·V / (n_A + n_B), n_A and n_B the numbers of steps, V the largest sum of match "
    "values over an alignment of the two chains' steps that keeps their order. Two steps match "
    "when their similarity s is above 0.5 and they share a JHS 183 class or parent class; the "
    "match value is 2s − 1. s = 0.45 × service classes (Jaccard; a sibling class counts a "
    "quarter) + 0.20 × service tasks (Jaccard) + 0.20 × level (equal 1, one rank apart 0.5) + "
    "0.15 × producer type (equal 1, two kinds of private 0.5).")


# ---------------------------------------------------------------------------------------------
# Step similarity
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepFeatures:
    """What the similarity of a step looks at."""

    classes: frozenset[str]
    tasks: frozenset[str]
    level: str | None
    level_rank: int | None
    producer_type: str | None


def features(step: Step) -> StepFeatures:
    return StepFeatures(
        classes=frozenset(step.service_classes),
        tasks=frozenset(t.iri for t in step.service_tasks),
        level=step.level.iri if step.level is not None else None,
        level_rank=step.level_rank,
        producer_type=step.producer_type.iri if step.producer_type is not None else None,
    )


@lru_cache(maxsize=4096)  # pure; bounded because its keys come from the data
def parent_class(iri: str) -> str:
    """The parent of a JHS 183 class (…/code/P5.6 → …/code/P5); a top class is its own."""
    head, _, code = iri.rpartition("/")
    return head + "/" + code.rsplit(".", 1)[0] if "." in code else iri


def class_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index of two class sets where a sibling pair counts as SIBLING_CREDIT shared."""
    if a == b:
        return 1.0
    shared = len(a & b)
    only_a, only_b = a - b, b - a
    siblings = 0
    if only_a and only_b:
        parents_a = [parent_class(c) for c in only_a]
        parents_b = [parent_class(c) for c in only_b]
        siblings = sum(min(parents_a.count(p), parents_b.count(p))
                       for p in set(parents_a) if p in parents_b)
    return (shared + SIBLING_CREDIT * siblings) / (shared + len(only_a) + len(only_b) - siblings)


def task_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if a == b:
        return 1.0
    return len(a & b) / len(a | b)


def level_similarity(level_a: str | None, rank_a: int | None,
                     level_b: str | None, rank_b: int | None) -> float:
    if rank_a is not None and rank_b is not None:
        distance = abs(rank_a - rank_b)
        return 1.0 if distance == 0 else NEAR_LEVEL_CREDIT if distance == 1 else 0.0
    return 1.0 if level_a == level_b else 0.0


def producer_similarity(a: str | None, b: str | None) -> float:
    if a == b:
        return 1.0
    family = PRODUCER_FAMILIES.get(a or "")
    return PRODUCER_FAMILY_CREDIT if family and family == PRODUCER_FAMILIES.get(b or "") else 0.0


def _combine(c: float, t: float, level: float, p: float) -> float:
    # Same order of additions as TOTAL_WEIGHT, so four ones give exactly 1.0.
    return (CLASS_WEIGHT * c + TASK_WEIGHT * t + LEVEL_WEIGHT * level
            + PRODUCER_WEIGHT * p) / TOTAL_WEIGHT


def _match(c: float, s: float) -> float:
    """The match value: the similarity rescaled so that the threshold maps to 0 and 1 to 1."""
    if c > 0.0 and s > MATCH_THRESHOLD:
        return (s - MATCH_THRESHOLD) / (1.0 - MATCH_THRESHOLD)
    return 0.0


def feature_similarity(a: StepFeatures, b: StepFeatures) -> tuple[float, float]:
    """(class part, similarity) of two steps' features."""
    c = class_similarity(a.classes, b.classes)
    return c, _combine(c, task_similarity(a.tasks, b.tasks),
                       level_similarity(a.level, a.level_rank, b.level, b.level_rank),
                       producer_similarity(a.producer_type, b.producer_type))


def step_similarity(a: Step, b: Step) -> float:
    """Similarity of two steps in [0, 1] (see the module documentation); 1 for equal features."""
    return feature_similarity(features(a), features(b))[1]


def match_value(a: Step, b: Step) -> float:
    """The match value of two steps: 2s − 1 when they match, else 0."""
    c, s = feature_similarity(features(a), features(b))
    return _match(c, s)


# ---------------------------------------------------------------------------------------------
# Alignment
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Loading and comparing many
# ---------------------------------------------------------------------------------------------

class UnknownChains(ChainNotFound):
    """Some of the chains asked for do not exist."""

    def __init__(self, iris: Sequence[str]) -> None:
        self.iris = tuple(iris)
        super().__init__("unknown service chain" + ("s" if len(iris) > 1 else "") + ": "
                         + ", ".join(self.iris))


def chain_iri(text: str) -> str:
    """A chain's IRI from an IRI or a short form: `region/chain/slug` or `region/slug`."""
    text = text.strip()
    if text.startswith(("https://", "http://")):
        return text
    parts = [p for p in text.strip("/").split("/") if p]
    if len(parts) == 2:
        return f"{ID}{parts[0]}/chain/{parts[1]}"
    if len(parts) == 3 and parts[1] == "chain":
        return ID + "/".join(parts)
    raise ValueError(f"not a chain IRI or region/chain/slug: {text!r}")


def load_chains(snapshot: Snapshot,
                iris: Sequence[str]) -> tuple[list[Chain], dict[str, ChainGoals]]:
    """The chains (full, with texts) and their goals; `UnknownChains` names all missing ones."""
    chains: list[Chain] = []
    unknown: list[str] = []
    for iri in iris:
        try:
            chains.append(load_chain(snapshot, iri))
        except ChainNotFound:
            unknown.append(iri)
    if unknown:
        raise UnknownChains(unknown)
    return chains, load_goals_of(snapshot, [c.iri for c in chains])


def load_indexed_chains(snapshot: Snapshot, iris: Sequence[str],
                        index: ChainIndex | None = None,
                        ) -> tuple[list[Chain], dict[str, ChainGoals]]:
    """Like `load_chains`, but the steps come from the chain index (`chain_index`) and only
    the texts and goals are queried: milliseconds instead of seconds on a national catalogue.
    """
    index = index or chain_index(snapshot)
    unknown = [iri for iri in iris if iri not in index]
    if unknown:
        raise UnknownChains(unknown)
    return index.named_chains(snapshot, iris), load_goals_of(snapshot, iris)


def compare(snapshot: Snapshot, a: str, b: str) -> Comparison:
    """Load two chains by IRI and compare them (`UnknownChains` when one does not exist)."""
    chains, goals = load_chains(snapshot, [a, b])
    return align(chains[0], chains[1], goals[chains[0].iri], goals[chains[1].iri])


def compare_many(chains: Sequence[Chain], goals: Mapping[str, ChainGoals] | None = None,
                 lang: str = "fi") -> dict[str, Any]:
    """All pairwise comparisons, a score matrix and a side-by-side table against the first.

    `table.rows` are aligned rows: one position (or null) per chain, in the first chain's
    order; a step of another chain that matches no step of the first gets a row of its own
    after the row of its previous step.
    """
    if len(chains) < 2:
        raise ValueError("comparing needs at least two chains")
    goals = goals or {}
    count = len(chains)
    matrix = [[1.0 if i == j else 0.0 for j in range(count)] for i in range(count)]
    pairs = []
    by_pair: dict[tuple[int, int], Comparison] = {}
    for i in range(count):
        for j in range(i + 1, count):
            result = align(chains[i], chains[j], goals.get(chains[i].iri),
                           goals.get(chains[j].iri))
            by_pair[i, j] = result
            matrix[i][j] = matrix[j][i] = result.score
            pairs.append(result.to_dict(lang))
    # Side-by-side rows against the first chain.
    rows: list[list[int | None]] = [[s.position] + [None] * (count - 1) for s in chains[0].steps]
    row_of_first = {s.position: rows[k] for k, s in enumerate(chains[0].steps)}
    moved: list[dict[str, Any]] = []
    for k in range(1, count):
        result = by_pair[0, k]
        counterpart = {p.b.position: p.a.position for p in result.matched}
        moved.extend({"chain": k, "position": p.b.position, "first": p.a.position}
                     for p in result.order_differences)
        anchor: list[int | None] | None = None
        for step in chains[k].steps:
            if step.position in counterpart:
                anchor = row_of_first[counterpart[step.position]]
                anchor[k] = step.position
                continue
            new_row: list[int | None] = [None] * count
            new_row[k] = step.position
            at = next(r for r, row in enumerate(rows) if row is anchor) + 1 if anchor else 0
            rows.insert(at, new_row)
            anchor = new_row
    return {
        "chains": [_chain_dict(c, lang) for c in chains],
        "score_definition": SCORE_DEFINITION,
        "scores": [[round(x, 6) for x in row] for row in matrix],
        "pairs": pairs,
        "table": {"rows": rows, "moved": moved},
    }


# ---------------------------------------------------------------------------------------------
# The index of all chains, for "similar chains"
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StepRecord:
    """One row of `chain-features`: a step's comparison features, without labels."""

    chain: str
    position: int
    step: str
    service: str
    producer: str
    producer_type: str | None
    level: str | None
    level_rank: int | None
    classes: tuple[str, ...]
    tasks: tuple[str, ...]
    #: Hand-overs arriving at the step: (position of the step they come from, kind IRI).
    incoming: tuple[tuple[int, str], ...] = field(default=())


def records_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[StepRecord]:
    """StepRecords from the rows of the `chain-features` query."""
    records = []
    for row in rows:
        incoming = []
        for pair in (_text(row, "incoming") or "").split():
            position, _, kind = pair.partition("|")
            incoming.append((int(position), kind))
        rank = _text(row, "levelRank")
        records.append(StepRecord(
            chain=row["chain"].value, position=int(row["position"].value),
            step=row["step"].value, service=row["service"].value,
            producer=row["producer"].value, producer_type=_text(row, "producerType"),
            level=_text(row, "level"), level_rank=int(rank) if rank is not None else None,
            classes=tuple(sorted((_text(row, "serviceClasses") or "").split())),
            tasks=tuple(sorted((_text(row, "serviceTasks") or "").split())),
            incoming=tuple(sorted(incoming)),
        ))
    return records


def _text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    return value.value if value is not None else None


class _Signature(NamedTuple):
    classes: int  # id of the class set
    tasks: int  # id of the task set
    level: str | None
    rank: int | None
    producer_type: str | None
    families: int  # bit mask of the parent classes


class ChainIndex:
    """The comparison features of every chain, compact, for ranking similar chains.

    Steps with the same features share one signature; similarities are memoised by signature
    (and their class and task parts by set), with the same functions `align` uses, so the
    scores are the same as `align`'s to the last bit.
    """

    MEMO_LIMIT = 2_000_000

    def __init__(self, records: Iterable[StepRecord], version: str = "",
                 names: Mapping[str, Texts] | None = None) -> None:
        self.version = version
        #: Names (every language; empty when there are none) of every node of the index's
        #: chains that `named_chains` shows, when built with them (`build`); `names_of` looks
        #: up the others.
        self.names: Mapping[str, Texts] = names or {}
        by_chain: dict[str, dict[int, StepRecord]] = defaultdict(dict)
        for record in records:
            by_chain[record.chain].setdefault(record.position, record)
        self._records = {c: tuple(steps[p] for p in sorted(steps))
                         for c, steps in sorted(by_chain.items())}
        self._iris = list(self._records)
        self._number = {iri: k for k, iri in enumerate(self._iris)}
        self._class_sets: list[frozenset[str]] = []
        self._task_sets: list[frozenset[str]] = []
        self._signatures: list[_Signature] = []
        self._features: list[StepFeatures] = []
        sets: dict[frozenset[str], int] = {}
        tasks: dict[frozenset[str], int] = {}
        families: dict[str, int] = {}
        signature_ids: dict[StepFeatures, int] = {}
        tokens: dict[tuple[str, ...], int] = {}
        self._chain_signatures: list[tuple[int, ...]] = []
        self._bags: list[dict[int, float]] = []
        postings: dict[int, dict[int, float]] = defaultdict(dict)
        for number, iri in enumerate(self._iris):
            ids = []
            bag: dict[int, float] = defaultdict(float)
            for record in self._records[iri]:
                feature = StepFeatures(frozenset(record.classes), frozenset(record.tasks),
                                       record.level, record.level_rank, record.producer_type)
                sid = signature_ids.get(feature)
                if sid is None:
                    cid = sets.setdefault(feature.classes, len(sets))
                    if cid == len(self._class_sets):
                        self._class_sets.append(feature.classes)
                    tid = tasks.setdefault(feature.tasks, len(tasks))
                    if tid == len(self._task_sets):
                        self._task_sets.append(feature.tasks)
                    mask = 0
                    for c in feature.classes:
                        mask |= 1 << families.setdefault(parent_class(c), len(families))
                    sid = signature_ids[feature] = len(self._signatures)
                    self._signatures.append(_Signature(cid, tid, feature.level,
                                                       feature.level_rank,
                                                       feature.producer_type, mask))
                    self._features.append(feature)
                ids.append(sid)
                # Estimate tokens: each step weighs 1 in (class, level) tokens and ½ in
                # parent-class tokens, split evenly over its classes.
                share = 1.0 / len(record.classes) if record.classes else 0.0
                for c in record.classes:
                    exact = tokens.setdefault(("c", c, str(record.level_rank)), len(tokens))
                    parent = tokens.setdefault(("p", parent_class(c)), len(tokens))
                    bag[exact] += share
                    bag[parent] += share / 2
            self._chain_signatures.append(tuple(ids))
            self._bags.append(dict(bag))
            for token, weight in bag.items():
                postings[token][number] = weight
        self._postings = dict(postings)
        self._lock = threading.Lock()
        self._class_memo: dict[tuple[int, int], float] = {}
        self._task_memo: dict[tuple[int, int], float] = {}
        self._pair_memo: dict[tuple[int, int], float] = {}

    @classmethod
    def build(cls, snapshot: Snapshot) -> ChainIndex:
        """The index of every chain, read with one `chain-features` query, with the names of
        its chains, steps, services, producers, producer types, levels, service tasks and
        hand-over kinds (`names-of`, 500 at a time), so that a comparison or a list of
        similar chains needs no query for them."""
        records = records_from_rows(snapshot.select("chain-features"))
        own = {iri for r in records for iri in (
            r.chain, r.step, r.service, r.producer, r.producer_type, r.level, *r.tasks,
            *(kind for _, kind in r.incoming)) if iri}
        names = names_of(snapshot, own)
        return cls(records, version=snapshot.version,
                   names={iri: names.get(iri, Texts()) for iri in own})

    def __len__(self) -> int:
        return len(self._iris)

    def __contains__(self, iri: object) -> bool:
        return iri in self._number

    def chains(self) -> list[str]:
        return list(self._iris)

    def _check(self, iri: str) -> int:
        number = self._number.get(iri)
        if number is None:
            raise UnknownChains([iri])
        return number

    def chain(self, iri: str) -> Chain:
        """The chain's steps and hand-over kinds, without texts, ready for `align`.

        Parallel and alternative steps are not known here, so `parallel_only` of moved steps is
        never set; scores are the same as with `load_chain`.
        """
        self._check(iri)
        records = self._records[iri]
        at = {r.position: r.step for r in records}
        steps = tuple(Step(
            iri=r.step, position=r.position, names=Texts(), service=Node(r.service),
            producer=Node(r.producer),
            producer_type=Node(r.producer_type) if r.producer_type else None,
            level=Node(r.level) if r.level else None, level_rank=r.level_rank, sector=None,
            service_tasks=tuple(Node(t) for t in r.tasks), service_classes=r.classes,
            optional=False, maximum_duration=None, followed_by=(), parallel_with=(),
            alternative_to=()) for r in records)
        transitions = tuple(Transition(
            iri="", names=Texts(), from_step=at.get(source, ""), from_position=source,
            to_step=r.step, to_position=r.position, kind=Node(kind), responsible_producer=None,
            responsible_role=None, maximum_wait=None)
            for r in records for source, kind in r.incoming)
        return Chain(iri=iri, names=Texts(), description=Texts(), steps=steps,
                     transitions=transitions)

    def named_chains(self, snapshot: Snapshot, iris: Sequence[str]) -> list[Chain]:
        """`chain(iri)` for each IRI with the names (every language) of the chains, steps,
        services, producers, producer types, levels, service tasks and hand-over kinds, from
        one `names-of` query: milliseconds where `load_chain` takes long on a national store.
        No descriptions, criteria, parallel or alternative steps."""
        light = [self.chain(iri) for iri in iris]
        wanted: set[str] = set()
        for chain in light:
            wanted.add(chain.iri)
            wanted.update(t.kind.iri for t in chain.transitions)
            for s in chain.steps:
                wanted.update((s.iri, s.service.iri, s.producer.iri))
                wanted.update(n.iri for n in (s.producer_type, s.level) if n is not None)
                wanted.update(t.iri for t in s.service_tasks)
        names = self.names_of(snapshot, wanted)

        def named(node: Node) -> Node:
            return Node(node.iri, names.get(node.iri, Texts()))

        def maybe(node: Node | None) -> Node | None:
            return named(node) if node is not None else None

        return [Chain(
            iri=chain.iri, names=names.get(chain.iri, Texts()), description=Texts(),
            steps=tuple(replace(
                s, names=names.get(s.iri, Texts()), service=named(s.service),
                producer=named(s.producer), producer_type=maybe(s.producer_type),
                level=maybe(s.level), service_tasks=tuple(named(t) for t in s.service_tasks))
                for s in chain.steps),
            transitions=tuple(replace(t, kind=named(t.kind)) for t in chain.transitions),
        ) for chain in light]

    def names_of(self, snapshot: Snapshot, iris: Iterable[str]) -> dict[str, Texts]:
        """`entities.names_of`, from the names the index holds where it has them."""
        wanted = set(iris)
        held = {iri: self.names[iri] for iri in wanted & self.names.keys()}
        return {**names_of(snapshot, wanted - held.keys()),
                **{iri: texts for iri, texts in held.items() if texts}}

    def _value(self, a: int, b: int) -> float:
        """Match value of two signatures (memoised)."""
        key = (a, b) if a <= b else (b, a)
        value = self._pair_memo.get(key)
        if value is not None:
            return value
        x, y = self._signatures[key[0]], self._signatures[key[1]]
        if not x.families & y.families:
            value = 0.0
        else:
            ckey = (x.classes, y.classes)
            c = self._class_memo.get(ckey)
            if c is None:
                c = self._class_memo[ckey] = class_similarity(self._class_sets[x.classes],
                                                              self._class_sets[y.classes])
            tkey = (x.tasks, y.tasks)
            t = self._task_memo.get(tkey)
            if t is None:
                t = self._task_memo[tkey] = task_similarity(self._task_sets[x.tasks],
                                                            self._task_sets[y.tasks])
            value = _match(c, _combine(c, t, level_similarity(x.level, x.rank, y.level, y.rank),
                                       producer_similarity(x.producer_type, y.producer_type)))
        if len(self._pair_memo) > self.MEMO_LIMIT:
            self._pair_memo.clear()
        self._pair_memo[key] = value
        return value

    def _score(self, query: tuple[int, ...], other: tuple[int, ...],
               columns: dict[int, tuple[float, ...]]) -> float:
        cols = []
        for sid in other:
            column = columns.get(sid)
            if column is None:
                column = columns[sid] = tuple(self._value(q, sid) for q in query)
            cols.append(column)
        return dice(_dp_value(cols, len(query)), len(query), len(other))

    def score(self, a: str, b: str) -> float:
        """The exact score of two chains of the index (the same as `align`'s)."""
        query = self._chain_signatures[self._check(a)]
        other = self._chain_signatures[self._check(b)]
        with self._lock:
            return self._score(query, other, {})

    def similar(self, iri: str, limit: int = 10,
                candidates: int = CANDIDATES) -> list[tuple[str, float]]:
        """The chains most similar to `iri` (itself left out), best first, with exact scores.

        The `candidates` chains with the best estimate are aligned exactly; chains scoring 0
        are left out.
        """
        number = self._check(iri)
        query = self._chain_signatures[number]
        estimate: dict[int, float] = defaultdict(float)
        for token, weight in self._bags[number].items():
            for other, other_weight in self._postings[token].items():
                estimate[other] += weight if weight < other_weight else other_weight
        estimate.pop(number, None)
        sizes = self._chain_signatures
        size = len(query)
        best = heapq.nlargest(candidates, estimate.items(),
                              key=lambda item: item[1] / (size + len(sizes[item[0]])))
        columns: dict[int, tuple[float, ...]] = {}
        scored = []
        with self._lock:
            for other, _ in best:
                score = self._score(query, sizes[other], columns)
                if score > 0.0:
                    scored.append((-score, self._iris[other]))
        scored.sort()
        return [(other_iri, -negative) for negative, other_iri in scored[:limit]]


def chain_index(snapshot: Snapshot) -> ChainIndex:
    """The index of the snapshot's chains, built once per snapshot (`Snapshot.kept`)."""
    return snapshot.kept("chain-index", lambda: ChainIndex.build(snapshot))


# ---------------------------------------------------------------------------------------------
# Plain-text report
# ---------------------------------------------------------------------------------------------

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
