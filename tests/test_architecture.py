"""The layers of the code (pyproject.toml, [tool.importlinter]): cli > web > domain > infra >
core, each importing only those below it. The same check as `make lint` (`lint-imports`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
LAYERS = ["ketju.cli", "ketju.web", "ketju.domain", "ketju.infra", "ketju.core"]


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the project at `folder` (its pyproject.toml, its src/)."""
    env = {**os.environ, "PYTHONPATH": str(folder / "src")}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_layers_are_the_agreed_ones() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    assert contract["type"] == "layers" and contract["layers"] == LAYERS
    for layer in LAYERS:
        path = ROOT / "src" / Path(*layer.split("."))
        assert path.is_dir() or path.with_suffix(".py").is_file(), layer


def test_nothing_imports_a_layer_above_it() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_upwards_breaks_the_contract(tmp_path: Path) -> None:
    """The check is not vacuous: a domain module importing the web layer fails it."""
    shutil.copytree(ROOT / "src" / "ketju", tmp_path / "src" / "ketju",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    texts = tmp_path / "src" / "ketju" / "domain" / "texts.py"
    texts.write_text(texts.read_text(encoding="utf-8") + "\nimport ketju.web.http  # noqa\n",
                     encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "ketju.domain.texts -> ketju.web.http" in result.stdout
