"""Indicator observations (mittarihavainnot) contributed as CSV, turned into RDF Data Cube.

A region contributes values as `data/{region}/observations/{name}.csv`. The columns are
described once, by the CSV on the Web metadata document `ontology/observations.csv-metadata.json`
(W3C "Metadata Vocabulary for Tabular Data"); this module follows that document the way a
csv2rdf processor does (W3C "Generating RDF from Tabular Data on the Web", the subset the
document uses, plus the ketju extensions its notes describe), so the mapping from a row to its
triples is data, not code.

Each row is checked before it becomes RDF, and every finding names the file and the line (the
header is line 1, so data row N is line N + 1): unknown indicator (with a suggestion), malformed
period or number, unknown code, unit different from the indicator's, value outside the
indicator's range, duplicate observation (RDF Data Cube IC-12) and missing cells. Only a file
without errors is loaded, into a named graph of its own; the region's `qb:DataSet` is described
in a graph of its own beside them.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.project import SourceFile
from ketju.infra.validate import (
    MAX_FILE_BYTES,
    Finding,
    Severity,
    _Capped,
    _msg,
    _utf8_error,
    known_regions,
    read_regular,
)

#: The CSVW metadata document, relative to the project root.
METADATA = "ontology/observations.csv-metadata.json"
#: Most data rows one file may hold. A row makes at most 14 triples, so this caps a file near
#: 700,000 triples (the Turtle cap is 100,000, for files whose triples have no such bound); a
#: region's ten years of quarters of a few hundred indicators fit in one file.
MAX_ROWS = 50_000
#: Longest cell, in characters (every column holds a short code, period or number).
MAX_CELL_CHARS = 200
#: A file of this name in an observations folder marks the region's data set illustrative
#: (its values are invented examples); the file's content is not read.
ILLUSTRATIVE_MARKER = "ILLUSTRATIVE"
#: The folder of observation files in a region's folder.
FOLDER = "observations"

_OBSERVATION_PATH = re.compile(r"data/[a-z0-9-]+/observations/[a-z0-9-]+\.csv")
_ROW_SUFFIX = re.compile(r"#row=([0-9]+)$")

PROV_DERIVED = ns.PROV + "wasDerivedFrom"


def is_observation_file(relative: str) -> bool:
    """Whether a source file (by its name relative to the project) is an observation CSV."""
    return _OBSERVATION_PATH.fullmatch(relative) is not None


def dataset_iri(region: str) -> str:
    """The region's data set of observations (qb:DataSet, dcat:Dataset)."""
    return f"{ns.ID}{region}/dataset/observations"


def dataset_graph(region: str) -> str:
    """The named graph that describes the region's data set (its folder's graph)."""
    return ns.graph_iri(f"data/{region}/{FOLDER}")


def row_iri(source_graph: str, line: int) -> str:
    """The IRI of a row of a source file (RFC 7111 `#row=`: the header is row 1, so this is
    the file's line). Each observation points to its row with prov:wasDerivedFrom."""
    return f"{source_graph}#row={line}"


def observation_source(row: str) -> tuple[str, int] | None:
    """(file relative to the project, line) of an observation's prov:wasDerivedFrom value,
    e.g. ("data/varsinais-suomi/observations/x.csv", 12); None for any other IRI. Pages and
    the API call this to say where a value was contributed."""
    if not row.startswith(ns.GRAPH) or (match := _ROW_SUFFIX.search(row)) is None:
        return None
    relative = row[len(ns.GRAPH): match.start()]
    return (relative, int(match.group(1))) if is_observation_file(relative) else None


# ---------------------------------------------------------------------------------------------
# The metadata document: columns and URI templates
# ---------------------------------------------------------------------------------------------


