"""The life cycle of a description (a service package or chain), as pages and the comparison
read it: its status in the life cycle (draft, proposed, approved, retired), its validity, the
decision that approved it, the description it replaces and the one replacing it, and whether it
is a current state (nykytila) or a target model (tavoitetila) and of which.

The model is ketju's (ontology: `ketju:validFrom`, `ketju:validUntil`, `ketju:approvedBy`,
`ketju:modelState`, `ketju:targetModelOf`; `dct:replaces`, `dct:isReplacedBy`, `adms:status`;
docs/MODELLING.md, "Life cycle of a description"; the IRIs are `ketju.core.lifecycle`'s). Every
life cycle of the build comes from one `lifecycle` query, kept per build (`lifecycle_table`): a
page only looks up its own entry and names it.

Links are read in both directions: a successor that does not say `dct:replaces` still links
back to the description whose `dct:isReplacedBy` names it, and a current state lists the
target models that name it with `ketju:targetModelOf`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ketju.core.lifecycle import (
    APPROVED_BY,
    STATE_WORDS,
    STATUS_WORDS,
    TARGET_MODEL_OF,
    VALID_FROM,
    VALID_UNTIL,
)
from ketju.core.lifecycle import MODEL_STATE_PROPERTY as MODEL_STATE
from ketju.core.namespaces import ADMS, ADMS_STATUS, DCT, FOAF, PROV
from ketju.domain.entities import names_of
from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot

STATUS = ADMS + "status"
REPLACES = DCT + "replaces"
REPLACED_BY = DCT + "isReplacedBy"
#: The life-cycle properties of a description (the page shows them in its own block).
PROPERTIES = frozenset({STATUS, VALID_FROM, VALID_UNTIL, APPROVED_BY, REPLACES, REPLACED_BY,
                        MODEL_STATE, TARGET_MODEL_OF})
#: What a decision's page shows in its own section (and which descriptions point to it).
DECISION_PROPERTIES = frozenset({PROV + "wasAssociatedWith", DCT + "date", DCT + "identifier",
                                 FOAF + "page", APPROVED_BY})

CURRENT = STATE_WORDS["current"]
TARGET = STATE_WORDS["target"]
#: The stage of the life cycle each status stands for (the status words of the API, with a
#: retired description that has no successor, `Withdrawn`, told apart as "withdrawn").
STAGES = {**{iri: word for word, iris in STATUS_WORDS.items() for iri in iris},
          ADMS_STATUS + "Withdrawn": "withdrawn"}


@dataclass(frozen=True)
class Decision:
    """A decision (päätös) that approved descriptions: who made it, when, its reference and
    its public page (None where it is not public)."""

    iri: str
    names: Texts
    body: Node | None
    date: str | None
    reference: str | None
    page: str | None
    approved: tuple[Node, ...] = ()

    @property
    def node(self) -> Node:
        return Node(self.iri, self.names)


@dataclass(frozen=True)
class Lifecycle:
    """The life cycle of one description (see the module docstring)."""

    iri: str
    status: Node | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    decision: Decision | None = None
    replaces: tuple[Node, ...] = ()
    replaced_by: tuple[Node, ...] = ()
    model_state: str | None = None
    #: The current state this target model is for.
    current_state: Node | None = None
    #: The target models of this current state.
    target_models: tuple[Node, ...] = ()

    @property
    def stage(self) -> str | None:
        """draft, proposed, approved, retired, withdrawn, or None (no status or another)."""
        return STAGES.get(self.status.iri) if self.status is not None else None

    @property
    def retired(self) -> bool:
        return self.stage in ("retired", "withdrawn")

    @property
    def state(self) -> str | None:
        """"current" or "target" (its `ketju:modelState`), else None."""
        return next((word for word, iri in STATE_WORDS.items() if iri == self.model_state), None)

    @property
    def missing(self) -> tuple[str, ...]:
        """What a draft or proposed description still lacks to be approved, as the shapes
        require of an approved one: "decision" (`ketju:approvedBy`) and "valid_from"
        (`ketju:validFrom`); nothing for other stages."""
        if self.stage not in ("draft", "proposed"):
            return ()
        return tuple(name for name, present in (("decision", self.decision is not None),
                                                 ("valid_from", self.valid_from is not None))
                     if not present)

    @property
    def counterparts(self) -> tuple[Node, ...]:
        """The other side of a current state and target model pair: the target models of a
        current state, or the current state of a target model."""
        if self.current_state is not None:
            return (self.current_state,)
        return self.target_models


class LifecycleTable:
    """Every life-cycle statement of the build (from the `lifecycle` query), both ways."""

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        self.values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.inverse: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for subject, prop, value in rows:
            self.values[subject][prop].append(value)
            self.inverse[value][prop].append(subject)

    def one(self, iri: str, prop: str) -> str | None:
        found = self.values.get(iri, {}).get(prop)
        return found[0] if found else None

    def all(self, iri: str, prop: str) -> list[str]:
        return list(self.values.get(iri, {}).get(prop, ()))

    def pointing(self, iri: str, prop: str) -> list[str]:
        """The subjects that point to `iri` by `prop`."""
        return list(self.inverse.get(iri, {}).get(prop, ()))

    def __contains__(self, iri: str) -> bool:
        return iri in self.values or iri in self.inverse


def lifecycle_table(snapshot: Snapshot) -> LifecycleTable:
    """The build's life cycles (one `lifecycle` query, made once per build)."""

    def make() -> LifecycleTable:
        return LifecycleTable([(row["description"].value, row["property"].value,
                                row["value"].value) for row in snapshot.select("lifecycle")])

    return snapshot.kept("lifecycle", make)


