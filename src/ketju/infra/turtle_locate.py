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
from collections.abc import Iterable
from dataclasses import dataclass, field

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<long_string>\"\"\"(?:[^"\\]++|\\.|"(?!""))*+\"\"\"|'''(?:[^'\\]++|\\.|'(?!''))*+''')
  | (?P<string>"(?:[^"\\\n]++|\\.)*+"|'(?:[^'\\\n]++|\\.)*+')
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<directive>@prefix|@base|(?i:PREFIX)(?=\s)|(?i:BASE)(?=\s))
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<datatype_mark>\^\^)
  | (?P<bnode>_:[\w.-]*\w|_:\w)
  | (?P<number>[+-]?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+))
  | (?P<pname>(?:[^\W\d][\w.-]*)?:(?:(?:[\w:%-]|\\.)(?:[\w.:%-]++|\\.)*+)?)
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
    #: Only these IRIs are recorded (all when None): a file with many findings has many
    #: subjects, and only the reported ones need a line.
    wanted: frozenset[str] | None = None
    #: At most this many anonymous subjects are recorded (all when None).
    anonymous_limit: int | None = None

    @classmethod
    def from_text(cls, text: str, wanted: Iterable[str] | None = None,
                  anonymous_limit: int | None = None) -> TurtleIndex:
        index = cls(wanted=None if wanted is None else frozenset(wanted),
                    anonymous_limit=anonymous_limit)
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
        # Tokens come in order, so lines are counted as the scan goes (a list of line starts
        # would cost more memory than the text for a file of short lines).
        counted = [0, 1]  # offset counted up to, line at that offset

        def line_of(offset: int) -> int:
            counted[1] += text.count("\n", counted[0], offset)
            counted[0] = offset
            return counted[1]

        wanted = self.wanted
        limit = self.anonymous_limit

        def anonymous(offset: int) -> None:
            if limit is None or len(self.anonymous_subjects) < limit:
                self.anonymous_subjects.append(line_of(offset))

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
            if term is not None and (wanted is None or term in wanted):
                self.mentions.setdefault(term, line_of(match.start()))

            if kind == "punct":
                if value in "[(":
                    if depth == 0 and expect == "subject":
                        subject = None
                        expect = "predicate"
                        anonymous(match.start())
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
                if term is not None and (wanted is None or term in wanted):
                    self.subjects.setdefault(term, line_of(match.start()))
                elif kind == "bnode":
                    anonymous(match.start())
                expect = "predicate"
            elif expect == "predicate":
                predicate = term
                if subject is not None and predicate is not None and \
                        (wanted is None or subject in wanted):
                    self.predicates.setdefault((subject, predicate), line_of(match.start()))
                expect = "object"
            elif expect == "object":
                expect = "after-object"
            # literal suffixes (@fi, ^^xsd:x) and the datatype name need no state change


# ---------------------------------------------------------------------------------------------
# Limits checked before a file is parsed
# ---------------------------------------------------------------------------------------------
#
# A file of a few megabytes can make a parser and the checks after it use gigabytes (one
# literal of ten million characters, collections nested a million deep, a million triples
# written as `:s :p 1, 2, 3, ...`), and Oxigraph's parser crashes on triple terms nested some
# ten thousand deep. So every file is first read once more as plain bytes by this scanner,
# which knows just enough Turtle to tell strings, IRIs and comments from the rest, and stops at
# the first place that goes beyond a limit.

