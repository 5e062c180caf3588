"""ketju.core.turtle: the one literal escaper and IRI writer, checked against a Turtle parser
(pyoxigraph) on any text, and shown to be the one the code lists, reuse drafts and SHACL
checks use."""

from __future__ import annotations

import doctest
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketju.core import turtle
from ketju.core.project import Project
from ketju.core.turtle import Prefixes, iri_ref, lang_literal, string_literal
from ketju.infra import codelists

ROOT = Path(__file__).resolve().parents[1]


def parsed_object(term: str) -> ox.Literal:
    triples = list(ox.parse(f"<http://e/s> <http://e/p> {term} .".encode(),
                            format=ox.RdfFormat.TURTLE))
    assert len(triples) == 1
    literal = triples[0].object
    assert isinstance(literal, ox.Literal)
    return literal


# Lone surrogates cannot be encoded in UTF-8, so a parser never sees them.
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@given(TEXT)
def test_any_text_reads_back_as_itself(value: str) -> None:
    assert parsed_object(string_literal(value)).value == value


@given(TEXT, st.sampled_from(["fi", "sv", "en", "se-FI"]))
def test_language_literals_keep_text_and_language(value: str, lang: str) -> None:
    literal = parsed_object(lang_literal(value, lang))
    assert (literal.value, literal.language) == (value, lang.lower())


def test_escapes_are_short_where_turtle_has_them() -> None:
    assert string_literal('a"b\\c\n\r\t\b\f') == '"a\\"b\\\\c\\n\\r\\t\\b\\f"'
    assert string_literal("\x00\x1f\x7f") == '"\\u0000\\u001F\\u007F"'
    assert string_literal("äö – ✓") == '"äö – ✓"'


@pytest.mark.parametrize("bad", ["no-scheme", "http://e/a b", "http://e/<x>", 'http://e/"',
                                 "http://e/a\\b", "http://e/{x}"])
def test_iris_turtle_cannot_hold_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        iri_ref(bad)
    with pytest.raises(ValueError):
        Prefixes([("e", "http://e/")]).term(bad)


def test_prefixed_names_only_where_the_local_name_is_safe() -> None:
    prefixes = Prefixes([("v", "https://w3id.org/ketju/vocab/"),
                         ("lvl", "https://w3id.org/ketju/vocab/service-level/")])
    assert prefixes.term("https://w3id.org/ketju/vocab/service-level/basic") == "lvl:basic"
    assert prefixes.term("https://w3id.org/ketju/vocab/a/b") == \
        "<https://w3id.org/ketju/vocab/a/b>"
    assert prefixes.term("https://w3id.org/ketju/vocab/x.") == \
        "<https://w3id.org/ketju/vocab/x.>"
    assert prefixes.declarations() == [
        "@prefix v: <https://w3id.org/ketju/vocab/> .",
        "@prefix lvl: <https://w3id.org/ketju/vocab/service-level/> ."]


def test_doctests() -> None:
    assert doctest.testmod(turtle).failed == 0


def test_the_code_lists_use_it_and_write_what_is_committed(tmp_path: Path,
                                                            project: Project) -> None:
    assert codelists.turtle_string is string_literal and codelists.Prefixes is Prefixes
    codelists.generate(ROOT / "standards", tmp_path)
    for written in sorted(tmp_path.glob("*.ttl")):
        committed = ROOT / "ontology" / "generated" / written.name
        assert written.read_bytes() == committed.read_bytes(), written.name


def test_no_other_escaper_is_left() -> None:
    """The modules that wrote literals by hand now use this one."""
    sources = {path: path.read_text("utf-8") for path in (ROOT / "src" / "ketju").rglob("*.py")}
    for path, text in sources.items():
        if path.name == "turtle.py":
            continue
        assert '.replace(\'"\', \'\\\\"\')' not in text, path
        assert "def turtle_string" not in text and "def _escape(text" not in text, path
