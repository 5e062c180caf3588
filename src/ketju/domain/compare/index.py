"""The index of every chain of a build, for "similar chains" and quick comparisons: each step's
features read once, chains scored against all others by their best alignments."""

from __future__ import annotations

import heapq
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from ketju.domain.chains import (
    Chain,
    ChainNotFound,
    Node,
    Step,
    Texts,
    Transition,
)
from ketju.domain.compare.alignment import _dp_value, dice
from ketju.domain.compare.similarity import (
    CANDIDATES,
    StepFeatures,
    _combine,
    _match,
    class_similarity,
    level_similarity,
    parent_class,
    producer_similarity,
    task_similarity,
)
from ketju.domain.entities import names_of
from ketju.infra.snapshot import Snapshot

# The index of all chains, for "similar chains"

class UnknownChains(ChainNotFound):
    """Some of the chains asked for do not exist."""

    def __init__(self, iris: Sequence[str]) -> None:
        self.iris = tuple(iris)
        super().__init__("unknown service chain" + ("s" if len(iris) > 1 else "") + ": "
                         + ", ".join(self.iris))


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
