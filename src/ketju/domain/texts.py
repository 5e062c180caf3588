"""Names and texts in several languages, and the nodes that carry them.

Every view of the catalogue (chains, packages, goals, entity pages) names things with `Node`:
an IRI and its names in every language they exist in; `Texts.pick(lang)` chooses one along
the fallback order of ketju.core.languages. `Subgraph` holds the triples one query brought
back about a few nodes, from which a page's view model is assembled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from ketju.core.languages import FALLBACK
from ketju.core.namespaces import PREFIXES

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
PREF_LABEL = PREFIXES["skos"] + "prefLabel"


@dataclass(frozen=True)
class Texts:
    """One text in several languages: {"fi": "...", "sv": "...", "en": "..."}."""

    values: dict[str, str] = field(default_factory=dict)

    def pick(self, lang: str) -> tuple[str, str]:
        """The text in `lang` or the first fallback that exists, with the language used."""
        for candidate in FALLBACK.get(lang, FALLBACK["fi"]):
            if candidate in self.values:
                return self.values[candidate], candidate
        for candidate, value in sorted(self.values.items()):
            return value, candidate
        return "", lang

    def __bool__(self) -> bool:
        return bool(self.values)


@dataclass(frozen=True)
class Node:
    """Something with an IRI and names (a service, a producer, a level...)."""

    iri: str
    names: Texts = field(default_factory=Texts)

    def label(self, lang: str) -> str:
        text, _ = self.names.pick(lang)
        return text or self.iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    @property
    def code(self) -> str:
        """The last segment of the IRI (e.g. the code of a vocabulary concept)."""
        return self.iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


class Subgraph:
    """The triples one query brought back about a few nodes (a chain and what it points to),
    indexed by subject and property, so a view model is assembled in Python from one answer.

    >>> import pyoxigraph as ox
    >>> s, p = ox.NamedNode("http://x/s"), ox.NamedNode("http://x/label")
    >>> graph = Subgraph([ox.Triple(s, p, ox.Literal("a", language="fi"))])
    >>> graph.texts("http://x/s", "http://x/label").values
    {'fi': 'a'}
    """

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        #: Names of the nodes the subgraph points to but does not name itself (see `named`).
        self.names: Mapping[str, Texts] = {}
        self._index: dict[str, dict[str, list[Term]]] = {}
        self._reverse: dict[tuple[str, str], list[str]] | None = None  # made on first use
        for triple in triples:
            values = self._index.setdefault(triple.subject.value, {}).setdefault(
                triple.predicate.value, [])
            if triple.object not in values:  # the same triple from several graphs
                values.append(triple.object)

    def __contains__(self, subject: str) -> bool:
        return subject in self._index

    def values(self, subject: str, prop: str) -> list[Term]:
        return self._index.get(subject, {}).get(prop, [])

    def iris(self, subject: str, prop: str) -> list[str]:
        """The IRIs `subject` points to by `prop`, sorted."""
        return sorted({v.value for v in self.values(subject, prop)
                       if isinstance(v, ox.NamedNode)})

    def iri(self, subject: str, prop: str) -> str | None:
        """The first (by IRI order) of `iris`, or None."""
        found = self.iris(subject, prop)
        return found[0] if found else None

    def literal(self, subject: str, prop: str) -> str | None:
        """The lexical form of the first literal value, or None."""
        return next((v.value for v in self.values(subject, prop)
                     if isinstance(v, ox.Literal)), None)

    def subjects(self, prop: str, value: str) -> list[str]:
        """The subjects that point to `value` by `prop`, sorted."""
        if self._reverse is None:
            self._reverse = {}
            for subject, props in self._index.items():
                for p, values in props.items():
                    for v in values:
                        self._reverse.setdefault((p, v.value), []).append(subject)
        return sorted(set(self._reverse.get((prop, value), ())))

    def texts(self, subject: str, *props: str) -> Texts:
        """The texts of `subject` by the first of `props` (default skos:prefLabel) that has one
        in a language; a name (skos:prefLabel asked) the subgraph lacks comes from `names`."""
        props = props or (PREF_LABEL,)
        found: dict[str, str] = {}
        for prop in props:
            for value in self.values(subject, prop):
                if isinstance(value, ox.Literal):
                    found.setdefault(value.language or "", value.value)
        if not found and PREF_LABEL in props:
            return self.names.get(subject, Texts())
        return Texts(found)

    def nodes(self) -> set[str]:
        """Every IRI in the subgraph, as subject or value."""
        return set(self._index) | {value.value for props in self._index.values()
                                   for values in props.values() for value in values
                                   if isinstance(value, ox.NamedNode)}

    def named(self, names: Mapping[str, Texts]) -> Subgraph:
        """This subgraph, with `names` for the nodes it holds without naming them (the
        queries leave out the names of shared nodes: services, producers, vocabulary terms,
        which the build's table of names holds)."""
        self.names = names
        return self

    def node(self, iri: str, *label_props: str) -> Node:
        """`iri` with its names (by `label_props`, default skos:prefLabel)."""
        return Node(iri, self.texts(iri, *(label_props or (PREF_LABEL,))))
