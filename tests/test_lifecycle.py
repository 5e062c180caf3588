"""The life cycle of a description (issue 16, point 4): the example data holds it, and `ketju
validate` answers each broken life cycle with the plain-language rule, the file and the line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.lifecycle import STATE_WORDS, STATUS_WORDS
from ketju.core.namespaces import ADMS_STATUS, DCT, ID, KSTATUS, MODEL_STATE, ONTOLOGY
from ketju.core.project import Project
from ketju.infra.validate import validate
from tests.servers import Served

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


# -- the API filters and the item JSON-LD --------------------------------------------------------

def listed(server: Served, kind: str, **params: str) -> set[str]:
    answer = server.get(server.base + f"/api/{kind}", params={"limit": "500", **params})
    assert answer.status_code == 200, answer.text
    return {item["@id"] for item in answer.json()["items"]}


def test_api_filters_by_status_state_and_validity(server: Served) -> None:
    every = listed(server, "chains")
    assert listed(server, "chains", state="target") == {TARGET}
    # Pohjois-Savo's approved chain says it is a current state too.
    assert listed(server, "chains", state="current") == {
        CURRENT, ID + "pohjois-savo/chain/lonkkamurtuma"}
    assert listed(server, "chains", status="proposed") == {TARGET}
    approved = listed(server, "chains", status="approved")
    assert CURRENT in approved and TARGET not in approved
    # Lappi's chain reused from Pohjois-Pohjanmaa is a draft.
    assert listed(server, "chains", status="draft") == {ID + "lappi/chain/lonkkamurtuma-"
                                                                  "pohjois-pohjanmaa"}
    assert listed(server, "chains", status="retired") == set()
    assert every == approved | listed(server, "chains", status="draft") | {TARGET}
    assert listed(server, "packages", status="retired") == {RETIRED}
    assert listed(server, "packages", status="approved", region="varsinais-suomi") == {YOUTH}
    # Valid on a day: the 2023 package until 31.3.2025, its successor from 1.4.2025; the ends
    # are days on which it is still valid.
    for day, valid, not_valid in (("2024-06-01", RETIRED, YOUTH), ("2025-03-31", RETIRED, YOUTH),
                                  ("2025-04-01", YOUTH, RETIRED)):
        on_day = listed(server, "packages", valid_on=day, status="approved") | listed(
            server, "packages", valid_on=day, status="retired")
        assert valid in on_day and not_valid not in on_day, day
    # Current state approved from 1.6.2024: not yet valid the day before.
    assert CURRENT not in listed(server, "chains", valid_on="2024-05-31", status="approved")
    assert CURRENT in listed(server, "chains", valid_on="2024-06-01", status="approved")
    # Filters combine with the others, and the paging links keep them.
    answer = server.get(server.base + "/api/chains",
                        params={"status": "approved", "region": "varsinais-suomi", "limit": "1"})
    assert [i["@id"] for i in answer.json()["items"]] == [CURRENT]
    answer = server.get(server.base + "/api/chains", params={"status": "approved", "limit": "1"})
    assert "status=approved" in answer.headers["Link"]


def test_the_queries_know_the_words_of_the_life_cycle(project: Project) -> None:
    """The list queries map the same words to the same concepts as ketju.core.lifecycle."""
    for name in ("resource-chains", "resource-packages"):
        text = (project.queries_dir / f"{name}.rq").read_text(encoding="utf-8")
        prefixes = {"status": ADMS_STATUS, "kstatus": KSTATUS, "mstate": MODEL_STATE}
        pairs = {(word, prefixes[prefix] + local)
                 for word, prefix, local in re.findall(r'\("(\w+)" (\w+):(\w+)\)', text)}
        assert pairs == {(w, iri) for w, iris in STATUS_WORDS.items() for iri in iris} | {
            (w, iri) for w, iri in STATE_WORDS.items()}


@pytest.mark.parametrize(("params", "words"), [
    ({"status": "valmis"}, "draft, proposed, approved, retired"),
    ({"state": "future"}, "current, target"),
    ({"valid_on": "31.3.2025"}, "date such as 2025-04-01"),
    ({"valid_on": "2025-02-30"}, "date such as 2025-04-01"),
])
def test_api_refuses_unknown_values_naming_the_accepted(server: Served, params: dict[str, str],
                                                        words: str) -> None:
    for kind in ("chains", "packages"):
        answer = server.get(server.base + f"/api/{kind}", params=params)
        assert answer.status_code == 400
        assert words in answer.json()["detail"]
    # A kind without a life cycle says it cannot be filtered so.
    answer = server.get(server.base + "/api/services", params={"status": "approved"})
    assert answer.status_code == 400 and "status" in answer.json()["detail"]


def test_openapi_describes_the_filters(server: Served) -> None:
    document = server.get(server.base + "/openapi.json").json()
    for path in ("/api/chains", "/api/packages"):
        params = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        assert params["status"]["schema"]["enum"] == ["draft", "proposed", "approved",
                                                      "retired"]
        assert params["state"]["schema"]["enum"] == ["current", "target"]
        assert params["valid_on"]["schema"]["format"] == "date"
        assert "retired" in params["status"]["description"]
        assert "target" in params["state"]["description"]
        assert "YYYY-MM-DD" in params["valid_on"]["description"]


def test_item_json_ld_carries_the_life_cycle(server: Served) -> None:
    target = server.get(server.base + "/api/chains/varsinais-suomi/lonkkamurtuma-tavoitetila")
    assert target.status_code == 200
    body = target.json()
    text = json.dumps(body)
    assert "targetModelOf" in text and "modelState" in text
    current = server.get(server.base + "/api/chains/varsinais-suomi/lonkkamurtuma").json()
    assert "approvedBy" in json.dumps(current) and "validFrom" in json.dumps(current)
    retired = server.get(server.base + "/api/packages/varsinais-suomi/"
                         "nuorten-palvelukokonaisuus-2023").json()
    assert "validUntil" in json.dumps(retired) and "isReplacedBy" in json.dumps(retired)
    # The published context maps every life-cycle term to its IRI.
    context = server.get(server.base + "/api/context.jsonld").json()["@context"]
    for term in ("validFrom", "validUntil", "approvedBy", "modelState", "targetModelOf"):
        entry = context[term]
        assert (entry["@id"] if isinstance(entry, dict) else entry) in (
            ONTOLOGY + term, f"ketju:{term}")


# -- the feeds: CPSV-AP and the LDES change stream ------------------------------------------------

def test_cpsv_ap_feed_carries_the_life_cycle(built_project: Project) -> None:
    from ketju.infra.feeds.cpsv import feed_file

    store = ox.Store()
    store.load(path=str(feed_file(built_project.store_link.resolve(), "turtle")),
               format=ox.RdfFormat.TURTLE)
    k = f"<{ONTOLOGY}"
    adms, dcat = "<http://www.w3.org/ns/adms#status>", "http://www.w3.org/ns/dcat#"
    skos = "http://www.w3.org/2004/02/skos/core#"
    # Status (as CPSV-AP's adms:status, a skos:Concept with its names), successor, validity
    # as a DCAT-AP period.
    assert ask(store, f"<{TARGET}> {adms} <{KSTATUS}Proposed> ; {k}modelState> "
                      f"<{MODEL_STATE}target> ; {k}targetModelOf> <{CURRENT}> . "
                      f"<{KSTATUS}Proposed> a <{skos}Concept> ; <{skos}prefLabel> "
                      '"ehdotettu"@fi')
    assert ask(store, f"<{RETIRED}> {adms} <{ADMS_STATUS}Deprecated> ; "
                      f"<{DCT}isReplacedBy> <{YOUTH}> ; <{DCT}temporal> ?period . "
                      f"?period a <{DCT}PeriodOfTime> ; <{dcat}startDate> ?from ; "
                      f"<{dcat}endDate> ?until . <{YOUTH}> <{DCT}replaces> <{RETIRED}> "
                      'FILTER(STR(?from) = "2023-09-01" && STR(?until) = "2025-03-31")')
    # The approving decision: date, reference, the deciding body by name.
    assert ask(store, f"<{CURRENT}> {k}approvedBy> ?decision ; {k}validFrom> ?from . "
                      f"?decision a {k}Decision> ; <{DCT}date> ?date ; <{DCT}identifier> ?ref ;"
                      " <http://www.w3.org/ns/prov#wasAssociatedWith> ?body . "
                      f"?body <{skos}prefLabel> ?name "
                      'FILTER(STRSTARTS(?ref, "Aluehallitus") && LANG(?name) = "fi")')


def test_change_stream_members_carry_the_life_cycle(built_project: Project) -> None:
    from tests.test_ldes import all_members, local_pages

    root, pages = local_pages(built_project)
    latest = {member.entity.value: member for member in all_members(root, pages)}
    k = ONTOLOGY
    expected = {
        TARGET: {(k + "modelState", MODEL_STATE + "target"), (k + "targetModelOf", CURRENT),
                 ("http://www.w3.org/ns/adms#status", KSTATUS + "Proposed")},
        CURRENT: {(k + "modelState", MODEL_STATE + "current"), (k + "validFrom", "2024-06-01"),
                  (k + "approvedBy", ID + "varsinais-suomi/decision/lonkkamurtuma-2024")},
        RETIRED: {(k + "validUntil", "2025-03-31"), (DCT + "isReplacedBy", YOUTH),
                  ("http://www.w3.org/ns/adms#status", ADMS_STATUS + "Deprecated")},
        YOUTH: {(DCT + "replaces", RETIRED), (k + "validFrom", "2025-04-01")},
    }
    for entity, pairs in expected.items():
        member = latest[entity]
        own = {(t.predicate.value, t.object.value) for t in member.triples
               if t.subject == member.iri}
        assert pairs <= own, (entity, pairs - own)
