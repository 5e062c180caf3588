"""Import a CSV export of THL's Sotkanet open interface as an observation contribution.

`ketju observations import FILE --from sotkanet-csv --region REGION` reads a Sotkanet CSV
export and writes the rows it can place as a contribution file in the columns of
`data/{region}/observations/*.csv` (the header the CSVW metadata document declares:
indicator, period, value, unit, status, sex, age_group, from_level, to_level, chain,
transition). A row is placed when its Sotkanet indicator id is the `ketju:sotkanetIndicatorId`
of a national indicator that one of the region's indicators follows (`ketju:nationalIndicator`);
it then becomes one row per such indicator, in that indicator's unit. Every other row is listed
with its line number and the reason (`Imported.unmapped`), and the rest is still written.

What the importer expects (docs/SOTKANET-IMPORT.md says more): a header row; separator `;`
(Sotkanet's CSV) or `,`; the columns are found by name, case and punctuation aside:

- `indicator` (indikaattori): the Sotkanet indicator id, a whole number (required);
- `year` (vuosi): four digits, becomes the period (required);
- `value` / `primary value` (arvo): the indicator's value, `.` or `,` as decimal mark
  (required; a row without a value, as Sotkanet leaves suppressed cells, is listed);
- `gender` (sukupuoli): `total`, `male`, `female` (or `yhteensä`, `miehet`, `naiset`),
  empty = total (optional);
- `region` (alue): the Sotkanet area id; rows of another area than the region's
  (`ketju:sotkanetRegionId` in the regions vocabulary) are listed (optional: without the
  column every row is taken as the region's);
- any other column (`absolute value`, titles) is ignored.

The mapping comes from the build being served (a `Snapshot`), through the named query
`observations-sotkanet`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ketju.infra.snapshot import Snapshot

#: Names a column may have in an export (normalised: lower case, letters and digits only).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "indicator": ("indicator", "indicatorid", "indikaattori", "indikator"),
    "region": ("region", "regionid", "alue", "omrade"),
    "year": ("year", "vuosi", "ar"),
    "gender": ("gender", "sex", "sukupuoli", "kon"),
    "value": ("value", "primaryvalue", "arvo", "varde"),
}
REQUIRED = ("indicator", "year", "value")
SEX = {"total": "", "male": "M", "female": "F", "yhteensä": "", "miehet": "M", "naiset": "F",
       "totalt": "", "män": "M", "kvinnor": "F", "": ""}
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

Texts = dict[str, str]


class SotkanetFileError(ValueError):
    """The file cannot be read as a Sotkanet export at all; `messages` say why (fi/sv/en)."""

    def __init__(self, messages: Texts) -> None:
        super().__init__(messages["en"])
        self.messages = messages


@dataclass(frozen=True)
class Unmapped:
    """A row of the export that did not become an observation: its line and why."""

    line: int
    reason: Texts

    def text(self, language: str) -> str:
        return f"{self.line}: {self.reason.get(language) or self.reason['en']}"


@dataclass
class Imported:
    rows: list[dict[str, str]] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)

    def csv(self, columns: Sequence[str]) -> str:
        """The contribution file, with `columns` (the header the project's CSVW metadata
        document declares: `contribution_columns`); cells not made are empty."""
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n",
                                restval="", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue()


@dataclass(frozen=True)
class IndicatorMap:
    """What the region's data says: Sotkanet indicator id -> the region's indicators (slug,
    unit code), and the region's Sotkanet area id."""

    indicators: dict[str, list[tuple[str, str]]]
    region_id: str | None


def mapping(snapshot: Snapshot, region: str) -> IndicatorMap:
    indicators: dict[str, list[tuple[str, str]]] = {}
    region_id = None
    query = snapshot.queries["observations-sotkanet"]
    for row in snapshot.data.select(query.body, query.bindings({"region": region})):
        if "regionId" in row:
            region_id = row["regionId"].value
        if "sotkanetId" in row and "indicator" in row:
            unit = row["unit"].value.rsplit("/", 1)[-1] if "unit" in row else ""
            indicators.setdefault(row["sotkanetId"].value.strip(), []).append(
                (row["indicator"].value.rsplit("/", 1)[-1], unit))
    return IndicatorMap(indicators, region_id)


def _name(header: str) -> str:
    return re.sub(r"[^0-9a-zåäö]", "", header.strip().lstrip("\ufeff").lower())


def _columns(header: list[str]) -> dict[str, int]:
    """Column -> index, for the columns the importer knows."""
    found: dict[str, int] = {}
    for index, name in enumerate(_name(h) for h in header):
        for column, names in ALIASES.items():
            if name in names and column not in found:
                found[column] = index
    return found


