"""Read access to the built store (the embedded Oxigraph store on disk).

Queries see the union of all loaded graphs as their default graph: every source file is its own
named graph, and users should not have to know which file holds a statement. That choice is
made here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

from ketju.project import Project

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class StoreMissing(FileNotFoundError):
    """No store has been built yet."""


class CatalogueStore:
    """A read-only snapshot of a built store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = ox.Store.read_only(str(path))

    @classmethod
    def open(cls, project: Project) -> CatalogueStore:
        link = project.store_link
        if not link.exists():
            raise StoreMissing(f"no store at {link}; run `ketju build` first")
        return cls(link.resolve())

    def select(
        self, query: str, substitutions: Mapping[str, Term] | None = None
    ) -> list[dict[str, Term]]:
        """Run a SELECT with bound parameters; rows as {variable: term}, unbound left out."""
        bound = {ox.Variable(k): v for k, v in (substitutions or {}).items()}
        solutions = self.store.query(query, use_default_graph_as_union=True, substitutions=bound)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        rows = []
        for solution in solutions:
            rows.append({n: solution[n] for n in names if solution[n] is not None})
        return rows

    def __len__(self) -> int:
        return len(self.store)