class Template:
    """An RFC 6570 URI template of the forms the metadata uses: `{var}` (level 1), and at
    level 3 `{/a,b}` (one path segment `/value` per variable that is not null) and `{;a,b}`
    (one path parameter `;name=value` per variable that is not null).

    >>> Template("x/{a}{;b,c}").expand({"a": "1", "b": None, "c": "F"})
    'x/1;c=F'
    """

    _PART = re.compile(r"\{([/;]?)([A-Za-z0-9_,]+)\}")

    def __init__(self, text: str) -> None:
        self.text = text
        self.parts: list[tuple[str, tuple[str, ...]]] = []  # ("", literal) or (op, names)
        position = 0
        for match in self._PART.finditer(text):
            if match.start() > position:
                self.parts.append(("=", (text[position:match.start()],)))
            self.parts.append((match.group(1), tuple(match.group(2).split(","))))
            position = match.end()
        if position < len(text):
            self.parts.append(("=", (text[position:],)))

    @property
    def variables(self) -> set[str]:
        return {name for op, names in self.parts if op != "=" for name in names}

    def expand(self, values: Mapping[str, str | None]) -> str:
        out = []
        for op, names in self.parts:
            if op == "=":
                out.append(names[0])
            elif op == "/":
                out.extend("/" + value for name in names if (value := values.get(name)))
            elif op == ";":
                out.extend(f";{name}={value}" for name in names if (value := values.get(name)))
            else:
                out.append(values.get(names[0]) or "")
        return "".join(out)


@dataclass(frozen=True)
class Column:
    """One column of the table schema (a CSVW column description)."""

    name: str
    titles: dict[str, list[str]]
    base: str = "string"
    format: re.Pattern[str] | None = None
    required: bool = False
    default: str | None = None
    property_url: str | None = None
    value_url: Template | None = None
    value_map: dict[str, str] = field(default_factory=dict)
    null_value_url: str | None = None
    datatypes: tuple[tuple[re.Pattern[str], str], ...] = ()
    virtual: bool = False
    suppress: bool = False
    from_folder: bool = False

    def title(self, lang: str) -> str:
        return (self.titles.get(lang) or self.titles.get("en") or [self.name])[0]

    def datatype_of(self, value: str) -> str:
        for pattern, datatype in self.datatypes:
            if pattern.fullmatch(value):
                return datatype
        return ns.XSD + self.base


@dataclass(frozen=True)
class Schema:
    """The table schema of observation files, read from the CSVW metadata document."""

    columns: tuple[Column, ...]
    about_url: Template
    primary_key: tuple[str, ...]

    @property
    def header(self) -> list[str]:
        """The column names the header row must give, in order."""
        return [c.name for c in self.columns if not c.virtual]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _expand_prefixed(value: str) -> str:
    prefix, _, local = value.partition(":")
    return ns.PREFIXES[prefix] + local if prefix in ns.PREFIXES and not local.startswith("/") \
        else value


def _pattern(datatype: object) -> re.Pattern[str] | None:
    if not isinstance(datatype, dict):
        return None
    spec = datatype.get("format")
    if isinstance(spec, dict):
        spec = spec.get("pattern")
    return re.compile(spec) if isinstance(spec, str) else None


def _column(spec: Mapping[str, object]) -> Column:
    datatype = spec.get("datatype", "string")
    titles = spec.get("titles", {})
    value_url = spec.get("valueUrl")
    return Column(
        name=str(spec["name"]),
        titles={lang: list(t) if isinstance(t, list) else [str(t)]
                for lang, t in (titles.items() if isinstance(titles, dict) else {})},
        base=str(datatype.get("base", "string") if isinstance(datatype, dict) else datatype),
        format=_pattern(datatype),
        required=bool(spec.get("required", False)),
        default=str(spec["default"]) if "default" in spec else None,
        property_url=_expand_prefixed(str(spec["propertyUrl"])) if "propertyUrl" in spec
        else None,
        value_url=Template(_expand_prefixed(str(value_url))) if value_url else None,
        value_map=dict(spec.get("ketju:valueMap", {})),  # type: ignore[call-overload]
        null_value_url=str(spec["ketju:nullValueUrl"]) if "ketju:nullValueUrl" in spec else None,
        datatypes=tuple((re.compile(d["format"]), d["datatype"])
                        for d in spec.get("ketju:datatypes", [])),  # type: ignore[attr-defined]
        virtual=bool(spec.get("virtual", False)),
        suppress=bool(spec.get("suppressOutput", False)),
        from_folder=spec.get("ketju:source") == "folder",
    )


@lru_cache(maxsize=4)
def _schema_of(path: str, _mtime: float) -> Schema:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    table = document["tableSchema"]
    columns = tuple(_column(c) for c in table["columns"])
    _PROPERTY_OF.update({c.name: c.property_url for c in columns if c.property_url})
    return Schema(columns=columns,
                  about_url=Template(table["aboutUrl"]),
                  primary_key=tuple(table.get("primaryKey", ())))


