"""Access to the catalogue's data for ketju's own queries (pages, API, feeds).

Two implementations of one interface, `Catalogue`:
- `EmbeddedCatalogue` reads one on-disk store built by `ketju build` (one build: a rebuild is a
  new store folder, and `SnapshotSource` in ketju.infra.snapshot opens it when `var/store`
  points at it; handles already open keep their build, so nothing breaks mid-request);
- `RemoteCatalogue` sends the same queries to a SPARQL 1.1 engine.

Queries see the union of all graphs as their default graph: every source file is a named graph,
and users should not need to know which file holds a statement. That choice is made here, once.
Parameters are bound (pyoxigraph substitutions, or a VALUES block for a remote engine), never
pasted into query text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pyoxigraph as ox

from ketju.core.project import Project
from ketju.core.queries import VALUES_MARKER
from ketju.infra.remote import EngineClient, engine_message
from ketju.infra.remote import EngineUnavailable as EngineUnavailable
from ketju.infra.sparql.analysis import bind_values
from ketju.infra.sparql.engines import normalise_rows, normalise_triple, readable_results

log = logging.getLogger("ketju.store")
T = TypeVar("T")

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
        return rows_of(solutions)

    def __len__(self) -> int:
        return len(self.store)


def rows_of(solutions: ox.QuerySolutions) -> list[Row]:
    """The rows of a SELECT answer as {variable: term}, unbound variables left out.

    A solution is read once, in order (`zip` over it), rather than looked up by name twice per
    variable: this conversion was a sixth of an entity page's time.
    """
    names = [v.value for v in solutions.variables]
    return [{n: t for n, t in zip(names, s, strict=True) if t is not None} for s in solutions]


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

    def build_info(self) -> dict[str, Any]:
        """Which build the data is: store, commit, built_at, triples (never waits)."""
        ...


class EmbeddedCatalogue:
    """One built store on disk, read-only: the data of one embedded snapshot."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = ox.Store.read_only(str(path))
        self._graph_counts: list[tuple[str, int]] | None = None

    @classmethod
    def open(cls, project: Project) -> EmbeddedCatalogue:
        """The store `var/store` points at now."""
        link = project.store_link
        if not link.exists():
            raise StoreMissing(f"no store at {link}; run `ketju build` first")
        return cls(link.resolve())

    def version(self) -> str:
        return self.path.name

    def build_info(self) -> dict[str, Any]:
        """Which build this is (store, commit, time, triples), from its manifest."""
        return read_build_info(self.path)

    def _query(self, query: str, bindings: Mapping[str, Binding] | None) -> object:
        # Single values are substituted by pyoxigraph; lists go in a VALUES block, and so
        # does everything for a query that asks for it (see queries.VALUES_MARKER).
        as_values = VALUES_MARKER in query
        lists = {k: v for k, v in (bindings or {}).items() if as_values or isinstance(v, list)}
        bound = {ox.Variable(k): v for k, v in (bindings or {}).items() if k not in lists}
        return self.store.query(bind_values(query, lists), use_default_graph_as_union=True,
                                substitutions=bound)

    def select(self, query: str, bindings: Mapping[str, Binding] | None = None) -> list[Row]:
        solutions = self._query(query, bindings)
        assert isinstance(solutions, ox.QuerySolutions)
        return rows_of(solutions)

    def construct(self, query: str,
                  bindings: Mapping[str, Binding] | None = None) -> list[ox.Triple]:
        triples = self._query(query, bindings)
        assert isinstance(triples, ox.QueryTriples)
        return list(triples)

    def ask(self, query: str, bindings: Mapping[str, Binding] | None = None) -> bool:
        return bool(self._query(query, bindings))

    def graph_exists(self, graph: str) -> bool:
        return self.store.contains_named_graph(ox.NamedNode(graph))

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        store = self.store
        if graph is None:
            result = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                 use_default_graph_as_union=True)
            assert isinstance(result, ox.QueryTriples)
            return list(result)
        return [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))]

    def named_graphs(self) -> list[tuple[str, int]]:
        """The graphs and their sizes, counted once (the store never changes)."""
        if self._graph_counts is None:
            rows = self.store.query(_GRAPHS_QUERY)
            assert isinstance(rows, ox.QuerySolutions)
            self._graph_counts = [(row["g"].value, int(row["n"].value)) for row in rows]
        return self._graph_counts


