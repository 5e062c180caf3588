"""Build the on-disk store from the source tree, and swap it in only when it is good.

`ketju build` loads ontology, vocabularies, shapes and data into a new pyoxigraph store beside
the current one (one named graph per source file), runs every validation check on it, adds the
build's own graphs, and then atomically repoints `var/store` at it. A build that fails or is
killed leaves `var/store` pointing at the last good store, which servers keep serving.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ketju import __version__
from ketju.core import namespaces as ns
from ketju.core.project import Listing, Project, SourceFile
from ketju.infra import search
from ketju.infra.feeds import catalog, cpsv, dumps, ldes
from ketju.infra.store import MANIFEST
from ketju.infra.validate import (
    Finding,
    Report,
    accepted_files,
    add_lines,
    cap_findings,
    check_store,
    load_sources,
    refused_finding,
    write_accepted_files,
)

#: What the build makes besides the store, in this order (search index, feeds, dumps).
BuildStep = Callable[[Project, ox.Store, Path], dict[str, object]]
#: What a build derives from the validated store, each writing its own files into the new
#: store folder: search index, CPSV-AP export, LDES stream, DCAT/VoID statistics, dumps.
BUILD_STEPS: list[BuildStep] = [
    search.build_step, cpsv.build_step, ldes.build_step, catalog.build_step, dumps.build_step,
]
KEEP_OLD_STORES = 2
#: Build steps run side by side (the machine this is measured on has two cores).
STEP_THREADS = 2


class BuildRefused(Exception):
    """The sources did not validate; the current store was left untouched."""

    def __init__(self, report: Report) -> None:
        super().__init__(f"{len(report.errors)} error(s) in the sources")
        self.report = report


class BuildBusy(RuntimeError):
    """Another build holds the lock."""


@dataclass
class BuildResult:
    path: Path
    manifest: dict[str, object]
    warnings: list[Finding] = field(default_factory=list)
    skipped: bool = False


def file_digests(sources: list[SourceFile]) -> dict[str, str]:
    """The SHA-256 of every source file's content, by its relative name."""
    digests = {}
    for source in sorted(sources, key=lambda s: s.relative):
        try:  # streamed: a huge file is refused by validation, not read into memory here
            with open(source.path, "rb") as file:
                digests[source.relative] = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError:
            digests[source.relative] = "unreadable"  # validation says why
    return digests


def fingerprint(digests: dict[str, str]) -> str:
    """A hash of every source file's name and content, and of the code version."""
    digest = hashlib.sha256(__version__.encode())
    for relative, content in sorted(digests.items()):
        digest.update(relative.encode() + b"\0" + content.encode())
    return digest.hexdigest()


def git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def current_manifest(project: Project) -> dict[str, object] | None:
    path = project.store_link / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _inferred_quads(store: ox.Store) -> list[ox.Quad]:
    """Entailments that hot queries need without property paths: superclass types.

    Asked class by class, so that the instances of a class that already state its
    superclasses (observations: 300,000 at national scale) cost one lookup each."""
    graph = ox.NamedNode(ns.INFERRED_GRAPH)
    supers = """
        SELECT DISTINCT ?type ?super WHERE {
            ?type <http://www.w3.org/2000/01/rdf-schema#subClassOf>+ ?super .
            FILTER(isIRI(?super) && STRSTARTS(STR(?type), "https://w3id.org/ketju/ontology#"))
        } ORDER BY ?type ?super"""
    untyped = """SELECT DISTINCT ?s ?type ?super WHERE {
        ?s a ?type FILTER NOT EXISTS { ?s a ?super } }"""
    rdf_type = ox.NamedNode(ns.RDF_TYPE)
    quads: dict[ox.Quad, None] = {}  # a subject of two subclasses gets the superclass once
    for pair in store.query(supers, use_default_graph_as_union=True):
        for row in store.query(untyped, use_default_graph_as_union=True,
                               substitutions={ox.Variable("type"): pair["type"],
                                              ox.Variable("super"): pair["super"]}):
            quads[ox.Quad(row["s"], rdf_type, pair["super"], graph)] = None
    return list(quads)


def _build_quads(manifest: dict[str, object], sources: list[SourceFile]) -> list[ox.Quad]:
    """The build's description of itself, queryable like any other data."""
    k = ns.PREFIXES
    graph = ox.NamedNode(ns.BUILD_GRAPH)
    build = ox.NamedNode(ns.BASE + "build")
    quads = [
        ox.Quad(build, ox.NamedNode(ns.RDF_TYPE), ox.NamedNode(k["prov"] + "Activity"), graph),
        ox.Quad(build, ox.NamedNode(k["prov"] + "endedAtTime"),
                ox.Literal(str(manifest["built_at"]), datatype=ox.NamedNode(k["xsd"] + "dateTime")),
                graph),
        ox.Quad(build, ox.NamedNode(k["void"] + "triples"),
                ox.Literal(str(manifest["triples"]), datatype=ox.NamedNode(k["xsd"] + "integer")),
                graph),
    ]
    if manifest.get("commit"):
        quads.append(ox.Quad(build, ox.NamedNode(ns.ONTOLOGY + "commit"),
                             ox.Literal(str(manifest["commit"])), graph))
    for source in sources:
        quads.append(ox.Quad(build, ox.NamedNode(k["prov"] + "used"),
                             ox.NamedNode(source.graph), graph))
        quads.append(ox.Quad(ox.NamedNode(source.graph), ox.NamedNode(k["dct"] + "source"),
                             ox.Literal(source.relative), graph))
    return quads


