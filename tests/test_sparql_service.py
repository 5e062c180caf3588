"""SERVICE on a real server (issue 11, point 1): decided by a parse, whatever the spelling;
refused when the query processes cannot be isolated; and a remote end that misbehaves neither
crashes a query process nor tells an open port from a closed one.

Every remote end here is a loopback listener of the test's own.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ketju.core.project import Project
from tests.servers import Listener, Server, ketju_server, oxigraph_server

pytestmark = pytest.mark.slow


def reproduction(host: str, port: int) -> str:
    """The issue's query: `"a\\u005C"` made the old scanner treat the SERVICE as a string."""
    return ('SELECT * WHERE { FILTER("a\\u005C" = "b") SERVICE <http://' + host + ":"
            + str(port) + '/x> { ?s ?p ?o } FILTER("x" != "") }')


def hidden_services(host: str, port: int) -> list[str]:
    url = f"http://{host}:{port}/x"
    return [
        reproduction(host, port),
        f'SELECT * WHERE {{ BIND("\\u0022" AS ?a) SERVICE <{url}> {{ ?s ?p ?o }} '
        f'BIND("\\u0022" AS ?b) }}',
        f"SELECT * WHERE {{ ?s ?p ?o .SERVICE<{url}>{{?s ?p ?o}} }}",
        f"SELECT * WHERE {{ ?s ?p true SERVICE <{url}> {{ ?s ?p ?o }} }}",
        f"PREFIX e: <http://{host}:{port}/> SELECT * WHERE {{ ?s ?p 1.5 SeRvIcE SILENT e:x "
        "{ ?s ?p ?o } }",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {{ }} }} }}",
        f"SELECT * WHERE {{ SERVICE <http://{host}\\u003A{port}/x> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE <http://{host}\\u0023@localhost/x> {{ }} }}",
    ]


@pytest.fixture(scope="module")
def federated(built_project: Project, server_logs: Path) -> Iterator[Server]:
    """SERVICE allowed to `localhost` only: 127.0.0.1 is another host to the check."""
    with ketju_server(built_project.root, server_logs, allowed_service_hosts="localhost",
                      query_timeout=5) as running:
        yield running


def test_no_spelling_reaches_a_host_not_allowed(federated: Server, listener: Listener) -> None:
    for query in hidden_services("127.0.0.1", listener.port):
        response = httpx.get(federated.sparql, params={"query": query}, timeout=30)
        assert response.status_code == 400, (query, response.text)
        assert "SERVICE" in response.text
    time.sleep(0.5)
    assert listener.connections == 0


def test_healthz_says_service_goes_to_allowed_hosts_only(federated: Server) -> None:
    federation = httpx.get(federated.base + "/healthz").json()["federation"]
    if not federation["isolated"]:
        pytest.skip("this kernel does not let the query processes leave the network")
    assert federation == {"service": "allowed hosts only", "allowed_hosts": ["localhost"],
                          "isolated": True}


BAD_ANSWERS = {
    "garbage": b"\x00\xff not http at all\r\n\r\n",
    "html": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 19\r\n\r\n"
            b"<html>secret</html>",
    "truncated json": b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                      b"Content-Length: 9\r\n\r\n{\"head\":",
    "error with a body": b"HTTP/1.1 500 Oops\r\nContent-Length: 14\r\n\r\nsecret details",
    "redirect inward": b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/\r\n"
                       b"Content-Length: 0\r\n\r\n",
    "hang-up": b"",
}


def test_a_misbehaving_remote_end_gives_one_fixed_error_and_crashes_nothing(
        federated: Server) -> None:
    texts = {}
    for name, reply in BAD_ANSWERS.items():
        remote = Listener(reply)
        try:
            query = (f"SELECT * WHERE {{ SERVICE <http://localhost:{remote.port}/x> "
                     "{ ?s ?p ?o } }")
            response = httpx.get(federated.sparql, params={"query": query}, timeout=30)
        finally:
            remote.close()
        assert remote.connections >= 1, name
        texts[name] = (response.status_code, response.text)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    query = f"SELECT * WHERE {{ SERVICE <http://localhost:{port}/x> {{ ?s ?p ?o }} }}"
    response = httpx.get(federated.sparql, params={"query": query}, timeout=30)
    texts["closed port"] = (response.status_code, response.text)
    assert len(set(texts.values())) == 1, texts
    status, text = texts["closed port"]
    assert status == 502 and "SERVICE" in text
    assert "secret" not in text and str(port) not in text
    metrics = httpx.get(federated.base + "/metrics").text
    assert 'reason="crash"' not in metrics
    assert httpx.get(federated.sparql, params={"query": "ASK { ?s ?p ?o }"}).status_code == 200


def test_without_isolation_every_service_is_refused_whatever_the_allowed_hosts(
        built_project: Project, server_logs: Path, listener: Listener) -> None:
    """KETJU_WORKER_NO_ISOLATION acts out a kernel that refuses `unshare`: the query processes
    keep the host network, so SERVICE must not run at all."""
    with ketju_server(built_project.root, server_logs, allowed_service_hosts="localhost",
                      worker_no_isolation=1) as server:
        federation = httpx.get(server.base + "/healthz").json()["federation"]
        assert federation["isolated"] is False
        assert federation["service"].startswith("refused: query processes could not be "
                                                "isolated")
        assert federation["allowed_hosts"] == []
        query = f"SELECT * WHERE {{ SERVICE <http://localhost:{listener.port}/x> {{ }} }}"
        response = httpx.get(server.sparql, params={"query": query}, timeout=30)
        assert response.status_code == 400
        assert "could not be isolated" in response.text
        time.sleep(0.3)
        assert listener.connections == 0
        assert httpx.get(server.sparql, params={"query": "ASK {}"}).status_code == 200


def test_without_isolation_and_allowed_hosts_healthz_says_so(built_project: Project,
                                                             server_logs: Path) -> None:
    with ketju_server(built_project.root, server_logs, worker_no_isolation=1) as server:
        federation = httpx.get(server.base + "/healthz").json()["federation"]
    assert federation == {"service": "refused (no allowed hosts)", "allowed_hosts": [],
                          "isolated": False}


def test_remote_mode_checks_service_before_forwarding(built_project: Project,
                                                      server_logs: Path,
                                                      listener: Listener) -> None:
    """The remote engine would make the call itself, with no isolation ketju could give it:
    the same parse runs in a checking process before anything is forwarded."""
    with oxigraph_server(built_project.store_link.resolve(), server_logs) as engine, \
            ketju_server(built_project.root, server_logs, sparql_endpoint=engine.base + "/query",
                         allowed_service_hosts="localhost") as server:
        for query in hidden_services("127.0.0.1", listener.port)[:4]:
            response = httpx.get(server.sparql, params={"query": query}, timeout=30)
            assert response.status_code == 400, (query, response.text)
        ok = httpx.get(server.sparql, params={"query": "SELECT * WHERE { ?s ?p 'home service' }"})
        assert ok.status_code == 200, ok.text
        federation = httpx.get(server.base + "/healthz").json()["federation"]
    time.sleep(0.3)
    assert listener.connections == 0
    assert federation == {"service": "allowed hosts only", "allowed_hosts": ["localhost"],
                          "isolated": None}
