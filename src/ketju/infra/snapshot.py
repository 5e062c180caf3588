"""One build as served, and where the current one comes from.

A `Snapshot` is the one owner of per-build state (the role datasette's `Datasette` or
bioregistry's `Manager` play): the data of one store build, or of one data version of a remote
engine (`data`), the named queries, the build's files (`files`, None in remote mode: a
capability, not a type check), the answers kept for it (`cache`, a thread-safe LRU) and what is
made from it once (`kept`: the chain index, the search index, the JSON-LD context, ...).
Every domain function takes a Snapshot; nothing per-build lives anywhere else, so nothing needs
a version in its cache key: a new build is a new Snapshot, and the old one's caches go with it.

`SnapshotSource.current()` is the snapshot to answer from now. Embedded, it looks at
`var/store` at most once a second and swaps to a Snapshot of the new store when a rebuild
moved the link; remote, it makes a new Snapshot when the engine's data version changes (the
version is checked in the background by `RemoteCatalogue`). It never waits for the engine and
swaps atomically: a request keeps the snapshot it started with.

>>> cache = AnswerCache(entries=2)
>>> cache.put("a", 1); cache.put("b", 2); cache.get("a"); cache.put("c", 3)
1
>>> cache.get("b") is None, cache.get("a"), cache.get("c")
(True, 1, 3)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from ketju.core.project import Project
from ketju.core.queries import NamedQuery, load_queries
from ketju.infra.store import (
    Binding,
    Catalogue,
    EmbeddedCatalogue,
    RemoteCatalogue,
    Row,
    read_build_info,
)

T = TypeVar("T")
_MISSING: Any = object()

#: Answers kept per snapshot unless told otherwise (`--result-cache-entries`).
DEFAULT_ENTRIES = 2048
#: Most bytes of answers kept per snapshot; one answer may take at most a sixteenth of it.
DEFAULT_BYTES = 64 * 1024 * 1024


class AnswerCache:
    """A least-recently-used cache of answers, safe to use from many threads at once: every
    operation on the ordered dictionary holds one lock (a lookup that checks and then moves an
    entry would otherwise meet an eviction in between). At most `entries` answers (0 turns the
    cache off) and `max_bytes` of the sizes given with them."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, max_bytes: int = DEFAULT_BYTES) -> None:
        self.entries = entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The answer kept under `key` (now the most recently used), or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, size: int = 0) -> None:
        """Keep `value` (not None) under `key`; `size` counts towards `max_bytes`. Answers
        larger than a sixteenth of `max_bytes` are not kept."""
        if self.entries <= 0 or size > self.max_bytes // 16:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._items[key] = (value, size)
            self._size += size
            while len(self._items) > self.entries or self._size > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._size -= dropped

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


@dataclass(frozen=True)
class BuildFiles:
    """The folder of one store build and the files `ketju build` wrote into it beside the
    store: the manifest (build.json), the search index, the dataset statistics, the dumps, the
    LDES change stream and the CPSV-AP export (each feed module knows its own file names)."""

    folder: Path

    def file(self, *parts: str) -> Path | None:
        """A file of the build, when it is there (a store built by an older ketju may lack it)."""
        path = self.folder.joinpath(*parts)
        return path if path.is_file() else None

    def build_info(self) -> dict[str, Any]:
        """store, commit, built_at and triples, from the manifest."""
        return read_build_info(self.folder)


class Snapshot:
    """One build as served: the data of one store build (or of one data version of a remote
    engine), the named queries, the build's files, and the one cache of answers made from it.
    Every domain function takes a Snapshot; nothing per-build lives anywhere else."""

    def __init__(self, version: str, data: Catalogue, queries: Mapping[str, NamedQuery],
                 files: BuildFiles | None = None, cache_entries: int = DEFAULT_ENTRIES) -> None:
        #: The store folder's name, or the remote engine's build time.
        self.version = version
        #: select/construct/ask/graph_* over the data (embedded store or remote engine).
        self.data = data
        self.queries = queries
        #: The build folder; None in remote mode (no dumps, no change stream, no saved index).
        self.files = files
        #: Answers made from this build (pages, search, comparisons, API rows), LRU.
        self.cache = AnswerCache(cache_entries)
        self._kept: dict[Hashable, Any] = {}
        self._making: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    @classmethod
    def of_store(cls, catalogue: EmbeddedCatalogue, queries: Mapping[str, NamedQuery],
                 cache_entries: int = DEFAULT_ENTRIES) -> Snapshot:
        """The snapshot of one built store."""
        return cls(catalogue.version(), catalogue, queries, BuildFiles(catalogue.path),
                   cache_entries)

    def __repr__(self) -> str:
        mode = "remote" if self.files is None else str(self.files.folder)
        return f"<Snapshot {self.version} ({mode})>"

    # -- named queries ------------------------------------------------------------------------

    def select(self, name: str, /, **bindings: Binding) -> list[Row]:
        """Run the named SELECT query `name` with its parameters bound (never pasted)."""
        return self.data.select(self.queries[name].body, bindings)

    def construct(self, name: str, /, **bindings: Binding) -> list[ox.Triple]:
        """Run the named CONSTRUCT query `name` with its parameters bound."""
        return self.data.construct(self.queries[name].body, bindings)

    # -- what is made once per build ----------------------------------------------------------

    def kept(self, key: Hashable, make: Callable[[], T]) -> T:
        """What `make()` returns, made once for this snapshot and kept while it lives (not
        evicted: for what is made from the whole build, such as the chain index; answers go in
        `cache`). Threads asking for the same key meanwhile wait for the one being made; when
        `make` raises, nothing is kept and the next call tries again."""
        found = self._kept.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        try:
            with making:
                found = self._kept.get(key, _MISSING)
                if found is _MISSING:
                    found = make()
                    self._kept[key] = found
        finally:
            with self._lock:
                if self._making.get(key) is making:
                    del self._making[key]
        return found  # type: ignore[no-any-return]

    def has(self, key: Hashable) -> bool:
        """Whether `kept(key, ...)` has been made for this snapshot."""
        return key in self._kept

    def build_info(self) -> dict[str, Any]:
        """Which build is served: store, commit, built_at, triples. A build's own files are
        read once; a remote engine's build is the one last checked (in the background), so
        this never waits for the engine (/healthz and error pages call it from the event
        loop while the engine hangs)."""
        if self.files is None:
            return self.data.build_info()
        return dict(self.kept("build-info", self.files.build_info))


