"""The benchmark harness runs end to end on a tiny catalogue (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_bench_quick_run_writes_every_section(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--size", "10k", "--quick",
         "--output", str(output)],
        capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = output.read_text(encoding="utf-8")
    for heading in ("## Headline", "## Build", "## Validation", "## SPARQL", "## API and pages"):
        assert heading in report
    assert "oxigraph load" in report and "oxigraph serve" in report
    assert "| compare |" in report and "| search |" in report


def test_profile_summary_ranks_ketju_functions_among_busy_samples() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from run import bounds, profile_summary

    raw = "\n".join([
        "process 1;main (ketju/web/app.py:10);render (ketju/web/pages.py:5) 30",
        "process 1;main (ketju/web/app.py:11);select (ketju/store.py:7) 40",
        "process 1;main (ketju/web/app.py:11);select.<locals>.<listcomp> (ketju/store.py:8) 20",
        "process 1;worker (threading.py:300);wait (threading.py:320) 500",  # idle: not counted
        "process 2;run (uvloop/loop.py:1) 10",
    ])
    summary = profile_summary(raw)
    assert summary["samples"] == 100
    assert summary["top"] == [("select", 60.0), ("render", 30.0)]  # 10 outside ketju
    api = {"fresh": {"search": {"p99": 60.0, "rps": 300.0}},
           "kept": {"compare": {"p99": 21.0, "rps": 4000.0}}, "floor": {"p99": 18.5},
           "single": {"search": {"rps": 250.0}},
           "profiles": {"search": summary}}
    text = "\n".join(bounds(api))
    assert "**search, made afresh**: p99 60.0 ms against 30 ms (2.0×)" in text
    assert "16 × 4.0 / 2 = 32.0 ms" in text and "`select` 60.0 %" in text
    assert "**compare, kept**: p99 21.0 ms against 20 ms (1.05×)" in text
    assert "`/healthz`, the cheapest answer there is, has p99 18.5 ms" in text
