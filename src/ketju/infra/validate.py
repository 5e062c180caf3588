"""Check contributions before they are merged: syntax, ownership, links and SHACL shapes.

Every finding names the file and line a regional planner has to open, and says in plain
Finnish and English what is wrong. The same checks run in `ketju validate` (on an in-memory
store) and in `ketju build` (on the new on-disk store, before it is swapped in), so data that
fails validation never reaches the served store.
"""

from __future__ import annotations

import bisect
import codecs
import difflib
import errno
import hashlib
import json
import os
import stat
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.kinds import SEGMENTS
from ketju.core.project import Listing, Project, Refusal, RefusedPath, Role, SourceFile, printable
from ketju.infra.shacl import (
    ShapesGraph,
    ValidationResult,
    focus_nodes,
    validate_store,
)
from ketju.infra.turtle_locate import (
    Excess,
    TurtleIndex,
    TurtleLimits,
    find_excess,
    line_and_column,
)

# Limits on one source file. They are checked before the file is parsed (ketju.infra.turtle_locate
# scans its bytes), because a small file can make the parser and the checks after it use
# gigabytes: a 10 MB literal took 2.4 GB, collections nested a million deep 1.6 GB and 100 s.
# With them, `ketju validate FILE` stays under 300 MB for any file (docs/SECURITY.md has the
# measurements). Real files are a few KB; the 5M-triple benchmark's largest is 3.4 MB with
# 48,000 triples.

#: Largest file read at all, in bytes.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: Most triples one file may give: memory follows triples, not bytes (an in-memory store
#: takes about 300-500 bytes a triple, and `:s :p 1, 2, 3, ...` writes a triple in 3 bytes).
MAX_FILE_TRIPLES = 100_000
#: Longest literal, in characters.
MAX_LITERAL_CHARS = 10_000
#: Longest IRI or prefixed name, in characters.
MAX_NAME_CHARS = 2_000
#: Deepest nesting of ( ), [ ], << >> and {| |}. Our shapes nest 3 deep; data files may not
#: nest at all (blank nodes are refused); Oxigraph's parser crashed at 30,000.
MAX_NESTING_DEPTH = 32
#: Findings of one kind (code) listed per file; the rest are counted in one more finding.
MAX_FINDINGS_PER_KIND = 20
#: A file defining more nodes than this is checked against the shapes with the whole
#: catalogue, not node by node (binding 100,000 focus nodes took over ten minutes).
MAX_FOCUS_NODES = 2_000

LIMITS = TurtleLimits(literal_chars=MAX_LITERAL_CHARS, name_chars=MAX_NAME_CHARS,
                      depth=MAX_NESTING_DEPTH, triples=MAX_FILE_TRIPLES)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """One problem in one file, in the words a regional planner needs."""

    file: str
    line: int | None
    severity: Severity
    code: str
    message: dict[str, str]
    column: int | None = None
    node: str | None = None
    property: str | None = None
    value: str | None = None
    shape: str | None = None

    def text(self, lang: str = "en") -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        message = self.message.get(lang) or self.message.get("en") or next(
            iter(self.message.values()), ""
        )
        details = []
        if self.node:
            details.append(f"node <{self.node}>")
        if self.property:
            details.append(f"property <{self.property}>")
        if self.value and self.value != self.node:
            details.append(f"value {self.value}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{where}: {self.severity.value}: {message}{suffix}"

    def record(self) -> dict[str, object]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


@dataclass
class Report:
    """Everything found in one run."""

    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (f.file, f.code == MORE, f.line or 0, f.code,
                                                    f.node or ""))

    def to_json(self) -> str:
        return json.dumps(
            {
                "ok": self.ok,
                "files_checked": self.files_checked,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "findings": [f.record() for f in self.sorted()],
            },
            ensure_ascii=False,
            indent=2,
        )


def _msg(fi: str, en: str) -> dict[str, str]:
    return {"fi": fi, "en": en}


#: The code of the finding that counts what was left out of a file's list.
MORE = "more"


class _Capped:
    """Keeps the first MAX_FINDINGS_PER_KIND findings of each code (and severity) in each
    file, and counts the rest, so that a file with a million anonymous nodes is one short
    list, not a million lines (and the checks behind the rest need not run)."""

    def __init__(self, limit: int = MAX_FINDINGS_PER_KIND) -> None:
        self.limit = limit
        self.kept: list[Finding] = []
        self._counts: dict[tuple[str, str, Severity], int] = defaultdict(int)

    def full(self, file: str, code: str, severity: Severity = Severity.ERROR) -> bool:
        """Whether another finding of this kind would only be counted (then count it)."""
        key = (file, code, severity)
        if self._counts[key] < self.limit:
            return False
        self._counts[key] += 1
        return True

    def add(self, finding: Finding) -> None:
        if finding.code == MORE:
            self.kept.append(finding)
        elif not self.full(finding.file, finding.code, finding.severity):
            self._counts[(finding.file, finding.code, finding.severity)] += 1
            self.kept.append(finding)

    def findings(self) -> list[Finding]:
        more = [_more_finding(file, code, count - self.limit, severity)
                for (file, code, severity), count in self._counts.items() if count > self.limit]
        return self.kept + more