class _StoreWriter:
    """Writes the on-disk store from the in-memory one on a thread of its own.

    It starts as soon as the sources are loaded: dumping (about 1 s at 1M triples) and bulk
    loading (about 11 s) run in Rust without the GIL, so validation and the build steps keep
    the other core. What the build adds later (inferred types, its own graph) follows in a
    second, small write. A refused build waits for it and removes the folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seconds = 0.0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._dumped = threading.Event()
        self._futures: list[Future[None]] = []
        self._on_disk: ox.Store | None = None

    def start(self, store: ox.Store) -> None:
        self._futures.append(self._pool.submit(self._timed, self._load, store))

    @property
    def started(self) -> bool:
        return bool(self._futures)

    def add_data(self, data: bytes, format: ox.RdfFormat, graph: str | None) -> None:
        """Write more data (made by the build, so loaded leniently), after what came before."""
        self._futures.append(self._pool.submit(self._timed, self._bulk, data, format, graph))

    def wait_dumped(self) -> None:
        """Block until the in-memory store has been read, so it may change again."""
        if self._futures:
            self._dumped.wait()

    def add(self, quads: list[ox.Quad]) -> None:
        self._futures.append(self._pool.submit(self._timed, self._extend, quads))

    def finish(self) -> float:
        """Wait for every write and close the on-disk store; the seconds spent writing."""
        for future in self._futures:
            future.result()
        self._close()
        return round(self.seconds, 3)

    def abandon(self) -> None:
        wait(self._futures)  # the writer must be done with the folder before it goes
        with contextlib.suppress(Exception):  # the build's own error is the one to report
            self._close()

    def _timed(self, work: Callable[..., None], *args: object) -> None:
        started = time.monotonic()
        try:
            work(*args)
        finally:
            self.seconds += time.monotonic() - started

    def _load(self, store: ox.Store) -> None:
        dump = self.folder / ".store.nq"
        try:
            store.dump(str(dump), format=ox.RdfFormat.N_QUADS)
        finally:
            self._dumped.set()
        self._on_disk = ox.Store(str(self.folder))
        self._on_disk.bulk_load(path=str(dump), format=ox.RdfFormat.N_QUADS)
        dump.unlink()

    def _bulk(self, data: bytes, format: ox.RdfFormat, graph: str | None) -> None:
        if self._on_disk is None:
            raise RuntimeError("the store was not written")
        self._on_disk.bulk_load(data, format=format, lenient=True,
                                to_graph=ox.NamedNode(graph) if graph else None)

    def _extend(self, quads: list[ox.Quad]) -> None:
        if self._on_disk is None:
            raise RuntimeError("the store was not written")
        self._on_disk.bulk_extend(quads)

    def _close(self) -> None:
        if self._on_disk is not None:
            self._on_disk.flush()
            self._on_disk = None
        self._pool.shutdown(wait=True)


def _swap(project: Project, new_store: Path) -> None:
    """Point var/store at the new store in one rename (atomic on POSIX)."""
    link = project.store_link
    temporary = link.with_name(f".store-{os.getpid()}")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(os.path.relpath(new_store, link.parent), temporary)
    os.replace(temporary, link)


def _remove_stale_builds(project: Project) -> None:
    """Remove what killed builds left behind: store folders that never got a manifest."""
    current = project.store_link.resolve() if project.store_link.exists() else None
    for folder in project.stores_dir.iterdir():
        if folder.is_dir() and folder != current and not (folder / MANIFEST).exists():
            shutil.rmtree(folder, ignore_errors=True)


def _remove_old_stores(project: Project, keep: Path) -> None:
    """Keep the newest few stores: servers that opened an older one may still be reading it."""
    stores = sorted(
        (p for p in project.stores_dir.iterdir() if p.is_dir() and p != keep),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in stores[KEEP_OLD_STORES - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def build(
    project: Project,
    *,
    if_needed: bool = False,
    on_file: Callable[[SourceFile], None] | None = None,
) -> BuildResult:
    """Build and swap in a new store; raise BuildRefused (store untouched) on invalid data."""
    listing = project.listing()
    if refused := listing.refused:
        # Links and bad names are refused before anything is read (or fingerprinted).
        findings = [refused_finding(r) for r in refused]
        raise BuildRefused(Report(findings=findings, files_checked=len(findings)))
    sources = listing.all
    digests = file_digests(sources)
    stamp = fingerprint(digests)
    current = current_manifest(project)
    if if_needed and current is not None and current.get("fingerprint") == stamp:
        return BuildResult(project.store_link.resolve(), current, skipped=True)

    project.stores_dir.mkdir(parents=True, exist_ok=True)
    with open(project.var_dir / "build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildBusy("another `ketju build` is running") from None
        _remove_stale_builds(project)
        return _build_locked(project, listing, digests, stamp, on_file)


def _run_steps(project: Project, store: ox.Store, folder: Path,
               seconds: dict[str, float]) -> dict[str, object]:
    """Run the build steps two at a time (they only read the store, and their queries,
    compression and SQLite work release the GIL); their outputs merge in BUILD_STEPS order."""
    def run(step: BuildStep) -> dict[str, object]:
        started = time.monotonic()
        made = step(project, store, folder)
        seconds[step.__module__.rsplit(".", 1)[-1]] = round(time.monotonic() - started, 3)
        return made

    merged: dict[str, object] = {}
    with ThreadPoolExecutor(STEP_THREADS, thread_name_prefix="build-step") as pool:
        for made in pool.map(run, BUILD_STEPS):
            merged.update(made)
    return merged


class _Phases:
    """Seconds spent in each phase of a build, for the manifest (and the benchmarks)."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._since = time.monotonic()

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.times[phase] = round(now - self._since, 3)
        self._since = now


