"""`/api/observations` and the named query `observations` (issue 13, point 7): the right
observations for each filter (indicator, national indicator, region, period range), JSON-LD
whose terms expand to the IRIs of ketju, RDF Data Cube and SDMX, CSV in the columns of a
contribution file, and the catalogue's description of each region's observation data set.

The observations are contribution files (tests/fixtures/served/) added to a copy of the project
and built by the observation pipeline: 12 quarters and a breakdown by sex of North
Ostrobothnia's "at home 120 days after a hip fracture", a hand-over wait and a flow between
levels by age group, and two years of Southwest Finland's; both regions' indicators follow the
national indicator of data/national/indicators.ttl."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from ketju.core.project import Project
from ketju.infra.feeds import catalog, dumps
from tests.conftest import FIXTURES, copy_tree
from tests.servers import InProcessServer, in_process_server

ID = "https://w3id.org/ketju/id/"
KETJU = "https://w3id.org/ketju/ontology#"
QB = "http://purl.org/linked-data/cube#"
SDMX_ATTRIBUTE = "http://purl.org/linked-data/sdmx/2009/attribute#"
SDMX_DIMENSION = "http://purl.org/linked-data/sdmx/2009/dimension#"
PP_HOME = f"{ID}pohjois-pohjanmaa/indicator/lonkkamurtuma-kotona-120-vrk"
VS_HOME = f"{ID}varsinais-suomi/indicator/lonkkamurtuma-kotona-120-vrk"
NATIONAL = f"{ID}national/indicator/lonkkamurtuma-kotona-120-vrk"
CONTRACT = ["indicator", "period", "value", "unit", "status", "sex", "age_group", "from_level",
            "to_level", "chain", "transition"]


def observed_project(folder: Path, *extra: tuple[Path, str]) -> Project:
    """A copy of the real tree with the test observations (tests/fixtures/served/{region}.csv
    as data/{region}/observations/served.csv) and `extra` Turtle files (source, region),
    built."""
    from ketju.infra.build import build

    project = copy_tree(folder)
    for region in ("pohjois-pohjanmaa", "varsinais-suomi"):
        target = project.data_dir / region / "observations"
        target.mkdir(exist_ok=True)
        shutil.copy(FIXTURES / "served" / f"{region}.csv", target / "served.csv")
    for source, region in extra:
        shutil.copy(source, project.data_dir / region / source.name)
    build(project)
    return project


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The real tree plus the test observations, built."""
    return observed_project(tmp_path_factory.mktemp("observed"))


@pytest.fixture(scope="module")
def server(observed: Project) -> Iterator[InProcessServer]:
    with in_process_server(observed) as served:
        yield served


