"""Values as people read them (ketju.web.humanise): durations, dates, booleans and numbers in
Finnish, Swedish and English, and names of terms that have none."""

from __future__ import annotations

import pytest

from ketju.core.namespaces import ONTOLOGY, XSD
from ketju.web import humanise
from ketju.web.diagram.layout import humanise_duration

WAIT = ONTOLOGY + "maximumWait"


@pytest.mark.parametrize(("value", "lang", "expected"), [
    ("P2D", "fi", "enintään 2 päivää"),
    ("P2D", "sv", "högst 2 dagar"),
    ("P2D", "en", "at most 2 days"),
    ("P1D", "fi", "enintään 1 päivä"),
    ("P1D", "sv", "högst 1 dag"),
    ("P3M", "fi", "enintään 3 kuukautta"),
    ("P3M", "en", "at most 3 months"),
    ("P2W", "sv", "högst 2 veckor"),
    ("PT24H", "en", "at most 24 hours"),
    ("PT1.5H", "fi", "enintään 1,5 tuntia"),
    ("P1Y6M", "sv", "högst 1 år 6 månader"),
])
def test_a_maximum_wait_reads_as_at_most(value: str, lang: str, expected: str) -> None:
    assert humanise.literal(value, XSD + "duration", lang, WAIT) == expected
    assert humanise.duration(value, lang, maximum=True) == expected


def test_a_duration_that_is_no_maximum_is_just_its_length() -> None:
    assert humanise.literal("P14D", XSD + "duration", "fi") == "14 päivää"
    assert humanise.literal("P14D", XSD + "dayTimeDuration", "en") == "14 days"


@pytest.mark.parametrize("value", ["soon", "P", "PT", "-P1D", "P1DT", "2 days", ""])
def test_what_is_no_duration_is_shown_as_it_is(value: str) -> None:
    assert humanise.duration(value, "fi", maximum=True) == value
    assert humanise.duration_parts(value) is None


@pytest.mark.parametrize("value", ["P2D", "P3M", "PT1.5H", "P1Y2M3DT4H5M6S", "soon", "P",
                                   "-P1D", "P1,5D"])
def test_the_long_form_reads_durations_as_the_diagram_does(value: str) -> None:
    """One reading of ISO 8601 for the diagram's short form and the pages' long form."""
    short_understood = humanise_duration(value, "fi") != value
    assert (humanise.duration_parts(value) is not None) == short_understood


@pytest.mark.parametrize(("value", "datatype", "lang", "expected"), [
    ("2026-12-04", "date", "fi", "4.12.2026"),
    ("2026-12-04", "date", "sv", "4.12.2026"),
    ("2026-12-04", "date", "en", "4 December 2026"),
    ("2026-01-09T10:30:00Z", "dateTime", "fi", "9.1.2026 klo 10.30"),
    ("2026-01-09T10:30:00Z", "dateTime", "en", "9 January 2026, 10:30"),
    ("2026-03", "gYearMonth", "sv", "mars 2026"),
    ("2026-13-01", "date", "fi", "2026-13-01"),
])
def test_dates_are_written_as_each_language_writes_them(value: str, datatype: str, lang: str,
                                                        expected: str) -> None:
    assert humanise.literal(value, XSD + datatype, lang) == expected


@pytest.mark.parametrize(("value", "lang", "expected"), [
    ("true", "fi", "kyllä"), ("false", "fi", "ei"), ("true", "sv", "ja"),
    ("false", "sv", "nej"), ("true", "en", "yes"), ("0", "en", "no"), ("maybe", "en", "maybe"),
])
def test_booleans_are_words(value: str, lang: str, expected: str) -> None:
    assert humanise.literal(value, XSD + "boolean", lang) == expected


@pytest.mark.parametrize(("value", "datatype", "lang", "expected"), [
    ("82.5", "decimal", "fi", "82,5"), ("82.5", "decimal", "sv", "82,5"),
    ("82.5", "decimal", "en", "82.5"), ("2024", "integer", "fi", "2024"),
    ("12345.678", "double", "fi", "12\u202f345,68"), ("NaN", "double", "fi", "NaN"),
    ("x", "integer", "en", "x"),
])
def test_numbers_take_the_languages_decimal_separator(value: str, datatype: str, lang: str,
                                                      expected: str) -> None:
    assert humanise.literal(value, XSD + datatype, lang) == expected


def test_plain_text_is_left_alone() -> None:
    assert humanise.literal("P2D", XSD + "string", "fi") == "P2D"
    assert humanise.literal("true", "", "fi") == "true"


@pytest.mark.parametrize(("iri", "words"), [
    ("http://www.w3.org/ns/org#subOrganizationOf", "sub organization of"),
    ("http://www.w3.org/2004/02/skos/core#prefLabel", "pref label"),
    (ONTOLOGY + "contributesTo", "contributes to"),
    (ONTOLOGY + "producedBy", "produced by"),
    ("http://purl.org/dc/terms/accrualPeriodicity", "accrual periodicity"),
    ("https://example.org/x/PTVCode", "PTV code"),
])
def test_a_term_without_a_name_is_named_by_its_local_name_in_words(iri: str,
                                                                  words: str) -> None:
    assert humanise.words_of(iri) == words


def test_the_texts_of_sub_tables_are_the_languages_texts() -> None:
    """messages.toml keeps each area's texts in sub-tables ([fi.speech]): they are read as the
    language's own, and every one exists in all three languages."""
    import tomllib
    from pathlib import Path

    from ketju.web import i18n

    with open(Path(i18n.__file__).parent / "messages.toml", "rb") as source:
        table = tomllib.load(source)
    areas = {lang: {k: v for k, v in texts.items() if isinstance(v, dict)}
             for lang, texts in table.items()}
    assert areas["fi"].keys() == areas["sv"].keys() == areas["en"].keys()
    for area in areas["fi"]:
        assert areas["fi"][area].keys() == areas["sv"][area].keys() == areas["en"][area].keys()
    assert i18n.translate("speech_facts", "sv") == "Grunduppgifter"
    assert i18n.translate("human_at_most", "fi") == "enintään {duration}"
