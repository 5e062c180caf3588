""".github/workflows/review.yml, run here: its run-steps are plain make/ketju commands, run in
order in a clone whose pull request changes one chain; the posting step is identified and
checked, not run (it needs GitHub).

The clone's `.venv` is a folder of its own whose bin/ links to this project's interpreter and
ketju script, with the install stamps present: `make setup-run` has nothing to do (the test checks
that with `make -n` first and never installs anything), and ketju runs this worktree's code
(PYTHONPATH).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_review import CHAIN_FILE, FOUR_CHANGES, NEW_STEP, _commit, _edit, _git

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "review.yml"
COPIED = ("ontology", "shapes", "data", "queries", "Makefile", "pyproject.toml", ".github")
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _workflow() -> dict[object, object]:
    loaded: dict[object, object] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return loaded


def _job() -> dict[str, object]:
    jobs = _workflow()["jobs"]
    assert isinstance(jobs, dict) and len(jobs) == 1
    job: dict[str, object] = next(iter(jobs.values()))
    return job


def _posting(step: dict[str, object]) -> bool:
    return "gh pr comment" in str(step.get("run", ""))


def test_the_workflow_runs_on_pull_requests_and_may_comment() -> None:
    workflow = _workflow()
    # YAML 1.1 reads the key `on` as True.
    trigger = workflow.get("on", workflow.get(True))
    assert isinstance(trigger, dict) and "pull_request" in trigger
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = _job()["steps"]
    assert isinstance(steps, list)
    checkout = steps[0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in steps if "run" in s]
    assert runs[0] == "make setup-run"
    assert runs[1] == ".venv/bin/ketju validate"
    assert runs[2].startswith('.venv/bin/ketju diff "origin/$BASE" HEAD --format markdown')
    assert runs[2].endswith("> review.md")
    posting = [s for s in steps if _posting(s)]
    assert len(posting) == 1
    assert posting[0]["run"] == 'gh pr comment "$PR" --body-file review.md'
    assert posting[0]["env"]["GITHUB_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    assert posting[0]["env"]["PR"] == "${{ github.event.pull_request.number }}"
    # After the comment: the check fails when a status went backwards.
    assert steps[-1]["run"] == '.venv/bin/ketju diff "origin/$BASE" HEAD --strict > /dev/null'
    assert steps[-2] is posting[0]
    assert _job()["env"]["BASE"] == "${{ github.base_ref }}"


def _substitute(text: str, context: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        return context[match.group(1)]

    return EXPRESSION.sub(one, text)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_run_steps_review_a_pull_request(tmp_path: Path) -> None:
    upstream, clone = tmp_path / "upstream", tmp_path / "clone"
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, upstream / name)
        else:
            (upstream / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, upstream / name)
    _git(upstream, "init", "-q", "-b", "main")
    _commit(upstream, "The catalogue")
    subprocess.run(["git", "clone", "-q", str(upstream), str(clone)], check=True)
    _git(clone, "checkout", "-q", "-b", "hip-fracture-chain")
    _edit(clone / "data" / CHAIN_FILE, *FOUR_CHANGES, append=NEW_STEP)
    _commit(clone, "Hip-fracture chain: physiotherapy beside ward care, remote follow-up")

    # The clone's own .venv: links to this interpreter and ketju script, stamps in place.
    bin_dir = clone / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "ketju").symlink_to(Path(sys.executable).parent / "ketju")
    os.utime(clone / "pyproject.toml", (0, 0))
    for stamp in (".installed-run", ".installed-test"):
        (clone / ".venv" / stamp).touch()
    dry = subprocess.run(["make", "-n", "setup-run"], cwd=clone, capture_output=True, text=True)
    assert "pip" not in dry.stdout and "venv" not in dry.stdout, dry.stdout

    job = _job()
    context = {"github.base_ref": "main", "secrets.GITHUB_TOKEN": "not-used",
               "github.event.pull_request.number": "1"}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KETJU_HOME": str(clone)}
    env.pop("KETJU_LANG", None)
    env |= {k: _substitute(str(v), context) for k, v in dict(job.get("env", {})).items()}
    ran = []
    for step in job["steps"]:
        if "run" not in step or _posting(step):
            continue
        step_env = env | {k: _substitute(str(v), context)
                          for k, v in dict(step.get("env", {})).items()}
        done = subprocess.run(["bash", "-e", "-c", _substitute(step["run"], context)],
                              cwd=clone, env=step_env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, (step["run"], done.stdout, done.stderr)
        ran.append(step["run"])
    assert len(ran) == 4

    review = (clone / "review.md").read_text(encoding="utf-8").splitlines()
    assert review[0] == "**1 ketju muuttui.**"
    assert [line for line in review if line.startswith("- ")] == [
        "- Vaihe lisätty: **Etäseuranta** (kohta 10)",
        "- Vaihe **Kotiutus kotihoidon tukemana**: tuottaja Kotihoito → Terveyskeskussairaala",
        "- Vaihe **Fysioterapia terveyskeskussairaalassa** siirtyi järjestyksessä: kohta 6 → 4",
        "- Siirtymä **Kotiutus ja kotihoidon käynnistäminen**: enimmäisodotus enintään 1 päivä"
        " → enintään 12 tuntia",
    ]
    # Nothing in the clone's work tree was touched but the review itself.
    assert set(_git(clone, "status", "--porcelain").splitlines()) == {"?? .venv/",
                                                                     "?? review.md"}


def test_the_last_step_fails_when_a_status_goes_backwards(tmp_path: Path) -> None:
    """The same run-step, in a clone whose pull request makes an approved chain a draft."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "data", repo / "data")
    _git(repo, "init", "-q", "-b", "main")
    _commit(repo, "The catalogue")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    _edit(repo / "data" / CHAIN_FILE,
          ("adms:status status:Completed", "adms:status status:UnderDevelopment"))
    _commit(repo, "Back to a draft")
    last = _job()["steps"][-1]["run"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KETJU_HOME": str(repo),
           "BASE": "main"}
    done = subprocess.run(["bash", "-c", last.replace(".venv/bin/ketju",
                                                      f"{sys.executable} -m ketju")],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
