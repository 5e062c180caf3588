"""`ketju validate`: every bad contribution is answered with the right file, line and reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import PREFIXES, graph_iri
from ketju.core.project import Project
from ketju.infra.build import BuildRefused, build
from ketju.infra.store import CatalogueStore
from ketju.infra.turtle_locate import TurtleIndex
from ketju.infra.validate import Report, validate
from tests.conftest import FIXTURES

CONTRIBUTIONS = FIXTURES / "contributions"
CASES = sorted(CONTRIBUTIONS.glob("*.ttl"))
REGION = "kainuu"


def short(iri: str | None) -> str:
    if iri is None:
        return "-"
    for name, namespace in PREFIXES.items():
        if iri.startswith(namespace):
            return f"{name}:{iri[len(namespace):]}"
    return iri


def expected_findings(text: str) -> set[tuple[str, int, str]]:
    """`# expect: code line prop` headers and `# <- code prop; code prop` line markers."""
    expected = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := re.match(r"# expect: (\S+) (\d+) (\S+)$", line):
            expected.add((match.group(1), int(match.group(2)), match.group(3)))
        if "# <- " in line:
            for entry in line.split("# <- ", 1)[1].split(";"):
                code, prop = entry.split()
                expected.add((code, number, prop))
    return expected


def error_triples(report: Report, file: str) -> set[tuple[str, int | None, str]]:
    return {(f.code, f.line, short(f.property)) for f in report.errors if f.file == file}


def test_example_data_is_valid(project: Project) -> None:
    report = validate(project)
    assert report.errors == [], "\n".join(f.text() for f in report.errors)
    assert report.files_checked == len(project.data_files()) > 20


def assert_build_refused_and_store_kept(project: Project, relative: str) -> None:
    """`ketju build` refuses the file and the served store has nothing of it."""
    before = project.store_link.resolve()
    with pytest.raises(BuildRefused) as refused:
        build(project)
    assert relative in {f.file for f in refused.value.report.errors}
    assert project.store_link.resolve() == before
    store = CatalogueStore.open(project)
    assert not store.store.contains_named_graph(ox.NamedNode(graph_iri(relative)))
    assert not store.select("SELECT ?s WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?s), '/kainuu/')"
                            " && !CONTAINS(STR(?s), '/organiser/')) }")


#: One case of each kind of finding runs in the quick tier (`-m "not slow"`), all in `make test`.
QUICK = {"syntax-missing-dot", "shacl-chain", "dangling-reference", "ownership"}


@pytest.mark.parametrize("case", [pytest.param(case, marks=() if case.stem in QUICK
                                               else pytest.mark.slow) for case in CASES],
                         ids=lambda p: p.stem)
def test_bad_contribution_is_reported_at_its_line(built_copy: Project, case: Path) -> None:
    project_copy = built_copy  # the tree as built
    target = project_copy.data_dir / REGION / case.name
    target.parent.mkdir(exist_ok=True)
    shutil.copy(case, target)
    report = validate(project_copy, [target])
    relative = f"data/{REGION}/{case.name}"
    assert error_triples(report, relative) == expected_findings(case.read_text(encoding="utf-8"))
    for finding in report.errors:
        assert finding.message["fi"] and finding.message["en"]
    assert_build_refused_and_store_kept(project_copy, relative)


def test_not_utf8_names_the_line(built_copy: Project) -> None:
    project_copy = built_copy  # the tree as built
    target = project_copy.data_dir / REGION / "latin1.ttl"
    target.parent.mkdir(exist_ok=True)
    text = (CONTRIBUTIONS / "ownership.ttl").read_text(encoding="utf-8")
    text = text.replace("id/lappi/", "id/kainuu/").replace("Lapin", "Päivystys")
    target.write_bytes(text.encode("latin-1"))
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "Päivystys" in t)
    report = validate(project_copy, [target])
    assert error_triples(report, f"data/{REGION}/latin1.ttl") == {("not-utf8", line, "-")}
    assert "UTF-8" in report.errors[0].message["fi"]
    assert_build_refused_and_store_kept(project_copy, f"data/{REGION}/latin1.ttl")


def test_empty_file(built_copy: Project) -> None:
    project_copy = built_copy  # the tree as built
    target = project_copy.data_dir / REGION / "tyhja.ttl"
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(b"")
    report = validate(project_copy, [target])
    assert error_triples(report, f"data/{REGION}/tyhja.ttl") == {("empty", 1, "-")}
    assert_build_refused_and_store_kept(project_copy, f"data/{REGION}/tyhja.ttl")


def test_huge_literal(built_copy: Project) -> None:
    project_copy = built_copy  # the tree as built
    target = project_copy.data_dir / REGION / "pitka.ttl"
    target.parent.mkdir(exist_ok=True)
    text = (CONTRIBUTIONS / "ownership.ttl").read_text(encoding="utf-8")
    text = text.replace("id/lappi/", "id/kainuu/")
    text = text.replace("    ketju:producerType", '    dct:description "' + "sana " * 5000
                        + '"@fi ;\n    ketju:producerType')
    text = "@prefix dct: <http://purl.org/dc/terms/> .\n" + text
    target.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "dct:description" in t)
    report = validate(project_copy, [target])
    # Found before parsing (the file is not read further), so by line and column only.
    assert error_triples(report, f"data/{REGION}/pitka.ttl") == {("literal-too-long", line, "-")}
    assert report.errors[0].column == text.splitlines()[line - 1].index('"') + 1
    assert_build_refused_and_store_kept(project_copy, f"data/{REGION}/pitka.ttl")


def test_unknown_region_folder(project_copy: Project) -> None:
    target = project_copy.data_dir / "atlantis" / "x.ttl"
    target.parent.mkdir()
    shutil.copy(CONTRIBUTIONS / "ownership.ttl", target)
    report = validate(project_copy, [target])
    assert [f.code for f in report.errors] == ["unknown-region"]


def test_file_outside_the_tree_replaces_its_namesake(project: Project, tmp_path: Path) -> None:
    """A planner checks an edited copy before committing it."""
    original = next(p for p in project.data_files() if p.region == "national")
    copy = tmp_path / "data" / "national" / original.path.name
    copy.parent.mkdir(parents=True)
    copy.write_text(original.path.read_text(encoding="utf-8") + "\nthis is not turtle\n",
                    encoding="utf-8")
    report = validate(project, [copy])
    assert [(f.file, f.code) for f in report.errors] == [(original.relative, "syntax")]


def test_dangling_reference_suggests_the_right_iri(project_copy: Project) -> None:
    target = project_copy.data_dir / REGION / "dangling-reference.ttl"
    target.parent.mkdir(exist_ok=True)
    shutil.copy(CONTRIBUTIONS / "dangling-reference.ttl", target)
    report = validate(project_copy, [target])
    dangling = next(f for f in report.errors if f.code == "dangling-reference")
    assert "<https://w3id.org/ketju/id/national/producer/kela>" in dangling.message["en"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketju", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_cli_exit_codes_and_json(project_copy: Project) -> None:
    ok = run_cli("validate", "data/national", cwd=project_copy.root)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    target = project_copy.data_dir / REGION / "shacl-chain.ttl"
    target.parent.mkdir(exist_ok=True)
    shutil.copy(CONTRIBUTIONS / "shacl-chain.ttl", target)
    bad = run_cli("validate", str(target), "--format", "json", cwd=project_copy.root)
    assert bad.returncode == 1
    records = json.loads(bad.stdout)
    assert records["ok"] is False
    assert {r["file"] for r in records["findings"]} == {f"data/{REGION}/shacl-chain.ttl"}
    text = run_cli("validate", str(target), "--lang", "fi", cwd=project_copy.root)
    assert f"data/{REGION}/shacl-chain.ttl:" in text.stdout
    assert "Palveluketjulta puuttuu kohdesegmentti" in text.stdout
    usage = run_cli("validate", "no/such/file.ttl", cwd=project_copy.root)
    assert usage.returncode == 2


def test_locator_handles_strings_comments_and_nesting() -> None:
    text = (
        '@prefix ex: <http://e/> .\n'
        'ex:a ex:p """multi\nline . with ; punctuation""" ;\n'
        '   ex:q [ ex:r ex:s ] .  # comment with ex:b .\n'
        'ex:b ex:p 1.5, "x"@fi .\n'
        'ex:c\n  ex:p ex:d.\n'
    )
    index = TurtleIndex.from_text(text)
    assert index.subject_line("http://e/a") == 2
    assert index.predicate_line("http://e/a", "http://e/q") == 4
    assert index.subject_line("http://e/b") == 5
    assert index.subject_line("http://e/c") == 6
    assert index.mention_line("http://e/d") == 7
    assert "http://e/r" not in index.subjects
