"""Access to the catalogue's data for ketju's own queries (pages, API, feeds).

Two implementations of one interface, `Catalogue`:
- `EmbeddedCatalogue` reads the on-disk store built by `ketju build` and follows rebuilds: when
  `var/store` points at a new store it opens that one (handles already open keep their
  snapshot, so nothing breaks mid-request);
- `RemoteCatalogue` sends the same queries to a SPARQL 1.1 engine.

Queries see the union of all graphs as their default graph: every source file is a named graph,
and users should not need to know which file holds a statement. That choice is made here, once.
Parameters are bound (pyoxigraph substitutions, or a VALUES block for a remote engine), never
pasted into query text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import httpx
import pyoxigraph as ox

from ketju.project import Project
from ketju.queries import VALUES_MARKER
from ketju.sparql.analysis import bind_values

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Row = dict[str, Term]
#: A parameter value: one term, or a list of terms (bound with a VALUES block).
Binding = Term | list[Term]


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

    def select(self, query: str, substitutions: Mapping[str, Term] | None = None) -> list[Row]:
        """Run a SELECT with bound parameters; rows as {variable: term}, unbound left out."""
        bound = {ox.Variable(k): v for k, v in (substitutions or {}).items()}
        solutions = self.store.query(query, use_default_graph_as_union=True, substitutions=bound)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    def __len__(self) -> int:
        return len(self.store)


class Catalogue(Protocol):
    """What ketju's own features need from the data, wherever it is stored."""

    def select(self, query: str, bindings: Mapping[str, Binding] | None = None) -> list[Row]: ...

    def construct(self, query: str,
                  bindings: Mapping[str, Binding] | None = None) -> list[ox.Triple]: ...

    def ask(self, query: str, bindings: Mapping[str, Binding] | None = None) -> bool: ...

    def graph_exists(self, graph: str) -> bool: ...

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        """The triples of a named graph, or of the (union) default graph when None."""
        ...

    def named_graphs(self) -> list[tuple[str, int]]: ...

    def version(self) -> str:
        """Changes whenever the data changes (used for ETags and caches)."""
        ...


class EmbeddedCatalogue:
    """The on-disk store, reopened when a rebuild swaps `var/store`."""

    CHECK_SECONDS = 1.0

    def __init__(self, project: Project) -> None:
        self.project = project
        self._lock = threading.Lock()
        self._checked = 0.0
        self._current = CatalogueStore.open(project)
        self._graph_counts: tuple[str, list[tuple[str, int]]] | None = None

    @property
    def current(self) -> CatalogueStore:
        now = time.monotonic()
        if now - self._checked > self.CHECK_SECONDS:
            self._checked = now
            target = self.project.store_link.resolve()
            if target != self._current.path and target.exists():
                with self._lock:
                    if target != self._current.path:
                        self._current = CatalogueStore(target)
        return self._current

    @property
    def path(self) -> Path:
        return self.current.path

    def version(self) -> str:
        return self.current.path.name

    def _query(self, query: str, bindings: Mapping[str, Binding] | None) -> object:
        # Single values are substituted by pyoxigraph; lists go in a VALUES block, and so
        # does everything for a query that asks for it (see queries.VALUES_MARKER).
        as_values = VALUES_MARKER in query
        lists = {k: v for k, v in (bindings or {}).items() if as_values or isinstance(v, list)}
        bound = {ox.Variable(k): v for k, v in (bindings or {}).items() if k not in lists}
        return self.current.store.query(bind_values(query, lists),
                                        use_default_graph_as_union=True, substitutions=bound)

    def select(self, query: str, bindings: Mapping[str, Binding] | None = None) -> list[Row]:
        solutions = self._query(query, bindings)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    def construct(self, query: str,
                  bindings: Mapping[str, Binding] | None = None) -> list[ox.Triple]:
        triples = self._query(query, bindings)
        assert isinstance(triples, ox.QueryTriples)
        return list(triples)

    def ask(self, query: str, bindings: Mapping[str, Binding] | None = None) -> bool:
        return bool(self._query(query, bindings))

    def graph_exists(self, graph: str) -> bool:
        return self.current.store.contains_named_graph(ox.NamedNode(graph))

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        store = self.current.store
        if graph is None:
            result = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                 use_default_graph_as_union=True)
            assert isinstance(result, ox.QueryTriples)
            return list(result)
        return [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def named_graphs(self) -> list[tuple[str, int]]:
        current = self.current
        if self._graph_counts is None or self._graph_counts[0] != current.path.name:
            rows = current.store.query(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g "
                "ORDER BY ?g")
            assert isinstance(rows, ox.QuerySolutions)
            counts = [(row["g"].value, int(row["n"].value)) for row in rows]
            self._graph_counts = (current.path.name, counts)
        return self._graph_counts[1]


class RemoteCatalogue:
    """The same queries against a remote SPARQL 1.1 engine (union default graph)."""

    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        self.endpoint = endpoint
        self.client = httpx.Client(timeout=timeout)
        self._version = ("", 0.0)

    def _post(self, query: str, accept: str) -> bytes:
        response = self.client.post(self.endpoint, data={"query": query},
                                    headers={"Accept": accept})
        response.raise_for_status()
        return response.content

    def select(self, query: str, bindings: Mapping[str, Binding] | None = None) -> list[Row]:
        body = self._post(bind_values(query, bindings or {}), "application/sparql-results+json")
        results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(results, ox.QuerySolutions)
        names = [v.value for v in results.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in results]

    def construct(self, query: str,
                  bindings: Mapping[str, Binding] | None = None) -> list[ox.Triple]:
        body = self._post(bind_values(query, bindings or {}), "application/n-triples")
        return [q.triple for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]

    def ask(self, query: str, bindings: Mapping[str, Binding] | None = None) -> bool:
        body = self._post(bind_values(query, bindings or {}), "application/sparql-results+json")
        return bool(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    def graph_exists(self, graph: str) -> bool:
        return self.ask("ASK { GRAPH ?g { ?s ?p ?o } }", {"g": ox.NamedNode(graph)})

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        if graph is None:
            return self.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return self.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
                              {"g": ox.NamedNode(graph)})

    def named_graphs(self) -> list[tuple[str, int]]:
        rows = self.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                           "GROUP BY ?g ORDER BY ?g")
        return [(row["g"].value, int(row["n"].value)) for row in rows]

    def version(self) -> str:
        """The build the remote engine holds, re-read at most every few seconds."""
        value, checked = self._version
        if time.monotonic() - checked > 5.0:
            rows = self.select("SELECT ?t WHERE { <https://w3id.org/ketju/build> "
                               "<http://www.w3.org/ns/prov#endedAtTime> ?t } LIMIT 1")
            value = rows[0]["t"].value if rows else "remote"
            self._version = (value, time.monotonic())
        return value


def graph_names(catalogue: Catalogue) -> Sequence[str]:
    return [name for name, _ in catalogue.named_graphs()]
