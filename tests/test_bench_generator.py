"""The synthetic benchmark catalogue (bench/generate.py): deterministic, valid and buildable."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from ketju.core.project import Project
from ketju.infra.build import build
from ketju.infra.validate import validate

ROOT = Path(__file__).resolve().parents[1]
SIZE = 10_000


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _files(tree: Path) -> dict[str, bytes]:
    return {p.relative_to(tree).as_posix(): p.read_bytes()
            for p in sorted((tree / "data").rglob("*.ttl"))}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("bench") / "tree"
    gen.generate(out, SIZE)
    yield out


def test_generation_is_deterministic(tree: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    counts = gen.generate(again, SIZE)
    assert _files(again) == _files(tree)
    assert 0.85 * SIZE <= counts["triples"] <= 1.15 * SIZE
    assert counts["files"] == len(_files(again))


def test_tree_shape(tree: Path) -> None:
    regions = {p.name for p in (tree / "data").iterdir() if p.is_dir()} - {"national"}
    assert regions == set(gen.REGIONS)
    assert len(regions) == 23
    for name in ("ontology", "shapes", "queries", "standards"):
        assert (tree / name).is_symlink()
    producers = "".join(p.read_text("utf-8") for p in (tree / "data").glob("*/producers.ttl"))
    used = set(re.findall(r"ketju:producerType ptype:([a-z-]+)", producers))
    assert used == set(gen.PRODUCER_TYPES)


def test_chains(tree: Path) -> None:
    chains = sorted((tree / "data").glob("*/chain-*.ttl"))
    assert chains
    text = ""
    for path in chains:
        body = path.read_text("utf-8")
        steps = re.search(r"ketju:hasStep ([^;]+) ;", body)
        assert steps, path
        assert 5 <= len(steps.group(1).split(", ")) <= 20, path
        text += body
    for marker in ("ketju:parallelWith", "ketju:alternativeTo", "ketju:optional true",
                   "ketju:maximumWait", "prov:wasDerivedFrom"):
        assert marker in text, marker
    for kind in gen.TRANSITION_KINDS:
        assert f"tkind:{kind}" in text, kind


@pytest.mark.slow
def test_validates_and_builds(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KETJU_VAR", raising=False)
    project = Project(tree)
    report = validate(project, None)
    assert not report.errors, [f.text() for f in report.errors[:5]]
    assert not report.warnings, [f.text() for f in report.warnings[:5]]
    build(project)
    assert project.store_link.exists()


def test_seeded_errors_are_found_in_the_right_files(tmp_path: Path) -> None:
    out = tmp_path / "broken"
    gen.generate(out, SIZE, measure=False)
    injected = gen.seed_errors(out)
    assert len(injected) == 9
    assert len({e["error"] for e in injected}) == 9
    report = validate(Project(out), None)
    assert report.errors
    assert {f.file for f in report.errors} == {e["file"] for e in injected}
