"""Serialise query answers with a row cap, in every SPARQL 1.1 results format.

Oxigraph's own serialiser writes every row; a public endpoint must stop at its row limit and say
so. These writers take the first `max_rows` solutions and report whether more existed; the tests
check their output against Oxigraph's by parsing both.

CSV (`text/csv`) is what people open in a spreadsheet, so its text cells are made safe there
(`spreadsheet_cell`): a cell that a spreadsheet would run as a formula gets a leading `'`. This
departs from SPARQL 1.1 Query Results CSV only for such cells; a client that needs every value
exactly as stored reads JSON, XML or TSV, which are never changed.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ketju.infra.sparql.formats import OXIGRAPH_RDF

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class Answer:
    """A serialised answer: the bytes, how many rows or triples, and whether it was cut off."""

    body: bytes
    count: int
    capped: bool


def take(items: Iterable[object], max_rows: int) -> tuple[list[object], bool]:
    """The first max_rows items, and whether there were more."""
    first = list(islice(iter(items), max_rows + 1))
    return first[:max_rows], len(first) > max_rows


# --- SELECT ----------------------------------------------------------------------------------


def _json_term(term: Term) -> dict[str, object]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, object] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {
        "type": "triple",
        "value": {
            "subject": _json_term(term.subject),
            "predicate": _json_term(term.predicate),
            "object": _json_term(term.object),
        },
    }


def _xml_term(term: Term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{escape(term.value)}</literal>")
        return f"<literal>{escape(term.value)}</literal>"
    return ("<triple><subject>" + _xml_term(term.subject) + "</subject><predicate>"
            + _xml_term(term.predicate) + "</predicate><object>" + _xml_term(term.object)
            + "</object></triple>")


#: What a spreadsheet starts a formula with (OWASP, "CSV Injection"): =, +, -, @, tab, CR.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def spreadsheet_cell(text: str) -> str:
    r"""A CSV cell that a spreadsheet shows as text instead of running it as a formula.

    Text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
    (which spreadsheets hide); a number such as `-3` or `+1.5e3` is left as it is, since a
    spreadsheet reads it as that number.

    >>> spreadsheet_cell('=HYPERLINK("http://evil","x")')
    '\'=HYPERLINK("http://evil","x")'
    >>> spreadsheet_cell("-3"), spreadsheet_cell("Kela")
    ('-3', 'Kela')
    """
    if text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_term(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.Literal):
        return spreadsheet_cell(term.value)
    return str(term)


def write_solutions(
    variables: Sequence[str], rows: Sequence[Sequence[Term | None]], fmt: str
) -> bytes:
    if fmt == "json":
        bindings = [
            {var: _json_term(term) for var, term in zip(variables, row, strict=True)
             if term is not None}
            for row in rows
        ]
        return json.dumps({"head": {"vars": list(variables)}, "results": {"bindings": bindings}},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "xml":
        parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">',
                 "<head>", *(f"<variable name={quoteattr(v)}/>" for v in variables),
                 "</head><results>"]
        for row in rows:
            parts.append("<result>")
            for var, term in zip(variables, row, strict=True):
                if term is not None:
                    parts.append(f"<binding name={quoteattr(var)}>{_xml_term(term)}</binding>")
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_csv_term(term) for term in row])
        return buffer.getvalue().encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join("?" + v for v in variables)]
        for row in rows:
            lines.append("\t".join("" if term is None else str(term) for term in row))
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt}")


def solution_rows(solutions: ox.QuerySolutions) -> tuple[list[str], Iterator[list[Term | None]]]:
    variables = [v.value for v in solutions.variables]
    return variables, ([solution[v] for v in variables] for solution in solutions)


def serialize_select(solutions: ox.QuerySolutions, fmt: str, max_rows: int) -> Answer:
    variables, rows = solution_rows(solutions)
    kept, capped = take(rows, max_rows)
    return Answer(write_solutions(variables, kept, fmt), len(kept), capped)  # type: ignore[arg-type]


# --- ASK -------------------------------------------------------------------------------------


def write_boolean(value: bool, fmt: str) -> bytes:
    word = "true" if value else "false"
    if fmt == "json":
        return f'{{"head":{{}},"boolean":{word}}}'.encode()
    if fmt == "xml":
        return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{word}</boolean></sparql>\n").encode()
    return f"{word}\n".encode()


# --- CONSTRUCT and DESCRIBE ------------------------------------------------------------------


def serialize_triples(triples: Iterable[ox.Triple], fmt: str, max_rows: int) -> Answer:
    kept, capped = take(triples, max_rows)
    body = ox.serialize(kept, format=OXIGRAPH_RDF[fmt]) if kept else _empty_graph(fmt)
    return Answer(body, len(kept), capped)


def _empty_graph(fmt: str) -> bytes:
    return b"[]" if fmt == "jsonld" else (
        b'<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
        if fmt == "rdfxml" else b"")