class SnapshotSource:
    """Where the current `Snapshot` comes from: the on-disk store (following rebuilds) or a
    remote engine (following its data version). `current()` never waits for the engine and
    swaps atomically (a lock only around the swap)."""

    #: How often (seconds) the embedded source looks whether `var/store` moved.
    CHECK_SECONDS = 1.0

    def __init__(self, queries: Mapping[str, NamedQuery], cache_entries: int = DEFAULT_ENTRIES,
                 *, project: Project | None = None,
                 engine: RemoteCatalogue | None = None) -> None:
        if (project is None) == (engine is None):
            raise ValueError("a snapshot source reads either a project's store or an engine")
        self.queries = queries
        self.cache_entries = cache_entries
        self.project = project
        #: The remote engine (remote mode), else None.
        self.engine = engine
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._current: Snapshot | None = None
        self._watchers: list[Callable[[Snapshot], None]] = []
        if project is not None:
            self._current = self._open(EmbeddedCatalogue.open(project))

    @classmethod
    def embedded(cls, project: Project, queries: Mapping[str, NamedQuery] | None = None,
                 cache_entries: int = DEFAULT_ENTRIES) -> SnapshotSource:
        """Snapshots of the store `ketju build` made for `project` (StoreMissing when there
        is none yet)."""
        if queries is None:
            queries = load_queries(project.queries_dir)
        return cls(queries, cache_entries, project=project)

    @classmethod
    def remote(cls, engine: RemoteCatalogue, queries: Mapping[str, NamedQuery],
               cache_entries: int = DEFAULT_ENTRIES) -> SnapshotSource:
        """Snapshots of a remote engine's data, one per data version."""
        return cls(queries, cache_entries, engine=engine)

    def watch(self, started: Callable[[Snapshot], None]) -> None:
        """Call `started(snapshot)` in a background thread for the snapshot served now and for
        every one swapped in later (the start-up work of a build, such as its chain index,
        then happens before its first visitor asks, not once per process)."""
        self._watchers.append(started)
        current = self._current
        if current is not None:
            self._started(current, [started])

    def _started(self, snapshot: Snapshot,
                 watchers: list[Callable[[Snapshot], None]] | None = None) -> None:
        for started in watchers if watchers is not None else list(self._watchers):
            threading.Thread(target=started, args=(snapshot,), name="snapshot-started",
                             daemon=True).start()

    def _open(self, catalogue: EmbeddedCatalogue) -> Snapshot:
        return Snapshot.of_store(catalogue, self.queries, self.cache_entries)

    def current(self) -> Snapshot:
        """The snapshot to answer from now."""
        if self.engine is not None:
            return self._current_remote(self.engine)
        return self._current_embedded()

    def _current_embedded(self) -> Snapshot:
        current = self._current
        assert current is not None and current.files is not None and self.project is not None
        now = time.monotonic()
        if now - self._checked <= self.CHECK_SECONDS:
            return current
        self._checked = now
        target = self.project.store_link.resolve()
        if target == current.files.folder or not target.exists():
            return current
        try:
            fresh = self._open(EmbeddedCatalogue(target))
        except OSError:  # half gone (an old build being removed): keep serving this one
            return current
        with self._lock:
            latest = self._current
            assert latest is not None and latest.files is not None
            swapped = latest.files.folder != target
            if swapped:
                self._current = latest = fresh
        if swapped:
            self._started(fresh)
        return latest

    def _current_remote(self, engine: RemoteCatalogue) -> Snapshot:
        version = engine.version()
        current = self._current
        if current is not None and current.version == version:
            return current
        with self._lock:
            fresh = None
            if self._current is None or self._current.version != version:
                self._current = fresh = Snapshot(version, engine, self.queries, None,
                                                 self.cache_entries)
            current = self._current
        if fresh is not None:
            self._started(fresh)
        return current

    def engine_status(self) -> dict[str, Any]:
        """For /healthz: how the remote engine was at the last call ({} when embedded)."""
        return self.engine.engine_status() if self.engine is not None else {}

