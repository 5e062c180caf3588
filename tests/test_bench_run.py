"""The benchmark harness runs end to end on a tiny catalogue (no timing is asserted)."""

from __future__ import annotations

import doctest
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
@pytest.mark.timeout(900)  # the quick run builds and serves the 10k catalogue several times
def test_bench_quick_run_writes_every_section(tmp_path: Path) -> None:
    output = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--size", "10k", "--quick",
         "--output", str(output)],
        capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = output.read_text(encoding="utf-8")
    for heading in ("## Headline", "## Build", "## Validation", "## Observations", "## SPARQL",
                    "## API and pages"):
        assert heading in report
    assert "oxigraph load" in report and "oxigraph serve" in report
    assert "| compare |" in report and "| search |" in report
    # Issue 13: observations at national scale and the pages that chart them.
    assert "| validate one changed observation file" in report
    assert "| build's added time for " in report and "observations |" in report
    assert "| indicator pages (with chart) |" in report
    assert "| package pages (with monitoring) made afresh, one client |" in report
    # Issue 12: remote mode on Virtuoso through nginx, beside Virtuoso asked directly.
    assert "## Remote mode" in report and "| Virtuoso directly |" in report
    assert "| ketju ×2 behind nginx (cache off) |" in report


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


def test_page_lists_ask_a_share_of_pages_with_lang_links() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from run import api_paths

    found = {"ServiceChain": [f"https://w3id.org/ketju/id/r/chain/c{i}" for i in range(30)],
             "Service": [f"https://w3id.org/ketju/id/r/service/s{i}" for i in range(30)],
             "Producer": [], "ServicePackage": [], "organisers": [], "classes": [],
             "segments": []}
    paths = api_paths(found, random.Random(1))
    for name in ("chain pages (with diagram)", "entity pages"):
        asked = [p.partition("?lang=")[2] for p in paths[name]]
        assert asked.count("") == 20  # the others by Accept alone
        assert {"fi", "sv", "en"} <= set(asked)
        assert all(p.startswith("/id/") for p in paths[name])


def test_afresh_figures_are_reported_in_ms_and_as_multiples_of_healthz(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import run
    from run import afresh_against_healthz, afresh_table

    monkeypatch.setattr(run, "HEALTHZ_REFERENCE_MS", 1.0)  # targets: ms and × alike

    api = {"healthz_single": {"rps": 1000.0},  # 1 ms with one client
           "single": {"chain pages (with diagram)": {"rps": 250.0},  # 4 ms
                      "search": {"rps": 100.0}},  # 10 ms
           "fresh": {"chain pages (with diagram)": {"rps": 300.0, "p99": 120.0},
                     "search": {"rps": 90.0, "p99": 50.0, "non2xx": 3.0}}}
    afresh = afresh_against_healthz(api)
    assert afresh["healthz_one_client_ms"] == 1.0
    by = {(f["answer"], f["figure"]): f for f in afresh["figures"]}
    chain = by[("chain pages (with diagram)", "one client")]
    assert chain["ms"] == 4.0 and chain["target_ms"] == 5.0 and chain["met"]
    assert chain["times_healthz"] == 4.0
    assert not by[("chain pages (with diagram)", "p99 at 16 clients")]["met"]  # 120 > 2 × 50
    assert not by[("search", "one client")]["met"]  # 10 ms against 2 ms
    assert not by[("search", "p99 at 16 clients")]["answered"]  # errors: not measured
    table = "\n".join(afresh_table(afresh))
    assert "| chain pages (with diagram) | one client | 4.0 | 4.0× | ≤ 5 |" in table
    assert "| search | p99 at 16 clients | 50.0 |" in table and "not measured" in table
    assert "`/healthz` with one client in this run (1.00 ms" in table


def test_the_examples_in_the_harness_docstrings_hold() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    result = doctest.testmod(run)
    assert result.attempted >= 1 and result.failed == 0
