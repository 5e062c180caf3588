"""A package that installs: the wheel built from the project carries everything the server reads
from inside the package (page templates, static files with the vendored YASGUI editor, the UI
texts of messages.toml), and installed without `-e` into a fresh virtual environment it builds
a project folder's store and serves pages from it.

Everything else the server reads at run time is the project folder's (KETJU_HOME): ontology/,
shapes/, data/, queries/ and standards/, and the store it builds under var/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, copy_tree
from tests.servers import _stop, free_port, wait_until_up

SRC = ROOT / "src"
CHAIN = "/id/varsinais-suomi/chain/lonkkamurtuma"



def package_files() -> set[str]:
    """Every file of the package in the source tree (no caches), as named in a wheel."""
    return {path.relative_to(SRC).as_posix() for path in (SRC / "ketju").rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
            and path.suffix not in {".pyc", ".pyo"}}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip wheel . --no-deps` of a copy of the project's package source (so that the build
    leaves nothing in the working tree)."""
    tree = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(SRC, tree / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(tree), "--no-deps", "--quiet",
                    "--wheel-dir", str(out)], check=True, timeout=300)
    return next(out.glob("ketju-*.whl"))


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = package_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert {"ketju/web/messages.toml", "ketju/web/templates/chain.html",
            "ketju/web/static/ketju.css", "ketju/web/static/yasgui/yasgui.min.js"} <= names


@pytest.fixture(scope="module")
def environment(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (not editable) and its
    dependencies, from the package indexes pip is configured with."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "--quiet", "--progress-bar", "off", str(wheel)],
                   check=True, timeout=600)
    return venv


def clean_env(home: Path) -> dict[str, str]:
    """This process's environment without what points at the source tree or its settings."""
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONPATH" and not key.startswith("KETJU_")
           and key not in ("VIRTUAL_ENV", "PROMETHEUS_MULTIPROC_DIR")}
    return {**env, "KETJU_HOME": str(home)}


@contextlib.contextmanager
def served(ketju: Path, home: Path) -> Iterator[str]:
    port = free_port()
    with open(home / "serve.log", "wb") as log:
        process = subprocess.Popen([str(ketju), "serve", "--no-build", "--port", str(port)],
                                   cwd=home, env=clean_env(home), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.mark.slow
def test_the_installed_wheel_builds_and_serves_pages(environment: Path,
                                                     tmp_path: Path) -> None:
    home = tmp_path / "project"
    copy_tree(home)
    python, ketju = environment / "bin" / "python", environment / "bin" / "ketju"
    where = subprocess.run([str(python), "-c", "import ketju; print(ketju.__file__)"],
                           cwd=home, env=clean_env(home), capture_output=True, text=True,
                           check=True).stdout.strip()
    assert Path(where).is_relative_to(environment), f"ketju imported from {where}"

    built = subprocess.run([str(ketju), "build"], cwd=home, env=clean_env(home),
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    assert (home / "var" / "store").exists()

    with served(ketju, home) as base:
        chain = httpx.get(base + CHAIN, headers={"Accept": "text/html"}, timeout=60)
        assert chain.status_code == 200, (home / "serve.log").read_text()[-3000:]
        assert chain.headers["content-type"].startswith("text/html")
        assert "<svg" in chain.text and "Lonkkamurtuma" in chain.text
        swedish = httpx.get(base + CHAIN + "?lang=sv", timeout=60)
        assert swedish.status_code == 200 and 'lang="sv"' in swedish.text
        docs = httpx.get(base + "/docs", timeout=60)
        assert docs.status_code == 200 and "/api/chains" in docs.text
        for static in ("/static/ketju.css", "/static/print.css", "/static/yasgui/yasgui.min.js"):
            assert httpx.get(base + static, timeout=60).status_code == 200, static
        editor = httpx.get(base + "/sparql", headers={"Accept": "text/html"}, timeout=60)
        assert editor.status_code == 200 and "yasgui" in editor.text


def test_make_run_installs_only_what_serving_needs(tmp_path: Path) -> None:
    """What `make run` would do in a fresh clone (`make -n`): create .venv, install ketju
    without the test and benchmark extras, build, serve; `make test` installs the extras."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    def planned(target: str) -> str:
        return subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True,
                              text=True, check=True).stdout

    run = planned("run")
    assert "-m venv .venv" in run and "pip install --progress-bar off -e .\n" in run
    assert "[test" not in run and "bench]" not in run and "--quiet -e" not in run
    assert run.index("ketju build") < run.index("ketju serve")
    assert "[test,bench]" in planned("test")
