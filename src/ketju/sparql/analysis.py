"""Read a user's SPARQL text before it runs: its form, its size and where it would call out.

Oxigraph sends an HTTP request for every `SERVICE <url>` (and `SERVICE SILENT`), so a public
endpoint must refuse them before evaluation. This lexer finds every SERVICE keyword outside
strings, IRIs and comments, after decoding `\\u` escapes (SPARQL decodes them before parsing, so
`\\u0053ERVICE` is a SERVICE too), and resolves its target.

>>> analyse("PREFIX e: <http://x/> SELECT * { SERVICE e:s { ?a ?b ?c } }").services
('http://x/s',)
>>> analyse("ask { } # SERVICE <http://nowhere/>").form
'ASK'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                   "WITH")

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
               |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w]+)
  | (?P<pname>(?:[A-Za-z_][\w.-]*)?:(?:[\w:%-]|\\.)(?:[\w.:%-]|\\.)*|(?:[A-Za-z_][\w.-]*)?:)
  | (?P<word>[A-Za-z_][\w-]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class QueryRefused(ValueError):
    """The query may not run here; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class QueryShape:
    """What the lexer learnt: the form and the SERVICE targets (None for a variable)."""

    form: str | None
    services: tuple[str | None, ...]


def decode_escapes(text: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def analyse(query: str) -> QueryShape:
    text = decode_escapes(query)
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text)
              if m.lastgroup not in ("ws", "comment")]
    prefixes: dict[str, str] = {}
    base = ""
    form: str | None = None
    services: list[str | None] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        upper = value.upper() if kind == "word" else ""
        if form is None and upper == "PREFIX" and i + 2 < len(tokens):
            prefixes[tokens[i + 1][1].rstrip(":")] = tokens[i + 2][1][1:-1]
            i += 3
            continue
        if form is None and upper == "BASE" and i + 1 < len(tokens):
            base = urljoin(base, tokens[i + 1][1][1:-1])
            i += 2
            continue
        if form is None and upper in QUERY_FORMS:
            form = upper
        elif form is None and upper in UPDATE_KEYWORDS:
            form = "UPDATE"
        if upper == "SERVICE":
            j = i + 1
            if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1].upper() == "SILENT":
                j += 1
            target_kind, target = tokens[j] if j < len(tokens) else ("other", "")
            if target_kind == "iri":
                services.append(urljoin(base, target[1:-1]))
            elif target_kind == "pname":
                prefix, _, local = target.partition(":")
                namespace = prefixes.get(prefix)
                services.append(None if namespace is None else urljoin(base, namespace + local))
            else:
                services.append(None)
        i += 1
    return QueryShape(form, tuple(services))


def check_query(query: str, allowed_hosts: tuple[str, ...], max_bytes: int) -> QueryShape:
    """Refuse what must not run: too long, an update, or a SERVICE to a host not allowed."""
    size = len(query.encode("utf-8"))
    if size > max_bytes:
        raise QueryRefused(413, f"The query is {size} bytes long; at most {max_bytes} are "
                                "accepted.")
    shape = analyse(query)
    if shape.form == "UPDATE":
        raise QueryRefused(403, "This endpoint is read-only: SPARQL updates are not accepted. "
                                "Data changes go through the repository (pull request, "
                                "validation, rebuild).")
    allowed = {h.lower() for h in allowed_hosts}
    for target in shape.services:
        host = (urlsplit(target).hostname or "") if target else ""
        if not target or host.lower() not in allowed:
            shown = target or "a variable"
            raise QueryRefused(400, f"SERVICE calls to {shown} are not allowed on this endpoint"
                                    + (f" (allowed hosts: {', '.join(sorted(allowed))})."
                                       if allowed else "; federated queries are switched off."))
    return shape


def bind_values(query: str, bindings: Mapping[str, Any]) -> str:
    r"""Bind variables with a VALUES block opening the WHERE clause (for engines without
    parameter binding, and for lists of values). Terms are written by pyoxigraph in N-Triples
    syntax, so quotes and braces in a value stay inside its literal.

    >>> import pyoxigraph as ox
    >>> print(bind_values("SELECT ?x WHERE { ?x ?p ?v }", {"v": ox.Literal('a" } UNION { "b')}))
    SELECT ?x WHERE { VALUES (?v) { ("a\" } UNION { \"b") } ?x ?p ?v }
    """
    if not bindings:
        return query
    scalars = sorted(k for k, v in bindings.items() if not isinstance(v, list | tuple))
    block = ""
    if scalars:
        block = ("VALUES (" + " ".join("?" + n for n in scalars) + ") { ("
                 + " ".join(str(bindings[n]) for n in scalars) + ") } ")
    for name in sorted(set(bindings) - set(scalars)):
        block += f"VALUES ?{name} {{ " + " ".join(str(v) for v in bindings[name]) + " } "
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
    at = tokens[i][2]
    return query[:at] + " " + block + query[at:].lstrip()
