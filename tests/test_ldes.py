"""The LDES change stream (/feeds/ldes): versions from the git history of data/, time-ordered
pages linked by TREE relations, replay into a fresh store, HTTP caching, and the npm
`ldes-client` replicating the running server's stream."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from ketju.core import namespaces as ns
from ketju.core.project import Project
from ketju.core.settings import Settings
from ketju.infra.build import build
from ketju.infra.feeds import ldes
from ketju.infra.store import CatalogueStore
from ketju.web.app import create_app
from tests.conftest import copy_tree
from tests.servers import InProcessServer, Served, Server, in_process_server, ketju_server
from tests.tools import npm_tool

CHAIN_FILE = "data/varsinais-suomi/lonkkamurtuma.ttl"
CHAIN = ns.ID + "varsinais-suomi/chain/lonkkamurtuma"
OLD_LABEL = "Lonkkamurtumapotilaan hoito- ja kuntoutusketju (lonkkaliukumäki)"
NEW_LABEL = "Lonkkamurtumapotilaan hoito- ja kuntoutusketju (päivitetty)"
PRODUCER_FILE = "data/national/ldes-koetuottaja.ttl"
PRODUCER = ns.ID + "national/producer/ldes-koetuottaja"
PRODUCER_TTL = """@prefix ketju: <https://w3id.org/ketju/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ptype: <https://w3id.org/ketju/vocab/producer-type/> .
@prefix natprod: <https://w3id.org/ketju/id/national/producer/> .

natprod:ldes-koetuottaja a ketju:Producer ;
    skos:prefLabel "LDES-koetuottaja"@fi, "LDES-testproducent"@sv, "LDES test producer"@en ;
    ketju:producerType ptype:ngo ;
    ketju:illustrative true .
