"""Values as people read them, in the page's language: the pages never show a literal as RDF
writes it ("P2D", "true", "2026-12-04", "82.5") nor a property by its local name.

* durations in words, "at most" where the property is a maximum: "P2D" of ketju:maximumWait
  is "enintään 2 päivää" / "högst 2 dagar" / "at most 2 days" (the chain diagram's short form,
  "2 pv", is `ketju.web.diagram.layout.humanise_duration`; both read it with
  `ketju.domain.monitoring.duration_parts`);
* dates as each language writes them: 4.12.2026 / 4.12.2026 / 4 December 2026;
* booleans as words: kyllä/ei, ja/nej, yes/no;
* numbers with the language's decimal separator (`ketju.domain.monitoring.format_number`);
* a property or type without a name in the ontology by its local name in words
  ("subOrganizationOf" -> "sub organization of"), never the name itself.

>>> duration("P2D", "fi", maximum=True), duration("P2D", "sv", maximum=True)
('enintään 2 päivää', 'högst 2 dagar')
>>> duration("P1M", "en"), duration("PT1,5H", "fi"), duration("soon", "en")
('1 month', '1,5 tuntia', 'soon')
>>> date("2026-12-04", "fi"), date("2026-12-04", "sv"), date("2026-12-04", "en")
('4.12.2026', '4.12.2026', '4 December 2026')
>>> boolean("true", "fi"), boolean("0", "sv"), boolean("true", "en")
('kyllä', 'nej', 'yes')
>>> words_of("https://www.w3.org/ns/org#subOrganizationOf")
'sub organization of'
"""

from __future__ import annotations

import re

from ketju.core.namespaces import ONTOLOGY, XSD
from ketju.domain.monitoring import duration_parts, duration_words, format_number
from ketju.web.i18n import translate

#: Properties whose duration is a maximum ("at most ...").
MAXIMUM_PROPERTIES = frozenset({ONTOLOGY + "maximumWait", ONTOLOGY + "maximumDuration"})
DURATION_TYPES = frozenset(XSD + t for t in ("duration", "dayTimeDuration",
                                             "yearMonthDuration"))
NUMBER_TYPES = frozenset(XSD + t for t in (
    "integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte"))
_DATE = re.compile(r"(-?\d{4,})-(\d{2})-(\d{2})")
_TIME = re.compile(r"T(\d{2}):(\d{2})")
_YEAR_MONTH = re.compile(r"(-?\d{4,})-(\d{2})")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[_-]+")


def _t(key: str, lang: str, **values: str) -> str:
    text = translate(key, lang)
    return text.format(**values) if values else text


def duration(value: str, lang: str, *, maximum: bool = False) -> str:
    """An ISO 8601 duration in words ("P3M" -> "3 kuukautta"), "at most ..." when `maximum`;
    anything else as it is."""
    words = duration_words(value, lang, lambda key, n: _t("human_" + key, lang, n=n))
    if words is None:
        return value
    return _t("human_at_most", lang, duration=words) if maximum else words


def date(value: str, lang: str) -> str:
    """An xsd:date, xsd:dateTime or xsd:gYearMonth as the language writes it; anything else
    as it is. A time of day is kept ("4.12.2026 klo 10.30")."""
    text = value.strip()
    if match := _DATE.match(text):
        year, month, day = match.groups()
        if not 1 <= int(month) <= 12:
            return value
        if lang == "en":
            shown = f"{int(day)} {_t(f'human_month_{int(month)}', lang)} {year}"
        else:
            shown = f"{int(day)}.{int(month)}.{year}"
        if time := _TIME.match(text, match.end()):
            shown = _t("human_date_time", lang, date=shown, hours=time.group(1),
                       minutes=time.group(2))
        return shown
    if (match := _YEAR_MONTH.fullmatch(text)) and 1 <= int(match.group(2)) <= 12:
        return f"{_t(f'human_month_{int(match.group(2))}', lang)} {match.group(1)}"
    return value


def boolean(value: str, lang: str) -> str:
    """xsd:boolean in words; anything else as it is."""
    text = value.strip()
    if text in ("true", "1"):
        return _t("human_yes", lang)
    if text in ("false", "0"):
        return _t("human_no", lang)
    return value


def number(value: str, lang: str) -> str:
    """A number with the language's decimal separator; anything else as it is."""
    try:
        amount = float(value)
    except ValueError:
        return value
    if amount != amount or amount in (float("inf"), float("-inf")):
        return value
    if amount.is_integer() and abs(amount) < 10_000:
        return str(int(amount))  # years, positions and ranks are read without spaces
    return format_number(amount, lang)


def literal(text: str, datatype: str, lang: str, property_iri: str = "") -> str:
    """A literal as people read it, by its datatype (and its property, for maxima)."""
    if datatype in DURATION_TYPES or (property_iri in MAXIMUM_PROPERTIES
                                      and duration_parts(text) is not None):
        return duration(text, lang, maximum=property_iri in MAXIMUM_PROPERTIES)
    if datatype in (XSD + "date", XSD + "dateTime", XSD + "dateTimeStamp", XSD + "gYearMonth"):
        return date(text, lang)
    if datatype == XSD + "boolean":
        return boolean(text, lang)
    if datatype in NUMBER_TYPES:
        return number(text, lang)
    return text


def words_of(iri: str) -> str:
    """The local name of an IRI in words: the fallback name of a term that has none."""
    local = iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return " ".join(part.lower() if not part.isupper() else part
                    for part in _CAMEL.split(local) if part) or local
