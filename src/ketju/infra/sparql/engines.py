"""Answers of any SPARQL 1.1 engine, read as the embedded store (Oxigraph) gives them.

ketju's pages, API and feeds are written against the embedded store's answers. Another engine
(Virtuoso 7, an Oxigraph server, ...) gives answers of the same meaning in other words, and
every answer read from a remote engine passes through `normalise_rows` (SELECT) or
`normalise_triple` (CONSTRUCT), here and nowhere else, so no route needs to know which engine
answered:

- *Empty aggregates.* `GROUP_CONCAT` over a group without values is `""` in Virtuoso (as
  SPARQL 1.1, 18.5.1.7, says) where Oxigraph leaves the variable unbound; ketju's code reads
  "no values" as an unbound variable, so an empty `GROUP_CONCAT` is dropped.
- *Results as typed values.* A number or boolean is written in the canonical form Oxigraph
  gives (`"01"^^xsd:integer` is `"1"`, an `xsd:decimal` 1.0 is `"1"`, an `xsd:double` has
  no exponent: `"100"`, `"2.5"`).
- *Literal datatypes.* An `xsd:string` is a simple literal (RDF 1.1), and an engine that
  reports a plain literal as typed (JSON `typed-literal`) reads the same.
- *Durations*: Virtuoso keeps an `xsd:duration` as a number (`"P2D"` is `"172800.0"`, `"P6M"`
  is `"6"`); it is written back in Oxigraph's canonical form (`"P2D"`, `"P6M"`, `"P1Y"`).
- *Booleans*: Virtuoso answers `BIND(true AS ?x)` with `1`; a variable the query binds to
  `true` or `false` is a boolean again (a stored boolean comes back as `"1"^^xsd:boolean`, read
  as `true`).
- *Blank nodes*: Virtuoso names them `nodeID://b10010` in JSON results, which is no blank
  node label; `readable_results` makes them `b10010` before the answer is parsed.
- *Language tags* are compared in lower case (BCP 47 tags are case-insensitive; Oxigraph writes
  them in lower case, Virtuoso as loaded).

>>> normalise_term(ox.Literal("Hei", language="FI-fi"))
<Literal value=Hei language=fi-fi>
>>> str(normalise_term(ox.Literal("007", datatype=ox.NamedNode(XSD + "integer"))))
'"7"^^<http://www.w3.org/2001/XMLSchema#integer>'
>>> normalise_term(ox.Literal("1.0E2", datatype=ox.NamedNode(XSD + "double"))).value
'100'
>>> [normalise_term(ox.Literal(v, datatype=ox.NamedNode(XSD + "duration"))).value
...  for v in ("172800.0", "1.2096e+06", "6", "12", "90000.0")]
['P2D', 'P14D', 'P6M', 'P1Y', 'P1DT1H']
>>> sorted(empty_aggregates('SELECT ?c (GROUP_CONCAT(DISTINCT STR(?x); separator=",") AS ?xs) '
...                         '(COUNT(?y) AS ?n) WHERE { ?c ?p ?x } GROUP BY ?c'))
['xs']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = dict[str, Term]

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGERS = frozenset(XSD + name for name in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "nonPositiveInteger",
    "positiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte"))
_DECIMAL = XSD + "decimal"
_FLOATS = frozenset((XSD + "double", XSD + "float"))
_BOOLEAN = XSD + "boolean"
_DURATION = XSD + "duration"
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?")
_BOOLEAN_BIND = re.compile(r"\bBIND\s*\(\s*(?:true|false)\s+AS\s*[?$]([A-Za-z0-9_]+)",
                           re.IGNORECASE)
_GROUP_CONCAT = re.compile(r"\bGROUP_CONCAT\s*\(", re.IGNORECASE)
_AS = re.compile(r"\s*AS\s*[?$]([A-Za-z0-9_\u00b7\u00c0-\ufffd]+)", re.IGNORECASE)


_VIRTUOSO_BNODE = re.compile(rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')


def readable_results(body: bytes) -> bytes:
    """A JSON results document whose blank node labels a parser accepts.

    >>> readable_results(b'{"type": "bnode", "value": "nodeID://b10010"}')
    b'{"type": "bnode", "value": "b10010"}'
    """
    return _VIRTUOSO_BNODE.sub(rb"\1", body) if b"nodeID://" in body else body


@lru_cache(maxsize=512)
def empty_aggregates(query: str) -> frozenset[str]:
    """The variables a query binds to a `GROUP_CONCAT` (which may be empty)."""
    names = set()
    for match in _GROUP_CONCAT.finditer(query):
        depth, at = 1, match.end()
        while at < len(query) and depth:
            depth += {"(": 1, ")": -1}.get(query[at], 0)
            at += 1
        bound = _AS.match(query, at)
        if bound:
            names.add(bound.group(1))
    return frozenset(names)


@lru_cache(maxsize=512)
def boolean_variables(query: str) -> frozenset[str]:
    """The variables a query binds to `true` or `false` (Virtuoso answers 1 or 0)."""
    return frozenset(_BOOLEAN_BIND.findall(query))


def normalise_rows(rows: Iterable[Mapping[str, Term]], query: str) -> list[Row]:
    """Rows of a remote engine's SELECT answer as the embedded store gives them."""
    empty = empty_aggregates(query)
    booleans = boolean_variables(query)
    out = []
    for row in rows:
        clean: Row = {}
        for name, term in row.items():
            if name in empty and isinstance(term, ox.Literal) and term.value == "" \
                    and not term.language:
                continue
            if name in booleans and isinstance(term, ox.Literal) and term.value in ("0", "1"):
                term = ox.Literal("true" if term.value == "1" else "false",
                                  datatype=ox.NamedNode(_BOOLEAN))
            clean[name] = normalise_term(term)
        out.append(clean)
    return out


