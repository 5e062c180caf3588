"""The SPARQL 1.1 Service Description of `/sparql` (W3C sparql11-service-description).

Returned on a GET of the endpoint without a query, as RDF in the negotiated format. It states
what is true of this endpoint only: SPARQL 1.1 Query (no Update), the result formats, and that
the default graph is the union of the named graphs, one per source file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyoxigraph as ox

from ketju.infra.sparql.formats import OXIGRAPH_RDF, RDF_FORMATS, RESULT_FORMATS, Format

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCT = "http://purl.org/dc/terms/"


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def service_description(
    endpoint: str,
    graphs: Sequence[tuple[str, int]],
    total_triples: int,
    void_url: str | None = None,
    federated: bool = False,
) -> list[ox.Triple]:
    """Triples describing the endpoint at `endpoint` serving the given named graphs."""
    service = _n(endpoint)
    dataset = ox.BlankNode("dataset")
    default = ox.BlankNode("default")
    triples = [
        ox.Triple(service, RDF_TYPE, _n(SD + "Service")),
        ox.Triple(service, _n(SD + "endpoint"), service),
        ox.Triple(service, _n(SD + "supportedLanguage"), _n(SD + "SPARQL11Query")),
        ox.Triple(service, _n(SD + "feature"), _n(SD + "UnionDefaultGraph")),
        ox.Triple(service, _n(DCT + "title"), ox.Literal("ketju SPARQL endpoint", language="en")),
        ox.Triple(service, _n(DCT + "title"), ox.Literal("ketju SPARQL-rajapinta",
                                                         language="fi")),
        ox.Triple(service, _n(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _n(SD + "Dataset")),
        ox.Triple(dataset, _n(SD + "defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _n(SD + "Graph")),
        ox.Triple(default, _n(VOID + "triples"), ox.Literal(str(total_triples), datatype=_n(
            "http://www.w3.org/2001/XMLSchema#integer"))),
        ox.Triple(default, _n("http://www.w3.org/2000/01/rdf-schema#comment"), ox.Literal(
            "The default graph is the union of all named graphs (one per source file).",
            language="en")),
    ]
    if federated:
        triples.append(ox.Triple(service, _n(SD + "feature"), _n(SD + "BasicFederatedQuery")))
    for fmt in (*RESULT_FORMATS, *RDF_FORMATS):
        triples.append(ox.Triple(service, _n(SD + "resultFormat"), _n(fmt.iri)))
    if void_url:
        triples.append(ox.Triple(dataset, _n("http://www.w3.org/2000/01/rdf-schema#seeAlso"),
                                 _n(void_url)))
    for index, (graph, count) in enumerate(graphs):
        named = ox.BlankNode(f"g{index}")
        description = ox.BlankNode(f"d{index}")
        triples += [
            ox.Triple(dataset, _n(SD + "namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _n(SD + "NamedGraph")),
            ox.Triple(named, _n(SD + "name"), _n(graph)),
            ox.Triple(named, _n(SD + "graph"), description),
            ox.Triple(description, RDF_TYPE, _n(SD + "Graph")),
            ox.Triple(description, _n(VOID + "triples"), ox.Literal(str(count), datatype=_n(
                "http://www.w3.org/2001/XMLSchema#integer"))),
        ]
    return triples


def renderer(
    dataset: Callable[[], tuple[Sequence[tuple[str, int]], int]],
    void_path: str | None = "/.well-known/void",
    federated: Callable[[], bool] = lambda: False,
) -> Callable[[str, Format], bytes]:
    """A function the endpoint calls with its public URL and the chosen RDF format.
    `federated` is asked each time: SERVICE may be switched off after start (the query
    processes could not be isolated), and the description must not promise it then."""

    def render(endpoint: str, fmt: Format) -> bytes:
        graphs, total = dataset()
        void_url = None
        if void_path:
            origin = endpoint.split("/", 3)
            void_url = "/".join(origin[:3]) + void_path
        triples = service_description(endpoint, graphs, total, void_url, federated())
        return ox.serialize(triples, format=OXIGRAPH_RDF[fmt.name])

    return render
