"""Reading a filled-in workbook back into statements, remembering which cell wrote each one so
that a problem found later (by the shapes) can be shown where the planner wrote it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ketju.core.namespaces import ID, RDF_TYPE
from ketju.domain.workbook.layout import (
    FIRST_ROW,
    META,
    OTHERS,
    SHEETS,
    Column,
    Sheet,
    Value,
    by_header,
)
from ketju.domain.workbook.model import DECISION
from ketju.domain.workbook.terms import Catalogue, CellError, Place, Terms, ref_iri, slugify

_WORDS = {"fi": ("rivi", "sarake"), "sv": ("rad", "kolumn"), "en": ("row", "column")}


@dataclass(frozen=True)
class Cell:
    sheet: str
    row: int | None = None
    column: str | None = None
    header: str | None = None


@dataclass(frozen=True)
class Problem:
    """One problem, where the planner can find it: sheet, row and column, and what is wrong."""

    where: Cell
    messages: dict[str, str]

    def text(self, lang: str = "fi") -> str:
        row, column = _WORDS.get(lang, _WORDS["en"])
        parts = [self.where.sheet]
        if self.where.row is not None:
            parts.append(f"{row} {self.where.row}")
        if self.where.column or self.where.header:
            named = " ".join(x for x in (self.where.column,
                                         f"({self.where.header})" if self.where.header else "")
                             if x)
            parts.append(f"{column} {named}")
        message = self.messages.get(lang) or self.messages.get("en") or ""
        return f"{', '.join(parts)}: {message}"


@dataclass
class Reading:
    triples: list[ox.Triple] = field(default_factory=list)
    #: The cells that wrote statements of (node, property), with the values they hold; (node,
    #: None) is the row of the node.
    origin: dict[tuple[str, str | None], list[tuple[Cell, list[str]]]] = field(
        default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    comment: list[str] = field(default_factory=list)

    def note(self, node: str, prop: str | None, cell: Cell, values: list[str]) -> None:
        entries = self.origin.setdefault((node, prop), [])
        if prop is not None or not entries:
            entries.append((cell, values))

    def cell_for(self, node: str, prop: str | None, value: str | None) -> Cell | None:
        """The cell that wrote (node, prop, value); for a value that is missing, the empty cell
        of that property on the node's row."""
        entries = self.origin.get((node, prop), [])
        for cell, values in entries:
            if value and any(v and v in value for v in values):
                return cell
        empty = [cell for cell, values in entries if not values]
        if empty:
            return empty[0]
        return entries[0][0] if entries else None

    def problem(self, where: Cell, fi: str, sv: str, en: str) -> None:
        self.problems.append(Problem(where, {"fi": fi, "sv": sv, "en": en}))


@dataclass
class _Pending:
    """A reference that must name a producer or service that exists somewhere."""

    iri: str
    kind: str
    where: Cell


def read_workbook(book: Workbook, region: str, catalogue: Catalogue) -> Reading:
    reading = Reading()
    if META in book.sheetnames:
        _meta(book[META], reading)
    terms = Terms(catalogue)
    pending: list[_Pending] = []
    subjects: set[str] = set()
    for sheet in SHEETS:
        if sheet.name in book.sheetnames:
            _sheet(book[sheet.name], sheet, region, terms, reading, pending, subjects)
    if OTHERS in book.sheetnames:
        _others(book[OTHERS], reading)
    known = catalogue.known | subjects
    for ref in pending:
        if ref.iri not in known:
            reading.problems.append(Problem(ref.where, _unknown(ref.kind,
                                                                ref.iri.rsplit("/", 1)[-1])))
    return reading


#: What a reference to an unknown producer or service is called.
_NAMED = {"producer": ("tuottaja", "producent", "producer"),
          "service": ("palvelu", "tjänst", "service")}


def _unknown(kind: str, name: str) -> dict[str, str]:
    fi, sv, en = _NAMED[kind]
    return {"fi": f"Tuntematon {fi} '{name}': sitä ei ole alueen tiedoissa eikä tässä "
                  "työkirjassa (kirjoita tunniste, esimerkiksi alasvetovalikosta).",
            "sv": f"Okänd {sv} '{name}': den finns varken i regionens uppgifter eller i den "
                  "här arbetsboken (skriv identifieraren, till exempel ur listan).",
            "en": f"Unknown {en} '{name}': it is neither in the region's data nor in this "
                  "workbook (write its identifier, for example from the drop-down list)."}


