"""Reuse: a chain derived into another region validates, builds and keeps its source's steps."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from ketju.core.namespaces import ONTOLOGY, PREFIXES
from ketju.core.project import Project
from ketju.domain.chains import Chain, load_chain
from ketju.domain.reuse import Derivation, ReuseError, derive_chain, read_producer_map
from ketju.infra.build import build
from ketju.infra.snapshot import Snapshot, SnapshotSource
from ketju.infra.validate import validate

SOURCE = "https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma"
TARGET = "kainuu"
DERIVED = "https://w3id.org/ketju/id/kainuu/chain/lonkkamurtuma-varsinais-suomi"
FILE_NAME = "lonkkamurtuma-varsinais-suomi.ttl"
VS_PRODUCER = "https://w3id.org/ketju/id/varsinais-suomi/producer/"
KAINUU_PRODUCER = "https://w3id.org/ketju/id/kainuu/producer/"
DERIVED_FROM = PREFIXES["prov"] + "wasDerivedFrom"
RDF_TYPE = PREFIXES["rdf"] + "type"

KAINUU_PRODUCERS = """\
@prefix ketju: <https://w3id.org/ketju/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix ptype: <https://w3id.org/ketju/vocab/producer-type/> .
@prefix kaorg: <https://w3id.org/ketju/id/kainuu/organiser/> .
@prefix kaprod: <https://w3id.org/ketju/id/kainuu/producer/> .

kaprod:ortopedia a ketju:Producer ;
    skos:prefLabel "Ortopedian poliklinikka ja osasto"@fi, "Ortopedi"@sv, "Orthopaedics"@en ;
    ketju:producerType ptype:own-production ;
    org:subOrganizationOf kaorg:kainuu ;
    ketju:illustrative true .

kaprod:kotihoito a ketju:Producer ;
    skos:prefLabel "Kotihoito"@fi, "Hemvård"@sv, "Home care"@en ;
    ketju:producerType ptype:own-production ;
    org:subOrganizationOf kaorg:kainuu ;
    ketju:illustrative true .
