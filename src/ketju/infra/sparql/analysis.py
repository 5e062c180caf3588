"""Read a user's SPARQL text before it runs: its form, its size, its nesting, and (by a real
parse) where it would call out and which dataset it names.

Two steps, split by cost:

- `check_query` runs in the server process on every query and costs one pass of a small
  tokenizer: size, form (updates are refused), bracket nesting (`MAX_NESTING`), and
  `keyword_candidates`, a sound prefilter that says whether `SERVICE` or `FROM` may be keywords
  of the query at all.
- `inspect` runs only when the prefilter says so, and only inside a query process (it is slow
  and recursive: rdflib's pyparsing grammar takes 2-15 ms for a typical query and seconds for
  a long one, so it runs where the time limit and memory ceiling apply). It parses the query
  with rdflib's SPARQL 1.1 grammar and walks the parse tree and algebra for
  `ServiceGraphPattern` (targets resolved by the parser) and the dataset clause.
  A query that may hold SERVICE and cannot be parsed is refused (fail closed).

Why the prefilter is sound: Oxigraph (0.5) matches keywords as plain ASCII letters (`\\u`
escapes are decoded only inside strings and IRIs), so SERVICE can only be spelled
"service" in some case. An occurrence is ruled out only where Oxigraph cannot read it as a
keyword: right after `?`, `$`, `:` or `#`, or after letters, digits and `_` that lead back to
one of them (part of a variable, prefixed name or blank node label, whose names are read
greedily; or in a comment, IRI or string, since `#` in code starts a comment), or right after
`/` (in an IRI path; no rule of the grammar puts SERVICE after the `/` operator). Every other
occurrence, in strings and comments included, counts; the text with escapes decoded is checked
the same way, in case a future engine decodes them everywhere as the SPARQL text says.
tests/test_sparql_analysis.py asks the engine itself about each kind of boundary. The rule
keeps ketju's own vocabulary (`ketju:service`, `?service`, `.../service/...`) out of the slow
path.

Why the parse is given the raw text: rdflib's `parseQuery` decodes `\\u` escapes over the whole
text first, so `"\\u0022"` would end a string for rdflib but not for Oxigraph, and a SERVICE
between two such strings would be hidden from the check. Escapes that cannot change where a
token ends (letters, digits, most punctuation) are decoded; the others stay escaped, which
rdflib's grammar does not accept, so such a query is refused when it may hold SERVICE.

>>> analyse("PREFIX e: <http://x/> SELECT * { SERVICE e:s { ?a ?b ?c } }").form
'SELECT'
>>> keyword_candidates("SELECT ?service WHERE { ?s ketju:service ?service }")
(False, False)
>>> keyword_candidates("ask { } # SERVICE <http://nowhere/>")
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                   "WITH")

#: Deepest nesting of `{ ( [` (and runs of unary `!`) a query may have. Measured with
#: pyoxigraph 0.5.13 on an 8 MiB stack (a throw-away subprocess per try, bisected): it segfaults
#: at 848 nested `FILTER EXISTS { ... }`, 960 nested function calls `STR(STR(...))`, 2,208
#: nested groups `{{...}}`, 2,560 nested sub-SELECTs, 2,624 nested OPTIONALs, 2,944 nested
#: GRAPHs, 3,456 nested blank nodes `[ :p [ ... ] ]`, 4,672 nested parentheses in a FILTER,
#: 9,344 unary `!`, 13,824 property-path parentheses; long flat chains break too (2,624 BINDs
#: or MINUSes, 6,336 OPTIONALs, 6,912 `+` terms, 8,192 triple patterns or path steps). 100 is
#: 8 times below the lowest; ketju's own queries nest at most 7 deep. The query processes run
#: the engine on a thread whose stack grows with `max_query_bytes` (worker.stack_bytes: 512 MiB
#: for 64 KiB), so even a query that fools this count, or a long flat chain, cannot reach the
#: engine's limit within the accepted query size.
MAX_NESTING = 100

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
               |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$][\w]+)
  | (?P<pname>(?:[A-Za-z_][\w.-]*)?:(?:[\w:%-]|\\.)(?:[\w.:%-]|\\.)*|(?:[A-Za-z_][\w.-]*)?:)
  | (?P<word>[A-Za-z_][\w-]*)
  | (?P<neq>!=)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_OPEN = frozenset("{([")
_CLOSE = frozenset("})]")
_CANDIDATE = re.compile(r"(service)|(from)", re.IGNORECASE)
_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
# Characters an escape may be decoded into without moving a token boundary for rdflib.
_KEEP_ESCAPED = frozenset("\"'\\<>{}|^`")


class QueryRefused(ValueError):
    """The query may not run here; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class QueryShape:
    """What the tokenizer learnt: the form, the nesting depth, and whether the query must be
    parsed before it runs (SERVICE or FROM may be keywords of it)."""

    form: str | None
    nesting: int = 0
    needs_parse: bool = False


@dataclass(frozen=True)
class Inspection:
    """What the parse learnt: SERVICE targets (None: a variable or an IRI that cannot be
    resolved safely) and whether the query names its own dataset (FROM / FROM NAMED)."""

    services: tuple[str | None, ...] = ()
    dataset: bool = False


