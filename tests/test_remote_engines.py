"""How another engine's answers are read (ketju.infra.sparql.engines), in process: the terms
Virtuoso 7 was seen to give (tests/test_remote.py runs the real engine)."""

from __future__ import annotations

import pyoxigraph as ox

from ketju.infra.sparql.analysis import bind_values
from ketju.infra.sparql.backend import QueryRequest, _read_answer
from ketju.infra.sparql.engines import normalise_rows, normalise_triple, readable_results

XSD = "http://www.w3.org/2001/XMLSchema#"
QUERY = """SELECT ?step (GROUP_CONCAT(DISTINCT ?h; SEPARATOR=" ") AS ?incoming) ?main ?label
WHERE { { ?step ?p ?h BIND(true AS ?main) } UNION { ?step ?q ?label BIND(false AS ?main) } }
GROUP BY ?step ?main ?label"""


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


def test_virtuoso_rows_read_as_oxigraph_gives_them() -> None:
    step = ox.NamedNode("https://w3id.org/ketju/id/x/chain/y/step/z")
    rows = normalise_rows([{
        "step": step, "incoming": ox.Literal(""), "main": typed("1", "integer"),
        "label": ox.Literal("Päivystys", language="FI"),
    }, {
        "step": step, "incoming": ox.Literal("2|referral"), "main": typed("0", "integer"),
        "label": ox.Literal(""),
    }], QUERY)
    assert rows == [
        {"step": step, "main": typed("true", "boolean"),
         "label": ox.Literal("Päivystys", language="fi")},
        # An empty text that is no GROUP_CONCAT stays.
        {"step": step, "incoming": ox.Literal("2|referral"), "main": typed("false", "boolean"),
         "label": ox.Literal("")},
    ]


def test_typed_values_in_canonical_form() -> None:
    cases = {("172800.0", "duration"): "P2D", ("3.6288e+06", "duration"): "P42D",
             ("6", "duration"): "P6M", ("12", "duration"): "P1Y", ("18", "duration"): "P1Y6M",
             ("1", "boolean"): "true", ("0", "boolean"): "false", ("80.0", "decimal"): "80",
             ("3.50", "decimal"): "3.5", ("007", "integer"): "7", ("1.0E2", "double"): "100",
             ("2022-Q1", "integer"): "2022-Q1", ("P2D", "duration"): "P2D"}
    for (value, datatype), expected in cases.items():
        triple = normalise_triple(ox.Triple(ox.NamedNode("http://a"), ox.NamedNode("http://p"),
                                            typed(value, datatype)))
        assert triple.object == typed(expected, datatype), (value, datatype)


def test_virtuoso_blank_nodes_are_readable_by_sparql_results() -> None:
    body = (b'{"head": {"vars": ["s", "n"]}, "results": {"bindings": [{"s": {"type": "bnode", '
            b'"value": "nodeID://b10010"}, "n": {"type": "typed-literal", "datatype": '
            b'"http://www.w3.org/2001/XMLSchema#duration", "value": "86400.0"}}]}}')
    answer = _read_answer(QueryRequest("SELECT ?s ?n WHERE { ?s ?p ?n }", "SELECT", "tsv", 10),
                          readable_results(body), graph_form=False)
    assert answer.body.decode().splitlines() == ["?s\t?n", '_:b10010\t"P1D"^^<' + XSD
                                                 + 'duration>']


def test_lists_are_joined_with_the_whole_where_group() -> None:
    """A list bound next to UNIONs restricts every branch (the same answer as before on
    Oxigraph; Virtuoso ignored it)."""
    store = ox.Store()
    a, b, c = (ox.NamedNode(f"http://x/{n}") for n in "abc")
    p, q = ox.NamedNode("http://x/p"), ox.NamedNode("http://x/q")
    for s in (a, b, c):
        store.add(ox.Quad(s, p, ox.Literal("p")))
        store.add(ox.Quad(s, q, ox.Literal("q")))
    query = ("SELECT ?s ?o WHERE { { ?s <http://x/p> ?o } UNION { ?s <http://x/q> ?o } "
             "FILTER(!BOUND(?none) || ?none) } ORDER BY ?s ?o")
    bound = bind_values(query, {"s": [a, b], "none": ox.Literal("x")})
    assert bound.count("{") == query.count("{") + 3  # two VALUES blocks and the new group
    rows = [(row["s"].value, row["o"].value) for row in store.query(bound)]  # type: ignore[union-attr]
    assert rows == [("http://x/a", "p"), ("http://x/a", "q"), ("http://x/b", "p"),
                    ("http://x/b", "q")]
