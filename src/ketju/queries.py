"""Named SPARQL queries: `queries/*.rq` files with a header that declares their parameters.

The header is YAML in `#+` comment lines, after grlc's decorator convention:

    #+ name: chains-by-region
    #+ summary: The service chains of one region.
    #+ params:
    #+   region: {type: iri, required: true, example: "https://w3id.org/ketju/vocab/region/x"}

Parameter types: iri, string, lang (a language tag), integer, enum (with `values`), list (of
IRIs). Values are checked against their type and then bound to the query variable of the same
name (never pasted into the text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PARAM_TYPES = ("iri", "string", "lang", "integer", "enum", "list")
#: A line of its own where paging goes (e.g. inside a subquery); else it goes at the end.
PAGE_MARKER = "# PAGE"


class QueryFileError(ValueError):
    """A query file's header is missing or wrong."""


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

    @property
    def body(self) -> str:
        """The query without its `#+` header."""
        return "\n".join(line for line in self.text.splitlines() if not line.startswith("#+"))

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
    return NamedQuery(
        name=meta["name"], summary=str(meta["summary"]), text=text, path=path,
        description=str(meta.get("description", "")), params=tuple(params),
        tags=tuple(meta.get("tags", ())),
    )


def load_queries(folder: Path) -> dict[str, NamedQuery]:
    return {q.name: q for q in (parse_query_file(p) for p in sorted(folder.glob("*.rq")))}
