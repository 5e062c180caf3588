"""Screenshots of every kind of page, at desktop and phone width (`make screenshots`).

Builds the store when needed (`ketju build --if-needed`), starts `ketju serve` on a free port,
opens each page of PAGES in headless Chromium (Debian's, as the browser tests do) and writes
docs/screenshots/{kind}-desktop.png and {kind}-phone.png (with `--lang sv`:
{kind}-desktop-sv.png ...). Pages taller than MAX_HEIGHT are cut there. The server is
stopped at the end. Run from anywhere:

    .venv/bin/python tools/screenshots.py [--lang fi] [--out docs/screenshots] [KIND ...]

PAGES is also the list of pages the page matrix test (tests/test_pages_for_people.py) opens.

`review` (alone, or with all pages in Finnish) pictures a `ketju diff` comment as a pull
request shows it (docs/screenshots/review.png): the example data against a copy in which the
Varsinais-Suomi hip-fracture chain changed, the Markdown made HTML with markdown-it-py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Debian's Chromium (no browser download), with the arguments the browser tests use.
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: One page of each kind, by the name its screenshots and test cases carry.
PAGES = {
    "home": "/",
    "region": "/id/varsinais-suomi/organiser/varsinais-suomi",
    "package": "/id/keski-suomi/package/nuorten-palvelukokonaisuus",
    "chain": "/id/varsinais-suomi/chain/lonkkamurtuma",
    "goal": "/id/keski-suomi/goal/nuoret-paatavoite",
    "producer": "/id/national/producer/kela",
    "service": "/id/keski-suomi/service/lastensuojelu",
    "indicator": "/id/varsinais-suomi/indicator/lonkkamurtuma-kotona-120-vrk",
    "segment": "/id/national/segment/lonkkamurtumapotilaat",
    "compare": "/compare?chains=varsinais-suomi/lonkkamurtuma,pohjois-savo/lonkkamurtuma,"
               "pohjois-pohjanmaa/lonkkamurtuma",
    "search": "/search?q=lonkka",
    "sparql": "/sparql",
    "api-docs": "/docs",
}
#: Parts of pages the README shows closer (at 1100 px, Finnish unless the path says):
#: name, path and the element pictured.
DETAILS = {
    "monitoring-indicator": ("/id/varsinais-suomi/indicator/lonkkamurtuma-kotona-120-vrk",
                             "section:has(> #monitoring-title)"),
    "monitoring-chain": ("/id/varsinais-suomi/chain/lonkkamurtuma", "#monitoring"),
    "monitoring-national": ("/id/national/indicator/lonkkamurtuma-kotona-120-vrk?lang=en",
                            "figure.chart"),
}
#: The widths pictured: name, viewport (CSS px) and the height a picture is cut at.
WIDTHS = {"desktop": ((1366, 900), 2700), "phone": ((390, 844), 4200)}


def page_url(base: str, path: str, lang: str) -> str:
    """The page's URL in `lang` (`?lang=` is the language switch)."""
    return f"{base}{path}{'&' if '?' in path else '?'}lang={lang}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: A workbook (`ketju workbook export`) pictured as a spreadsheet program shows it: LibreOffice
#: (Debian's libreoffice-calc-nogui, headless) prints the sheet to PDF, poppler's pdftoppm makes
#: the PNG (docs/screenshots/workbook.png). The description, its sheet and the cells shown.
SOFFICE = Path("/usr/bin/soffice")
PDFTOPPM = Path("/usr/bin/pdftoppm")
WORKBOOK = ("varsinais-suomi/lonkkamurtuma", "Vaiheet", "A1:L12")