"""
#: Commit times of the three commits (author and committer).
TIMES = ("2025-01-10T09:00:00+00:00", "2025-02-10T09:00:00+00:00", "2025-03-10T09:00:00+00:00")
#: Small pages, so that the example data spans several (and old pages become immutable).
PAGE_SIZE = 40

DCT = "http://purl.org/dc/terms/"
TREE = "https://w3id.org/tree#"
RDF_TYPE = ox.NamedNode(ns.RDF_TYPE)
VERSION_OF = ox.NamedNode(DCT + "isVersionOf")
ISSUED = ox.NamedNode(DCT + "issued")
HAS_PART = ox.NamedNode(DCT + "hasPart")
COMMIT = ox.NamedNode(ns.ONTOLOGY + "commit")
MEMBER = ox.NamedNode(TREE + "member")
DELETE = ox.NamedNode(ldes.AS + "Delete")
TRACKED = """SELECT DISTINCT ?e WHERE {
    VALUES ?root { <https://w3id.org/ketju/ontology#ServicePackage>
        <https://w3id.org/ketju/ontology#ServiceChain> <https://w3id.org/ketju/ontology#Service>
        <https://w3id.org/ketju/ontology#Producer> }
    ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?root .
    GRAPH ?g { ?e a ?class } FILTER(STRSTARTS(STR(?g), "https://w3id.org/ketju/graph/data/")) }"""


# ---------------------------------------------------------------------------------------------
# A project with a git history: import, an edited chain and a new producer, a deleted producer
# ---------------------------------------------------------------------------------------------

def git(root: Path, *args: str, when: str | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when:
        env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=Ketju Test",
                           "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false",
                           *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def make_history(root: Path) -> list[str]:
    """Three commits touching data/; returns their hashes, oldest first."""
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "data")
    git(root, "commit", "-q", "-m", "Import the example data", when=TIMES[0])
    chain = root / CHAIN_FILE
    text = chain.read_text(encoding="utf-8")
    assert OLD_LABEL in text
    chain.write_text(text.replace(OLD_LABEL, NEW_LABEL), encoding="utf-8")
    (root / PRODUCER_FILE).write_text(PRODUCER_TTL, encoding="utf-8")
    git(root, "add", "data")
    git(root, "commit", "-q", "-m", "Rename a chain, add a producer", when=TIMES[1])
    git(root, "rm", "-q", PRODUCER_FILE)
    git(root, "commit", "-q", "-m", "Remove the producer", when=TIMES[2])
    return git(root, "log", "--reverse", "--format=%H").split()


@dataclass
class History:
    project: Project
    commits: list[str]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    project = copy_tree(tmp_path_factory.mktemp("ldes-history"))
    commits = make_history(project.root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ldes, "PAGE_SIZE", PAGE_SIZE)
        build(project)
    yield History(project, commits)


def rebuild(project: Project) -> Path:
    """Build again in a later second: `ketju build` names store folders by the second and the
    process id, so two builds of one process in the same second would share a folder."""
    time.sleep(1.05 - time.time() % 1)
    return build(project).path


def feed_dir(project: Project) -> Path:
    return ldes.feed_folder(project.store_link.resolve())


def index_of(project: Project) -> dict[str, Any]:
    index: dict[str, Any] = json.loads((feed_dir(project) / ldes.INDEX).read_text("utf-8"))
    return index


# ---------------------------------------------------------------------------------------------
# Reading a stream the way a consumer does: members by their concise bounded description
# ---------------------------------------------------------------------------------------------

@dataclass
class Member:
    iri: ox.NamedNode
    entity: ox.NamedNode
    issued: datetime
    deleted: bool
    commit: str | None
    triples: list[ox.Triple]

    def state(self) -> set[ox.Triple]:
        """The entity's triples again: version nodes back to what they are versions of."""
        back = {t.subject: t.object for t in self.triples if t.predicate == VERSION_OF}
        restored = set()
        for t in self.triples:
            if t.predicate == VERSION_OF or (t.subject == self.iri and (
                    t.predicate in (ISSUED, COMMIT) or (t.predicate == HAS_PART
                                                        and t.object in back))):
                continue
            restored.add(ox.Triple(back.get(t.subject, t.subject), t.predicate, t.object))
        return restored


def members(triples: list[ox.Triple], stream: ox.NamedNode) -> list[Member]:
    """The members of one page, in page order, each with its CBD (blank nodes followed)."""
    by_subject: dict[object, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        by_subject[t.subject].append(t)
    found = []
    for t in triples:
        if t.subject != stream or t.predicate != MEMBER:
            continue
        iri = t.object
        assert isinstance(iri, ox.NamedNode)
        cbd, todo, seen = [], [iri], set()
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for triple in by_subject.get(node, []):
                cbd.append(triple)
                if isinstance(triple.object, ox.BlankNode):
                    todo.append(triple.object)
        values = {x.predicate: x.object for x in cbd if x.subject == iri}
        entity, issued = values[VERSION_OF], values[ISSUED]
        assert isinstance(entity, ox.NamedNode) and isinstance(issued, ox.Literal)
        found.append(Member(
            iri, entity, datetime.fromisoformat(issued.value),
            ox.Triple(iri, RDF_TYPE, DELETE) in cbd,
            values[COMMIT].value if COMMIT in values else None, cbd))
    return found


@dataclass
class Page:
    url: str
    triples: list[ox.Triple]
    response: httpx.Response


def parse(response: httpx.Response) -> list[ox.Triple]:
    media = response.headers["content-type"].split(";")[0].strip()
    fmt = ox.RdfFormat.from_media_type(media)
    assert fmt is not None, media
    return [q.triple for q in ox.parse(response.content, format=fmt, base_iri=str(response.url))]


def relations(triples: list[ox.Triple], node: str) -> list[dict[str, object]]:
    """The tree:relation descriptions of a node, one dict per relation."""
    by_subject: dict[object, dict[str, object]] = defaultdict(dict)
    for t in triples:
        by_subject[t.subject][t.predicate.value] = t.object
    return [by_subject[t.object] for t in triples
            if t.subject == ox.NamedNode(node) and t.predicate.value == TREE + "relation"]


def read_stream(server: Served, accept: str = "application/n-quads",
                ) -> tuple[Page, list[Page]]:
    """Fetch the root and every page it links to, as a client would."""
    root_url = server.base + "/feeds/ldes"
    root = server.get(root_url, headers={"Accept": accept}, timeout=30)
    assert root.status_code == 200, root.text
    triples = parse(root)
    targets = []
    for relation in relations(triples, root_url):
        target = relation[TREE + "node"]
        assert isinstance(target, ox.NamedNode)
        if target.value not in targets:
            targets.append(target.value)
    pages = []
    for url in targets:
        response = server.get(url, headers={"Accept": accept}, timeout=30)
        assert response.status_code == 200, response.text
        pages.append(Page(url, parse(response), response))
    return Page(root_url, triples, root), pages


def stream_iri(root: Page) -> ox.NamedNode:
    view = [t for t in root.triples if t.predicate.value == TREE + "view"]
    assert len(view) == 1 and view[0].object == ox.NamedNode(root.url)
    subject = view[0].subject
    assert isinstance(subject, ox.NamedNode)
    return subject


def local_pages(project: Project, base: str = "http://localhost/") -> tuple[Page, list[Page]]:
    """The pages as written by the build (no server), IRIs under `base`."""
    folder = feed_dir(project)
    index = index_of(project)

    def page(name: str) -> list[ox.Triple]:
        data = (folder / name).read_bytes().replace(ldes.PLACEHOLDER.encode(), base.encode())
        return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]

    fake = httpx.Response(200)
    root = Page(base + "feeds/ldes", page(index["root"]["file"]), fake)
    return root, [Page(f"{base}feeds/ldes/{p['page']}", page(p["file"]), fake)
                  for p in index["pages"]]


def all_members(root: Page, pages: list[Page]) -> list[Member]:
    stream = stream_iri(root)
    return [m for page in pages for m in members(page.triples, stream)]


# ---------------------------------------------------------------------------------------------
# Versions from the history
# ---------------------------------------------------------------------------------------------

def test_one_version_per_entity_and_change_ordered_by_time(history: History) -> None:
    root, pages = local_pages(history.project)
    stream = all_members(root, pages)
    first, second, third = history.commits
    store = CatalogueStore.open(history.project)
    entities = {row["e"] for row in store.select(TRACKED)}
    assert len(entities) > 100

    imported = [m for m in stream if m.commit == first]
    assert {m.entity for m in imported} == entities
    assert len(imported) == len(entities)  # one version per entity
    assert all(m.issued == datetime.fromisoformat(TIMES[0]) for m in imported)

    changed = [m for m in stream if m.commit == second]
    assert sorted(m.entity.value for m in changed) == [PRODUCER, CHAIN]
    chain = next(m for m in changed if m.entity.value == CHAIN)
    labels = {t.object for t in chain.triples if t.predicate.value.endswith("#prefLabel")
              and t.subject == chain.iri}
    assert ox.Literal(NEW_LABEL, language="fi") in labels
    assert ox.Literal(OLD_LABEL, language="fi") not in labels

    (tombstone,) = [m for m in stream if m.commit == third]
    assert tombstone.entity.value == PRODUCER and tombstone.deleted
    assert {t.predicate for t in tombstone.triples} == {RDF_TYPE, VERSION_OF, ISSUED, COMMIT}

    assert len(stream) == len(entities) + 3
    assert [m.issued for m in stream] == sorted(m.issued for m in stream)
    assert all(m.commit is not None for m in stream)  # the working tree is committed
    assert len({m.iri for m in stream}) == len(stream)
    assert stream[-1] is tombstone
    assert tombstone.iri.value == f"{PRODUCER}#v20250310T090000Z-{third[:7]}"


def test_chain_versions_carry_their_steps_and_transitions(history: History) -> None:
    root, pages = local_pages(history.project)
    versions = [m for m in all_members(root, pages) if m.entity.value == CHAIN]
    assert len(versions) == 2
    store = CatalogueStore.open(history.project)
    steps = {row["s"] for row in store.select(
        f"SELECT ?s WHERE {{ <{CHAIN}> <https://w3id.org/ketju/ontology#hasStep> ?s }}")}
    assert len(steps) >= 2
    for version in versions:
        parts = {t.object for t in version.triples if t.predicate == VERSION_OF
                 and t.subject != version.iri}
        assert steps <= parts  # every step (and every transition) is a part of the version
        assert all(p.value.startswith(CHAIN + "/") for p in parts)


def test_pages_are_linked_with_time_windows(history: History) -> None:
    root, pages = local_pages(history.project)
    index = index_of(history.project)
    listed = index["pages"]
    assert isinstance(listed, list)
    assert len(pages) == len(listed) > 2
    assert [p["count"] for p in listed[:-1]] == [PAGE_SIZE] * (len(listed) - 1)
    assert [p["immutable"] for p in listed] == [True] * (len(listed) - 1) + [False]
    stream = stream_iri(root)
    description = {t.predicate.value: t.object for t in root.triples if t.subject == stream}
    assert description[ns.RDF_TYPE] == ox.NamedNode(ldes.LDES + "EventStream")
    assert description[ldes.LDES + "timestampPath"] == ISSUED
    assert description[ldes.LDES + "versionOfPath"] == VERSION_OF
    assert not any(t.predicate.value == ldes.LDES + "retentionPolicy" for t in root.triples)

    windows: dict[str, dict[str, datetime]] = defaultdict(dict)
    for relation in relations(root.triples, root.url):
        assert relation[TREE + "path"] == ISSUED
        kind = relation[ns.RDF_TYPE]
        value = relation[TREE + "value"]
        target = relation[TREE + "node"]
        assert isinstance(kind, ox.NamedNode) and isinstance(value, ox.Literal)
        assert isinstance(target, ox.NamedNode)
        windows[target.value][kind.value.removeprefix(TREE)] = datetime.fromisoformat(value.value)
    assert list(windows) == [p.url for p in pages]  # every page linked once, in order
    for i, page in enumerate(pages):
        window = windows[page.url]
        assert "GreaterThanOrEqualToRelation" in window
        upper = {k: v for k, v in window.items() if k.startswith("LessThan")}
        assert len(upper) == (0 if i == len(pages) - 1 else 1)  # the newest page is open
        for member in members(page.triples, stream):
            assert member.issued >= window["GreaterThanOrEqualToRelation"]
            if "LessThanRelation" in upper:
                assert member.issued < upper["LessThanRelation"]
            if "LessThanOrEqualToRelation" in upper:
                assert member.issued <= upper["LessThanOrEqualToRelation"]
        node = ox.NamedNode(page.url)
        immutable = ox.Triple(node, ox.NamedNode(ldes.LDES + "immutable"),
                              ox.Literal("true", datatype=ox.NamedNode(ns.PREFIXES["xsd"]
                                                                       + "boolean")))
        assert (immutable in page.triples) == listed[i]["immutable"]


@pytest.mark.slow
def test_rebuilding_gives_identical_pages(history: History) -> None:
    before = feed_dir(history.project)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ldes, "PAGE_SIZE", PAGE_SIZE)
        after = ldes.feed_folder(rebuild(history.project))
    assert before != after
    names = sorted(p.name for p in before.iterdir())
    assert names == sorted(p.name for p in after.iterdir())
    for name in names:
        assert (before / name).read_bytes() == (after / name).read_bytes(), name