def _meta(ws: Worksheet, reading: Reading) -> None:
    for row in ws.iter_rows(values_only=True):
        if not row or row[0] is None:
            continue
        if row[0] == "prefix" and len(row) > 2 and row[2]:
            reading.prefixes[str(row[1] or "")] = str(row[2])
        elif row[0] == "comment":
            reading.comment.append(str(row[1] or ""))
        elif len(row) > 1 and row[1] is not None:
            reading.facts[str(row[0])] = str(row[1])


def _headers(ws: Worksheet, sheet: Sheet, reading: Reading) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(ws[1], start=1):
        if cell.value is None or not str(cell.value).strip():
            continue
        column = by_header(sheet, str(cell.value))
        if column is None:
            reading.problem(Cell(sheet.name, 1, get_column_letter(index), str(cell.value)),
                            "Tuntematon sarake: siirrä sen tiedot välilehdelle Muut tiedot.",
                            "Okänd kolumn: flytta dess uppgifter till fliken Muut tiedot.",
                            "Unknown column: move its values to the sheet Muut tiedot.")
        elif column.key in found:
            reading.problem(Cell(sheet.name, 1, get_column_letter(index), column.fi),
                            "Sarake on kahteen kertaan.", "Kolumnen finns två gånger.",
                            "The column is there twice.")
        else:
            found[column.key] = index
    for column in sheet.columns:
        if column.required and column.key not in found:
            reading.problem(Cell(sheet.name, 1, None, column.fi),
                            f"Pakollinen sarake '{column.fi}' puuttuu.",
                            f"Den obligatoriska kolumnen '{column.fi}' saknas.",
                            f"The required column '{column.fi}' is missing.")
    return found


def _sheet(ws: Worksheet, sheet: Sheet, region: str, terms: Terms, reading: Reading,
           pending: list[_Pending], subjects: set[str]) -> None:
    columns = _headers(ws, sheet, reading)
    if any(p.where.sheet == sheet.name and p.where.row == 1 for p in reading.problems):
        return
    ordered = [c for c in sheet.columns if c.key in columns and c.key != "id"]
    if sheet.chain_column and sheet.chain_column in columns:
        chain = sheet.column(sheet.chain_column)
        ordered.remove(chain)
        ordered.insert(0, chain)
    positions: dict[tuple[str | None, str], int] = {}
    seen: dict[str, int] = {}
    rdf_type = ox.NamedNode(RDF_TYPE)
    for number, values in enumerate(ws.iter_rows(min_row=FIRST_ROW, values_only=True),
                                    start=FIRST_ROW):
        cells = {key: values[index - 1] if index - 1 < len(values) else None
                 for key, index in columns.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in cells.values()):
            continue

        def where(column: Column, row: int = number) -> Cell:
            return Cell(sheet.name, row, get_column_letter(columns[column.key]), column.fi)

        place = Place(region)
        parsed: dict[str, list[ox.NamedNode | ox.Literal]] = {}
        for column in ordered:
            try:
                parsed[column.key] = terms.parse(cells[column.key], column, place)
            except CellError as error:
                messages = error.messages
                if column.value is Value.REF and column.target in _NAMED:
                    messages = _unknown(column.target, str(cells[column.key]).strip())
                reading.problems.append(Problem(where(column), messages))
                parsed[column.key] = []
            if column.key == sheet.chain_column and parsed[column.key]:
                place.chain = parsed[column.key][0].value
        subject = _subject(sheet, cells, columns, place, reading, number)
        if subject is None:
            continue
        if subject.value in seen:
            reading.problem(Cell(sheet.name, number, "A", "Tunniste"),
                            f"Sama tunniste on jo rivillä {seen[subject.value]}.",
                            f"Samma identifierare finns redan på rad {seen[subject.value]}.",
                            f"The same identifier is already on row {seen[subject.value]}.")
            continue
        seen[subject.value] = number
        subjects.add(subject.value)
        reading.note(subject.value, None, Cell(sheet.name, number, "A", "Tunniste"), [])
        reading.triples.append(ox.Triple(subject, rdf_type, ox.NamedNode(sheet.cls)))
        nodes: dict[str, ox.NamedNode] = {}
        for column in ordered:
            if column.via:
                continue
            for value in parsed[column.key]:
                if column.value is Value.CLASS:
                    reading.triples.append(ox.Triple(subject, rdf_type, value))
                elif column.inverse:
                    assert isinstance(value, ox.NamedNode)
                    reading.triples.append(ox.Triple(value, ox.NamedNode(column.prop), subject))
                    reading.note(value.value, column.prop, where(column), [subject.value])
                else:
                    reading.triples.append(ox.Triple(subject, ox.NamedNode(column.prop), value))
                if column.value is Value.REF and column.target in ("producer", "service"):
                    pending.append(_Pending(value.value, column.target, where(column)))
            reading.note(subject.value, column.prop or RDF_TYPE, where(column),
                         [v.value for v in parsed[column.key]])
            if len(parsed[column.key]) == 1 and isinstance(parsed[column.key][0], ox.NamedNode):
                nodes[column.key] = parsed[column.key][0]  # type: ignore[assignment]
        if parsed.get("position"):
            key = (place.chain, parsed["position"][0].value)
            column = sheet.column("position")
            if key in positions:
                reading.problem(where(column),
                                f"Järjestysnumero {key[1]} on jo rivillä {positions[key]} "
                                "samassa ketjussa.",
                                f"Ordningsnumret {key[1]} finns redan på rad {positions[key]} i "
                                "samma kedja.",
                                f"Step number {key[1]} is already on row {positions[key]} of "
                                "the same chain.")
            else:
                positions[key] = number
        _vias(sheet, subject, ordered, parsed, nodes, region, reading, where)


