"""Find where in a Turtle file a node is defined, so that findings can name file and line.

RDF parsers forget positions once triples are built, so this module reads the text once more
with a small Turtle tokenizer. It is only run on files that have something to report.

>>> index = TurtleIndex.from_text('@prefix ex: <http://e/> .\\n\\nex:a a ex:T ;\\n  ex:p "x" .\\n')
>>> index.subject_line("http://e/a")
3
>>> index.predicate_line("http://e/a", "http://e/p")
4
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<long_string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*''')
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<directive>@prefix|@base|(?i:PREFIX)(?=\s)|(?i:BASE)(?=\s))
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<datatype_mark>\^\^)
  | (?P<bnode>_:[\w.-]*\w|_:\w)
  | (?P<number>[+-]?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+))
  | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:(?:[\w:%-]|\\.)(?:[\w.:%-]|\\.)*)?)
  | (?P<keyword>a(?![\w:])|true(?![\w:])|false(?![\w:]))
  | (?P<punct>[.;,\[\]()])
  | (?P<other>\S)
    """,
    re.VERBOSE,
)


@dataclass
class TurtleIndex:
    """Lines (1-based) where subjects are defined and where each of their predicates is used."""

    subjects: dict[str, int] = field(default_factory=dict)
    predicates: dict[tuple[str, str], int] = field(default_factory=dict)
    mentions: dict[str, int] = field(default_factory=dict)
    anonymous_subjects: list[int] = field(default_factory=list)

    @classmethod
    def from_text(cls, text: str) -> TurtleIndex:
        index = cls()
        index._scan(text)
        return index

    def subject_line(self, iri: str) -> int | None:
        return self.subjects.get(iri)

    def predicate_line(self, subject: str, predicate: str) -> int | None:
        return self.predicates.get((subject, predicate))

    def mention_line(self, iri: str) -> int | None:
        """First line where the IRI appears at all (as subject, predicate or object)."""
        return self.mentions.get(iri)

    def _scan(self, text: str) -> None:
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

        def line_of(offset: int) -> int:
            return bisect_right(line_starts, offset)

        prefixes: dict[str, str] = {}
        base = ""
        # Parser state: position in the current triple at nesting depth 0.
        expect = "subject"  # subject -> predicate -> object
        subject: str | None = None
        predicate: str | None = None
        depth = 0
        directive: list[str] = []
        in_directive = False

        def expand(kind: str, value: str) -> str | None:
            if kind == "iri":
                inner = value[1:-1]
                return inner if ":" in inner.split("/")[0] or not base else base + inner
            if kind == "pname":
                prefix, _, local = value.partition(":")
                if prefix not in prefixes:
                    return None
                return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
            if kind == "keyword" and value == "a":
                return RDF_TYPE
            return None

        pos = 0
        length = len(text)
        while pos < length:
            match = _TOKEN.match(text, pos)
            if match is None:  # pragma: no cover - the pattern matches any character
                break
            pos = match.end()
            kind = match.lastgroup or "other"
            value = match.group()
            if kind in ("ws", "comment"):
                continue
            if kind == "pname" and value.endswith(".") and not value.endswith("\\."):
                # A trailing dot ends the statement; it is not part of the name.
                stripped = value.rstrip(".")
                pos -= len(value) - len(stripped)
                value = stripped
            if kind == "directive":
                in_directive = True
                directive = [value]
                continue
            if in_directive:
                if value == ".":
                    in_directive = False
                elif kind in ("pname", "iri"):
                    directive.append(value)
                    if directive[0].lower() in ("@base", "base") and kind == "iri":
                        base = value[1:-1]
                        in_directive = directive[0] == "@base"
                    elif len(directive) == 3:
                        prefixes[directive[1].rstrip(":")] = value[1:-1]
                        in_directive = directive[0] == "@prefix"
                continue

            term = expand(kind, value)
            if term is not None:
                self.mentions.setdefault(term, line_of(match.start()))

            if kind == "punct":
                if value in "[(":
                    if depth == 0 and expect == "subject":
                        subject = None
                        expect = "predicate"
                        self.anonymous_subjects.append(line_of(match.start()))
                    depth += 1
                elif value in "])":
                    depth -= 1
                    if depth == 0 and expect == "object":
                        expect = "after-object"
                elif depth == 0 and value == ".":
                    expect, subject, predicate = "subject", None, None
                elif depth == 0 and value == ";":
                    expect = "predicate"
                elif depth == 0 and value == ",":
                    expect = "object"
                continue
            if depth > 0:
                continue
            if expect == "subject":
                subject = term
                if term is not None:
                    self.subjects.setdefault(term, line_of(match.start()))
                elif kind == "bnode":
                    self.anonymous_subjects.append(line_of(match.start()))
                expect = "predicate"
            elif expect == "predicate":
                predicate = term
                if subject is not None and predicate is not None:
                    self.predicates.setdefault((subject, predicate), line_of(match.start()))
                expect = "object"
            elif expect == "object":
                expect = "after-object"
            # literal suffixes (@fi, ^^xsd:x) and the datatype name need no state change
