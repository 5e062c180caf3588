"""`ketju validate` stays small on small hostile files (issue 11, point 7).

A 10 MB literal needed 2.4 GB; a 2 MB file of collections nested a million deep ran for over
100 s at 1.6 GB and printed a million errors with no line. Such files are now refused before
they are parsed, at the file and line of the first thing beyond a limit, and findings of one
kind are listed at most MAX_FINDINGS_PER_KIND times per file, with one finding that counts
the rest. Every file here is a draft outside the tree (`drafts/data/kainuu/NAME.ttl`), checked
against the real catalogue, which it is not part of: the files are made once for the module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketju.core.project import Project
from ketju.infra import validate as v
from ketju.infra.turtle_locate import Excess, TurtleLimits, find_excess
from ketju.infra.validate import Finding, Report, validate
from tests.conftest import ROOT

PREFIXES = """\
@prefix ketju: <https://w3id.org/ketju/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix ptype: <https://w3id.org/ketju/vocab/producer-type/> .
@prefix organiser: <https://w3id.org/ketju/id/kainuu/organiser/> .
@prefix producer: <https://w3id.org/ketju/id/kainuu/producer/> .
@prefix chain: <https://w3id.org/ketju/id/kainuu/chain/> .
"""
#: The line after PREFIXES, where each file's own text starts.
FIRST = PREFIXES.count("\n") + 1
#: What `ketju validate FILE` may use at most, whatever FILE holds (under the size cap).
MEMORY_BOUND_MB = 300


def producer(slug: str, *extra: str) -> str:
    """A complete producer of Kainuu, valid on its own; `extra` lines go before its end."""
    lines = [f"producer:{slug} a ketju:Producer ;",
             f'    skos:prefLabel "Tuottaja {slug}"@fi, "Producent {slug}"@sv, '
             f'"Producer {slug}"@en ;',
             *(f"    {line} ;" for line in extra),
             "    ketju:producerType ptype:own-production ;",
             "    org:subOrganizationOf organiser:kainuu .", ""]
    return "\n".join(lines)


def escaped_literal(chars: int) -> str:
    """A literal of exactly `chars` characters once parsed, a third of them escapes."""
    unit = 'ab\\"c\\u00e4d\\n'  # a, b, ", c, ä, d, newline: 7 characters
    text = unit * (chars // 7) + "x" * (chars % 7)
    return f'"{text}"@fi'


#: Each draft: its text (a function, as some are megabytes) and the first line of its own text
#: the scan stops at (for the others see the tests).
DRAFTS: dict[str, Callable[[], str]] = {
    # The reproductions.
    "pitka-teksti": lambda: PREFIXES + producer("x", 'dct:description "' + "a" * 10_000_000 + '"'),
    "sisakkaiset-listat": lambda: PREFIXES + "producer:x skos:note "
    + "(" * 1_000_000 + ")" * 1_000_000 + " .\n",
    # Their neighbours.
    "sisakkaiset-solmut": lambda: PREFIXES + "producer:x skos:note "
    + "[ skos:note " * 100_000 + '"x"' + " ]" * 100_000 + " .\n",
    "kolmikkotermit": lambda: PREFIXES + "producer:x skos:note "
    + "<<( producer:x skos:note " * 30_000 + '"x"' + " )>>" * 30_000 + " .\n",
    "pitka-monirivinen": lambda: PREFIXES + "# A comment with a quote \" and a bracket (.\n"
    + producer("x", 'dct:description """Rivi.\n' + "Toinen rivi, jossa on ''' ja \"\".\n" * 400
               + '"""@fi'),
    "pitka-iri": lambda: PREFIXES + producer(
        "x", "dct:source <https://example.org/" + "a" * v.MAX_NAME_CHARS + ">"),
    "pitka-nimi": lambda: PREFIXES + producer("x", "dct:source producer:" + "a" * v.MAX_NAME_CHARS),
    "tiheat-kolmikot": lambda: PREFIXES + "producer:x skos:note "
    + ", ".join(str(i) for i in range(v.MAX_FILE_TRIPLES + 1)) + " .\n",
    "pitka-lista": lambda: PREFIXES + "producer:x skos:note ("
    + " 1" * (v.MAX_FILE_TRIPLES // 2 + 1) + " ) .\n",
    "rajalla": lambda: PREFIXES + producer(
        "x", f"dct:description {escaped_literal(v.MAX_LITERAL_CHARS)}",
        "dct:source <https://example.org/" + "a" * (v.MAX_NAME_CHARS - 20) + ">"),
    # Many findings of one kind.
    "nimettomia": lambda: PREFIXES + "".join(
        f'[] a ketju:Producer ; skos:prefLabel "Nimetön {i}"@fi .\n' for i in range(50)),
    "tyypittomia": lambda: PREFIXES + "".join(
        producer(f"p{i:02}").replace("    ketju:producerType ptype:own-production ;\n", "")
        for i in range(30)),
    "puuttuvia-viittauksia": lambda: PREFIXES + producer(
        "x", *(f"org:subOrganizationOf organiser:puuttuu-{i:02}" for i in range(25))),
}


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding every draft as data/kainuu/NAME.ttl, made once."""
    folder = tmp_path_factory.mktemp("drafts") / "data" / "kainuu"
    folder.mkdir(parents=True)
    for name, text in DRAFTS.items():
        (folder / f"{name}.ttl").write_text(text(), encoding="utf-8")
    return folder


def check(project: Project, drafts: Path, name: str) -> Report:
    return validate(project, [drafts / f"{name}.ttl"])


def only_error(report: Report, name: str) -> Finding:
    """The one finding of the report, which must be an error about the draft."""
    assert [(f.file, f.severity.value) for f in report.findings] == \
        [(f"data/kainuu/{name}.ttl", "error")], [f.text() for f in report.findings]
    finding = report.findings[0]
    assert finding.message["fi"] and finding.message["en"]
    return finding


def test_a_10_mb_literal_is_refused_at_its_line(project: Project, drafts: Path) -> None:
    finding = only_error(check(project, drafts, "pitka-teksti"), "pitka-teksti")
    line = FIRST + 2  # the producer's third line
    assert (finding.code, finding.line) == ("literal-too-long", line)
    assert finding.column == len('    dct:description "')
    assert f"more than {v.MAX_LITERAL_CHARS} characters" in finding.message["en"]
    assert f"yli {v.MAX_LITERAL_CHARS} merkkiä" in finding.message["fi"]
    assert finding.text().startswith(f"data/kainuu/pitka-teksti.ttl:{line}:")


def test_collections_nested_a_million_deep_are_refused_at_their_line(
        project: Project, drafts: Path) -> None:
    finding = only_error(check(project, drafts, "sisakkaiset-listat"), "sisakkaiset-listat")
    assert (finding.code, finding.line) == ("nesting-too-deep", FIRST)
    # The first bracket beyond the limit.
    assert finding.column == len("producer:x skos:note ") + v.MAX_NESTING_DEPTH + 1
    assert f"more than {v.MAX_NESTING_DEPTH}" in finding.message["en"]
    assert "sisäkkäin" in finding.message["fi"]


@pytest.mark.parametrize("name", ["sisakkaiset-solmut", "kolmikkotermit"])
def test_nested_blank_nodes_and_triple_terms_are_refused(
        project: Project, drafts: Path, name: str) -> None:
    """`[ [ [` is refused by depth before the blank nodes are; triple terms `<<(` nested
    30,000 deep made Oxigraph's parser crash the whole process."""
    finding = only_error(check(project, drafts, name), name)
    assert (finding.code, finding.line) == ("nesting-too-deep", FIRST)