#: The manifest `ketju build` writes into every store folder (time, size, commit, steps).
MANIFEST = "build.json"


def read_build_info(folder: Path) -> dict[str, Any]:
    """Which build a store folder holds: store (the folder's name), commit, built_at, triples
    (None where its manifest does not say, or there is no manifest)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        manifest = {}
    if not isinstance(manifest, dict):
        manifest = {}
    return {"store": folder.name, "commit": manifest.get("commit"),
            "built_at": manifest.get("built_at"), "triples": manifest.get("triples")}


#: The build's description in the data (what `ketju build` adds): time, size, commit.
_BUILD_QUERY = """
    SELECT ?time ?triples ?commit WHERE {
      <https://w3id.org/ketju/build> <http://www.w3.org/ns/prov#endedAtTime> ?time .
      OPTIONAL { <https://w3id.org/ketju/build> <http://rdfs.org/ns/void#triples> ?triples }
      OPTIONAL { <https://w3id.org/ketju/build> <https://w3id.org/ketju/ontology#commit>
                 ?commit } } LIMIT 1"""
_GRAPHS_QUERY = ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g "
                 "ORDER BY ?g")


@dataclass(frozen=True)
class _Known:
    """What is known of the engine's data: its version, its build, its graphs (None until
    counted). Replaced as a whole, so readers never see a mix of two builds."""

    version: str
    build: dict[str, Any]
    graphs: list[tuple[str, int]] | None


class RemoteCatalogue:
    """The same queries against a remote SPARQL 1.1 engine (union default graph), its
    answers read as the embedded store gives them (`ketju.infra.sparql.engines`).

    Every call has a total deadline (`timeout`), and at most `connections` threads wait for
    the engine at once: the server's threads are shared with every route, so a hung engine
    must not take them all. When a call finds the engine not answering or unreachable, later
    calls fail at once with the same status until a check in the background (a cheap query,
    at once, then every `RETRY_SECONDS`) finds it well again; no request waits on an engine
    known to be down. Which build the engine holds (the version used for ETags and caches)
    is re-read in the background too, so `version()` and `build_info()` never wait for it.
    """

    #: How old the known build may get before it is re-read (in the background).
    RECHECK_SECONDS = 5.0
    #: How long after a failure the engine is checked again.
    RETRY_SECONDS = 2.0
    #: A call waits for one of the `connections` while other calls finish; when none has
    #: finished for this long (the engine is stuck), it is refused with 503 at once.
    STALL_SECONDS = 0.25

    def __init__(self, endpoint: str, timeout: float = 30.0, connections: int = 16) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self._engine = EngineClient(connections + 1)  # and one for the background check
        self._slots = threading.BoundedSemaphore(connections)
        self._released = time.monotonic()
        self._known = _Known("remote", {}, None)
        self._lock = threading.Lock()
        self._checking = False
        self._checked = -math.inf
        self._closed = False
        #: Set once the first check is over (whatever it found).
        self.ready = threading.Event()
        #: ok, unknown (not asked yet), timeout, unreachable or failing.
        self.state = "unknown"
        self._state_at = time.monotonic()
        #: The failure calls are refused with while the engine is down, and when to retry.
        self._down: EngineUnavailable | None = None
        self._retry_at = 0.0

    # -- calls ------------------------------------------------------------------------------

    def _post(self, query: str, accept: str, check: bool = False, trip: bool = True) -> bytes:
        """The engine's answer to one query. The background check (`check=True`) is the one
        call let through while the engine is down, and needs no slot (there is one check).
        A call with `trip=False` does not mark the engine down when it fails."""
        if not check:
            self._refuse_if_down()
            self._take_slot()
        try:
            answer = self._engine.post(self.endpoint, [("query", query)], accept, self.timeout)
        except EngineUnavailable as failed:
            if trip:
                self._failed(failed, check)
            raise
        finally:
            if not check:
                self._released = time.monotonic()
                self._slots.release()
        if answer.status >= 400:
            self._note("failing" if answer.status >= 500 else "ok")
            raise EngineUnavailable(502, f"The SPARQL engine refused ketju's query (status "
                                         f"{answer.status}): {engine_message(answer)}")
        self._note("ok")
        return answer.body

    def _take_slot(self) -> None:
        """One of the `connections`, waiting as long as calls keep finishing (a busy engine
        that answers), at most the deadline; refused at once when none has finished for
        STALL_SECONDS (a stuck engine would otherwise hold every waiting thread)."""
        give_up = time.monotonic() + self.timeout
        while not self._slots.acquire(timeout=0.05):
            now = time.monotonic()
            if now - self._released > self.STALL_SECONDS or now > give_up:
                raise EngineUnavailable(503, "Too many requests are waiting for the SPARQL "
                                             "engine; try again in a moment.", retry_after=2)

    def _refuse_if_down(self) -> None:
        down = self._down
        if down is None:
            return
        self.check_soon()
        wait = max(1, math.ceil(self._retry_at - time.monotonic()))
        raise EngineUnavailable(down.status, down.message, retry_after=wait, state=down.state)

    def _failed(self, failed: EngineUnavailable, check: bool) -> None:
        if failed.status in (502, 504):
            # Not answering or unreachable: no more calls until a check finds it well. The
            # first check runs at once (one slow query or one reset connection costs little);
            # after a failed check, the next waits RETRY_SECONDS.
            with self._lock:
                self._down = failed
                self._retry_at = time.monotonic() + (self.RETRY_SECONDS if check else 0.0)
            self.check_soon()
        self._note(failed.state)

    def _note(self, state: str) -> None:
        self.state, self._state_at = state, time.monotonic()
        if state == "ok":
            self._down = None

    def _parse(self, read: Callable[[], T]) -> T:
        """An answer read, or a 502 when it is not what was asked for (cut off by the engine's
        own time limit, or not SPARQL at all)."""
        try:
            return read()
        except (SyntaxError, ValueError) as error:
            log.warning("SPARQL engine %s: unreadable answer: %s", self.endpoint, error)
            raise EngineUnavailable(502, "The SPARQL engine's answer could not be read (it may "
                                         "have been cut off by the engine).") from None

    def select(self, query: str, bindings: Mapping[str, Binding] | None = None,
               check: bool = False, trip: bool = True) -> list[Row]:
        body = self._post(bind_values(query, bindings or {}), "application/sparql-results+json",
                          check, trip)

        def read() -> list[Row]:
            results = ox.parse_query_results(readable_results(body),
                                             format=ox.QueryResultsFormat.JSON)
            if not isinstance(results, ox.QuerySolutions):
                raise ValueError("not a results table")
            return normalise_rows(rows_of(results), query)

        return self._parse(read)

    def construct(self, query: str,
                  bindings: Mapping[str, Binding] | None = None) -> list[ox.Triple]:
        body = self._post(bind_values(query, bindings or {}), "application/n-triples")
        return self._parse(lambda: [normalise_triple(q.triple) for q in ox.parse(
            body, format=ox.RdfFormat.N_TRIPLES)])

    def ask(self, query: str, bindings: Mapping[str, Binding] | None = None) -> bool:
        body = self._post(bind_values(query, bindings or {}), "application/sparql-results+json")
        return self._parse(lambda: bool(ox.parse_query_results(
            body, format=ox.QueryResultsFormat.JSON)))

    def graph_exists(self, graph: str) -> bool:
        return self.ask("ASK { GRAPH ?g { ?s ?p ?o } }", {"g": ox.NamedNode(graph)})

    def graph_triples(self, graph: str | None) -> list[ox.Triple]:
        if graph is None:
            return self.construct("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        return self.construct("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
                              {"g": ox.NamedNode(graph)})

    def named_graphs(self) -> list[tuple[str, int]]:
        """The graphs and their sizes, counted once per build. Called from the event loop
        (the service description) it answers only from what is known: 503 until counted."""
        known = self._known
        self._check_if_stale()
        if known.graphs is not None:
            return known.graphs
        if _on_event_loop():
            self._refuse_if_down()
            self.check_soon()
            raise EngineUnavailable(503, "The SPARQL engine's graphs are not counted yet; try "
                                         "again in a moment.", retry_after=2)
        graphs = self._count_graphs()
        with self._lock:
            if self._known.version == known.version:
                self._known = _Known(known.version, known.build, graphs)
        return graphs

    def _count_graphs(self, check: bool = False) -> list[tuple[str, int]]:
        # A count that outlasts the deadline says the store is large, not that the engine
        # is down: it does not stop other calls.
        rows = self.select(_GRAPHS_QUERY, check=check, trip=False)
        return [(row["g"].value, int(row["n"].value)) for row in rows]

    # -- what the engine holds, checked in the background ---------------------------------

    def version(self) -> str:
        """The build the remote engine holds, as last checked (never waits for the engine)."""
        self._check_if_stale()
        return self._known.version

    def build_info(self) -> dict[str, Any]:
        """Which build the engine holds (time, triples, commit), as last checked."""
        self._check_if_stale()
        return {"store": "remote", "commit": None, "built_at": None, "triples": None,
                **self._known.build}

    def engine_status(self) -> dict[str, Any]:
        """For /healthz: how the engine was at the last call, and how long ago that was."""
        return {"engine": self.state,
                "engine_checked_s_ago": round(time.monotonic() - self._state_at, 1)}

    def _check_if_stale(self) -> None:
        if time.monotonic() - self._checked > self.RECHECK_SECONDS:
            self.check_soon()

    def check_soon(self) -> None:
        """Start the background check unless it is running (one thread at a time)."""
        with self._lock:
            if self._checking or self._closed:
                return
            self._checking = True
        threading.Thread(target=self._check_loop, name="sparql-engine-check",
                         daemon=True).start()

    def _check_loop(self) -> None:
        try:
            while not self._closed:
                if self._down is not None:
                    time.sleep(max(0.0, self._retry_at - time.monotonic()))
                    if self._closed:
                        return
                with contextlib.suppress(EngineUnavailable):
                    self._check()
                self._checked = time.monotonic()
                self.ready.set()
                if self._down is None:
                    return
                with self._lock:  # still down (even by an error status): not at once again
                    self._retry_at = max(self._retry_at,
                                         time.monotonic() + self.RETRY_SECONDS)
        finally:
            self.ready.set()  # whatever happened, start-up does not wait for it any longer
            with self._lock:
                self._checking = False

    def _check(self) -> None:
        rows = self.select(_BUILD_QUERY, check=True)
        row = rows[0] if rows else {}
        triples = row["triples"].value if "triples" in row else ""
        build = {"commit": row["commit"].value if "commit" in row else None,
                 "built_at": _iso_time(row["time"].value) if "time" in row else None,
                 "triples": int(triples) if triples.isdigit() else None}
        version = build["built_at"] or "remote"
        known = self._known
        if version != known.version or known.graphs is None:
            # Counted before the new version is published, so a version comes with its
            # graphs; a count that fails (a slow engine) is left to the next caller.
            try:
                graphs: list[tuple[str, int]] | None = self._count_graphs(check=True)
            except EngineUnavailable:
                graphs = None
            with self._lock:
                self._known = _Known(version, build, graphs)
        elif build != known.build:
            with self._lock:
                self._known = _Known(version, build, known.graphs)

    def close(self) -> None:
        self._closed = True
        self._engine.close()


def _iso_time(value: str) -> str:
    """A build time as the build's manifest writes it (`+00:00`, where engines write `Z`)."""
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def graph_names(catalogue: Catalogue) -> Sequence[str]:
    return [name for name, _ in catalogue.named_graphs()]
