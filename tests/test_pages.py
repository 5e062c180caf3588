"""Linked-data pages: every IRI resolves for people and machines, in every language and format."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from rdflib import Graph, Literal, URIRef

from ketju.web.facts import curie
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


# -- pages speak the domain, not RDF (issue 14) ---------------------------------------------------

DOMAIN_PAGES = ("chain", "package", "service", "producer", "organiser", "segment", "goal")
TRANSITION = "id/keski-suomi/chain/lonkkamurtuma/transition/vuodeosasto-kuntoutusosasto"
MAIN_GOAL = BASE + "id/keski-suomi/goal/nuoret-paatavoite"
SUB_GOAL = BASE + "id/keski-suomi/goal/nuoret-koulu-tyo-tai-opiskelu"


def visible_text(page: str) -> str:
    """The text a reader sees: no tags, no head, no attribute values."""
    body = page.split("<body>", 1)[-1]
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", body, flags=re.DOTALL)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def local_names(server: Server, path: str) -> set[str]:
    """The camel-case local names of the properties of the entity (prefLabel, producedBy):
    the words a page must never show."""
    graph = Graph().parse(data=server.get(server.base + "/" + path,
                                          headers={"Accept": "text/turtle"}).text,
                          format="turtle")
    names = {str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1]
             for p in graph.predicates(URIRef(BASE + path), None)}
    return {n for n in names if re.search(r"[a-z][A-Z]", n)}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
@pytest.mark.parametrize("kind", DOMAIN_PAGES)
def test_domain_pages_name_properties_in_words(server: Server, kind: str, lang: str) -> None:
    page = server.get(f"{server.base}/{ENTITIES[kind]}?lang={lang}").text
    shown = visible_text(page)
    raw = local_names(server, ENTITIES[kind]) | {"prefLabel", "contributesTo",
                                                  "subOrganizationOf", "producedBy"}
    assert not [n for n in raw if re.search(rf"\b{n}\b", shown)], kind
    kinds_line = re.search(r'<p class="kinds">(.*?)</p>', page, re.DOTALL)
    assert kinds_line is None or not re.search(r"\b(Entity|Organi[sz]ation)\b",
                                               kinds_line.group(1), re.IGNORECASE)
    assert 'class="statements"' not in page, "the statement table is one click away"
    assert 'href="?view=statements"' in page


def test_package_page_names_its_facts_in_the_page_language(server: Server) -> None:
    finnish = visible_text(server.get(f"{server.base}/{ENTITIES['package']}?lang=fi").text)
    swedish = visible_text(server.get(f"{server.base}/{ENTITIES['package']}?lang=sv").text)
    assert "Perustiedot" in finnish and "järjestäjä" in finnish.lower()
    assert "Grunduppgifter" in swedish and "anordnare" in swedish.lower()
    assert "palvelukokonaisuus" in re.sub(r"\s+", " ", finnish).lower()


def test_producer_page_shows_its_kind_and_facts_not_rdf(server: Server) -> None:
    page = server.get(f"{server.base}/{ENTITIES['producer']}?lang=en").text
    assert re.search(r'<p class="kinds">\s*organiser · producer\s*</p>', page), \
        "Kela is both; never 'Organization'"
    assert "producer type" in visible_text(page).lower()


@pytest.mark.parametrize(("lang", "wait"), [("fi", "enintään 2 päivää"),
                                            ("sv", "högst 2 dagar"), ("en", "at most 2 days")])
def test_a_maximum_wait_reads_as_words(server: Server, lang: str, wait: str) -> None:
    shown = visible_text(server.get(f"{server.base}/{TRANSITION}?lang={lang}").text)
    assert wait in shown
    assert "P2D" not in shown


def test_package_goals_are_one_nested_tree(server: Server) -> None:
    page = server.get(f"{server.base}/{ENTITIES['package']}?lang=fi").text
    assert page.count('<section aria-labelledby="goals-title"') == 1
    assert 'aria-labelledby="monitoring-title"' not in page, "one section, not two"
    tree = page.split('<section aria-labelledby="goals-title"', 1)[1].split("</section>", 1)[0]
    assert "<table" not in tree, "no table per goal"
    main = tree.index(f'href="/{MAIN_GOAL.removeprefix(BASE)}"')
    children = tree.index('<ul class="goal-children">', main)
    assert children < tree.index(f'href="/{SUB_GOAL.removeprefix(BASE)}"'), \
        "sub-goals nested under their main goal"
    assert tree.count('class="tag goal-level"') >= 8
    assert "päätavoite" in tree and "välitavoite" in tree
    assert "Näkökulma" in tree and "asiakas" in tree.lower()


def test_goal_page_shows_its_place_in_the_tree(server: Server) -> None:
    main = server.get(f"{server.base}/{ENTITIES['goal']}?lang=en").text
    place = main.split('aria-labelledby="tree-title"', 1)[1].split("</section>", 1)[0]
    assert "/id/keski-suomi/package/nuorten-palvelukokonaisuus" in place
    assert re.search(r"Sub-goals\s*</dt>\s*<dd>\s*<a href=\"#monitoring\">7</a>", place)
    tree = main.split('aria-labelledby="monitoring-title"', 1)[1].split("</section>", 1)[0]
    assert tree.index(f'href="/{ENTITIES["goal"]}"') < tree.index('<ul class="goal-children">') \
        < tree.index(f'href="/{SUB_GOAL.removeprefix(BASE)}"'), "sub-goals under the goal"
    sub = server.get(f"{server.base}/{SUB_GOAL.removeprefix(BASE)}?lang=sv").text
    place = sub.split('aria-labelledby="tree-title"', 1)[1].split("</section>", 1)[0]
    assert "Bidrar till målet" in place and f'href="/{ENTITIES["goal"]}"' in place


@pytest.mark.parametrize("kind", ["package", "producer", "chain", "goal"])
def test_all_statements_are_one_click_away(server: Server, kind: str) -> None:
    path = ENTITIES[kind]
    listed = server.get(f"{server.base}/{path}?view=statements&lang=en")
    assert listed.status_code == 200
    graph = Graph().parse(data=server.get(server.base + "/" + path,
                                          headers={"Accept": "text/turtle"}).text,
                          format="turtle")
    for prop, value in graph.predicate_objects(URIRef(BASE + path)):
        if str(prop).endswith("#type"):
            continue
        assert curie(str(prop)) in listed.text, prop
        if isinstance(value, URIRef) and str(value).startswith(BASE):
            assert f'href="/{str(value).removeprefix(BASE)}"' in listed.text, value
        elif isinstance(value, Literal):
            assert str(escape(str(value))) in listed.text, value
    assert "What links here" in listed.text
    page = server.get(f"{server.base}/{path}")
    assert page.headers["etag"] != listed.headers["etag"]
    again = server.get(f"{server.base}/{path}?view=statements&lang=en",
                       headers={"If-None-Match": listed.headers["etag"]})
    assert again.status_code == 304


def test_steps_are_listed_in_chain_order(server: Server) -> None:
    """A producer's page lists the steps it is responsible for by position, not by IRI."""
    page = server.get(f"{server.base}/id/etela-pohjanmaa/producer/sote-keskukset").text
    chain = "/id/etela-pohjanmaa/chain/muistipotilas/step/"
    shown = re.findall(rf'href="{chain}([\w-]+)"', page)
    assert shown == ["muistihoitajan-ensiarvio", "laakarin-tutkimus", "diagnoosi-ja-suunnitelma",
                     "seuranta"]


