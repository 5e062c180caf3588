"""Named SPARQL queries: `queries/*.rq` files with a header that declares their parameters.

The header is YAML in `#+` comment lines, after grlc's decorator convention:

    #+ name: chains-by-region
    #+ summary: The service chains of one region.
    #+ params:
    #+   region: {type: iri, required: true, example: "https://w3id.org/ketju/vocab/region/x"}

Parameter types: iri, string, lang (a language tag), integer, enum (with `values`), list (of
IRIs), date (YYYY-MM-DD, bound as an xsd:date). Values are checked against their type and
then bound to the query variable of the same name (never pasted into the text): single values
by pyoxigraph's substitutions, lists (and every value of a query with a `# BIND AS VALUES`
line) by a VALUES block of typed terms.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

PARAM_TYPES = ("iri", "string", "lang", "integer", "enum", "list", "date")
#: A line of its own where paging goes (e.g. inside a subquery); else it goes at the end.
PAGE_MARKER = "# PAGE"
#: A line of its own asking for every parameter to be bound by a VALUES block opening the
#: WHERE clause. Oxigraph applies substituted values after planning the joins, which is right
#: for a parameter inside nested groups but scans the store when the parameter is what
#: narrows a flat pattern (a region's chains); with VALUES the plan starts from the value.
VALUES_MARKER = "# BIND AS VALUES"


XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
#: Longest string parameter value, in characters.
MAX_STRING = 500
#: Longest IRI parameter value, in characters (an IRI longer than any the catalogue holds;
#: the same cap holds for every IRI a route accepts: API filters, /resource, compare).
MAX_IRI_CHARS = 2000
#: Longest language tag (BCP 47 tags in use are far shorter).
MAX_LANG_CHARS = 35
MAX_LIST = 100


class QueryFileError(ValueError):
    """A query file's header is missing or wrong."""