def convert(text: str, known: IndicatorMap, region: str) -> Imported:
    """The export `text` as a contribution of `region`, with the rows it cannot place."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines:
        raise SotkanetFileError({"fi": "Tiedosto on tyhjä.", "sv": "Filen är tom.",
                            "en": "The file is empty."})
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    columns = _columns(next(reader))
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        names = ", ".join(missing)
        raise SotkanetFileError({
            "fi": f"Otsikkorivilta puuttuu sarake: {names} (Sotkanetin CSV-vienti: "
                  "indicator;region;year;gender;value).",
            "sv": f"Rubrikraden saknar kolumnen: {names} (Sotkanets CSV-export: "
                  "indicator;region;year;gender;value).",
            "en": f"The header row lacks the column(s) {names} (Sotkanet's CSV export: "
                  "indicator;region;year;gender;value)."})
    imported = Imported()
    seen: dict[tuple[str, str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        problem = _problem(cell, known, region)
        if problem is not None:
            imported.unmapped.append(Unmapped(line, problem))
            continue
        year, sex = cell("year"), SEX[cell("gender").lower()]
        value = cell("value").replace(",", ".")
        for slug, unit in known.indicators[cell("indicator")]:
            key = (slug, year, sex)
            if key in seen:
                imported.unmapped.append(Unmapped(line, {
                    "fi": f"Sama mittari, vuosi ja sukupuoli kuin rivillä {seen[key]}.",
                    "sv": f"Samma mätare, år och kön som på rad {seen[key]}.",
                    "en": f"Same indicator, year and sex as line {seen[key]}."}))
                continue
            seen[key] = line
            imported.rows.append({"indicator": slug, "period": year, "value": value,
                                  "unit": unit, "sex": sex})
    return imported


def _problem(cell: Callable[[str], str], known: IndicatorMap, region: str) -> Texts | None:
    """Why a row cannot be placed, or None."""
    indicator = cell("indicator")
    if indicator not in known.indicators:
        return {
            "fi": f"Sotkanet-indikaattoria {indicator!r} ei ole yhdelläkään alueen {region} "
                  "mittarilla (kansallisen mittarin ketju:sotkanetIndicatorId).",
            "sv": f"Sotkanet-indikatorn {indicator!r} hör inte till någon av områdets "
                  f"{region} mätare (den nationella mätarens ketju:sotkanetIndicatorId).",
            "en": f"Sotkanet indicator {indicator!r} is not that of any indicator of "
                  f"{region} (a national indicator's ketju:sotkanetIndicatorId)."}
    area = cell("region")
    if area and known.region_id is not None and area != known.region_id:
        return {
            "fi": f"Alue {area!r} ei ole {region} (Sotkanet-alue {known.region_id}).",
            "sv": f"Området {area!r} är inte {region} (Sotkanet-område {known.region_id}).",
            "en": f"Area {area!r} is not {region} (Sotkanet area {known.region_id})."}
    year = cell("year")
    if not re.fullmatch(r"[0-9]{4}", year):
        return {"fi": f"Vuosi {year!r} ei ole nelinumeroinen vuosi.",
                "sv": f"Året {year!r} är inte ett fyrsiffrigt år.",
                "en": f"Year {year!r} is not a four-digit year."}
    if cell("gender").lower() not in SEX:
        return {"fi": f"Sukupuoli {cell('gender')!r} ei ole total, male tai female.",
                "sv": f"Könet {cell('gender')!r} är inte total, male eller female.",
                "en": f"Gender {cell('gender')!r} is not total, male or female."}
    value = cell("value").replace(",", ".")
    if not value:
        return {"fi": "Rivillä ei ole arvoa (Sotkanet jättää salatut arvot tyhjiksi).",
                "sv": "Raden har inget värde (Sotkanet lämnar skyddade värden tomma).",
                "en": "The row has no value (Sotkanet leaves suppressed values empty)."}
    if not _NUMBER.fullmatch(value):
        return {"fi": f"Arvo {cell('value')!r} ei ole luku.",
                "sv": f"Värdet {cell('value')!r} är inte ett tal.",
                "en": f"Value {cell('value')!r} is not a number."}
    if any(not unit for _, unit in known.indicators[indicator]):
        return {"fi": "Mittarilla ei ole yksikköä (sdmx-attribute:unitMeasure).",
                "sv": "Mätaren har ingen enhet (sdmx-attribute:unitMeasure).",
                "en": "The indicator has no unit (sdmx-attribute:unitMeasure)."}
    return None

