"""A description laid out on the sheets: which statement goes into which cell (`lay_out`), and
which statements a filled-in sheet stands for (`Row.statements` in `read`). Both sides follow
`layout.SHEETS`; what no column can hold exactly is kept as an `other` statement."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from ketju.core.kinds import by_segment
from ketju.core.namespaces import RDF_TYPE
from ketju.core.turtle import Prefixes, lang_literal, string_literal
from ketju.domain.workbook.layout import SEPARATOR, SHEETS, Column, Sheet, Value
from ketju.domain.workbook.terms import Place, Terms

#: The approving decision of a description (issue 16 life cycle), a kind of its own.
DECISION = by_segment("decision").iri
Term = ox.NamedNode | ox.Literal | ox.BlankNode


@dataclass
class Laid:
    """Rows per sheet (column key to cell text) and the statements kept on `Muut tiedot`."""

    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    others: list[ox.Triple] = field(default_factory=list)


def _subjects_in_order(triples: list[ox.Triple]) -> list[ox.NamedNode]:
    seen: dict[ox.NamedNode, None] = {}
    for triple in triples:
        if isinstance(triple.subject, ox.NamedNode):
            seen.setdefault(triple.subject, None)
    return list(seen)


def lay_out(triples: list[ox.Triple], region: str, terms: Terms) -> Laid:
    """Put every statement of `triples` into a cell or onto the list of others."""
    remaining = set(triples)
    by_subject: dict[Term, list[ox.Triple]] = defaultdict(list)
    by_object: dict[Term, list[ox.Triple]] = defaultdict(list)
    for triple in triples:
        by_subject[triple.subject].append(triple)
        by_object[triple.object].append(triple)
    rdf_type = ox.NamedNode(RDF_TYPE)
    taken: set[ox.NamedNode] = set()
    laid = Laid()
    order = _subjects_in_order(triples)
    for sheet in SHEETS:
        cls = ox.NamedNode(sheet.cls)
        members = [s for s in order if s not in taken and ox.Triple(s, rdf_type, cls) in remaining]
        rows = []
        for subject in members:
            taken.add(subject)
            remaining.discard(ox.Triple(subject, rdf_type, cls))
            rows.append(_row(sheet, subject, remaining, by_subject, by_object, region, terms))
        if sheet.chain_column:
            rows.sort(key=lambda r: (r.get(sheet.chain_column or "", ""),
                                     _number(r.get("position", "")), r.get("id", "")))
        laid.rows[sheet.name] = rows
    laid.others = [t for t in triples if t in remaining]
    return laid


def _number(text: str) -> int:
    return int(text) if text.lstrip("-").isdigit() else 0


def _candidates(column: Column, subject: Term, remaining: set[ox.Triple],
                by_subject: dict[Term, list[ox.Triple]],
                by_object: dict[Term, list[ox.Triple]], cls: str) -> list[tuple[ox.Triple, Term]]:
    if column.value is Value.CLASS:
        return [(t, t.object) for t in by_subject[subject] if t in remaining
                and t.predicate.value == RDF_TYPE and t.object.value != cls]
    if column.inverse:
        return [(t, t.subject) for t in by_object[subject] if t in remaining
                and t.predicate.value == column.prop and isinstance(t.subject, ox.NamedNode)]
    return [(t, t.object) for t in by_subject[subject] if t in remaining
            and t.predicate.value == column.prop]


def _row(sheet: Sheet, subject: ox.NamedNode, remaining: set[ox.Triple],
         by_subject: dict[Term, list[ox.Triple]], by_object: dict[Term, list[ox.Triple]],
         region: str, terms: Terms) -> dict[str, str]:
    place = Place(region)
    row: dict[str, str] = {}
    columns = list(sheet.columns)
    if sheet.chain_column:
        first = sheet.column(sheet.chain_column)
        columns.remove(first)
        columns.insert(0, first)

    def fill(column: Column, node: Term) -> list[Term]:
        values, texts = [], []
        for triple, value in sorted(_candidates(column, node, remaining, by_subject, by_object,
                                                sheet.cls), key=lambda c: str(c[1])):
            if not isinstance(value, ox.NamedNode | ox.Literal):
                continue
            text = terms.show(value, column, place)
            if text is None:
                continue
            remaining.discard(triple)
            values.append(value)
            texts.append(text)
            if not column.many:
                break
        if texts:
            row[column.key] = f"{SEPARATOR} ".join(texts)
        return values

    vias: dict[str, Term] = {}
    for column in columns:
        if column.key == "id":
            row["id"] = terms.show(subject, column, place) or subject.value
            continue
        if column.via:
            continue
        values = fill(column, subject)
        if column.key == sheet.chain_column and values:
            place.chain = values[0].value
            row["id"] = terms.show(subject, sheet.column("id"), place) or subject.value
        if len(values) == 1 and isinstance(values[0], ox.NamedNode) \
                and any(c.via == column.key for c in columns):
            vias[column.key] = values[0]
    for key, node in vias.items():
        typed = ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(DECISION))
        via_columns = [c for c in columns if c.via == key]
        if not via_columns or typed not in remaining:
            continue
        filled = [fill(c, node) for c in via_columns]
        if any(filled):
            remaining.discard(typed)
    return row


def term_text(term: Term, prefixes: Prefixes) -> str:
    """A term in Turtle syntax, for the sheet of other statements."""
    if isinstance(term, ox.NamedNode):
        return prefixes.term(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if term.language:
        return lang_literal(term.value, term.language)
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
        return string_literal(term.value)
    return f"{string_literal(term.value)}^^{prefixes.term(term.datatype.value)}"
