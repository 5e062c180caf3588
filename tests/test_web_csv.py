"""CSV cannot carry a formula into a spreadsheet (issue 11, point 11): text cells that start
with `=`, `+`, `-`, `@`, tab or carriage return get a leading `'` in every CSV answer (named
queries and SPARQL `text/csv`); numbers stay numbers; JSON, XML and TSV keep the raw value.
The hostile contribution (tests/fixtures/pages/hostile.ttl) names a producer
`=HYPERLINK("http://evil.example/","x")`."""

from __future__ import annotations

import csv
import io

import pyoxigraph as ox
import pytest

from ketju.infra.sparql.results import spreadsheet_cell, write_solutions
from tests.servers import Served, Server

PRODUCER = "https://w3id.org/ketju/id/kainuu/producer/kaava"
FORMULAS = {'=HYPERLINK("http://evil.example/","x")', "+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"}
LABELS = f"""SELECT ?label WHERE {{
  <{PRODUCER}> ?p ?label FILTER(isLiteral(?label)) }} ORDER BY ?label"""


@pytest.mark.parametrize(("text", "cell"), [
    ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
    ("+1+cmd", "'+1+cmd"), ("-x", "'-x"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("-", "'-"), ("-INF", "'-INF"), ("+358 40 123 4567", "'+358 40 123 4567"),
    ("-3", "-3"), ("+3", "+3"), ("-1.5e3", "-1.5e3"), ("-.5", "-.5"), ("3-4", "3-4"),
    ("Kela", "Kela"), ("a=b", "a=b"), ("", ""), ("'=1", "'=1"),
])
def test_spreadsheet_cells(text: str, cell: str) -> None:
    assert spreadsheet_cell(text) == cell


def test_sparql_csv_neutralises_text_and_keeps_numbers_and_iris() -> None:
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    rows = [[ox.Literal("=1+1"), ox.Literal("-3", datatype=integer), ox.Literal("-3"),
             ox.NamedNode("https://x.example/=a")]]
    body = write_solutions(["a", "b", "c", "d"], rows, "csv").decode("utf-8")
    assert list(csv.reader(io.StringIO(body)))[1] == ["'=1+1", "-3", "-3", "https://x.example/=a"]


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_other_results_formats_keep_the_raw_value(fmt: str) -> None:
    body = write_solutions(["a"], [[ox.Literal("=1+1")]], fmt)
    parsed = ox.parse_query_results(body, format={"json": ox.QueryResultsFormat.JSON,
                                                  "xml": ox.QueryResultsFormat.XML,
                                                  "tsv": ox.QueryResultsFormat.TSV}[fmt])
    assert [row["a"].value for row in parsed] == ["=1+1"]


@pytest.fixture
def server(hostile_server: Served) -> Served:
    return hostile_server


@pytest.mark.slow
def test_named_query_csv_shows_formulas_as_text(server: Server) -> None:
    url = f"{server.base}/api/queries/entity-names"
    answer = server.get(url, params={"entity": PRODUCER, "format": "csv"})
    assert answer.status_code == 200
    names = {row["name"] for row in csv.DictReader(io.StringIO(answer.text))
             if not row["node"]}
    assert names == {"'" + formula for formula in FORMULAS if not formula.startswith("-")}
    raw = server.get(url, params={"entity": PRODUCER}).json()["items"]
    assert {i["name"] for i in raw if "node" not in i} == {
        f for f in FORMULAS if not f.startswith("-")}, "JSON keeps the raw names"


@pytest.mark.slow
def test_sparql_csv_shows_formulas_as_text(server: Server) -> None:
    answer = server.get(server.sparql, params={"query": LABELS}, headers={"Accept": "text/csv"})
    assert answer.status_code == 200
    cells = {row["label"] for row in csv.DictReader(io.StringIO(answer.text))}
    assert cells == {"'" + formula for formula in FORMULAS}


@pytest.mark.slow
@pytest.mark.parametrize(("accept", "fmt"), [
    ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
])
def test_sparql_json_xml_and_tsv_keep_the_raw_value(server: Server, accept: str,
                                                    fmt: ox.QueryResultsFormat) -> None:
    answer = server.get(server.sparql, params={"query": LABELS}, headers={"Accept": accept})
    assert {row["label"].value for row in ox.parse_query_results(answer.content,
                                                                  format=fmt)} == FORMULAS


@pytest.mark.slow
def test_numbers_stay_numbers_in_sparql_csv(server: Server) -> None:
    query = 'SELECT (-3 AS ?i) (-2.5 AS ?d) (-1.5e3 AS ?f) ("-3" AS ?s) (+4 AS ?p) {}'
    answer = server.get(server.sparql, params={"query": query}, headers={"Accept": "text/csv"})
    row = next(csv.DictReader(io.StringIO(answer.text)))
    assert float(row["i"]) == -3 and float(row["d"]) == -2.5 and float(row["f"]) == -1500
    assert row["s"] == "-3" and float(row["p"]) == 4
