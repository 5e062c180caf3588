"""Result and RDF formats: one table of each, with their media types, synonyms (`application/json`
for SPARQL JSON results) and `?format=` names. The web layer chooses among them with one
function (`ketju.web.http.negotiate`): a `?format=` that names a format wins over `Accept`, one
that names none falls back to `Accept`; within `Accept`, q-values and wildcards count; when
nothing the client accepts can be produced the answer is 406.

>>> parse_accept("text/csv;q=0.5, application/sparql-results+json")[0]
('application/sparql-results+json', 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    aliases: tuple[str, ...]
    names: tuple[str, ...]
    #: W3C format IRI (http://www.w3.org/ns/formats/) for the service description.
    iri: str
    text: bool = True

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.text else self.media_type


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", ("application/json",), ("json", "srj"),
           "http://www.w3.org/ns/formats/SPARQL_Results_JSON"),
    Format("xml", "application/sparql-results+xml", ("application/xml", "text/xml"),
           ("xml", "srx"), "http://www.w3.org/ns/formats/SPARQL_Results_XML"),
    Format("csv", "text/csv", (), ("csv",), "http://www.w3.org/ns/formats/SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", (), ("tsv",),
           "http://www.w3.org/ns/formats/SPARQL_Results_TSV"),
)

RDF_FORMATS: tuple[Format, ...] = (
    Format("turtle", "text/turtle", ("application/x-turtle",), ("turtle", "ttl"),
           "http://www.w3.org/ns/formats/Turtle"),
    Format("ntriples", "application/n-triples", ("text/plain",), ("ntriples", "nt", "n-triples"),
           "http://www.w3.org/ns/formats/N-Triples"),
    Format("jsonld", "application/ld+json", ("application/json",), ("jsonld", "json-ld", "json"),
           "http://www.w3.org/ns/formats/JSON-LD"),
    Format("rdfxml", "application/rdf+xml", ("application/xml", "text/xml"),
           ("rdfxml", "rdf", "xml", "owl"), "http://www.w3.org/ns/formats/RDF_XML"),
)

OXIGRAPH_RESULTS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
OXIGRAPH_RDF = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges with their q-values, most wanted first (stable for equal q)."""
    if not header:
        return [("*/*", 1.0)]
    ranges = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        # More specific ranges win ties: exact type, then type/*, then */*.
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, -specificity, position))
    ranges.sort(key=lambda r: (-r[1], r[2], r[3]))
    return [(media, q) for media, q, _, _ in ranges]