def _vias(sheet: Sheet, subject: ox.NamedNode, ordered: list[Column],
          parsed: dict[str, list[ox.NamedNode | ox.Literal]], nodes: dict[str, ox.NamedNode],
          region: str, reading: Reading, where: object) -> None:
    groups: dict[str, list[Column]] = defaultdict(list)
    for column in ordered:
        if column.via:
            groups[column.via].append(column)
    for via, columns in groups.items():
        if not any(parsed[c.key] for c in columns):
            continue
        node = nodes.get(via)
        if node is None:
            slug = slugify(subject.value.rsplit("/", 1)[-1])
            node = ox.NamedNode(f"{ID}{region}/decision/{slug}")
            owner = sheet.column(via)
            reading.triples.append(ox.Triple(subject, ox.NamedNode(owner.prop), node))
        reading.triples.append(ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(DECISION)))
        reading.note(node.value, None, where(sheet.column(via)), [])  # type: ignore[operator]
        for column in columns:
            for value in parsed[column.key]:
                reading.triples.append(ox.Triple(node, ox.NamedNode(column.prop), value))
            reading.note(node.value, column.prop, where(column),  # type: ignore[operator]
                         [v.value for v in parsed[column.key]])


def _subject(sheet: Sheet, cells: dict[str, object], columns: dict[str, int], place: Place,
             reading: Reading, number: int) -> ox.NamedNode | None:
    raw = cells.get("id")
    text = str(raw).strip() if raw is not None else ""
    if not text:
        name = cells.get("name_fi")
        if name is None or not str(name).strip():
            reading.problem(Cell(sheet.name, number, "A", "Tunniste"),
                            "Rivillä ei ole tunnistetta eikä suomenkielistä nimeä.",
                            "Raden har varken identifierare eller finskt namn.",
                            "The row has neither an identifier nor a Finnish name.")
            return None
        text = slugify(str(name))
    try:
        return ox.NamedNode(ref_iri(text, sheet.segment, place))
    except CellError as error:
        column = columns.get("id")
        reading.problems.append(Problem(Cell(sheet.name, number, get_column_letter(column)
                                             if column else None, "Tunniste"), error.messages))
        return None


def _others(ws: Worksheet, reading: Reading) -> None:
    head = "".join(f"@prefix {name}: <{ns}> .\n" for name, ns in reading.prefixes.items())
    lines = []
    for number, values in enumerate(ws.iter_rows(min_row=FIRST_ROW, max_col=3,
                                                 values_only=True), start=FIRST_ROW):
        parts = [str(v).strip() if v is not None else "" for v in values]
        if not any(parts):
            continue
        line = " ".join(parts) + " ."
        try:
            triples = list(ox.parse((head + line).encode("utf-8"), format=ox.RdfFormat.TURTLE))
        except SyntaxError as error:
            reading.problem(Cell(OTHERS, number, "A-C"),
                            f"Rivi ei ole Turtle-muotoinen lause: {error}",
                            f"Raden är inget påstående i Turtle-syntax: {error}",
                            f"The row is not a statement in Turtle syntax: {error}")
            continue
        if len(triples) != 1:
            reading.problem(Cell(OTHERS, number, "A-C"), "Rivillä pitää olla yksi lause.",
                            "Raden ska ha ett påstående.", "The row must hold one statement.")
            continue
        lines.append((number, line, triples[0].triple))
    if not lines:
        return
    whole = head + "\n".join(line for _, line, _ in lines)
    for quad in ox.parse(whole.encode("utf-8"), format=ox.RdfFormat.TURTLE):
        reading.triples.append(quad.triple)
    for number, _, triple in lines:
        key = (triple.subject.value, triple.predicate.value)
        reading.note(triple.subject.value, None, Cell(OTHERS, number, "A"), [])
        reading.note(*key, Cell(OTHERS, number, "C"), [triple.object.value])