def test_a_long_string_over_the_limit_is_refused_at_its_first_line(
        project: Project, drafts: Path) -> None:
    finding = only_error(check(project, drafts, "pitka-monirivinen"), "pitka-monirivinen")
    # After the comment (whose quote and bracket are not Turtle) and two lines of producer.
    assert (finding.code, finding.line) == ("literal-too-long", FIRST + 3)
    assert finding.column == len("    dct:description ") + 1


@pytest.mark.parametrize("name", ["pitka-iri", "pitka-nimi"])
def test_an_iri_or_name_over_the_limit_is_refused(
        project: Project, drafts: Path, name: str) -> None:
    finding = only_error(check(project, drafts, name), name)
    assert (finding.code, finding.line) == ("name-too-long", FIRST + 2)
    assert f"more than {v.MAX_NAME_CHARS} characters" in finding.message["en"]


@pytest.mark.parametrize("name", ["tiheat-kolmikot", "pitka-lista"])
def test_too_many_triples_are_refused_before_loading(
        project: Project, drafts: Path, name: str) -> None:
    """Memory follows triples: `:s :p 1, 2, 3, ...` gives one in 3 bytes and a collection
    `( 1 1 1 ...)` two in 2 bytes."""
    finding = only_error(check(project, drafts, name), name)
    assert (finding.code, finding.line) == ("too-many-triples", 1)
    assert f"more than {v.MAX_FILE_TRIPLES} triples" in finding.message["en"]


