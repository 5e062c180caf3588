"""The illustrative monitoring data of issue 13 (data/): national indicators that the regions'
duplicates point to, numeric targets, how monitoring is organised for approved packages and
chains, the hip-fracture chain and the youth package in enough regions to compare, and their
observation files."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest
from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef

from ketju.core.project import Project
from ketju.infra.validate import validate
from tests.conftest import ROOT

K = Namespace("https://w3id.org/ketju/ontology#")
ID = "https://w3id.org/ketju/id/"
NATIONAL = ID + "national/indicator/"
UNIT = URIRef("http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure")
STATUS = URIRef("http://www.w3.org/ns/adms#status")
COMPLETED = URIRef("http://purl.org/adms/status/Completed")
FREQUENCY = URIRef("http://purl.org/dc/terms/accrualPeriodicity")
HIP_SEGMENT = URIRef(ID + "national/segment/lonkkamurtumapotilaat")
YOUTH_SEGMENT = URIRef(ID + "national/segment/lastensuojelun-ja-nuorisopsykiatrian-nuoret")
QUARTER = re.compile(r"\d{4}-Q[1-4]")
ORGANISATION = {"reportingProducer": K.reportingProducer, "reportsTo": K.reportsTo,
                "accrualPeriodicity": FREQUENCY, "reportingChannel": K.reportingChannel,
                "discussedIn": K.discussedIn}


@pytest.fixture(scope="module")
def data() -> Graph:
    graph = Graph()
    for path in [*(ROOT / "ontology").rglob("*.ttl"), *(ROOT / "data").rglob("*.ttl")]:
        graph.parse(path, format="turtle")
    return graph


def select(graph: Graph, query: str) -> list[tuple[object, ...]]:
    prefixes = ("PREFIX ketju: <https://w3id.org/ketju/ontology#>\n"
                "PREFIX adms: <http://www.w3.org/ns/adms#>\n")
    return [tuple(row) for row in graph.query(prefixes + query)]  # type: ignore[arg-type]


def region_of(iri: object) -> str:
    return str(iri)[len(ID):].split("/", 1)[0]


def test_the_data_validates(project_copy: Project) -> None:
    report = validate(project_copy)
    assert [f.text() for f in report.errors] == []
    assert report.files_checked > 50


def test_national_indicators_are_illustrative_and_cite_their_source(data: Graph) -> None:
    national = set(data.subjects(RDF.type, K.NationalIndicator))
    assert {str(n)[len(NATIONAL):] for n in national} >= {
        "lonkkamurtuma-kotona-120-vrk", "lonkkamurtuma-leikattu-48-h", "jatkohoidon-odotusaika",
        "siirtymat-perustasolta-erityistasolle", "paljon-palveluja-kayttavat",
        "nuoret-palveluun-hoitotakuun-ajassa"}
    for indicator in national:
        # No verified Sotkanet identifier is known: none is invented, all are illustrative.
        assert (indicator, K.sotkanetIndicatorId, None) not in data
        assert (indicator, K.illustrative, Literal(True)) in data
        assert data.value(indicator, URIRef("http://purl.org/dc/terms/source"))
        assert data.value(indicator, K.polarity) and data.value(indicator, UNIT)
    home = URIRef(NATIONAL + "lonkkamurtuma-kotona-120-vrk")
    assert str(data.value(home, UNIT)).endswith("/percent")
    assert str(data.value(home, K.polarity)).endswith("/higher-is-better")
    wait = URIRef(NATIONAL + "jatkohoidon-odotusaika")
    assert str(data.value(wait, UNIT)).endswith("/days")
    assert str(data.value(wait, K.polarity)).endswith("/lower-is-better")


#: The slug ending of a regional hip-fracture indicator -> the national indicator it follows.
HIP_DUPLICATES = {
    "kotona-120-vrk": "lonkkamurtuma-kotona-120-vrk",
    "leikattu-48-h": "lonkkamurtuma-leikattu-48-h",
    "suoraan-kotiin": "lonkkamurtuma-suoraan-kotiin",
    "uusi-kaatumisvamma": "lonkkamurtuma-uusi-kaatumisvamma",
    "kotiutumiskokemus": "lonkkamurtuma-kotiutumiskokemus",
    "siirtoviive": "jatkohoidon-odotusaika",
    "paluut-erikoissairaanhoitoon": "siirtymat-perustasolta-erityistasolle",
}


def test_every_regional_hip_fracture_duplicate_points_to_its_national_indicator(
        data: Graph) -> None:
    rows = select(data, """SELECT DISTINCT ?chain ?indicator ?national WHERE {
        ?chain a ketju:CareAndRehabilitationChain ;
            ketju:targetSegment <https://w3id.org/ketju/id/national/segment/lonkkamurtumapotilaat> ;
            ketju:hasMainGoal|ketju:hasGoal ?top .
        ?goal ketju:contributesTo* ?top ; ketju:measuredBy ?indicator .
        OPTIONAL { ?indicator ketju:nationalIndicator ?national } }""")
    followed: dict[str, set[str]] = defaultdict(set)
    for chain, indicator, national in rows:
        if "/chain/lonkkaproteesi" in str(chain):
            continue  # the hip replacement, not a hip fracture
        ending = next((e for e in HIP_DUPLICATES if str(indicator).endswith(e)), None)
        if ending is not None:
            assert str(national) == NATIONAL + HIP_DUPLICATES[ending], indicator
            followed[region_of(chain)].add(HIP_DUPLICATES[ending])
    assert set(followed) == {
        "varsinais-suomi", "pohjois-pohjanmaa", "pohjois-savo", "lappi", "keski-suomi"}
    for region, nationals in followed.items():
        # Each region's chain follows the three national indicators every region reports.
        assert nationals >= {"lonkkamurtuma-kotona-120-vrk", "jatkohoidon-odotusaika",
                             "siirtymat-perustasolta-erityistasolle"}, region


def test_a_regional_indicator_has_its_unit_and_its_national_indicators_unit(
        data: Graph) -> None:
    without_unit = select(data, """SELECT ?i WHERE { ?i a ketju:Indicator .
        FILTER NOT EXISTS { ?i <http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure> ?u }
        }""")
    assert without_unit == []
    differing = select(data, """SELECT ?i WHERE { ?i ketju:nationalIndicator ?n ;
        <http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure> ?u .
        ?n <http://purl.org/linked-data/sdmx/2009/attribute#unitMeasure> ?nu FILTER(?u != ?nu) }""")
    assert differing == []


def test_every_target_is_a_number_with_unit_and_period(data: Graph) -> None:
    assert not list(data.subjects(K.targetValue, None)), "free-text targets are migrated"
    targets = set(data.subjects(RDF.type, K.Target))
    assert len(targets) >= 45
    for target in targets:
        value = data.value(target, RDF.value)
        assert isinstance(value, Literal) and value.datatype == XSD.decimal, target
        assert data.value(target, UNIT) is not None
        assert isinstance(data.value(target, K.targetPeriod), Literal)
        assert (target, K.illustrative, Literal(True)) in data
        owner = data.value(None, K.hasTarget, target)
        assert owner is not None and data.value(owner, UNIT) == data.value(target, UNIT)
    # The old text is kept as the note: Varsinais-Suomi's wait "Mediaani ≤ 2 vuorokautta".
    wait = URIRef(ID + "varsinais-suomi/target/lonkkamurtuma-siirtoviive")
    assert data.value(wait, RDF.value) == Literal("2.0", datatype=XSD.decimal)
    assert str(data.value(wait, URIRef("http://www.w3.org/2004/02/skos/core#note"))) \
        == "Mediaani ≤ 2 vuorokautta"


def approved_indicators(data: Graph) -> dict[object, object]:
    rows = select(data, """SELECT DISTINCT ?indicator ?owner WHERE {
        ?owner adms:status <http://purl.org/adms/status/Completed> ;
            ketju:hasMainGoal|ketju:hasGoal ?top .
        ?goal ketju:contributesTo* ?top ; ketju:measuredBy ?indicator }""")
    return dict(rows)


def test_approved_packages_and_chains_say_how_each_indicator_is_monitored(data: Graph) -> None:
    approved = approved_indicators(data)
    assert len(approved) >= 40
    missing = [(str(i), name) for i in approved for name, path in ORGANISATION.items()
               if data.value(i, path) is None]  # type: ignore[arg-type]
    assert missing == []
    for indicator in approved:
        forum = data.value(indicator, K.discussedIn)  # type: ignore[arg-type]
        assert (forum, RDF.type, K.Forum) in data
        assert region_of(forum) == region_of(indicator)
        assert list(data.objects(forum, K.participant))


def test_the_hip_fracture_chain_in_five_regions_and_the_youth_package_in_three(
        data: Graph) -> None:
    hip = set(data.subjects(K.targetSegment, HIP_SEGMENT)) & set(
        data.subjects(RDF.type, K.CareAndRehabilitationChain))
    hip_regions = {region_of(c) for c in hip if "lonkkamurtuma" in str(c)}
    assert len(hip_regions) >= 5
    youth = set(data.subjects(K.targetSegment, YOUTH_SEGMENT)) & set(
        data.subjects(RDF.type, K.ServicePackage))
    assert len({region_of(p) for p in youth}) >= 3
    for whole in hip | youth:
        assert (whole, K.illustrative, Literal(True)) in data
        goals = set(data.objects(whole, K.hasMainGoal)) | set(data.objects(whole, K.hasGoal))
        for goal in goals:
            for indicator in data.objects(goal, K.measuredBy):
                assert (indicator, K.illustrative, Literal(True)) in data, indicator
                for target in data.objects(indicator, K.hasTarget):
                    assert (target, K.illustrative, Literal(True)) in data, target


def observation_files() -> list[Path]:
    return sorted((ROOT / "data").glob("*/observations/*.csv"))


def test_every_observation_region_reports_three_national_indicators_for_twelve_quarters(
        data: Graph) -> None:
    files = observation_files()
    by_region: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        by_region[path.parent.parent.name].append(path)
    assert set(by_region) >= {"varsinais-suomi", "pohjois-pohjanmaa", "pohjois-savo", "lappi",
                              "keski-suomi"}
    for region, paths in by_region.items():
        assert (ROOT / "data" / region / "observations" / "ILLUSTRATIVE").is_file()
        quarters: dict[str, set[str]] = defaultdict(set)
        flows = waits = 0
        for path in paths:
            with path.open(newline="", encoding="utf-8") as handle:
                for row in csv.DictReader(handle):
                    indicator = URIRef(f"{ID}{region}/indicator/{row['indicator']}")
                    national = data.value(indicator, K.nationalIndicator)
                    unit = data.value(indicator, UNIT)
                    assert unit is not None and str(unit).endswith("/" + row["unit"]), row
                    if national is not None and QUARTER.fullmatch(row["period"]):
                        quarters[str(national)].add(row["period"])
                    if row["from_level"] and row["to_level"]:
                        flows += 1
                    if row["chain"]:
                        transition = URIRef(f"{ID}{region}/chain/{row['chain']}"
                                            f"/transition/{row['transition']}")
                        chain = URIRef(f"{ID}{region}/chain/{row['chain']}")
                        assert (chain, K.hasTransition, transition) in data, row
                        assert data.value(transition, K.maximumWait) is not None
                        assert row["unit"] == "days"
                        waits += 1
        full = [n for n, q in quarters.items() if len(q) >= 12]
        assert len(full) >= 3, (region, {n: len(q) for n, q in quarters.items()})
        assert flows >= 12 and waits >= 12, region


def test_the_build_holds_the_observations_as_illustrative_data_cube_data_sets(
        built_project: Project) -> None:
    from ketju.infra.store import CatalogueStore

    store = CatalogueStore.open(built_project)
    rows = store.select("""
        PREFIX ketju: <https://w3id.org/ketju/ontology#>
        PREFIX qb: <http://purl.org/linked-data/cube#>
        SELECT ?dataset ?national (COUNT(DISTINCT ?period) AS ?quarters) WHERE {
            ?observation a ketju:IndicatorObservation ; qb:dataSet ?dataset ;
                ketju:indicator ?indicator ; ketju:refPeriod ?period .
            ?indicator ketju:nationalIndicator ?national .
            ?dataset ketju:illustrative true .
        } GROUP BY ?dataset ?national""")
    full: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if int(row["quarters"].value) >= 12:
            full[region_of(row["dataset"].value)].add(row["national"].value)
    assert {region for region, nationals in full.items() if len(nationals) >= 3} >= {
        "varsinais-suomi", "pohjois-pohjanmaa", "pohjois-savo", "lappi", "keski-suomi"}
    # Every hip-fracture region reports the same three national indicators, so they compare.
    shared = set.intersection(*(full[r] for r in ("varsinais-suomi", "pohjois-pohjanmaa",
                                                  "pohjois-savo", "lappi", "keski-suomi")))
    assert shared == {NATIONAL + slug for slug in (
        "lonkkamurtuma-kotona-120-vrk", "jatkohoidon-odotusaika",
        "siirtymat-perustasolta-erityistasolle")}


def test_shapes_reject_an_approved_chains_indicator_without_its_reporter(
        project_copy: Project) -> None:
    path = project_copy.data_dir / "varsinais-suomi" / "lonkkamurtuma.ttl"
    lines = path.read_text(encoding="utf-8").split("\n")
    head = lines.index("vsind:lonkkamurtuma-leikattu-48-h a ketju:Indicator ;")
    dropped = next(i for i in range(head, len(lines)) if "ketju:reportingProducer" in lines[i])
    del lines[dropped]
    path.write_text("\n".join(lines), encoding="utf-8")
    report = validate(project_copy, [path])
    indicator = ID + "varsinais-suomi/indicator/lonkkamurtuma-leikattu-48-h"
    errors = [f for f in report.errors if f.node == indicator]
    assert len(errors) == 1
    error = errors[0]
    assert error.file == "data/varsinais-suomi/lonkkamurtuma.ttl"
    assert error.line == head + 1
    assert "ketju:reportingProducer" in error.message["fi"]
    assert error.message["en"].startswith(
        "The indicator belongs to a goal of the approved package or chain "
        f"{ID}varsinais-suomi/chain/lonkkamurtuma but has no reporting producer")
