"""Every kind of page is made for people (issue 14, "Done when"): each page of
`tools.screenshots.PAGES` (home, region, package, chain, goal, producer, service, indicator,
segment, compare, search, SPARQL, API docs), at 390 px and 1366 px, in Finnish, Swedish and
English, in one headless Chromium over one server.

Checks, each a case per kind of page and width (its languages in one case):
- overflow: nothing pushes the page sideways (`scrollWidth` ≤ the viewport's width);
- header: no element of the header overlaps another, or runs into one beside it on its line
  (less than 4 px apart): its visible children, and the brand's words against the
  navigation's links and the search box;
- axe: axe-core reports no violation at all (any impact);
- raw-names (domain pages): no local name of a property (camelCase: `prefLabel`,
  `contributesTo`, ... from the ontology and the data) in the visible text;
- type-labels (domain pages): no "Entity", "Organization" or "Organisation" type label in it;
- diagram-fits (chain): every diagram shown fits the viewport's width;
- handover-labels (chain): every hand-over label of the diagram (`.ketju-label`, a label or a
  numbered marker) is complete (no "…") and inside the diagram's visible box (not clipped by
  it or by a scrolling box around it); so is every hand-over of a list told in words beside it
  (`ol.handovers`), within the window.

The API docs checked are `/docs`, the site's own page of the OpenAPI document; Swagger UI (at
/docs/try, to try the calls) is third-party markup that axe faults at the moderate level (no
main landmark or first heading, contrast, nested controls): it is tested for what it must do
(every operation shown, no serious axe finding, nothing loaded from elsewhere) in
test_web_security.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from playwright.sync_api import Browser
from tools.screenshots import PAGES, page_url

from ketju.core.project import Project
from tests.conftest import ROOT
from tests.servers import ketju_server
from tests.tools import npm_package

pytestmark = pytest.mark.slow

LANGS = ("fi", "sv", "en")
WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}
#: The pages of the domain: they speak of packages and chains, never of RDF.
DOMAIN_PAGES = ("region", "package", "chain", "goal", "producer", "service", "indicator",
                "segment")
#: Type labels of RDF that must not show on a domain page.
TYPE_LABELS = re.compile(r"\b(Entity|Organi[sz]ation)\b")

def checks_of(kind: str) -> list[str]:
    checks = ["overflow", "header", "axe"]
    if kind in DOMAIN_PAGES:
        checks += ["raw-names", "type-labels"]
    if kind == "chain":
        checks += ["diagram-fits", "handover-labels"]
    return checks


def cases() -> Iterator[Any]:
    for kind in PAGES:
        for check in checks_of(kind):
            for width in WIDTHS:
                yield pytest.param(kind, check, width, id=f"{kind}-{check}-{width}")


def property_names() -> frozenset[str]:
    """The local names of the properties of the ontology and the data that read as code
    (camelCase: `prefLabel`, `subOrganizationOf`, `hasStep`), not as words."""
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    kinds = {ox.NamedNode(f"http://www.w3.org/2002/07/owl#{k}") for k in (
        "ObjectProperty", "DatatypeProperty", "AnnotationProperty")} | {
        ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#Property")}
    iris: set[str] = set()
    for path in [*(ROOT / "ontology").rglob("*.ttl"), *(ROOT / "data").rglob("*.ttl")]:
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            iris.add(quad.predicate.value)
            if quad.predicate == rdf_type and quad.object in kinds:
                iris.add(quad.subject.value)
    locals_ = {re.split(r"[#/]", iri)[-1] for iri in iris}
    return frozenset(n for n in locals_ if re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", n))


#: Measures a page in one call: its width, the header's overlaps, its visible text and the
#: chain diagram's boxes.
MEASURE = """() => {
  const vw = window.innerWidth;
  const shown = el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 &&
      el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className.trim()
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.innerText || el.textContent || '').trim().slice(0, 30) + '"';
  // Two boxes side by side on one line meet when less than GAP px apart ("palveluketjut" of
  // the subtitle running into "Alueet" of the navigation); boxes on different lines never do.
  const GAP = 4;
  const meet = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > -GAP &&
                         Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1;
  const overlaps = [];
  const header = document.querySelector('header');
  if (header) {
    // The header's parts: its children, or those of the one box that wraps them all.
    let holder = header;
    while ([...holder.children].filter(shown).length === 1)
      holder = [...holder.children].filter(shown)[0];
    const kids = [...holder.children].filter(shown);
    kids.forEach((a, i) => kids.slice(i + 1).forEach(b => {
      if (meet(a.getBoundingClientRect(), b.getBoundingClientRect()))
        overlaps.push([name(a), name(b)]);
    }));
    // The brand's words against the navigation's links, line by line (an inline box that
    // wraps has a rectangle per line).
    const pieces = (els) => els.filter(shown).flatMap(
      el => [...el.getClientRects()].map(r => [el, r]));
    const brand = header.querySelector('.brand');
    if (brand) {
      const words = pieces([...header.querySelectorAll('.brand a, .brand span, .tagline')]);
      const links = pieces([...header.querySelectorAll('nav a, form input, form button')]);
      for (const [a, ra] of words) for (const [b, rb] of links)
        if (meet(ra, rb)) overlaps.push([name(a), name(b)]);
    }
  }
  const main = document.querySelector('main') || document.body;
  const diagrams = [...main.querySelectorAll('svg.ketju-diagram')].filter(shown).map(svg => {
    const r = svg.getBoundingClientRect();
    const box = {left: Math.max(r.left, 0), right: Math.min(r.right, vw),
                 top: r.top, bottom: r.bottom};
    for (let a = svg.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        const c = a.getBoundingClientRect();
        box.left = Math.max(box.left, c.left); box.right = Math.min(box.right, c.right);
        box.top = Math.max(box.top, c.top); box.bottom = Math.min(box.bottom, c.bottom);
      }
    }
    const labels = [...svg.querySelectorAll('.ketju-label')].map(g => {
      const l = g.getBoundingClientRect();
      const inside = l.left >= box.left - 1 && l.right <= box.right + 1 &&
                     l.top >= box.top - 1 && l.bottom <= box.bottom + 1;
      const text = [...g.querySelectorAll('text')].map(t => t.textContent).join(' ');
      return {text, inside, shown: l.width > 0 && l.height > 0};
    });
    return {left: r.left, right: r.right, labels};
  });
  // Hand-overs told in words beside the diagram (a numbered list for its markers).
  const listed = [...main.querySelectorAll('ol.handovers > li')].map(li => {
    const l = li.getBoundingClientRect();
    return {text: li.innerText, shown: shown(li), inside: l.left >= -1 && l.right <= vw + 1};
  });
  return {width: document.documentElement.scrollWidth, viewport: vw, overlaps,
          text: main.innerText, diagrams, listed};
}"""

AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact,
                                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
}"""