def test_a_file_just_within_the_limits_is_valid(project: Project, drafts: Path) -> None:
    """Escapes count as the one character they stand for, as in the parsed literal."""
    report = check(project, drafts, "rajalla")
    assert report.findings == [], [f.text() for f in report.findings]


def listed_and_more(report: Report, name: str, code: str) -> tuple[list[Finding], Finding]:
    file = f"data/kainuu/{name}.ttl"
    listed = [f for f in report.errors if f.file == file and f.code == code]
    more = [f for f in report.errors if f.file == file and f.code == v.MORE
            and f"({code})" in f.message["en"]]
    assert len(listed) == v.MAX_FINDINGS_PER_KIND and len(more) == 1, \
        [f.text() for f in report.findings]
    return listed, more[0]


def test_fifty_anonymous_nodes_are_twenty_findings_and_a_count(
        project: Project, drafts: Path) -> None:
    report = check(project, drafts, "nimettomia")
    listed, more = listed_and_more(report, "nimettomia", "blank-node")
    # Listed in the order they are written, each at its own line.
    assert sorted(f.line for f in listed) == list(range(FIRST, FIRST + 20))
    assert "30 more findings" in more.message["en"]
    assert "vielä 30 samanlaista" in more.message["fi"]
    # Listed after the file's other findings.
    assert report.sorted()[-1] == more


def test_many_shape_and_link_errors_are_capped_too(project: Project, drafts: Path) -> None:
    report = check(project, drafts, "tyypittomia")
    listed, more = listed_and_more(report, "tyypittomia", "shape")
    assert {f.property for f in listed} == {"https://w3id.org/ketju/ontology#producerType"}
    assert all(f.line is not None for f in listed)
    assert "10 more findings" in more.message["en"]
    report = check(project, drafts, "puuttuvia-viittauksia")
    listed, more = listed_and_more(report, "puuttuvia-viittauksia", "dangling-reference")
    assert sorted(f.line for f in listed) == sorted(
        {FIRST + 2 + int(f.value.strip("<>")[-2:]) for f in listed if f.value})
    assert "5 more findings" in more.message["en"]


SMALL = TurtleLimits(literal_chars=50, name_chars=200, depth=5, triples=1000)
LONG = "x" * 60


@pytest.mark.parametrize(("text", "offset"), [
    (f":a :b '''x''', \"\"\"{LONG}\"\"\" .", 15),
    ("# it's \"quoted ( [\n" + f':a :b "{LONG}" .', 25),  # a comment hides nothing
    (f"<http://e/a#b'c> :p \"{LONG}\" .", 20),  # nor does an IRI
    (f":it\\'s :p \"{LONG}\" .", 10),  # nor an escaped quote in a name
    (':a :b """a""b"c' + LONG + '""" .', 6),
    (':a :b "a\\"' + LONG + '" .', 6),
    (f':a :b ( "x" "{LONG}" ) .', 12),
    (f'<< :a :b "{LONG}" >> :c :d .', 9),
    (f':a :b :c {{| :d "{LONG}" |}} .', 15),
    (':a :b "' + "\\u00e4" * 51 + '" .', 6),
    (':a :b "' + "\\u00e4" * 50 + '" .', None),  # 50 characters, once unescaped
    (':a :b "' + "ä" * 50 + '" .', None),  # 100 bytes, 50 characters
])
def test_the_scan_finds_literals_wherever_turtle_puts_them(text: str, offset: int | None) -> None:
    prefix = b"@prefix : <http://e/> .\n"
    excess = find_excess(prefix + text.encode(), SMALL)
    if offset is None:
        assert excess is None
    else:
        assert excess == Excess("literal", len(prefix) + offset, SMALL.literal_chars)


@pytest.mark.slow
def test_the_cli_prints_file_line_and_no_traceback(drafts: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ketju", "validate", str(drafts / "sisakkaiset-listat.ttl")],
        env={**os.environ, "KETJU_HOME": str(ROOT), "KETJU_LANG": "en"}, capture_output=True,
        text=True, timeout=300)
    assert done.returncode == 1
    assert re.search(rf"^data/kainuu/sisakkaiset-listat\.ttl:{FIRST}:\d+: error: Brackets",
                     done.stdout, re.MULTILINE), done.stdout
    assert done.stdout.count("\n") == 2 and "Traceback" not in done.stderr


# -- memory, measured on the command itself --------------------------------------------------


@dataclass(frozen=True)
class Measured:
    returncode: int
    output: str
    peak_mb: float


