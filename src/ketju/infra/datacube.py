"""The RDF Data Cube integrity constraints (eheysehdot), run on the catalogue.

The W3C recommendation "The RDF Data Cube Vocabulary" (2014, section 11.1) gives 21 integrity
constraints as SPARQL ASK queries; a cube is well-formed when none of them is true. The ones
that apply to ketju's observations are in `queries/datacube/ic-NN.rq`, each with a header
quoting the spec and saying how (and why) it was adapted; docs/OBSERVATIONS.md says which do not
apply. A constraint that fails is run once more as a SELECT to name the observations (or data
sets, structures, dimensions) behind it, and each is reported in its file, at its line when it
is an observation from a CSV file.

The constraints on each observation that the row checks of ketju.infra.observations already
guarantee for observations made from CSV rows (IC-1, 11, 12, 13, 14: a header line `#+ rows:`
says which check) are skipped when no other file describes an observation: at national scale
(300,000 rows) they were most of the constraints' ten seconds. A Turtle-authored observation
brings them back, over every graph, so it is checked against the CSV-made ones too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.queries import parse_query_file
from ketju.infra.observations import PROV_DERIVED, is_observation_file, observation_source
from ketju.infra.validate import MAX_FINDINGS_PER_KIND, Finding, Severity, _msg

#: Where the constraints are, relative to the project root.
FOLDER = "queries/datacube"
#: Variables of a constraint's answer that name what breaks it, most telling first.
_CULPRITS = ("obs", "obs1", "first", "obs2", "dataset", "dsd", "componentSpec", "dim",
             "component")


@dataclass(frozen=True)
class Constraint:
    """One integrity constraint: its number, the spec's title and words, and its query."""

    name: str
    title: str
    words: str
    finnish: str
    ask: str
    #: Why the row checks guarantee it for observations from CSV files ("" when they do not).
    rows: str = ""

    @property
    def select(self) -> str:
        """The query as a SELECT of its variables (what breaks the constraint)."""
        text = self.ask.replace("SELECT (MIN(?equal)", "SELECT ?obs1 ?obs2 (MIN(?equal)")
        text = re.sub(r"^ASK\s*\{", "SELECT * WHERE {", text, count=1, flags=re.MULTILINE)
        return f"{text}\nLIMIT {MAX_FINDINGS_PER_KIND}"


@lru_cache(maxsize=4)
def _constraints(folder: str, _stamp: tuple[float, ...]) -> tuple[Constraint, ...]:
    found = []
    for path in sorted(Path(folder).glob("ic-*.rq")):
        query = parse_query_file(path)
        meta = {line[2:].strip().split(":", 1)[0]: line[2:].split(":", 1)[1].strip().strip('"')
                for line in query.text.splitlines()
                if line.startswith("#+ ") and ":" in line}
        body = "\n".join(line for line in query.text.splitlines()
                         if not line.lstrip().startswith("#"))
        found.append(Constraint(query.name, query.summary, query.description,
                                meta.get("fi", query.description), body, meta.get("rows", "")))
    return tuple(found)


def constraints(root: Path) -> tuple[Constraint, ...]:
    """The constraints of a project (read again when a file changes)."""
    folder = root / FOLDER
    stamp = tuple(p.stat().st_mtime for p in sorted(folder.glob("ic-*.rq")))
    return _constraints(str(folder), stamp)


#: Whether a graph other than a CSV file's describes an observation (its data set or its type).
_AUTHORED = """
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
ASK { { ?obs qb:dataSet ?dataset } UNION
      { ?type rdfs:subClassOf* qb:Observation . ?obs a ?type } }"""


def authored_observations(store: ox.Store) -> bool:
    """Whether any graph but the observation files' describes an observation (a Turtle file):
    then the constraints the row checks guarantee are run too."""
    others: list[ox.NamedNode | ox.DefaultGraph] = [ox.DefaultGraph()]
    # Not the build's inferred types either (qb:Observation of every observation).
    others += [g for g in store.named_graphs()
               if not is_observation_file(g.value.removeprefix(ns.GRAPH))
               and g.value not in (ns.INFERRED_GRAPH, ns.BUILD_GRAPH)]
    return bool(store.query(_AUTHORED, default_graph=others))


def violated(store: ox.Store, root: Path) -> list[Constraint]:
    """The constraints whose ASK is true on the store (the union of its graphs); those the
    row checks guarantee only when a Turtle file describes an observation."""
    wanted = constraints(root)
    if any(c.rows for c in wanted) and not authored_observations(store):
        wanted = tuple(c for c in wanted if not c.rows)
    return [c for c in wanted if bool(store.query(c.ask, use_default_graph_as_union=True))]


def check(store: ox.Store, root: Path, files: Iterable[str] | None = None) -> list[Finding]:
    """Findings for every violated constraint: one per thing that breaks it, in the file
    that describes it (kept when that file is among `files`, or is not a data file)."""
    wanted = set(files) if files is not None else None
    findings = []
    for constraint in violated(store, root):
        for row in store.query(constraint.select, use_default_graph_as_union=True):
            culprit = next((row[v] for v in _CULPRITS if _bound(row, v)), None)
            node = culprit.value if isinstance(culprit, ox.NamedNode | ox.Literal) else None
            file, line = _where(store, node) if node else ("ontology/ketju.ttl", None)
            if wanted is not None and file.startswith("data/") and file not in wanted:
                continue
            findings.append(_finding(store, constraint, file, line, node, row))
    return findings


def _bound(row: ox.QuerySolution, variable: str) -> bool:
    try:
        return row[variable] is not None
    except (KeyError, IndexError, ValueError):
        return False


def _where(store: ox.Store, node: str) -> tuple[str, int | None]:
    """The file (and line, for a row of a CSV file) that describes a node."""
    subject = ox.NamedNode(node)
    for quad in store.quads_for_pattern(subject, ox.NamedNode(PROV_DERIVED), None):
        if (found := observation_source(quad.object.value)) is not None:
            return found
    graphs = sorted(quad.graph_name.value for quad in store.quads_for_pattern(subject, None, None)
                    if isinstance(quad.graph_name, ox.NamedNode)
                    and quad.graph_name.value.startswith(ns.GRAPH))
    return (graphs[0].removeprefix(ns.GRAPH) if graphs else "ontology/ketju.ttl"), None


def _finding(store: ox.Store, constraint: Constraint, file: str, line: int | None,
             node: str | None, row: ox.QuerySolution) -> Finding:
    other = next((row[v] for v in ("obs2", "last") if _bound(row, v)), None)
    also_fi = also_en = ""
    if other is not None and other.value != node:
        other_file, other_line = _where(store, other.value)
        at = f"{other_file}:{other_line}" if other_line else other_file
        also_fi = f" Toinen havainto: <{other.value}> ({at})."
        also_en = f" The other observation: <{other.value}> ({at})."
    return Finding(
        file, line, Severity.ERROR, f"datacube-{constraint.name}",
        _msg(f"RDF Data Cube -eheysehto {constraint.title} ei täyty: {constraint.finnish}"
             f"{also_fi}",
             f"RDF Data Cube integrity constraint {constraint.title} is not met: "
             f"{constraint.words}{also_en}"),
        node=node)