def load_schema(root: Path) -> Schema:
    """The table schema of the project's metadata document (read again when it changes)."""
    path = root / METADATA
    return _schema_of(str(path), path.stat().st_mtime)


def contribution_columns(root: Path) -> tuple[str, ...]:
    """The header of a contribution file, as the project's CSVW metadata document declares
    it (indicator, period, value, unit, status, sex, age_group, ...)."""
    return tuple(load_schema(root).header)


# ---------------------------------------------------------------------------------------------
# What the catalogue says about indicators and codes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorFacts:
    """What an observation of one indicator is checked against."""

    unit: str | None
    minimum: Decimal | None
    maximum: Decimal | None


#: The query that gives every indicator's unit and range, relative to the project root.
CONTEXT_QUERY = "queries/datacube/observation-context.rq"


class Context:
    """The catalogue facts the rows are checked against, looked up once per store: every
    indicator with its unit and range (its own, else its national indicator's), and whether
    an IRI a code column points to is described anywhere."""

    def __init__(self, store: ox.Store, root: Path) -> None:
        self._store = store
        text = (root / CONTEXT_QUERY).read_text(encoding="utf-8")
        self.indicators: dict[str, IndicatorFacts] = {}
        for row in store.query(text, use_default_graph_as_union=True):
            self.indicators[row["indicator"].value] = IndicatorFacts(
                unit=row["unit"].value if row["unit"] is not None else None,
                minimum=_decimal(row["minimum"]), maximum=_decimal(row["maximum"]))
        self._exists: dict[str, bool] = {}
        self._slugs: dict[str, list[str]] = {}

    def exists(self, iri: str) -> bool:
        """Whether the IRI is described (a subject) in the catalogue."""
        known = self._exists.get(iri)
        if known is None:
            known = next(iter(self._store.quads_for_pattern(ox.NamedNode(iri), None, None)),
                         None) is not None
            self._exists[iri] = known
        return known

    def indicator_slugs(self, region: str) -> list[str]:
        """The slugs of a region's indicators (for suggestions)."""
        if (slugs := self._slugs.get(region)) is None:
            prefix = f"{ns.ID}{region}/indicator/"
            slugs = self._slugs[region] = sorted(
                i.removeprefix(prefix) for i in self.indicators if i.startswith(prefix))
        return slugs


def _decimal(term: ox.Literal | None) -> Decimal | None:
    if term is None:
        return None
    try:
        return Decimal(term.value)
    except InvalidOperation:
        return None


# ---------------------------------------------------------------------------------------------
# Reading and checking one file
# ---------------------------------------------------------------------------------------------


@dataclass
class ParsedFile:
    """One observation file: its triples as Turtle (when it has no errors), its findings,
    and the line of every observation it defines (by IRI)."""

    source: SourceFile
    turtle: str = ""
    findings: list[Finding] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


#: The property each column's cells become, by column name (from the metadata document).
_PROPERTY_OF: dict[str, str] = {}


def _error(source: SourceFile, line: int | None, code: str, fi: str, en: str,
           column: str | None = None, value: str | None = None) -> Finding:
    """A finding about a row (the property is the one the column's cells become)."""
    return Finding(source.relative, line, Severity.ERROR, code, _msg(fi, en),
                   property=_PROPERTY_OF.get(column or "", column), value=value)


def read_text(source: SourceFile) -> tuple[str | None, list[Finding]]:
    """The file's text, or why it is not read: link, size, encoding, emptiness."""
    data, unread = read_regular(source)
    if data is None:
        return None, unread
    if len(data) > MAX_FILE_BYTES:
        return None, [_error(source, 1, "too-large",
                             f"Tiedosto on liian suuri (yli {MAX_FILE_BYTES} tavua). Jaa "
                             "havainnot useampaan tiedostoon, esimerkiksi vuosittain.",
                             f"The file is too large (over {MAX_FILE_BYTES} bytes). Split the "
                             "observations into several files, for example one a year.")]
    if (bad := _utf8_error(data)) is not None:
        line = data.count(b"\n", 0, bad) + 1
        return None, [_error(source, line, "not-utf8",
                             "Tiedosto ei ole UTF-8-muodossa. Tallenna se taulukko-ohjelmassa "
                             "muodossa \"CSV UTF-8 (pilkuin eroteltu)\".",
                             "The file is not UTF-8. Save it from your spreadsheet as "
                             "\"CSV UTF-8 (comma delimited)\".")]
    text = data.decode("utf-8").removeprefix("\ufeff")  # a spreadsheet's byte order mark
    if not text.strip():
        return None, [_error(source, 1, "empty", "Tiedosto on tyhjä. Poista se tai lisää "
                             "otsikkorivi ja havainnot.", "The file is empty. Delete it or "
                             "add the header row and observations.")]
    return text, []


