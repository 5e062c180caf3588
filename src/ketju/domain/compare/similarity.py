"""How alike two steps are: the four parts of the step similarity (service classes, tasks, level,
producer type), their weights, and the match value (see the package's docstring for the
formulas)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ketju.core.namespaces import PRODUCER_TYPE
from ketju.domain.chains import (
    Step,
)

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


# Step similarity

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
