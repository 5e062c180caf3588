"""The README is executable truth: every shell example in it runs, against a server started for
it, in a copy of the project (tests/readme.py finds the ```sh blocks).

Each block runs in bash, in order, in one copy of the project (with the example store built and
`.venv` pointing at this environment), with the server's address in place of
http://127.0.0.1:8000; every command must exit with 0 and every answer curl gets must be 2xx.
A block that cannot run here says why in an HTML comment just before it
(`<!-- not run: ... -->`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ketju.core.project import Project
from tests.conftest import ROOT, copy_tree
from tests.readme import Block, shell_blocks
from tests.servers import Server
from tests.tools import NPM_TOOLS, npm_tool

README = ROOT / "README.md"
#: Where the README's examples find the server (`make run` serves there).
LOCAL = "http://127.0.0.1:8000"
EXAMPLES = shell_blocks(README)

#: Run before each block: stop at the first failing command and name it; curl reports each
#: answer's status on standard error (and fails on 4xx and 5xx); npx runs the npm packages the
#: tests install under .cache/npm-tools (tests/tools.py) instead of asking to download them.
PRELUDE = r"""set -eE -o pipefail
trap 'echo "failed (exit $?): $BASH_COMMAND" >&2' ERR
curl() {
  command curl --silent --show-error --fail \
    --write-out '%{stderr}HTTP %{http_code} %{url_effective}\n' "$@"
}
npx() { command npx --prefix "$NPM_TOOLS" "$@"; }
"""


def test_every_shell_example_runs_or_says_why_not() -> None:
    assert len(EXAMPLES) >= 10, "the README's ```sh blocks were not found"
    # A reason is a few words at least ("make run serves until stopped"), not a bare marker.
    unexplained = [f"README.md:{block.line}" for block in EXAMPLES
                   if block.not_run is not None and len(block.not_run.split()) < 3]
    assert not unexplained, "say why a block is not run: <!-- not run: REASON -->"
    assert sum(block.not_run is None for block in EXAMPLES) >= 10


def test_the_examples_point_at_files_that_exist() -> None:
    """The files the examples validate are in the tree (or made by the block before)."""
    for block in EXAMPLES:
        for word in block.text.split():
            if word.startswith("data/") and word.endswith((".ttl", ".csv")) \
                    and f"> {word}" not in block.text:
                assert (ROOT / word).is_file(), f"README.md:{block.line}: {word} does not exist"


@pytest.fixture(scope="module")
def workspace(built_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with the example store built, where `.venv/bin/ketju` is this
    environment's `ketju`."""
    root = tmp_path_factory.mktemp("readme")
    copy_tree(root)
    shutil.copytree(built_project.root / "var", root / "var", symlinks=True)
    (root / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    return root


def run(block: Block, workspace: Path, base: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KETJU_HOME": str(workspace), "NPM_TOOLS": str(NPM_TOOLS)}
    for word in re.findall(r"\bnpx\s+(\S+)", block.text):
        npm_tool(word, word)
    env.pop("KETJU_VAR", None)
    return subprocess.run(["bash", "-c", PRELUDE + block.text.replace(LOCAL, base)],
                          cwd=workspace, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.slow
@pytest.mark.parametrize("block", [b for b in EXAMPLES if b.not_run is None],
                         ids=lambda b: f"README.md:{b.line}")
def test_example_runs(block: Block, workspace: Path, real_server: Server) -> None:
    done = run(block, workspace, real_server.base)
    where = f"README.md:{block.line}\n{block.text}\n--- stderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, where
    answers = [line.split() for line in done.stderr.splitlines() if line.startswith("HTTP ")]
    if "curl " in block.text:
        assert answers, where
    assert all(answer[1].startswith("2") for answer in answers), where