#: Runs `ketju ARGS...` and writes the process's peak resident memory (kB) to PEAK_FILE when it
#: exits. Measured by the process itself: a child's `ru_maxrss` (wait4, RUSAGE_CHILDREN) starts
#: at the parent's size when it is spawned with vfork, as subprocess does, so a test process of
#: 400 MB would measure 400 MB for any child.
PEAK_WRAPPER = """\
import atexit, sys
def _peak(path=sys.argv[1]):
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(path, "w") as out:
        out.write(peak)
atexit.register(_peak)
sys.argv = ["ketju", *sys.argv[2:]]
from ketju.cli import main
main()
"""


def run_measured(path: Path) -> Measured:
    """`ketju validate PATH` in a process of its own, and the most memory it used."""
    peak = path.with_suffix(".peak")
    done = subprocess.run(
        [sys.executable, "-c", PEAK_WRAPPER, str(peak), "validate", str(path)],
        env={**os.environ, "KETJU_HOME": str(ROOT), "KETJU_LANG": "en"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    return Measured(done.returncode, done.stdout, int(peak.read_text()) / 1024)


#: Files at the limits, made only for the memory tests (the largest is 20 MB).
BIG: dict[str, Callable[[], str]] = {
    # As many short triples as fit in the size cap: refused by their number.
    "kolmikkoja-kattoon": lambda: PREFIXES + "".join(
        f'producer:p{i} skos:note "{i}" .\n' for i in range(v.MAX_FILE_BYTES // 40)),
    # Chains that lack everything, just within the triple limit: the most SHACL results.
    "keskeneraisia-ketjuja": lambda: PREFIXES + "".join(
        f"chain:c{i} a ketju:ServiceChain .\n" for i in range(v.MAX_FILE_TRIPLES - 10)),
    # Valid producers just within the triple limit, on one line.
    "yksi-rivi": lambda: PREFIXES + "".join(
        producer(f"p{i}") for i in range(v.MAX_FILE_TRIPLES // 6)).replace("\n", " "),
}


@pytest.fixture(scope="module")
def big_drafts(drafts: Path) -> Path:
    for name, text in BIG.items():
        (drafts / f"{name}.ttl").write_text(text(), encoding="utf-8")
    assert (drafts / "kolmikkoja-kattoon.ttl").stat().st_size <= v.MAX_FILE_BYTES
    return drafts


@pytest.mark.parametrize(("name", "returncode", "expected"), [
    ("pitka-teksti", 1, f"pitka-teksti.ttl:{FIRST + 2}:21: error: The text is too long"),
    ("sisakkaiset-listat", 1, f"sisakkaiset-listat.ttl:{FIRST}:54: error: Brackets"),
    ("kolmikkoja-kattoon", 1, "kolmikkoja-kattoon.ttl:1: error: The file holds too many"),
    pytest.param("keskeneraisia-ketjuja", 1, "more findings of this kind (shape)",
                 marks=pytest.mark.slow),  # about 15 s: the whole catalogue's shapes
    ("yksi-rivi", 0, "1 file(s) checked: 0 error(s)"),
])
@pytest.mark.slow
def test_memory_stays_bounded(big_drafts: Path, name: str, returncode: int,
                              expected: str) -> None:
    measured = run_measured(big_drafts / f"{name}.ttl")
    assert measured.returncode == returncode, measured.output[-2000:]
    assert expected in measured.output
    assert "Traceback" not in measured.output
    assert measured.peak_mb < MEMORY_BOUND_MB


@pytest.mark.slow
def test_files_the_served_build_accepted_are_not_scanned_again(
        project_copy: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-file validation reloads the whole catalogue; the files the served build accepted
    unchanged skip the pre-parse scan, a changed file (or a build under other limits) does not."""
    from ketju.infra.build import build

    build(project_copy)
    scanned: list[int] = []
    real = v.find_excess

    def counting(data: bytes, limits: TurtleLimits) -> Excess | None:
        scanned.append(len(data))
        return real(data, limits)

    monkeypatch.setattr(v, "find_excess", counting)
    changed = project_copy.data_dir / "national" / "producers.ttl"
    assert validate(project_copy, [changed]).ok
    assert scanned == []
    changed.write_text(changed.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert validate(project_copy, [changed]).ok
    assert scanned == [changed.stat().st_size]
    scanned.clear()
    monkeypatch.setattr(v, "LIMITS", TurtleLimits(1, 1, 1, 1))
    assert not validate(project_copy, [changed]).ok
    # Every Turtle file is scanned again (observation CSVs are not Turtle: they have their own
    # limits, tests/test_observations.py).
    assert len(scanned) == len([s for s in project_copy.listing().all if not s.tabular])
