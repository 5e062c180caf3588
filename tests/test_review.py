"""`ketju diff`: the review of a change names what changed in the descriptions, not the files.

Two revisions of the example data (as folders and as two commits of a git repository) differ
in one chain, the Varsinais-Suomi hip-fracture chain: a step moved, a step's producer changed,
a hand-over's maximum wait changed, a step added. The review names exactly those four changes,
in Finnish and English, in Markdown and as JSON records, and the same from folders and from git.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from tools.screenshots import REVIEW_CHANGE, REVIEW_STEP
from typer.testing import CliRunner

from ketju.cli import app
from ketju.domain.review import review
from ketju.domain.review.render import FORMATS, markdown, records

ROOT = Path(__file__).resolve().parents[1]
CHAIN_FILE = "varsinais-suomi/lonkkamurtuma.ttl"
CHAIN = "https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma"
STEP = CHAIN + "/step/"
TRANSITION = CHAIN + "/transition/"
K = "https://w3id.org/ketju/ontology#"


def _edit(path: Path, *pairs: tuple[str, str], append: str = "") -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text + append, encoding="utf-8")


#: The four changes of issue 16's "done when" (a step moved, a producer changed, a hand-over's
#: maximum wait changed, a step added): the change `make screenshots` pictures for the README.
FOUR_CHANGES, NEW_STEP = REVIEW_CHANGE, REVIEW_STEP
EXPECTED = {
    ("added", "step", STEP + "etaseuranta", None, None, None),
    ("moved", "step", STEP + "osastokuntoutus", "position", "6", "4"),
    ("changed", "step", STEP + "kotihoito", "producer",
     "https://w3id.org/ketju/id/varsinais-suomi/producer/kotihoito",
     "https://w3id.org/ketju/id/varsinais-suomi/producer/terveyskeskussairaala"),
    ("changed", "transition", TRANSITION + "jatkohoito-kotihoito", "maximumWait", "P1D",
     "PT12H"),
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def _commit(repo: Path, message: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=Test", "-c", "user.email=test@example.org", "commit", "-q",
         "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """Folders `before` and `after` (project roots with data/), and the same two states as
    two commits of a git repository `repo` (revisions `base`, `head`)."""
    top = tmp_path_factory.mktemp("review")
    before, after, repo = top / "before", top / "after", top / "repo"
    shutil.copytree(ROOT / "data", before / "data")
    shutil.copytree(ROOT / "data", after / "data")
    _edit(after / "data" / CHAIN_FILE, *FOUR_CHANGES, append=NEW_STEP)
    shutil.copytree(ROOT / "data", repo / "data")
    shutil.copytree(ROOT / "ontology" / "vocab", repo / "ontology" / "vocab")
    shutil.copytree(ROOT / "ontology" / "generated", repo / "ontology" / "generated")
    _git(repo, "init", "-q", "-b", "main")
    base = _commit(repo, "before")
    shutil.copy(after / "data" / CHAIN_FILE, repo / "data" / CHAIN_FILE)
    head = _commit(repo, "after")
    return {"before": before, "after": after, "repo": repo, "base": base, "head": head}


def _facts(found: list[dict[str, object]]) -> set[tuple[object, ...]]:
    return {(r["kind"], r["what"], r["entity"], r["property"], r["before"], r["after"])
            for r in found}


def test_the_four_changes_and_no_more(sides: dict[str, Path | str]) -> None:
    found = review(str(sides["before"]), str(sides["after"]), ROOT)
    assert {c.description for c in found.changes} == {CHAIN}
    assert _facts(records(found, "fi")) == EXPECTED
    assert found.descriptions == {CHAIN: ("chain", "changed")}
    assert not found.problems


def test_markdown_names_them_in_finnish(sides: dict[str, Path | str]) -> None:
    text = markdown(review(str(sides["before"]), str(sides["after"]), ROOT), "fi")
    lines = text.splitlines()
    assert lines[0] == "**1 ketju muuttui.**"
    assert ("### Palveluketju: [Lonkkamurtumapotilaan hoito- ja kuntoutusketju "
            "(lonkkaliukumäki)](<" + CHAIN + ">)") in lines
    bullets = [line for line in lines if line.startswith("- ")]
    assert bullets == [
        "- Vaihe lisätty: **Etäseuranta** (kohta 10)",
        "- Vaihe **Kotiutus kotihoidon tukemana**: tuottaja Kotihoito → Terveyskeskussairaala",
        "- Vaihe **Fysioterapia terveyskeskussairaalassa** siirtyi järjestyksessä: kohta 6 → 4",
        "- Siirtymä **Kotiutus ja kotihoidon käynnistäminen**: enimmäisodotus enintään 1 päivä"
        " → enintään 12 tuntia",
    ]
    assert "**Vaiheet**" in lines and "**Siirtymät**" in lines
    # No raw IRI where a name exists: only the heading's link carries one.
    assert sum("https://" in line for line in lines) == 1


def test_markdown_names_them_in_english(sides: dict[str, Path | str]) -> None:
    text = markdown(review(str(sides["before"]), str(sides["after"]), ROOT), "en")
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert text.startswith("**1 chain changed.**\n")
    assert bullets == [
        "- Step added: **Remote follow-up** (position 10)",
        "- Step **Discharge home supported by home care**: producer Home care → Health centre"
        " hospital",
        "- Step **Physiotherapy in the health centre hospital** moved in the order: position"
        " 6 → 4",
        "- Hand-over **Discharge and start of home care**: maximum wait at most 1 day → at most"
        " 12 hours",
    ]
    assert "**Steps**" in text and "**Hand-overs**" in text


def test_json_has_the_same_four_records(sides: dict[str, Path | str]) -> None:
    result = CliRunner().invoke(app, ["diff", str(sides["before"]), str(sides["after"]),
                                      "--format", "json", "--lang", "en"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["summary"] == "1 chain changed."
    assert _facts(body["changes"]) == EXPECTED
    by_property = {r["property"]: r for r in body["changes"]}
    assert by_property["maximumWait"]["property_iri"] == K + "maximumWait"
    assert by_property["producer"]["property_iri"] == K + "responsibleProducer"
    assert by_property["producer"]["entity_name"] == "Discharge home supported by home care"
    assert {r["description"] for r in body["changes"]} == {CHAIN}


def test_folders_and_git_revisions_give_the_same_answer(sides: dict[str, Path | str]) -> None:
    from_folders = review(str(sides["before"]), str(sides["after"]), ROOT)
    from_git = review(str(sides["base"]), str(sides["head"]), Path(sides["repo"]))
    assert from_git.changes == from_folders.changes
    for form in FORMATS.values():
        assert form(from_git, "fi") == form(from_folders, "fi")
    # A data folder itself is a side too, and so is a revision named by a branch expression.
    from_data = review(str(Path(sides["before"]) / "data"), "main", Path(sides["repo"]))
    assert from_data.changes == from_folders.changes


def test_the_repository_is_read_without_a_checkout(sides: dict[str, Path | str]) -> None:
    repo = Path(sides["repo"])
    status = _git(repo, "status", "--porcelain")
    review("main~1", "main", repo)
    assert _git(repo, "status", "--porcelain") == status
    assert _git(repo, "rev-parse", "HEAD") == sides["head"]


def test_no_changes(sides: dict[str, Path | str]) -> None:
    same = review(str(sides["base"]), str(sides["before"]), Path(sides["repo"]))
    assert same.changes == []
    assert FORMATS["markdown"](same, "fi") == "**Ei muutoksia kuvauksiin.**\n"
    assert FORMATS["text"](same, "sv") == "Inga ändringar i beskrivningarna.\n"
    assert json.loads(FORMATS["json"](same, "en"))["changes"] == []


def test_a_duration_written_another_way_is_no_change(tmp_path: Path,
                                                     sides: dict[str, Path | str]) -> None:
    """A hand-over's wait of one day written as 24 hours is the same wait (XML Schema compares
    durations by length): the review stays quiet."""
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    _edit(after / "data" / "varsinais-suomi" / "lonkkamurtuma.ttl",
          ('ketju:maximumWait "P1D"^^xsd:duration', 'ketju:maximumWait "PT24H"^^xsd:duration'))
    assert review(str(sides["before"]), str(after), ROOT).changes == []


def test_a_handover_given_a_new_identifier_is_the_same_handover(
        tmp_path: Path, sides: dict[str, Path | str]) -> None:
    """A hand-over whose IRI changed but that joins the same two steps is compared with the
    old one: only its changed wait is named, not one hand-over removed and another added."""
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    chain = after / "data" / CHAIN_FILE
    text = chain.read_text(encoding="utf-8").replace("lmtr:jatkohoito-kotihoito",
                                                     "lmtr:kotiutus")
    chain.write_text(text, encoding="utf-8")
    _edit(chain, ('ketju:maximumWait "P1D"^^xsd:duration',
                  'ketju:maximumWait "PT12H"^^xsd:duration'))
    found = review(str(sides["before"]), str(after), ROOT)
    assert [(c.kind, c.what, c.entity, c.property, c.before, c.after) for c in found.changes] \
        == [("changed", "transition", TRANSITION + "kotiutus", "maximumWait", "P1D", "PT12H")]


def test_a_backwards_status_is_a_problem(tmp_path: Path, sides: dict[str, Path | str]) -> None:
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    _edit(after / "data" / CHAIN_FILE,
          ("adms:status status:Completed", "adms:status status:UnderDevelopment"))
    found = review(str(sides["before"]), str(after), ROOT)
    assert [(c.what, c.property, c.problem) for c in found.changes] == [
        ("description", "status", True)]
    text = markdown(found, "fi")
    assert text.startswith("**1 ketju muuttui, 1 ongelma.**")
    assert "⚠️ **Ongelma:**" in text
    assert ("- ⚠️ Tila: voimassa → luonnos. Tila ei voi palata taaksepäin: kuvauksen elinkaari"
            " etenee luonnoksesta ehdotetuksi, hyväksytyksi ja poistuneeksi.") in text.splitlines()
    assert "A status cannot go backwards" in markdown(found, "en")
    # --strict turns the problem into exit status 1 (the comment is still written).
    result = CliRunner().invoke(app, ["diff", str(sides["before"]), str(after), "--strict",
                                      "--lang", "en"])
    assert result.exit_code == 1 and "problem" in result.stdout.lower()
    # Forwards (draft to approved) is a change, not a problem.
    forwards = review(str(after), str(sides["before"]), ROOT)
    assert [(c.property, c.problem) for c in forwards.changes] == [("status", False)]


def test_life_cycle_changes_are_reported(tmp_path: Path, sides: dict[str, Path | str]) -> None:
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    _edit(after / "data" / CHAIN_FILE,
          ("adms:status status:Completed",
           "adms:status status:Deprecated ;\n"
           '    ketju:validUntil "2026-06-30"^^xsd:date ;\n'
           "    dct:isReplacedBy <https://w3id.org/ketju/id/varsinais-suomi/chain/"
           "lonkkamurtuma-2027>"))
    found = review(str(sides["before"]), str(after), ROOT)
    assert {(c.property, c.before, c.after, c.problem) for c in found.changes} == {
        ("status", "http://purl.org/adms/status/Completed",
         "http://purl.org/adms/status/Deprecated", False),
        ("validUntil", None, "2026-06-30", False),
        ("isReplacedBy", None,
         "https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma-2027", False)}
    text = markdown(found, "en")
    assert "- Valid until: – → 30 June 2026" in text.splitlines()
    assert "**Description and life cycle**" in text
    # A successor not in the catalogue has no name: its IRI is shown, as code.
    successor = "https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma-2027"
    assert f"- Replaced by: – → `{successor}`" in text.splitlines()


def test_descriptions_added_and_removed(tmp_path: Path, sides: dict[str, Path | str]) -> None:
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    (after / "data" / "pirkanmaa" / "lonkkaproteesi.ttl").unlink()
    removed = review(str(sides["before"]), str(after), ROOT)
    assert {s for _, s in removed.descriptions.values()} == {"removed"}
    assert "poistui" in markdown(removed, "fi").splitlines()[0]
    added = review(str(after), str(sides["before"]), ROOT)
    first = markdown(added, "en").splitlines()[0]
    assert "new service" in first
    assert "New description:" in markdown(added, "en")


def test_a_side_that_is_neither_folder_nor_revision_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["diff", str(tmp_path / "nothing"), "HEAD"])
    assert result.exit_code == 2


def test_the_readme_picture_shows_the_same_review() -> None:
    """`make screenshots` pictures the comment for the same change (tools/screenshots.py)."""
    from tools.screenshots import review_markdown

    lines = review_markdown("fi").splitlines()
    assert lines[0] == "**1 ketju muuttui.**"
    assert len([line for line in lines if line.startswith("- ")]) == 4


@pytest.mark.slow
def test_the_review_picture_is_taken(tmp_path: Path) -> None:
    from tools.screenshots import CHROMIUM, take_review

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    picture = take_review(tmp_path)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000


DECISION = """
<https://w3id.org/ketju/id/varsinais-suomi/decision/lonkkamurtuma-2025> a ketju:Decision ;
    skos:prefLabel "Lonkkamurtumaketjun hyväksyminen"@fi, "Approval of the hip-fracture chain"@en ;
    dct:date "2025-03-12"^^xsd:date ;
    dct:identifier "{reference}" .
