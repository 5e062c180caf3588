"""Operations: /healthz says which build is served, /metrics counts, access log lines."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from ketju.core.project import Project
from ketju.infra.build import MANIFEST
from tests.servers import Server, ketju_server

# `server` (conftest): in this process; the smoke tier (marked slow) gets a real server: its
# process, its access log, following a rebuild.


@pytest.mark.slow
def test_healthz_names_the_build(server: Server, built_project: Project) -> None:
    manifest = json.loads((built_project.store_link.resolve() / MANIFEST).read_text())
    health = server.get(server.base + "/healthz").json()
    assert health["status"] == "ok"
    assert health["build"]["triples"] == manifest["triples"]
    assert health["build"]["built_at"] == manifest["built_at"]
    assert "commit" in health["build"]
    # The process finishes its start-up work (the chain index) in the background.
    deadline = time.monotonic() + 60
    while not health["warm"] and time.monotonic() < deadline:
        time.sleep(0.2)
        health = server.get(server.base + "/healthz").json()
    assert health["warm"] is True and health["process"] == server.process.pid


def test_metrics_count_requests_latency_and_stops(server: Server) -> None:
    server.get(server.sparql, params={"query": "ASK {}"})
    server.get(server.sparql, params={"query": "ASK {"})
    text = server.get(server.base + "/metrics").text
    assert re.search(r'ketju_http_requests_total\{method="GET",route="/sparql",status="200"\} '
                     r'[1-9]', text)
    assert 'status="400"' in text
    assert "ketju_http_request_duration_seconds_bucket" in text
    assert "ketju_sparql_answers_capped_total" in text


@pytest.mark.slow
def test_access_log_has_request_id_and_duration(server: Server) -> None:
    response = server.get(server.base + "/healthz", headers={"X-Request-Id": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    time.sleep(0.2)
    assert re.search(r"trace-42 GET /healthz 200 [0-9.]+ms", server.log_text())
    generated = server.get(server.base + "/healthz", headers={"X-Request-Id": "bad id!"})
    assert re.fullmatch(r"[0-9a-f]{16}", generated.headers["x-request-id"])


@pytest.mark.slow
def test_server_follows_a_rebuild(project_copy: Project, server_logs: Path) -> None:
    from ketju.infra.build import build

    build(project_copy)
    with ketju_server(project_copy.root, server_logs) as running:
        first = running.get(running.base + "/healthz").json()["build"]["store"]
        (project_copy.data_dir / "national" / "producers.ttl").open("a").write("\n# change\n")
        build(project_copy)
        time.sleep(1.5)
        query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # fresh"}
        assert running.get(running.sparql, params=query).status_code == 200
        assert running.get(running.base + "/healthz").json()["build"]["store"] != first


@pytest.mark.slow
def test_pages_change_with_the_data_after_a_rebuild(project_copy: Project,
                                                    server_logs: Path) -> None:
    # Finished pages are kept per build: a rebuild must show the new text, not the kept page.
    from ketju.infra.build import build

    build(project_copy)
    producers = project_copy.data_dir / "national" / "producers.ttl"
    page = "/id/national/producer/kela"
    searches = ["/api/search?q=uusi+nimi", "/search?q=uusi+nimi&format=json"]
    with ketju_server(project_copy.root, server_logs) as running:
        before = running.get(running.base + page)
        assert before.status_code == 200 and "Kansaneläkelaitos" in before.text
        again = running.get(running.base + page)
        assert again.text == before.text and again.headers["ETag"] == before.headers["ETag"]
        for search in searches:  # kept too, until the next build
            assert running.get(running.base + search).json()["total"] == 0
        producers.write_text(producers.read_text(encoding="utf-8").replace(
            "Kansaneläkelaitos (Kela)", "Kansaneläkelaitos (Kela, uusi nimi)"), encoding="utf-8")
        build(project_copy)
        time.sleep(1.5)
        after = running.get(running.base + page)
        assert "uusi nimi" in after.text and after.headers["ETag"] != before.headers["ETag"]
        for search in searches:
            found = running.get(running.base + search).json()["items"]
            assert [item["iri"] for item in found] == ["https://w3id.org/ketju/id/national/producer/kela"]
        stale = running.get(running.base + page, headers={"If-None-Match": before.headers["ETag"]})
        assert stale.status_code == 200
