"""Writing a workbook: an empty one for a region (`new_workbook`) or one holding an existing
Turtle file (`export_workbook`)."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ketju.core.namespaces import ID, PREFIXES
from ketju.core.turtle import Prefixes
from ketju.domain.workbook.layout import (
    CODE_LISTS,
    FIRST_ROW,
    INSTRUCTIONS,
    META,
    OTHERS,
    SHEETS,
    Column,
    Value,
    header,
)
from ketju.domain.workbook.model import Laid, lay_out, term_text
from ketju.domain.workbook.terms import Catalogue, Terms

#: Rows that get drop-down lists and formats in a sheet.
LAST_ROW = 1000
_HEADER = Font(bold=True)
_SECOND = Font(italic=True, color="444444")
_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")

INSTRUCTION_TEXT = (
    ("Ohjeet", "Anvisningar", "Instructions"),
    ("Tällä työkirjalla kuvataan palvelukokonaisuus tai palveluketju ketju-luetteloon. Jokainen "
     "välilehti on yksi asia: kokonaisuus, ketju, sen vaiheet ja siirtymät, palvelut, tuottajat, "
     "tavoitteet, mittarit ja tavoitearvot. Rivi 1 on otsikko suomeksi, rivi 2 ruotsiksi ja "
     "englanniksi; kirjoita tiedot riviltä 3 alkaen, yksi asia riville.",
     "Med den här arbetsboken beskriver man en servicehelhet eller en servicekedja för "
     "katalogen ketju. Varje flik är en sak: helheten, kedjan, dess steg och övergångar, "
     "tjänster, producenter, mål, indikatorer och målvärden. Rad 1 är rubriken på finska, rad 2 "
     "på svenska och engelska; skriv uppgifterna från rad 3, en sak per rad.",
     "This workbook describes a service package or a service chain for the ketju catalogue. "
     "Each sheet is one thing: the package, the chain, its steps and hand-overs, services, "
     "producers, goals, indicators and targets. Row 1 is the heading in Finnish, row 2 in "
     "Swedish and English; write from row 3 on, one thing per row."),
    ("Tähdellä (*) merkityt sarakkeet ovat pakollisia. Valitse arvo alasvetovalikosta, kun "
     "sarakkeessa on sellainen. Useampi arvo samaan soluun erotetaan puolipisteellä (;).",
     "Kolumner märkta med asterisk (*) är obligatoriska. Välj värdet i listan när kolumnen har "
     "en. Flera värden i samma cell skiljs åt med semikolon (;).",
     "Columns marked with an asterisk (*) are required. Choose the value from the drop-down "
     "list where the column has one. Several values in one cell are separated by a "
     "semicolon (;)."),
    ("Tunniste: jätä tyhjäksi uudelle riville, niin se muodostetaan suomenkielisestä nimestä "
     "(pienet kirjaimet ilman ääkkösiä, väliviivat). Älä muuta olemassa olevaa tunnistetta: "
     "sillä rivi löytyy seuraavallakin kerralla. Viittaa toiseen riviin sen tunnisteella "
     "(esimerkiksi vaiheen tuottaja: tuottajan tunniste Tuottajat-välilehdeltä). Uuden ketjun "
     "vaiheissa ja siirtymissä ketjuksi voi kirjoittaa myös ketjun suomenkielisen nimen.",
     "Identifierare: lämna tom på en ny rad, så bildas den av det finska namnet (små bokstäver "
     "utan å, ä, ö, bindestreck). Ändra inte en befintlig identifierare: med den hittas raden "
     "också nästa gång. Hänvisa till en annan rad med dess identifierare. I en ny kedjas steg "
     "och övergångar kan kedjan också anges med sitt finska namn.",
     "Identifier: leave it empty on a new row and it is made from the Finnish name (lower-case "
     "letters without diacritics, hyphens). Do not change an existing identifier: it is how the "
     "row is found next time. Refer to another row by its identifier (for example a step's "
     "producer: the producer's identifier on the Producers sheet). The steps and hand-overs of "
     "a new chain may also name their chain by its Finnish name."),
    ("Päivämäärät muodossa 31.12.2025 tai 2025-12-31; kestot muodossa P3D (3 päivää) tai PT48H "
     "(48 tuntia).",
     "Datum som 31.12.2025 eller 2025-12-31; längder som P3D (3 dagar) eller PT48H (48 timmar).",
     "Dates as 31.12.2025 or 2025-12-31; durations as P3D (3 days) or PT48H (48 hours)."),
    (f"Välilehti {OTHERS}: tiedot, joille työkirjassa ei ole saraketta (tai saman sarakkeen "
     "toinen arvo), säilyvät siellä riveinä: kohde, ominaisuus ja arvo Turtle-merkinnöin. Älä "
     "poista niitä; ne palaavat kuvaukseen tuonnissa sellaisinaan.",
     f"Fliken {OTHERS}: uppgifter som arbetsboken inte har någon kolumn för (eller ett andra "
     "värde i samma kolumn) bevaras där som rader: subjekt, egenskap och värde i Turtle-syntax. "
     "Ta inte bort dem; de kommer tillbaka till beskrivningen vid importen som de är.",
     f"Sheet {OTHERS}: statements the workbook has no column for (or a second value of a "
     "one-value column) are kept there as rows: subject, property and value in Turtle syntax. "
     "Do not delete them; the import puts them back into the description as they are."),
    ("Kun työkirja on valmis: ketju workbook import TIEDOSTO.xlsx --region ALUE. Komento "
     "tarkistaa tiedot ja kertoo jokaisesta virheestä välilehden, rivin ja sarakkeen; "
     "mitään ei kirjoiteta, ennen kuin kaikki on kunnossa.",
     "När arbetsboken är klar: ketju workbook import FIL.xlsx --region REGION. Kommandot "
     "kontrollerar uppgifterna och anger flik, rad och kolumn för varje fel; ingenting skrivs "
     "förrän allt är i ordning.",
     "When the workbook is ready: ketju workbook import FILE.xlsx --region REGION. The command "
     "checks the data and names the sheet, row and column of every problem; nothing is written "
     "until everything is in order."),
)


def _file_prefixes(text: str) -> dict[str, str]:
    found = dict(re.findall(r"@prefix\s+([A-Za-z0-9_.-]*):\s*<([^>]*)>\s*\.", text))
    found.update(re.findall(r"(?im)^PREFIX\s+([A-Za-z0-9_.-]*):\s*<([^>]*)>", text))
    return found


def _header_comment(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def new_workbook(catalogue: Catalogue, region: str) -> Workbook:
    """An empty workbook for `region`."""
    return _workbook(catalogue, region, Laid(), {"region": region}, dict(PREFIXES), [])


def export_workbook(catalogue: Catalogue, region: str, path: Path) -> Workbook:
    """A workbook holding the Turtle file `path` (every statement of it) for `region`."""
    text = path.read_text(encoding="utf-8")
    triples = [quad.triple for quad in ox.parse(text.encode("utf-8"),
                                                format=ox.RdfFormat.TURTLE)]
    laid = lay_out(triples, region, Terms(catalogue))
    return _workbook(catalogue, region, laid, {"region": region, "file": path.name},
                     _file_prefixes(text), _header_comment(text))


def _workbook(catalogue: Catalogue, region: str, laid: Laid, facts: dict[str, str],
              prefixes: dict[str, str], comment: list[str]) -> Workbook:
    book = Workbook()
    instructions = book.active
    assert instructions is not None
    instructions.title = INSTRUCTIONS
    _instructions(instructions)
    lists = book.create_sheet(CODE_LISTS)
    ranges = _code_lists(lists, catalogue, region, laid)
    lists.sheet_state = "hidden"
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.name)
        for index, column in enumerate(sheet.columns, start=1):
            first = ws.cell(1, index, header(column))
            first.font = _HEADER
            fill = _REQUIRED_FILL if column.required else _FILL
            first.fill = fill
            second = ws.cell(2, index, column.sv_en)
            second.font = _SECOND
            second.fill = fill
            for cell in (first, second):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(index)].width = column.width
            for number, row in enumerate(laid.rows.get(sheet.name, []), start=FIRST_ROW):
                if column.key in row:
                    value: str | int = row[column.key]
                    if column.value is Value.INTEGER and str(value).isdigit():
                        value = int(value)
                    cell = ws.cell(number, index, value)
                    if isinstance(value, str):
                        cell.number_format = "@"
                    cell.alignment = Alignment(wrap_text=len(str(value)) > column.width,
                                               vertical="top")
            _validation(ws, index, column, ranges)
        for number, row in enumerate(laid.rows.get(sheet.name, []), start=FIRST_ROW):
            lines = max((_lines(row.get(c.key, ""), c.width) for c in sheet.columns), default=1)
            if lines > 1:
                ws.row_dimensions[number].height = _LINE * min(lines, _MOST_LINES)
        ws.row_dimensions[1].height = _LINE * max(_lines(header(c), c.width)
                                                  for c in sheet.columns)
        ws.row_dimensions[2].height = _LINE * max(_lines(c.sv_en, c.width)
                                                  for c in sheet.columns)
        ws.freeze_panes = "B3"
    _others(book.create_sheet(OTHERS), laid, Prefixes(sorted(prefixes.items())))
    meta = book.create_sheet(META)
    for key, value in facts.items():
        meta.append([key, value])
    for name, namespace in prefixes.items():
        meta.append(["prefix", name, namespace])
    for line in comment:
        meta.append(["comment", line])
    meta.sheet_state = "hidden"
    book.active = 0
    return book


#: The height of a line of text in points, and the most lines a row is made tall for (a long
#: description is read in the cell or the formula bar).
_LINE = 15
_MOST_LINES = 8


def _lines(text: str, width: int) -> int:
    """About how many lines `text` takes in a column `width` characters wide, when wrapped:
    spreadsheet programs do not all grow rows to their text, so the writer sets heights."""
    return sum(max(1, -(-len(part) * 11 // (width * 10))) for part in str(text).split("\n"))


def _instructions(ws: Worksheet) -> None:
    for index, width in enumerate((60, 60, 60), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for number, texts in enumerate(INSTRUCTION_TEXT, start=1):
        ws.append(list(texts))
        ws.row_dimensions[number].height = _LINE * max(_lines(t, 60) for t in texts)
        for cell in ws[number]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if number == 1:
                cell.font = Font(bold=True, size=14)


def list_key(column: Column) -> str | None:
    """The code list a column's drop-down offers, if any."""
    if column.value is Value.CODE:
        return column.target
    if column.value is Value.REF and column.target in ("producer", "service") \
            and column.key != "id":
        return column.target
    return None