Seen = dict[tuple[str, str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def seen(browser: Browser, built_project: Project, server_logs: Path) -> Seen:
    """Every page in every language at every width, measured and checked by axe once."""
    axe = (npm_package("axe-core@4", "axe-core") / "axe.min.js").read_text(encoding="utf-8")
    found: Seen = {}
    with ketju_server(built_project.root, server_logs) as server:
        for lang in LANGS:
            for width, (w, h) in WIDTHS.items():
                # axe is added as an inline script, which the site's CSP refuses.
                context = browser.new_context(viewport={"width": w, "height": h},
                                              bypass_csp=True)
                page = context.new_page()
                for kind, path in PAGES.items():
                    response = page.goto(page_url(server.base, path, lang))
                    assert response is not None and response.status == 200, (kind, lang)
                    measured = page.evaluate(MEASURE)
                    page.add_script_tag(content=axe)
                    measured["axe"] = page.evaluate(AXE)
                    found[kind, lang, width] = measured
                context.close()
    return found


def overflow(page: dict[str, Any]) -> str:
    return (f"the page is {page['width']} px wide in a {page['viewport']} px window"
            if page["width"] > page["viewport"] else "")


def header(page: dict[str, Any]) -> str:
    return "; ".join(f"{a} overlaps or runs into {b}" for a, b in page["overlaps"])


def axe(page: dict[str, Any]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}): {', '.join(v['nodes'])}"
                     for v in page["axe"])


def raw_names(page: dict[str, Any]) -> str:
    found = sorted({m for m in re.findall(r"\b[a-z]+(?:[A-Z][a-z0-9]*)+\b", page["text"])
                    if m in PROPERTY_NAMES})
    return ", ".join(found)


def type_labels(page: dict[str, Any]) -> str:
    return ", ".join(sorted(set(TYPE_LABELS.findall(page["text"]))))


def diagram_fits(page: dict[str, Any]) -> str:
    if not page["diagrams"]:
        return "no diagram is shown"
    return "; ".join(f"a diagram spans {d['left']:.0f}–{d['right']:.0f} px of a "
                     f"{page['viewport']} px window" for d in page["diagrams"]
                     if d["left"] < -1 or d["right"] > page["viewport"] + 1)


def handover_labels(page: dict[str, Any]) -> str:
    labels = [label for d in page["diagrams"] for label in d["labels"]] + page["listed"]
    if not labels:
        return "no hand-over label is shown"
    problems = [f"cut: {label['text']!r}" for label in labels if "…" in label["text"]]
    problems += [f"not visible: {label['text']!r}" for label in labels
                 if not (label["inside"] and label["shown"])]
    return "; ".join(problems[:8]) + (f" (and {len(problems) - 8} more)"
                                      if len(problems) > 8 else "")


CHECKS: dict[str, Callable[[dict[str, Any]], str]] = {
    "overflow": overflow, "header": header, "axe": axe, "raw-names": raw_names,
    "type-labels": type_labels, "diagram-fits": diagram_fits,
    "handover-labels": handover_labels,
}
PROPERTY_NAMES = property_names()


def test_the_property_names_are_those_of_the_ontology() -> None:
    assert {"prefLabel", "contributesTo", "subOrganizationOf", "hasStep"} <= PROPERTY_NAMES
    assert "label" not in PROPERTY_NAMES, "one-word names read as words"


@pytest.mark.parametrize(("kind", "check", "width"), list(cases()))
def test_page_is_made_for_people(seen: Seen, kind: str, check: str, width: str) -> None:
    failed = {lang: problem for lang in LANGS
              if (problem := CHECKS[check](seen[kind, lang, width]))}
    assert not failed, f"{PAGES[kind]} at {WIDTHS[width][0]} px: {failed}"
