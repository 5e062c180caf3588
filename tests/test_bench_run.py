"""The benchmark harness runs end to end on a tiny catalogue (no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


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
