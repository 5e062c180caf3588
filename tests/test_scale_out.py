"""Scale-out shown, not claimed: two `ketju serve` processes in remote mode over one real
Oxigraph server, behind a real nginx (Debian's package, installed by `make test`) that sends
requests to them round robin, with `--public-base-url` set to the proxy's URL on both.

The engine is loaded from the build's N-Quads dump, as a build is published to one
(docs/DEPLOYMENT.md). Through the proxy the pages, the REST API (JSON-LD), SPARQL and search
answer as from one server; no answer names a backend's port; and both backends answered
(their request counters, and nginx's own log of which upstream took each request). nginx runs
`deploy/nginx-ketju.conf`, the file docs/DEPLOYMENT.md quotes, inside a minimal main
configuration of the test's own (pid, logs and temporary files in the test's folder).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ketju.core.project import Project
from tests.conftest import ROOT
from tests.servers import (
    BIN,
    NGINX,
    TEMPLATE,
    Server,
    _stop,
    free_port,
    ketju_server,
    nginx,
    oxigraph_server,
)

DEPLOYMENT = ROOT / "docs" / "DEPLOYMENT.md"
CHAIN = "/id/varsinais-suomi/chain/lonkkamurtuma"


def answered(server: Server) -> int:
    """How many requests the process has answered, its own `/metrics` calls left out."""
    text = httpx.get(server.base + "/metrics", timeout=10).text
    return round(sum(float(value) for labels, value in re.findall(
        r'^ketju_http_requests_total\{([^}]*)\} (\S+)$', text, re.MULTILINE)
        if 'route="/metrics"' not in labels))


@pytest.fixture(scope="module")
def deployment(built_project: Project, server_logs: Path,
               tmp_path_factory: pytest.TempPathFactory,
               ) -> Iterator[tuple[str, list[Server], Path]]:
    """Real servers: the proxy's URL, the two backends and nginx's access log."""
    assert Path(NGINX).exists(), "nginx is not installed: `make tools` installs it"
    port = free_port()
    proxy = f"http://127.0.0.1:{port}"
    # The engine is loaded as a build is published to one: from the build's N-Quads dump.
    loaded = tmp_path_factory.mktemp("engine") / "store"
    dump = built_project.store_link.resolve() / "dumps" / "ketju.nq.gz"
    subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(loaded), "--file",
                    str(dump)], check=True, capture_output=True, timeout=120)
    with oxigraph_server(loaded, server_logs) as engine, \
            ketju_server(built_project.root, server_logs, sparql_endpoint=engine.base + "/query",
                         public_base_url=proxy) as first, \
            ketju_server(built_project.root, server_logs, sparql_endpoint=engine.base + "/query",
                         public_base_url=proxy) as second:
        prefix = tmp_path_factory.mktemp("nginx") / "prefix"
        backends = [first.base.removeprefix("http://"), second.base.removeprefix("http://")]
        with nginx(prefix, port, backends) as access_log:
            yield proxy, [first, second], access_log


@pytest.mark.slow
def test_two_backends_answer_through_the_proxy(
        deployment: tuple[str, list[Server], Path]) -> None:
    proxy, backends, access_log = deployment
    ports = [backend.base.rsplit(":", 1)[1] for backend in backends]
    before = [answered(backend) for backend in backends]
    sent: list[httpx.Response] = []

    def get(path: str, **options: object) -> httpx.Response:
        response = httpx.get(proxy + path, timeout=30, **options)  # type: ignore[arg-type]
        sent.append(response)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        # No answer names a backend: every link, @context and header is the proxy's.
        for port in ports:
            assert f"127.0.0.1:{port}" not in response.text, path
            assert all(f":{port}" not in value for value in response.headers.values()), path
        return response

    # A chain page, twice (made afresh on one backend, then on the other).
    for _ in range(2):
        page = get(CHAIN, params={"lang": "en"})
        assert page.headers["content-type"].startswith("text/html")
        assert "<svg" in page.text and "lonkkamurtuma" in page.text.lower()
        links = re.findall(r'(?:href|src)="([^"]*)"', page.text)
        assert all(not link.startswith("http://127.0.0.1") or link.startswith(proxy + "/")
                   for link in links)
    # The page's links work through the proxy: its style sheet and its RDF as JSON-LD.
    assert get("/static/ketju.css").headers["content-type"].startswith("text/css")
    rdf = get(CHAIN, params={"format": "jsonld"})
    assert "https://w3id.org/ketju" + CHAIN in rdf.text

    # The REST API: the list, and one chain as JSON-LD whose @context is the proxy's.
    chains = get("/api/chains", params={"region": "varsinais-suomi"}).json()
    assert chains["@context"] == proxy + "/api/context.jsonld"
    assert any(item["api"] == proxy + "/api/chains/varsinais-suomi/lonkkamurtuma"
               for item in chains["items"])
    for _ in range(2):
        chain = get("/api/chains/varsinais-suomi/lonkkamurtuma")
        assert chain.headers["content-type"].startswith("application/ld+json")
        item = chain.json()
        assert item["@context"] == proxy + "/api/context.jsonld"
        assert item["@id"] == "https://w3id.org/ketju" + CHAIN
        assert len(item["hasStep"]) == 9
    context = get("/api/context.jsonld")
    assert context.json()["@context"]

    # SPARQL, answered by the engine behind both backends.
    query = ("SELECT (COUNT(*) AS ?n) WHERE { ?chain a "
             "<https://w3id.org/ketju/ontology#ServiceChain> }")
    counts = {get("/sparql", params={"query": query},
                  headers={"Accept": "application/sparql-results+json"})
              .json()["results"]["bindings"][0]["n"]["value"] for _ in range(2)}
    assert len(counts) == 1 and int(counts.pop()) > 5

    # Search: the page and the API.
    for _ in range(2):
        found = get("/search", params={"q": "lonkkamurtuma", "lang": "en"})
        assert "/id/varsinais-suomi/chain/lonkkamurtuma" in found.text
    hits = get("/api/search", params={"q": "lonkk"}).json()
    assert hits["items"]

    # The dataset description: its endpoint is the proxy's.
    catalog = get("/catalog", headers={"Accept": "text/turtle"})
    assert f"<{proxy}/sparql>" in catalog.text

    # Both backends answered, and between them exactly the requests sent (none twice).
    after = [answered(backend) for backend in backends]
    shares = [later - earlier for earlier, later in zip(before, after, strict=True)]
    assert all(share > 0 for share in shares), shares
    assert sum(shares) == len(sent), (shares, len(sent))
    upstreams = {line.rsplit(" ", 1)[1] for line in access_log.read_text().splitlines()
                 if " /healthz " not in line}
    assert upstreams == {backend.base.removeprefix("http://") for backend in backends}


@pytest.mark.slow
def test_a_backend_gone_is_passed_over(deployment: tuple[str, list[Server], Path]) -> None:
    """nginx sends requests to the backend that is left when one stops (nothing a request
    needs lives in one process)."""
    proxy, backends, _ = deployment
    _stop(backends[0].process)
    for _ in range(4):
        response = httpx.get(proxy + "/api/chains/varsinais-suomi/lonkkamurtuma", timeout=30)
        assert response.status_code == 200


def test_deployment_document_quotes_the_config_the_test_runs() -> None:
    """docs/DEPLOYMENT.md shows deploy/nginx-ketju.conf word for word (they cannot drift)."""
    assert TEMPLATE.read_text(encoding="utf-8") in DEPLOYMENT.read_text(encoding="utf-8")


def test_the_containerfile_builds_what_the_wheel_test_installs() -> None:
    """The image cannot be built here (no container runtime); what it is made of can be
    checked: its first stage builds the wheel from what tests/test_wheel.py builds it from,
    the project folders it copies exist, and every KETJU_* variable it and
    docs/DEPLOYMENT.md name is a setting of `ketju serve`."""
    containerfile = (ROOT / "Containerfile").read_text(encoding="utf-8")
    copies = re.findall(r"^COPY (?!--from)(?:--chown=\S+ )?(.+) \S+$", containerfile, re.M)
    sources = [word for line in copies for word in line.split()]
    assert sources[:3] == ["pyproject.toml", "README.md", "src"]
    assert "pip wheel" in containerfile and "python:3.11-slim" in containerfile
    assert {"queries", "ontology", "shapes", "standards", "data"} <= set(sources[3:])
    assert all((ROOT / source).exists() for source in sources), sources
    settings = set(re.findall(r'envvar="(KETJU_[A-Z_]+)"',
                              (ROOT / "src" / "ketju" / "cli.py").read_text(encoding="utf-8")))
    named = set(re.findall(r"KETJU_[A-Z_]+[A-Z]", containerfile
                           + DEPLOYMENT.read_text(encoding="utf-8")))
    assert {"KETJU_SPARQL_ENDPOINT", "KETJU_PUBLIC_BASE_URL"} <= named
    assert named - {"KETJU_HOME"} <= settings, named - settings
