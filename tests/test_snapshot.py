"""The per-build snapshot (ketju.infra.snapshot): one owner of a build's state, caches that
threads can share, and a source that swaps to a new build atomically."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ketju.core.project import Project
from ketju.core.queries import load_queries
from ketju.domain.compare import chain_index
from ketju.infra.build import build
from ketju.infra.snapshot import AnswerCache, Snapshot, SnapshotSource


def hammer(threads: int, rounds: int, work: Callable[[int, int], None]) -> None:
    """Run `work(thread, round)` from many threads at once; re-raise the first error."""
    start = threading.Barrier(threads)

    def run(number: int) -> None:
        start.wait()
        for round_ in range(rounds):
            work(number, round_)

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(run, n) for n in range(threads)]:
            future.result()


def test_the_answer_cache_is_a_bounded_lru() -> None:
    cache = AnswerCache(entries=3, max_bytes=1600)
    for key in "abc":
        cache.put(key, key.upper(), 10)
    assert cache.get("a") == "A"  # now the most recently used
    cache.put("d", "D", 10)
    assert cache.get("b") is None and [cache.get(k) for k in "acd"] == ["A", "C", "D"]
    cache.put("big", "x", 101)  # more than a sixteenth of max_bytes: not kept
    assert cache.get("big") is None
    cache.put("a", "A2", 10)  # replaced, not counted twice
    assert len(cache) == 3 and cache.get("a") == "A2"
    off = AnswerCache(entries=0)
    off.put("a", 1)
    assert off.get("a") is None and len(off) == 0


def test_the_answer_cache_takes_32_threads_with_8_entries() -> None:
    """The races of the old caches (a lookup that checks, then moves an entry an eviction
    removed meanwhile) raised KeyError; with one lock around each operation none can."""
    cache = AnswerCache(entries=8, max_bytes=10_000)

    def work(thread: int, round_: int) -> None:
        key = (thread + round_) % 20
        found = cache.get(key)
        assert found is None or found == key
        cache.put(key, key, 100)

    hammer(32, 2000, work)
    assert len(cache) <= 8


def test_kept_makes_a_thing_once_while_threads_wait() -> None:
    snapshot = Snapshot("v1", data=None, queries={})  # type: ignore[arg-type]
    made: list[int] = []

    def make() -> object:
        made.append(1)
        time.sleep(0.05)
        return object()

    results: list[object] = []
    hammer(16, 1, lambda thread, round_: results.append(snapshot.kept("index", make)))
    assert len(made) == 1 and len({id(r) for r in results}) == 1


def test_kept_keeps_nothing_when_making_fails() -> None:
    snapshot = Snapshot("v1", data=None, queries={})  # type: ignore[arg-type]

    def fail() -> int:
        raise OSError("not there")

    with pytest.raises(OSError):
        snapshot.kept("stats", fail)
    assert snapshot.kept("stats", lambda: 7) == 7
    assert snapshot.kept("stats", lambda: 8) == 7  # kept from now on
    assert snapshot.kept("none", lambda: None) is None  # None is kept as well


class FakeEngine:
    """What SnapshotSource asks of a remote engine: its data version and its state."""

    def __init__(self) -> None:
        self.data_version = "2026-01-01T00:00:00Z"
        self.built = {"store": "remote", "commit": "abc", "built_at": None, "triples": 5}

    def version(self) -> str:
        return self.data_version

    def build_info(self) -> dict[str, Any]:
        return dict(self.built)

    def engine_status(self) -> dict[str, Any]:
        return {"engine": "ok"}


def test_a_remote_source_swaps_when_the_engine_has_new_data(project: Project) -> None:
    engine = FakeEngine()
    source = SnapshotSource.remote(engine, load_queries(project.queries_dir))  # type: ignore[arg-type]
    first = source.current()
    assert first.files is None and first.version == engine.data_version
    assert source.current() is first
    first.cache.put("answer", b"old")
    assert first.build_info()["triples"] == 5 and source.engine_status() == {"engine": "ok"}
    engine.data_version = "2026-01-02T00:00:00Z"
    second = source.current()
    assert second is not first and second.version == engine.data_version
    assert second.cache.get("answer") is None  # the old build's answers went with it


@pytest.mark.slow
def test_an_embedded_source_follows_a_rebuild(project_copy: Project) -> None:
    build(project_copy)
    source = SnapshotSource.embedded(project_copy, cache_entries=8)
    source.CHECK_SECONDS = 0.0
    first = source.current()
    assert first.files is not None and first.files.folder == project_copy.store_link.resolve()
    assert first.build_info()["store"] == first.version == first.files.folder.name
    assert source.current() is first
    index = chain_index(first)
    assert chain_index(first) is index and len(index) >= 5
    first.cache.put("answer", b"kept")

    build(project_copy)
    second = source.current()
    assert second is not first and second.version != first.version
    assert second.files is not None and second.files.folder == project_copy.store_link.resolve()
    assert second.cache.get("answer") is None and first.cache.get("answer") == b"kept"
    assert chain_index(second) is not index
    # A request that started on the first build still reads it.
    assert first.select("regions") == second.select("regions")
    assert source.engine_status() == {}


def test_watchers_start_each_build_served(project_copy: Project) -> None:
    """Start-up work (the chain index) runs for the build served now and again for every
    build swapped in later, not once per process (/healthz's `warm` is per build)."""
    build(project_copy)
    source = SnapshotSource.embedded(project_copy, cache_entries=8)
    source.CHECK_SECONDS = 0.0
    started: list[Snapshot] = []
    done = threading.Semaphore(0)

    def warm(snapshot: Snapshot) -> None:
        chain_index(snapshot)
        started.append(snapshot)
        done.release()

    source.watch(warm)
    assert done.acquire(timeout=60)
    first = source.current()
    assert started == [first] and first.has("chain-index")

    build(project_copy)
    second = source.current()
    assert done.acquire(timeout=60)
    assert started == [first, second] and second.has("chain-index")
    assert source.current() is second and len(started) == 2
