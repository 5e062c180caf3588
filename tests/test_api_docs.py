"""`/docs`: the API reference as a page of the site (issue 14), made from the OpenAPI document."""

from __future__ import annotations

import html
import re

import pytest

from ketju.web.openapi_docs import SWAGGER_UI, api_reference
from tests.servers import InProcessServer


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def test_every_operation_is_on_the_page_with_its_parameters(server: InProcessServer) -> None:
    spec = server.get(server.base + "/openapi.json").json()
    page = server.get(server.base + "/docs", params={"lang": "fi"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = html.unescape(page.text)
    operations = [(method.upper(), path) for path, item in spec["paths"].items()
                  for method in item]
    shown = set(re.findall(r'api-method">(\w+)</span> <code class="api-path">([^<]+)</code>',
                           text))
    assert len(operations) > 60 and set(operations) <= shown
    # The parameters of one call, with the one it requires.
    chain = text[text.index('id="get-api-chains-region-slug"'):]
    chain = chain[:chain.index("</section>")]
    assert "<code>region</code> <span class=\"meta\">(pakollinen)</span>" in chain
    assert "One of the chains as JSON-LD" in chain and "<code>404</code>" in chain
    assert "<script" not in page.text and f'href="{SWAGGER_UI}"' in page.text


@pytest.mark.parametrize(("lang", "title"), [("fi", "Rajapinta (REST/JSON)"),
                                             ("sv", "Gränssnitt (REST/JSON)"),
                                             ("en", "API (REST/JSON)")])
def test_the_page_speaks_the_language_and_marks_the_english_texts(
        server: InProcessServer, lang: str, title: str) -> None:
    page = server.get(server.base + "/docs", params={"lang": lang}).text
    assert f"<h1>{title}</h1>" in page
    assert '<p lang="en"><strong>One of the chains as JSON-LD</strong></p>' in page


def test_operations_are_grouped_by_their_first_tag_in_document_order() -> None:
    spec = {"paths": {
        "/b": {"get": {"tags": ["Search"], "summary": "b",
                       "parameters": [{"name": "q", "in": "query", "required": True,
                                       "schema": {"type": "string", "maxLength": 200}}],
                       "responses": {"200": {"description": "ok",
                                             "content": {"application/json": {}}}}}},
        "/a": {"post": {"tags": ["SPARQL", "x"], "requestBody": {
            "content": {"application/sparql-query": {}}}, "responses": {}}},
        "/c": {"get": {"tags": ["Search"], "responses": {}}}}}
    groups = api_reference(spec)
    assert [(g.tag, [o.path for o in g.operations]) for g in groups] == [
        ("Search", ["/b", "/c"]), ("SPARQL", ["/a"])]
    [q] = groups[0].operations[0].parameters
    assert (q.name, q.where, q.required, q.kind) == ("q", "query", True, "string length ≤ 200")
    assert groups[1].operations[0].body == ("application/sparql-query",)
    assert groups[0].operations[0].answers[0].media == ("application/json",)