"""
HANDOVER = """
lmtr:paivystys-jalkitarkastus a ketju:Transition ;
    skos:prefLabel "Ohjaus jälkitarkastukseen"@fi, "Referral to the follow-up visit"@en ;
    ketju:fromStep lmstep:paivystys ;
    ketju:toStep lmstep:jalkitarkastus ;
    ketju:transitionKind tkind:referral .
"""


def test_a_decision_and_a_handover(tmp_path: Path, sides: dict[str, Path | str]) -> None:
    approved = ("    dcat:version \"1.0\" .", "    dcat:version \"1.0\" ;\n    ketju:approvedBy "
                "<https://w3id.org/ketju/id/varsinais-suomi/decision/lonkkamurtuma-2025> .")
    before, after = tmp_path / "before", tmp_path / "after"
    for folder, reference in ((before, "Aluehallitus 12.3.2025 § 87"),
                              (after, "Aluehallitus 12.3.2025 § 88")):
        shutil.copytree(Path(sides["before"]) / "data", folder / "data")
        _edit(folder / "data" / CHAIN_FILE, approved,
              append=DECISION.replace("{reference}", reference))
    _edit(after / "data" / CHAIN_FILE,
          ("lmtr:kotikuntoutus-jalkitarkastus ;\n    ketju:illustrative",
           "lmtr:kotikuntoutus-jalkitarkastus, lmtr:paivystys-jalkitarkastus ;\n"
           "    ketju:illustrative"), append=HANDOVER)
    found = review(str(before), str(after), ROOT)
    assert [(c.kind, c.what, c.property) for c in found.changes] == [
        ("changed", "decision", "decisionReference"), ("added", "transition", None)]
    bullets = [line for line in markdown(found, "en").splitlines() if line.startswith("- ")]
    assert bullets == [
        "- Approving decision **Approval of the hip-fracture chain**: reference Aluehallitus"
        " 12.3.2025 § 87 → Aluehallitus 12.3.2025 § 88",
        "- Hand-over added: **Referral to the follow-up visit** (Emergency department →"
        " Follow-up visit at the health and social services centre)"]


def test_a_retired_description_brought_back_is_a_problem(tmp_path: Path,
                                                          sides: dict[str, Path | str]) -> None:
    """The example data's retired package (superseded in 2025) made approved again."""
    retired = Path(sides["before"]) / "data" / "varsinais-suomi" / \
        "nuorten-palvelukokonaisuus-2023.ttl"
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    _edit(after / "data" / retired.relative_to(Path(sides["before"]) / "data"),
          ("adms:status status:Deprecated", "adms:status status:Completed"))
    found = review(str(sides["before"]), str(after), ROOT)
    assert [(c.what, c.property, c.problem) for c in found.changes] == [
        ("description", "status", True)]
    assert found.descriptions == {
        "https://w3id.org/ketju/id/varsinais-suomi/package/nuorten-palvelukokonaisuus-2023":
        ("package", "changed")}
    assert markdown(found, "fi").startswith("**1 palvelukokonaisuus muuttui, 1 ongelma.**")


