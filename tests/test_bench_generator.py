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


def test_observations_are_contributions_of_the_regions_indicators(tmp_path: Path) -> None:
    """Issue 13: every organiser contributes indicator observations as CSV files in the
    contract's columns, ten years quarterly, for indicators its goals.ttl declares in the
    unit the file gives; about 0.3 rows per triple, at most 10 000 rows a file; deterministic."""
    first, again = tmp_path / "a", tmp_path / "b"
    counts = gen.generate(first, SIZE, measure=False)
    gen.generate(again, SIZE, measure=False)
    files = sorted((first / "data").glob("*/observations/*.csv"))
    assert {f.parent.parent.name for f in files} == set(gen.REGIONS)
    assert [f.read_bytes() for f in files] == [
        (again / f.relative_to(first)).read_bytes() for f in files]
    assert counts["observation_files"] == len(files)
    assert 0.25 * SIZE <= counts["observations"] <= 0.45 * SIZE
    for path in files:
        lines = path.read_text("utf-8").splitlines()
        assert lines[0] == ",".join(gen.OBSERVATION_COLUMNS)
        assert 1 <= len(lines) - 1 <= gen.ROWS_PER_FILE
        goals = (path.parent.parent / "goals.ttl").read_text("utf-8")
        rows = [line.split(",") for line in lines[1:]]
        for slug in {row[0] for row in rows}:
            block = goals.split(f"ind:{slug} a ketju:Indicator", 1)[1].split(" .\n", 1)[0]
            assert "sdmx-attribute:unitMeasure unit:percent" in block
        periods = {row[1] for row in rows}
        assert periods == set(gen.QUARTERS) and len(periods) == 40
        assert {row[3] for row in rows} == {"percent"}
        assert {row[5] for row in rows} == {"", "M", "F"}
        assert all(0 <= float(row[2]) <= 100 for row in rows)
        assert {row[4] for row in rows if row[1] == "2024-Q4"} == {"preliminary"}


def test_at_national_scale_each_organiser_reports_about_two_hundred_indicators() -> None:
    lines = gen.observation_rows("lappi", [f"i{n}" for n in range(600)], 13_000, 1)
    assert 12_500 <= len(lines) <= 13_500
    assert len({line.split(",")[0] for line in lines}) == 195