def normalise_triple(triple: ox.Triple) -> ox.Triple:
    """A triple of a remote engine's CONSTRUCT answer, its object written as Oxigraph does."""
    if isinstance(triple.object, ox.Literal):
        return ox.Triple(triple.subject, triple.predicate, normalise_term(triple.object))
    return triple


def normalise_term(term: Term) -> Term:
    """One term in the form the embedded store gives: literals canonical, tags lower case."""
    if not isinstance(term, ox.Literal):
        return term
    if term.language:
        lower = term.language.lower()
        return term if lower == term.language else ox.Literal(term.value, language=lower)
    datatype = term.datatype.value
    canonical = _canonical(term.value, datatype)
    if canonical is None or canonical == term.value:
        return term
    return ox.Literal(canonical, datatype=term.datatype)


def _canonical(value: str, datatype: str) -> str | None:
    """The canonical lexical form of a number or boolean (None: leave the value as it is)."""
    text = value.strip()
    try:
        if datatype in _INTEGERS:
            return str(int(text))
        if datatype == _DECIMAL:
            number = Decimal(text)
            return _plain(number) if number.is_finite() else None
        if datatype in _FLOATS:
            return _float(float(text))
        if datatype == _DURATION and _SECONDS.fullmatch(text):
            return _duration(text)
        if datatype == _BOOLEAN:
            return {"1": "true", "0": "false", "true": "true", "false": "false"}.get(text)
    except (ValueError, InvalidOperation):
        return None
    return None


def _duration(text: str) -> str:
    """An xsd:duration that Virtuoso gives as a number (months when whole, as `6`; seconds
    when written with a point or exponent, as `172800.0`) in Oxigraph's canonical form:
    `P6M`, `P1Y`, `P2D`, `PT12H`, `P1DT2H30M`."""
    if text.isdigit():
        years, months = divmod(int(text), 12)
        return "P" + (f"{years}Y" if years else "") + (f"{months}M" if months or not years
                                                       else "")
    seconds = Decimal(text)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    time = "".join(f"{_plain(value)}{unit}" for value, unit in
                   ((hours, "H"), (minutes, "M"), (rest, "S")) if value)
    out = "P" + (f"{_plain(days)}D" if days else "") + ("T" + time if time else "")
    return out if out != "P" else "PT0S"


def _plain(number: Decimal) -> str:
    """A number without exponent or trailing zeros: `2.50` is `2.5`, `1.0` is `1`."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _float(number: float) -> str:
    """Oxigraph's form of an xsd:double (Rust's shortest form, no exponent): `2.5`, `100`,
    `0.30000000000000004`, `INF`, `NaN`."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "INF" if number > 0 else "-INF"
    return _plain(Decimal(repr(number)))
