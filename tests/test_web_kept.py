"""Kept answers and the language switch (issue 15): a page is made once per build and language,
whichever way the language is chosen (`?lang=`, the `lang` cookie, Accept-Language); a `?lang=`
answer still sets the cookie, kept or not. In-process: the app over a built copy of the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from ketju.core.project import Project
from ketju.core.settings import Settings
from ketju.web.app import create_app

#: One chain page per way of choosing the language, so each starts from a page not yet kept.
CHAINS = {
    "param": "/id/varsinais-suomi/chain/lonkkamurtuma",
    "cookie": "/id/pohjois-savo/chain/lonkkamurtuma",
    "accept-language": "/id/pirkanmaa/chain/lonkkaproteesi",
}


@pytest.fixture(scope="module")
def client(built_project: Project) -> Iterator[TestClient]:
    app = create_app(Settings(home=str(built_project.root)), project=built_project)
    with TestClient(app) as running:
        yield running


def kept_so_far(client: TestClient) -> float:
    """The `ketju_kept_answers_total` counter of /metrics."""
    found = re.search(r"^ketju_kept_answers_total ([0-9.e+]+)$",
                      client.get("/metrics").text, re.MULTILINE)
    assert found, "/metrics counts kept answers"
    return float(found.group(1))


def swedish(client: TestClient, path: str, way: str) -> httpx.Response:
    """The page in Swedish, asked the given way, by a client without cookies."""
    client.cookies.clear()
    if way == "param":
        return client.get(path + "?lang=sv")
    if way == "cookie":
        client.cookies.set("lang", "sv")
        try:
            return client.get(path)
        finally:
            client.cookies.clear()
    return client.get(path, headers={"Accept-Language": "sv-FI,sv;q=0.9,en;q=0.5"})


@pytest.mark.parametrize("way", list(CHAINS))
def test_second_request_is_the_kept_answer(client: TestClient, way: str) -> None:
    path = CHAINS[way]
    before = kept_so_far(client)
    first = swedish(client, path, way)
    made = kept_so_far(client)
    second = swedish(client, path, way)
    after = kept_so_far(client)
    assert first.status_code == second.status_code == 200
    assert '<html lang="sv">' in first.text
    assert made == before, "the first request makes the page"
    assert after == made + 1, f"the second request ({way}) is served from the kept answer"
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    if way == "param":
        # The switch is remembered, whether the answer was made or kept.
        for answer in (first, second):
            assert answer.cookies.get("lang") == "sv"
            assert "HttpOnly" in answer.headers["set-cookie"]
    else:
        assert "set-cookie" not in first.headers and "set-cookie" not in second.headers


def test_every_way_shares_one_kept_answer(client: TestClient) -> None:
    path = "/id/etela-pohjanmaa/chain/muistipotilas"
    before = kept_so_far(client)
    answers = {way: swedish(client, path, way) for way in ("param", "cookie",
                                                           "accept-language")}
    assert kept_so_far(client) == before + 2, "made once, then kept for the other two ways"
    bodies = {answer.content for answer in answers.values()}
    assert len(bodies) == 1, "byte-identical, whichever way the language was chosen"
    assert len({answer.headers["etag"] for answer in answers.values()}) == 1
    assert answers["param"].cookies.get("lang") == "sv"
    # Another language is another answer.
    client.cookies.clear()
    finnish = client.get(path + "?lang=fi")
    assert '<html lang="fi">' in finnish.text and finnish.content not in bodies
    assert finnish.cookies.get("lang") == "fi"


def test_kept_switch_answers_304_and_sets_the_cookie(client: TestClient) -> None:
    path = "/id/keski-uusimaa/chain/nuoret-paihteidenkayttajat"
    client.cookies.clear()
    first = client.get(path, headers={"Accept-Language": "en"})
    client.cookies.clear()
    again = client.get(path + "?lang=en", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.cookies.get("lang") == "en"


def test_json_answers_never_set_the_cookie(client: TestClient) -> None:
    client.cookies.clear()
    url = "/api/compare?chains=varsinais-suomi/lonkkamurtuma,pohjois-savo/lonkkamurtuma&lang=sv"
    for _ in range(2):
        answer = client.get(url)
        assert answer.status_code == 200
        assert "set-cookie" not in answer.headers
