"""Shared fixtures: the real project tree, and stores built from real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.project import Project

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


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """A writable copy of the source tree (ontology, shapes, data, queries), store in tmp."""
    for name in ("ontology", "shapes", "data", "queries", "standards"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return Project(tmp_path)
