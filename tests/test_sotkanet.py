"""`ketju observations import FILE --from sotkanet-csv --region REGION` (issue 13, point 8):
a Sotkanet CSV export becomes a contribution file of the region's indicators, mapped through
the national indicator's Sotkanet id; rows it cannot place are listed by line, the exit status
says so, and the rest is still written.

No national indicator of data/ has a verified Sotkanet id, so the test project gives the
national indicator "at home 120 days after a hip fracture" the invented id 990001
(tests/fixtures/sotkanet/sotkanet-ids.ttl); the hip-fracture chains' indicators follow it."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ketju.cli import app
from ketju.core.project import Project
from ketju.infra.build import build
from ketju.infra.observations import contribution_columns
from ketju.infra.snapshot import SnapshotSource
from ketju.infra.sotkanet import SotkanetFileError, convert, mapping
from ketju.infra.validate import validate
from tests.conftest import FIXTURES, copy_tree

EXPORT = FIXTURES / "sotkanet" / "export.csv"
HOME = "lonkkamurtuma-kotona-120-vrk"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the real tree with the invented Sotkanet id, built."""
    project = copy_tree(tmp_path_factory.mktemp("sotkanet"))
    shutil.copy(FIXTURES / "sotkanet" / "sotkanet-ids.ttl", project.data_dir / "national")
    build(project)
    return project


@pytest.fixture(scope="module")
def home(project: Project) -> Iterator[None]:
    """KETJU_HOME at the test project, for the command line."""
    before = os.environ.get("KETJU_HOME")
    os.environ["KETJU_HOME"] = str(project.root)
    yield
    if before is None:
        del os.environ["KETJU_HOME"]
    else:
        os.environ["KETJU_HOME"] = before


def test_the_mapping_follows_the_national_indicator(project: Project) -> None:
    snapshot = SnapshotSource.embedded(project).current()
    known = mapping(snapshot, "pohjois-pohjanmaa")
    assert known.region_id == "973"
    assert known.indicators == {"990001": [(HOME, "percent")]}
    # Lapland's copy of the chain names its indicators after their origin.
    assert mapping(snapshot, "lappi").indicators == {"990001": [
        ("lonkkamurtuma-pohjois-pohjanmaa-lonkkamurtuma-kotona-120-vrk", "percent")]}
    assert mapping(snapshot, "etela-karjala").indicators == {}


def test_rows_become_observations_and_the_rest_is_listed_by_line(project: Project) -> None:
    known = mapping(SnapshotSource.embedded(project).current(), "pohjois-pohjanmaa")
    imported = convert(EXPORT.read_text(encoding="utf-8"), known, "pohjois-pohjanmaa")
    assert [(r["indicator"], r["period"], r["value"], r["unit"], r["sex"])
            for r in imported.rows] == [
        (HOME, "2021", "63.5", "percent", ""), (HOME, "2021", "60.1", "percent", "M"),
        (HOME, "2021", "65.2", "percent", "F"), (HOME, "2022", "64.8", "percent", ""),
        (HOME, "2023", "66.0", "percent", "")]
    reasons = {u.line: u.reason["en"] for u in imported.unmapped}
    assert sorted(reasons) == [6, 7, 8, 10, 11]
    assert "Area '978'" in reasons[6]
    assert "Sotkanet indicator '12345'" in reasons[7]
    assert "no value" in reasons[8]
    assert "line 9" in reasons[10]
    assert "four-digit year" in reasons[11]
    assert all(set(u.reason) == {"fi", "sv", "en"} for u in imported.unmapped)
    columns = contribution_columns(project.root)
    assert columns[:4] == ("indicator", "period", "value", "unit") and len(columns) == 11
    assert next(csv.DictReader(io.StringIO(imported.csv(columns)))) == dict(
        zip(columns, [HOME, "2021", "63.5", "percent", "", "", "", "", "", "", ""], strict=True))


def test_header_names_and_comma_separated_exports(project: Project) -> None:
    known = mapping(SnapshotSource.embedded(project).current(), "pohjois-pohjanmaa")
    text = "Indicator,Region,Year,Gender,Primary value,Absolute value\n" \
           "990001,973,2024,total,70.2,500\n"
    imported = convert(text, known, "pohjois-pohjanmaa")
    assert [(r["period"], r["value"]) for r in imported.rows] == [("2024", "70.2")]
    with pytest.raises(SotkanetFileError, match="year"):
        convert("indicator;region;gender;value\n990001;973;total;1\n", known,
                "pohjois-pohjanmaa")


def test_command_writes_the_rest_and_fails_with_the_lines(project: Project, home: None) -> None:
    target = project.data_dir / "pohjois-pohjanmaa" / "observations" / "sotkanet.csv"
    result = CliRunner().invoke(app, [
        "observations", "import", str(EXPORT), "--from", "sotkanet-csv",
        "--region", "pohjois-pohjanmaa", "-o", str(target), "--lang", "en"])
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 5 and rows[0]["indicator"] == HOME
    for line in (6, 7, 8, 10, 11):
        assert f"export.csv:{line}: " in result.output
    assert "5 observation(s), 5 row(s) not mapped." in result.output
    # What it wrote is a contribution the catalogue accepts.
    report = validate(project, [target])
    try:
        assert report.ok and report.files_checked == 1, [f.text() for f in report.findings]
    finally:
        target.unlink()


def test_command_exits_zero_when_every_row_is_mapped(project: Project, home: None,
                                                     tmp_path: Path) -> None:
    export = tmp_path / "clean.csv"
    export.write_text("indicator;region;year;gender;value\n990001;978;2024;total;61,0\n",
                      encoding="utf-8")
    result = CliRunner().invoke(app, [
        "observations", "import", str(export), "--from", "sotkanet-csv",
        "--region", "varsinais-suomi"])
    assert result.exit_code == 0, result.output
    assert f"{HOME},2024,61.0,percent,,,,,,," in result.output
