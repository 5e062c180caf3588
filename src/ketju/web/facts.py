"""What an entity page says about an entity in words: its kind, its facts and what relates to
it, from its description (`ketju.domain.entities.describe`), without the RDF plumbing.

* The kind is the first kind of the registry (ketju.core.kinds) the entity is one of; an
  entity of no registered kind gets no kind line (never "Entity" or "Organization").
* Facts are its statements minus what the page shows otherwise (names, descriptions, types,
  and what the kind's own sections show): in a fixed order for the facts every kind has
  (status, version, dates, organiser, region, segment), then by the property's name. Texts
  in several languages show in the page's language only.
* Related are the entities that point to it, grouped by their kind (a chain's steps and
  hand-overs by theirs), without its own parts (IRIs under its own) and without what the page
  lists itself.

The whole statement table stays one click away (`?view=statements`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ketju.core import kinds as registry
from ketju.core.namespaces import (
    ADMS,
    CV,
    DCAT,
    DCT,
    FOAF,
    ID,
    ONTOLOGY,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SDMX_ATTRIBUTE,
    SKOS,
    VOCAB,
)
from ketju.domain.entities import (
    DESCRIPTION_PROPERTIES,
    LABEL_PROPERTIES,
    Description,
    Statement,
    Value,
)
from ketju.domain.texts import Node, Texts

REGION = VOCAB + "region/"
K = ONTOLOGY
#: Never a fact: names, descriptions and types are the page's header.
HIDDEN = frozenset({RDF + "type", *LABEL_PROPERTIES, *DESCRIPTION_PROPERTIES})
#: The facts every kind may have, first and in this order; the others follow by name.
FIRST = (ADMS + "status", DCAT + "version", OWL + "versionInfo", DCT + "issued",
         DCT + "modified", K + "organiser", K + "coOrganiser", K + "region",
         K + "targetSegment", PROV + "wasDerivedFrom")
_RANK = {iri: index for index, iri in enumerate(FIRST)}
#: Indicator observations are never listed as related: the indicator's chart and table show
#: them (a hand-over's page would list every quarter's measured wait by its code).
OBSERVATIONS = frozenset({"observation"})
#: Texts longer than this are shown across the page, after the short facts.
WIDE_TEXT = 80


@dataclass(frozen=True)
class Shown:
    """What a kind's page shows in its own sections, so its facts and related leave it out:
    properties (in both directions) and kinds of linking entities (by IRI segment)."""

    properties: frozenset[str] = frozenset()
    linking_segments: frozenset[str] = frozenset()


_MONITORED = Shown(frozenset({
    K + "nationalIndicator", K + "polarity", K + "hasTarget", K + "reportingProducer",
    K + "reportsTo", K + "reportingChannel", K + "discussedIn", K + "reportedBy",
    DCT + "accrualPeriodicity", SDMX_ATTRIBUTE + "unitMeasure",
    K + "indicator"}))

#: By page template: what its own sections show.
SHOWN_BY_TEMPLATE = {
    "chain.html": Shown(frozenset({K + "hasStep", K + "hasTransition", K + "hasMainGoal",
                                   K + "hasGoal", K + "inChain"})),
    "package.html": Shown(frozenset({
        K + "hasMainGoal", K + "hasGoal", K + "includesService", K + "hasSubPackage",
        K + "relatedPackage", K + "hasInterface", K + "hasSteeringMeasure",
        K + "customerPlanTemplate", K + "partOfPackage"})),
    "goal.html": Shown(frozenset({K + "goalLevel", K + "goalPerspective", K + "measuredBy",
                                  K + "contributesTo", K + "hasGoal", K + "hasMainGoal"})),
    "organiser.html": Shown(frozenset(), frozenset({"package", "chain"})),
    # The monitoring sections show these; observations are in the chart and its table.
    "indicator.html": _MONITORED,
    "national_indicator.html": _MONITORED,
}


def with_shown(shown: Shown, properties: Iterable[str]) -> Shown:
    """`shown` and the `properties` a page's section shows too (its life cycle)."""
    extra = frozenset(properties)
    return Shown(shown.properties | extra, shown.linking_segments) if extra else shown