def test_a_tree_without_history_gives_one_version_per_entity(built_project: Project) -> None:
    index = index_of(built_project)
    root, pages = local_pages(built_project)
    stream = all_members(root, pages)
    entities = {row["e"] for row in CatalogueStore.open(built_project).select(TRACKED)}
    assert {m.entity for m in stream} == entities and len(stream) == len(entities)
    assert index["committed"] == 0 and len({m.issued for m in stream}) == 1
    assert all(m.commit is None and not m.deleted for m in stream)
    assert not any(p["immutable"] for p in index["pages"])


# ---------------------------------------------------------------------------------------------
# The running server: replay into a fresh store, caching, the npm ldes-client
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(history: History) -> Iterator[InProcessServer]:
    with in_process_server(history.project) as running:
        yield running


@pytest.fixture(scope="module")
def real_server(history: History, server_logs: Path) -> Iterator[Server]:
    """For the npm client, which needs a port."""
    with ketju_server(history.project.root, server_logs) as running:
        yield running


def data_triples(project: Project, entities: set[ox.NamedNode]) -> set[ox.Triple]:
    """What the store holds about the entities and their parts, from the data graphs only."""
    store = CatalogueStore.open(project).store
    prefixes = tuple(e.value + "/" for e in entities)
    out = set()
    for quad in store.quads_for_pattern(None, None, None, None):
        graph = quad.graph_name
        if not (isinstance(graph, ox.NamedNode) and graph.value.startswith(ns.GRAPH + "data/")):
            continue
        subject = quad.subject
        if isinstance(subject, ox.NamedNode) and (
                subject in entities or subject.value.startswith(prefixes)):
            out.add(quad.triple)
    return out