class ParameterError(ValueError):
    """A parameter value does not fit its declared type; the message says why."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    example: Any = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NamedQuery:
    name: str
    summary: str
    text: str
    path: Path
    description: str = ""
    params: tuple[Param, ...] = field(default_factory=tuple)
    tags: tuple[str, ...] = ()
    #: Parameters of which at least one must be given (`#+ one_of: [a, b]`): a query that
    #: would otherwise read a whole national-scale data set (observations) per request.
    one_of: tuple[str, ...] = ()

    @property
    def body(self) -> str:
        """The query without its `#+` header."""
        return "\n".join(line for line in self.text.splitlines() if not line.startswith("#+"))

    def bindings(self, raw: Mapping[str, str | list[str]]) -> dict[str, Any]:
        """Typed terms for the declared parameters from raw text values (defaults applied).

        Unknown parameter names and values that do not fit their type raise ParameterError;
        nothing of a value ever becomes query text.
        """
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(raw) - set(declared))
        if unknown:
            raise ParameterError(f"Unknown parameter(s) {', '.join(unknown)}; "
                                 f"{self.name} takes {', '.join(declared) or 'none'}.")
        bound: dict[str, Any] = {}
        for param in self.params:
            value = raw.get(param.name, param.default)
            if value is None or value == "" or value == []:
                if param.required:
                    raise ParameterError(f"Parameter {param.name} is required: "
                                         f"{param.description}")
                continue
            bound[param.name] = to_term(param, value)
        if self.one_of and not any(name in bound for name in self.one_of):
            raise ParameterError(f"Give at least one of {', '.join(self.one_of)}.")
        return bound

    def page(self, limit: int, offset: int = 0) -> str:
        """The query with LIMIT and OFFSET where its `# PAGE` line is (else at the end).

        Both are whole numbers checked here, so nothing but digits enters the text.
        """
        clause = f"LIMIT {int(limit)} OFFSET {int(offset)}"
        lines = self.body.splitlines()
        if PAGE_MARKER in (line.strip() for line in lines):
            return "\n".join(clause if line.strip() == PAGE_MARKER else line for line in lines)
        return self.body + "\n" + clause


def parse_query_file(path: Path) -> NamedQuery:
    text = path.read_text(encoding="utf-8")
    header = "\n".join(line[2:].removeprefix(" ") for line in text.splitlines()
                       if line.startswith("#+"))
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as error:
        raise QueryFileError(f"{path.name}: the #+ header is not valid YAML: {error}") from None
    if not isinstance(meta, dict) or "name" not in meta or "summary" not in meta:
        raise QueryFileError(f"{path.name}: the #+ header needs at least name and summary")
    if meta["name"] != path.stem:
        raise QueryFileError(f"{path.name}: name '{meta['name']}' differs from the file name")
    one_of = tuple(str(n) for n in meta.get("one_of") or ())
    if unknown := set(one_of) - set(meta.get("params") or {}):
        raise QueryFileError(f"{path.name}: one_of names undeclared {', '.join(sorted(unknown))}")
    params = []
    for name, spec in (meta.get("params") or {}).items():
        spec = spec or {}
        kind = spec.get("type", "string")
        if kind not in PARAM_TYPES:
            raise QueryFileError(f"{path.name}: parameter {name} has unknown type {kind}")
        if kind == "enum" and not spec.get("values"):
            raise QueryFileError(f"{path.name}: enum parameter {name} needs values")
        params.append(Param(
            name=name, type=kind, description=str(spec.get("description", "")),
            required=bool(spec.get("required", False)), default=spec.get("default"),
            example=spec.get("example", spec.get("default")),
            values=tuple(str(v) for v in spec.get("values", ())),
        ))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    as_values = VALUES_MARKER in (line.strip() for line in text.splitlines())
    for param in params:
        # pyoxigraph binds substituted parameters after evaluation for BIND and BOUND: a query
        # that relies on them would silently ignore the parameter (found the hard way). Bound
        # as VALUES they are ordinary bindings, and BOUND(?optionalParameter) is the cheap way
        # to skip a filter (an EXISTS behind COALESCE is planned for the whole store).
        late = re.search(rf"BIND\s*\(\s*[?$]{param.name}\s+AS", body, re.IGNORECASE) or \
            re.search(rf"BOUND\s*\(\s*[?$]{param.name}\s*\)", body, re.IGNORECASE)
        if late and not as_values:
            raise QueryFileError(f"{path.name}: parameter {param.name} is used in BIND or "
                                 "BOUND, which bound parameters do not reach; use it in a "
                                 "triple pattern, FILTER or EXISTS instead")
    return NamedQuery(
        name=meta["name"], summary=str(meta["summary"]), text=text, path=path,
        description=str(meta.get("description", "")), params=tuple(params),
        tags=tuple(meta.get("tags", ())), one_of=one_of,
    )


def load_queries(folder: Path) -> dict[str, NamedQuery]:
    return {q.name: q for q in (parse_query_file(p) for p in sorted(folder.glob("*.rq")))}


def _iri(name: str, text: str) -> ox.NamedNode:
    if len(text) > MAX_IRI_CHARS:
        raise ParameterError(f"Parameter {name} is longer than {MAX_IRI_CHARS} characters.")
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text):
        raise ParameterError(f"Parameter {name} must be an absolute IRI, not '{text[:80]}'.")
    try:
        return ox.NamedNode(text)
    except ValueError as error:
        raise ParameterError(f"Parameter {name} is not a valid IRI: {error}.") from None


def to_term(param: Param, value: Any) -> Any:
    """One parameter value as a pyoxigraph term (or a list of terms for `list`)."""
    if param.type == "list":
        items = value if isinstance(value, list) else str(value).split(",")
        items = [str(i).strip() for i in items if str(i).strip()]
        if len(items) > MAX_LIST:
            raise ParameterError(f"Parameter {param.name} takes at most {MAX_LIST} values.")
        return [_iri(param.name, item) for item in items]
    if isinstance(value, list):
        if len(value) != 1:
            raise ParameterError(f"Parameter {param.name} takes one value.")
        value = value[0]
    text = str(value)
    if param.type == "iri":
        return _iri(param.name, text)
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d{1,12}", text.strip()):
            raise ParameterError(f"Parameter {param.name} must be a whole number.")
        return ox.Literal(str(int(text)), datatype=XSD_INTEGER)
    if param.type == "date":
        try:
            day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
        except ValueError:
            day = None
        if day is None:
            raise ParameterError(f"Parameter {param.name} must be a date such as 2025-04-01.")
        return ox.Literal(day.isoformat(), datatype=XSD_DATE)
    if param.type == "lang":
        if len(text) > MAX_LANG_CHARS or not LANGUAGE_TAG.match(text):
            raise ParameterError(f"Parameter {param.name} must be a language tag such as fi.")
        return ox.Literal(text.lower())
    if param.type == "enum":
        if text not in param.values:
            raise ParameterError(f"Parameter {param.name} must be one of "
                                 f"{', '.join(param.values)}.")
        return _iri(param.name, text) if ":" in text else ox.Literal(text)
    if len(text) > MAX_STRING:
        raise ParameterError(f"Parameter {param.name} is longer than {MAX_STRING} characters.")
    return ox.Literal(text)


def example_values(query: NamedQuery) -> dict[str, Any]:
    """The declared examples (or defaults) of a query's parameters."""
    values: dict[str, Any] = {}
    for param in query.params:
        example = param.example if param.example is not None else param.default
        if example is not None:
            values[param.name] = example if isinstance(example, list) else str(example)
    return values