@dataclass(frozen=True)
class Fact:
    """One property of the entity and its values as the page shows them."""

    property: Node
    values: tuple[Value, ...]

    @property
    def wide(self) -> bool:
        """Whether it holds a text too long for a narrow column (shown across the page)."""
        return any(not v.is_node and len(v.text) > WIDE_TEXT for v in self.values)


@dataclass(frozen=True)
class Related:
    """An entity that points to the page's entity, by which properties, and its region when
    that is another than the entity's (the same name in two regions is two entities)."""

    subject: Node
    properties: tuple[Node, ...]
    region: str | None = None


@dataclass(frozen=True)
class RelatedGroup:
    """Entities of one kind that point to the entity."""

    #: The interface text of the group's heading (`kinds_*`, `kind_*`, `speech_*`).
    heading: str
    items: tuple[Related, ...]

    @property
    def mixed(self) -> bool:
        """Whether the items point by more than one property (then each item names them)."""
        return len({p.iri for item in self.items for p in item.properties}) > 1

    def regions(self) -> set[str]:
        return {item.region for item in self.items if item.region}


def kinds_of(description: Description) -> list[registry.Kind]:
    """The kinds of the registry the entity is one of, in its order; "organisation" only
    when it is of no other (every organiser and producer is one)."""
    types = {t.iri for t in description.types}
    found = [k for k in registry.KINDS if k.iri in types]
    return [k for k in found if k.iri != ORG + "Organization"] or found


def kind_heading(kind: registry.Kind) -> str:
    return ("kinds_" if kind.plural is not None else "kind_") + kind.name


def facts(description: Description, lang: str, shown: Shown = Shown()) -> list[Fact]:
    """The entity's facts in the order the page shows them (see the module docstring)."""
    found = []
    for statement in description.statements:
        prop = statement.property.iri
        if prop in HIDDEN or prop in shown.properties:
            continue
        values = _in_language(statement.values, lang)
        if values:
            found.append(Fact(statement.property, values))
    return sorted(found, key=lambda f: (f.wide, _RANK.get(f.property.iri, len(_RANK)),
                                        f.property.label(lang).lower()))


def _in_language(values: Iterable[Value], lang: str) -> tuple[Value, ...]:
    """The values, with texts in several languages reduced to the one in `lang` (or the
    first fallback that exists)."""
    values = tuple(values)
    tagged = [v for v in values if not v.is_node and v.lang]
    if len(tagged) < 2:
        return values
    _, used = Texts({v.lang: v.text for v in tagged}).pick(lang)
    return tuple(v for v in values if v.is_node or not v.lang or v.lang == used)


def related(description: Description, shown: Shown = Shown(),
            steps: Mapping[str, tuple[str, int]] | None = None) -> list[RelatedGroup]:
    """The entities pointing to this one (this page of them), grouped by kind, registry
    order; the entity's own parts and what the page lists itself are left out. Chain steps
    are in chain order (`steps`: each step's chain and position)."""
    own = description.iri.rstrip("/") + "/"
    groups: dict[str, dict[str, tuple[Node, list[Node]]]] = {}
    for subject, prop in description.links.items:
        if subject.iri.startswith(own) or prop.iri in shown.properties:
            continue
        segment, sub = _segments(subject.iri)
        if segment in OBSERVATIONS or (segment in shown.linking_segments and sub is None):
            continue
        group = groups.setdefault(_heading(segment, sub), {})
        group.setdefault(subject.iri, (subject, []))[1].append(prop)
    order = {kind_heading(k): i for i, k in enumerate(registry.KINDS)}
    placed = steps or {}
    # The page's own region is not repeated (nor on the region's own page).
    home = region_of(description.iri) or (description.iri.rsplit("/", 1)[-1]
                                          if description.iri.startswith(REGION) else None)
    return [RelatedGroup(heading, tuple(sorted(
                (Related(subject, tuple(props), region if (region := region_of(subject.iri))
                         not in (home, "national") else None)
                 for subject, props in items.values()),
                key=lambda i: placed.get(i.subject.iri, (i.subject.iri, 0)))))
            for heading, items in sorted(groups.items(),
                                         key=lambda g: (order.get(g[0], len(order)), g[0]))]


