"""Command-line tools from npm that tests run against the real server, installed on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

NPM_TOOLS = ROOT / ".cache" / "npm-tools"


def npm_package(package: str, name: str) -> Path:
    """The installed folder of an npm package (installed under .cache/ when missing)."""
    folder = NPM_TOOLS / "node_modules" / name
    if not folder.exists():
        _install(package)
    return folder


def _install(package: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed for this test (Node.js from the system packages)")
    NPM_TOOLS.mkdir(parents=True, exist_ok=True)
    subprocess.run([npm, "install", "--prefix", str(NPM_TOOLS), "--no-audit", "--no-fund",
                    "--silent", package], check=True, timeout=600)


def npm_tool(package: str, binary: str) -> Path:
    """The path of `binary` from the npm `package`, installing it under .cache/ when missing."""
    path = NPM_TOOLS / "node_modules" / ".bin" / binary
    if not path.exists():
        _install(package)
    return path


def serious_axe_violations(browser: object, url: str) -> list[dict[str, object]]:
    """The serious and critical axe-core violations of the page at `url`, in headless Chromium
    (a Playwright browser)."""
    axe = (npm_package("axe-core@4", "axe-core") / "axe.min.js").read_text(encoding="utf-8")
    # axe is added as an inline script, which the site's Content-Security-Policy refuses.
    context = browser.new_context(locale="fi-FI", bypass_csp=True)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(url)
        page.add_script_tag(content=axe)
        results: list[dict[str, object]] = page.evaluate("""async () => {
            const r = await axe.run(document, { resultTypes: ['violations'] });
            return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                             nodes: v.nodes.slice(0, 3).map(n => n.html) })); }""")
    finally:
        context.close()
    return [v for v in results if v["impact"] in ("serious", "critical")]