def _header_matches(header: Sequence[str], columns: Sequence[Column]) -> bool:
    """Whether the header row names the columns in order, each by its name or one of its
    titles in any language (CSVW: a header cell matches a column's titles), so a Finnish
    header `mittari,ajanjakso,arvo,yksikkö,...` is as good as the English names."""
    if len(header) != len(columns):
        return False
    for cell, column in zip(header, columns, strict=True):
        given = cell.strip().casefold()
        names = {column.name} | {t for titles in column.titles.values() for t in titles}
        if given not in {name.casefold() for name in names}:
            return False
    return True


def _header_finding(source: SourceFile, schema: Schema, got: list[str]) -> Finding:
    expected = ",".join(schema.header)
    return _error(source, 1, "header",
                  f"Otsikkorivin pitää olla täsmälleen {expected} (nyt {','.join(got)[:300]}). "
                  "Sarakkeiden järjestys on kiinteä; nimet voi antaa myös suomeksi tai ruotsiksi "
                  "(docs/OBSERVATIONS.md). Tyhjän sarakkeen voi jättää tyhjäksi mutta ei pois.",
                  f"The header row must be exactly {expected} (it is {','.join(got)[:300]}). "
                  "The order of the columns is fixed; the names may also be given in Finnish or "
                  "Swedish (docs/OBSERVATIONS.md). A column may be left empty but not left out.")


def _format_finding(source: SourceFile, line: int, column: Column, cell: str) -> Finding:
    """A cell that does not have its column's form: a period, a number or a code."""
    shown = cell[:60]
    if column.datatypes:
        return _error(source, line, "malformed-period",
                      f"Ajanjakso '{shown}' on väärää muotoa. Käytä vuotta (2024), neljännestä "
                      "(2024-Q3) tai kuukautta (2024-05).",
                      f"The period '{shown}' is malformed. Use a year (2024), a quarter "
                      "(2024-Q3) or a month (2024-05).", column.name, shown)
    if column.base == "decimal":
        hint_fi = hint_en = ""
        if re.fullmatch(r"-?[0-9]+,[0-9]+", cell):
            fixed = cell.replace(",", ".")
            hint_fi = f" Desimaalierotin on piste, ei pilkku: kirjoita {fixed}."
            hint_en = f" The decimal mark is a full stop, not a comma: write {fixed}."
        return _error(source, line, "malformed-number",
                      f"Arvo '{shown}' ei ole luku.{hint_fi} Ilman tuhaterottimia ja "
                      "yksikköä, esimerkiksi 72.5.",
                      f"The value '{shown}' is not a number.{hint_en} No thousands separators "
                      "and no unit, for example 72.5.", column.name, shown)
    return _unknown_code(source, line, column, cell)


def _unknown_code(source: SourceFile, line: int, column: Column, cell: str) -> Finding:
    shown = cell[:60]
    allowed = ", ".join(sorted(column.value_map)) if column.value_map else ""
    extra_fi = f" Sallitut: {allowed}." if allowed else " Katso sallitut koodit " \
        "tiedostosta docs/OBSERVATIONS.md."
    extra_en = f" Allowed: {allowed}." if allowed else " See the allowed codes in " \
        "docs/OBSERVATIONS.md."
    return _error(source, line, "unknown-code",
                  f"Sarakkeen {column.name} ({column.title('fi')}) arvo '{shown}' ei ole "
                  f"tunnettu koodi.{extra_fi}",
                  f"'{shown}' in column {column.name} ({column.title('en')}) is not a known "
                  f"code.{extra_en}", column.name, shown)