"""


@pytest.fixture(scope="module")
def snapshot(built_project: Project) -> Snapshot:
    return SnapshotSource.embedded(built_project).current()


@pytest.fixture(scope="module")
def derivation(snapshot: Snapshot) -> Derivation:
    return derive_chain(snapshot, SOURCE, TARGET)


def graph_of(turtle: str) -> set[tuple[str, str, str]]:
    """The statements of a Turtle text as (subject, predicate, object value) strings."""
    return {(q.subject.value, q.predicate.value, q.object.value)
            for q in ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE)}


def objects(graph: set[tuple[str, str, str]], subject: str, predicate: str) -> set[str]:
    return {o for s, p, o in graph if s == subject and p == predicate}


def write_derived(project: Project, turtle: str, name: str = FILE_NAME) -> Path:
    path = project.data_dir / TARGET / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(turtle, encoding="utf-8")
    return path


def assert_valid(project: Project, paths: list[Path]) -> None:
    report = validate(project, paths)
    assert report.files_checked == len(paths)
    assert report.errors == [], "\n".join(f.text() for f in report.errors)
    assert report.warnings == [], "\n".join(f.text() for f in report.warnings)


def assert_same_steps(source: Chain, derived: Chain) -> None:
    """Every step matched in the same order: all but the producers themselves are equal."""
    assert len(derived.steps) == len(source.steps) >= 2
    for old, new in zip(source.steps, derived.steps, strict=True):
        assert new.position == old.position
        assert new.iri.rsplit("/", 1)[-1] == old.iri.rsplit("/", 1)[-1]
        assert new.names == old.names
        assert new.service.iri == old.service.iri
        assert getattr(new.level, "iri", None) == getattr(old.level, "iri", None)
        assert getattr(new.producer_type, "iri", None) == getattr(old.producer_type, "iri", None)
        assert getattr(new.sector, "iri", None) == getattr(old.sector, "iri", None)
        assert (new.followed_by, new.parallel_with, new.alternative_to, new.optional,
                new.maximum_duration) == (old.followed_by, old.parallel_with,
                                          old.alternative_to, old.optional,
                                          old.maximum_duration)

    def hand_overs(chain: Chain) -> list[tuple[object, ...]]:
        return sorted((t.from_position, t.to_position, t.kind.iri, t.maximum_wait,
                       getattr(t.responsible_role, "iri", None)) for t in chain.transitions)

    assert hand_overs(derived) == hand_overs(source)
    try:
        from ketju.domain.compare import align  # type: ignore[import-not-found]
    except ImportError:  # written in parallel; the step-by-step check above stands alone
        return
    matched = align(source, derived).matched
    assert len(matched) == len(source.steps)


# ---------------------------------------------------------------------------------------------
# The derived chain validates, builds and matches its source
# ---------------------------------------------------------------------------------------------


def test_reused_chain_validates_builds_and_keeps_every_step(
        built_project: Project, project_copy: Project, snapshot: Snapshot,
        derivation: Derivation) -> None:
    assert derivation.chain_iri == DERIVED
    path = write_derived(project_copy, derivation.turtle)
    assert_valid(project_copy, [path])
    build(project_copy)

    derived_snapshot = SnapshotSource.embedded(project_copy).current()
    source = load_chain(snapshot, SOURCE)
    derived = load_chain(derived_snapshot, DERIVED)
    assert_same_steps(source, derived)
    assert {s.producer.iri for s in derived.steps} <= set(derivation.placeholders)


def test_every_chain_of_the_catalogue_can_be_reused(
        project_copy: Project, snapshot: Snapshot) -> None:
    rows = snapshot.data.select(f"SELECT ?chain WHERE {{ ?chain a <{ONTOLOGY}ServiceChain> }}")
    chains = sorted(row["chain"].value for row in rows)
    assert len(chains) >= 5
    paths = []
    for chain in chains:
        derivation = derive_chain(snapshot, chain, TARGET)
        region, slug = chain.split("/")[-3], chain.split("/")[-1]
        paths.append(write_derived(project_copy, derivation.turtle, f"{slug}-{region}.ttl"))
    assert_valid(project_copy, paths)


def test_reuse_gives_the_same_text_and_iris_twice(
        snapshot: Snapshot,
        derivation: Derivation) -> None:
    again = derive_chain(snapshot, SOURCE, TARGET)
    assert again.turtle == derivation.turtle
    assert again.new_iris == derivation.new_iris
    new = derivation.new_iris
    assert new[SOURCE] == DERIVED
    assert new[SOURCE + "/step/leikkaus"] == DERIVED + "/step/leikkaus"
    assert (new[SOURCE + "/transition/vuodeosasto-jatkohoito"]
            == DERIVED + "/transition/vuodeosasto-jatkohoito")
    assert (new["https://w3id.org/ketju/id/varsinais-suomi/goal/lonkkamurtuma-kotiin-paluu"]
            == "https://w3id.org/ketju/id/kainuu/goal/"
               "lonkkamurtuma-varsinais-suomi-lonkkamurtuma-kotiin-paluu")
    assert (new["https://w3id.org/ketju/id/varsinais-suomi/indicator/lonkkamurtuma-siirtoviive"]
            == "https://w3id.org/ketju/id/kainuu/indicator/"
               "lonkkamurtuma-varsinais-suomi-lonkkamurtuma-siirtoviive")


def test_another_process_writes_the_same_bytes(built_project: Project,
                                               derivation: Derivation) -> None:
    """No timestamps, no hash order: a second run elsewhere gives the same file."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ketju.core.project import Project\n"
        "from ketju.domain.reuse import derive_chain\n"
        "from ketju.infra.snapshot import SnapshotSource\n"
        "project = Project(Path(sys.argv[1]))\n"
        "derivation = derive_chain(SnapshotSource.embedded(project).current(),"
        " sys.argv[2], sys.argv[3])\n"
        "sys.stdout.buffer.write(derivation.turtle.encode('utf-8'))\n")
    run = subprocess.run([sys.executable, "-c", script, str(built_project.root), SOURCE, TARGET],
                         env={**os.environ, "PYTHONHASHSEED": "4242"}, capture_output=True,
                         check=True, timeout=120)
    assert run.stdout == derivation.turtle.encode("utf-8")


