"""JSON-LD for the API: one published context generated from the ontology, and RDF triples
turned into compact JSON-LD objects that use it, so the API's JSON is also RDF.

Keys are the local names of ketju's properties (`serviceClass`, `hasStep`) plus a few standard
terms (`label` for skos:prefLabel, `description`, `wasDerivedFrom`...); any other property keeps
its full IRI as key, which JSON-LD allows. `@vocab` is ketju's ontology, so a type named by its
local name (`ServiceChain`, `ChainStep`) is the ontology's class, never an IRI relative to the
answer's URL.

A list answer is a page of a Hydra collection (Hydra Core Vocabulary,
https://www.w3.org/ns/hydra/core): the answer is a `hydra:Collection` whose `items` are its
`hydra:member`s and `total` its `hydra:totalItems`; `view` is the page, a
`hydra:PartialCollectionView` with its `first`, `previous`, `next` and `last` pages and its
`limit` and `offset` (`hydra:limit`, `hydra:offset`). On the collection itself `limit` and
`offset` are only JSON (a type-scoped context maps them to nothing there): they describe the
page, not the collection. A list item's `api` is its API URL (`rdfs:seeAlso`), `page` its HTML
page (`foaf:page`) and `region` the region's short name, which is JSON only; a region's
`organiser` is the organiser whose area (`dct:spatial`) the region is.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyoxigraph as ox

from ketju.core.namespaces import ONTOLOGY, PREFIXES, RDF, RDF_TYPE, XSD

LANG_STRING = RDF + "langString"
HYDRA = "http://www.w3.org/ns/hydra/core#"

#: The terms of list answers (pages of a Hydra collection) and of their items' links.
COLLECTION_TERMS: dict[str, Any] = {
    "hydra": HYDRA,
    "Collection": {"@id": HYDRA + "Collection",
                   "@context": {"limit": None, "offset": None}},
    "PartialCollectionView": HYDRA + "PartialCollectionView",
    "items": {"@id": HYDRA + "member"},
    "total": {"@id": HYDRA + "totalItems"},
    "view": {"@id": HYDRA + "view", "@type": "@id"},
    "first": {"@id": HYDRA + "first", "@type": "@id"},
    "previous": {"@id": HYDRA + "previous", "@type": "@id"},
    "next": {"@id": HYDRA + "next", "@type": "@id"},
    "last": {"@id": HYDRA + "last", "@type": "@id"},
    "limit": {"@id": HYDRA + "limit"},
    "offset": {"@id": HYDRA + "offset"},
    "api": {"@id": PREFIXES["rdfs"] + "seeAlso", "@type": "@id"},
    "region": None,
    # A region in a list names its organiser, whose area it is (organiser dct:spatial region).
    "Region": {"@id": ONTOLOGY + "Region", "@context": {
        "organiser": {"@reverse": PREFIXES["dct"] + "spatial", "@type": "@id"}}},
}

#: Standard properties with short names; language-tagged ones become language maps.
STANDARD_TERMS: dict[str, tuple[str, str]] = {
    "label": (PREFIXES["skos"] + "prefLabel", "@language"),
    "altLabel": (PREFIXES["skos"] + "altLabel", "@language"),
    "description": (PREFIXES["dct"] + "description", "@language"),
    "definition": (PREFIXES["skos"] + "definition", "@language"),
    "editorialNote": (PREFIXES["skos"] + "editorialNote", "@language"),
    "notation": (PREFIXES["skos"] + "notation", ""),
    "broader": (PREFIXES["skos"] + "broader", "@id"),
    "broaderTransitive": (PREFIXES["skos"] + "broaderTransitive", "@id"),
    "inScheme": (PREFIXES["skos"] + "inScheme", "@id"),
    "exactMatch": (PREFIXES["skos"] + "exactMatch", "@id"),
    "source": (PREFIXES["dct"] + "source", ""),
    "spatial": (PREFIXES["dct"] + "spatial", "@id"),
    "identifier": (PREFIXES["dct"] + "identifier", ""),
    "accrualPeriodicity": (PREFIXES["dct"] + "accrualPeriodicity", "@id"),
    "wasDerivedFrom": (PREFIXES["prov"] + "wasDerivedFrom", "@id"),
    "status": (PREFIXES["adms"] + "status", "@id"),
    "version": (PREFIXES["dcat"] + "version", ""),
    "subOrganizationOf": (PREFIXES["org"] + "subOrganizationOf", "@id"),
    "hasChannel": (PREFIXES["cv"] + "hasChannel", "@id"),
    "page": (PREFIXES["foaf"] + "page", "@id"),
}


def context(store_ontology: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """The @context: (property IRI, kind, range) rows from the ontology, plus standard terms.

    kind is "object" or "datatype"; language-string ranges get language maps.
    """
    terms: dict[str, Any] = {"@version": 1.1, "@vocab": ONTOLOGY}
    terms.update({prefix: iri for prefix, iri in PREFIXES.items() if prefix not in ("sh",)})
    for name, (iri, kind) in STANDARD_TERMS.items():
        if kind == "@language":
            terms[name] = {"@id": iri, "@container": "@language"}
        elif kind == "@id":
            terms[name] = {"@id": iri, "@type": "@id"}
        else:
            terms[name] = iri
    for iri, kind, value_range in store_ontology:
        local = iri.removeprefix(ONTOLOGY)
        if kind == "object":
            terms[local] = {"@id": iri, "@type": "@id"}
        elif value_range == LANG_STRING:
            terms[local] = {"@id": iri, "@container": "@language"}
        elif value_range and value_range.startswith(XSD):
            terms[local] = {"@id": iri, "@type": value_range}
        else:
            terms[local] = iri
    clashes = sorted(set(COLLECTION_TERMS) & set(terms))
    if clashes:
        raise ValueError(f"Ontology terms clash with the list answers' terms: {clashes}")
    terms.update(COLLECTION_TERMS)
    return {"@context": terms}


class Compactor:
    """Turns triples into compact JSON-LD objects under a given context."""

    def __init__(self, context_document: dict[str, Any]) -> None:
        self.by_iri: dict[str, tuple[str, Any]] = {}
        for term, definition in context_document["@context"].items():
            if term in COLLECTION_TERMS:  # the list answers' own terms, not the data's
                continue
            if isinstance(definition, dict):
                self.by_iri[definition["@id"]] = (term, definition)
            elif isinstance(definition, str) and definition.startswith(("http", "urn")) \
                    and not definition.endswith(("#", "/")):
                self.by_iri[definition] = (term, {"@id": definition})
        self.types = {iri: term for iri, (term, _) in self.by_iri.items()}

    def _type_name(self, iri: str) -> str:
        if iri.startswith(ONTOLOGY):
            return iri.removeprefix(ONTOLOGY)
        for prefix, namespace in PREFIXES.items():
            if iri.startswith(namespace):
                return f"{prefix}:{iri[len(namespace):]}"
        return iri

    def _value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple,
               definition: dict[str, Any]) -> Any:
        if isinstance(term, ox.NamedNode):
            return term.value if definition.get("@type") == "@id" else {"@id": term.value}
        if isinstance(term, ox.BlankNode):
            return {"@id": "_:" + term.value}
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            if term.language:
                return {"@value": term.value, "@language": term.language}
            if definition.get("@type") == datatype:
                return term.value
            if "@type" in definition:  # a term that types its values: say this one's type
                return {"@value": term.value, "@type": datatype}
            if datatype == XSD + "string":
                return term.value
            if datatype == XSD + "boolean":
                return term.value == "true"
            return {"@value": term.value, "@type": datatype}
        return str(term)

    def node(self, iri: str, triples: list[ox.Triple], embed: bool = True) -> dict[str, Any]:
        """The compact object for `iri`; nodes whose IRI extends it (steps, hand-overs) are
        embedded where they are referenced."""
        by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
        for triple in triples:
            if isinstance(triple.subject, ox.NamedNode):
                by_subject[triple.subject.value].append(triple)
        return self._object(iri, by_subject, embed, seen={iri})

    def _object(self, iri: str, by_subject: dict[str, list[ox.Triple]], embed: bool,
                seen: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"@id": iri}
        types: list[str] = []
        for triple in sorted(by_subject.get(iri, []), key=lambda t: (t.predicate.value,
                                                                   str(t.object))):
            predicate = triple.predicate.value
            if predicate == RDF_TYPE:
                types.append(self._type_name(triple.object.value))  # type: ignore[union-attr]
                continue
            term, definition = self.by_iri.get(predicate, (predicate, {"@id": predicate}))
            obj = triple.object
            if (embed and isinstance(obj, ox.NamedNode) and obj.value.startswith(iri + "/")
                    and obj.value in by_subject and obj.value not in seen):
                seen.add(obj.value)
                value: Any = self._object(obj.value, by_subject, embed, seen)
            else:
                value = self._value(obj, definition)
            if definition.get("@container") == "@language":
                language, text = (value["@language"], value["@value"]) if isinstance(
                    value, dict) and "@language" in value else ("@none", str(value))
                languages = out.setdefault(term, {})
                if language in languages:
                    previous = languages[language]
                    languages[language] = [*previous, text] if isinstance(previous, list) \
                        else [previous, text]
                else:
                    languages[language] = text
            elif term in out:
                existing = out[term]
                out[term] = [*existing, value] if isinstance(existing, list) else [existing, value]
            else:
                out[term] = value
        if types:
            out["@type"] = types[0] if len(types) == 1 else sorted(types)
        return out

    def graph(self, triples: list[ox.Triple]) -> list[dict[str, Any]]:
        """Every subject of `triples` (IRIs and blank nodes) as a compact object of exactly
        its statements there, nothing embedded, in the order subjects first appear."""
        by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
        for triple in triples:
            subject = triple.subject
            key = "_:" + subject.value if isinstance(subject, ox.BlankNode) else str(
                subject.value if isinstance(subject, ox.NamedNode) else subject)
            by_subject[key].append(triple)
        return [self._object(key, by_subject, False, seen={key}) for key in by_subject]


# -- named queries' SELECT answers ------------------------------------------------------------

#: The W3C vocabulary of SPARQL result sets (the Data Access working group's test suite).
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"

#: The context of a SELECT named query's JSON-LD answer: a page of a hydra:Collection that is
#: also the rs:ResultSet (with its rs:resultVariable), whose members are its rs:ResultSolution
#: nodes, each with its rs:index (position in the whole answer, 1-based: JSON-LD members are
#: a set) and one rs:binding (rs:variable, rs:value) per bound variable.
RESULT_SET_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    **COLLECTION_TERMS,
    "rs": RS,
    "ResultSet": RS + "ResultSet",
    "ResultSolution": RS + "ResultSolution",
    "resultVariable": RS + "resultVariable",
    "binding": {"@id": RS + "binding"},
    "variable": RS + "variable",
    "value": RS + "value",
    "index": RS + "index",
}


def term_value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> dict[str, Any]:
    """An RDF term as an explicit JSON-LD value: `{"@id"}` for IRIs and blank nodes, `{"@value",
    "@language"}` or `{"@value", "@type"}` for literals (no JSON native types: the datatype is
    kept as the store has it)."""
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": "_:" + term.value}
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        return {"@value": term.value, "@type": term.datatype.value}
    return {"@value": str(term)}


def solutions(rows: list[dict[str, Any]], offset: int) -> list[dict[str, Any]]:
    """SELECT rows ({variable: term}) as rs:ResultSolution nodes, numbered from offset + 1."""
    return [{"@type": "ResultSolution", "index": offset + number,
             "binding": [{"variable": name, "value": term_value(term)}
                         for name, term in sorted(row.items())]}
            for number, row in enumerate(rows, start=1)]


# -- comparisons of chains --------------------------------------------------------------------

#: The context of `/api/compare` and `/api/chains/{region}/{slug}/similar`. Nothing standard
#: says "this chain is this similar to that one", so three terms of the ketju namespace (the
#: context's `@vocab` elsewhere) say it: `ketju:comparedChain` (a comparison, a pair or a
#: similar-chains entry, and the chain it is about), `ketju:pairComparison` (a comparison's
#: pairs) and `ketju:similarity` (the score, an xsd:double from 0 to 1). A chain is its IRI
#: (`iri` is `@id`); `rdfs:seeAlso` links an entry to the comparison of the two chains. The
#: rest of the answer (labels, the step table, the score matrix, the differences) is JSON
#: only: these keys are not defined here (no `@vocab`), so they expand to nothing.
COMPARISON_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    **COLLECTION_TERMS,
    "ketju": ONTOLOGY,
    "iri": "@id",
    "ChainComparison": ONTOLOGY + "ChainComparison",
    "ChainSimilarity": ONTOLOGY + "ChainSimilarity",
    "chains": {"@id": ONTOLOGY + "comparedChain"},
    "a": {"@id": ONTOLOGY + "comparedChain"},
    "b": {"@id": ONTOLOGY + "comparedChain"},
    "chain": {"@id": ONTOLOGY + "comparedChain", "@type": "@id"},
    "pairs": {"@id": ONTOLOGY + "pairComparison"},
    "score": {"@id": ONTOLOGY + "similarity", "@type": XSD + "double"},
    "compare": {"@id": PREFIXES["rdfs"] + "seeAlso", "@type": "@id"},
    "label": None,
}