class _Emitter:
    """The triples of a row, compiled from the schema for one file: the columns that make
    output, in document order, with what is the same on every row (the region and file, the
    virtual columns, the IRI of a null breakdown) written out once. A row becomes one Turtle
    statement, `<subject> p1 o1 ; p2 o2 ... .`, so the subject is written once (loading a
    10,000-row file took 0.7 s as N-Quads, where every line repeats subject and graph)."""

    def __init__(self, schema: Schema, constants: Mapping[str, str | None]) -> None:
        #: (column name or None for a constant, text when constant / when null, the column)
        self.parts: list[tuple[Column | None, str, str]] = []
        for column in schema.columns:
            if column.suppress or column.property_url is None:
                continue
            predicate = f" <{column.property_url}> "
            if column.virtual:
                if column.value_url is None:
                    continue
                if column.value_url.variables <= set(constants):
                    text = f"{predicate}<{column.value_url.expand(constants)}>"
                    self.parts.append((None, text, ""))
                else:
                    self.parts.append((column, predicate, ""))
                continue
            null = f"{predicate}<{column.null_value_url}>" if column.null_value_url else ""
            self.parts.append((column, predicate, null))

    def statement(self, values: Mapping[str, str | None], subject: str) -> str:
        out: list[str] = []
        for column, text, null in self.parts:
            if column is None:
                out.append(text)
                continue
            cell = values.get(column.name)
            if column.virtual:
                out.append(f"{text}<{column.value_url.expand(values)}>")  # type: ignore[union-attr]
            elif cell is None:
                if null:
                    out.append(null)
            elif column.value_map:
                out.append(f"{text}<{column.value_map[cell]}>")
            elif column.value_url is not None:
                out.append(f"{text}<{column.value_url.expand(values)}>")
            else:
                # Cells reach here only after their column's format matched (digits, codes):
                # nothing in them needs escaping in Turtle.
                out.append(f'{text}"{cell}"^^<{column.datatype_of(cell)}>')
        return f"<{subject}>" + " ;".join(out) + " .\n"


#: The primary key of a row (the metadata's `primaryKey`: indicator, period and breakdowns)
#: -> (file, line) of the row that gave it; within a region's data set one key is one
#: observation (IC-12).
Keys = dict[tuple[str | None, ...], tuple[str, int]]


