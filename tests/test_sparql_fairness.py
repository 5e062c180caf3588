"""Under load from many clients (issue 11, points 3 and 4): cheap queries are not starved by
runaway ones, one client cannot hold every query process, waits are bounded, and reads of the
whole store are capped like any query.

Each client is a real connection from its own loopback address (Linux routes all of 127/8 to
lo), which is what the server counts queries by.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ketju.core.project import Project
from tests.servers import Server, ketju_server
from tests.test_sparql_safety import RUNAWAY_CPU, client_from, rss_mb

pytestmark = pytest.mark.slow

TIME_LIMIT = 12
CHEAP = "SELECT ?s WHERE { ?s a <https://w3id.org/ketju/ontology#ServiceChain> } LIMIT 1"


@pytest.fixture(scope="module")
def busy(built_project: Project, server_logs: Path) -> Iterator[Server]:
    """Three general query processes and the reserve; the default queue wait and client cap."""
    with ketju_server(built_project.root, server_logs, query_timeout=TIME_LIMIT,
                      query_workers=3, result_cache_entries=0) as running:
        yield running


Answers = dict[str, tuple[int, str, dict[str, str], float]]


def run_in_background(address: str, url: str, query: str, answers: Answers) -> threading.Thread:
    def ask() -> None:
        started = time.monotonic()
        with client_from(address) as client:
            response = client.get(url, params={"query": query})
        answers[address] = (response.status_code, response.text, dict(response.headers),
                            time.monotonic() - started)

    thread = threading.Thread(target=ask)
    thread.start()
    return thread


def test_a_cheap_query_answers_while_eight_runaways_hold_every_process(busy: Server) -> None:
    answers: Answers = {}
    runaways = [run_in_background(f"127.0.0.{10 + n}", busy.sparql, f"{RUNAWAY_CPU} # {n}",
                                  answers) for n in range(8)]
    time.sleep(1.0)
    started = time.monotonic()
    with client_from("127.0.0.30") as client:
        cheap = client.get(busy.sparql, params={"query": CHEAP})
        waited = time.monotonic() - started
        health = client.get(busy.base + "/healthz")
    assert cheap.status_code == 200, cheap.text
    assert len(cheap.json()["results"]["bindings"]) == 1
    assert waited < TIME_LIMIT / 3, f"the one-row query waited {waited:.1f} s"
    assert health.status_code == 200
    for thread in runaways:
        thread.join()
    # Every runaway ends within its bounds: the time limit on a general process, or the
    # bounded wait (503 with Retry-After) for those that never got one.
    statuses = sorted(status for status, _, _, _ in answers.values())
    assert statuses == [503] * 8
    timed_out = [a for a in answers.values() if "time limit" in a[1]]
    waited_out = [a for a in answers.values() if "stayed busy" in a[1]]
    assert len(timed_out) == 3 and len(waited_out) == 5
    assert all(a[2].get("retry-after") for a in waited_out)
    assert all(a[3] < TIME_LIMIT for a in waited_out)


def test_one_client_may_have_two_queries_at_once(busy: Server) -> None:
    answers: Answers = {}
    threads = [run_in_background("127.0.0.40", busy.sparql, f"{RUNAWAY_CPU} # mine {n}",
                                 answers) for n in range(2)]
    time.sleep(1.0)
    with client_from("127.0.0.40") as client:
        third = client.get(busy.sparql, params={"query": CHEAP})
    assert third.status_code == 429
    assert "at most 2" in third.text
    assert int(third.headers["retry-after"]) > 0
    with client_from("127.0.0.41") as other:
        assert other.get(busy.sparql, params={"query": CHEAP}).status_code == 200
    for thread in threads:
        thread.join()
    with client_from("127.0.0.40") as client:
        assert client.get(busy.sparql, params={"query": CHEAP}).status_code == 200
    metrics = httpx.get(busy.base + "/metrics").text
    assert 'ketju_sparql_queries_stopped_total{reason="client-limit"}' in metrics


# -- reads of the whole store are bounded (point 4) ----------------------------------------------


@pytest.fixture(scope="module")
def capped(built_project: Project, server_logs: Path) -> Iterator[Server]:
    with ketju_server(built_project.root, server_logs, max_rows=1000,
                      result_cache_entries=0) as running:
        yield running


def test_eight_whole_store_reads_at_once_are_capped_and_leave_the_server_small(
        capped: Server) -> None:
    server_rss = rss_mb([capped.process.pid])
    answers: dict[str, httpx.Response] = {}

    def read(address: str) -> None:
        with client_from(address) as client:
            answers[address] = client.get(capped.base + "/graph-store?default",
                                          headers={"Accept": "text/turtle"})

    threads = [threading.Thread(target=read, args=(f"127.0.0.{50 + n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8
    for response in answers.values():
        assert response.status_code == 200, response.text
        assert response.headers["x-ketju-rows"] == "1000"
        assert response.headers["x-ketju-capped"] == "true"
        assert "/dumps/" in response.headers["warning"]
    grown = rss_mb([capped.process.pid]) - server_rss
    assert grown < 50, f"the server process grew by {grown:.0f} MiB"


def test_the_largest_named_graph_is_capped_too(capped: Server) -> None:
    largest = httpx.get(capped.sparql, params={"query": """SELECT ?g (COUNT(*) AS ?n)
        WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY DESC(?n) LIMIT 1"""}).json()
    row = largest["results"]["bindings"][0]
    graph, size = row["g"]["value"], int(row["n"]["value"])
    assert size > 1000
    response = httpx.get(capped.base + "/graph-store", params={"graph": graph},
                         headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert response.text.count("\n") == 1000
    assert response.headers["x-ketju-capped"] == "true"
    head = httpx.head(capped.base + "/graph-store", params={"graph": graph},
                      headers={"Accept": "application/n-triples"})
    assert head.content == b"" and head.headers["content-length"] == str(len(response.content))
