"""Cells and RDF terms: how one column's cell becomes a term, and a term a cell.

A term is only written into a column when reading the cell back gives the very same term
(`Terms.cell` checks it); every other statement goes to the sheet of other statements, which is
what makes the round trip lossless.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from ketju.core.namespaces import ID, ONTOLOGY, RDF_TYPE, SKOS, XSD
from ketju.core.project import Project
from ketju.domain.workbook.layout import SEPARATOR, Column, Value

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DURATION = re.compile(r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?"
                       r"(\d+(\.\d+)?S)?)?")
_FI_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_PERIODS = ((re.compile(r"\d{4}"), XSD + "gYear"), (re.compile(r"\d{4}-(0[1-9]|1[0-2])"),
            XSD + "gYearMonth"), (re.compile(r"\d{4}-Q[1-4]"), ONTOLOGY + "quarter"))
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_TRUE = {"true", "kyllä", "ja", "yes", "1", "x"}
_FALSE = {"false", "ei", "nej", "no", "0"}


class CellError(ValueError):
    """A cell that cannot be read, with the reason in fi/sv/en."""

    def __init__(self, fi: str, sv: str, en: str) -> None:
        super().__init__(en)
        self.messages = {"fi": fi, "sv": sv, "en": en}


def slugify(text: str) -> str:
    """A slug by the documented rule (docs/MODELLING.md): lower-case ASCII letters, digits and
    hyphens, Finnish letters without their diacritics.

    >>> slugify("Leikkaus 24–48 tunnin kuluessa")
    'leikkaus-24-48-tunnin-kuluessa'
    >>> slugify("Ääkkönen & Öljy")
    'aakkonen-oljy'
    """
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:80].strip("-") or "nimeton"


@dataclass
class Vocabulary:
    """The concepts of one scheme: the text a cell shows for each (its Finnish label where that
    is unique in the scheme) and every text a planner may write for it."""

    shown: dict[str, str] = field(default_factory=dict)
    by_text: dict[str, str] = field(default_factory=dict)

    def choices(self) -> list[str]:
        return sorted(self.shown.values(), key=str.casefold)


@dataclass
class Catalogue:
    """What the workbook needs from the catalogue: the vocabularies, the entities that exist,
    and the region's own producers and services for the drop-downs."""

    vocabularies: dict[str, Vocabulary]
    known: set[str]

    @classmethod
    def load(cls, project: Project, skip: Path | None = None) -> Catalogue:
        store = ox.Store()
        listing = project.listing()
        for source in listing.ontology + listing.data:
            if source.tabular or (skip is not None and source.path == skip):
                continue
            store.load(path=str(source.path), format=ox.RdfFormat.TURTLE,
                       to_graph=ox.NamedNode(source.graph))
        vocabularies: dict[str, Vocabulary] = {}
        labels: dict[str, dict[str, list[str]]] = {}
        query = """
            SELECT ?scheme ?concept ?lang ?label ?notation WHERE { GRAPH ?g {
              ?concept skos:inScheme ?scheme .
              OPTIONAL { ?concept skos:prefLabel ?label BIND(LANG(?label) AS ?lang) }
              OPTIONAL { ?concept skos:notation ?notation } } }"""
        for row in store.query(query, prefixes={"skos": SKOS}):  # type: ignore[union-attr]
            scheme, concept = row["scheme"].value, row["concept"].value
            names = labels.setdefault(scheme, {}).setdefault(concept, [])
            for key in ("label", "notation"):
                if row[key] is not None and row[key].value not in names:
                    names.append(row[key].value)
            fi = row["label"].value if row["lang"] is not None and row["lang"].value == "fi" \
                else None
            if fi and fi not in names[:1]:
                names.insert(0, fi)
        for scheme, concepts in labels.items():
            vocabulary = vocabularies.setdefault(scheme, Vocabulary())
            firsts = [names[0] for names in concepts.values() if names]
            for concept, names in concepts.items():
                local = re.split(r"[/#]", concept)[-1]
                first = names[0] if names else local
                vocabulary.shown[concept] = first if firsts.count(first) == 1 else local
                for text in [*names, local, concept]:
                    vocabulary.by_text.setdefault(text.casefold(), concept)
        known = {q.subject.value for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE),
                                                                   None)
                 if isinstance(q.subject, ox.NamedNode)}
        return cls(vocabularies, known)


@dataclass
class Place:
    """Where relative references are resolved: the workbook's region and the row's chain."""

    region: str
    chain: str | None = None