def _code_lists(ws: Worksheet, catalogue: Catalogue, region: str,
                laid: Laid) -> dict[str, str]:
    wanted = {key for sheet in SHEETS for c in sheet.columns if (key := list_key(c))}
    ranges = {}
    for index, key in enumerate(sorted(wanted), start=1):
        if key in ("producer", "service"):
            # The region's own by their slugs, then the national ones (Kela...) as
            # national/producer/kela: the forms a reference cell takes (terms.ref_text).
            own, national = f"{ID}{region}/{key}/", f"{ID}national/{key}/"
            names = {iri.removeprefix(own) for iri in catalogue.known if iri.startswith(own)
                     and "/" not in iri.removeprefix(own)}
            sheet = {"producer": "Tuottajat", "service": "Palvelut"}[key]
            names |= {row["id"] for row in laid.rows.get(sheet, []) if "/" not in row["id"]}
            others = {iri.removeprefix(ID) for iri in catalogue.known if iri.startswith(national)
                      and "/" not in iri.removeprefix(national)} if region != "national" else set()
            choices = sorted(names) + sorted(others)
        else:
            vocabulary = catalogue.vocabularies.get(key)
            choices = vocabulary.choices() if vocabulary else []
        letter = get_column_letter(index)
        ws.cell(1, index, key)
        for number, choice in enumerate(choices, start=2):
            ws.cell(number, index, choice)
        if choices:
            ranges[key] = (f"{quote_sheetname(CODE_LISTS)}!${letter}$2:${letter}$"
                           f"{len(choices) + 1}")
    return ranges