def parse_file(source: SourceFile, schema: Schema, context: Context,
               keys: Keys | None = None) -> ParsedFile:
    """Read, check and (when it has no errors) translate one observation file.

    `keys` holds the observations seen so far in the region's other files, so that a
    duplicate across files is found too (and this file's keys are added to it).
    """
    parsed = ParsedFile(source)
    region = source.region or ""
    text, problems = read_text(source)
    if text is None:
        parsed.findings = problems
        return parsed
    findings = _Capped()
    keys = {} if keys is None else keys
    chunks: list[str] = []
    file_name = source.relative.rsplit("/", 1)[-1]
    folder_columns = [c.name for c in schema.columns if c.from_folder]
    constants: dict[str, str | None] = {name: region for name in folder_columns}
    constants["_name"] = file_name
    emitter = _Emitter(schema, constants)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header_names = schema.header
    columns = [schema.column(name) for name in header_names]
    try:
        header = next(reader)
    except (csv.Error, StopIteration):
        header = []
    if not _header_matches(header, columns):
        parsed.findings = [_header_finding(source, schema, header)]
        return parsed
    line = 1
    try:
        for cells in reader:
            line = reader.line_num
            parsed.rows += 1
            if parsed.rows > MAX_ROWS:
                findings.add(_error(
                    source, line, "too-many-rows",
                    f"Tiedostossa on liian monta riviä (yli {MAX_ROWS}). Jaa havainnot "
                    "useampaan tiedostoon, esimerkiksi vuosittain. Tiedostoa ei luettu tätä "
                    "pidemmälle.",
                    f"The file has too many rows (over {MAX_ROWS}). Split the observations "
                    "into several files, for example one a year. The file was not read "
                    "further."))
                break
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # an empty line (a spreadsheet's last one)
            if len(cells) != len(columns):
                findings.add(_error(
                    source, line, "cell-count",
                    f"Rivillä on {len(cells)} solua, otsikkorivillä {len(columns)}. Tarkista "
                    "pilkut: desimaalierotin on piste, ja pilkun sisältävä teksti lainataan.",
                    f"The row has {len(cells)} cells, the header {len(columns)}. Check the "
                    "commas: the decimal mark is a full stop, and text with a comma is quoted."))
                continue
            values = dict(constants)
            bad = False
            for column, raw in zip(columns, cells, strict=True):
                cell: str | None = raw.strip()
                if not cell:
                    cell = column.default
                if cell is None:
                    if column.required:
                        findings.add(_error(
                            source, line, "missing-value",
                            f"Sarake {column.name} ({column.title('fi')}) on pakollinen, mutta "
                            "tyhjä.",
                            f"Column {column.name} ({column.title('en')}) is required but "
                            "empty.", column.name))
                        bad = True
                    values[column.name] = None
                    continue
                if len(cell) > MAX_CELL_CHARS or (
                        column.format is not None and not column.format.fullmatch(cell)) or (
                        column.value_map and cell not in column.value_map):
                    if len(cell) > MAX_CELL_CHARS:
                        cell = cell[:MAX_CELL_CHARS]
                    findings.add(_format_finding(source, line, column, cell))
                    bad = True
                values[column.name] = cell
            if bad:
                continue
            if not _check_row(source, line, schema, context, values, findings, region):
                continue
            key = tuple(values.get(name) for name in schema.primary_key)
            first = keys.get(key)
            subject = schema.about_url.expand(values)
            if first is not None:
                where = f"rivillä {first[1]}" if first[0] == source.relative else \
                    f"tiedoston {first[0]} rivillä {first[1]}"
                where_en = f"line {first[1]}" if first[0] == source.relative else \
                    f"{first[0]}, line {first[1]}"
                findings.add(_error(
                    source, line, "duplicate-observation",
                    f"Sama havainto (mittari, ajanjakso ja erittely) on jo {where}. Kullakin "
                    "mittarilla saa olla yksi arvo kutakin ajanjaksoa ja erittelyä kohden "
                    "(RDF Data Cube IC-12): poista toinen rivi tai korjaa sen ajanjakso.",
                    f"The same observation (indicator, period and breakdown) is already on "
                    f"{where_en}. An indicator may have one value per period and breakdown "
                    "(RDF Data Cube IC-12): delete one of the rows or correct its period.",
                    value=f"<{subject}>"))
                continue
            keys[key] = (source.relative, line)
            parsed.lines[subject] = line
            values["_sourceRow"] = str(line)
            chunks.append(emitter.statement(values, subject))
    except csv.Error as error:
        findings.add(_error(source, reader.line_num or line, "malformed-row",
                            f"Riviä ei voi lukea CSV:nä ({error}). Tarkista lainausmerkit.",
                            f"The row cannot be read as CSV ({error}). Check the quotation "
                            "marks."))
    parsed.findings = findings.findings()
    if parsed.ok:
        parsed.turtle = "".join(chunks)
    return parsed


