"""Planners' workbooks (issue 16, points 1 and 2): every chain and package of the example data
survives export and import unchanged (isomorphic graphs); a new workbook has its sheets, both
header rows and drop-downs; broken workbooks are refused with sheet, row and column."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from rdflib import Graph
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from ketju.cli import app
from ketju.core.namespaces import ONTOLOGY, RDF_TYPE
from ketju.core.project import Project
from ketju.domain.workbook import (
    Catalogue,
    description_file,
    export_workbook,
    import_workbook,
    new_workbook,
    read_workbook,
    to_turtle,
)
from ketju.domain.workbook.layout import CODE_LISTS, INSTRUCTIONS, OTHERS, SHEETS, sheet_named
from ketju.domain.workbook.read import Problem
from tests.conftest import ROOT

DESCRIPTION_CLASSES = {ONTOLOGY + "ServicePackage", ONTOLOGY + "ServiceChain"}


def _descriptions() -> list[str]:
    """Every package and chain of the example data, found in the data."""
    found = set()
    for path in sorted((ROOT / "data").glob("*/*.ttl")):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if quad.predicate.value == RDF_TYPE and quad.object.value in DESCRIPTION_CLASSES:
                found.add(quad.subject.value)
    return sorted(found)


DESCRIPTIONS = _descriptions()
CHAIN = "https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma"


@pytest.fixture(scope="module")
def catalogue(project: Project) -> Catalogue:
    return Catalogue.load(project)


def _reopen(book: Workbook) -> Workbook:
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return load_workbook(buffer, data_only=True)


def _region(iri: str) -> str:
    return iri.split("/id/", 1)[1].split("/", 1)[0]


def test_the_data_has_chains_and_packages() -> None:
    segments = {iri.split("/")[-2] for iri in DESCRIPTIONS}
    assert segments == {"chain", "package"}
    assert len(DESCRIPTIONS) >= 10


@pytest.mark.parametrize("iri", DESCRIPTIONS, ids=lambda iri: iri.split("/id/", 1)[1])
def test_export_and_import_give_the_same_graph(project: Project, catalogue: Catalogue,
                                               iri: str) -> None:
    found, path = description_file(project, iri)
    assert found == iri
    book = _reopen(export_workbook(catalogue, _region(iri), path))
    reading = read_workbook(book, _region(iri), catalogue)
    assert reading.problems == []
    original = Graph().parse(path, format="turtle")
    back = Graph().parse(data=to_turtle(reading), format="turtle")
    assert len(back) == len(original)
    assert isomorphic(original, back), set(original) ^ set(back)
    # rdflib normalises some literals (PT24H reads as P1D): compare the very terms too, which
    # without blank nodes is comparing the statements.
    exact = {q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)}
    again = {q.triple for q in ox.parse(to_turtle(reading).encode(),
                                        format=ox.RdfFormat.TURTLE)}
    if not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
               for t in exact):
        assert exact == again, exact ^ again
    # The description itself is on its own sheet, not among the other statements.
    sheet = "Palveluketju" if "/chain/" in iri else "Palvelukokonaisuus"
    ids = [row[0] for row in book[sheet].iter_rows(min_row=3, values_only=True)]
    assert iri.rsplit("/", 1)[-1] in ids


def test_a_chain_is_laid_out_on_its_sheets(project: Project, catalogue: Catalogue) -> None:
    _, path = description_file(project, "varsinais-suomi/lonkkamurtuma")
    book = _reopen(export_workbook(catalogue, "varsinais-suomi", path))
    steps = _rows(book["Vaiheet"])
    first = steps[0]
    assert (first["Ketju *"], first["Järjestys *"], first["Tuottaja *"]) == (
        "lonkkamurtuma", 1, "ensihoito")
    assert first["Palvelutaso"] == "erityistaso"  # the Finnish label of level:specialised
    assert [row["Järjestys *"] for row in steps] == sorted(row["Järjestys *"] for row in steps)
    surgery = next(row for row in steps if row["Tunniste"] == "leikkaus")
    assert surgery["Enimmäiskesto"] == "PT48H"
    assert _rows(book["Siirtymät"])[0]["Siirtymän laji *"]
    others = list(book[OTHERS].iter_rows(min_row=3, values_only=True))
    assert others and all(len([v for v in row if v]) == 3 for row in others)


def _rows(ws: Worksheet) -> list[dict[str, object]]:
    headers = [cell.value for cell in ws[1]]
    return [dict(zip(headers, row, strict=False))
            for row in ws.iter_rows(min_row=3, values_only=True) if any(row)]


def test_a_new_workbook_has_sheets_headers_and_drop_downs(catalogue: Catalogue) -> None:
    book = _reopen(new_workbook(catalogue, "varsinais-suomi"))
    names = book.sheetnames
    assert names[0] == INSTRUCTIONS
    for sheet in ("Palvelukokonaisuus", "Palveluketju", "Vaiheet", "Siirtymät", "Palvelut",
                  "Tuottajat", "Tavoitteet", "Mittarit", "Tavoitearvot", OTHERS):
        assert sheet in names
    assert book[CODE_LISTS].sheet_state == "hidden"
    steps = book["Vaiheet"]
    assert steps.freeze_panes == "B3"
    assert steps["A1"].value == "Tunniste"
    assert steps["A2"].value == "Identifierare / Identifier"
    assert steps["H1"].value == "Tuottaja *" and steps["H2"].value == "Producent / Producer"
    # Drop-downs: the service level from its vocabulary, the producer from the region's own.
    formulas = {str(v.sqref).split(":")[0]: v.formula1
                for v in steps.data_validations.dataValidation}
    level, producer = formulas["I3"], formulas["H3"]
    assert level.startswith(f"'{CODE_LISTS}'!") and producer.startswith(f"'{CODE_LISTS}'!")
    assert "erityistaso" in _choices(book, level)
    assert "ensihoito" in _choices(book, producer)  # vsprod:ensihoito of producers.ttl
    assert "national/producer/kela" in _choices(book, producer)
    assert formulas["B3"] == "'Palveluketju'!$A$3:$A$1000"  # a step's chain: the chain rows
    life = [cell.value for cell in book["Palveluketju"][1]]
    for heading in ("Tila", "Voimassa alkaen", "Voimassa asti", "Nykytila vai tavoitetila",
                    "Korvaa kuvauksen", "Korvattu kuvauksella", "Päättäjä", "Päätöspäivä",
                    "Päätöksen viite", "Päätöksen verkko-osoite"):
        assert heading in life
    instructions = " ".join(str(c.value) for row in book[INSTRUCTIONS].iter_rows() for c in row)
    assert OTHERS in instructions and "Anvisningar" in instructions and "Instructions" in \
        instructions


def _choices(book: Workbook, formula: str) -> list[object]:
    cells = formula.split("!", 1)[1].replace("$", "")
    return [cell.value for row in book[CODE_LISTS][cells] for cell in row]


def _exported(project: Project, catalogue: Catalogue, name: str = CHAIN) -> Workbook:
    _, path = description_file(project, name)
    return load_workbook(io.BytesIO(_bytes(export_workbook(catalogue, _region(name), path))))


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _letter(ws: Worksheet, heading: str) -> str:
    for cell in ws[1]:
        if str(cell.value).rstrip(" *") == heading:
            return str(cell.column_letter)
    raise AssertionError(heading)


def _import(project: Project, book: Workbook, tmp_path: Path) -> tuple[list[Problem], Path]:
    source = tmp_path / "book.xlsx"
    book.save(source)
    folder = tmp_path / "out"
    result = import_workbook(project, source, "varsinais-suomi", folder)
    return result.problems, folder


def _breaks(book: Workbook, case: str) -> tuple[str, int, str]:
    """Break `book` the way `case` says; the sheet, row and column header it must be blamed
    on."""
    steps, chain = book["Vaiheet"], book["Palveluketju"]
    if case == "vocabulary":
        steps[f"{_letter(steps, 'Palvelutaso')}3"] = "avaruustaso"
        return "Vaiheet", 3, "Palvelutaso"
    if case == "missing-column":
        steps.delete_cols(steps[f"{_letter(steps, 'Järjestys')}1"].column)
        return "Vaiheet", 1, "Järjestys"
    if case == "duplicate-step":
        column = _letter(steps, "Järjestys")
        steps[f"{column}5"] = steps[f"{column}4"].value
        return "Vaiheet", 5, "Järjestys"
    if case == "unknown-producer":
        steps[f"{_letter(steps, 'Tuottaja')}4"] = "olematon-tuottaja"
        return "Vaiheet", 4, "Tuottaja"
    if case == "producer-by-name":  # a name where the identifier belongs
        transitions = book["Siirtymät"]
        transitions[f"{_letter(transitions, 'Vastuutuottaja')}3"] = "Ortopedian klinikka"
        return "Siirtymät", 3, "Vastuutuottaja"
    if case == "bad-date":
        chain[f"{_letter(chain, 'Voimassa alkaen')}3"] = "31.2.2025"
        return "Palveluketju", 3, "Voimassa alkaen"
    if case == "shape":  # a required value left empty: the shapes find it, on its cell
        transitions = book["Siirtymät"]
        transitions[f"{_letter(transitions, 'Siirtymän laji')}4"] = None
        return "Siirtymät", 4, "Siirtymän laji"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["vocabulary", "missing-column", "duplicate-step",
                                  "unknown-producer", "producer-by-name", "bad-date", "shape"])
def test_a_broken_workbook_is_refused_with_sheet_row_and_column(
        project: Project, catalogue: Catalogue, tmp_path: Path, case: str) -> None:
    book = _exported(project, catalogue)
    sheet, row, heading = _breaks(book, case)
    problems, folder = _import(project, book, tmp_path)
    assert problems, case
    blamed = [p for p in problems if (p.where.sheet, p.where.row, p.where.header) ==
              (sheet, row, heading)]
    assert blamed, [p.text("en") for p in problems]
    problem = blamed[0]
    if row > 1:
        ws = book[sheet]
        assert problem.where.column in (None, _letter(ws, heading))
    if case.endswith("producer") or case == "producer-by-name":
        assert "Tuntematon tuottaja" in problem.text("fi")
        assert "Unknown producer" in problem.text("en")
    for lang in ("fi", "en"):
        text = problem.text(lang)
        assert text.startswith(f"{sheet}, {'rivi' if lang == 'fi' else 'row'} {row}")
        assert heading in text and "http" not in text.split(":", 1)[1][:40]
    assert not folder.exists() or not any(folder.iterdir())  # nothing written


def test_import_writes_validated_turtle_and_keeps_other_statements(
        project: Project, catalogue: Catalogue, tmp_path: Path) -> None:
    book = _exported(project, catalogue)
    note = "Työpajassa 3.2. sovittu: tarkista kotiutuksen viive."
    book[OTHERS].append([f"<{CHAIN}>", "skos:editorialNote", f'"{note}"@fi'])
    steps = book["Vaiheet"]
    headers = [str(cell.value).rstrip(" *") for cell in steps[1]]
    new = dict.fromkeys(headers, None)
    new.update({"Ketju": "lonkkamurtuma", "Järjestys": 99, "Nimi (suomi)": "Uusi Ääkkösvaihe",
                "Palvelu": "kotihoito", "Tuottaja": "kotihoito", "Palvelutaso": "perustaso"})
    steps.append([new[h] for h in headers])
    problems, folder = _import(project, book, tmp_path)
    assert problems == [], [p.text("en") for p in problems]
    written = folder / "lonkkamurtuma.ttl"
    graph = Graph().parse(written, format="turtle")
    original = Graph().parse(ROOT / "data/varsinais-suomi/lonkkamurtuma.ttl")
    # The note, and the new step: its type, chain, position, name, service, producer, level.
    assert len(graph) == len(original) + 1 + 7
    assert any(str(o) == note for o in graph.objects())
    step = f"{CHAIN}/step/uusi-aakkosvaihe"  # the slug rule of docs/MODELLING.md
    assert any(str(s) == step for s in graph.subjects())


def test_a_new_chain_is_named_by_its_steps_with_its_finnish_name(catalogue: Catalogue) -> None:
    """A new chain row without an identifier gets one from its Finnish name; its steps may name
    the chain by that name instead of typing the identifier."""
    book = _reopen(new_workbook(catalogue, "varsinais-suomi"))
    for sheet, row in (("Palveluketju", {"Nimi (suomi)": "Uusi kotiutusketju"}),
                       ("Vaiheet", {"Ketju": "Uusi kotiutusketju", "Järjestys": 1,
                                    "Nimi (suomi)": "Kotiutus", "Palvelu": "kotihoito",
                                    "Tuottaja": "kotihoito"})):
        ws = book[sheet]
        headers = [str(cell.value).rstrip(" *") for cell in ws[1]]
        ws.append([row.get(h) for h in headers])
    reading = read_workbook(book, "varsinais-suomi", catalogue)
    chain = "https://w3id.org/ketju/id/varsinais-suomi/chain/uusi-kotiutusketju"
    assert ox.Triple(ox.NamedNode(chain), ox.NamedNode(ONTOLOGY + "hasStep"),
                     ox.NamedNode(chain + "/step/kotiutus")) in reading.triples
    assert not [p for p in reading.problems if p.where.sheet == "Vaiheet"]


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETJU_HOME", str(ROOT))
    runner = CliRunner()
    book = tmp_path / "lonkkamurtuma.xlsx"
    result = runner.invoke(app, ["workbook", "export", "varsinais-suomi/lonkkamurtuma",
                                 "-o", str(book)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["workbook", "import", str(book), "--region",
                                 "varsinais-suomi", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    written = tmp_path / "out" / "lonkkamurtuma.ttl"
    assert isomorphic(Graph().parse(written),
                      Graph().parse(ROOT / "data/varsinais-suomi/lonkkamurtuma.ttl"))
    # Laid out as the project's files are: the header comment kept, one block per subject.
    text = written.read_text(encoding="utf-8")
    assert text.startswith("# Varsinais-Suomi: hip-fracture care")
    lines = text.splitlines()
    assert sum(line.startswith("vschain:lonkkamurtuma ") for line in lines) == 1
    assert "    ketju:position 3 ;" in lines
    result = runner.invoke(app, ["workbook", "new", "--region", "varsinais-suomi", "-o",
                                 str(tmp_path / "new.xlsx")])
    assert result.exit_code == 0 and (tmp_path / "new.xlsx").stat().st_size > 0
    result = runner.invoke(app, ["workbook", "export", "varsinais-suomi/olematon", "-o",
                                 str(tmp_path / "x.xlsx")])
    assert result.exit_code == 2


def test_every_sheet_declares_what_the_issue_asks() -> None:
    names = [sheet.name for sheet in SHEETS]
    assert names == ["Palvelukokonaisuus", "Palveluketju", "Vaiheet", "Siirtymät", "Palvelut",
                     "Tuottajat", "Tavoitteet", "Mittarit", "Tavoitearvot"]
    assert sheet_named("Vaiheet").column("position").required


def test_the_workbook_picture_is_cropped_to_what_is_printed() -> None:
    from tools.screenshots import _inked

    width, height = 40, 30
    pixels = bytearray(b"\xff" * width * height * 3)
    for y in range(10, 20):
        for x in range(5, 25):
            pixels[(y * width + x) * 3:(y * width + x) * 3 + 3] = b"\x00\x00\x00"
    ppm = f"P6\n{width} {height}\n255\n".encode() + bytes(pixels)
    assert _inked(ppm, margin=2) == (3, 8, 24, 14)
    assert _inked(f"P6 {width} {height} 255\n".encode() + b"\xff" * width * height * 3) == (
        0, 0, width, height)


def test_a_workbook_of_another_region_or_over_another_file_is_refused(
        project: Project, catalogue: Catalogue, tmp_path: Path) -> None:
    book = _exported(project, catalogue)
    source = tmp_path / "book.xlsx"
    book.save(source)
    result = import_workbook(project, source, "pohjois-savo", tmp_path / "out")
    assert "--region varsinais-suomi" in result.problems[0].text("en")
    # A new workbook whose chain would take the name of a file that exists already.
    fresh = _reopen(new_workbook(catalogue, "varsinais-suomi"))
    exported = _rows(book["Palveluketju"])[0]
    chain = fresh["Palveluketju"]
    for index, cell in enumerate(chain[1], start=1):
        chain.cell(3, index, exported.get(cell.value))
    fresh.save(source)
    folder = tmp_path / "data"
    folder.mkdir()
    existing = folder / "lonkkamurtuma.ttl"
    existing.write_text("# someone else's file\n", encoding="utf-8")
    result = import_workbook(project, source, "varsinais-suomi", folder)
    assert result.written is None
    assert existing.read_text(encoding="utf-8") == "# someone else's file\n"
    assert any("lonkkamurtuma.ttl" in p.text("en") for p in result.problems)


@pytest.mark.slow
def test_every_description_imports_through_validation(project: Project, catalogue: Catalogue,
                                                      tmp_path: Path) -> None:
    """The whole import (validation included) of every exported description: no problem, and
    the file written holds the same graph."""
    for iri in DESCRIPTIONS:
        _, path = description_file(project, iri)
        source = tmp_path / f"{path.stem}.xlsx"
        export_workbook(catalogue, _region(iri), path).save(source)
        result = import_workbook(project, source, _region(iri), tmp_path / _region(iri))
        assert result.problems == [], (iri, [p.text("en") for p in result.problems])
        assert result.written is not None
        assert isomorphic(Graph().parse(result.written), Graph().parse(path)), iri
        assert {q.triple for q in ox.parse(path=str(result.written))} == \
            {q.triple for q in ox.parse(path=str(path))}, iri


def test_the_required_columns_are_what_the_shapes_require() -> None:
    """The layout marks a column required (`*`) exactly when the shapes give its property a
    minimum count for the sheet's class; a required property without a column of its own is
    written by another sheet's column (a chain's steps: the steps' chain column)."""
    from rdflib import URIRef
    from rdflib.namespace import SH

    shapes = Graph()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        shapes.parse(path)
    inverse = {c.prop for sheet in SHEETS for c in sheet.columns if c.inverse}
    for sheet in SHEETS:
        required = set()
        for shape in shapes.subjects(SH.targetClass, URIRef(sheet.cls)):
            for prop in shapes.objects(shape, SH.property):
                count, path = shapes.value(prop, SH.minCount), shapes.value(prop, SH.path)
                if count is not None and int(count) >= 1 and isinstance(path, URIRef) and \
                        shapes.value(prop, SH.severity) in (None, SH.Violation):
                    required.add(str(path))
        own = {c.prop for c in sheet.columns if c.prop and not c.inverse and not c.via}
        marked = {c.prop for c in sheet.columns if c.required and c.prop and not c.inverse
                  and not c.via and c.lang is None}
        assert marked == required & own, sheet.name
        assert required - own <= inverse, sheet.name


def test_import_writes_into_the_regions_data_folder_by_default(catalogue: Catalogue,
                                                               tmp_path: Path) -> None:
    from tests.conftest import copy_tree

    copy = copy_tree(tmp_path / "tree")
    original = copy.data_dir / "varsinais-suomi" / "lonkkamurtuma.ttl"
    book = _exported(copy, catalogue)
    steps = book["Vaiheet"]
    steps[f"{_letter(steps, 'Enimmäiskesto')}5"] = "PT24H"  # surgery within a day
    source = tmp_path / "book.xlsx"
    book.save(source)
    result = import_workbook(copy, source, "varsinais-suomi")
    assert result.problems == [] and result.written == original
    durations = {quad.object.value for quad in ox.parse(path=str(original))
                 if quad.predicate.value == ONTOLOGY + "maximumDuration"
                 and quad.subject.value.endswith("/step/leikkaus")}
    assert durations == {"PT24H"}
