"""`/api/observations` and the named query `observations` (issue 13, point 7) on the real
observations of data/ (the illustrative CSV contributions of the five hip-fracture regions and
the three youth packages, built by `ketju build`): the right rows for each filter (indicator,
national indicator, region, period range) checked against the contribution files themselves,
JSON-LD whose terms expand to the IRIs of ketju, RDF Data Cube and SDMX, CSV in the columns
of a contribution file, the catalogue's description of each region's observation data set,
and the dumps."""

from __future__ import annotations

import csv
import gzip
import io
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from ketju.core.project import Project
from ketju.infra.feeds import catalog, dumps
from tests.conftest import ROOT
from tests.servers import InProcessServer

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
#: The regions whose folders hold observation files.
OBSERVED = ("keski-suomi", "lappi", "pohjois-pohjanmaa", "pohjois-savo", "varsinais-suomi")

Row = tuple[str, ...]


def contributed(*regions: str) -> set[Row]:
    """The rows of the regions' contribution files, as (region, the contract's columns with
    status final where it is empty, the value as a normalised number)."""
    rows = set()
    for region in regions or OBSERVED:
        for path in sorted((ROOT / "data" / region / "observations").glob("*.csv")):
            for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
                rows.add(normalised(region, row))
    return rows


def normalised(region: str, row: dict[str, str]) -> Row:
    cells = {**row, "status": row["status"] or "final",
             "value": str(Decimal(row["value"]).normalize())}
    return (region, *(cells[c] for c in CONTRACT))


