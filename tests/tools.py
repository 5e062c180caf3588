"""Command-line tools from npm that tests run against the real server, installed on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

NPM_TOOLS = ROOT / ".cache" / "npm-tools"


def npm_tool(package: str, binary: str) -> Path:
    """The path of `binary` from the npm `package`, installing it under .cache/ when missing."""
    path = NPM_TOOLS / "node_modules" / ".bin" / binary
    if path.exists():
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed for this test (Node.js from the system packages)")
    NPM_TOOLS.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(NPM_TOOLS), "--no-audit", "--no-fund",
                    "--silent", package], check=True, timeout=600)
    return path