def test_replaying_the_stream_gives_the_store(history: History, server: Server) -> None:
    root, pages = read_stream(server)
    latest: dict[ox.NamedNode, Member] = {}
    for member in sorted(all_members(root, pages), key=lambda m: m.issued):  # stable sort
        latest[member.entity] = member
    alive = {entity: m for entity, m in latest.items() if not m.deleted}
    assert ox.NamedNode(PRODUCER) in latest and ox.NamedNode(PRODUCER) not in alive

    replica = ox.Store()  # a fresh store, filled from the stream only
    replica.extend(ox.Quad(t.subject, t.predicate, t.object) for m in alive.values()
                   for t in m.state())
    replayed = {q.triple for q in replica}
    expected = data_triples(history.project, set(alive))
    assert set(alive) == {row["e"] for row in CatalogueStore.open(history.project)
                          .select(TRACKED)}
    assert replayed == expected


def test_old_pages_are_immutable_and_answer_304(history: History, server: Server) -> None:
    root, pages = read_stream(server, accept="text/turtle")
    assert root.response.headers["cache-control"] == "public, max-age=60"
    assert pages[-1].response.headers["cache-control"] == "public, max-age=60"
    for page in pages[:-1]:
        assert page.response.headers["cache-control"] == "public, max-age=31536000, immutable"
    for page in [root, *pages]:
        response = page.response
        etag = response.headers["etag"]
        assert etag.startswith('"') and response.headers["vary"] == "Accept"
        assert response.headers["content-type"].startswith("text/turtle")
        again = server.get(page.url, headers={"Accept": "text/turtle", "If-None-Match": etag},
                          timeout=30)
        assert again.status_code == 304 and again.headers["etag"] == etag
        assert again.content == b""
        other = server.get(page.url, headers={"Accept": "application/n-triples"}, timeout=30)
        assert other.headers["etag"] != etag  # each representation has its own tag
        assert len(parse(other)) == len(page.triples)


