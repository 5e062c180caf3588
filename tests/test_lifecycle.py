"""The life cycle of a description (issue 16, point 4): the example data holds it, and `ketju
validate` answers each broken life cycle with the plain-language rule, the file and the line."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import ADMS_STATUS, DCT, ID, KSTATUS, MODEL_STATE, ONTOLOGY
from ketju.core.project import Project
from ketju.infra.validate import validate

VS = "data/varsinais-suomi/"
CURRENT = ID + "varsinais-suomi/chain/lonkkamurtuma"
TARGET = ID + "varsinais-suomi/chain/lonkkamurtuma-tavoitetila"
YOUTH = ID + "varsinais-suomi/package/nuorten-palvelukokonaisuus"
RETIRED = ID + "varsinais-suomi/package/nuorten-palvelukokonaisuus-2023"


def data_graph(project: Project) -> ox.Store:
    store = ox.Store()
    for path in sorted(project.data_dir.rglob("*.ttl")):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    for path in sorted((project.root / "ontology").rglob("*.ttl")):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


def ask(store: ox.Store, pattern: str) -> bool:
    return bool(store.query(f"ASK {{ {pattern} }}"))


def test_example_data_has_every_part_of_the_life_cycle(project: Project) -> None:
    store = data_graph(project)
    k = f"<{ONTOLOGY}"
    # The current state, approved by a decision of the region's executive board, and its
    # target model, proposed.
    assert ask(store, f"<{CURRENT}> {k}modelState> <{MODEL_STATE}current> ; "
                      f"<http://www.w3.org/ns/adms#status> <{ADMS_STATUS}Completed> ; "
                      f"{k}validFrom> ?from ; {k}approvedBy> ?decision . "
                      f"?decision a {k}Decision> ; <{DCT}date> ?date ; <{DCT}identifier> ?ref ; "
                      "<http://www.w3.org/ns/prov#wasAssociatedWith> ?body . "
                      "?body a <http://www.w3.org/ns/org#Organization> ; "
                      "<http://www.w3.org/2004/02/skos/core#prefLabel> ?name "
                      "FILTER(LANG(?name) = 'fi')")
    assert ask(store, f"<{TARGET}> {k}modelState> <{MODEL_STATE}target> ; "
                      f"{k}targetModelOf> <{CURRENT}> ; "
                      f"<http://www.w3.org/ns/adms#status> <{KSTATUS}Proposed>")
    # The target model is a full chain that differs in recognisable ways: surgery within 24 h
    # (48 h now), one step more.
    steps = {iri: len(list(store.quads_for_pattern(ox.NamedNode(iri),
                                                   ox.NamedNode(ONTOLOGY + "hasStep"), None)))
             for iri in (CURRENT, TARGET)}
    assert steps[TARGET] == steps[CURRENT] + 1 >= 10
    assert ask(store, f"<{TARGET}> {k}hasStep> ?s . ?s {k}maximumDuration> \"PT24H\"^^"
                      "<http://www.w3.org/2001/XMLSchema#duration>")
    # An approved package with its decision, replacing a retired one.
    assert ask(store, f"<{YOUTH}> {k}approvedBy> ?d ; <{DCT}replaces> <{RETIRED}> . "
                      f"<{RETIRED}> <http://www.w3.org/ns/adms#status> <{ADMS_STATUS}Deprecated> ;"
                      f" {k}validUntil> ?until ; <{DCT}isReplacedBy> <{YOUTH}>")
    # The concepts and terms the data uses are in the vocabularies, in three languages.
    for term in (f"{KSTATUS}Proposed", f"{MODEL_STATE}current", f"{MODEL_STATE}target"):
        langs = {q.object.language for q in store.quads_for_pattern(
            ox.NamedNode(term), ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
            None)}
        assert langs == {"fi", "sv", "en"}, term
    for name in ("validFrom", "validUntil", "approvedBy", "Decision", "modelState",
                 "targetModelOf"):
        for predicate in ("http://www.w3.org/2000/01/rdf-schema#label",
                          "http://www.w3.org/2004/02/skos/core#definition"):
            langs = {q.object.language for q in store.quads_for_pattern(
                ox.NamedNode(ONTOLOGY + name), ox.NamedNode(predicate), None)}
            assert langs == {"fi", "sv", "en"}, (name, predicate)


@dataclass(frozen=True)
class Broken:
    """One way to break the life cycle: replace `old` by `new` in `file`; `ketju validate`
    then reports `message` (en and fi) in `where` on the line holding `line`."""

    name: str
    file: str
    old: str
    new: str
    where: str
    line: str
    en: str
    fi: str


CASES = (
    Broken("approved-without-decision", VS + "lonkkamurtuma.ttl",
           "    ketju:approvedBy <https://w3id.org/ketju/id/varsinais-suomi/decision/"
           "lonkkamurtuma-2024> ;\n", "",
           VS + "lonkkamurtuma.ttl", "adms:status status:Completed",
           "marked approved (status:Completed) but has no approving decision",
           "puuttuu hyväksymispäätös"),
    Broken("retired-without-successor", VS + "nuorten-palvelukokonaisuus-2023.ttl",
           "    dct:isReplacedBy vspkg:nuorten-palvelukokonaisuus ;\n", "",
           VS + "nuorten-palvelukokonaisuus-2023.ttl", "adms:status status:Deprecated",
           "marked retired (status:Deprecated) but has no successor (dct:isReplacedBy)",
           "puuttuu korvaaja"),
    Broken("valid-until-before-valid-from", VS + "nuorten-palvelukokonaisuus-2023.ttl",
           '"2025-03-31"^^xsd:date', '"2023-08-31"^^xsd:date',
           VS + "nuorten-palvelukokonaisuus-2023.ttl", "ketju:validUntil",
           "The end of validity \"2023-08-31\"^^<http://www.w3.org/2001/XMLSchema#date> "
           "(ketju:validUntil) is before its start", "on ennen alkupäivää"),
    Broken("target-model-of-a-non-current", VS + "lonkkamurtuma.ttl",
           "    ketju:modelState mstate:current ;\n", "",
           VS + "lonkkamurtuma-tavoitetila.ttl", "ketju:targetModelOf vschain:",
           f"The current state {CURRENT} of the target model (ketju:targetModelOf) is not a "
           "current-state description", "ei ole nykytilan kuvaus"),
    Broken("replaces-another-kind", VS + "nuorten-palvelukokonaisuus.ttl",
           "dct:replaces <https://w3id.org/ketju/id/varsinais-suomi/package/"
           "nuorten-palvelukokonaisuus-2023>",
           "dct:replaces <https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma>",
           VS + "nuorten-palvelukokonaisuus.ttl", "dct:replaces",
           f"The replaced or replacing description {CURRENT} (dct:replaces, "
           "dct:isReplacedBy) is not of the same kind", "ei ole samaa lajia"),
)


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [n for n, line in enumerate(lines, start=1) if text in line]
    assert len(found) == 1, (path, text, found)
    return found[0]


def break_copy(project: Project, case: Broken) -> Path:
    path = project.root / case.file
    text = path.read_text(encoding="utf-8")
    assert text.count(case.old) == 1, case.old
    path.write_text(text.replace(case.old, case.new), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_broken_life_cycle_is_reported_at_its_line(project_copy: Project, case: Broken) -> None:
    break_copy(project_copy, case)
    report = validate(project_copy, [project_copy.data_dir / "varsinais-suomi"])
    where = project_copy.root / case.where
    found = [f for f in report.errors if case.en in f.message["en"]]
    assert [(f.file, f.line) for f in found] == [(case.where, line_of(where, case.line))], \
        "\n".join(f.text() for f in report.findings)
    assert case.fi in found[0].message["fi"]
    # Nothing else breaks: the other rules hold for the rest of the data.
    assert report.errors == found, "\n".join(f.text() for f in report.errors)


def test_ketju_validate_command_reports_the_rule(project_copy: Project) -> None:
    """The command line, as a contributor runs it: exit status 1 and the finding in JSON."""
    case = CASES[0]
    break_copy(project_copy, case)
    done = subprocess.run([sys.executable, "-m", "ketju", "validate", case.file, "--format",
                           "json"], cwd=project_copy.root, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    findings = json.loads(done.stdout)["findings"]
    line = line_of(project_copy.root / case.where, case.line)
    assert [(f["file"], f["line"]) for f in findings if case.en in f["message"]["en"]] == \
        [(case.where, line)]