def test_goals_targets_producers_and_classes(tmp_path: Path,
                                             sides: dict[str, Path | str]) -> None:
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    region = after / "data" / "varsinais-suomi"
    _edit(region / "lonkkamurtuma.ttl",
          ("    rdf:value 75.0 ;", "    rdf:value 80.0 ;"),
          ('    ketju:targetPeriod "2025"^^xsd:gYear ;\n    ketju:warningThreshold 70.0 ;',
           '    ketju:targetPeriod "2026"^^xsd:gYear ;\n    ketju:warningThreshold 70.0 ;'),
          ("    ketju:hasGoal vsgoal:lonkkamurtuma-leikkaus-viiveetta,",
           "    ketju:hasGoal vsgoal:lonkkamurtuma-kaatumiset, "
           "vsgoal:lonkkamurtuma-leikkaus-viiveetta,"),
          append="""
vsgoal:lonkkamurtuma-kaatumiset a ketju:Goal ;
    skos:prefLabel "Uusilta kaatumisilta vältytään"@fi, "New falls are avoided"@en ;
    ketju:goalLevel glevel:intermediate ;
    ketju:measuredBy vsind:lonkkamurtuma-kotona-120-vrk .
""")
    _edit(region / "producers.ttl",
          ('"Kotihoito"@fi, "Hemvård"@sv, "Home care"@en ;\n    ketju:producerType',
           '"Kotihoito ja kotisairaala"@fi, "Hemvård"@sv, "Home care and home hospital"@en ;\n'
           '    ketju:producerType'))
    _edit(region / "services.ttl", ("    ketju:serviceClass jhs:P4.3 ;\n    ketju:serviceLevel "
                                    "level:basic ;\n    ketju:sector sector:social ;\n"
                                    "    ketju:serviceTask nattask:kotiin-annettavat-palvelut",
                                    "    ketju:serviceClass jhs:P4.4 ;\n    ketju:serviceLevel "
                                    "level:basic ;\n    ketju:sector sector:social ;\n"
                                    "    ketju:serviceTask nattask:kotiin-annettavat-palvelut"))
    found = review(str(sides["before"]), str(after), ROOT)
    mine = [c for c in found.changes if c.description == CHAIN]
    assert {(c.kind, c.what, c.entity.rsplit("/", 1)[-1], c.property, c.before, c.after)
            for c in mine} == {
        ("added", "goal", "lonkkamurtuma-kaatumiset", None, None, None),
        ("changed", "target", "lonkkamurtuma-kotona-120-vrk", "value", "75.0", "80.0"),
        ("changed", "target", "lonkkamurtuma-kotona-120-vrk", "period", "2025", "2026"),
        ("renamed", "producer", "kotihoito", "label", "Kotihoito", "Kotihoito ja kotisairaala"),
        ("changed", "step", "kotihoito", "class",
         "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P4.3",
         "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P4.4")}
    bullets = [line for line in markdown(found, "fi").split("### ")[1 + sorted(
        found.descriptions).index(CHAIN)].splitlines() if line.startswith("- ")]
    assert "- Tavoite lisätty: **Uusilta kaatumisilta vältytään**" in bullets
    assert "- Tavoitearvo **Tavoite 2025: ≥ 75 %**: arvo 75 → 80" in bullets
    assert "- Tavoitearvo **Tavoite 2025: ≥ 75 %**: tavoiteajankohta 2025 → 2026" in bullets
    assert "- Tuottaja nimettiin uudelleen: **Kotihoito** → **Kotihoito ja kotisairaala**" \
        in bullets
    assert ("- Vaihe **Kotiutus kotihoidon tukemana**: JHS 183 -palveluluokka P4.3 Kotihoito ja"
            " kotipalvelut → P4.4 Vammaisten muut kuin asumis- ja kotipalvelut") in bullets