#: The stages lists of descriptions mark (a draft has its own mark: `chains.draft_chains`).
MARKED_STAGES = ("proposed", "retired", "withdrawn")


def marks(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    """What lists of descriptions mark on each (made once per build): its stage when it is
    proposed, retired or withdrawn, and "target" for a target model."""

    def make() -> dict[str, tuple[str, ...]]:
        table = lifecycle_table(snapshot)
        found: dict[str, tuple[str, ...]] = {}
        for iri, values in table.values.items():
            stage = STAGES.get(values[STATUS][0]) if values.get(STATUS) else None
            marked = ((stage,) if stage in MARKED_STAGES else ()) + (
                ("target",) if values.get(MODEL_STATE) == [TARGET] else ())
            if marked:
                found[iri] = marked
        return found

    return snapshot.kept("lifecycle-marks", make)


def lifecycle_of(snapshot: Snapshot, iri: str) -> Lifecycle | None:
    """The life cycle of the description `iri`, its links named; None when it states none and
    nothing points to it by a life-cycle property."""
    table = lifecycle_table(snapshot)
    if iri not in table:
        return None
    replaces = _unique(table.all(iri, REPLACES) + table.pointing(iri, REPLACED_BY))
    replaced_by = _unique(table.all(iri, REPLACED_BY) + table.pointing(iri, REPLACES))
    current = table.one(iri, TARGET_MODEL_OF)
    targets = sorted(table.pointing(iri, TARGET_MODEL_OF))
    status = table.one(iri, STATUS)
    decision = table.one(iri, APPROVED_BY)
    names = names_of(snapshot, {*replaces, *replaced_by, *targets,
                                *(i for i in (current, status) if i)})

    def node(value: str) -> Node:
        return Node(value, names.get(value, Texts()))

    return Lifecycle(
        iri=iri, status=node(status) if status else None,
        valid_from=table.one(iri, VALID_FROM), valid_until=table.one(iri, VALID_UNTIL),
        decision=decision_of(snapshot, decision, approved=False) if decision else None,
        replaces=tuple(node(i) for i in replaces),
        replaced_by=tuple(node(i) for i in replaced_by),
        model_state=table.one(iri, MODEL_STATE),
        current_state=node(current) if current else None,
        target_models=tuple(node(i) for i in targets))


def decision_of(snapshot: Snapshot, iri: str, approved: bool = True) -> Decision:
    """The decision `iri` with its body named and (`approved`) the descriptions it approved,
    by name."""
    table = lifecycle_table(snapshot)
    body = table.one(iri, PROV + "wasAssociatedWith")
    descriptions = sorted(table.pointing(iri, APPROVED_BY)) if approved else []
    names = names_of(snapshot, {iri, *descriptions, *([body] if body else [])})
    return Decision(
        iri=iri, names=names.get(iri, Texts()),
        body=Node(body, names.get(body, Texts())) if body else None,
        date=table.one(iri, DCT + "date"), reference=table.one(iri, DCT + "identifier"),
        page=table.one(iri, FOAF + "page"),
        approved=tuple(Node(d, names.get(d, Texts())) for d in descriptions))


def current_and_target(snapshot: Snapshot, a: str, b: str) -> tuple[str, str] | None:
    """(current state, target model) when one of `a` and `b` is the other's target model,
    else None."""
    table = lifecycle_table(snapshot)
    if table.one(b, TARGET_MODEL_OF) == a:
        return a, b
    if table.one(a, TARGET_MODEL_OF) == b:
        return b, a
    return None


def _unique(iris: list[str]) -> list[str]:
    return sorted(set(iris))
