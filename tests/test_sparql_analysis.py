"""What `/sparql` learns from a query before it runs: the SERVICE prefilter against the engine
itself, the parse that decides SERVICE and FROM, the nesting limit.

The engine is asked directly (pyoxigraph in process, on an empty store) which spellings it reads
as the SERVICE keyword; the target is port 1, which Oxigraph refuses to call, so nothing goes
out on the network.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ketju.infra.sparql.analysis import (
    MAX_NESTING,
    QueryRefused,
    check_query,
    inspect,
    keyword_candidates,
    refuse_services,
)

# SILENT makes the text invalid unless SERVICE is read as the keyword (`ex:aSERVICE <x> {}`
# would be a triple and a group), so "the engine parses it" means "it reads the keyword".
TARGET = "SERVICE SILENT <http://127.0.0.1:1/x> { ?s ?p ?o }"
PREFIXES = "PREFIX ex: <http://a/> PREFIX : <http://b/> "
# What may come right before the keyword, each giving a different token boundary.
BEFORE = [
    " ", ".", "?o.", "?o .", "true", "false", "1", "1.5", "1e5", "ex:", ":", "ex:a\\/",
    "ex:a%20", "ex:a.", "ex:.", "_:", "_:b", '"x"@en', '"x"@en-', '"x"', "ex:p?", "?", "$", "a",
    "[]", "<http://a/x>", "?from", "ex:has", "ex:a_", "?a_", "_:has", "ex:1", "#x\n", "/", "#",
    ";", ",", "'x'", '"""x"""', "(1)", "ex:p/", "ex:p?true", "ex:p*true", "ex:p? true",
]


def engine_reads_service(query: str) -> bool:
    """True when Oxigraph parses the query."""
    try:
        result = ox.Store().query(query)
        if isinstance(result, ox.QuerySolutions):
            list(result)
    except SyntaxError:
        return False
    except OSError:  # it tried to call the SERVICE (port 1 is refused before connecting)
        return True
    return True


@pytest.mark.parametrize("before", BEFORE)
@pytest.mark.parametrize("spelling", ["SERVICE", "service", "SeRvIcE"])
def test_the_prefilter_never_misses_a_service_the_engine_reads(before: str,
                                                               spelling: str) -> None:
    for context in ("SELECT * WHERE {{ ?s ?p {before}{service} }}",
                    "SELECT * WHERE {{ ?s {before}{service} }}",
                    "SELECT * WHERE {{ {before}{service} }}"):
        query = PREFIXES + context.format(before=before,
                                          service=TARGET.replace("SERVICE", spelling))
        if engine_reads_service(query):
            assert keyword_candidates(query)[0], query


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { ?s <https://w3id.org/ketju/ontology#service> ?service }",
    "PREFIX ketju: <https://w3id.org/ketju/ontology#> SELECT ?s WHERE { ?s a ketju:Service ; "
    "ketju:serviceClass ?c . ?c ketju:ServiceChain ?fromService }",
    "SELECT ?p ?o WHERE { <https://w3id.org/ketju/id/x/service/y> ?p ?o }",
    "SELECT ?s WHERE { ?s <http://www.w3.org/ns/prov#wasDerivedFrom> ?from }",
])
def test_ketju_vocabulary_does_not_need_the_slow_parse(query: str) -> None:
    assert keyword_candidates(query) == (False, False)
    assert not check_query(query, 65536).needs_parse


REPRODUCTION = ('SELECT * WHERE { FILTER("a\\u005C" = "b") SERVICE <http://127.0.0.1:9/x> '
                '{ ?s ?p ?o } FILTER("x" != "") }')
QUOTE_TRICK = ('SELECT * WHERE { BIND("\\u0022" AS ?a) SERVICE <http://127.0.0.1:9/x> '
               '{ ?s ?p ?o } BIND("\\u0022" AS ?b) }')


@pytest.mark.parametrize("query", [REPRODUCTION, QUOTE_TRICK])
def test_escape_tricks_that_hide_service_are_refused(query: str) -> None:
    """The engine reads a SERVICE here; the check must not let it through."""
    assert engine_reads_service(query.replace(":9/", ":1/").replace("SERVICE", "SERVICE SILENT"))
    with pytest.raises(QueryRefused) as refused:
        found = inspect(query)
        refuse_services(found.services, ("localhost",), "")
    assert refused.value.status == 400


@pytest.mark.parametrize(("query", "targets"), [
    ("PREFIX e: <http://h.example/> SELECT * { SERVICE SILENT e:s { ?a ?b ?c } }",
     ("http://h.example/s",)),
    ("SELECT * { ?s ?p ?o OPTIONAL { SERVICE <http://h.example/o> { ?s ?q ?r } } }",
     ("http://h.example/o",)),
    ("SELECT * { ?s ?p ?o FILTER NOT EXISTS { SERVICE <http://h.example/e> { } } }",
     ("http://h.example/e",)),
    ("SELECT * { { SELECT * { SERVICE <http://h.example/sub> { ?s ?p ?o } } } }",
     ("http://h.example/sub",)),
    ("SELECT * { { ?s ?p ?o } UNION { GRAPH ?g { SERVICE <http://h.example/u> { } } } }",
     ("http://h.example/u",)),
    ("SELECT * { ?s ?p ?o MINUS { SERVICE <http://h.example/m> { ?s ?p ?o } } }",
     ("http://h.example/m",)),
    ("SELECT * { BIND(<http://h.example/> AS ?e) SERVICE ?e { ?s ?p ?o } }", (None,)),
    ("BASE <http://h.example/> SELECT * { SERVICE <s> { ?s ?p ?o } }", (None,)),
    ("SELECT * { SERVICE <http://\\u0068.example/esc> { ?s ?p ?o } }",
     ("http://h.example/esc",)),
])
def test_the_parse_finds_every_service_and_resolves_its_target(
        query: str, targets: tuple[str | None, ...]) -> None:
    assert inspect(query).services == targets


@pytest.mark.parametrize("target", [
    None, "http://evil.example/x", "http://evil.example#@h.example/", "http://u@h.example/",
    "ftp://h.example/", "http://h.example.evil.example/", "//h.example/", "http://[::1]/",
])
def test_only_absolute_http_iris_of_allowed_hosts_pass(target: str | None) -> None:
    with pytest.raises(QueryRefused) as refused:
        refuse_services((target,), ("h.example",), "")
    assert "not allowed" in refused.value.message
    refuse_services(("http://h.example/x", "https://H.example:8443/y"), ("h.example",), "")


def test_without_allowed_hosts_every_service_is_refused_with_the_reason() -> None:
    with pytest.raises(QueryRefused) as refused:
        refuse_services(("http://h.example/x",), (), "the reason")
    assert refused.value.message.endswith("the reason.")


@pytest.mark.parametrize(("query", "dataset"), [
    ("SELECT (COUNT(*) AS ?n) FROM <http://nonexistent.example/g> WHERE { ?s ?p ?o }", True),
    ("select*from<http://g.example/>where{?s ?p ?o}", True),
    ("ASK FROM NAMED <http://g.example/> { GRAPH ?g { } }", True),
    ("DESCRIBE <http://x.example/> FROM <http://g.example/>", True),
    ("SELECT * WHERE { ?s ?p 'from' }", False),
    ("SELECT * WHERE { ?s ?p ?o } # FROM <http://g.example/>", False),
])
def test_the_parse_finds_the_dataset_clause(query: str, dataset: bool) -> None:
    assert inspect(query).dataset is dataset


NESTED = {
    "groups": lambda n: "SELECT * WHERE " + "{" * n + " ?s ?p ?o " + "}" * n,
    "parentheses": lambda n: "SELECT * WHERE { FILTER(" + "(" * n + "?o" + ")" * n + ") }",
    "optionals": lambda n: "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * n
    + "}" * n + " }",
    "negations": lambda n: "SELECT * WHERE { ?s ?p ?o FILTER(" + "!" * n + "?o) }",
    "path parentheses": lambda n: "SELECT * WHERE { ?s " + "(" * n + "<http://a/p>" + ")" * n
    + " ?o }",
    "sub-selects": lambda n: "SELECT * WHERE { " + "{ SELECT * WHERE " * n + "{ ?s ?p ?o }"
    + " }" * n + " }",
    "exists": lambda n: "SELECT * WHERE { ?s ?p ?o " + "FILTER EXISTS { ?s ?p ?o " * n
    + "}" * n + " }",
    "function calls": lambda n: "SELECT * WHERE { BIND(" + "STR(" * n + "1" + ")" * n
    + " AS ?x) }",
    "blank nodes": lambda n: "SELECT * WHERE { ?s ?p " + "[ <http://a/p> " * n + "?o"
    + " ]" * n + " }",
}


@pytest.mark.parametrize("kind", sorted(NESTED))
def test_nesting_beyond_the_limit_is_refused_before_any_parse(kind: str) -> None:
    check_query(NESTED[kind](MAX_NESTING - 2), 10**6)
    with pytest.raises(QueryRefused) as refused:
        check_query(NESTED[kind](5000), 10**6)
    assert refused.value.status == 400
    assert f"at most {MAX_NESTING} levels" in refused.value.message


def test_brackets_in_strings_iris_and_comments_are_not_nesting() -> None:
    text = '"((((((((" <http://a/(((((((> # {{{{{{{{{{{{\n'
    query = "SELECT * WHERE { ?s ?p ?o FILTER(?o != " + text * 40 + ") }"
    assert check_query(query, 65536).nesting == 2