def decode_escapes(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    for m in _TOKEN.finditer(text):
        if m.lastgroup not in ("ws", "comment"):
            yield m.lastgroup or "other", m.group()


def analyse(query: str) -> QueryShape:
    """The form and the nesting depth, from one pass of the tokenizer over the raw text."""
    form: str | None = None
    depth = deepest = 0
    bangs = 0
    expect = 0  # tokens still belonging to a PREFIX or BASE declaration
    for kind, value in _tokens(query):
        if value == "!":
            bangs += 1  # `!!!x` nests like brackets do
            deepest = max(deepest, depth + bangs)
            continue
        bangs = 0
        if kind == "other":
            if value in _OPEN:
                depth += 1
                deepest = max(deepest, depth)
            elif value in _CLOSE:
                depth = max(0, depth - 1)
            continue
        if expect:
            expect -= 1
            continue
        if form is None and kind == "word":
            upper = value.upper()
            if upper == "PREFIX":
                expect = 2
            elif upper == "BASE":
                expect = 1
            elif upper in QUERY_FORMS:
                form = upper
            elif upper in UPDATE_KEYWORDS:
                form = "UPDATE"
    return QueryShape(form, deepest)


def _may_be_keyword(text: str) -> tuple[bool, bool]:
    service = dataset = False
    for match in _CANDIDATE.finditer(text):
        if (service if match.group(1) else dataset):
            continue
        start = j = match.start()
        while j > 0 and text[j - 1] in _NAME:
            j -= 1
        before = text[j - 1] if j > 0 else ""
        if before and (before in "?$:#" or (j == start and before == "/")):
            continue  # part of a variable, prefixed name or label; in a comment or IRI
        if match.group(1):
            service = True
        else:
            dataset = True
        if service and dataset:
            break
    return service, dataset


def keyword_candidates(query: str) -> tuple[bool, bool]:
    """(SERVICE may be a keyword, FROM may be a keyword): never (False, _) when Oxigraph would
    read a SERVICE in the text (see the module docstring for why)."""
    service, dataset = _may_be_keyword(query)
    if "\\" in query and not (service and dataset):
        decoded_service, decoded_dataset = _may_be_keyword(decode_escapes(query))
        service, dataset = service or decoded_service, dataset or decoded_dataset
    return service, dataset


def check_query(query: str, max_bytes: int, max_nesting: int = MAX_NESTING) -> QueryShape:
    """Refuse what must not run: too long, an update, or nested too deep. Cheap: the server
    process runs it on every query."""
    size = len(query.encode("utf-8"))
    if size > max_bytes:
        raise QueryRefused(413, f"The query is {size} bytes long; at most {max_bytes} are "
                                "accepted.")
    shape = analyse(query)
    if shape.form == "UPDATE":
        raise QueryRefused(403, "This endpoint is read-only: SPARQL updates are not accepted. "
                                "Data changes go through the repository (pull request, "
                                "validation, rebuild).")
    if shape.nesting > max_nesting:
        raise QueryRefused(400, f"The query nests groups, brackets or `!` {shape.nesting} deep; "
                                f"at most {max_nesting} levels are accepted. Write it flatter "
                                "(fewer nested groups or sub-queries).")
    return QueryShape(shape.form, shape.nesting, any(keyword_candidates(query)))


# -- the parse (in a query process) ------------------------------------------------------------


def _decode_plain_escapes(text: str) -> str:
    def plain(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return match.group()
        char = chr(code)
        return match.group() if code <= 0x20 or char in _KEEP_ESCAPED else char

    return _ESCAPE.sub(plain, text)


def _nodes(node: Any, name: str) -> Iterator[Any]:
    """Every rdflib CompValue called `name` below `node` (parse tree or algebra)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == name:
                yield item
            stack.extend(dict.values(item))
        elif isinstance(item, list | tuple | ParseResults):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


def inspect(query: str) -> Inspection:
    """Parse the query (when `keyword_candidates` says SERVICE or FROM may be there) and say
    which SERVICE targets it calls and whether it names its own dataset.

    Raises QueryRefused (400) when SERVICE may be there and the text cannot be parsed. When
    only FROM may be there and the parse fails, the query is taken to have no dataset clause
    (the union default graph): a wrong guess gives a wrong answer, never an outbound call.
    """
    service, dataset = keyword_candidates(query)
    if not (service or dataset):
        return Inspection()
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import Query as QueryGrammar
    from rdflib.term import URIRef

    try:
        tree = QueryGrammar.parse_string(_decode_plain_escapes(query), parse_all=True)
    except (ParseBaseException, RecursionError, ValueError):
        if service:
            raise QueryRefused(400, "The query mentions SERVICE but could not be checked: it "
                                    "is not valid SPARQL 1.1 for the checking parser (escapes "
                                    "such as \\u0022 of quotes, brackets or spaces are not "
                                    "accepted in queries that may call SERVICE).") from None
        return Inspection()
    has_dataset = "datasetClause" in tree[1]
    if not any(True for _ in _nodes(tree, "ServiceGraphPattern")):
        return Inspection((), has_dataset)
    if any(getattr(decl, "name", "") == "Base" for decl in tree[0]):
        # rdflib (urljoin) and Oxigraph (RFC 3986) may resolve relative targets differently.
        return Inspection((None,), has_dataset)
    try:
        algebra = translateQuery(tree).algebra
    # rdflib's translation raises plain Exceptions for some valid queries; whatever it raises,
    # the targets are unknown, and unknown targets are refused.
    except Exception:
        return Inspection((None,), has_dataset)
    targets = tuple(str(node["term"]) if isinstance(node.get("term"), URIRef) else None
                    for node in _nodes(algebra, "ServiceGraphPattern"))
    return Inspection(targets or (None,), has_dataset)


def _host_allowed(target: str | None, allowed: set[str]) -> bool:
    if not target or not allowed:
        return False
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and "@" not in parts.netloc and host in allowed


def refuse_services(services: tuple[str | None, ...], allowed_hosts: tuple[str, ...],
                    refusal: str) -> None:
    """Raise QueryRefused unless every SERVICE target is an absolute http(s) IRI without user
    information whose host is allowed. `refusal` says why none is allowed when
    `allowed_hosts` is empty."""
    allowed = {h.lower() for h in allowed_hosts}
    for target in services:
        if not _host_allowed(target, allowed):
            shown = f"<{target}>" if target else "a variable or an IRI that cannot be checked"
            raise QueryRefused(400, f"SERVICE calls to {shown} are not allowed on this endpoint"
                                    + (f" (allowed hosts: {', '.join(sorted(allowed))})."
                                       if allowed else f"; {refusal}."))


def bind_values(query: str, bindings: Mapping[str, Any]) -> str:
    r"""Bind variables with a VALUES block opening the WHERE clause (for engines without
    parameter binding, and for lists of values). Terms are written by pyoxigraph in N-Triples
    syntax, so quotes and braces in a value stay inside its literal.

    >>> import pyoxigraph as ox
    >>> print(bind_values("SELECT ?x WHERE { ?x ?p ?v }", {"v": ox.Literal('a" } UNION { "b')}))
    SELECT ?x WHERE { VALUES (?v) { ("a\" } UNION { \"b") } ?x ?p ?v }
    >>> print(bind_values("SELECT ?x WHERE { { ?x ?p ?v } UNION { ?v ?q ?x } }",
    ...                   {"v": [ox.NamedNode("http://a"), ox.NamedNode("http://b")]}))
    SELECT ?x WHERE { VALUES ?v { <http://a> <http://b> } { { ?x ?p ?v } UNION { ?v ?q ?x } } }
    """
    if not bindings:
        return query
    scalars = sorted(k for k, v in bindings.items() if not isinstance(v, list | tuple))
    block = ""
    if scalars:
        block = ("VALUES (" + " ".join("?" + n for n in scalars) + ") { ("
                 + " ".join(str(bindings[n]) for n in scalars) + ") } ")
    lists = "".join(f"VALUES ?{name} {{ " + " ".join(str(v) for v in bindings[name]) + " } "
                    for name in sorted(set(bindings) - set(scalars)))
    at = _where_opens(query)
    if not lists:
        return query[:at] + " " + block + query[at:].lstrip()
    # Lists of values are joined with the whole WHERE group, made a group of its own:
    # Virtuoso 7 ignores a VALUES block of several rows that opens a group holding UNIONs.
    end = _where_closes(query)
    return (query[:at] + " " + lists + "{ " + block + query[at:end].strip() + " } "
            + query[end:])


@lru_cache(maxsize=256)
def _where_closes(query: str) -> int:
    """Where the "}" that closes the WHERE clause starts in `query`."""
    opens = _where_opens(query)
    depth = 1
    for match in _TOKEN.finditer(query, opens):
        if match.lastgroup in ("ws", "comment"):
            continue
        if match.group() == "{":
            depth += 1
        elif match.group() == "}":
            depth -= 1
            if depth == 0:
                return match.start()
    raise ValueError("the WHERE clause is not closed")


@lru_cache(maxsize=256)
def _where_opens(query: str) -> int:
    """Where the WHERE clause's "{" ends in `query` (pure; the same few named queries are
    bound on every page, and lexing one took half a millisecond)."""
    tokens = [(m.lastgroup, m.group(), m.end()) for m in _TOKEN.finditer(query)
              if m.lastgroup not in ("ws", "comment")]
    form_at = next(i for i, (kind, value, _) in enumerate(tokens)
                   if kind == "word" and value.upper() in QUERY_FORMS)
    i = form_at + 1
    if tokens[form_at][1].upper() == "CONSTRUCT":
        if tokens[i][0] == "word" and tokens[i][1].upper() == "WHERE":
            i += 1
        else:
            depth = 0
            while True:  # skip the template
                if tokens[i][1] == "{":
                    depth += 1
                elif tokens[i][1] == "}":
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                i += 1
    while tokens[i][1] != "{":
        i += 1
    return tokens[i][2]
