"""`ketju build`: one named graph per file, swapped in atomically, never a broken store."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import BUILD_GRAPH, INFERRED_GRAPH
from ketju.core.project import Project
from ketju.infra import observations
from ketju.infra.build import BuildRefused, build
from ketju.infra.store import CatalogueStore
from tests.conftest import FIXTURES


@pytest.fixture
def built(built_copy: Project) -> Project:
    """A writable tree with its store as `build` made it (a copy of the session's build)."""
    return built_copy


def graphs_of(store: CatalogueStore) -> set[str]:
    return {g.value for g in store.store.named_graphs()}


def test_one_named_graph_per_source_file(built: Project) -> None:
    store = CatalogueStore.open(built)
    # An observations folder's data set is described in the folder's own graph.
    datasets = {observations.dataset_graph(s.region) for s in built.data_files()
                if s.tabular and s.region is not None}
    expected = {s.graph for s in built.all_files()} | datasets | {BUILD_GRAPH, INFERRED_GRAPH}
    assert graphs_of(store) == expected
    for source in built.data_files():
        assert store.store.contains_named_graph(ox.NamedNode(source.graph))


def test_superclass_types_are_materialised(built: Project) -> None:
    store = CatalogueStore.open(built)
    rows = store.select("""
        SELECT ?c WHERE { ?c a <https://w3id.org/ketju/ontology#CareAndRehabilitationChain> .
            FILTER NOT EXISTS { ?c a <https://w3id.org/ketju/ontology#ServiceChain> } }""")
    assert rows == []
    assert store.select("""SELECT ?c WHERE {
        ?c a <https://w3id.org/ketju/ontology#CareAndRehabilitationChain> }""")


def test_if_needed_skips_unchanged_sources(built: Project) -> None:
    first = built.store_link.resolve()
    again = build(built, if_needed=True)
    assert again.skipped and built.store_link.resolve() == first
    (built.data_dir / "national" / "producers.ttl").open("a").write("\n# touched\n")
    rebuilt = build(built, if_needed=True)
    assert not rebuilt.skipped and built.store_link.resolve() != first


def test_refused_build_keeps_the_previous_store(built: Project) -> None:
    before = built.store_link.resolve()
    count = len(CatalogueStore.open(built))
    bad = built.data_dir / "kainuu" / "shacl-chain.ttl"
    bad.parent.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "contributions" / "shacl-chain.ttl", bad)
    with pytest.raises(BuildRefused) as refused:
        build(built)
    assert {f.file for f in refused.value.report.errors} == {"data/kainuu/shacl-chain.ttl"}
    assert built.store_link.resolve() == before
    store = CatalogueStore.open(built)
    assert len(store) == count
    leaked = "SELECT ?s WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?s), '/kainuu/chain/')) }"
    assert not store.select(leaked)
    assert sorted(p.name for p in built.stores_dir.iterdir()) == [before.name]


@pytest.mark.slow
def test_builds_within_one_second_never_share_a_folder(project_copy: Project) -> None:
    # Regression: folders named by second and pid made a refused build delete the live store.
    first = build(project_copy).path
    bad = project_copy.data_dir / "kainuu" / "shacl-chain.ttl"
    bad.parent.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "contributions" / "shacl-chain.ttl", bad)
    for _ in range(3):
        with pytest.raises(BuildRefused):
            build(project_copy)
    assert project_copy.store_link.resolve() == first
    assert len(CatalogueStore.open(project_copy)) > 0
    bad.unlink()
    second = build(project_copy).path
    third = build(project_copy).path
    assert len({first, second, third}) == 3
    assert CatalogueStore.open(project_copy).path == third


def _start_build(project: Project, hold: float | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "KETJU_HOME": str(project.root)}
    if hold is not None:
        env["KETJU_BUILD_HOLD_SECONDS"] = str(hold)
    return subprocess.Popen([sys.executable, "-m", "ketju", "build", "--quiet"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


@pytest.mark.slow
def test_build_killed_before_the_swap_leaves_the_previous_store(built: Project) -> None:
    before = built.store_link.resolve()
    count = len(CatalogueStore.open(built))
    (built.data_dir / "national" / "producers.ttl").open("a").write("\n# a change\n")
    process = _start_build(built, hold=60)
    assert process.stderr is not None
    assert "holding before swap" in process.stderr.readline()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert built.store_link.resolve() == before
    assert len(CatalogueStore.open(built)) == count
    # The next build cleans up the half-made store and succeeds.
    result = build(built)
    assert result.path != before and built.store_link.resolve() == result.path
    assert len([p for p in built.stores_dir.iterdir() if not (p / "build.json").exists()]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.2, 0.6, 1.2])
def test_build_killed_at_any_moment_leaves_a_usable_store(built: Project, delay: float) -> None:
    before = built.store_link.resolve()
    (built.data_dir / "national" / "producers.ttl").open("a").write(f"\n# change {delay}\n")
    process = _start_build(built)
    time.sleep(delay)
    process.kill()
    process.wait()
    current = built.store_link.resolve()
    assert current == before or (current / "build.json").exists()
    store = CatalogueStore.open(built)
    assert store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"].value != "0"


@pytest.mark.slow
def test_cli_build_and_status(project_copy: Project) -> None:
    env = {**os.environ, "KETJU_HOME": str(project_copy.root)}
    done = subprocess.run([sys.executable, "-m", "ketju", "build"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Built" in done.stderr
    status = subprocess.run([sys.executable, "-m", "ketju", "status"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0
    assert "national" in status.stdout and "chains" in status.stdout


@pytest.mark.slow
def test_cli_build_refused_exits_1(project_copy: Project) -> None:
    bad = project_copy.data_dir / "kainuu" / "syntax.ttl"
    bad.parent.mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "contributions" / "syntax-missing-dot.ttl", bad)
    env = {**os.environ, "KETJU_HOME": str(project_copy.root)}
    done = subprocess.run([sys.executable, "-m", "ketju", "build"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "data/kainuu/syntax.ttl:12" in done.stderr
    assert not Path(project_copy.store_link).exists()