def test_formats_and_errors(server: Server) -> None:
    url = server.base + "/feeds/ldes/0"
    turtle = server.get(url, timeout=30)
    ntriples = server.get(url + "?format=nt", timeout=30)
    jsonld = server.get(url, headers={"Accept": "application/ld+json"}, timeout=30)
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert 'profile="https://w3id.org/tree/profile"' in turtle.headers["content-type"]
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    counts = {len(parse(r)) for r in (turtle, ntriples, jsonld)}
    assert len(counts) == 1
    assert server.base + "/feeds/ldes/0" in ntriples.text  # IRIs under the server's URL
    missing = server.get(server.base + "/feeds/ldes/999", timeout=30)
    assert missing.status_code == 404 and "Start at /feeds/ldes" in missing.json()["detail"]
    assert server.get(server.base + "/feeds/ldes/x", timeout=30).status_code == 404
    refused = server.get(url, headers={"Accept": "image/png"}, timeout=30)
    assert refused.status_code == 406
    head = server.head(url, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(turtle.content)
    spec = server.get(server.base + "/openapi.json", timeout=30).json()
    assert spec["paths"]["/feeds/ldes"]["get"]["tags"] == ["Feeds"]
    assert spec["paths"]["/feeds/ldes/{page}"]["get"]["tags"] == ["Feeds"]


def test_public_base_url_is_used_for_page_iris(history: History) -> None:
    with in_process_server(history.project,
                           public_base_url="https://ketju.example.fi/") as running:
        root = running.get(running.base + "/feeds/ldes?format=nt", timeout=30).text
    assert "<https://ketju.example.fi/feeds/ldes/0>" in root
    assert "127.0.0.1" not in root


def test_remote_mode_has_no_stream(tmp_path: Path) -> None:
    settings = Settings(sparql_endpoint="http://127.0.0.1:9/sparql", home=str(tmp_path))
    with TestClient(create_app(settings, Project(tmp_path))) as client:
        response = client.get("/feeds/ldes")
    assert response.status_code == 503
    assert "embedded store" in response.json()["detail"]


def run_client(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    client = npm_tool("ldes-client", "ldes-client")
    return subprocess.run([str(client), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "LOG_LEVEL": "verbose"})


@pytest.mark.slow
def test_ldes_client_replicates_every_member(history: History, real_server: Server) -> None:
    root, pages = read_stream(real_server)
    expected = {m.iri.value for m in all_members(root, pages)}
    done = run_client(real_server.base + "/feeds/ldes")
    assert done.returncode == 0, done.stderr[-3000:]
    emitted = set()
    for line in done.stdout.splitlines():
        subject, _, rest = line.partition(" ")
        if rest.startswith(f"<{ISSUED.value}> "):
            emitted.add(subject.strip("<>"))
    assert emitted == expected
    log = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr)
    assert f"Found {len(expected)} members" in log
    assert "] error:" not in log, log[-3000:]


@pytest.mark.slow
def test_ldes_client_in_time_order(history: History, real_server: Server) -> None:
    done = run_client(real_server.base + "/feeds/ldes", "--ordered", "ascending")
    assert done.returncode == 0, done.stderr[-3000:]
    times = [line.split('"')[1] for line in done.stdout.splitlines()
             if f"<{ISSUED.value}>" in line]
    assert times and times == sorted(times)
    assert len(times) == index_of(history.project)["members"]


# ---------------------------------------------------------------------------------------------
# Uncommitted changes (runs last: it edits the working tree)
# ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_uncommitted_changes_end_the_stream(history: History) -> None:
    project = history.project
    chain = project.root / CHAIN_FILE
    chain.write_text(chain.read_text(encoding="utf-8").replace(NEW_LABEL, "Kolmas nimi"),
                     encoding="utf-8")
    try:
        first = rebuild(project)
        root, pages = local_pages(project)
        stream = all_members(root, pages)
        last = stream[-1]
        assert last.entity.value == CHAIN and last.commit is None
        assert ox.Literal("Kolmas nimi", language="fi") in {t.object for t in last.state()}
        assert last.issued >= stream[-2].issued
        assert sum(1 for m in stream if m.commit is None) == 1
        # Rebuilding without further changes keeps that version (same IRI, same page bytes).
        second = rebuild(project)
        assert first != second
        assert (ldes.feed_folder(first) / "index.json").read_bytes() == (
            ldes.feed_folder(second) / "index.json").read_bytes()
    finally:
        git(project.root, "checkout", "--", CHAIN_FILE)