def ref_text(iri: str, segment: str | None, place: Place) -> str:
    """The short form of an entity's IRI in a cell: its slug when it is the region's own of the
    column's kind (a step or transition: of the row's chain), else `region/kind/slug`, else
    the IRI itself."""
    if segment in ("step", "transition") and place.chain and \
            iri.startswith(f"{place.chain}/{segment}/"):
        rest = iri.removeprefix(f"{place.chain}/{segment}/")
        if _SLUG.fullmatch(rest):
            return rest
    own = f"{ID}{place.region}/{segment}/"
    if segment and iri.startswith(own) and _SLUG.fullmatch(iri.removeprefix(own)):
        return iri.removeprefix(own)
    if iri.startswith(ID) and all(_SLUG.fullmatch(p) for p in iri.removeprefix(ID).split("/")):
        return iri.removeprefix(ID)
    return iri


def ref_iri(text: str, segment: str | None, place: Place) -> str:
    """The IRI a reference cell names (the inverse of `ref_text`)."""
    text = text.strip()
    if re.match(r"[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        if re.search(r"[\s<>\"{}|^`\\]", text):
            raise _not_iri(text)
        return text
    if _SLUG.fullmatch(text) and segment:
        if segment in ("step", "transition"):
            if not place.chain:
                raise CellError("Vaiheen tai siirtymän ketju puuttuu.",
                                "Kedjan saknas för steget eller övergången.",
                                "The chain of the step or transition is missing.")
            return f"{place.chain}/{segment}/{text}"
        return f"{ID}{place.region}/{segment}/{text}"
    if text and all(_SLUG.fullmatch(p) for p in text.split("/")) and "/" in text:
        return ID + text
    if segment in ("chain", "package") and text and "/" not in text:
        # A new chain or package row without an identifier gets one from its Finnish name
        # (`slugify`): the rows that belong to it may name it by that name too.
        return f"{ID}{place.region}/{segment}/{slugify(text)}"
    raise CellError(
        f"'{text}' ei ole tunniste: kirjoita lyhyt nimi (pienet kirjaimet, numerot ja "
        "väliviivat), alue/laji/nimi tai koko IRI.",
        f"'{text}' är ingen identifierare: skriv ett kort namn (små bokstäver, siffror och "
        "bindestreck), region/typ/namn eller hela IRI:n.",
        f"'{text}' is not an identifier: write a short name (lower-case letters, digits and "
        "hyphens), region/kind/name or the whole IRI.")


def _not_iri(text: str) -> CellError:
    return CellError(f"'{text}' ei ole kelvollinen verkko-osoite.",
                     f"'{text}' är ingen giltig webbadress.", f"'{text}' is not a valid IRI.")


def _bad(fi: str, sv: str, en: str, text: str) -> CellError:
    return CellError(f"'{text}' {fi}", f"'{text}' {sv}", f"'{text}' {en}")


@dataclass
class Terms:
    catalogue: Catalogue

    def parse_one(self, raw: object, column: Column, place: Place) -> ox.NamedNode | ox.Literal:
        """The term one value of a cell stands for; CellError when it cannot be read."""
        text = _text(raw)
        kind = column.value
        if kind is Value.TEXT:
            return ox.Literal(text, language=column.lang)
        if kind is Value.STRING:
            return ox.Literal(text)
        if kind is Value.INTEGER:
            if isinstance(raw, float) and raw.is_integer():
                text = str(int(raw))
            if not re.fullmatch(r"[+-]?\d+", text):
                raise _bad("ei ole kokonaisluku.", "är inget heltal.", "is not a whole number.",
                           text)
            return ox.Literal(text, datatype=ox.NamedNode(XSD + "integer"))
        if kind is Value.DECIMAL:
            text = text.replace(",", ".") if re.fullmatch(r"-?\d+,\d+", text) else text
            try:
                Decimal(text)
            except InvalidOperation:
                raise _bad("ei ole luku.", "är inget tal.", "is not a number.", text) from None
            if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
                raise _bad("ei ole luku.", "är inget tal.", "is not a number.", text)
            return ox.Literal(text, datatype=ox.NamedNode(XSD + "decimal"))
        if kind is Value.BOOLEAN:
            word = text.casefold()
            if word not in _TRUE | _FALSE:
                raise _bad("ei ole kyllä tai ei.", "är inte ja eller nej.", "is not yes or no.",
                           text)
            value = "true" if word in _TRUE else "false"
            return ox.Literal(value, datatype=ox.NamedNode(XSD + "boolean"))
        if kind is Value.DATE:
            return ox.Literal(_date(raw, text), datatype=ox.NamedNode(XSD + "date"))
        if kind is Value.DURATION:
            if not _DURATION.fullmatch(text):
                raise _bad("ei ole kesto (esimerkiksi P3D = 3 päivää, PT48H = 48 tuntia).",
                           "är ingen längd (till exempel P3D = 3 dagar, PT48H = 48 timmar).",
                           "is not a duration (for example P3D = 3 days, PT48H = 48 hours).",
                           text)
            return ox.Literal(text, datatype=ox.NamedNode(XSD + "duration"))
        if kind is Value.PERIOD:
            if isinstance(raw, int | float) and float(raw).is_integer():
                text = str(int(raw))
            for pattern, datatype in _PERIODS:
                if pattern.fullmatch(text):
                    return ox.Literal(text, datatype=ox.NamedNode(datatype))
            raise _bad("ei ole kausi (2025, 2025-12 tai 2025-Q4).",
                       "är ingen period (2025, 2025-12 eller 2025-Q4).",
                       "is not a period (2025, 2025-12 or 2025-Q4).", text)
        if kind is Value.CODE:
            vocabulary = self.catalogue.vocabularies.get(column.target or "")
            concept = vocabulary.by_text.get(text.casefold()) if vocabulary else None
            if concept:
                return ox.NamedNode(concept)
            if vocabulary is None and re.match(r"https?://", text):
                return ox.NamedNode(ref_iri(text, None, place))
            choices = vocabulary.choices() if vocabulary else []
            some = ", ".join(choices[:10]) + (", …" if len(choices) > 10 else "")
            raise _bad(f"ei ole sallittu arvo: valitse arvo luettelosta ({some}).",
                       f"är inget tillåtet värde: välj ett värde i listan ({some}).",
                       f"is not an allowed value: choose one from the list ({some}).", text)
        if kind is Value.CLASS:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", text):
                return ox.NamedNode(ref_iri(text, None, place))
            return ox.NamedNode(ONTOLOGY + text)
        if kind is Value.IRI:
            return ox.NamedNode(ref_iri(text, None, place) if "://" in text else _fail_iri(text))
        return ox.NamedNode(ref_iri(text, column.target, place))

    def parse(self, raw: object, column: Column, place: Place) -> list[ox.NamedNode | ox.Literal]:
        if _empty(raw):
            return []
        if column.many:
            return [self.parse_one(part, column, place)
                    for part in str(raw).split(SEPARATOR) if part.strip()]
        return [self.parse_one(raw, column, place)]

    def show(self, term: ox.NamedNode | ox.Literal, column: Column, place: Place) -> str | None:
        """The text of `term` in `column`, or None when the column cannot hold it exactly."""
        kind = column.value
        if isinstance(term, ox.Literal):
            if kind in (Value.CODE, Value.REF, Value.IRI, Value.CLASS):
                return None
            text = term.value
        elif kind is Value.CODE:
            vocabulary = self.catalogue.vocabularies.get(column.target or "")
            text = vocabulary.shown.get(term.value, term.value) if vocabulary else term.value
        elif kind is Value.CLASS:
            text = term.value.removeprefix(ONTOLOGY)
        elif kind is Value.REF:
            text = ref_text(term.value, column.target, place)
        elif kind is Value.IRI:
            text = term.value
        else:
            return None
        if not text.strip() or text != text.strip() or (column.many and SEPARATOR in text) \
                or text.startswith("=") or _CONTROL.search(text):
            return None
        try:
            back = self.parse_one(text, column, place)
        except CellError:
            return None
        return text if back == term else None


def _fail_iri(text: str) -> str:
    raise _not_iri(text)


def _empty(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _text(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _date(raw: object, text: str) -> str:
    if isinstance(raw, datetime | date):
        return _text(raw)
    match = _FI_DATE.fullmatch(text)
    iso = f"{match[3]}-{int(match[2]):02d}-{int(match[1]):02d}" if match else text
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
            date.fromisoformat(iso)
            return iso
    except ValueError:
        pass
    raise _bad("ei ole päivämäärä (kirjoita 31.12.2025 tai 2025-12-31).",
               "är inget datum (skriv 31.12.2025 eller 2025-12-31).",
               "is not a date (write 31.12.2025 or 2025-12-31).", text)