def _check_row(source: SourceFile, line: int, schema: Schema, context: Context,
               values: dict[str, str | None], findings: _Capped, region: str) -> bool:
    """The checks that need the catalogue: indicator, codes, unit, range."""
    indicator_column = schema.column("indicator")
    assert indicator_column.value_url is not None
    indicator = indicator_column.value_url.expand(values)
    facts = context.indicators.get(indicator)
    if facts is None:
        slug = values["indicator"] or ""
        if findings.full(source.relative, "unknown-indicator"):
            return False  # counted only: a suggestion costs a comparison with every slug
        matches = difflib.get_close_matches(slug, context.indicator_slugs(region), n=1,
                                            cutoff=0.6)
        hint_fi = f" Tarkoititko '{matches[0]}'?" if matches else ""
        hint_en = f" Did you mean '{matches[0]}'?" if matches else ""
        findings.add(_error(
            source, line, "unknown-indicator",
            f"Alueella {region} ei ole mittaria '{slug}'.{hint_fi} Mittari kuvataan ensin "
            f"alueen Turtle-tiedostossa (ketju:Indicator).",
            f"Region {region} has no indicator '{slug}'.{hint_en} An indicator is first "
            "described in the region's Turtle files (ketju:Indicator).",
            "indicator", slug))
        return False
    ok = True
    if (values.get("chain") is None) != (values.get("transition") is None):
        findings.add(_error(
            source, line, "missing-value",
            "Siirtymä annetaan kahdella sarakkeella: chain (palveluketju) ja transition "
            "(siirtymä). Täytä molemmat tai jätä molemmat tyhjiksi.",
            "A hand-over is given in two columns: chain and transition. Fill in both or "
            "leave both empty.", "transition"))
        return False
    for column in schema.columns:
        cell = values.get(column.name)
        if column.virtual or cell is None or column.value_url is None or \
                column.name == "indicator":
            continue
        if not context.exists(column.value_url.expand(values)):
            shown = cell if column.name != "transition" else f"{values['chain']}/{cell}"
            findings.add(_unknown_code(source, line, column, shown))
            ok = False
    if not ok:
        return False
    unit = values.get("unit")
    unit_iri = schema.column("unit").value_url.expand(values)  # type: ignore[union-attr]
    if facts.unit is not None and unit_iri != facts.unit:
        expected = facts.unit.rsplit("/", 1)[-1]
        findings.add(_error(
            source, line, "unit-mismatch",
            f"Yksikkö '{unit}' poikkeaa mittarin yksiköstä '{expected}'. Muunna arvo "
            "mittarin yksikköön tai tarkista mittari.",
            f"The unit '{unit}' differs from the indicator's unit '{expected}'. Convert the "
            "value to the indicator's unit or check the indicator.", "unit", unit))
        ok = False
    number = Decimal(values["value"] or "0")
    if (facts.minimum is not None and number < facts.minimum) or (
            facts.maximum is not None and number > facts.maximum):
        low = "" if facts.minimum is None else str(facts.minimum)
        high = "" if facts.maximum is None else str(facts.maximum)
        findings.add(_error(
            source, line, "out-of-range",
            f"Arvo {values['value']} on mittarin sallitun välin [{low}, {high}] ulkopuolella "
            "(ketju:minimumValue, ketju:maximumValue). Tarkista arvo ja yksikkö.",
            f"The value {values['value']} is outside the indicator's range [{low}, {high}] "
            "(ketju:minimumValue, ketju:maximumValue). Check the value and its unit.",
            "value", values["value"]))
        ok = False
    return ok


def _rows(source: SourceFile, schema: Schema) -> Iterable[tuple[int, dict[str, str | None]]]:
    """(line, {column: cell, defaults applied}) of each row of the right width, unchecked."""
    text, _problems = read_text(source)
    if text is None:
        return
    header = schema.header
    defaults = [schema.column(name).default for name in header]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        next(reader)
        for cells in reader:
            if len(cells) == len(header):
                yield reader.line_num, {name: cell.strip() or default for name, cell, default
                                        in zip(header, cells, defaults, strict=True)}
    except (csv.Error, StopIteration):
        return


def observation_keys(source: SourceFile, schema: Schema) -> dict[tuple[str | None, ...], int]:
    """{primary key: line} of a file's rows, unchecked (its region's other files are read so
    when one file is validated: only for duplicates, so only the keys; 250,000 rows in 0.5 s)."""
    text, _problems = read_text(source)
    if text is None:
        return {}
    header = schema.header
    wanted = [(header.index(name), schema.column(name).default) for name in schema.primary_key]
    keys: dict[tuple[str | None, ...], int] = {}
    reader = csv.reader(io.StringIO(text, newline=""))
    width = len(header)
    try:
        next(reader)
        for cells in reader:
            if len(cells) == width:
                key = tuple(cells[i].strip() or default for i, default in wanted)
                if key not in keys:
                    keys[key] = reader.line_num
    except (csv.Error, StopIteration):
        pass
    return keys


def observation_lines(source: SourceFile, schema: Schema) -> dict[str, int]:
    """{observation IRI: line} of a file, without the catalogue (for findings made later)."""
    lines: dict[str, int] = {}
    folder = {c.name: source.region for c in schema.columns if c.from_folder}
    for line, values in _rows(source, schema):
        lines.setdefault(schema.about_url.expand({**values, **folder}), line)
    return lines


# ---------------------------------------------------------------------------------------------
# The region's data set, and loading files into a store
# ---------------------------------------------------------------------------------------------


#: The data set's label in each language, before the region's name.
DATASET_LABELS = {"fi": "Mittarihavainnot", "sv": "Mätarobservationer",
                  "en": "Indicator observations"}


