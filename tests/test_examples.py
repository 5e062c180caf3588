"""The source documents' worked examples are in the store after `ketju build`, as modelled."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ketju.core.namespaces import PREFIXES
from ketju.core.project import Project
from ketju.infra.build import build
from ketju.infra.store import CatalogueStore
from tests.conftest import ROOT

ID = "https://w3id.org/ketju/id/"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CatalogueStore:
    root: Path = tmp_path_factory.mktemp("examples")
    for name in ("ontology", "shapes", "data", "queries"):
        shutil.copytree(ROOT / name, root / name)
    project = Project(root)
    build(project)
    return CatalogueStore.open(project)


def values(store: CatalogueStore, query: str, var: str = "x") -> list[str]:
    prefixes = "".join(f"PREFIX {k}: <{v}>\n" for k, v in PREFIXES.items())
    return [row[var].value for row in store.select(prefixes + query) if var in row]


def test_every_description_is_marked_illustrative(store: CatalogueStore) -> None:
    unmarked = values(store, """SELECT ?x WHERE { ?x a ?c VALUES ?c {
        ketju:ServicePackage ketju:ServiceChain }
        FILTER NOT EXISTS { ?x ketju:illustrative true } }""")
    assert unmarked == []


def test_youth_package_of_the_handbook(store: CatalogueStore) -> None:
    package = f"<{ID}keski-suomi/package/nuorten-palvelukokonaisuus>"
    services = values(store, f"SELECT ?x WHERE {{ {package} ketju:includesService ?x }}")
    assert len(services) == 18
    sectors = values(store, f"""SELECT DISTINCT ?x WHERE {{ {package} ketju:includesService ?s .
        ?s ketju:sector ?x }}""")
    assert {s.rsplit("/", 1)[1] for s in sectors} == {
        "social", "health", "hyte", "education-culture", "private-third-sector", "state"}
    producer_types = values(store, f"""SELECT DISTINCT ?x WHERE {{
        {package} ketju:includesService ?s . ?s ketju:producedBy/ketju:producerType ?x }}""")
    assert {"own-production", "ngo", "state", "municipal"} <= {t.rsplit("/", 1)[1]
                                                              for t in producer_types}
    main = values(store, f"""SELECT ?x WHERE {{ {package} ketju:hasMainGoal ?g .
        ?g skos:prefLabel ?x FILTER(LANG(?x) = "fi") }}""")
    assert main == ["Nuori käy koulua, on töissä tai opiskelee. Nuori saa tarvitsemansa palvelut. "
                    "Palvelut edistävät nuoren hyvinvointia."]
    organising_goals = values(store, f"""SELECT DISTINCT ?x WHERE {{ {package} ketju:hasGoal ?g .
        ?g ketju:goalPerspective ?p ; skos:prefLabel ?x FILTER(LANG(?x) = "fi")
        FILTER(?p != <https://w3id.org/ketju/vocab/goal-perspective/customer>) }}""")
    assert sorted(organising_goals) == [
        "Palvelut ovat asiakaslähtöisiä ja laadukkaita",
        "Palvelut ovat oikea-aikaisia ja sujuvasti saatavilla",
        "Palvelut ovat tehokkaita ja kustannusvaikuttavia",
        "Palvelut toimivat saumattomasti yhteen",
    ]
    unsourced = values(store, f"""SELECT ?x WHERE {{ {package} ketju:hasGoal|ketju:hasMainGoal ?g .
        ?g ketju:measuredBy ?x FILTER NOT EXISTS {{ ?x ketju:dataSource ?d }} }}""")
    assert unsourced == []
    frequencies = values(store, f"""SELECT ?x WHERE {{ {package} ketju:hasSteeringMeasure ?m .
        ?m dct:accrualPeriodicity ?x }}""")
    assert {f.rsplit("/", 1)[1] for f in frequencies} >= {"ANNUAL_3", "ANNUAL_2"}
    means = values(store, f"""SELECT DISTINCT ?x WHERE {{ {package} ketju:hasSteeringMeasure ?m .
        ?m ketju:steeringMeans ?x }}""")
    assert {m.rsplit("/", 1)[1] for m in means} >= {"norm", "information", "resource", "dialogue"}
    assert values(store, f"SELECT ?x WHERE {{ {package} ketju:hasInterface ?x }}")


def test_three_regions_describe_hip_fracture_differently(store: CatalogueStore) -> None:
    chains = values(store, f"""SELECT ?x WHERE {{ ?x a ketju:ServiceChain ;
        ketju:targetSegment <{ID}national/segment/lonkkamurtumapotilaat> }} ORDER BY ?x""")
    regions = {c.split("/")[5] for c in chains}
    assert {"varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa"} <= regions

    def profile(chain: str) -> tuple[int, frozenset[str], frozenset[str]]:
        steps = values(store, f"SELECT ?x WHERE {{ <{chain}> ketju:hasStep ?x }}")
        producer_types = values(store, f"""SELECT DISTINCT ?x WHERE {{ <{chain}> ketju:hasStep ?s .
            ?s ketju:responsibleProducer/ketju:producerType ?x }}""")
        kinds = values(store, f"""SELECT DISTINCT ?x WHERE {{ <{chain}> ketju:hasTransition ?t .
            ?t ketju:transitionKind ?x }}""")
        return len(steps), frozenset(producer_types), frozenset(kinds)

    profiles = [profile(f"{ID}{r}/chain/lonkkamurtuma")
                for r in ("varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa")]
    assert len(set(profiles)) == 3
    vertical = values(store, f"""SELECT ?x WHERE {{
        <{ID}varsinais-suomi/chain/lonkkamurtuma> ketju:integrationDirection ?x }}""")
    assert vertical == ["https://w3id.org/ketju/vocab/integration-direction/vertical"]


def test_the_design_question_can_be_asked(store: CatalogueStore) -> None:
    """Which regions hand a hip-fracture patient back to basic care within 7 days, and who
    produces that step? (DESIGN.md)"""
    rows = store.select("""
        PREFIX ketju: <https://w3id.org/ketju/ontology#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        SELECT DISTINCT ?chain ?producer WHERE {
            ?chain ketju:targetSegment ?segment ; ketju:hasTransition ?t .
            FILTER(?segment = <https://w3id.org/ketju/id/national/segment/lonkkamurtumapotilaat>)
            ?t ketju:fromStep ?from ; ketju:toStep ?to ; ketju:maximumWait ?wait .
            ?from ketju:service/ketju:serviceLevel ?fromLevel .
            ?to ketju:responsibleProducer ?producer .
            OPTIONAL { ?to ketju:serviceLevel ?stepLevel }
            ?to ketju:service/ketju:serviceLevel ?serviceLevel .
            BIND(COALESCE(?stepLevel, ?serviceLevel) AS ?toLevel)
            ?fromLevel ketju:rank ?fromRank . ?toLevel ketju:rank ?toRank .
            FILTER(?toRank < ?fromRank && ?toRank <= 3 && ?wait <= "P7D"^^xsd:dayTimeDuration)
        }""")
    regions = {row["chain"].value.split("/")[5] for row in rows}
    assert {"varsinais-suomi", "pohjois-savo"} <= regions


def test_hip_replacement_home_to_home(store: CatalogueStore) -> None:
    chain = f"<{ID}pirkanmaa/chain/lonkkaproteesi>"
    assert values(store, f"SELECT ?x WHERE {{ {chain} ketju:targetSegment ?x }}") == [
        f"{ID}national/segment/lonkkaproteesipotilaat"]
    assert values(store, f"""SELECT ?x WHERE {{ {chain} ketju:hasStep ?x .
        ?x ketju:alternativeTo ?y }}""")
    assert values(store, f"SELECT ?x WHERE {{ {chain} ketju:customerPlanTemplate ?x }}")
    levels = values(store, f"""SELECT DISTINCT ?x WHERE {{ {chain} ketju:hasStep/ketju:service/
        ketju:serviceLevel ?x }}""")
    assert {"basic", "specialised"} <= {lv.rsplit("/", 1)[1] for lv in levels}


def test_eksote_intake_model(store: CatalogueStore) -> None:
    chain = f"<{ID}etela-karjala/chain/asiakasohjautuvuus>"
    channel_types = values(store, f"""SELECT DISTINCT ?x WHERE {{ {chain} ketju:hasStep ?s .
        ?s ketju:channel/dct:type ?x }}""")
    assert {c.rsplit("/", 1)[1] for c in channel_types} >= {
        "digital", "phone", "face-to-face", "service-centre", "low-threshold-point", "third-sector"}
    roles = values(store, f"""SELECT DISTINCT ?x WHERE {{ {chain} ketju:hasStep ?s .
        ?s ketju:responsibleRole ?x }}""")
    assert {"customer-manager", "client-advisor"} <= {r.rsplit("/", 1)[1] for r in roles}
    triggers = values(store, f"""SELECT ?x WHERE {{ {chain} ketju:hasTransition ?t .
        ?t ketju:trigger ?x FILTER(CONTAINS(LCASE(?x), "trigger")) }}""")
    assert triggers, "monitoring returns to the customer manager on agreed triggers"
    assert values(store, f"SELECT ?x WHERE {{ {chain} ketju:integrationForm ?x }}") == [
        "https://w3id.org/ketju/vocab/integration-form/case-manager"]


def test_memory_patient_and_young_substance_users(store: CatalogueStore) -> None:
    memory = f"<{ID}etela-pohjanmaa/chain/muistipotilas>"
    assert values(store, f"""SELECT ?x WHERE {{ {memory} ketju:hasTransition ?t .
        ?t ketju:transitionKind <https://w3id.org/ketju/vocab/transition-kind/consultation> ;
           skos:prefLabel ?x }}""")
    young = f"<{ID}keski-uusimaa/chain/nuoret-paihteidenkayttajat>"
    for prop in ("parallelWith", "alternativeTo"):
        assert values(store, f"SELECT ?x WHERE {{ {young} ketju:hasStep ?x . ?x ketju:{prop} ?y }}")
    assert values(store, f"SELECT ?x WHERE {{ {young} ketju:hasStep ?x . ?x ketju:optional true }}")


def test_uusimaa_life_cycle_packages(store: CatalogueStore) -> None:
    packages = values(store, f"""SELECT ?x WHERE {{ ?x a ketju:ServicePackage
        FILTER(STRSTARTS(STR(?x), "{ID}keski-uusimaa/")) }}""")
    assert {p.rsplit("/", 1)[1] for p in packages} == {
        "lapset-nuoret-ja-perheet", "tyoikaiset", "ikaantyneet"}
    lagging = values(store, """SELECT ?x WHERE { ?x ketju:indicatorKind
        <https://w3id.org/ketju/vocab/indicator-kind/leading> }""")
    assert lagging
