"""A service chain (palveluketju) read from the catalogue into plain Python objects.

The diagram, the chain page, the comparison and the reuse all work on `Chain`: its steps in
order (with service, level, producer, sector and their relations) and its hand-overs. Names are
kept in every language they exist in (`Texts`, `Node`: ketju.domain.texts).

A chain and its goal tree come from one query (`chain-graph`, the chain's subgraph), assembled
here: a chain page is one round trip to the store, and the chain's type is checked once.

A chain may be a draft: one derived from another region's with `ketju reuse`
(ketju.domain.reuse) is `adms:status` UnderDevelopment and names placeholder producers
("TÄYDENNÄ" / "TO BE COMPLETED") and the source region's services until the region completes
it. `draft_status(chain)` says what remains to complete; `draft_chains(snapshot)` lists every
draft of the build (for lists of chains, search, comparison), made once per build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from ketju.core.namespaces import ADMS, ADMS_STATUS, ONTOLOGY, PREFIXES, PROV, RDF_TYPE
from ketju.domain.entities import names_of
from ketju.domain.goals import Goal, goals_of
from ketju.domain.texts import Node, Subgraph, Texts
from ketju.infra.snapshot import Snapshot

DESCRIPTION = PREFIXES["dct"] + "description"
K = ONTOLOGY
#: The status of a chain still being described (what `ketju reuse` gives a derived chain).
UNDER_DEVELOPMENT = ADMS_STATUS + "UnderDevelopment"
#: How `ketju reuse` marks what is to be completed: the placeholder producers' IRIs (local
#: name `placeholder-...`) and the first word of their names.
PLACEHOLDER_NAME = "placeholder-"
PLACEHOLDER_MARKS = ("TÄYDENNÄ", "KOMPLETTERA", "TO BE COMPLETED")


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
    #: Its `adms:status` and the chain it was derived from (`prov:wasDerivedFrom`), if any;
    #: not part of what makes two chains equal (the comparison and reuse look at the rest).
    status: str | None = field(default=None, compare=False)
    derived_from: str | None = field(default=None, compare=False)

    def label(self, lang: str) -> str:
        return self.names.pick(lang)[0] or self.iri.rsplit("/", 1)[-1]

    @property
    def region(self) -> str:
        return region_of(self.iri) or ""

    @cached_property
    def by_position(self) -> dict[int, Step]:
        return {step.position: step for step in self.steps}


def region_of(iri: str) -> str | None:
    """The region of a regional IRI (`.../id/{region}/...`), else None."""
    if "/id/" not in iri:
        return None
    return iri.split("/id/", 1)[1].split("/", 1)[0] or None


@dataclass(frozen=True)
class Placeholder:
    """A placeholder producer of a draft, with the steps it is responsible for and the
    hand-overs (from, to) it is named responsible for."""

    producer: Node
    steps: tuple[int, ...]
    handovers: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Borrowed:
    """A step of a draft whose service is still another region's description."""

    position: int
    step: Node
    service: Node
    region: str


@dataclass(frozen=True)
class Draft:
    """What makes a chain a draft and what remains to complete: the placeholder producers
    (one lane each in the diagram) and the steps whose service is another region's."""

    iri: str
    under_development: bool
    derived_from: str | None
    source_region: str | None
    placeholders: tuple[Placeholder, ...] = ()
    borrowed: tuple[Borrowed, ...] = ()

    @property
    def remaining(self) -> int:
        """How many things remain to complete (placeholders and borrowed services)."""
        return len(self.placeholders) + len(self.borrowed)


def is_placeholder(node: Node) -> bool:
    """Whether a producer is a placeholder left by `ketju reuse` (by its IRI or its name)."""
    local = node.iri.rstrip("/").rsplit("/", 1)[-1]
    if local.startswith(PLACEHOLDER_NAME):
        return True
    return any(text.lstrip().upper().startswith(PLACEHOLDER_MARKS)
               for text in node.names.values.values())


