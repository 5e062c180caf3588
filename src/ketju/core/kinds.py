"""The registry of kinds (lajit): one declaration per kind of entity the catalogue holds.

Everything that treats kinds differently reads this list and nothing else: the `{kind}`
segments a data IRI may have (validation), the columns of the home page and of `ketju status`,
the labels in fi/sv/en (`kind_*` and `kinds_*` in the interface texts), the API lists
(`/api/{api}`), the page each kind gets and the loader of its view model, what search indexes
and how it ranks it, and what the LDES change stream versions. Adding a kind is an ontology
class, a SHACL shape, one entry here, its query and its template: docs/ADDING_A_KIND.md.

Order matters: it is the order of columns and lists, and an entity of several kinds is
searched as, and gets the page of, the first of them here.

>>> by_name("ServiceChain").segment
'chain'
>>> [kind.api for kind in KINDS if kind.api]
['packages', 'chains', 'services', 'producers']
>>> by_segment("data-source").name
'DataSource'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from ketju.core.namespaces import CV, ONTOLOGY, ORG


@dataclass(frozen=True)
class Labels:
    """A name in the three interface languages."""

    fi: str
    sv: str
    en: str

    def items(self) -> tuple[tuple[str, str], ...]:
        return (("fi", self.fi), ("sv", self.sv), ("en", self.en))


@dataclass(frozen=True)
class Page:
    """The HTML page of a kind: its template (in ketju/web/templates) and the loader of its
    view model, a dotted name `module:function` that the web layer resolves (the core may
    not import it). The loader is called as `loader(snapshot, iri, lang)` and returns the
    template's context, or None when the entity is not one of this kind after all (404)."""

    template: str
    loader: str


@dataclass(frozen=True)
class Kind:
    """One kind of entity (laji), e.g. the service chain (palveluketju)."""

    #: The class IRI (an ontology class, or a class of a standard the ontology reuses).
    iri: str
    #: The `{kind}` segment of its data IRIs (`/id/{region}/{segment}/{slug}`); None for kinds
    #: that are not regional data (the JHS 183 code list).
    segment: str | None
    #: Its name, and the name of many (headings of lists; None where no page lists them).
    label: Labels
    plural: Labels | None = None
    #: `/api/{api}` lists it (through the named query `list_query`, which binds the entity
    #: to the variable named like the segment), and `/api/{api}/{region}/{slug}` gives one.
    api: str | None = None
    list_query: str | None = None
    #: Its own page; kinds without one get the generic entity page.
    page: Page | None = None
    #: Indexed by search, and the factor its relevance is multiplied by within a tier.
    searched: bool = False
    boost: float = 1.0
    #: Versioned in the LDES change stream (with its subclasses).
    change_stream: bool = False
    #: The pages that list it, with `plural` as the heading (see `shown_on`): `HOME` and
    #: `REGIONS` count it per region (query catalogue-summary), `ORGANISER` lists an
    #: organiser's own with their target segments (query region-catalogue).
    lists: frozenset[str] = frozenset()
    #: Its column in `ketju status` (counted per region by the query catalogue-summary).
    short: str | None = None
    #: Contributed data checked by a SHACL shape in shapes/; False for code-list concepts
    #: shipped with the vocabularies and for classes only ever used as values.
    shaped: bool = True

    @property
    def name(self) -> str:
        """The class's local name, e.g. `ServiceChain` (also the key of its labels)."""
        return self.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


#: Pages that list kinds (`Kind.lists`).
HOME: Final = "home"
REGIONS: Final = "regions"
ORGANISER: Final = "organiser"



def _k(name: str) -> str:
    return ONTOLOGY + name