def test_every_new_node_is_derived_from_its_source_and_owned_by_the_target(
        derivation: Derivation) -> None:
    graph = graph_of(derivation.turtle)
    subjects = {s for s, _, _ in graph}
    assert subjects == set(derivation.new_iris.values())
    assert all(s.startswith("https://w3id.org/ketju/id/kainuu/") for s in subjects)
    for source, new in derivation.new_iris.items():
        assert objects(graph, new, DERIVED_FROM) == {source}
    kinds = {iri.split("/")[-2] for iri in derivation.new_iris}
    assert {"chain", "step", "transition", "goal", "indicator", "producer"} <= kinds
    # References between the copied nodes point at the copies, never at the source's nodes.
    copied = set(derivation.new_iris) - {s for s in derivation.new_iris if "/producer/" in s}
    assert not {o for s, p, o in graph if p != DERIVED_FROM} & copied


def test_the_derived_chain_is_a_draft_of_the_target_organiser(derivation: Derivation) -> None:
    graph = graph_of(derivation.turtle)
    assert objects(graph, DERIVED, PREFIXES["adms"] + "status") == {
        "http://purl.org/adms/status/UnderDevelopment"}
    assert objects(graph, DERIVED, ONTOLOGY + "organiser") == {
        "https://w3id.org/ketju/id/kainuu/organiser/kainuu"}
    assert not objects(graph, DERIVED, PREFIXES["dcat"] + "version")
    assert objects(graph, DERIVED, ONTOLOGY + "illustrative") == {"true"}
    notes = " ".join(objects(graph, DERIVED, PREFIXES["skos"] + "editorialNote"))
    assert "https://w3id.org/ketju/id/varsinais-suomi/service/paivystys" in notes
    assert "https://w3id.org/ketju/id/varsinais-suomi/service/paivystys" in (
        derivation.source_references)
    # National concepts and the source's services are kept as they are.
    assert objects(graph, DERIVED, ONTOLOGY + "targetSegment") == {
        "https://w3id.org/ketju/id/national/segment/lonkkamurtumapotilaat"}
    assert objects(graph, DERIVED + "/step/paivystys", ONTOLOGY + "service") == {
        "https://w3id.org/ketju/id/varsinais-suomi/service/paivystys"}
    # The source's steering measure is its own business; the copy leaves it out.
    assert not objects(graph, DERIVED, ONTOLOGY + "hasSteeringMeasure")
    assert derivation.dropped_references == [
        "https://w3id.org/ketju/id/varsinais-suomi/steering-measure/lonkkamurtuma-ketjukokous"]
    lines = derivation.turtle.splitlines()
    assert lines[0].startswith("# kainuu: service chain derived from varsinais-suomi")
    assert "@prefix ketju: <https://w3id.org/ketju/ontology#> ." in lines


def test_each_source_producer_gets_a_placeholder_of_its_type(
        snapshot: Snapshot,
        derivation: Derivation) -> None:
    source = load_chain(snapshot, SOURCE)
    producers = {s.producer.iri: getattr(s.producer_type, "iri", None) for s in source.steps}
    assert {t.responsible_producer.iri for t in source.transitions
            if t.responsible_producer is not None} <= set(producers)
    graph = graph_of(derivation.turtle)
    assert len(derivation.placeholders) == len(producers) == 7
    for producer, producer_type in producers.items():
        placeholder = derivation.new_iris[producer]
        slug = producer.rsplit("/", 1)[-1]
        assert placeholder == f"{KAINUU_PRODUCER}placeholder-varsinais-suomi-{slug}"
        assert placeholder in derivation.placeholders
        assert objects(graph, placeholder, RDF_TYPE) == {ONTOLOGY + "Producer"}
        assert objects(graph, placeholder, ONTOLOGY + "producerType") == {producer_type}
        labels = objects(graph, placeholder, PREFIXES["skos"] + "prefLabel")
        assert any(label.startswith("TÄYDENNÄ:") for label in labels)
        assert any(label.startswith("TO BE COMPLETED:") for label in labels)
        assert objects(graph, placeholder, PREFIXES["skos"] + "editorialNote")
    surgery = DERIVED + "/step/leikkaus"
    assert objects(graph, surgery, ONTOLOGY + "responsibleProducer") == {
        f"{KAINUU_PRODUCER}placeholder-varsinais-suomi-ortopedia"}