def picture_workbook(home: Path, out: Path) -> Path | None:
    """docs/screenshots/workbook.png: the steps sheet of an exported chain, with the grid and
    the column letters and row numbers a planner sees; None when LibreOffice is missing."""
    import tempfile

    from openpyxl import load_workbook
    from openpyxl.styles import Alignment

    if not SOFFICE.exists() or not PDFTOPPM.exists():
        print(f"{SOFFICE} or {PDFTOPPM} is missing: run `make screenshots` (it installs "
              "libreoffice-calc-nogui and poppler-utils)", file=sys.stderr)
        return None
    description, sheet, cells = WORKBOOK
    env = {**os.environ, "KETJU_HOME": str(home)}
    with tempfile.TemporaryDirectory(prefix="ketju-workbook-picture-") as temporary:
        folder = Path(temporary)
        book_path = folder / "workbook.xlsx"
        subprocess.run(ketju("workbook", "export", description, "-o", str(book_path)),
                       env=env, check=True)
        book = load_workbook(book_path)
        for name in book.sheetnames:
            if name != sheet:
                del book[name]
        ws = book[sheet]
        # The Swedish and English names folded away, and no wrapping: a legible picture.
        for letter in ("E", "F"):
            ws.column_dimensions[letter].hidden = True
        for row in ws.iter_rows(min_row=3):
            ws.row_dimensions[row[0].row].height = None
            for cell in row:
                cell.alignment = Alignment(wrap_text=False, vertical="top")
        ws.print_area = cells
        ws.print_options.gridLines = True
        ws.print_options.headings = True
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1
        book.save(book_path)
        profile = (folder / "profile").as_uri()
        subprocess.run([str(SOFFICE), f"-env:UserInstallation={profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(folder), str(book_path)],
                       check=True, capture_output=True, timeout=180)
        out.mkdir(parents=True, exist_ok=True)
        target = out / "workbook"
        page = [str(PDFTOPPM), "-r", "150", "-singlefile", "-f", "1", "-l", "1",
                str(folder / "workbook.pdf")]
        raw = subprocess.run(page, check=True, capture_output=True).stdout
        x, y, width, height = _inked(raw)
        subprocess.run([page[0], "-png", "-x", str(x), "-y", str(y), "-W", str(width), "-H",
                        str(height), *page[1:], str(target)], check=True)
    print(f"{target}.png", file=sys.stderr)
    return target.with_suffix(".png")


def _inked(ppm: bytes, margin: int = 12) -> tuple[int, int, int, int]:
    """The box (x, y, width, height) around everything that is not white on a binary PPM (P6)
    page, with a margin: what the PNG is cropped to."""
    import re

    header = re.match(rb"P6\s+(\d+)\s+(\d+)\s+\d+\s", ppm)
    assert header, "not a binary PPM"
    width, height = int(header[1]), int(header[2])
    pixels = ppm[header.end():]
    stride = width * 3
    top, bottom, left, right = height, 0, width, 0
    for row in range(height):
        line = pixels[row * stride:(row + 1) * stride]
        stripped = line.lstrip(b"\xff")
        if not stripped:
            continue
        top, bottom = min(top, row), row
        left = min(left, (len(line) - len(stripped)) // 3)
        right = max(right, len(line.rstrip(b"\xff")) // 3)
    if bottom < top:
        return 0, 0, width, height
    x, y = max(0, left - margin), max(0, top - margin)
    return x, y, min(width, right + margin) - x, min(height, bottom + 1 + margin) - y


def ketju(*args: str) -> list[str]:
    return [sys.executable, "-m", "ketju", *args]


@contextlib.contextmanager
def serving(home: Path, seconds: float = 120) -> Iterator[str]:
    """`ketju serve --no-build` over the project at `home` on a free port; its base URL."""
    port = free_port()
    env = {**os.environ, "KETJU_HOME": str(home)}
    process = subprocess.Popen(ketju("serve", "--no-build", "--port", str(port)), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + seconds
        while True:
            if process.poll() is not None:
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"ketju serve exited with {process.returncode}: {error}")
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(base + "/healthz", timeout=2) as answer:
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{base} did not come up in {seconds:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def file_name(kind: str, width: str, lang: str) -> str:
    """`chain-desktop.png`; other languages than Finnish add theirs: `chain-phone-sv.png`."""
    return f"{kind}-{width}{'' if lang == 'fi' else '-' + lang}.png"


def take(base: str, out: Path, kinds: list[str], lang: str) -> list[Path]:
    """Pictures of the pages `kinds` at each width into `out`."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for width, ((w, h), max_height) in WIDTHS.items():
                context = browser.new_context(viewport={"width": w, "height": h},
                                              locale={"fi": "fi-FI", "sv": "sv-FI"}.get(
                                                  lang, "en-GB"),
                                              device_scale_factor=1)
                page = context.new_page()
                for kind in kinds:
                    page.goto(page_url(base, PAGES[kind], lang), wait_until="load")
                    page.wait_for_load_state("networkidle")
                    height = page.evaluate("document.documentElement.scrollHeight")
                    path = out / file_name(kind, width, lang)
                    page.screenshot(path=str(path), full_page=True, animations="disabled",
                                    clip={"x": 0, "y": 0, "width": w,
                                          "height": max(h, min(height, max_height))})
                    written.append(path)
                    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"
                          f"  {w}×{min(height, max_height)}", flush=True)
                context.close()
            if lang == "fi" and set(kinds) == set(PAGES):
                written += take_details(browser, base, out)
        finally:
            browser.close()
    return written


def take_details(browser: Any, base: str, out: Path) -> list[Path]:
    """The DETAILS pictures (the README's monitoring figures)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="fi-FI",
                                  device_scale_factor=1)
    page = context.new_page()
    written = []
    for name, (path, selector) in DETAILS.items():
        page.goto(base + path if "lang=" in path else page_url(base, path, "fi"),
                  wait_until="load")
        target = out / f"{name}.png"
        page.locator(selector).first.screenshot(path=str(target), animations="disabled")
        written.append(target)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}",
              flush=True)
    context.close()
    return written


#: The change the review picture shows, in data/varsinais-suomi/lonkkamurtuma.ttl: (text before,
#: text after) pairs; tests/test_review.py checks the review names exactly these four changes.
REVIEW_CHANGE = (
    # 1. a step moved: physiotherapy from 6 to 4, right after surgery (the ward care and the
    #    follow-up care after it are renumbered 5 and 6: renumbered, not moved)
    ("    ketju:position 6 ;\n    ketju:service vsserv:osastokuntoutus ;",
     "    ketju:position 4 ;\n    ketju:service vsserv:osastokuntoutus ;"),
    ("    ketju:position 4 ;\n    ketju:service vsserv:ortopedinen-osastohoito ;",
     "    ketju:position 5 ;\n    ketju:service vsserv:ortopedinen-osastohoito ;"),
    ("    ketju:position 5 ;\n    ketju:service vsserv:terveyskeskussairaalahoito ;",
     "    ketju:position 6 ;\n    ketju:service vsserv:terveyskeskussairaalahoito ;"),
    # 2. a producer changed: the discharge step is now the health centre hospital's
    ("    ketju:service vsserv:kotihoito ;\n    ketju:responsibleProducer vsprod:kotihoito ;",
     "    ketju:service vsserv:kotihoito ;\n"
     "    ketju:responsibleProducer vsprod:terveyskeskussairaala ;"),
    # 3. a hand-over's maximum wait: from one day to twelve hours
    ('    ketju:maximumWait "P1D"^^xsd:duration .',
     '    ketju:maximumWait "PT12H"^^xsd:duration .'),
    # 4. a step added after the follow-up visit
    ("        lmstep:jalkitarkastus ;\n    ketju:hasTransition",
     "        lmstep:jalkitarkastus, lmstep:etaseuranta ;\n    ketju:hasTransition"),
)
REVIEW_STEP = """
lmstep:etaseuranta a ketju:ChainStep ;
    skos:prefLabel "Etäseuranta"@fi, "Distansuppföljning"@sv, "Remote follow-up"@en ;
    ketju:position 10 ;
    ketju:service vsserv:vastaanotto ;
    ketju:responsibleProducer vsprod:sote-keskus ;
    ketju:serviceLevel level:basic .
"""
#: A pull-request comment's look (GitHub's light theme, roughly), for the picture only.
REVIEW_STYLE = """
body { margin: 0; padding: 24px; background: #fff; font: 14px/1.5 -apple-system,
  "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328; }
.comment { max-width: 860px; border: 1px solid #d1d9e0; border-radius: 6px; }
.head { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
  border-radius: 6px 6px 0 0; color: #59636e; }
.head b { color: #1f2328; }
.body { padding: 4px 16px 12px; }
h3 { font-size: 1.25em; margin: 20px 0 8px; }
a { color: #0969da; text-decoration: none; }
ul { padding-left: 2em; margin: 4px 0 12px; }
blockquote { margin: 12px 0; padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
code { background: #eff1f3; border-radius: 6px; padding: .2em .4em; font-size: 85%; }
"""


def review_markdown(lang: str = "fi") -> str:
    """The `ketju diff` comment for the example change (REVIEW_CHANGE), in `lang`."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        before, after = Path(folder) / "before", Path(folder) / "after"
        shutil.copytree(ROOT / "data", before / "data")
        shutil.copytree(ROOT / "data", after / "data")
        chain = after / "data" / "varsinais-suomi" / "lonkkamurtuma.ttl"
        text = chain.read_text(encoding="utf-8")
        for old, new in REVIEW_CHANGE:
            text = text.replace(old, new, 1)
        chain.write_text(text + REVIEW_STEP, encoding="utf-8")
        done = subprocess.run(ketju("diff", str(before), str(after), "--format", "markdown",
                                    "--lang", lang), capture_output=True, text=True,
                              check=True, env={**os.environ, "KETJU_HOME": str(ROOT)})
    return done.stdout


def take_review(out: Path) -> Path:
    """docs/screenshots/review.png: the review comment as a pull request shows it."""
    from markdown_it import MarkdownIt
    from playwright.sync_api import sync_playwright

    body = MarkdownIt("commonmark").render(review_markdown("fi"))
    page_html = (f"<!doctype html><html lang=fi><meta charset=utf-8><style>{REVIEW_STYLE}"
                 "</style><div class=comment><div class=head><b>github-actions</b> bot "
                 f"kommentoi</div><div class=body>{body}</div></div></html>")
    out.mkdir(parents=True, exist_ok=True)
    target = out / "review.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 920, "height": 600},
                                    device_scale_factor=1)
            page.set_content(page_html, wait_until="load")
            page.locator(".comment").screenshot(path=str(target), animations="disabled")
        finally:
            browser.close()
    print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}", flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", metavar="KIND",
                        help=f"pages to picture (default: all of {', '.join(PAGES)}, and "
                             "the workbook and the review comment)")
    parser.add_argument("--lang", choices=("fi", "sv", "en"), default="fi")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--home", type=Path, default=ROOT,
                        help="the project to build and serve (default: this checkout)")
    args = parser.parse_args(argv)
    if unknown := [kind for kind in args.kinds
                   if kind not in PAGES and kind not in ("workbook", "review")]:
        parser.error(f"no such kind of page: {', '.join(unknown)} (known: {', '.join(PAGES)})")
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: run `make browser`", file=sys.stderr)
        return 2
    env = {**os.environ, "KETJU_HOME": str(args.home)}
    pages = [kind for kind in args.kinds or list(PAGES) if kind in PAGES]
    if pages:
        subprocess.run(ketju("build", "--if-needed"), env=env, check=True)
        with serving(args.home) as base:
            take(base, args.out, pages, args.lang)
    if (not args.kinds or "review" in args.kinds) and args.lang == "fi":
        take_review(args.out)
    if (not args.kinds or "workbook" in args.kinds) and args.lang == "fi" \
            and picture_workbook(args.home, args.out) is None:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