def draft_status(chain: Chain) -> Draft | None:
    """Whether `chain` is a draft (status UnderDevelopment or placeholder producers) and what
    remains to complete; None for a chain that is not a draft.

    Placeholders are listed in the order their steps come, each with its steps and the
    hand-overs it is responsible for; borrowed services in step order.
    """
    steps: dict[str, list[int]] = {}
    producers: dict[str, Node] = {}
    for step in chain.steps:
        if is_placeholder(step.producer):
            producers.setdefault(step.producer.iri, step.producer)
            positions = steps.setdefault(step.producer.iri, [])
            if step.position not in positions:
                positions.append(step.position)
    handovers: dict[str, list[tuple[int, int]]] = {}
    for transition in chain.transitions:
        producer = transition.responsible_producer
        if producer is not None and is_placeholder(producer):
            producers.setdefault(producer.iri, producer)
            handovers.setdefault(producer.iri, []).append(
                (transition.from_position, transition.to_position))
    under_development = chain.status == UNDER_DEVELOPMENT
    if not under_development and not producers:
        return None
    own = {chain.region, "national"}
    borrowed: dict[int, Borrowed] = {}
    for step in chain.steps:
        region = region_of(step.service.iri)
        if region is not None and region not in own and step.position not in borrowed:
            borrowed[step.position] = Borrowed(step.position, step.node, step.service, region)
    return Draft(
        iri=chain.iri, under_development=under_development, derived_from=chain.derived_from,
        source_region=region_of(chain.derived_from) if chain.derived_from else None,
        placeholders=tuple(Placeholder(producers[iri], tuple(steps.get(iri, ())),
                                       tuple(handovers.get(iri, ())))
                           for iri in sorted(producers, key=lambda i: (
                               min(steps.get(i, [10**9])), i))),
        borrowed=tuple(borrowed[p] for p in sorted(borrowed)))


@dataclass(frozen=True)
class DraftSummary:
    """A draft chain as lists show it: where it comes from and how many placeholder
    producers remain (`draft_chains`)."""

    iri: str
    derived_from: str | None
    source_region: str | None
    placeholders: int

    @property
    def remaining(self) -> int:
        return self.placeholders


def draft_chains(snapshot: Snapshot) -> dict[str, DraftSummary]:
    """Every draft chain of the build by IRI (one `chain-drafts` query, made once per build):
    for marking drafts wherever chains are listed."""

    def make() -> dict[str, DraftSummary]:
        found: dict[str, DraftSummary] = {}
        for row in snapshot.select("chain-drafts"):
            iri = row["chain"].value
            source = row["source"].value if row.get("source") is not None else None
            count = row.get("placeholders")
            found[iri] = DraftSummary(iri, source, region_of(source) if source else None,
                                      int(count.value) if count is not None else 0)
        return found

    return snapshot.kept("chain-drafts", make)


class ChainNotFound(LookupError):
    """No service chain has this IRI."""


def load_chain(snapshot: Snapshot, iri: str) -> Chain:
    """The chain `iri` (ChainNotFound when it is not a ketju:ServiceChain), from one query."""
    return chain_view(snapshot, iri)[0]


def chain_view(snapshot: Snapshot, iri: str) -> tuple[Chain, list[Goal]]:
    """What a chain's page shows: the chain and its goal tree, from one query (and the
    build's table of names, or one `names-of` query before the table is made)."""
    graph = Subgraph(snapshot.construct("chain-graph", chain=ox.NamedNode(iri)))
    if K + "ServiceChain" not in graph.iris(iri, RDF_TYPE):
        raise ChainNotFound(iri)
    graph.named(names_of(snapshot, graph.nodes()))
    return chain_of(graph, iri), goals_of(graph, iri)