@pytest.mark.slow
def test_a_producer_map_replaces_placeholders(
        project_copy: Project, tmp_path: Path) -> None:
    (project_copy.data_dir / TARGET).mkdir(parents=True, exist_ok=True)
    (project_copy.data_dir / TARGET / "producers.ttl").write_text(KAINUU_PRODUCERS, "utf-8")
    build(project_copy)
    mapfile = tmp_path / "producers.csv"
    mapfile.write_text(
        "source,target\n"
        f"{VS_PRODUCER}ortopedia,{KAINUU_PRODUCER}ortopedia\n"
        f"<{VS_PRODUCER}kotihoito>,<{KAINUU_PRODUCER}kotihoito>\n", "utf-8")
    snapshot = SnapshotSource.embedded(project_copy).current()
    derivation = derive_chain(snapshot, SOURCE, TARGET, read_producer_map(mapfile))

    graph = graph_of(derivation.turtle)
    assert len(derivation.placeholders) == 5
    assert not any(p.endswith(("-ortopedia", "-kotihoito")) for p in derivation.placeholders)
    for step in ("leikkaus", "vuodeosasto"):
        assert objects(graph, f"{DERIVED}/step/{step}", ONTOLOGY + "responsibleProducer") == {
            f"{KAINUU_PRODUCER}ortopedia"}
    assert objects(graph, f"{DERIVED}/step/kotihoito", ONTOLOGY + "responsibleProducer") == {
        f"{KAINUU_PRODUCER}kotihoito"}

    path = write_derived(project_copy, derivation.turtle)
    assert_valid(project_copy, [path])
    build(project_copy)
    source = load_chain(SnapshotSource.embedded(project_copy).current(), SOURCE)
    derived = load_chain(SnapshotSource.embedded(project_copy).current(), DERIVED)
    assert_same_steps(source, derived)


# ---------------------------------------------------------------------------------------------
# Plain answers to wrong requests
# ---------------------------------------------------------------------------------------------


def test_unknown_chain_region_and_national_are_refused(
        snapshot: Snapshot) -> None:
    with pytest.raises(ReuseError, match="no service chain"):
        derive_chain(snapshot, SOURCE + "-x", TARGET)
    with pytest.raises(ReuseError, match="not the address of a service chain"):
        derive_chain(snapshot, VS_PRODUCER + "ortopedia", TARGET)
    with pytest.raises(ReuseError, match=r"'atlantis' is not a known region.*kainuu") as error:
        derive_chain(snapshot, SOURCE, "atlantis")
    assert "ei ole tunnettu alue" in error.value.messages["fi"]
    with pytest.raises(ReuseError, match="not a known region"):
        derive_chain(snapshot, SOURCE, "Kainuu ")
    with pytest.raises(ReuseError, match="cannot be reused into 'national'"):
        derive_chain(snapshot, SOURCE, "national")


def test_a_map_to_a_missing_producer_is_refused(
        snapshot: Snapshot) -> None:
    missing = f"{KAINUU_PRODUCER}ortopedia"
    with pytest.raises(ReuseError, match="not a producer") as error:
        derive_chain(snapshot, SOURCE, TARGET, {VS_PRODUCER + "ortopedia": missing})
    assert missing in str(error.value)
    not_a_producer = "https://w3id.org/ketju/id/varsinais-suomi/service/paivystys"
    with pytest.raises(ReuseError, match="not a producer"):
        derive_chain(snapshot, SOURCE, TARGET,
                     {VS_PRODUCER + "ortopedia": not_a_producer})
    national = "https://w3id.org/ketju/id/national/producer/kela"
    mapped = derive_chain(snapshot, SOURCE, TARGET, {VS_PRODUCER + "ensihoito": national})
    assert len(mapped.placeholders) == 6
    assert national in mapped.turtle or "national-producer:kela" in mapped.turtle


def test_read_producer_map(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("\ufeffSource;Target\n<https://a.example/x>;https://b.example/y\n\n", "utf-8")
    assert read_producer_map(good) == {"https://a.example/x": "https://b.example/y"}
    cases = {
        "from,to\nhttps://a.example/x,https://b.example/y\n": "source,target",
        "source,target\nhttps://a.example/x,\n": "line 2",
        "source,target\nkela,https://b.example/y\n": "'kela' is not an IRI",
        "source,target\nhttps://a.example/x,https://b.example/y\n"
        "https://a.example/x,https://b.example/z\n": "mapped twice",
    }
    for text, message in cases.items():
        bad = tmp_path / "bad.csv"
        bad.write_text(text, "utf-8")
        with pytest.raises(ReuseError, match=message):
            read_producer_map(bad)
    with pytest.raises(ReuseError, match="cannot be read"):
        read_producer_map(tmp_path / "missing.csv")