def items(server: InProcessServer, **params: Any) -> list[dict[str, Any]]:
    answer = server.get(server.base + "/api/observations", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(body["items"])
    return body["items"]  # type: ignore[no-any-return]


def test_all_observations_are_listed_with_their_codes(server: InProcessServer) -> None:
    found = items(server)
    assert len(found) == 18
    flow = next(i for i in found if i["fromLevel"])
    assert (flow["region"], flow["period"], flow["value"], flow["unit"], flow["fromLevel"],
            flow["toLevel"], flow["ageGroup"]) == (
        "pohjois-pohjanmaa", "2024", 120, "count", "basic", "specialised", "65-74")
    assert flow["nationalIndicator"] == f"{ID}national/indicator/" \
                                        "siirtymat-perustasolta-erityistasolle"
    wait = next(i for i in found if i["transition"])
    assert wait["transition"] == f"{ID}pohjois-pohjanmaa/chain/lonkkamurtuma/transition/" \
                                 "paivystys-leikkaus"
    assert (wait["indicator"], wait["period"], wait["value"], wait["unit"]) == (
        f"{ID}pohjois-pohjanmaa/indicator/lonkkamurtuma-siirtoviive", "2024-05", 4, "days")


def test_filter_by_indicator(server: InProcessServer) -> None:
    found = items(server, indicator=VS_HOME)
    assert [(i["period"], i["value"]) for i in found] == [("2023", 58.2), ("2024", 59.9)]
    assert {i["nationalIndicator"] for i in found} == {NATIONAL}


def test_filter_by_national_indicator_spans_regions(server: InProcessServer) -> None:
    found = items(server, nationalIndicator=NATIONAL)
    assert {i["region"] for i in found} == {"pohjois-pohjanmaa", "varsinais-suomi"}
    assert len(found) == 12 + 2 + 2  # quarters and the breakdown by sex, and two years


def test_filter_by_region(server: InProcessServer) -> None:
    found = items(server, region="varsinais-suomi")
    assert [i["indicator"] for i in found] == [VS_HOME, VS_HOME]
    assert items(server, region="lappi") == []


@pytest.mark.parametrize(("start", "end", "periods"), [
    ("2024-Q3", "2024-Q4", ["2024-Q3", "2024-Q4", "2024-Q4", "2024-Q4"]),
    ("2023", "2023", ["2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]),
    ("2024-04", "2024-06", ["2024-05", "2024-Q2"]),
    ("2024", None, ["2024", "2024-Q1", "2024-Q2", "2024-05", "2024-Q3", "2024-Q4", "2024-Q4",
                    "2024-Q4"]),
])
def test_filter_by_period_range(server: InProcessServer, start: str, end: str | None,
                                periods: list[str]) -> None:
    params = {"region": "pohjois-pohjanmaa", "from": start} | ({"to": end} if end else {})
    assert sorted(i["period"] for i in items(server, **params)) == sorted(periods)


def test_filters_combine_and_page(server: InProcessServer) -> None:
    url = server.base + "/api/observations"
    answer = server.get(url, params={"nationalIndicator": NATIONAL, "from": "2023",
                                     "limit": 3, "offset": 3})
    body = answer.json()
    assert (body["total"], len(body["items"]), body["offset"]) == (8 + 2 + 2 - 0, 3, 3)
    assert 'rel="next"' in answer.headers["Link"] and "from=2023" in answer.headers["Link"]
    assert answer.headers["X-Total-Count"] == str(body["total"])
    assert "Accept" in answer.headers["Vary"]


@pytest.mark.parametrize("params", [
    {"from": "2024-Q5"}, {"to": "24"}, {"region": "Not A Region"}, {"indicator": "no iri"},
    {"format": "xml"}, {"limit": 0},
])
def test_wrong_parameters_are_refused_with_the_reason(server: InProcessServer,
                                                      params: dict[str, Any]) -> None:
    answer = server.get(server.base + "/api/observations", params=params)
    assert answer.status_code == 400
    assert answer.json()["detail"]


def test_jsonld_expands_to_the_standards_iris(server: InProcessServer) -> None:
    answer = server.get(server.base + "/api/observations", params={"indicator": PP_HOME},
                        headers={"Accept": "application/ld+json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/ld+json")
    graph = Graph().parse(data=answer.text, format="json-ld")
    observation = URIRef(f"{ID}pohjois-pohjanmaa/observation/lonkkamurtuma-kotona-120-vrk/"
                         "2024-Q4;sex=F")
    assert (observation, RDF.type, URIRef(KETJU + "IndicatorObservation")) in graph
    assert graph.value(observation, URIRef(QB + "dataSet")) == URIRef(
        f"{ID}pohjois-pohjanmaa/dataset/observations")
    assert graph.value(observation, URIRef(KETJU + "observedValue")) == Literal(
        "73.5", datatype=XSD.decimal)
    period = graph.value(observation, URIRef(KETJU + "refPeriod"))
    assert (str(period), str(period.datatype)) == ("2024-Q4", KETJU + "quarter")
    assert graph.value(observation, URIRef(SDMX_DIMENSION + "sex")) == URIRef(
        "http://purl.org/linked-data/sdmx/2009/code#sex-F")
    assert graph.value(observation, URIRef(SDMX_ATTRIBUTE + "unitMeasure")) == URIRef(
        "https://w3id.org/ketju/vocab/unit/percent")
    assert graph.value(observation, URIRef(KETJU + "nationalIndicator")) == URIRef(NATIONAL)
    # Every term became an absolute IRI: nothing relative to the answer's URL.
    assert all(str(term).startswith(("http://", "https://"))
               for triple in graph for term in triple[:2])
    assert len(set(graph.subjects(RDF.type, URIRef(KETJU + "IndicatorObservation")))) == 14


def test_csv_has_the_contribution_columns(server: InProcessServer) -> None:
    answer = server.get(server.base + "/api/observations",
                        params={"region": "pohjois-pohjanmaa", "format": "csv", "limit": 1000})
    assert answer.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(answer.text))
    assert reader.fieldnames == [*CONTRACT, "region"]
    rows = list(reader)
    assert len(rows) == 16
    wait = next(r for r in rows if r["transition"])
    assert (wait["indicator"], wait["period"], wait["value"], wait["unit"], wait["status"],
            wait["chain"], wait["transition"], wait["sex"]) == (
        "lonkkamurtuma-siirtoviive", "2024-05", "4", "days", "final", "lonkkamurtuma",
        "paivystys-leikkaus", "")
    preliminary = [r for r in rows if r["status"] == "preliminary"]
    assert sorted(r["sex"] for r in preliminary) == ["", "F", "M"]


def test_region_download_is_a_contribution_file(server: InProcessServer) -> None:
    answer = server.get(server.base + "/api/observations/varsinais-suomi.csv")
    assert answer.status_code == 200
    assert answer.text.splitlines() == [
        ",".join(CONTRACT),
        "lonkkamurtuma-kotona-120-vrk,2023,58.2,percent,final,,,,,,",
        "lonkkamurtuma-kotona-120-vrk,2024,59.9,percent,final,,,,,,"]
    again = server.get(answer.url, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    assert server.get(server.base + "/api/observations/lappi.csv").status_code == 404


def test_named_query_answers_the_same(server: InProcessServer) -> None:
    answer = server.get(server.base + "/api/queries/observations",
                        params={"region": "https://w3id.org/ketju/vocab/region/varsinais-suomi",
                                "from": "2024"})
    assert [row["period"] for row in answer.json()["items"]] == ["2024"]


def test_the_routes_are_in_the_openapi_document(server: InProcessServer) -> None:
    paths = server.get(server.base + "/openapi.json").json()["paths"]
    listing = paths["/api/observations"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "indicator", "nationalIndicator", "region", "from", "to", "limit", "offset", "format"}
    assert set(listing["responses"]["200"]["content"]) == {
        "application/json", "application/ld+json", "text/csv"}
    assert "/api/observations/{region}.csv" in paths


def test_catalogue_describes_each_regions_observation_data_set(
        server: InProcessServer, observed: Project) -> None:
    answer = server.get(server.base + "/catalog", params={"format": "turtle"})
    graph = Graph().parse(data=answer.text, format="turtle")
    dcat = "http://www.w3.org/ns/dcat#"
    for region in ("pohjois-pohjanmaa", "varsinais-suomi"):
        dataset = URIRef(f"{ID}{region}/dataset/observations")
        assert (dataset, RDF.type, URIRef(QB + "DataSet")) in graph
        assert (dataset, RDF.type, URIRef(dcat + "Dataset")) in graph
        distribution = graph.value(dataset, URIRef(dcat + "distribution"))
        assert graph.value(distribution, URIRef(dcat + "mediaType")) == URIRef(
            catalog.IANA + "text/csv")
        download = str(graph.value(distribution, URIRef(dcat + "downloadURL")))
        assert download == f"{server.base}/api/observations/{region}.csv"
        assert server.get(download).status_code == 200
        assert str(graph.value(distribution, URIRef("http://purl.org/dc/terms/conformsTo"))
                   ).endswith("/api/observations/csv-metadata.json")
    assert (URIRef(f"{ID}lappi/dataset/observations"), None, None) not in graph


def test_dumps_hold_the_observations(observed: Project) -> None:
    folder = dumps.dumps_folder(observed.store_link.resolve())
    loaded = ox.Store()
    loaded.load(gzip.decompress((folder / "varsinais-suomi.nq.gz").read_bytes()),
                format=ox.RdfFormat.N_QUADS)
    found = loaded.query(f"""SELECT ?o WHERE {{ GRAPH ?g {{
        ?o a <{KETJU}IndicatorObservation> ; <{KETJU}indicator> <{VS_HOME}> }} }}""")
    assert len(list(found)) == 2  # type: ignore[arg-type]


def test_csv_answers_point_to_their_csvw_metadata(server: InProcessServer,
                                                  observed: Project) -> None:
    metadata = server.base + "/api/observations/csv-metadata.json"
    for url in (server.base + "/api/observations?format=csv",
                server.base + "/api/observations/varsinais-suomi.csv"):
        assert f'<{metadata}>; rel="describedby"' in server.get(url).headers["Link"]
    document = observed.ontology_dir / "observations.csv-metadata.json"
    existed = document.exists()
    if not existed:
        document.write_text('{"@context": "http://www.w3.org/ns/csvw"}', encoding="utf-8")
    try:
        answer = server.get(metadata)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/csvm+json")
        assert "http://www.w3.org/ns/csvw" in str(answer.json()["@context"])
    finally:
        if not existed:
            document.unlink()
    if not existed:
        assert server.get(metadata).status_code == 404
