"""Bad names and links under data/ get a clear error, never a traceback (issue 11, point 8).

A file name with a space, `%zz` or `<` made `ketju validate` and `ketju build` exit with a
ValueError traceback (the graph IRI is made of the path), and a symbolic link was followed, so
that the first line of its target (say /etc/passwd) appeared in the syntax error. Now links and
names outside `[a-z0-9-]+.ttl` (folders `[a-z0-9-]+`) are refused before anything is read, with
the file and the reason; the build is refused and the last good store kept.

One copy of the catalogue is built for the module; each case adds its bad entry and removes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ketju.core.project import Project
from ketju.infra.build import BuildRefused, build
from ketju.infra.validate import Report, validate
from tests.conftest import FIXTURES, copy_tree

#: The first line of the file a link points to: it must never be shown.
SECRET = "SALAINEN-ARVO:x:0:0:root:/root:/bin/bash"
GOOD = (FIXTURES / "contributions" / "ownership.ttl").read_text("utf-8").replace(
    "id/lappi/", "id/kainuu/")

MESSAGES = {
    "file-name": ("File names may only use a–z, 0–9 and '-' and end in .ttl; rename the file.",
                  "Tiedoston nimessä saa olla vain pieniä kirjaimia a–z"),
    "folder-name": ("Folder names may only use a–z, 0–9 and '-'; rename the folder.",
                    "Kansion nimessä saa olla vain pieniä kirjaimia a–z"),
    "symlink": ("This is a symbolic link. Links are not followed",
                "Tämä on symbolinen linkki."),
    "not-a-file": ("This is not an ordinary file", "Tämä ei ole tavallinen tiedosto"),
}


@dataclass(frozen=True)
class Case:
    make: Callable[[Path, Path], None]  # (region folder data/kainuu, a folder outside the tree)
    shown: str  # the path the finding names
    code: str


def file_named(name: str) -> Callable[[Path, Path], None]:
    return lambda region, _outside: (region / name).write_text(GOOD, "utf-8")


def link_to_secret(region: Path, outside: Path) -> None:
    (outside / "passwd").write_text(SECRET + "\n", "utf-8")
    (region / "salainen.ttl").symlink_to(outside / "passwd")


def linked_region(region: Path, outside: Path) -> None:
    (outside / "alue").mkdir()
    (outside / "alue" / "hyva.ttl").write_text(GOOD, "utf-8")
    (region.parent / "linkattu").symlink_to(outside / "alue", target_is_directory=True)


def bad_folder(region: Path, _outside: Path) -> None:
    (region.parent / "Kai nuu").mkdir()
    (region.parent / "Kai nuu" / "hyva.ttl").write_text(GOOD, "utf-8")


CASES = {
    "space": Case(file_named("lonkka murtuma.ttl"), "data/kainuu/lonkka murtuma.ttl",
                  "file-name"),
    "percent": Case(file_named("x%zz.ttl"), "data/kainuu/x%zz.ttl", "file-name"),
    "angle": Case(file_named("x<y.ttl"), "data/kainuu/x<y.ttl", "file-name"),
    "uppercase": Case(file_named("Lonkka.ttl"), "data/kainuu/Lonkka.ttl", "file-name"),
    "uppercase-suffix": Case(file_named("lonkka.TTL"), "data/kainuu/lonkka.TTL", "file-name"),
    "hidden-suffix": Case(file_named("lonkka.ttl.txt"), "data/kainuu/lonkka.ttl.txt",
                          "file-name"),
    "newline": Case(file_named("rivi\nvaihto.ttl"), "data/kainuu/rivi\\nvaihto.ttl",
                    "file-name"),
    "symlinked-file": Case(link_to_secret, "data/kainuu/salainen.ttl", "symlink"),
    "symlinked-region": Case(linked_region, "data/linkattu", "symlink"),
    "dangling-symlink": Case(lambda region, outside: (region / "katkennut.ttl").symlink_to(
        outside / "ei-ole.ttl"), "data/kainuu/katkennut.ttl", "symlink"),
    "folder-name": Case(bad_folder, "data/Kai nuu", "folder-name"),
    "pipe": Case(lambda region, _outside: os.mkfifo(region / "putki.ttl"),
                 "data/kainuu/putki.ttl", "not-a-file"),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = copy_tree(tmp_path_factory.mktemp("names"))
    build(project)
    return project


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def region(built: Project) -> Iterator[Path]:
    """data/kainuu/ with one good file; whatever a test adds under data/ goes afterwards."""
    before = {p.name for p in built.data_dir.iterdir()}
    folder = built.data_dir / "kainuu"
    folder.mkdir()
    (folder / "hyva.ttl").write_text(GOOD, "utf-8")
    yield folder
    for path in built.data_dir.iterdir():
        if path.name not in before:
            if path.is_symlink() or not path.is_dir():
                path.unlink()
            else:
                shutil.rmtree(path)


def only_refusal(report: Report, case: Case) -> None:
    assert [(f.file, f.code, f.line) for f in report.errors] == [(case.shown, case.code, None)]
    en, fi = MESSAGES[case.code]
    assert report.errors[0].message["en"].startswith(en)
    assert report.errors[0].message["fi"].startswith(fi)


@pytest.mark.parametrize("name", CASES)
def test_validate_and_build_refuse_the_name(built: Project, region: Path, outside: Path,
                                            name: str) -> None:
    case = CASES[name]
    case.make(region, outside)
    only_refusal(validate(built), case)
    before = built.store_link.resolve()
    with pytest.raises(BuildRefused) as refused:
        build(built)
    only_refusal(refused.value.report, case)
    assert built.store_link.resolve() == before
    assert SECRET not in "\n".join(f.text() for f in refused.value.report.findings)


def run(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketju", *args], cwd=project.root,
                          env={**os.environ, "KETJU_HOME": str(project.root), "KETJU_LANG": "en"},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_cli_names_every_bad_entry_and_exits_1(built: Project, region: Path,
                                                    outside: Path) -> None:
    for case in CASES.values():
        case.make(region, outside)
    before = built.store_link.resolve()
    checked = run(built, "validate")
    made = run(built, "build")
    for done, output in ((checked, checked.stdout), (made, made.stderr)):
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Traceback" not in done.stderr and SECRET not in done.stdout + done.stderr
        for case in CASES.values():
            assert f"{case.shown}: error: {MESSAGES[case.code][0]}" in output
    assert "Build refused" in made.stderr
    assert built.store_link.resolve() == before


def test_a_file_given_by_path_obeys_the_same_rules(built: Project, region: Path,
                                                   outside: Path) -> None:
    """A path on the command line may live anywhere, as a draft does, but a link is refused,
    and so is a name its graph cannot be made of; what it points to is never read."""
    link_to_secret(region, outside)
    (outside / "luonnos 1.ttl").write_text(GOOD, "utf-8")
    (outside / "linkki.ttl").symlink_to(outside / "passwd")
    linked_region(region, outside)
    report = validate(built, [outside / "luonnos 1.ttl", outside / "linkki.ttl",
                              region / "salainen.ttl", region.parent / "linkattu" / "hyva.ttl"])
    refused = {(f.file, f.code) for f in report.errors}
    assert refused == {("luonnos 1.ttl", "file-name"), ("linkki.ttl", "symlink"),
                       ("data/kainuu/salainen.ttl", "symlink"),
                       ("data/linkattu/hyva.ttl", "symlink"), ("data/linkattu", "symlink")}
    (outside / "katkennut.ttl").symlink_to(outside / "ei-ole.ttl")
    done = run(built, "validate", str(outside / "katkennut.ttl"), str(outside / "linkki.ttl"))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "katkennut.ttl: error: This is a symbolic link." in done.stdout


def test_a_draft_with_a_good_name_outside_the_tree_is_checked(built: Project,
                                                              outside: Path) -> None:
    draft = outside / "data" / "kainuu" / "luonnos.ttl"
    draft.parent.mkdir(parents=True)
    draft.write_text(GOOD, "utf-8")
    report = validate(built, [draft])
    assert report.ok and report.files_checked == 1, [f.text() for f in report.findings]


def test_our_own_folders_follow_the_rule_and_may_be_links(built: Project,
                                                          tmp_path: Path) -> None:
    """ontology/ and shapes/ hold only names the rule allows (their READMEs are not read);
    a tree whose ontology/ and shapes/ are links, as the benchmark makes, keeps its names."""
    assert built.refused_files() == []
    assert (built.ontology_dir / "generated" / "README.md").exists()
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("ontology", "shapes"):
        (tree / name).symlink_to(built.root / name, target_is_directory=True)
    shutil.copytree(built.data_dir, tree / "data")
    linked = Project(tree)
    assert linked.refused_files() == []
    assert [s.relative for s in linked.all_files()] == [s.relative for s in built.all_files()]
    (built.shapes_dir / "Extra.ttl").write_text("", "utf-8")
    try:
        assert [(r.relative, r.reason.value) for r in built.refused_files()] == \
            [("shapes/Extra.ttl", "file-name")]
    finally:
        (built.shapes_dir / "Extra.ttl").unlink()