def link_filter(iri: str) -> Callable[[str], bool]:
    """What a page for people leaves out of the links to `iri` before paging them: the
    entity's own parts (its page shows them) and indicator observations."""
    own = iri.rstrip("/") + "/"

    def hidden(subject: str) -> bool:
        # A region at national scale has hundreds of thousands of observations: the cheap
        # test first.
        return subject.startswith(own) or (
            "/observation/" in subject and _segments(subject)[0] in OBSERVATIONS)

    return hidden


def linking_steps(description: Description) -> list[str]:
    """The chain steps among the entities that point to this one (this page of them), not
    its own (a chain's page lists its steps itself)."""
    own = description.iri.rstrip("/") + "/"
    return [s.iri for s, _ in description.links.items
            if _segments(s.iri)[1] == "step" and not s.iri.startswith(own)]


def region_of(iri: str) -> str | None:
    """The region segment of a data IRI (`keski-suomi`), else None."""
    return iri[len(ID):].split("/", 1)[0] if iri.startswith(ID) else None


def _segments(iri: str) -> tuple[str | None, str | None]:
    """The kind segment of a data IRI and its sub-kind (`step` of a chain's step), if any."""
    if not iri.startswith(ID):
        return None, None
    parts = iri[len(ID):].split("/")
    return (parts[1] if len(parts) > 2 else None,
            parts[3] if len(parts) > 4 else None)


#: Related groups headed otherwise than by their kind's name: an organisation of the data
#: (`/id/{region}/organisation/...`) is a region's governing body (issue 16: the deciding
#: body of a decision), never "Organisation", a type's name.
HEADINGS_BY_SEGMENT = {"organisation": "lc_bodies"}


def _heading(segment: str | None, sub: str | None) -> str:
    if sub is not None:
        return f"speech_sub_{sub}" if sub in ("step", "transition") else "speech_other"
    if segment is None:
        return "speech_other"
    if segment in HEADINGS_BY_SEGMENT:
        return HEADINGS_BY_SEGMENT[segment]
    try:
        return kind_heading(registry.by_segment(segment))
    except KeyError:
        return "speech_other"


def curie(iri: str) -> str:
    """A property's compact name for the statements view ("skos:prefLabel")."""
    for prefix, namespace in (("ketju", K), ("skos", SKOS), ("dct", DCT), ("rdf", RDF),
                              ("rdfs", RDFS), ("owl", OWL), ("prov", PROV), ("adms", ADMS),
                              ("dcat", DCAT), ("org", ORG),
                              ("cv", CV), ("foaf", FOAF)):
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def stated_steps(description: Description) -> list[str]:
    """The chain steps among the entity's values (a chain's `hasStep`)."""
    return [v.node.iri for statement in description.statements for v in statement.values
            if v.node is not None and _segments(v.node.iri)[1] == "step"]


def in_chain_order(statements: Iterable[Statement],
                   steps: Mapping[str, tuple[str, int]]) -> tuple[Statement, ...]:
    """The statements with chain steps among their values in chain order (not by IRI)."""
    def key(value: Value) -> tuple[str, int]:
        iri = value.node.iri if value.node is not None else value.text
        return steps.get(iri, (iri, 0))

    return tuple(Statement(s.property, tuple(sorted(s.values, key=key)))
                 if any(v.node is not None and v.node.iri in steps for v in s.values) else s
                 for s in statements)
