"""Shared fixtures: the real project tree, and stores built from real files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox
import pytest

from ketju.core.project import Project

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from tests.servers import InProcessServer, Listener, Served, Server

ROOT = Path(__file__).resolve().parents[1]
#: Debian's Chromium, which Playwright drives (no browser download at test time).
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIXTURES = ROOT / "tests" / "fixtures"

#: Whether this run is a developer's quick feedback (`pytest -m "not slow"`, `make quick`):
#: then property tests try a tenth of their examples (`examples`). `make test` runs the same
#: tier first, with every example (`KETJU_EXAMPLES=all`).
FAST_TIER = False


def pytest_configure(config: pytest.Config) -> None:
    global FAST_TIER
    FAST_TIER = "not slow" in (config.option.markexpr or "") \
        and os.environ.get("KETJU_EXAMPLES") != "all"


def examples(full: int) -> int:
    """How many examples a property test tries: `full` in `make test`, a tenth (at least 20)
    when the slow tests are left out."""
    return max(20, full // 10) if FAST_TIER else full


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


@pytest.fixture
def built_copy(built_project: Project, tmp_path: Path) -> Project:
    """A writable copy of the source tree with the store as built (a copy of the session's
    build, as `build(project_copy)` would make it, in a fraction of the time)."""
    project = copy_tree(tmp_path)
    shutil.copytree(built_project.root / "var", tmp_path / "var", symlinks=True)
    return project


@pytest.fixture(scope="session")
def app_server(built_project: Project) -> Iterator[InProcessServer]:
    """The app over the built example catalogue, in this process, with default settings:
    what most web tests ask (read only, so shared by the whole session)."""
    from tests.servers import in_process_server

    with in_process_server(built_project) as server:
        yield server


@pytest.fixture(scope="session")
def hostile_app(hostile_project: Project) -> Iterator[InProcessServer]:
    """The app over the example catalogue plus the hostile contribution, in this process."""
    from tests.servers import in_process_server

    with in_process_server(hostile_project) as server:
        yield server


def real_for_slow(request: pytest.FixtureRequest, in_process: str, real: str) -> object:
    """The fixture `real` (a real server) for tests marked slow, which are slow because they
    need one (raw sockets, its log file, its processes), else `in_process`."""
    slow = request.node.get_closest_marker("slow") is not None
    return request.getfixturevalue(real if slow else in_process)


@pytest.fixture(scope="module")
def real_server(built_project: Project, server_logs: Path) -> Iterator[Server]:
    """`ketju serve` over the example store: one per test module that asks for it."""
    from tests.servers import ketju_server

    with ketju_server(built_project.root, server_logs) as running:
        yield running


@pytest.fixture(scope="module")
def hostile_real_server(hostile_project: Project, server_logs: Path) -> Iterator[Server]:
    """`ketju serve` over the example store with the hostile contribution."""
    from tests.servers import ketju_server

    with ketju_server(hostile_project.root, server_logs) as running:
        yield running


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Served:
    """The example store served in this process; for tests marked slow, which need a real
    server (raw sockets, its log file, its processes), `real_server`. Modules that need
    another server define their own `server`."""
    return real_for_slow(request, "app_server", "real_server")  # type: ignore[return-value]


@pytest.fixture
def hostile_server(request: pytest.FixtureRequest) -> Served:
    """As `server`, over the store with the hostile contribution."""
    return real_for_slow(request, "hostile_app",  # type: ignore[return-value]
                         "hostile_real_server")


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback listener that counts the connections made to it (and hangs up)."""
    from tests.servers import Listener

    running = Listener()
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (one per test module that asks for it)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "make test installs Debian's chromium; run `make browser`"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()
