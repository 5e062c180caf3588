"""The REST API on a real server: every named query answers as asserted, parameters are bound
(never pasted), lists page with Link headers and true totals, items are JSON-LD (so RDF)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from rdflib import Graph, URIRef

from ketju.core.queries import load_queries
from tests.conftest import ROOT
from tests.servers import InProcessServer, Server

ID = "https://w3id.org/ketju/id/"
VOCAB = "https://w3id.org/ketju/vocab/"
JHS = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/"
HIP = f"{ID}national/segment/lonkkamurtumapotilaat"
VS_CHAIN = f"{ID}varsinais-suomi/chain/lonkkamurtuma"
YOUTH = f"{ID}keski-suomi/package/nuorten-palvelukokonaisuus"
PS_CHAIN = f"{ID}pohjois-savo/chain/lonkkamurtuma"
VS_HOME = f"{ID}varsinais-suomi/indicator/lonkkamurtuma-kotona-120-vrk"
VS_HOME_GOAL = f"{ID}varsinais-suomi/goal/lonkkamurtuma-kotiin-paluu"
NATIONAL_HOME = f"{ID}national/indicator/lonkkamurtuma-kotona-120-vrk"

Items = list[dict[str, Any]]


def regions_of(items: Items, key: str) -> set[str]:
    return {item[key].removeprefix(ID).split("/")[0] for item in items}


#: What each named query answers on the example data: (parameters, check of all items).
EXPECTED: dict[str, tuple[dict[str, Any], Callable[[Items], bool]]] = {
    "catalogue-summary": ({}, lambda items: any(
        i["region"] == "keski-suomi" and i["class"].endswith("ServicePackage")
        and i["count"] == 2 for i in items)),
    "chains": ({"segment": HIP}, lambda items: regions_of(items, "chain") == {
        "varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa", "lappi", "keski-suomi"}),
    "chain-features": ({"chain": VS_CHAIN}, lambda items: [i["position"] for i in items]
                       == list(range(1, 10))),
    "chain-goals": ({"chain": VS_CHAIN}, lambda items: any(
        i["kind"] == "indicator" and "hilmo" in i.get("dataSources", "") for i in items)),
    "chain-for-reuse": ({"chain": VS_CHAIN}, lambda items: {
        i["s"] for i in items} >= {VS_CHAIN, f"{VS_CHAIN}/step/leikkaus"}),
    "reuse-regions": ({"region": f"{VOCAB}region/kainuu"}, lambda items: items[0][
        "organiser"] == f"{ID}kainuu/organiser/kainuu"),
    "reuse-producers": ({"chain": VS_CHAIN}, lambda items: len(
        {i["producer"] for i in items}) == 7),
    "chain-steps": ({"chain": VS_CHAIN}, lambda items: [i["position"] for i in items]
                    == list(range(1, 10))),
    "chain-transitions": ({"chain": VS_CHAIN}, lambda items: len(items) == 8 and any(
        i.get("maximumWait") == "P2D" for i in items)),
    "chain-texts": ({"chain": VS_CHAIN}, lambda items: any(
        "node" not in i and i["text"].startswith("Lonkkamurtumapotilaan") for i in items)
        and all(i.get("node", VS_CHAIN).startswith(VS_CHAIN) or "/vocab/" in i["node"]
                or "varsinais-suomi" in i["node"] or "national" in i["node"]
                or "uri.suomi.fi" in i["node"] for i in items)),
    "chain-producer-types": ({"chain": f"{ID}pohjois-savo/chain/lonkkamurtuma"},
                             lambda items: any(i["producerType"].endswith("private-contracted")
                                               for i in items)),
    "chain-drafts": ({}, lambda items: [(i["chain"], i["source"], i["placeholders"])
                                        for i in items] == [
        (f"{ID}lappi/chain/lonkkamurtuma-pohjois-pohjanmaa",
         f"{ID}pohjois-pohjanmaa/chain/lonkkamurtuma", 6)]),
    "chains-derived-from": ({"source": f"{ID}pohjois-pohjanmaa/chain/lonkkamurtuma"},
                            lambda items: [i["chain"] for i in items] == [
                                f"{ID}lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"]),
    "class-coverage": ({}, lambda items: any(
        i["organiser"].endswith("etela-karjala") and i["notation"] == "P4" for i in items)),
    "entity-statements": ({"entity": f"{ID}national/producer/kela"}, lambda items: any(
        i["property"].endswith("#producerType") for i in items)),
    "entity-names": ({"entity": f"{ID}national/producer/kela"}, lambda items: any(
        "node" not in i and i["name"] == "Kansaneläkelaitos (Kela)" for i in items)
        and len(items) < 100),
    "entity-links-here": ({"entity": HIP}, lambda items: {
        i["subject"] for i in items if "/chain/" in i["subject"]} >= {VS_CHAIN}),
    "entity-links-here-count": ({"entity": HIP}, lambda items: items[0]["links"] >= 3),
    "entity-rdf": ({"entity": VS_CHAIN}, lambda items: sum(
        1 for i in items if i["predicate"].endswith("#hasStep")) == 9 and all(
        i["subject"].startswith(VS_CHAIN) or i["predicate"].endswith("#prefLabel")
        for i in items)),
    "chain-graph": ({"chain": VS_CHAIN}, lambda items: sum(
        1 for i in items if i["subject"] == VS_CHAIN and i["predicate"].endswith("#hasStep"))
        == 9 and any(i["predicate"].endswith("#transitionKind") for i in items)),
    "goal-graph": ({"owner": YOUTH}, lambda items: any(
        i["subject"] == YOUTH and i["predicate"].endswith("#hasMainGoal") for i in items)),
    "package-graph": ({"package": YOUTH}, lambda items: sum(
        1 for i in items if i["predicate"].endswith("#includesService")) == 18),
    "goal-tree": ({"owner": YOUTH}, lambda items: any(i["main"] is True for i in items)),
    "goals-without-indicators": ({}, lambda items: items == []),
    "handover-within": ({"segment": HIP, "days": 7}, lambda items: regions_of(
        items, "chain") >= {"varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa"}),
    "indicators-by-data-source": ({"dataSource": f"{ID}national/data-source/sotkanet"},
                                  lambda items: len({i["indicator"] for i in items}) >= 5),
    "names-all": ({}, lambda items: len({i["node"] for i in items}) > 300 and all(
        i["node"].startswith("http") and i["name"] for i in items)),
    # Monitoring (issue 13): answers on the example data (observations come with data/).
    "monitoring-series": ({"indicator": [VS_HOME]}, lambda items: len(items) == 12 and all(
        i["indicator"] == VS_HOME and "period" in i for i in items)),
    "monitoring-indicator-graph": ({"indicator": [VS_HOME]}, lambda items: any(
        i["subject"].endswith("/target/lonkkamurtuma-kotona-120-vrk")
        and i["predicate"].endswith("#value") for i in items)),
    "monitoring-national": ({"national": NATIONAL_HOME}, lambda items: len(
        {i["indicator"] for i in items}) == 5 and {"indicator": VS_HOME, "organiser": (
            f"{ID}varsinais-suomi/organiser/varsinais-suomi")} in items),
    "monitoring-chain-waits": ({"chain": VS_CHAIN}, lambda items: len(items) == 12 and all(
        i["transition"] == VS_CHAIN + "/transition/vuodeosasto-jatkohoito"
        and i["maximumWait"] == "P2D" for i in items)),
    "monitoring-shared-national": ({"chain": [VS_CHAIN, PS_CHAIN]}, lambda items: {
        i["chain"] for i in items if i["national"] == NATIONAL_HOME} == {VS_CHAIN, PS_CHAIN}),
    "monitoring-goal-indicators": ({"root": VS_HOME_GOAL}, lambda items: {
        "goal": VS_HOME_GOAL, "indicator": VS_HOME} in items
        and len({i["goal"] for i in items}) > 1),
    "names-of": ({"node": [f"{ID}national/producer/kela", f"{VOCAB}service-level/basic"]},
                 lambda items: {i["node"] for i in items} == {
                     f"{ID}national/producer/kela", f"{VOCAB}service-level/basic"}),
    "observations": ({"indicator": f"{ID}varsinais-suomi/indicator/lonkkamurtuma-kotona-120-vrk",
                      "from": "2024"},
                     lambda items: [i["period"] for i in items] == [
                         "2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]),
    "observations-sotkanet": ({"region": "pohjois-pohjanmaa"},
                              lambda items: items == [{"regionId": "973"}]),
    "ontology-properties": ({}, lambda items: any(
        i["property"].endswith("#hasStep") and i["kind"] == "object" for i in items)),
    "package-parts": ({"package": YOUTH}, lambda items: sum(
        1 for i in items if i["role"] == "interface") == 7),
    "package-services": ({"package": YOUTH}, lambda items: len(items) == 18),
    # Issue 14, the home page: packages and chains with segments and status (Lappi's copied
    # hip-fracture chain is a draft), and the customer segments.
    "home-entities": ({}, lambda items: regions_of(
        [i for i in items if i.get("segment") == HIP], "entity") == {
        "varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa", "lappi", "keski-suomi"} and {
        i["entity"] for i in items if i.get("status", "").endswith("UnderDevelopment")} >= {
        f"{ID}lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"}),
    "home-segments": ({}, lambda items: HIP in {i["segment"] for i in items}
                      and len(items) >= 10),
    "regions": ({}, lambda items: len(items) == 24),
    "step-positions": ({"step": [f"{VS_CHAIN}/step/leikkaus"]}, lambda items: [
        (i["chain"], int(i["position"])) for i in items] == [(VS_CHAIN, 3)]),
    "region-catalogue": ({"organiser": f"{ID}keski-uusimaa/organiser/keski-uusimaa"},
                         lambda items: len({i["entity"] for i in items if i["kind"].endswith(
                             "ServicePackage")}) == 3),
    "resource-chains": ({"producerType": f"{VOCAB}producer-type/private-contracted"},
                        lambda items: f"{ID}pohjois-savo/chain/lonkkamurtuma" in {
                            i["chain"] for i in items}),
    "resource-packages": ({"serviceClass": f"{JHS}P3.8"}, lambda items: any(
        i["package"] == YOUTH for i in items)),
    "resource-producers": ({"region": "pohjois-savo"}, lambda items: regions_of(
        items, "producer") == {"pohjois-savo"}),
    "resource-services": ({"serviceClass": f"{JHS}P5", "organiser":
                           f"{ID}pirkanmaa/organiser/pirkanmaa"},
                          lambda items: len(items) >= 5 and regions_of(items, "service") == {
                              "pirkanmaa"}),
    "resource-service-classes": ({"broader": f"{JHS}P5"}, lambda items: len(items) == 21),
    "services-by-class": ({"serviceClass": f"{JHS}P5.6"}, lambda items: {
        "varsinais-suomi", "pohjois-savo"} <= regions_of(items, "service")),
}


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def test_every_named_query_has_an_asserted_answer() -> None:
    assert set(load_queries(ROOT / "queries")) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_query_answers(server: Server, name: str) -> None:
    params, check = EXPECTED[name]
    response = server.get(f"{server.base}/api/queries/{name}",
                         params={**params, "limit": 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    # Every answer fits one page of 1000, except names-all (every name of the catalogue).
    assert len(body["items"]) == (1000 if name == "names-all" else body["total"])
    assert check(body["items"]), body["items"][:5]


def test_paging_link_headers_and_true_total(server: Server) -> None:
    url = f"{server.base}/api/queries/services-by-class"
    everything = server.get(url, params={"serviceClass": f"{JHS}P5", "limit": 1000}).json()
    first = server.get(url, params={"serviceClass": f"{JHS}P5", "limit": 10})
    assert first.json()["total"] == everything["total"] > 20
    assert first.headers["x-total-count"] == str(everything["total"])
    links = httpx.Response(200, headers={"link": first.headers["link"]}).links
    assert set(links) >= {"first", "next", "last"}
    second = server.get(links["next"]["url"]).json()
    assert second["offset"] == 10
    assert first.json()["items"] + second["items"] == everything["items"][:20]


def test_csv_answers(server: Server) -> None:
    response = server.get(f"{server.base}/api/queries/chain-steps",
                         params={"chain": VS_CHAIN, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["position"] for row in rows] == [str(n) for n in range(1, 10)]


@pytest.mark.parametrize("value", [
    'pohjois-savo" } UNION { ?producer ?p ?o } #',
    "x') } ; DROP ALL ; #",
    "{ } } } ((( \"'",
])
def test_hostile_string_is_matched_literally(server: Server, value: str) -> None:
    response = server.get(f"{server.base}/api/queries/resource-producers",
                         params={"region": value})
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(("name", "params", "reason"), [
    ("chain-steps", {"chain": "> } UNION { ?s ?p ?o"}, "absolute IRI"),
    ("chain-steps", {"chain": "https://x/a> . ?s ?p <https://y"}, "not a valid IRI"),
    ("chain-steps", {}, "required"),
    ("chains", {"lang": 'fi" } UNION {'}, "language tag"),
    ("handover-within", {"days": "7 } UNION {"}, "whole number"),
    ("chains", {"nonsense": "1"}, "Unknown parameter"),
    ("chains", {"limit": "0"}, "limit"),
])
def test_bad_parameters_get_400_with_the_reason(server: Server, name: str,
                                                params: dict[str, str], reason: str) -> None:
    response = server.get(f"{server.base}/api/queries/{name}", params=params)
    assert response.status_code == 400
    assert reason in response.json()["detail"]


def test_openapi_documents_every_named_query(server: Server) -> None:
    spec = server.get(server.base + "/openapi.json").json()
    for name, (params, _) in EXPECTED.items():
        operation = spec["paths"][f"/api/queries/{name}"]["get"]
        declared = {p["name"] for p in operation["parameters"]}
        assert set(params) <= declared
        assert {"limit", "offset", "format"} <= declared
        assert all("example" in p or p["name"] in ("limit", "offset", "format", "lang", "days")
                   for p in operation["parameters"])



def test_a_request_body_never_replaces_the_query(server: Server) -> None:
    # Regression: a defaulted endpoint argument was published as a JSON body that FastAPI
    # would parse into the query object, so a body could carry any SPARQL text.
    spec = server.get(server.base + "/openapi.json").json()
    assert not [path for path, item in spec["paths"].items()
                if path.startswith("/api/queries/") and "requestBody" in item["get"]]
    plain = server.get(server.base + "/api/queries/regions").json()
    body = {"name": "regions", "summary": "", "text": "", "path": "", "description": "",
            "params": [], "tags": [], "body": "SELECT * WHERE { ?s ?p ?o }"}
    sneaky = server.request("GET", server.base + "/api/queries/regions", json=body)
    assert sneaky.status_code == 200 and sneaky.json() == plain

# -- resources ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "params", "expected"), [
    # issue 13: Keski-Suomi's chain as the fifth; issue 16: Varsinais-Suomi's target model
    ("chains", {"segment": HIP}, 6),
    ("chains", {"region": "pohjois-savo"}, 1),
    ("packages", {"region": "keski-uusimaa"}, 3),
    ("services", {"region": "pirkanmaa", "serviceClass": f"{JHS}P5.6"}, None),
    ("producers", {"producerType": f"{VOCAB}producer-type/ngo"}, None),
    ("regions", {}, 24),
    ("service-classes", {}, 228),
])
def test_resource_lists(server: Server, kind: str, params: dict[str, str],
                        expected: int | None) -> None:
    response = server.get(f"{server.base}/api/{kind}", params={**params, "limit": 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@context"].endswith("/api/context.jsonld")
    if expected is not None:
        assert body["total"] == expected
    assert body["items"], kind
    for item in body["items"]:
        assert item["label"].get("fi"), item
        assert server.get(item["api"]).status_code == 200


@pytest.mark.parametrize("path", [
    "/api/chains/varsinais-suomi/lonkkamurtuma",
    "/api/packages/keski-suomi/nuorten-palvelukokonaisuus",
    "/api/services/keski-suomi/lastensuojelu",
    "/api/producers/national/kela",
    "/api/regions/keski-suomi",
    "/api/service-classes/P5.6",
])
def test_items_are_json_ld(server: Server, path: str) -> None:
    response = server.get(server.base + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    item = response.json()
    graph = Graph().parse(data=response.text, format="json-ld", base=server.base)
    subject = URIRef(item["@id"])
    assert len(list(graph.predicate_objects(subject))) >= 3
    labels = {str(o) for o in graph.objects(
        subject, URIRef("http://www.w3.org/2004/02/skos/core#prefLabel"))}
    assert labels, "labels are a language map that becomes RDF"


def test_chain_item_embeds_its_steps(server: Server) -> None:
    item = server.get(server.base + "/api/chains/varsinais-suomi/lonkkamurtuma").json()
    assert len(item["hasStep"]) == 9
    assert all(isinstance(step, dict) and "position" in step for step in item["hasStep"])


def test_unknown_items_and_bad_filters(server: Server) -> None:
    assert server.get(server.base + "/api/chains/kainuu/ei-ole").status_code == 404
    assert server.get(server.base + "/api/chains?region=Not_A_Slug").status_code == 422 or \
        server.get(server.base + "/api/chains?region=Not_A_Slug").status_code == 400
    bad = server.get(server.base + "/api/producers", params={"segment": HIP})
    assert bad.status_code == 400 and "cannot be filtered" in bad.json()["detail"]