def _more_finding(file: str, code: str, count: int, severity: Severity) -> Finding:
    return Finding(file, None, severity, MORE, _msg(
        f"... ja vielä {count} samanlaista havaintoa ({code}) tässä tiedostossa: kustakin "
        f"lajista näytetään vain {MAX_FINDINGS_PER_KIND} ensimmäistä. Korjaa nämä ja "
        "tarkista uudelleen.",
        f"... and {count} more findings of this kind ({code}) in this file: only the first "
        f"{MAX_FINDINGS_PER_KIND} of each kind are listed. Fix these and check again."))


def cap_findings(findings: Iterable[Finding]) -> list[Finding]:
    """At most MAX_FINDINGS_PER_KIND findings of each code per file, and one that counts
    the rest."""
    capped = _Capped()
    for finding in findings:
        capped.add(finding)
    return capped.findings()


# ---------------------------------------------------------------------------------------------
# Loading files into a store, one named graph each
# ---------------------------------------------------------------------------------------------


def _read_regular(source: SourceFile) -> bytes:
    """The bytes of a regular file, never through a link, and at most MAX_FILE_BYTES + 1."""
    descriptor = os.open(source.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file")
        return file.read(MAX_FILE_BYTES + 1)


def _utf8_error(data: bytes, step: int = 1 << 20) -> int | None:
    """Offset of the first byte that is not UTF-8, decoding a megabyte at a time (decoding
    the whole file at once costs up to four times its size).

    >>> [_utf8_error(b"ab\\xc3\\xa4cd\\xe4e", step) for step in (1, 2, 3, 100)]
    [6, 6, 6, 6]
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    for start in range(0, len(data), step):
        # The decoder keeps up to 3 bytes of a character begun in the step before.
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(data[start : start + step], final=start + step >= len(data))
        except UnicodeDecodeError as error:
            return start - pending + error.start
    return None


#: Files the served build accepted, by their SHA-256: their bytes passed the checks below
#: (kept in the store folder; see `accepted_files`).
ACCEPTED_FILES = "accepted-files.json"


def accepted_files(store_folder: Path) -> dict[str, str]:
    """{relative name: SHA-256} of the files a build accepted under today's limits, or {}."""
    try:
        recorded = json.loads((store_folder / ACCEPTED_FILES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(recorded, dict) or recorded.get("limits") != repr(LIMITS):
        return {}
    files = recorded.get("files")
    return files if isinstance(files, dict) else {}


def write_accepted_files(store_folder: Path, digests: dict[str, str]) -> None:
    (store_folder / ACCEPTED_FILES).write_text(
        json.dumps({"limits": repr(LIMITS), "files": digests}), encoding="utf-8")


def read_regular(source: SourceFile) -> tuple[bytes | None, list[Finding]]:
    """The bytes of a regular file, or why they cannot be read (a link put in its place since
    the folder was listed, an I/O error)."""
    try:
        return _read_regular(source), []
    except OSError as error:
        if error.errno == errno.ELOOP:  # swapped for a link since the folder was listed
            return None, [refused_finding(RefusedPath(printable(source.relative),
                                                      Refusal.SYMLINK))]
        return None, [
            Finding(source.relative, None, Severity.ERROR, "unreadable",
                    _msg(f"Tiedostoa ei voi lukea: {error.strerror}.",
                         f"The file cannot be read: {error.strerror}."))
        ]


def read_checked(source: SourceFile, accepted: Mapping[str, str] | None = None,
                 ) -> tuple[bytes | None, list[Finding]]:
    """The file's bytes, or the findings that stop it from being parsed at all. A file whose
    bytes the served build accepted (`accepted`: name -> SHA-256) is not scanned again: that
    is most of the catalogue when one changed file is validated."""
    data, unread = read_regular(source)
    if data is None:
        return None, unread
    if len(data) > MAX_FILE_BYTES:
        return None, [
            Finding(source.relative, 1, Severity.ERROR, "too-large",
                    _msg(f"Tiedosto on liian suuri (yli {MAX_FILE_BYTES} tavua). Jaa se "
                         "pienempiin tiedostoihin, esimerkiksi yksi tiedosto kutakin "
                         "palveluketjua kohden.",
                         f"The file is too large (over {MAX_FILE_BYTES} bytes). Split it, for "
                         "example one file per service chain."))
        ]
    if (bad := _utf8_error(data)) is not None:
        line = data.count(b"\n", 0, bad) + 1
        column = bad - (data.rfind(b"\n", 0, bad) + 1) + 1
        return None, [
            Finding(source.relative, line, Severity.ERROR, "not-utf8",
                    _msg("Tiedosto ei ole UTF-8-muodossa. Tallenna se editorissa "
                         "merkistöllä UTF-8 (esimerkiksi ä, ö ja å ovat nyt väärin koodattuja).",
                         "The file is not UTF-8. Save it in your editor with the UTF-8 "
                         "encoding (letters such as ä, ö and å are encoded wrongly now)."),
                    column=column)
        ]
    if not data or data.isspace():
        return None, [
            Finding(source.relative, 1, Severity.ERROR, "empty",
                    _msg("Tiedosto on tyhjä. Poista se tai lisää siihen kuvaus.",
                         "The file is empty. Delete it or add a description to it."))
        ]
    if accepted and accepted.get(source.relative) == hashlib.sha256(data).hexdigest():
        return data, []
    if (excess := find_excess(data, LIMITS)) is not None:
        return None, [excess_finding(source, data, excess)]
    return data, []


def excess_finding(source: SourceFile, data: bytes, excess: Excess) -> Finding:
    """A file beyond one of the limits: where, and what to do (the file is not read on)."""
    line, column = line_and_column(data, excess.offset)
    n = excess.limit
    code, message = {
        "literal": ("literal-too-long", _msg(
            f"Teksti on liian pitkä (yli {n} merkkiä). Tiivistä kuvaus tai linkitä pidempi "
            "asiakirja.",
            f"The text is too long (more than {n} characters). Shorten it or link to a longer "
            "document.")),
        "name": ("name-too-long", _msg(
            f"IRI tai nimi on liian pitkä (yli {n} merkkiä). Käytä lyhyempää tunnistetta.",
            f"An IRI or name is too long (more than {n} characters). Use a shorter one.")),
        "depth": ("nesting-too-deep", _msg(
            f"Sulkeita ( ), [ ], << >> tai {{| |}} on sisäkkäin liian monta (yli {n}). Anna "
            "kuvatuille asioille omat IRI-tunnisteet sisäkkäisten rakenteiden sijaan.",
            f"Brackets ( ), [ ], << >> or {{| |}} are nested too deep (more than {n}). Give "
            "the things described IRIs of their own instead of nesting them.")),
        "triples": ("too-many-triples", _msg(
            f"Tiedostossa on liian monta kuvausta (yli {n} kolmikkoa). Jaa se pienempiin "
            "tiedostoihin, esimerkiksi yksi tiedosto kutakin palveluketjua kohden.",
            f"The file holds too many statements (more than {n} triples). Split it, for "
            "example one file per service chain.")),
    }[excess.kind]
    suffix = _msg(" Tiedostoa ei luettu tätä pidemmälle.", " The file was not read further.")
    if excess.kind == "triples":
        line, column, suffix = 1, None, _msg("", "")
    return Finding(source.relative, line, Severity.ERROR, code,
                   {lang: text + suffix[lang] for lang, text in message.items()},
                   column=column)


def refused_finding(refused: RefusedPath) -> Finding:
    """A file or folder that is not read at all, and how to put it right."""
    message = {
        Refusal.SYMLINK: _msg(
            "Tämä on symbolinen linkki. Linkkejä ei seurata: laita tähän itse tiedosto tai "
            "kansio.",
            "This is a symbolic link. Links are not followed: put the file or folder itself "
            "here."),
        Refusal.FILE_NAME: _msg(
            "Tiedoston nimessä saa olla vain pieniä kirjaimia a–z, numeroita 0–9 ja "
            "väliviivoja '-', ja sen pitää päättyä .ttl; nimeä tiedosto uudelleen. "
            "(Havaintotiedostot kansiossa data/{alue}/observations/ päättyvät .csv.)",
            "File names may only use a–z, 0–9 and '-' and end in .ttl; rename the file. "
            "(Observation files in data/{region}/observations/ end in .csv.)"),
        Refusal.FOLDER_NAME: _msg(
            "Kansion nimessä saa olla vain pieniä kirjaimia a–z, numeroita 0–9 ja "
            "väliviivoja '-'; nimeä kansio uudelleen.",
            "Folder names may only use a–z, 0–9 and '-'; rename the folder."),
        Refusal.NOT_A_FILE: _msg(
            "Tämä ei ole tavallinen tiedosto (vaan esimerkiksi laite tai putki), joten sitä ei "
            "lueta.",
            "This is not an ordinary file (but, say, a device or a pipe), so it is not read."),
    }[refused.reason]
    return Finding(refused.relative, None, Severity.ERROR, refused.reason.value, message)


def syntax_finding(source: SourceFile, error: SyntaxError) -> Finding:
    reason = printable(str(error))  # it quotes the file: no terminal control characters
    if ": " in reason:
        reason = reason.split(": ", 1)[1]
    reason = reason.rsplit(" (line", 1)[0]
    return Finding(source.relative, error.lineno, Severity.ERROR, "syntax",
                   _msg(f"Turtle-syntaksivirhe: {reason}. Tarkista rivi ja sitä edeltävä "
                        "rivi (puuttuuko piste, puolipiste tai lainausmerkki?).",
                        f"Turtle syntax error: {reason}. Check this line and the one before "
                        "it (a missing full stop, semicolon or quotation mark?)."),
                   column=error.offset)


def load_file(store: ox.Store, source: SourceFile, data: bytes) -> Finding | None:
    """Load one file into its named graph (atomically: a syntax error loads nothing)."""
    graph = ox.NamedNode(source.graph)
    try:
        store.load(data, format=ox.RdfFormat.TURTLE, to_graph=graph)
    except SyntaxError as error:
        if store.contains_named_graph(graph):
            store.remove_graph(graph)
        return syntax_finding(source, error)
    return None


# ---------------------------------------------------------------------------------------------
# Catalogue-level checks that SHACL cannot express: ownership, links, sizes
# ---------------------------------------------------------------------------------------------


def _rows(store: ox.Store, query: str) -> Iterable[ox.QuerySolution]:
    return store.query(query, use_default_graph_as_union=True)


def known_regions(store: ox.Store) -> set[str]:
    rows = _rows(store, f"SELECT ?r WHERE {{ ?r a <{ns.ONTOLOGY}Region> }}")
    regions = {row["r"].value.removeprefix(ns.VOCAB + "region/") for row in rows}
    return regions | {"national"}


def check_file_content(store: ox.Store, source: SourceFile, regions: set[str]) -> list[Finding]:
    """Ownership, IRI scheme, anonymous nodes and oversized literals in one data file."""
    findings = _Capped()
    graph = source.graph
    region = source.region
    if region is None or region not in regions:
        findings.add(Finding(
            source.relative, None, Severity.ERROR, "unknown-region",
            _msg(f"Tiedoston pitää olla alueen kansiossa data/{{alue}}/; '{region or ''}' ei ole "
                 f"tunnettu alue. Tunnetut: {', '.join(sorted(regions))}.",
                 f"The file must be in a region folder data/{{region}}/; '{region or ''}' is not "
                 f"a known region. Known: {', '.join(sorted(regions))}.")))
        return findings.findings()
    namespace = ns.region_namespace(region)
    subjects = _rows(store, f"SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    for row in subjects:
        subject = row["s"]
        if isinstance(subject, ox.BlankNode):
            if findings.full(source.relative, "blank-node"):
                continue
            findings.add(Finding(
                source.relative, None, Severity.ERROR, "blank-node",
                _msg("Nimetön solmu ([ ... ] tai _:x). Anna sille oma IRI alueesi nimiavaruudessa, "
                     "jotta siihen voi viitata.",
                     "Anonymous node ([ ... ] or _:x). Give it its own IRI in your region's "
                     "namespace so that others can refer to it."),
                node="_:" + subject.value))
            continue
        iri = subject.value
        if not iri.startswith(namespace):
            findings.add(Finding(
                source.relative, None, Severity.ERROR, "ownership",
                _msg(f"Tiedosto kansiossa data/{region}/ voi kuvata vain alueen omia IRI-"
                     f"tunnisteita ({namespace}...). Tämä kuuluu muualle: kuvaa se sen omistajan "
                     "tiedostossa tai käytä omaa IRI:tä.",
                     f"A file in data/{region}/ may only describe its region's own IRIs "
                     f"({namespace}...). This one belongs elsewhere: describe it in its owner's "
                     "file or use an IRI of your own."),
                node=iri))
        elif ns.parse_data_iri(iri) is None:
            findings.add(Finding(
                source.relative, None, Severity.ERROR, "iri-scheme",
                _msg("IRI ei noudata muotoa https://w3id.org/ketju/id/{alue}/{laji}/{tunniste}: "
                     "tunnisteessa saa olla vain pieniä kirjaimia a-z, numeroita ja väliviivoja.",
                     "The IRI does not follow https://w3id.org/ketju/id/{region}/{kind}/{slug}: "
                     "a slug may only hold lower-case a-z, digits and hyphens."),
                node=iri))
        elif (kind := ns.parse_data_iri(iri)["kind"]) not in SEGMENTS:  # type: ignore[index]
            findings.add(Finding(
                source.relative, None, Severity.ERROR, "iri-scheme",
                _msg(f"Tuntematon laji '{kind}' IRI:ssä. Sallitut: {', '.join(SEGMENTS)}.",
                     f"Unknown kind '{kind}' in the IRI. Allowed: {', '.join(SEGMENTS)}."),
                node=iri))
    long_literals = _rows(store, f"""
        SELECT ?s ?p (STRLEN(STR(?o)) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }}
            FILTER(isLiteral(?o) && STRLEN(STR(?o)) > {MAX_LITERAL_CHARS}) }}""")
    for row in long_literals:
        findings.add(Finding(
            source.relative, None, Severity.ERROR, "literal-too-long",
            _msg(f"Teksti on liian pitkä ({row['n'].value} merkkiä, enintään "
                 f"{MAX_LITERAL_CHARS}). Tiivistä kuvaus tai linkitä pidempi asiakirja.",
                 f"The text is too long ({row['n'].value} characters, at most "
                 f"{MAX_LITERAL_CHARS}). Shorten it or link to a longer document."),
            node=row["s"].value if isinstance(row["s"], ox.NamedNode) else None,
            property=row["p"].value))
    return findings.findings()


def check_links(store: ox.Store, sources: Sequence[SourceFile]) -> list[Finding]:
    """Every ketju or PTV IRI a file points to (as property, class or value) must exist."""
    if not sources:
        return []
    by_graph = {s.graph: s for s in sources}
    checked = " || ".join(f'STRSTARTS(STR(?x), "{n}")' for n in ns.CHECKED_NAMESPACES)
    findings = _Capped()
    seen: set[tuple[str, str]] = set()
    for graph, source in by_graph.items():
        rows = _rows(store, f"""
            SELECT DISTINCT ?s ?p ?x WHERE {{
                GRAPH <{graph}> {{ {{ ?s ?p ?x }} UNION {{ ?s ?x ?o BIND(?x AS ?p) }} }}
                FILTER(isIRI(?x) && ({checked}) && !STRSTARTS(STR(?x), "{ns.GRAPH}"))
                FILTER NOT EXISTS {{ ?x ?anyProperty ?anyValue }}
            }}""")
        for row in rows:
            target = row["x"].value
            if (source.relative, target) in seen:
                continue
            seen.add((source.relative, target))
            if findings.full(source.relative, "dangling-reference"):
                continue  # counted only: a suggestion costs a query
            suggestion = _did_you_mean(store, target)
            hint_fi = f" Tarkoititko <{suggestion}>?" if suggestion else ""
            hint_en = f" Did you mean <{suggestion}>?" if suggestion else ""
            subject = row["s"]
            findings.add(Finding(
                source.relative, None, Severity.ERROR, "dangling-reference",
                _msg(f"Viittaus IRI:hin, jota ei ole kuvattu missään (kirjoitusvirhe, tai sen "
                     f"kuvaava tiedosto puuttuu).{hint_fi}",
                     f"Reference to an IRI that is not described anywhere (a typo, or the file "
                     f"describing it is missing).{hint_en}"),
                node=subject.value if isinstance(subject, ox.NamedNode) else None,
                property=row["p"].value if row["p"].value != target else None,
                value=f"<{target}>"))
    return findings.findings()


def _did_you_mean(store: ox.Store, target: str) -> str | None:
    """The closest existing IRI in the same namespace (only run for broken links)."""
    namespace = target.rsplit("#", 1)[0] + "#" if "#" in target else \
        target.rsplit("/", 1)[0] + "/"
    rows = _rows(store, f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o
        FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{namespace}")) }}""")
    candidates = [row["s"].value for row in rows]
    matches = difflib.get_close_matches(target, candidates, n=1, cutoff=0.8)
    return matches[0] if matches else None


# ---------------------------------------------------------------------------------------------
# SHACL results as findings
# ---------------------------------------------------------------------------------------------


def shacl_findings(
    store: ox.Store, shapes: ShapesGraph, sources: Sequence[SourceFile], everything: bool
) -> list[Finding]:
    """SHACL results for the nodes the given files define. When they are all the data files,
    the whole catalogue is validated at once; otherwise only their nodes are."""
    if not sources:
        return []
    by_graph = {s.graph: s for s in sources}
    focus = None if everything else focus_nodes(store, list(by_graph))
    if focus is not None and len(focus) > MAX_FOCUS_NODES:
        focus = None  # the whole catalogue is quicker; results are kept for these files only
    sieve = _ShapeSieve(store, set(by_graph))
    validate_store(store, shapes, focus=focus, keep=sieve.keep)
    findings = [_finding_from_result(result, by_graph[graph])
                for (graph, _severity), kept in sorted(sieve.kept.items())
                for _key, result in kept]
    for (graph, severity), count in sorted(sieve.dropped.items()):
        findings.append(_more_finding(by_graph[graph].relative, "shape", count,
                                      _severity(severity)))
    return findings


class _ShapeSieve:
    """Sees every SHACL result as it is made and keeps, per file and severity, the first
    MAX_FINDINGS_PER_KIND in sort order (one of those that share a message); the others are
    only counted, so memory does not grow with the results (a file of 200,000 incomplete
    chains gave over a million)."""

    def __init__(self, store: ox.Store, graphs: set[str]) -> None:
        self._store = store
        self._graphs = graphs
        self._owners: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.kept: dict[tuple[str, str], list[tuple[tuple[str, ...], ValidationResult]]] = \
            defaultdict(list)
        self.dropped: dict[tuple[str, str], int] = defaultdict(int)

    def keep(self, result: ValidationResult) -> bool:
        graphs = self._defining_graphs(result.focus)
        message = result.messages.get("en") or result.messages.get("") or ""
        key = (*result.key(), message)
        with self._lock:
            for graph in graphs:
                kept = self.kept[(graph, result.severity)]
                if any(other[0][:6] == key for other in kept):
                    continue  # two constraints of one property may share a message
                bisect.insort(kept, ((*key, result.shape), result), key=lambda item: item[0])
                if len(kept) > MAX_FINDINGS_PER_KIND:
                    kept.pop()
                    self.dropped[(graph, result.severity)] += 1
        return False  # what is kept is kept here

    def _defining_graphs(self, node: str) -> list[str]:
        """The files in which the node is a subject."""
        if node.startswith("_:"):
            return []
        if (owners := self._owners.get(node)) is None:
            # A node's own quads: a handful, where one query for a batch of nodes joined every
            # graph with every node (minutes for a file of 100,000 nodes).
            found = {quad.graph_name.value
                     for quad in self._store.quads_for_pattern(ox.NamedNode(node), None, None)
                     if isinstance(quad.graph_name, ox.NamedNode)}
            owners = sorted(found & self._graphs)
            if len(self._owners) >= 10_000:
                self._owners.clear()  # a cache, not a copy of the file
            self._owners[node] = owners
        return owners


def _severity(shacl_severity: str) -> Severity:
    return Severity.ERROR if shacl_severity == "Violation" else Severity.WARNING


def _finding_from_result(result: ValidationResult, source: SourceFile) -> Finding:
    severity = _severity(result.severity)
    messages = dict(result.messages)
    if "" in messages and not ({"fi", "en"} & messages.keys()):
        messages["en"] = messages.pop("")
    if not messages:
        messages = _msg(f"Ehto {result.component} ei täyty.",
                        f"Constraint {result.component} is not met.")
    prop = result.path[1:-1] if result.path and result.path.startswith("<") else result.path
    return Finding(source.relative, None, severity, "shape", messages, node=result.focus,
                   property=prop, value=result.value, shape=result.shape)


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


def load_sources(
    store: ox.Store, sources: Sequence[SourceFile],
    progress: Callable[[SourceFile], None] | None = None,
    accepted: Mapping[str, str] | None = None,
    root: Path | None = None,
    observation_context: Sequence[SourceFile] = (),
    on_loaded: Callable[[bytes, ox.RdfFormat, str | None], None] | None = None,
) -> tuple[list[Finding], set[str]]:
    """Load every file into its named graph; return the findings that stopped files and the
    graphs that loaded. One `load` per file (parsed in Rust): on the in-memory store that
    validation uses, measured 2.3 s for 1M triples against 3.8 s through one Python stream.

    Observation CSV files (`SourceFile.tabular`) are read after the Turtle, because their
    rows are checked against the catalogue (ketju.infra.observations; `root` is the project
    whose metadata document describes them, `observation_context` the region's other files
    whose rows only count for duplicates, `on_loaded` sees what they put into the store);
    they are not read when a Turtle file is broken."""
    findings: list[Finding] = []
    loaded: set[str] = set()
    empty = _msg("Tiedostossa ei ole yhtään kuvausta (vain kommentteja tai etuliitteitä).",
                 "The file holds no statements (only comments or prefixes).")
    tables = [source for source in sources if source.tabular]
    for source in sources:
        if source.tabular:
            continue
        data, problems = read_checked(source, accepted)
        _load_checked(store, source, data, problems, findings, loaded, empty)
        if progress is not None:
            progress(source)
    if tables and not findings:
        from ketju.infra import observations  # it builds on this module's findings

        more, tables_loaded = observations.load_observations(
            store, root or Project.locate().root, tables, observation_context, on_loaded)
        findings += more
        loaded |= tables_loaded
    if progress is not None:
        for source in tables:
            progress(source)
    return findings, loaded


def _load_checked(store: ox.Store, source: SourceFile, data: bytes | None,
                  problems: list[Finding], findings: list[Finding], loaded: set[str],
                  empty: dict[str, str]) -> None:
    """Load one read and scanned file into its graph, or record why it was not loaded."""
    findings.extend(problems)
    if data is None:
        return
    problem = load_file(store, source, data)
    if problem is not None:
        findings.append(problem)
    elif store.contains_named_graph(ox.NamedNode(source.graph)):
        loaded.add(source.graph)
    else:
        findings.append(Finding(source.relative, 1, Severity.ERROR, "empty", empty))


def check_store(
    store: ox.Store, project: Project, targets: Sequence[SourceFile], loaded: set[str],
    listing: Listing | None = None,
) -> list[Finding]:
    """The checks that need the whole catalogue: content, links and shapes of the targets."""
    listing = listing or project.listing()
    data_targets = [t for t in targets if t.role is Role.DATA and t.graph in loaded]
    turtle_targets = [t for t in data_targets if not t.tabular]
    regions = known_regions(store)

    def content_and_links() -> list[Finding]:
        # Observation files were checked row by row as they were read; the RDF Data Cube
        # integrity constraints check what they make together with the catalogue.
        findings = [f for source in turtle_targets
                    for f in check_file_content(store, source, regions)]
        findings += check_links(store, turtle_targets)
        return findings + datacube_findings(store, project, data_targets)

    shapes = ShapesGraph.from_files(str(f.path) for f in listing.shapes)
    everything = {t.graph for t in data_targets} >= {f.graph for f in listing.data}
    # The per-file checks run beside the shapes (both are mostly queries, which release the
    # GIL): about a third off a whole-catalogue validation on two cores.
    with ThreadPoolExecutor(1, thread_name_prefix="file-checks") as side:
        per_file = side.submit(content_and_links)
        shape_findings = shacl_findings(store, shapes, data_targets, everything)
        return cap_findings(_unique(per_file.result() + shape_findings))


def datacube_findings(store: ox.Store, project: Project,
                      targets: Sequence[SourceFile]) -> list[Finding]:
    """The RDF Data Cube integrity constraints (ketju.infra.datacube), kept for the given
    files' observations and for what belongs to no file (the data structure)."""
    from ketju.infra import datacube  # it builds on this module's findings

    return datacube.check(store, project.root, {t.relative for t in targets})


def _unique(findings: list[Finding]) -> list[Finding]:
    """One finding per place and message: two constraints of one property (say its class and
    its pattern) share a message, and a planner needs to read it once."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for finding in findings:
        if (key := _unique_key(finding)) not in seen:
            seen.add(key)
            kept.append(finding)
    return kept


def _unique_key(finding: Finding) -> tuple[object, ...]:
    return (finding.file, finding.code, finding.node, finding.property, finding.value,
            finding.message.get("en"))


def add_lines(findings: list[Finding], sources: Sequence[SourceFile],
              root: Path | None = None) -> list[Finding]:
    """Fill in the line where each finding's node (or property of it) is written (`root`:
    the project, whose metadata document says how an observation file's rows are named)."""
    findings = _add_table_lines(findings, sources, root)
    paths = {s.relative: s.path for s in sources if not s.tabular}
    wanted: dict[str, set[str]] = defaultdict(set)
    anonymous_count: dict[str, int] = defaultdict(int)
    for finding in findings:
        if finding.line is None and finding.file in paths and finding.node is not None:
            wanted[finding.file].add(finding.node)
            if finding.value:
                wanted[finding.file].add(finding.value.strip("<>"))
            anonymous_count[finding.file] += finding.code == "blank-node"
    indexes: dict[str, TurtleIndex] = {}
    located = []
    for finding in findings:
        if finding.file not in wanted or finding.line is not None or finding.node is None:
            located.append(finding)
            continue
        if finding.file not in indexes:
            # Only what is reported is looked up: the index of a big file stays small.
            text = paths[finding.file].read_text(encoding="utf-8")
            indexes[finding.file] = TurtleIndex.from_text(
                text, wanted=wanted[finding.file], anonymous_limit=anonymous_count[finding.file])
            del text
        index = indexes[finding.file]
        line = None
        if finding.code == "blank-node":
            # Parsers rename blank nodes; report them in the order they are written.
            anonymous = index.anonymous_subjects
            line = anonymous.pop(0) if anonymous else None
        elif finding.code == "dangling-reference" and finding.value:
            line = index.mention_line(finding.value.strip("<>"))
        if line is None and finding.property:
            line = index.predicate_line(finding.node, finding.property)
        if line is None:
            line = index.subject_line(finding.node) or index.mention_line(finding.node)
        located.append(Finding(**{**finding.__dict__, "line": line}))
    return located


def _add_table_lines(findings: list[Finding], sources: Sequence[SourceFile],
                     root: Path | None) -> list[Finding]:
    """Fill in the line of findings about an observation (a row of a CSV file)."""
    tables = {s.relative: s for s in sources if s.tabular}
    wanted = {f.file for f in findings if f.line is None and f.node and f.file in tables}
    if not wanted:
        return findings
    from ketju.infra import observations  # it builds on this module's findings

    schema = observations.load_schema(root or Project.locate().root)
    lines = {name: observations.observation_lines(tables[name], schema) for name in wanted}
    return [Finding(**{**f.__dict__, "line": lines[f.file].get(f.node or "")})
            if f.file in lines and f.line is None else f for f in findings]


def _check_all(project: Project, targets: Sequence[SourceFile],
               sources: Sequence[SourceFile], listing: Listing) -> list[Finding]:
    """Load every source into a fresh in-memory store and check the targets; the store is
    gone when this returns, before the findings get their lines."""
    store = ox.Store()
    tables_only = bool(targets) and all(t.tabular for t in targets)
    context: list[SourceFile] = []
    if tables_only:
        sources, context = _table_context(targets, sources)
    else:
        # Observation files are checked against the descriptions of their own region: a
        # changed Turtle file brings its region's observations along (a changed unit or range
        # shows in them), not the whole country's (4 million triples at national scale).
        regions = {t.region for t in targets if t.role is Role.DATA}
        sources = [s for s in sources if not s.tabular or s.region in regions]
    findings, loaded = load_sources(store, sources,
                                    accepted=accepted_files(project.store_link.resolve()),
                                    root=project.root, observation_context=context)
    target_names = {t.relative for t in targets}
    context_broken = [f for f in findings if f.file not in target_names]
    findings = [f for f in findings if f.file in target_names]
    if findings or context_broken:
        # Content checks need the whole catalogue parsed; report what stops parsing first.
        for finding in context_broken:
            findings.append(Finding(
                finding.file, finding.line, Severity.ERROR, "context-broken",
                _msg("Luettelon muu tiedosto on rikki, joten sisältötarkistukset ohitettiin: "
                     + finding.message["fi"], "Another file of the catalogue is broken, so content "
                     "checks were skipped: " + finding.message["en"]), column=finding.column))
        return findings
    if tables_only:
        return datacube_findings(store, project, targets)
    return check_store(store, project, targets, loaded, listing)


def _table_context(targets: Sequence[SourceFile], sources: Sequence[SourceFile],
                   ) -> tuple[list[SourceFile], list[SourceFile]]:
    """What checking observation files alone needs: the ontology and vocabularies, the national
    definitions and their regions' Turtle (indicators, units, ranges, hand-overs); and, apart,
    the regions' other observation files (only their rows' keys, for duplicates).

    This is what keeps `ketju validate data/{region}/observations/x.csv` within about a second
    at national scale (the other regions' descriptions and observations, and the shapes, are
    not read: the shapes are for Turtle descriptions; the rows are checked by the pipeline and
    by the RDF Data Cube integrity constraints)."""
    regions = {t.region for t in targets} | {"national"}
    names = {t.relative for t in targets}
    needed = [s for s in sources if s.role is Role.ONTOLOGY or (
        s.role is Role.DATA and s.region in regions and (not s.tabular or s.relative in names))]
    others = [s for s in sources if s.tabular and s.region in regions and s.relative not in names]
    return needed, others


def validate(project: Project, paths: Sequence[Path] | None = None) -> Report:
    """Validate the given files (all data when None) in the context of the whole catalogue.

    A given file replaces the catalogue's file of the same name, so a changed copy can be
    checked before it is committed. Files and folders that are refused by name or for being
    links (see `Project.given_sources`) are reported and not read, in the catalogue too.
    """
    listing = project.listing()
    catalogue_refused = listing.refused
    if paths:
        for path in paths:
            if not path.exists() and not path.is_symlink():
                raise FileNotFoundError(path)
        targets, refused = project.given_sources(list(paths))
    else:
        targets, refused = listing.data, list(catalogue_refused)
    by_name = {s.relative: s for s in listing.all}
    by_name.update({t.relative: t for t in targets})
    sources = list(by_name.values())
    findings = add_lines(cap_findings(_check_all(project, targets, sources, listing)), sources,
                         project.root)
    # A refused file of the catalogue would refuse the build too: say so with any target.
    refusals = {(r.relative, r.reason): refused_finding(r) for r in refused + catalogue_refused}
    return Report(findings=list(refusals.values()) + findings,
                  files_checked=len(targets) + len(refused))
