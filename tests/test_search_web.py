"""`/search` and `/api/search` on a running server: ranked, in three languages, escaped, and the
same in remote mode (index built from the remote engine)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ketju.core.project import Project
from ketju.infra.search import INDEX_FILE
from tests.servers import InProcessServer, Server, ketju_server, oxigraph_server

HIP_CHAINS = {f"https://w3id.org/ketju/id/{region}/chain/lonkkamurtuma"
              for region in ("varsinais-suomi", "pohjois-savo", "pohjois-pohjanmaa")}


@pytest.fixture(scope="module")
def server(hostile_app: InProcessServer) -> InProcessServer:
    return hostile_app


def api(server: Server, **params: object) -> httpx.Response:
    return server.get(server.base + "/api/search", params=params)  # type: ignore[arg-type]


def test_build_writes_the_index_inside_the_store(built_project: Project) -> None:
    assert (built_project.store_link.resolve() / INDEX_FILE).stat().st_size > 0


def test_prefix_finds_the_hip_fracture_chains_first(server: Server) -> None:
    response = api(server, q="lonkk")
    assert response.status_code == 200
    body = response.json()
    top = {item["iri"] for item in body["items"][:len(HIP_CHAINS)]}
    assert {item["iri"] for item in body["items"] if item["kind"] == "ServiceChain"} >= HIP_CHAINS
    assert top <= {i["iri"] for i in body["items"] if i["kind"] in ("ServiceChain",
                                                                      "ServicePackage")}
    assert body["total"] >= len(body["items"]) >= len(HIP_CHAINS)
    assert response.headers["X-Total-Count"] == str(body["total"])
    first = body["items"][0]
    assert first["label"].lower().startswith("lonkka") and first["labelLanguage"] == "fi"
    assert first["page"] == first["iri"].replace("https://w3id.org/ketju", "")


def test_case_and_diacritics_do_not_matter(server: Server) -> None:
    plain = {i["iri"] for i in api(server, q="hoftfraktur", lang="sv").json()["items"]}
    marked = {i["iri"] for i in api(server, q="HÖFTFRAKTUR", lang="sv").json()["items"]}
    assert plain == marked and "https://w3id.org/ketju/id/pohjois-savo/chain/lonkkamurtuma" in plain


def test_swedish_labels_in_swedish(server: Server) -> None:
    items = api(server, q="höftfraktur", lang="sv", kind="ServiceChain").json()["items"]
    chain = next(i for i in items if i["iri"].endswith("pohjois-savo/chain/lonkkamurtuma"))
    assert chain["labelLanguage"] == "sv" and "höftfraktur" in chain["label"]


def test_kind_and_region_filter_and_paging(server: Server) -> None:
    body = api(server, q="lonkk", kind="ServiceChain", region="pohjois-savo").json()
    assert [i["iri"] for i in body["items"]] == [
        "https://w3id.org/ketju/id/pohjois-savo/chain/lonkkamurtuma"]
    everything = api(server, q="palvelu", limit=200).json()
    first = api(server, q="palvelu", limit=5)
    second = api(server, q="palvelu", limit=5, offset=5).json()
    assert [i["iri"] for i in first.json()["items"] + second["items"]] == \
        [i["iri"] for i in everything["items"][:10]]
    assert 'rel="next"' in first.headers["Link"]


@pytest.mark.parametrize("q", ['"', "OR", "NEAR(a b)", "*", "a:b", "(((", "x" * 200,
                               "'; DROP TABLE entity; --"])
def test_hostile_queries_are_plain_text(server: Server, q: str) -> None:
    response = api(server, q=q)
    assert response.status_code == 200
    assert response.json()["total"] >= 0
    assert api(server, q="lonkk").json()["total"] > 0, "the index is intact"


def test_bad_parameters_are_4xx(server: Server) -> None:
    assert api(server, q="").status_code in (400, 422)
    assert api(server, q="lonkk", kind="Nothing").status_code in (400, 422)
    assert api(server, q="lonkk", limit=10_000).status_code in (400, 422)
    assert api(server, q="x" * 201).status_code in (400, 422)


def test_search_page_links_results_and_escapes(server: Server) -> None:
    page = server.get(server.base + "/search", params={"q": "lonkk"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'href="/id/varsinais-suomi/chain/lonkkamurtuma"' in page.text
    hostile = server.get(server.base + "/search", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in hostile.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text
    found = server.get(server.base + "/search", params={"q": "script alert"})
    assert "<script>alert" not in found.text and "&lt;script&gt;" in found.text


def test_search_page_in_swedish_marks_fallback_labels(server: Server) -> None:
    page = server.get(server.base + "/search", params={"q": "vain suomeksi", "lang": "sv"}).text
    assert 'lang="fi">Vain suomeksi nimetty palvelu</a> <span class="fallback"' in page
    assert "tjänst" in page


def test_search_page_as_json_by_accept(server: Server) -> None:
    response = server.get(server.base + "/search", params={"q": "lonkk"},
                         headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["total"] == api(server, q="lonkk").json()["total"]


@pytest.mark.slow
def test_remote_mode_searches_the_remote_engine(built_project: Project,
                                                server_logs: Path) -> None:
    with oxigraph_server(built_project.store_link.resolve(), server_logs) as oxigraph, \
            ketju_server(built_project.root, server_logs,
                         sparql_endpoint=oxigraph.base + "/query") as remote, \
            ketju_server(built_project.root, server_logs) as embedded:
        there = remote.get(remote.base + "/api/search", params={"q": "lonkk"}).json()
        here = embedded.get(embedded.base + "/api/search", params={"q": "lonkk"}).json()
        assert there["total"] == here["total"] > 0
        assert [i["iri"] for i in there["items"]] == [i["iri"] for i in here["items"]]


def test_search_page_names_regions_and_marks_drafts(server: Server) -> None:
    """Issue 14: a result's region by its organiser's name, and a draft chain marked as such."""
    import re

    page = server.get(server.base + "/search", params={"q": "lonkkamurtuma", "lang": "sv"}).text
    items = {m.group(1): m.group(2) for m in re.finditer(
        r'<li>\s*<a href="([^"]+)"(.*?)</li>', page, re.S)}
    draft = items["/id/lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"]
    assert "draft-badge" in draft and "Lapplands" in draft and ", lappi<" not in draft
    finished = items["/id/varsinais-suomi/chain/lonkkamurtuma"]
    assert "draft-badge" not in finished and "Egentliga Finland" in finished


def test_a_search_limited_to_a_kind_says_so_and_keeps_it(server: Server) -> None:
    """The home page's boxes search one kind: the results page names it, its form keeps it,
    and a link searches every kind again."""
    page = server.get(server.base + "/search", params={
        "q": "lonkkamurtuma", "kind": "ServiceChain", "lang": "en"}).text
    assert '<input type="hidden" name="kind" value="ServiceChain">' in page
    limited = page[page.index('class="search-limited"'):]
    limited = limited[:limited.index("</p>")]
    assert "Search limited to" in limited and "everything" in limited
    assert "/search?q=lonkkamurtuma&amp;lang=en" in limited
    every = server.get(server.base + "/search", params={"q": "lonkkamurtuma"}).text
    assert 'name="kind"' not in every and "search-limited" not in every
