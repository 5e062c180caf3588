"""Comparing and reusing over HTTP and the command line, on a real server and the example data."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rdflib import Graph, URIRef

from ketju.core.project import Project
from tests.servers import InProcessServer, Server

ID = "https://w3id.org/ketju/id/"
HIP = ["varsinais-suomi/lonkkamurtuma", "pohjois-savo/lonkkamurtuma",
       "pohjois-pohjanmaa/lonkkamurtuma"]


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def test_compare_two_and_three_chains(server: Server) -> None:
    two = server.get(server.base + "/api/compare", params={"chains": ",".join(HIP[:2])}).json()
    assert len(two["pairs"]) == 1 and 0 < two["scores"][0][1] < 1
    assert "2·V" in two["score_definition"]
    three = server.get(server.base + "/api/compare", params={"chains": ",".join(HIP)}).json()
    assert len(three["pairs"]) == 3 and len(three["table"]["rows"]) >= 9
    assert all(three["scores"][i][i] == 1.0 for i in range(3))


def test_a_chain_compared_with_itself_scores_one(server: Server) -> None:
    """Issue 12: a platform computing a similarity matrix asks for the diagonal too; the
    chain may be named differently each time (region/slug, region/chain/slug, its IRI)."""
    for chains in (f"{HIP[0]},{HIP[0]}",
                   f"varsinais-suomi/chain/lonkkamurtuma,{ID}varsinais-suomi/chain/lonkkamurtuma"):
        answer = server.get(server.base + "/api/compare", params={"chains": chains})
        assert answer.status_code == 200, answer.text
        result = answer.json()
        assert result["scores"] == [[1.0, 1.0], [1.0, 1.0]]
        (pair,) = result["pairs"]
        assert pair["score"] == 1.0 and not pair["only_a"] and not pair["only_b"]
    matrix = server.get(server.base + "/api/compare",
                        params={"chains": ",".join([HIP[0], HIP[1], HIP[0]])}).json()["scores"]
    assert matrix[0][2] == matrix[2][0] == 1.0 and matrix[0][1] == matrix[2][1] < 1


@pytest.mark.parametrize(("chains", "status"), [
    ("varsinais-suomi/lonkkamurtuma,kainuu/ei-ole", 404),
    ("varsinais-suomi/lonkkamurtuma", 400),
    ("not a chain,x", 400),
    ("lonkkamurtuma,varsinais-suomi/lonkkamurtuma", 400),
    ("varsinais-suomi/service/lonkkamurtuma,varsinais-suomi/lonkkamurtuma", 400),
])
def test_compare_refuses_with_the_reason(server: Server, chains: str, status: int) -> None:
    response = server.get(server.base + "/api/compare", params={"chains": chains})
    assert response.status_code == status
    assert response.json()["detail"]


def test_similar_chains_rank_the_other_hip_fracture_chains_first(server: Server) -> None:
    items = server.get(server.base + "/api/chains/varsinais-suomi/lonkkamurtuma/similar",
                      params={"limit": 5}).json()["items"]
    # Issue 16: the region's own target model is closest, then Pohjois-Savo's chain.
    assert items[0]["chain"] == f"{ID}varsinais-suomi/chain/lonkkamurtuma-tavoitetila"
    assert items[1]["chain"] == f"{ID}pohjois-savo/chain/lonkkamurtuma"
    # Issue 13 added Keski-Suomi's chain: the four other hip-fracture chains come next.
    assert {i["region"] for i in items[1:5]} == {"pohjois-savo", "pohjois-pohjanmaa", "lappi",
                                                 "keski-suomi"}
    assert server.get(server.base + "/api/chains/kainuu/ei-ole/similar").status_code == 404


def test_compare_page_is_linked_from_chain_pages(server: Server) -> None:
    chain = server.get(server.base + "/id/varsinais-suomi/chain/lonkkamurtuma").text
    assert "/compare?chains=" in chain
    picker = server.get(server.base + "/compare", params={"chains": HIP[0]})
    assert "pohjois-savo" in picker.text
    page = server.get(server.base + "/compare", params={"chains": ",".join(HIP), "lang": "en"})
    assert page.status_code == 200
    assert "Steps side by side" in page.text and "in another place" in page.text
    missing = server.get(server.base + "/compare", params={"chains": f"{HIP[0]},kainuu/x"})
    assert missing.status_code == 404


def test_reuse_over_http_stores_nothing(server: Server) -> None:
    before = server.get(server.base + "/healthz").json()["build"]["triples"]
    response = server.post(server.base + "/api/chains/pohjois-savo/lonkkamurtuma/reuse",
                          params={"into": "kainuu"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    new = URIRef(f"{ID}kainuu/chain/lonkkamurtuma-pohjois-savo")
    assert (new, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"),
            URIRef(f"{ID}pohjois-savo/chain/lonkkamurtuma")) in graph
    assert server.get(server.base + "/healthz").json()["build"]["triples"] == before
    assert server.get(server.base + "/id/kainuu/chain/lonkkamurtuma-pohjois-savo").status_code \
        == 404
    bad = server.post(server.base + "/api/chains/pohjois-savo/lonkkamurtuma/reuse",
                     params={"into": "national"})
    assert bad.status_code == 400


def run_cli(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ketju", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ,
                                                       "KETJU_HOME": str(project.root),
                                                       "KETJU_LANG": "fi"})


@pytest.mark.slow
def test_cli_compare_and_reuse(built_project: Project) -> None:
    text = run_cli(built_project, "compare", HIP[0], HIP[2])
    assert text.returncode == 0, text.stderr
    assert "0.569" in text.stdout and "Päivystys" in text.stdout
    as_json = run_cli(built_project, "compare", HIP[0], HIP[1], "--format", "json")
    assert json.loads(as_json.stdout)["score"] == pytest.approx(0.855556, abs=1e-4)
    unknown = run_cli(built_project, "compare", HIP[0], "kainuu/ei-ole")
    assert unknown.returncode == 1 and "kainuu/chain/ei-ole" in unknown.stderr
    reused = run_cli(built_project, "reuse", HIP[1], "--into", "kainuu")
    assert reused.returncode == 0 and "prov:wasDerivedFrom" in reused.stdout


@pytest.mark.slow
def test_cli_names_chains_as_the_api_does(built_project: Project, server: Server) -> None:
    """Issue 12: `ketju compare x/chain/y` once looked for .../x/chain/chain/y and a bare name
    for .../x/chain/x; the CLI and /api/compare now read names with one function, and agree
    on every way of naming a chain, the same chain twice included (score 1)."""
    names = [("varsinais-suomi/chain/lonkkamurtuma", "pohjois-savo/lonkkamurtuma"),
             (f"{ID}varsinais-suomi/chain/lonkkamurtuma", "pohjois-savo/chain/lonkkamurtuma"),
             (HIP[0], "varsinais-suomi/chain/lonkkamurtuma")]
    for a, b in names:
        cli = run_cli(built_project, "compare", a, b, "--format", "json")
        assert cli.returncode == 0, cli.stderr
        api = server.get(server.base + "/api/compare", params={"chains": f"{a},{b}"}).json()
        assert json.loads(cli.stdout)["score"] == pytest.approx(api["pairs"][0]["score"],
                                                                 abs=1e-6)
    assert json.loads(run_cli(built_project, "compare", HIP[0], HIP[0],
                              "--format", "json").stdout)["score"] == 1.0
    bare = run_cli(built_project, "compare", "lonkkamurtuma", HIP[1])
    assert bare.returncode == 2 and "region/slug" in bare.stderr
    assert "chain/chain" not in bare.stderr
    reused = run_cli(built_project, "reuse", "pohjois-savo/chain/lonkkamurtuma", "--into",
                     "kainuu")
    assert reused.returncode == 0 and "prov:wasDerivedFrom" in reused.stdout
