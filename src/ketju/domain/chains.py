"""A service chain (palveluketju) read from the catalogue into plain Python objects.

The diagram, the chain page, the comparison and the reuse all work on `Chain`: its steps in
order (with service, level, producer, sector and their relations) and its hand-overs. Names are
kept in every language they exist in (`Texts`, `Node`: ketju.domain.texts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from ketju.domain.texts import Node, Texts
from ketju.infra.snapshot import Snapshot

SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
DESCRIPTION = "http://purl.org/dc/terms/description"
ONTOLOGY = "https://w3id.org/ketju/ontology#"


@dataclass(frozen=True)
class Step:
    iri: str
    position: int
    names: Texts
    service: Node
    producer: Node
    producer_type: Node | None
    level: Node | None
    level_rank: int | None
    sector: Node | None
    service_tasks: tuple[Node, ...]
    service_classes: tuple[str, ...]
    optional: bool
    maximum_duration: str | None
    followed_by: tuple[int, ...]
    parallel_with: tuple[int, ...]
    alternative_to: tuple[int, ...]
    entry_criterion: Texts = field(default_factory=Texts)
    exit_criterion: Texts = field(default_factory=Texts)

    def label(self, lang: str) -> str:
        return self.names.pick(lang)[0] or self.service.label(lang)

    @property
    def node(self) -> Node:
        return Node(self.iri, self.names if self.names else self.service.names)


@dataclass(frozen=True)
class Transition:
    iri: str
    names: Texts
    from_step: str
    from_position: int
    to_step: str
    to_position: int
    kind: Node
    responsible_producer: Node | None
    responsible_role: Node | None
    maximum_wait: str | None
    trigger: Texts = field(default_factory=Texts)
    information: Texts = field(default_factory=Texts)

    def responsible(self) -> Node | None:
        return self.responsible_producer or self.responsible_role


@dataclass(frozen=True)
class Chain:
    iri: str
    names: Texts
    description: Texts
    steps: tuple[Step, ...]
    transitions: tuple[Transition, ...]

    def label(self, lang: str) -> str:
        return self.names.pick(lang)[0] or self.iri.rsplit("/", 1)[-1]

    @property
    def region(self) -> str:
        return self.iri.split("/id/", 1)[1].split("/", 1)[0]

    @cached_property
    def by_position(self) -> dict[int, Step]:
        return {step.position: step for step in self.steps}


class ChainNotFound(LookupError):
    """No service chain has this IRI."""


def load_chain(snapshot: Snapshot, iri: str) -> Chain:
    """Read a chain with three named queries: its steps, its hand-overs and their texts."""
    chain = ox.NamedNode(iri)
    if not snapshot.data.ask(f"ASK {{ ?chain a <{ONTOLOGY}ServiceChain> }}", {"chain": chain}):
        raise ChainNotFound(iri)
    texts: dict[tuple[str, str], dict[str, str]] = {}
    for row in snapshot.select("chain-texts", chain=chain):
        text = row["text"]
        lang = text.language if isinstance(text, ox.Literal) and text.language else ""
        owner = row["node"].value if "node" in row else iri  # no node: the chain's own text
        texts.setdefault((owner, row["property"].value), {})[lang] = text.value

    def names(node: str, prop: str = SKOS_LABEL) -> Texts:
        return Texts(texts.get((node, prop), {}))

    def node(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple],
             key: str) -> Node | None:
        value = row.get(key)
        return Node(value.value, names(value.value)) if value is not None else None  # type: ignore[union-attr]

    def positions(row: dict[str, object], key: str) -> tuple[int, ...]:
        value = row.get(key)
        text = value.value if value is not None else ""  # type: ignore[attr-defined]
        return tuple(sorted(int(p) for p in text.split(",") if p))

    steps = []
    for row in snapshot.select("chain-steps", chain=chain):
        step_iri = row["step"].value
        steps.append(Step(
            iri=step_iri,
            position=int(row["position"].value),
            names=names(step_iri),
            service=node(row, "service"),  # type: ignore[arg-type]
            producer=node(row, "producer"),  # type: ignore[arg-type]
            producer_type=node(row, "producerType"),
            level=node(row, "level"),
            level_rank=int(row["levelRank"].value) if "levelRank" in row else None,
            sector=node(row, "sector"),
            service_tasks=tuple(Node(i, names(i)) for i in sorted(
                row["serviceTasks"].value.split())) if "serviceTasks" in row else (),
            service_classes=tuple(sorted(row["serviceClasses"].value.split()))
            if "serviceClasses" in row else (),
            optional=row["optional"].value == "true" if "optional" in row else False,
            maximum_duration=row["maximumDuration"].value if "maximumDuration" in row else None,
            followed_by=positions(row, "followedBy"),
            parallel_with=positions(row, "parallelWith"),
            alternative_to=positions(row, "alternativeTo"),
            entry_criterion=names(step_iri, ONTOLOGY + "entryCriterion"),
            exit_criterion=names(step_iri, ONTOLOGY + "exitCriterion"),
        ))
    transitions = []
    for row in snapshot.select("chain-transitions", chain=chain):
        transition_iri = row["transition"].value
        transitions.append(Transition(
            iri=transition_iri,
            names=names(transition_iri),
            from_step=row["fromStep"].value,
            from_position=int(row["fromPosition"].value),
            to_step=row["toStep"].value,
            to_position=int(row["toPosition"].value),
            kind=node(row, "kind"),  # type: ignore[arg-type]
            responsible_producer=node(row, "responsibleProducer"),
            responsible_role=node(row, "responsibleRole"),
            maximum_wait=row["maximumWait"].value if "maximumWait" in row else None,
            trigger=names(transition_iri, ONTOLOGY + "trigger"),
            information=names(transition_iri, ONTOLOGY + "transferredInformation"),
        ))
    return Chain(
        iri=iri,
        names=names(iri),
        description=names(iri, DESCRIPTION),
        steps=tuple(sorted(steps, key=lambda s: s.position)),
        transitions=tuple(transitions),
    )