def in_range(period: str, start: str, end: str) -> bool:
    """Whether a period lies within [start, end] (months compared; the query's rule)."""
    def months(p: str) -> tuple[str, str]:
        if len(p) == 4:
            return f"{p}-01", f"{p}-12"
        if "Q" in p:
            q = int(p[-1])
            return f"{p[:4]}-{3 * q - 2:02d}", f"{p[:4]}-{3 * q:02d}"
        return p, p
    return months(period)[0] >= months(start)[0] and months(period)[1] <= months(end)[1]


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def items(server: InProcessServer, **params: Any) -> list[dict[str, Any]]:
    answer = server.get(server.base + "/api/observations", params={"limit": 1000, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(body["items"])
    return body["items"]  # type: ignore[no-any-return]


def csv_rows(server: InProcessServer, **params: Any) -> set[Row]:
    answer = server.get(server.base + "/api/observations",
                        params={"limit": 1000, "format": "csv", **params})
    assert answer.status_code == 200, answer.text
    return {normalised(r["region"], r) for r in csv.DictReader(io.StringIO(answer.text))}


def test_every_contributed_row_is_served(server: InProcessServer) -> None:
    assert set().union(*(csv_rows(server, region=r) for r in OBSERVED)) == contributed()
    found = [i for r in OBSERVED for i in items(server, region=r)]
    assert len(found) == len(contributed()) == 456
    flow = next(i for i in found if i["fromLevel"] and i["region"] == "pohjois-pohjanmaa"
                and i["period"] == "2024-Q4" and "lonkkamurtuma" in i["indicator"])
    assert (flow["value"], flow["unit"], flow["fromLevel"], flow["toLevel"], flow["status"]) == (
        7, "count", "basic", "specialised", "preliminary")
    assert flow["nationalIndicator"] == f"{ID}national/indicator/" \
                                        "siirtymat-perustasolta-erityistasolle"
    wait = next(i for i in found if i["transition"] and i["region"] == "pohjois-pohjanmaa"
                and i["period"] == "2024-Q4")
    assert wait["transition"] == f"{ID}pohjois-pohjanmaa/chain/lonkkamurtuma/transition/" \
                                 "vuodeosasto-tehostettu-kotihoito"
    assert (wait["indicator"], wait["value"], wait["unit"]) == (
        f"{ID}pohjois-pohjanmaa/indicator/lonkkamurtuma-siirtoviive", 1.3, "days")


def test_filter_by_indicator(server: InProcessServer) -> None:
    found = items(server, indicator=VS_HOME)
    assert [i["period"] for i in found] == [f"{y}-Q{q}" for y in (2022, 2023, 2024)
                                            for q in range(1, 5)]
    assert (found[0]["value"], found[-1]["value"], found[-1]["status"]) == (
        70.4, 75.2, "preliminary")
    assert {i["nationalIndicator"] for i in found} == {NATIONAL}


def test_filter_by_national_indicator_spans_the_five_regions(server: InProcessServer) -> None:
    found = items(server, nationalIndicator=NATIONAL)
    assert {i["region"] for i in found} == set(OBSERVED)
    assert len(found) == 5 * 12
    assert {i["indicator"].rsplit("/", 1)[-1] for i in found} == {
        "lonkkamurtuma-kotona-120-vrk",
        "lonkkamurtuma-pohjois-pohjanmaa-lonkkamurtuma-kotona-120-vrk"}  # Lapland's copy


def test_filter_by_region(server: InProcessServer) -> None:
    assert csv_rows(server, region="varsinais-suomi") == contributed("varsinais-suomi")
    assert items(server, region="etela-karjala") == []


@pytest.mark.parametrize(("start", "end"), [
    ("2024-Q3", "2024-Q4"), ("2023", "2023"), ("2024-04", "2024-06"), ("2022-Q4", "2023-Q1"),
])
def test_filter_by_period_range(server: InProcessServer, start: str, end: str) -> None:
    expected = {r for r in contributed("pohjois-pohjanmaa") if in_range(r[2], start, end)}
    assert expected
    assert csv_rows(server, region="pohjois-pohjanmaa", **{"from": start, "to": end}) == expected


def test_filters_combine_and_page(server: InProcessServer) -> None:
    url = server.base + "/api/observations"
    answer = server.get(url, params={"nationalIndicator": NATIONAL, "from": "2024",
                                     "limit": 3, "offset": 3})
    body = answer.json()
    assert (body["total"], len(body["items"]), body["offset"]) == (5 * 4, 3, 3)
    assert 'rel="next"' in answer.headers["Link"] and "from=2024" in answer.headers["Link"]
    assert answer.headers["X-Total-Count"] == "20"
    assert "Accept" in answer.headers["Vary"]
    again = server.get(url, params={"nationalIndicator": NATIONAL, "from": "2024", "limit": 3,
                                    "offset": 3}, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("params", [
    {"from": "2024-Q5"}, {"to": "24"}, {"region": "Not A Region"}, {"indicator": "no iri"},
    {"region": "lappi", "limit": 0},
    {}, {"from": "2024"},
])
def test_wrong_parameters_are_refused_with_the_reason(server: InProcessServer,
                                                      params: dict[str, Any]) -> None:
    answer = server.get(server.base + "/api/observations", params=params)
    assert answer.status_code == 400
    assert answer.json()["detail"]


def test_an_answer_needs_an_indicator_or_a_region(server: InProcessServer) -> None:
    """At national scale an unfiltered answer read every observation (92,000: 5 s), so it is
    refused, in Finnish and English, with where the whole data sets are."""
    answer = server.get(server.base + "/api/observations", params={"from": "2024"})
    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "Anna ainakin yksi suodatin" in detail and "Give at least one filter" in detail
    assert "/api/observations/{region}.csv" in detail
    assert server.get(server.base + "/api/observations",
                      params={"region": "lappi", "from": "2024"}).status_code == 200
    # The same query by name (queries/observations.rq, `#+ one_of:`) is bounded the same way.
    named = server.get(server.base + "/api/queries/observations", params={"from": "2024"})
    assert named.status_code == 400
    assert "indicator, nationalIndicator, region" in named.json()["detail"]


def test_jsonld_expands_to_the_standards_iris(server: InProcessServer) -> None:
    plain = items(server, indicator=PP_HOME)
    answer = server.get(server.base + "/api/observations", params={"indicator": PP_HOME},
                        headers={"Accept": "application/ld+json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/ld+json")
    graph = Graph().parse(data=answer.text, format="json-ld")
    latest = next(i for i in plain if i["period"] == "2024-Q4")
    observation = URIRef(latest["observation"])
    assert (observation, RDF.type, URIRef(KETJU + "IndicatorObservation")) in graph
    assert graph.value(observation, URIRef(QB + "dataSet")) == URIRef(
        f"{ID}pohjois-pohjanmaa/dataset/observations")
    assert graph.value(observation, URIRef(KETJU + "indicator")) == URIRef(PP_HOME)
    assert Decimal(str(graph.value(observation, URIRef(KETJU + "observedValue")))) == Decimal(
        "77.5")
    assert graph.value(observation, URIRef(KETJU + "observedValue")).datatype == XSD.decimal
    period = graph.value(observation, URIRef(KETJU + "refPeriod"))
    assert period == Literal("2024-Q4", datatype=URIRef(KETJU + "quarter"))
    assert graph.value(observation, URIRef(SDMX_DIMENSION + "sex")) == URIRef(KETJU + "total")
    assert graph.value(observation, URIRef(SDMX_ATTRIBUTE + "unitMeasure")) == URIRef(
        "https://w3id.org/ketju/vocab/unit/percent")
    assert graph.value(observation, URIRef(SDMX_ATTRIBUTE + "obsStatus")) == URIRef(
        "http://purl.org/linked-data/sdmx/2009/code#obsStatus-P")
    # issue 12: the national indicator is the region's indicator's (as in the store), not
    # the observation's.
    assert graph.value(URIRef(PP_HOME), URIRef(KETJU + "nationalIndicator")) == URIRef(NATIONAL)
    # Every subject and property is an absolute IRI: nothing relative to the answer's URL.
    assert all(str(term).startswith(("http://", "https://"))
               for triple in graph for term in triple[:2])
    assert len(set(graph.subjects(RDF.type, URIRef(KETJU + "IndicatorObservation")))) == 12


def test_region_download_is_a_contribution_file(server: InProcessServer) -> None:
    answer = server.get(server.base + "/api/observations/varsinais-suomi.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(answer.text))
    assert reader.fieldnames == CONTRACT
    assert {normalised("varsinais-suomi", r) for r in reader} == contributed("varsinais-suomi")
    again = server.get(answer.url, headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    assert server.get(server.base + "/api/observations/etela-karjala.csv").status_code == 404


def test_csv_answers_point_to_their_csvw_metadata(server: InProcessServer) -> None:
    metadata = server.base + "/api/observations/csv-metadata.json"
    for url in (server.base + "/api/observations?format=csv&region=lappi",
                server.base + "/api/observations/varsinais-suomi.csv"):
        assert f'<{metadata}>; rel="describedby"' in server.get(url).headers["Link"]
    answer = server.get(metadata)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/csvm+json")
    document = answer.json()
    assert "http://www.w3.org/ns/csvw" in str(document["@context"])
    assert [c["name"] for c in document["tableSchema"]["columns"]
            if not c.get("virtual")] == CONTRACT


def test_named_query_answers_the_same(server: InProcessServer) -> None:
    answer = server.get(server.base + "/api/queries/observations",
                        params={"indicator": VS_HOME, "from": "2024-Q4"})
    assert [(row["period"], row["value"]) for row in answer.json()["items"]] == [
        ("2024-Q4", 75.2)]


def test_the_routes_are_in_the_openapi_document(server: InProcessServer) -> None:
    paths = server.get(server.base + "/openapi.json").json()["paths"]
    listing = paths["/api/observations"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "indicator", "nationalIndicator", "region", "from", "to", "limit", "offset", "format"}
    assert set(listing["responses"]["200"]["content"]) == {
        "application/json", "application/ld+json", "text/csv"}
    assert "/api/observations/{region}.csv" in paths
    assert "/api/observations/csv-metadata.json" in paths


def test_catalogue_describes_each_regions_observation_data_set(
        server: InProcessServer) -> None:
    answer = server.get(server.base + "/catalog", params={"format": "turtle"})
    graph = Graph().parse(data=answer.text, format="turtle")
    dcat = "http://www.w3.org/ns/dcat#"
    described = {str(s) for s in graph.subjects(RDF.type, URIRef(QB + "DataSet"))}
    assert described == {f"{ID}{region}/dataset/observations" for region in OBSERVED}
    for region in OBSERVED:
        dataset = URIRef(f"{ID}{region}/dataset/observations")
        assert (dataset, RDF.type, URIRef(dcat + "Dataset")) in graph
        assert (URIRef(server.base + "/catalog#catalog"), URIRef(dcat + "dataset"),
                dataset) in graph
        distribution = graph.value(dataset, URIRef(dcat + "distribution"))
        assert graph.value(distribution, URIRef(dcat + "mediaType")) == URIRef(
            catalog.IANA + "text/csv")
        download = str(graph.value(distribution, URIRef(dcat + "downloadURL")))
        assert download == f"{server.base}/api/observations/{region}.csv"
        assert server.get(download).status_code == 200
        conforms = graph.value(distribution, URIRef("http://purl.org/dc/terms/conformsTo"))
        assert str(conforms) == server.base + "/api/observations/csv-metadata.json"
    titles = {str(t) for t in graph.objects(URIRef(f"{ID}lappi/dataset/observations"),
                                            URIRef("http://purl.org/dc/terms/title"))}
    assert len(titles) == 3 and any(t.endswith(": indicator observations") for t in titles)


def test_dumps_hold_the_observations(built_project: Project) -> None:
    folder = dumps.dumps_folder(built_project.store_link.resolve())
    loaded = ox.Store()
    loaded.load(gzip.decompress((folder / "varsinais-suomi.nq.gz").read_bytes()),
                format=ox.RdfFormat.N_QUADS)
    found = loaded.query(f"""SELECT ?o WHERE {{ GRAPH ?g {{
        ?o a <{KETJU}IndicatorObservation> ; <{KETJU}indicator> <{VS_HOME}> }} }}""")
    assert len(list(found)) == 12  # type: ignore[arg-type]
    everything = loaded.query(f"""SELECT (COUNT(?o) AS ?n) WHERE {{ GRAPH ?g {{
        ?o a <{KETJU}IndicatorObservation> }} }}""")
    assert int(next(iter(everything))["n"].value) == len(  # type: ignore[index, call-overload]
        contributed("varsinais-suomi"))

