"""Workbooks for planners (issue 16): an Excel workbook to fill in, a description exported
into one, and a filled-in workbook imported back to Turtle, losslessly.

- `layout`: the sheets and columns, declared once;
- `terms`: a cell to an RDF term and back; the catalogue's vocabularies and entities;
- `model`: which statement goes into which cell (`lay_out`);
- `write`: `new_workbook`, `export_workbook`;
- `read`: `read_workbook`, with the cell of every statement for the problems found later;
- here: finding a description's file, and the import (read, write to a temporary folder,
  validate, only then move into place).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from openpyxl import load_workbook

from ketju.core.namespaces import ID, RDF_TYPE, XSD
from ketju.core.project import Project
from ketju.core.turtle import Prefixes
from ketju.domain.compare import NotAChainName, chain_iri
from ketju.domain.workbook.layout import META, SHEETS, sheet_named
from ketju.domain.workbook.model import Term, term_text
from ketju.domain.workbook.read import Cell, Problem, Reading, read_workbook
from ketju.domain.workbook.terms import Catalogue, slugify
from ketju.domain.workbook.write import export_workbook, new_workbook

__all__ = ["Catalogue", "ImportResult", "NotADescription", "Problem", "description_file",
           "description_iri", "export_workbook", "import_workbook", "new_workbook",
           "read_workbook", "to_turtle"]

_DESCRIPTIONS = (sheet_named("Palvelukokonaisuus"), sheet_named("Palveluketju"))


class NotADescription(ValueError):
    """A name that is no package or chain of the catalogue."""


def description_iri(text: str) -> list[str]:
    """The IRIs a name may stand for: an IRI, `region/slug` (a chain or a package) or
    `region/chain/slug`, `region/package/slug`.

    >>> description_iri("varsinais-suomi/package/x")
    ['https://w3id.org/ketju/id/varsinais-suomi/package/x']
    >>> len(description_iri("varsinais-suomi/lonkkamurtuma"))
    2
    """
    parts = text.strip().strip("/").lower().split("/")
    if len(parts) == 3 and parts[1] == "package":
        return [f"{ID}{parts[0]}/package/{parts[2]}"]
    try:  # a chain is named as `ketju compare` and `ketju reuse` name it
        chain = chain_iri(text)
    except NotAChainName:
        pass
    else:
        # `region/slug` may be a package too.
        return [chain, chain.replace("/chain/", "/package/", 1)] if len(parts) == 2 else [chain]
    raise NotADescription(f"{text[:200]!r} is not a service chain or package: give its IRI or "
                          "region/slug, for example varsinais-suomi/lonkkamurtuma.")


def description_file(project: Project, text: str) -> tuple[str, Path]:
    """The IRI of the package or chain `text` names and the data file it is described in."""
    candidates = description_iri(text)
    classes = {ox.NamedNode(sheet.cls) for sheet in _DESCRIPTIONS}
    rdf_type = ox.NamedNode(RDF_TYPE)
    for source in project.listing().data:
        if source.tabular:
            continue
        content = source.path.read_text(encoding="utf-8")
        if not any(iri.rsplit("/", 1)[-1] in content for iri in candidates):
            continue
        for quad in ox.parse(content.encode("utf-8"), format=ox.RdfFormat.TURTLE):
            if quad.subject.value in candidates and quad.predicate == rdf_type \
                    and quad.object in classes:
                return quad.subject.value, source.path
    raise NotADescription(f"No service chain or package {text[:200]!r} in data/.")


def to_turtle(reading: Reading) -> str:
    """The statements read, as a Turtle file laid out as the project's files are: its header
    comment and prefixes kept, one block per subject in the order of the sheets (the type
    first), the values of a property on one line."""
    prefixes = Prefixes(list(reading.prefixes.items()))
    blocks: dict[Term, dict[str, list[str]]] = {}
    for triple in reading.triples:
        predicate = "a" if triple.predicate.value == RDF_TYPE else prefixes.term(
            triple.predicate.value)
        values = blocks.setdefault(triple.subject, {}).setdefault(predicate, [])
        text = _object_text(triple.object, prefixes)
        if text not in values:
            values.append(text)
    lines = [*reading.comment, ""] if reading.comment else []
    lines += [*prefixes.declarations(), ""]
    for subject, properties in blocks.items():
        ordered = sorted(properties.items(), key=lambda item: item[0] != "a")
        body = " ;\n    ".join(f"{name} {_values(name, values)}" for name, values in ordered)
        lines += [f"{term_text(subject, prefixes)} {body} .", ""]
    return "\n".join(lines)


def _values(name: str, values: list[str]) -> str:
    """The values of one property: on one line, or one a line when that would be long."""
    line = ", ".join(values)
    return line if len(values) == 1 or len(name) + len(line) < 90 else ",\n        ".join(values)


def _object_text(term: Term, prefixes: Prefixes) -> str:
    """A value, written bare where Turtle reads it back as the same literal (1, 2.5, true)."""
    if isinstance(term, ox.Literal) and not term.language:
        datatype = term.datatype.value.removeprefix(XSD)
        if datatype in _BARE and _BARE[datatype].fullmatch(term.value):
            return term.value
    return term_text(term, prefixes)


_BARE = {"integer": re.compile(r"[+-]?\d+"), "decimal": re.compile(r"[+-]?\d*\.\d+"),
         "boolean": re.compile(r"true|false")}


def _file_name(reading: Reading) -> str:
    name = reading.facts.get("file")
    if name and Path(name).name == name and name.endswith(".ttl"):
        return name
    for sheet in _DESCRIPTIONS:
        for triple in reading.triples:
            if triple.predicate.value == RDF_TYPE and triple.object.value == sheet.cls:
                return slugify(triple.subject.value.rsplit("/", 1)[-1]) + ".ttl"
    return "workbook.ttl"


@dataclass
class ImportResult:
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    written: Path | None = None


def import_workbook(project: Project, workbook: Path, region: str,
                    folder: Path | None = None) -> ImportResult:
    """Read `workbook`, write its Turtle into a temporary data/{region}/ folder, validate it in
    the context of the catalogue and, only when nothing is wrong, move it into `folder`
    (default data/{region}/)."""
    book = load_workbook(workbook, data_only=True)
    reading = read_workbook(book, region, Catalogue.load(project))
    result = ImportResult(problems=list(reading.problems))
    written_for = reading.facts.get("region")
    if written_for and written_for != region:
        result.problems.insert(0, Problem(Cell(META), {
            "fi": f"Työkirja on alueen {written_for} kuvaus: tuo se valinnalla "
                  f"--region {written_for}.",
            "sv": f"Arbetsboken beskriver regionen {written_for}: importera den med "
                  f"--region {written_for}.",
            "en": f"The workbook describes the region {written_for}: import it with "
                  f"--region {written_for}."}))
    if result.problems:
        return result
    name = _file_name(reading)
    target = (folder or project.data_dir / region) / name
    if target.exists() and reading.facts.get("file") != name:
        result.problems.append(Problem(Cell("Palvelukokonaisuus / Palveluketju"), {
            "fi": f"Tiedosto {name} on jo olemassa eikä tämä työkirja ole sen vienti: anna "
                  "kuvaukselle toinen tunniste.",
            "sv": f"Filen {name} finns redan och den här arbetsboken är inte en export av den: "
                  "ge beskrivningen en annan identifierare.",
            "en": f"The file {name} exists already and this workbook is not an export of it: "
                  "give the description another identifier."}))
        return result
    from ketju.infra.validate import Severity, validate

    with tempfile.TemporaryDirectory(prefix="ketju-workbook-") as temporary:
        draft = Path(temporary) / "data" / region / name
        draft.parent.mkdir(parents=True)
        draft.write_text(to_turtle(reading), encoding="utf-8")
        report = validate(project, [draft])
        for finding in report.findings:
            problem = Problem(_cell_of(reading, finding.node, finding.property, finding.value),
                              {**finding.message})
            if finding.severity is Severity.ERROR:
                result.problems.append(problem)
            else:
                result.warnings.append(problem)
        if result.problems:
            return result
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(draft, target)
        result.written = target
    return result


def _cell_of(reading: Reading, node: str | None, prop: str | None, value: str | None) -> Cell:
    """The cell that wrote the statement a finding is about (for a value that is missing: the
    empty cell of the property on the node's row, or the row when the column is not there)."""
    if node is not None:
        cell = reading.cell_for(node, prop, value) if prop else None
        if cell is not None:
            return cell
        row = reading.cell_for(node, None, None)
        if row is not None:
            if prop:
                sheet = next((s for s in SHEETS if s.name == row.sheet), None)
                column = next((c for c in sheet.columns if c.prop == prop and not c.via),
                              None) if sheet else None
                if column is not None:
                    return Cell(row.sheet, row.row, None, column.fi)
            return row
    return Cell("?", None, None, node)