def chain_of(graph: Subgraph, iri: str) -> Chain:
    """The chain `iri` assembled from its subgraph (see `chain-graph`)."""
    steps = [step for step_iri in graph.iris(iri, K + "hasStep")
             if (step := _step(graph, step_iri)) is not None]
    transitions = [transition for transition_iri in graph.iris(iri, K + "hasTransition")
                   if (transition := _transition(graph, transition_iri)) is not None]
    return Chain(
        iri=iri,
        names=graph.texts(iri, PREFIXES["skos"] + "prefLabel"),
        description=graph.texts(iri, DESCRIPTION),
        steps=tuple(sorted(steps, key=lambda s: (s.position, s.iri))),
        transitions=tuple(sorted(transitions, key=lambda t: (t.from_position, t.to_position,
                                                             t.iri))),
        status=graph.iri(iri, ADMS + "status"),
        derived_from=graph.iri(iri, PROV + "wasDerivedFrom"),
    )


def _position(graph: Subgraph, step: str) -> int | None:
    value = graph.literal(step, K + "position")
    return int(value) if value is not None else None


def _positions(graph: Subgraph, steps: list[str]) -> tuple[int, ...]:
    return tuple(sorted({p for s in steps if (p := _position(graph, s)) is not None}))


def _step(graph: Subgraph, iri: str) -> Step | None:
    """One step; None without position, service or producer (as `chain-steps` leaves it out)."""
    position = _position(graph, iri)
    service = graph.iri(iri, K + "service")
    producer = graph.iri(iri, K + "responsibleProducer")
    if position is None or service is None or producer is None:
        return None
    # The step's own level, else its service's.
    level = graph.iri(iri, K + "serviceLevel") or graph.iri(service, K + "serviceLevel")
    rank = graph.literal(level, K + "rank") if level else None
    optional = graph.literal(iri, K + "optional")

    def node(value: str | None) -> Node | None:
        return graph.node(value) if value is not None else None

    def related(prop: str) -> tuple[int, ...]:
        return _positions(graph, graph.iris(iri, K + prop) + graph.subjects(K + prop, iri))

    return Step(
        iri=iri,
        position=position,
        names=graph.texts(iri),
        service=graph.node(service),
        producer=graph.node(producer),
        producer_type=node(graph.iri(producer, K + "producerType")),
        level=node(level),
        level_rank=int(rank) if rank is not None else None,
        sector=node(graph.iri(service, K + "sector")),
        service_tasks=tuple(graph.node(t) for t in graph.iris(service, K + "serviceTask")),
        service_classes=tuple(graph.iris(service, K + "serviceClass")),
        optional=optional == "true",
        maximum_duration=graph.literal(iri, K + "maximumDuration"),
        followed_by=_positions(graph, graph.iris(iri, K + "followedBy")),
        parallel_with=related("parallelWith"),
        alternative_to=related("alternativeTo"),
        entry_criterion=graph.texts(iri, K + "entryCriterion"),
        exit_criterion=graph.texts(iri, K + "exitCriterion"),
    )


def _transition(graph: Subgraph, iri: str) -> Transition | None:
    """One hand-over; None without both ends (with positions) and a kind."""
    from_step, to_step = graph.iri(iri, K + "fromStep"), graph.iri(iri, K + "toStep")
    kind = graph.iri(iri, K + "transitionKind")
    if from_step is None or to_step is None or kind is None:
        return None
    from_position, to_position = _position(graph, from_step), _position(graph, to_step)
    if from_position is None or to_position is None:
        return None
    producer = graph.iri(iri, K + "responsibleProducer")
    role = graph.iri(iri, K + "responsibleRole")
    return Transition(
        iri=iri,
        names=graph.texts(iri),
        from_step=from_step,
        from_position=from_position,
        to_step=to_step,
        to_position=to_position,
        kind=graph.node(kind),
        responsible_producer=graph.node(producer) if producer else None,
        responsible_role=graph.node(role) if role else None,
        maximum_wait=graph.literal(iri, K + "maximumWait"),
        trigger=graph.texts(iri, K + "trigger"),
        information=graph.texts(iri, K + "transferredInformation"),
    )
