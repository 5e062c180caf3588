"""Writing Turtle terms by hand: the one literal escaper and the one IRI writer of ketju.

Whole graphs are serialised by pyoxigraph (`ox.serialize`); Turtle written line by line, where
the layout matters for people who read and edit the files (the generated code lists, a reuse
draft), builds its terms here, so every literal is escaped and every IRI checked the same way.

>>> string_literal('Sanoi "hei"\\n')
'"Sanoi \\\\"hei\\\\"\\\\n"'
>>> lang_literal("Lonkkamurtuma", "fi")
'"Lonkkamurtuma"@fi'
>>> iri_ref("https://w3id.org/ketju/id/x/chain/a")
'<https://w3id.org/ketju/id/x/chain/a>'
>>> Prefixes([("ketju", "https://w3id.org/ketju/ontology#")]).term(
...     "https://w3id.org/ketju/ontology#ServiceChain")
'ketju:ServiceChain'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Characters with a short escape in Turtle (ECHAR); the other control characters, DEL and
#: lone surrogates are written as \\uXXXX.
_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
          "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f\ud800-\udfff]')
#: Characters an IRIREF may not hold (Turtle 1.1, production [18]).
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
#: A conservative subset of Turtle's PN_LOCAL: letters, digits, '_', '-' and inner '.'.
SAFE_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def escape_string(value: str) -> str:
    """The characters of a short string literal (without its quotes), escaped."""
    return _NEEDS_ESCAPE.sub(_escape_char, value)


def string_literal(value: str) -> str:
    """A Turtle short string literal (`"..."`) for `value`, escaped."""
    return '"' + escape_string(value) + '"'


def lang_literal(value: str, lang: str) -> str:
    """A language-tagged literal: `"value"@lang`."""
    return f"{string_literal(value)}@{lang}"


def check_iri(iri: str) -> str:
    """`iri`, when it is an absolute IRI that Turtle can write between angle brackets;
    ValueError otherwise."""
    if _IRI_FORBIDDEN.search(iri) or not _SCHEME.match(iri):
        raise ValueError(f"not a valid absolute IRI: {iri!r}")
    return iri


def iri_ref(iri: str) -> str:
    """`<iri>`, checked (`check_iri`)."""
    return f"<{check_iri(iri)}>"


def prefix_lines(prefixes: Sequence[tuple[str, str]]) -> list[str]:
    """`@prefix name: <namespace> .` lines, in the order given."""
    return [f"@prefix {name}: <{namespace}> ." for name, namespace in prefixes]


class Prefixes:
    """A prefix table that writes IRIs as prefixed names where the local name is safely a
    Turtle PN_LOCAL (the most specific namespace wins), else as `<iri>`."""

    def __init__(self, prefixes: Sequence[tuple[str, str]]) -> None:
        self.prefixes = list(prefixes)
        # Longest namespace first, so the most specific prefix wins.
        self._by_length = sorted(self.prefixes, key=lambda p: -len(p[1]))

    def declarations(self) -> list[str]:
        return prefix_lines(self.prefixes)

    def term(self, iri: str) -> str:
        check_iri(iri)
        for name, namespace in self._by_length:
            if iri.startswith(namespace) and SAFE_LOCAL.fullmatch(iri[len(namespace):]):
                return f"{name}:{iri[len(namespace):]}"
        return f"<{iri}>"