def _rows_of(column: Column) -> str | None:
    """The identifiers a reference column's drop-down offers when they are the rows of another
    sheet of the workbook (the chain of a step, the indicator of a target...)."""
    if column.value is not Value.REF or column.key == "id" or list_key(column):
        return None
    sheet = next((s for s in SHEETS if s.segment == column.target), None)
    if sheet is None:
        return None
    return f"{quote_sheetname(sheet.name)}!$A${FIRST_ROW}:$A${LAST_ROW}"


def _validation(ws: Worksheet, index: int, column: Column, ranges: dict[str, str]) -> None:
    key = list_key(column)
    formula = ranges.get(key) if key else _rows_of(column)
    if formula is None:
        return
    strict = column.value is Value.CODE and not column.many
    check = DataValidation(type="list", formula1=formula, allow_blank=True,
                           errorStyle="stop" if strict else "warning",
                           showErrorMessage=True,
                           error="Valitse arvo luettelosta. / Välj i listan. / Choose from "
                                 "the list.")
    letter = get_column_letter(index)
    check.add(f"{letter}{FIRST_ROW}:{letter}{LAST_ROW}")
    ws.add_data_validation(check)


OTHER_HEADERS = (("Kohde", "Subjekt / Subject"), ("Ominaisuus", "Egenskap / Property"),
                 ("Arvo", "Värde / Value (Turtle)"))


def _others(ws: Worksheet, laid: Laid, prefixes: Prefixes) -> None:
    for index, (fi, sv_en) in enumerate(OTHER_HEADERS, start=1):
        ws.cell(1, index, fi).font = _HEADER
        ws.cell(2, index, sv_en).font = _SECOND
        ws.column_dimensions[get_column_letter(index)].width = (40, 32, 80)[index - 1]
    for number, triple in enumerate(laid.others, start=FIRST_ROW):
        for index, term in enumerate((triple.subject, triple.predicate, triple.object),
                                     start=1):
            cell = ws.cell(number, index, term_text(term, prefixes))
            cell.number_format = "@"
    ws.freeze_panes = "A3"