#: One step of the scan: the bytes up to the next one that may start a token (a tight loop in
#: C), then that token: a string, IRI, comment, bracket or escape, or any other byte there.
#: Quantifiers are possessive (`*+`, `++`): a string of ten million characters is matched in
#: constant memory (a backtracking `(?:...)*` keeps a state per character: 2 GB for 10 MB).
_SCAN = re.compile(
    rb"""
    [^"'<>\#()\[\]{}|\\]*+
    (?:
      (?P<long>\"\"\"(?:[^"\\]++|\\.|"(?!""))*+(?:\"\"\"|\Z)
             |'''(?:[^'\\]++|\\.|'(?!''))*+(?:'''|\Z))
    | (?P<short>"(?:[^"\\\r\n]++|\\.)*+"?|'(?:[^'\\\r\n]++|\\.)*+'?)
    | (?P<iri><(?:[^\x00-\x20<>"{}|^`\\]++|\\.)*+>)
    | (?P<comment>\#[^\r\n]*+)
    | (?P<open><<|\{\||[(\[])
    | (?P<close>>>|\|\}|[)\]])
    | (?P<other>\\.|.)
    )?
    """,
    re.VERBOSE | re.DOTALL,
)
#: A run of characters that belong to one name (prefixed name, number, keyword), escapes
#: such as `\-` included.
_NAME_CHAR = rb"""[^\s"'<>#()\[\]{}|,;~]"""
_NAME_RUN = re.compile(_NAME_CHAR + rb"*+")
_ESCAPE = re.compile(r"\\(?:u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
#: What ends a triple when there are no collections: `,` `;` `.` end an object, `]` a blank
#: node's last one and `|}` an annotation's last one; `~`, `{|` and `<<` (counted by the scan)
#: each add the triple that names a reifier. Counted over the whole file, strings included,
#: they bound its triples.
_TRIPLE_ENDS = b",;.]|~{"


@dataclass(frozen=True)
class TurtleLimits:
    """What one source file may hold (see ketju.infra.validate for the numbers and why)."""

    literal_chars: int
    name_chars: int
    depth: int
    triples: int


@dataclass(frozen=True)
class Excess:
    """The first place where a file goes beyond a limit."""

    kind: str  # "literal", "name", "depth" or "triples"
    offset: int  # byte offset of the literal, name or bracket (0 for "triples")
    limit: int


def find_excess(data: bytes, limits: TurtleLimits) -> Excess | None:
    """The first literal, name or nesting beyond `limits` in UTF-8 Turtle, else too many triples.

    Reads the bytes with C-speed regular expressions; only strings, IRIs, comments and
    brackets come back to Python. What the scanner cannot make sense of is left to the parser,
    which stops at the first syntax error, before it reaches anything after it.

    >>> limits = TurtleLimits(literal_chars=5, name_chars=20, depth=2, triples=10)
    >>> find_excess(b"<a> <b> '12345', '''1\\n3\\\\'5''' .", limits) is None
    True
    >>> find_excess(b'<a> <b> "ok", "123456" .', limits)
    Excess(kind='literal', offset=14, limit=5)
    >>> find_excess(b'<a> <b> ( ( [ <c> 1 ] ) ) .', limits)
    Excess(kind='depth', offset=12, limit=2)
    >>> find_excess(b'@prefix : <http://e/> . :a :b 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 .', limits)
    Excess(kind='triples', offset=0, limit=10)
    """
    long_name = re.compile(rb"(?<!%s)%s{%d}" % (_NAME_CHAR, _NAME_CHAR, limits.name_chars + 1))
    depth = 0
    collections = False
    reified = 0
    gap = 0  # where the bytes before the current token start
    for step in _SCAN.finditer(data):
        kind = step.lastgroup
        start, end = step.span(kind) if kind else (step.end(), step.end())
        # Names live between tokens: only a long stretch between them can hold a long one.
        if start - gap > limits.name_chars:
            for name in long_name.finditer(data, gap, start):
                run = _NAME_RUN.match(data, name.start(), start)
                if run is not None and \
                        len(run.group().decode("utf-8", "replace")) > limits.name_chars:
                    return Excess("name", name.start(), limits.name_chars)
        gap = end
        if kind == "open":
            depth += 1
            if depth > limits.depth:
                return Excess("depth", start, limits.depth)
            collections = collections or data[start] == ord("(")
            reified += data[start] == ord("<")
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "long" or kind == "short":
            quote = 3 if kind == "long" else 1
            if end - start - 2 * quote > limits.literal_chars and \
                    _literal_chars(data, start + quote, end - quote, limits) > \
                    limits.literal_chars:
                return Excess("literal", start, limits.literal_chars)
        elif kind == "iri" and end - start - 2 > limits.name_chars and \
                len(data[start + 1 : end - 1].decode("utf-8", "replace")) > limits.name_chars:
            return Excess("name", start, limits.name_chars)
    # A collection gives two triples a member with none of the ends between them: a file with
    # collections, or with more ends than allowed, is counted by parsing it (streamed, and
    # stopped after the limit).
    bound = len(data) - len(data.translate(None, _TRIPLE_ENDS)) + reified
    if (collections or bound > limits.triples) and \
            _count_triples(data, limits.triples + 1) > limits.triples:
        return Excess("triples", 0, limits.triples)
    return None


def _literal_chars(data: bytes, start: int, end: int, limits: TurtleLimits) -> int:
    """Characters in a literal's lexical form (an escape such as \\u00e4 is one)."""
    # A character takes at most 10 bytes (\\U0001F600): beyond that many, no need to count.
    if end - start > 10 * limits.literal_chars:
        return end - start
    text = data[start:end].decode("utf-8", "replace")
    return len(text) - sum(len(escape) - 1 for escape in _ESCAPE.findall(text))


def _count_triples(data: bytes, most: int) -> int:
    """The triples in the file, counted up to `most` (a syntax error ends the count)."""
    import pyoxigraph as ox

    count = 0
    try:
        for _quad in ox.parse(data, format=ox.RdfFormat.TURTLE):
            count += 1
            if count >= most:
                break
    except SyntaxError:
        pass  # the load reports it, with its line
    return count


def line_and_column(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column