#: Every kind, in the order lists and columns show them (see the module docstring).
KINDS: Final[tuple[Kind, ...]] = (
    Kind(_k("ServicePackage"), "package",
         Labels("palvelukokonaisuus", "servicehelhet", "service package"),
         Labels("Palvelukokonaisuudet", "Servicehelheter", "Packages"),
         api="packages", list_query="resource-packages",
         page=Page("package.html", "ketju.web.pages:package_view"),
         searched=True, boost=1.5, change_stream=True, short="packages",
         lists=frozenset({HOME, REGIONS, ORGANISER})),
    Kind(_k("ServiceChain"), "chain",
         Labels("palveluketju", "servicekedja", "service chain"),
         Labels("Palveluketjut", "Servicekedjor", "Chains"),
         api="chains", list_query="resource-chains",
         page=Page("chain.html", "ketju.web.pages:chain_view"),
         searched=True, boost=1.5, change_stream=True, short="chains",
         lists=frozenset({HOME, REGIONS, ORGANISER})),
    Kind(_k("Service"), "service",
         Labels("palvelu", "tjänst", "service"),
         Labels("Palvelut", "Tjänster", "Services"),
         api="services", list_query="resource-services",
         searched=True, boost=1.2, change_stream=True, short="services",
         lists=frozenset({HOME, REGIONS})),
    Kind(_k("Organiser"), "organiser",
         Labels("järjestäjä", "anordnare", "organiser"),
         page=Page("organiser.html", "ketju.web.pages:organiser_view"),
         searched=True),
    Kind(_k("Producer"), "producer",
         Labels("tuottaja", "producent", "producer"),
         Labels("Tuottajat", "Producenter", "Producers"),
         api="producers", list_query="resource-producers",
         searched=True, change_stream=True, lists=frozenset({HOME}), short="producers"),
    Kind(_k("Interface"), "interface",
         Labels("yhdyspinta", "gränsyta", "interface"),
         Labels("Yhdyspinnat", "Gränsytor", "Interfaces"),
         searched=True, lists=frozenset({HOME}), short="interfaces"),
    Kind(_k("Goal"), "goal",
         Labels("tavoite", "mål", "goal"),
         Labels("Tavoitteet", "Mål", "Goals"),
         page=Page("goal.html", "ketju.web.pages:goal_view"),
         searched=True, lists=frozenset({HOME}), short="goals"),
    # Before Indicator (its superclass): a national indicator gets its own page. Its IRIs
    # are `/id/national/indicator/{slug}`, so the segment is the indicator's.
    Kind(_k("NationalIndicator"), None,
         Labels("kansallinen mittari", "nationell mätare", "national indicator"),
         page=Page("national_indicator.html", "ketju.web.monitoring:national_indicator_view")),
    Kind(_k("Indicator"), "indicator",
         Labels("mittari", "mätare", "indicator"),
         Labels("Mittarit", "Mätare", "Indicators"),
         page=Page("indicator.html", "ketju.web.monitoring:indicator_view"),
         searched=True, lists=frozenset({HOME}), short="indicators"),
    Kind(_k("DataSource"), "data-source",
         Labels("tietolähde", "datakälla", "data source"),
         Labels("Tietolähteet", "Datakällor", "Data sources"),
         searched=True, lists=frozenset({HOME}), short="sources"),
    Kind(_k("Target"), "target",
         Labels("tavoitearvo", "målvärde", "target")),
    Kind(_k("Forum"), "forum",
         Labels("dialogifoorumi", "dialogforum", "dialogue forum")),
    # The decision that approves a package or chain (its life cycle, issue 16): the generic
    # entity page shows it at /id/{region}/decision/{slug}.
    Kind(_k("Decision"), "decision",
         Labels("päätös", "beslut", "decision")),
    Kind(_k("CustomerSegment"), "segment",
         Labels("asiakassegmentti", "kundsegment", "customer segment"),
         Labels("Segmentit", "Segment", "Segments"),
         searched=True, lists=frozenset({HOME}), short="segments"),
    Kind(_k("SteeringMeasure"), "steering-measure",
         Labels("ohjauskeino", "styrmedel", "steering measure"),
         Labels("Ohjaus", "Styrning", "Steering"),
         searched=True, lists=frozenset({HOME}), short="steering"),
    Kind(_k("CustomerPlanTemplate"), "plan-template",
         Labels("asiakassuunnitelman pohja", "mall för klientplan",
                "customer plan template"),
         short="plans"),
    Kind(CV + "Channel", "channel",
         Labels("asiointikanava", "kontaktkanal", "contact channel"),
         short="channels"),
    Kind(_k("ServiceTask"), "service-task",
         Labels("palvelutehtävä", "serviceuppgift", "service task"),
         searched=True),
    Kind(_k("ServiceClass"), None,
         Labels("palveluluokka", "serviceklass", "service class"),
         searched=True, shaped=False),
    Kind(_k("IndicatorObservation"), "observation",
         Labels("mittarin havainto", "mätarobservation", "indicator observation"),
         shaped=False),
    Kind(ORG + "Organization", "organisation",
         Labels("organisaatio", "organisation", "organisation")),
    Kind(ORG + "Role", "role",
         Labels("rooli", "roll", "role"), shaped=False),
)

_BY_NAME: Final[Mapping[str, Kind]] = MappingProxyType({k.name: k for k in KINDS})
_BY_SEGMENT: Final[Mapping[str, Kind]] = MappingProxyType(
    {k.segment: k for k in KINDS if k.segment is not None})

#: The `{kind}` segments a data IRI may have.
SEGMENTS: Final[tuple[str, ...]] = tuple(_BY_SEGMENT)


def by_name(name: str) -> Kind:
    """The kind of a class local name (`KeyError` when there is none)."""
    return _BY_NAME[name]


def by_segment(segment: str) -> Kind:
    """The kind of an IRI segment (`KeyError` when there is none)."""
    return _BY_SEGMENT[segment]


def names(**having: object) -> tuple[str, ...]:
    """The local names of the kinds whose fields have the given values, in registry order.

    >>> names(change_stream=True)
    ('ServicePackage', 'ServiceChain', 'Service', 'Producer')
    """
    return tuple(k.name for k in KINDS
                 if all(getattr(k, key) == value for key, value in having.items()))


def shown_on(page: str) -> tuple[str, ...]:
    """The local names of the kinds a page lists (`HOME`, `REGIONS`, `ORGANISER`).

    >>> shown_on(REGIONS)
    ('ServicePackage', 'ServiceChain', 'Service')
    """
    return tuple(k.name for k in KINDS if page in k.lists)


def label_texts() -> dict[str, dict[str, str]]:
    """The kinds' labels as interface texts, by language: `kind_{name}` (one) and
    `kinds_{name}` (many)."""
    texts: dict[str, dict[str, str]] = {"fi": {}, "sv": {}, "en": {}}
    for kind in KINDS:
        for lang, text in kind.label.items():
            texts[lang]["kind_" + kind.name] = text
        if kind.plural is not None:
            for lang, text in kind.plural.items():
                texts[lang]["kinds_" + kind.name] = text
    return texts


__all__ = ["HOME", "KINDS", "ORGANISER", "REGIONS", "SEGMENTS", "Kind", "Labels", "Page",
           "by_name", "by_segment", "label_texts", "names", "shown_on"]
