"""Linked-data pages: every IRI resolves for people and machines, in every language and format."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef

from tests.servers import InProcessServer, Server

BASE = "https://w3id.org/ketju/"
ENTITIES = {
    "chain": "id/varsinais-suomi/chain/lonkkamurtuma",
    "step": "id/varsinais-suomi/chain/lonkkamurtuma/step/leikkaus",
    "package": "id/keski-suomi/package/nuorten-palvelukokonaisuus",
    "service": "id/keski-suomi/service/lastensuojelu",
    "producer": "id/national/producer/kela",
    "organiser": "id/keski-suomi/organiser/keski-suomi",
    "segment": "id/national/segment/lonkkamurtumapotilaat",
    "goal": "id/keski-suomi/goal/nuoret-paatavoite",
    "data-source": "id/national/data-source/sotkanet",
    "concept": "vocab/service-level/specialised",
    "region": "vocab/region/keski-suomi",
}
RDF = {"text/turtle": "turtle", "application/ld+json": "json-ld",
       "application/n-triples": "nt", "application/rdf+xml": "xml"}


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def test_example_iris_exist(server: Server) -> None:
    step = server.get(server.base + "/" + ENTITIES["chain"], headers={"Accept": "text/turtle"})
    assert ENTITIES["step"].rsplit("/", 1)[1] in step.text, "fixture IRIs follow the data"


@pytest.mark.parametrize("kind", sorted(ENTITIES))
@pytest.mark.parametrize("accept", sorted(RDF))
def test_every_kind_in_every_rdf_format(server: Server, kind: str, accept: str) -> None:
    iri = BASE + ENTITIES[kind]
    response = server.get(server.base + "/" + ENTITIES[kind], headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    assert "Accept" in response.headers["vary"]
    graph = Graph().parse(data=response.content, format=RDF[accept])
    assert len(list(graph.predicate_objects(URIRef(iri)))) >= 2


@pytest.mark.parametrize(("param", "media"), [("ttl", "text/turtle"), ("jsonld",
                         "application/ld+json"), ("nt", "application/n-triples"),
                         ("rdfxml", "application/rdf+xml"), ("html", "text/html")])
def test_format_parameter_overrides_accept(server: Server, param: str, media: str) -> None:
    response = server.get(f"{server.base}/{ENTITIES['producer']}?format={param}",
                         headers={"Accept": "application/rdf+xml;q=0.1, text/html"})
    assert response.headers["content-type"].startswith(media)


def test_chain_rdf_carries_its_steps_and_handovers(server: Server) -> None:
    response = server.get(server.base + "/" + ENTITIES["chain"],
                         headers={"Accept": "application/n-triples"})
    graph = Graph().parse(data=response.content, format="nt")
    steps = set(graph.objects(URIRef(BASE + ENTITIES["chain"]),
                              URIRef("https://w3id.org/ketju/ontology#hasStep")))
    assert len(steps) == 9
    assert all(len(list(graph.predicate_objects(step))) > 3 for step in steps)


@pytest.mark.parametrize("kind", sorted(ENTITIES))
def test_every_kind_has_a_page(server: Server, kind: str) -> None:
    response = server.get(server.base + "/" + ENTITIES[kind], headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="fi">' in response.text
    assert "<h1" in response.text and "<main" in response.text
    assert "?format=turtle" in response.text and "?format=jsonld" in response.text
    assert re.search(r"<code>(data|ontology)/[\w/.-]+\.ttl</code>", response.text), \
        "the page names its source file"


def test_external_iris_have_pages_too(server: Server) -> None:
    jhs = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P5.6"
    response = server.get(server.base + "/resource", params={"iri": jhs})
    assert response.status_code == 200
    assert "Erikoissairaanhoito" in response.text
    assert "/id/varsinais-suomi/service/" in response.text, "services of the class are listed"


def test_etag_and_last_modified_give_304(server: Server) -> None:
    url = server.base + "/" + ENTITIES["chain"]
    first = server.get(url, headers={"Accept": "text/turtle"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert server.get(url, headers={"Accept": "text/turtle",
                                   "If-None-Match": etag}).status_code == 304
    assert server.get(url, headers={"Accept": "text/turtle",
                                   "If-Modified-Since": modified}).status_code == 304
    other = server.get(url, headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200
    page = server.get(url)
    assert server.get(url, headers={"If-None-Match": page.headers["etag"]}).status_code == 304
    swedish = server.get(url + "?lang=sv", headers={"If-None-Match": page.headers["etag"]})
    assert swedish.status_code == 200


def test_language_by_accept_language_switch_and_cookie(server: Server) -> None:
    url = server.base + "/" + ENTITIES["chain"]
    swedish = server.get(url, headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"})
    assert '<html lang="sv">' in swedish.text
    assert "kedja" in swedish.text.lower()
    with server.client() as browser:
        english = browser.get(url + "?lang=en")
        assert '<html lang="en">' in english.text
        assert english.cookies.get("lang") == "en"
        again = browser.get(url, headers={"Accept-Language": "fi"})
        assert '<html lang="en">' in again.text, "the switch is remembered over Accept-Language"


def test_helpful_404(server: Server) -> None:
    response = server.get(server.base + "/id/keski-suomi/chain/ei-ole-olemassa")
    assert response.status_code == 404
    assert "https://w3id.org/ketju/id/keski-suomi/chain/ei-ole-olemassa" in response.text
    assert 'href="/regions"' in response.text
    unknown = server.get(server.base + "/no/such/page")
    assert unknown.status_code == 404 and "<html" in unknown.text


def test_home_lists_holdings_per_region_and_kind(server: Server) -> None:
    home = server.get(server.base + "/?lang=en")
    assert "What the catalogue holds" in home.text
    assert "/id/varsinais-suomi/organiser/varsinais-suomi" in home.text
    regions = server.get(server.base + "/regions")
    assert regions.text.count("/organiser/") >= 23


def test_package_page_groups_services_and_shows_the_goal_tree(server: Server) -> None:
    page = server.get(server.base + "/" + ENTITIES["package"] + "?lang=fi").text
    for sector in ("sosiaalipalvelut", "terveyspalvelut", "HYTE-palvelut", "valtion palvelut"):
        assert sector in page
    assert "Nuori käy koulua, on töissä tai opiskelee." in page
    assert "Sotkanet" in page


# -- contributed text is untrusted ---------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(hostile_app: InProcessServer) -> InProcessServer:
    return hostile_app


HOSTILE = "id/kainuu/producer/vihamielinen"


def test_script_labels_are_escaped(hostile: Server) -> None:
    for path in (HOSTILE, "id/kainuu/service/vihamielinen"):
        page = hostile.get(f"{hostile.base}/{path}").text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_javascript_iris_are_never_links(hostile: Server) -> None:
    page = hostile.get(f"{hostile.base}/{HOSTILE}").text
    assert "javascript:alert" in page, "shown as text"
    assert 'href="javascript:' not in page.replace(" ", "")
    assert "href='javascript:" not in page


def test_label_missing_in_chosen_language_falls_back_and_is_marked(hostile: Server) -> None:
    page = hostile.get(f"{hostile.base}/id/kainuu/service/vihamielinen?lang=sv").text
    assert 'lang="fi">Vain suomeksi nimetty palvelu</span> <span class="fallback"' in page