def test_booleans_are_words(server: Server) -> None:
    finnish = visible_text(server.get(f"{server.base}/{ENTITIES['package']}?lang=fi").text)
    english = visible_text(server.get(f"{server.base}/{ENTITIES['package']}?lang=en").text)
    assert "havainnollistava esimerkki kyllä" in finnish.lower()
    assert "illustrative yes" in english.lower()
    assert not re.search(r"\btrue\b", finnish + english)


def test_the_statements_of_an_external_iri_keep_it(server: Server) -> None:
    jhs = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/P5.6"
    page = server.get(server.base + "/resource", params={"iri": jhs}).text
    link = re.search(r'href="(\?iri=[^"]+view=statements)"', page)
    assert link, "the link keeps the iri parameter"
    listed = server.get(server.base + "/resource" + link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200 and "skos:prefLabel" in listed.text
    assert "Erikoissairaanhoito" in listed.text


def test_related_entities_say_how_they_link_in_the_page_language(server: Server) -> None:
    """Kela organises and produces the same services: each is listed once, with both."""
    page = server.get(f"{server.base}/{ENTITIES['producer']}?lang=fi").text
    related = page.split('aria-labelledby="links-title"', 1)[1].split("</section>", 1)[0]
    service = '<a href="/id/keski-suomi/service/perustoimeentulotuki">'
    assert related.count(service) == 1
    item = related.split(service, 1)[1].split("</li>", 1)[0]
    assert "järjestäjä" in item and "tuottaja" in item and "produced" not in item


def test_observations_are_left_out_before_paging(server: Server) -> None:
    """A region's page lists what relates to it, not its indicators' observations (the
    indicator pages chart them); all statements still list every link."""
    page = server.get(f"{server.base}/{ENTITIES['region']}?lang=en").text
    assert "/observation/" not in page and 'rel="next"' not in page
    assert "/id/keski-suomi/organiser/keski-suomi" in page
    listed = server.get(f"{server.base}/{ENTITIES['region']}?view=statements&lang=en").text
    assert "/observation/" in listed and 'rel="next"' in listed


def test_all_statements_list_a_chains_steps_in_chain_order(server: Server) -> None:
    listed = server.get(f"{server.base}/{ENTITIES['chain']}?view=statements").text
    row = listed.split("ketju:hasStep", 1)[1].split("</tr>", 1)[0]
    steps = re.findall(r'href="/id/varsinais-suomi/chain/lonkkamurtuma/step/([\w-]+)"', row)
    assert len(steps) == 9
    assert steps[:3] == ["ensihoito", "paivystys", "leikkaus"], "positions 1, 2, 3"


def test_draft_chains_are_marked_where_chains_are_listed(server: Server) -> None:
    """Issue 14: the draft derived from another region carries the draft badge on its region's
    page; a region of finished chains shows none."""
    page = server.get(server.base + "/id/lappi/organiser/lappi", params={"lang": "en"}).text
    items = dict(re.findall(r'<li><a href="(/id/lappi/chain/[^"]+)">(.*?)</li>', page, re.S))
    assert "draft-badge" in items["/id/lappi/chain/lonkkamurtuma-pohjois-pohjanmaa"]
    finished = server.get(server.base + "/id/varsinais-suomi/organiser/varsinais-suomi").text
    assert "/id/varsinais-suomi/chain/lonkkamurtuma" in finished
    assert "draft-badge" not in finished