def dataset_quads(root: Path, region: str, names: Mapping[str, str] | None = None) -> str:
    """N-Quads describing the region's data set: qb:DataSet and dcat:Dataset with its
    structure, labels (with the region's name in `names`, by language), publisher and area;
    ketju:illustrative when the folder holds ILLUSTRATIVE."""
    subject = f"<{dataset_iri(region)}>"
    graph = f"<{dataset_graph(region)}>"
    triples = [
        (ns.RDF_TYPE, f"<{ns.QB}DataSet>"),
        (ns.RDF_TYPE, f"<{ns.DCAT}Dataset>"),
        (ns.QB + "structure", f"<{ns.ONTOLOGY}indicatorObservations>"),
        (ns.DCT + "publisher", f"<{ns.organiser_iri(region)}>"),
        (ns.DCT + "spatial", f"<{ns.region_iri(region)}>"),
    ]
    for lang, label in DATASET_LABELS.items():
        name = (names or {}).get(lang) or region
        text = json.dumps(f"{label}: {name}", ensure_ascii=False)  # a valid N-Quads string
        triples.append((ns.SKOS + "prefLabel", f"{text}@{lang}"))
    if (root / "data" / region / FOLDER / ILLUSTRATIVE_MARKER).is_file():
        triples.append((ns.ONTOLOGY + "illustrative",
                        f'"true"^^<{ns.XSD}boolean>'))
    return "".join(f"{subject} <{p}> {o} {graph} .\n" for p, o in triples)


def _region_names(store: ox.Store, region: str) -> dict[str, str]:
    """The region's names by language (skos:prefLabel of its area)."""
    return {quad.object.language: quad.object.value for quad in store.quads_for_pattern(
        ox.NamedNode(ns.region_iri(region)), ox.NamedNode(ns.SKOS + "prefLabel"), None)
        if isinstance(quad.object, ox.Literal) and quad.object.language}


#: Called with what was loaded into the store (data, its format, its graph or None when the
#: data says its graphs), so the build can write the same to disk meanwhile.
OnLoaded = Callable[[bytes, ox.RdfFormat, str | None], None]


def load_observations(store: ox.Store, root: Path, sources: Sequence[SourceFile],
                      context_sources: Iterable[SourceFile] = (),
                      on_loaded: OnLoaded | None = None) -> tuple[list[Finding], set[str]]:
    """Check every observation file against the catalogue already in `store` and load the
    good ones, each into its graph, with each region's data set description. Returns the
    findings and the graphs loaded.

    `context_sources` are the region's other observation files that are not being checked
    (validation of one file): only their keys are read, to find duplicates across files.
    """
    if not sources:
        return [], set()
    schema = load_schema(root)
    context = Context(store, root)
    keys_by_region: dict[str, Keys] = {}
    for other in context_sources:
        keys = keys_by_region.setdefault(other.region or "", {})
        for key, line in observation_keys(other, schema).items():
            keys.setdefault(key, (other.relative, line))
    findings: list[Finding] = []
    loaded: set[str] = set()
    regions: set[str] = set()
    regions_known = known_regions(store)
    for source in sorted(sources, key=lambda s: s.relative):
        region = source.region or ""
        if region not in regions_known or region == "national":
            findings.append(_error(
                source, None, "unknown-region",
                f"Havaintotiedoston pitää olla alueen kansiossa data/{{alue}}/observations/; "
                f"'{region}' ei ole tunnettu alue.",
                f"An observation file must be in a region's folder data/{{region}}/"
                f"observations/; '{region}' is not a known region."))
            continue
        parsed = parse_file(source, schema, context, keys_by_region.setdefault(region, {}))
        findings.extend(parsed.findings)
        if parsed.ok and parsed.turtle:
            # Lenient: every IRI and literal was made by the templates from cells whose form
            # was checked, so the parser need not check them again (0.6 s -> 0.35 s for
            # 10,000 rows).
            data = parsed.turtle.encode()
            store.load(data, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(source.graph),
                       lenient=True)
            if on_loaded is not None:
                on_loaded(data, ox.RdfFormat.TURTLE, source.graph)
            loaded.add(source.graph)
            regions.add(region)
    if regions:
        data = "".join(dataset_quads(root, region, _region_names(store, region))
                       for region in sorted(regions)).encode()
        store.load(data, format=ox.RdfFormat.N_QUADS)
        if on_loaded is not None:
            on_loaded(data, ox.RdfFormat.N_QUADS, None)
        loaded |= {dataset_graph(region) for region in regions}
    return findings, loaded