def test_a_name_changed_in_one_language_only(tmp_path: Path,
                                             sides: dict[str, Path | str]) -> None:
    after = tmp_path / "after"
    shutil.copytree(Path(sides["before"]) / "data", after / "data")
    _edit(after / "data" / "varsinais-suomi" / "producers.ttl",
          ('"Kotihoito"@fi, "Hemvård"@sv, "Home care"@en ;',
           '"Kotihoito"@fi, "Hemvård och hemsjukhus"@sv, "Home care"@en ;'))
    found = review(str(sides["before"]), str(after), ROOT)
    assert "- Producer renamed: **Hemvård** → **Hemvård och hemsjukhus**" in markdown(
        found, "en").splitlines()


def test_a_long_review_is_cut_for_github(tmp_path: Path) -> None:
    """GitHub refuses comments over 65,536 characters: the rest is counted, not shown."""
    empty = tmp_path / "empty"
    empty.mkdir()
    everything = review(str(empty), str(ROOT / "data"), ROOT)
    whole = markdown(everything, "fi")
    assert len(everything.descriptions) > 10 and "katkaistiin" not in whole
    cut = markdown(everything, "fi", limit=len(whole) // 2)
    assert len(cut) <= len(whole) // 2 + 300
    shown = cut.count("\n### ")
    assert 0 < shown < len(everything.descriptions)
    assert cut.rstrip().endswith(f"{len(everything.descriptions) - shown} muuta muuttunutta "
                                 "kuvausta puuttuu. Koko katsaus: ketju diff --format text.")