def _build_locked(
    project: Project,
    listing: Listing,
    digests: dict[str, str],
    stamp: str,
    on_file: Callable[[SourceFile], None] | None,
) -> BuildResult:
    started = time.monotonic()
    sources = listing.all
    phases = _Phases()
    lap = phases.lap
    step_seconds: dict[str, float] = {}

    # A unique folder per build: two builds within one second must never share (and so
    # delete) a folder, or a refused build would remove the store being served.
    prefix = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f") + "-"
    new_path = Path(tempfile.mkdtemp(prefix=prefix, dir=project.stores_dir))
    # Validate and derive in memory (several times faster than on a fresh on-disk store);
    # the on-disk store is written from it in the background (see _StoreWriter).
    store = ox.Store()
    writer = _StoreWriter(new_path)
    try:
        # Files the served build accepted as they are now need no scan again.
        findings, loaded = load_sources(store, [s for s in sources if not s.tabular],
                                        progress=on_file,
                                        accepted=accepted_files(project.store_link.resolve()),
                                        root=project.root)
        if (tables := [s for s in sources if s.tabular]) and not findings:
            # The descriptions go to disk while the observation files are read and checked
            # (in Python), and each file's triples follow them there: writing the on-disk
            # store is the longest part of a build with national-scale observations.
            writer.start(store)
            writer.wait_dumped()
            findings, loaded_tables = load_sources(store, tables, progress=on_file,
                                                   root=project.root, on_loaded=writer.add_data)
            loaded |= loaded_tables
        lap("load")
        if not findings:
            if not writer.started:
                writer.start(store)
            findings = check_store(store, project, listing.data, loaded, listing)
        findings = add_lines(cap_findings(findings), sources, project.root)
        report = Report(findings=findings, files_checked=len(sources))
        lap("validate")
        if not report.ok:
            raise BuildRefused(report)
        writer.wait_dumped()
        inferred = _inferred_quads(store)
        store.bulk_extend(inferred)
        triples = len(store)
        lap("inference")
        manifest: dict[str, object] = {
            "fingerprint": stamp,
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": git_commit(project.root),
            "version": __version__,
            "files": len(sources),
            "triples": triples,
        }
        own = _build_quads(manifest, sources)
        store.bulk_extend(own)
        writer.add(inferred + own)
        manifest.update(_run_steps(project, store, new_path, step_seconds))
        lap("steps")
        step_seconds["store"] = writer.finish()
        lap("store")
        if hold := os.environ.get("KETJU_BUILD_HOLD_SECONDS"):
            # Test hook: keep the finished-but-not-swapped state open so a test can kill it.
            print("holding before swap", file=sys.stderr, flush=True)
            time.sleep(float(hold))
        del store
        manifest["seconds"] = round(time.monotonic() - started, 3)
        manifest["phases"] = phases.times
        manifest["step_seconds"] = step_seconds
        (new_path / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        write_accepted_files(new_path, digests)
    except BaseException:
        writer.abandon()
        shutil.rmtree(new_path, ignore_errors=True)
        raise
    _swap(project, new_path)
    _remove_old_stores(project, keep=new_path)
    return BuildResult(new_path, manifest, warnings=report.warnings)
