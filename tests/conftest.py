"""Shared fixtures: the real project tree, and stores built from real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.project import Project

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(ROOT)


def ontology_paths() -> list[Path]:
    return sorted((ROOT / "ontology").rglob("*.ttl"))


def store_of(paths: list[Path]) -> ox.Store:
    """An in-memory store with one named graph per file, as the build makes."""
    store = ox.Store()
    for path in paths:
        store.load(path=str(path), to_graph=ox.NamedNode(path.resolve().as_uri()))
    return store


def copy_tree(target: Path) -> Project:
    for name in ("ontology", "shapes", "data", "queries", "standards"):
        shutil.copytree(ROOT / name, target / name)
    return Project(target)


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One built copy of the real tree, shared by the server tests (which only read it)."""
    from ketju.infra.build import build

    project = copy_tree(tmp_path_factory.mktemp("built"))
    build(project)
    return project


@pytest.fixture(scope="session")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The real tree plus a contribution of hostile text (scripts in labels, a javascript:
    IRI) that passes validation, built once: every page must keep it inert."""
    from ketju.infra.build import build

    project = copy_tree(tmp_path_factory.mktemp("hostile"))
    (project.data_dir / "kainuu").mkdir()
    shutil.copy(FIXTURES / "pages" / "hostile.ttl", project.data_dir / "kainuu" / "hostile.ttl")
    build(project)
    return project


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """A writable copy of the source tree (ontology, shapes, data, queries), store in tmp."""
    return copy_tree(tmp_path)
