"""The dataset description (DCAT-AP 3, VoID) and the dumps that `ketju build` makes."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS

from ketju.core import namespaces as ns
from ketju.core.project import Project
from ketju.infra import observations
from ketju.infra.feeds import catalog, dumps
from tests.servers import InProcessServer, Server, ketju_server, oxigraph_server

SPDX = "http://spdx.org/rdf/terms#"
# Plain namespaces (rdflib's closed ones warn when pytest inspects this module).
DCAT = Namespace(catalog.DCAT)
DCTERMS = Namespace(catalog.DCT)
FOAF = Namespace(catalog.FOAF)
VOID = Namespace(catalog.VOID)
RDF_FORMATS = {"text/turtle": "turtle", "application/ld+json": "json-ld",
               "application/n-triples": "nt", "application/rdf+xml": "xml"}
DESCRIPTIONS = ("/catalog", "/.well-known/void")


@pytest.fixture(scope="module")
def store_folder(built_project: Project) -> Path:
    return built_project.store_link.resolve()


@pytest.fixture(scope="module")
def store(store_folder: Path) -> ox.Store:
    return ox.Store.read_only(str(store_folder))


@pytest.fixture(scope="module")
def index(store_folder: Path) -> dict[str, dict[str, object]]:
    return json.loads((dumps.dumps_folder(store_folder) / dumps.INDEX).read_text("utf-8"))


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


def regions_with_data(project: Project) -> dict[str, set[str]]:
    """Region → the graphs of its data files (and of its observation data set, the graph of
    the observations folder, where it has observation files)."""
    regions: dict[str, set[str]] = {}
    for source in project.data_files():
        if source.region is not None:
            regions.setdefault(source.region, set()).add(source.graph)
            if source.tabular:
                regions[source.region].add(observations.dataset_graph(source.region))
    return regions


def load_nquads(path: Path) -> ox.Store:
    loaded = ox.Store()
    loaded.load(gzip.decompress(path.read_bytes()), format=ox.RdfFormat.N_QUADS)
    return loaded


def distinct_triples(store: ox.Store, graphs: set[str] | None = None) -> int:
    values = "" if graphs is None else "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " }"
    rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { "
                       f"{values} GRAPH ?g {{ ?s ?p ?o }} }} }}")
    return int(next(iter(rows))["n"].value)  # type: ignore[index, call-overload]


# -- the dumps ---------------------------------------------------------------------------------


def test_dumps_exist_with_correct_sha256sums(built_project: Project, store_folder: Path,
                                             index: dict[str, dict[str, object]]) -> None:
    folder = dumps.dumps_folder(store_folder)
    expected = {"ketju.nq.gz", "ketju.ttl.gz"} | {
        f"{region}.{ext}.gz" for region in regions_with_data(built_project)
        for ext in ("nq", "ttl")}
    assert set(index) == expected
    sums = {}
    for line in (folder / dumps.SUMS).read_text("utf-8").splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    assert set(sums) == expected
    for name in expected:
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sums[name] == index[name]["sha256"], name
        assert len(data) == index[name]["bytes"], name
    manifest = json.loads((store_folder / "build.json").read_text("utf-8"))
    assert manifest["dumps"] == len(expected)


def test_dumps_are_single_gzip_members_with_a_fixed_header(store_folder: Path,
                                                           index: dict[str, object]) -> None:
    """One member each (readers that stop after the first member still get everything),
    modification time 0 (the same content gives the same bytes)."""
    for name in index:
        data = (dumps.dumps_folder(store_folder) / name).read_bytes()
        assert data[:4] == b"\x1f\x8b\x08\x00" and data[4:8] == b"\x00\x00\x00\x00", name
        decompressor = zlib.decompressobj(wbits=31)
        content = decompressor.decompress(data) + decompressor.flush()
        assert decompressor.eof and not decompressor.unused_data, name
        assert content == gzip.decompress(data), name


def test_whole_nquads_dump_holds_the_store(store_folder: Path, store: ox.Store,
                                           index: dict[str, dict[str, object]]) -> None:
    loaded = load_nquads(dumps.dumps_folder(store_folder) / "ketju.nq.gz")
    assert len(loaded) == len(store) == index["ketju.nq.gz"]["triples"]
    assert {g.value for g in loaded.named_graphs()} == {g.value for g in store.named_graphs()}
    graph = ox.NamedNode("https://w3id.org/ketju/graph/data/varsinais-suomi/lonkkamurtuma.ttl")
    assert set(loaded.quads_for_pattern(None, None, None, graph)) == \
        set(store.quads_for_pattern(None, None, None, graph))


def test_region_dumps_hold_exactly_their_graphs(built_project: Project, store_folder: Path,
                                                store: ox.Store,
                                                index: dict[str, dict[str, object]]) -> None:
    counts = dumps.graph_counts(store)
    for region, graphs in regions_with_data(built_project).items():
        loaded = load_nquads(dumps.dumps_folder(store_folder) / f"{region}.nq.gz")
        assert {g.value for g in loaded.named_graphs()} == graphs, region
        assert len(loaded) == sum(counts[g] for g in graphs) == \
            index[f"{region}.nq.gz"]["triples"], region
        assert index[f"{region}.nq.gz"]["region"] == region


def test_turtle_dumps_are_the_union_of_the_graphs(built_project: Project, store_folder: Path,
                                                  store: ox.Store) -> None:
    folder = dumps.dumps_folder(store_folder)
    whole = ox.Store()
    whole.load(gzip.decompress((folder / "ketju.ttl.gz").read_bytes()),
               format=ox.RdfFormat.TURTLE)
    assert len(whole) == distinct_triples(store)
    for region, graphs in regions_with_data(built_project).items():
        part = ox.Store()
        part.load(gzip.decompress((folder / f"{region}.ttl.gz").read_bytes()),
                  format=ox.RdfFormat.TURTLE)
        assert len(part) == distinct_triples(store, graphs), region
        assert not list(part.named_graphs())


def test_region_dumps_are_deterministic(built_project: Project, store_folder: Path,
                                        project_copy: Project) -> None:
    """Another build of the same sources gives the same bytes (the regions' data has no blank
    nodes), observation files included; only the whole-catalogue files, which hold the
    build's own graph with its time, may differ."""
    from ketju.infra.build import build

    again = dumps.load_index(build(project_copy).path)
    before = json.loads((dumps.dumps_folder(store_folder) / dumps.INDEX).read_text("utf-8"))
    regions = regions_with_data(built_project)
    assert any((built_project.data_dir / region / "observations").is_dir() for region in regions)
    for region in regions:
        for ext in ("nq", "ttl"):
            name = f"{region}.{ext}.gz"
            assert again[name]["sha256"] == before[name]["sha256"], name


def test_dumps_from_the_served_store_hold_the_same_statements(
        built_project: Project, store: ox.Store, store_folder: Path, tmp_path: Path) -> None:
    """Dumps written again from the on-disk store (another order) say the same, graph by graph."""
    dumps.write_dumps(built_project, store, tmp_path)
    region = next(r for r in regions_with_data(built_project)
                  if (built_project.data_dir / r / "observations").is_dir())
    again = load_nquads(tmp_path / f"{region}.nq.gz")
    before = load_nquads(dumps.dumps_folder(store_folder) / f"{region}.nq.gz")
    assert len(again) == len(before) > 0
    assert set(again) == set(before)


def test_joined_segments_make_one_gzip_stream(tmp_path: Path) -> None:
    parts = [b"", b"<a> <b> <c> .\n" * 1000, os.urandom(70_000), "ä".encode() * 5]
    segments = [dumps.compress_segment(part) for part in parts]
    size, digest = dumps.write_gzip(tmp_path / "x.gz", segments)
    data = (tmp_path / "x.gz").read_bytes()
    assert len(data) == size and hashlib.sha256(data).hexdigest() == digest
    assert zlib.decompress(data, wbits=31) == b"".join(parts)
    for a, b in [(b"", b"x"), (b"x", b""), (b"abc" * 999, os.urandom(12_345))]:
        assert dumps.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_a_changed_source_file_is_dumped_as_the_store_holds_it(
        project_copy: Project, tmp_path: Path) -> None:
    """The dumps are made from the source files, but a file that no longer gives what the store
    holds (edited during the build) is copied from the store."""
    from ketju.infra.build import build

    build(project_copy)
    folder = project_copy.store_link.resolve()
    source = project_copy.data_dir / "lappi"
    edited = sorted(source.glob("*.ttl"))[0]
    edited.write_text(edited.read_text("utf-8") + "\n<https://w3id.org/ketju/id/lappi/x/y> "
                      "<http://www.w3.org/2000/01/rdf-schema#label> \"extra\" .\n", "utf-8")
    store = ox.Store.read_only(str(folder))
    dumps.write_dumps(project_copy, store, tmp_path)
    loaded = load_nquads(tmp_path / "lappi.nq.gz")
    graph = ox.NamedNode(project_copy.source_file(edited).graph)
    assert set(loaded.quads_for_pattern(None, None, None, graph)) == \
        set(store.quads_for_pattern(None, None, None, graph))


# -- the statistics ------------------------------------------------------------------------------


def test_entities_counted_in_one_pass_are_those_the_queries_count(store: ox.Store) -> None:
    """The build counts types in one pass over the store; a remote store is asked in SPARQL:
    both give the same figures, observations included."""
    counted = catalog.store_type_counts(store)
    assert counted == catalog.query_type_counts(catalog.store_select(store))
    observation = ns.ONTOLOGY + "IndicatorObservation"
    assert counted.by_class[observation] > 100
    assert counted.entities > counted.by_class[observation]


def test_statistics_count_each_region(built_project: Project, store_folder: Path,
                                      store: ox.Store) -> None:
    stats = json.loads((store_folder / catalog.STATS_FILE).read_text("utf-8"))
    counts = dumps.graph_counts(store)
    assert stats["triples"] == len(store)
    for region, graphs in regions_with_data(built_project).items():
        facts = stats["regions"][region]
        assert facts["triples"] == sum(counts[g] for g in graphs), region
        assert facts["graphs"] == len(graphs)
        assert facts["entities"] > 0 and facts["classes"], region
        assert facts["modified_from"] == "build"  # the copied tree is not a git repository
    assert stats["regions"]["keski-suomi"]["names"]["fi"] == "Keski-Suomen hyvinvointialue"
    chains = stats["classes"]["https://w3id.org/ketju/ontology#ServiceChain"]
    assert chains == sum(f["classes"].get("https://w3id.org/ketju/ontology#ServiceChain", 0)
                         for f in stats["regions"].values())


def test_last_modification_comes_from_git(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (tmp_path / "data" / "lappi").mkdir(parents=True)
    (tmp_path / "data" / "lappi" / "a.ttl").write_text("# a\n", "utf-8")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
           "GIT_AUTHOR_DATE": "2025-03-04T05:06:07+02:00",
           "GIT_COMMITTER_DATE": "2025-03-04T05:06:07+02:00"}
    assert catalog.git_modified(tmp_path, ["data/lappi"]) is None  # not a repository
    for command in (["init", "-q"], ["add", "data"], ["commit", "-q", "-m", "data"]):
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True, env=env)
    assert catalog.git_modified(tmp_path, ["data/lappi"]) == \
        datetime(2025, 3, 4, 3, 6, 7, tzinfo=UTC)
    assert catalog.git_modified(tmp_path, ["data/pirkanmaa"]) is None  # no commits
    (tmp_path / "data" / "lappi" / "a.ttl").write_text("# changed\n", "utf-8")
    assert catalog.git_modified(tmp_path, ["data/lappi"]) is None  # uncommitted changes


# -- the description -----------------------------------------------------------------------------


def parsed(response: httpx.Response, syntax: str) -> Graph:
    assert response.status_code == 200, response.text
    graph = Graph()
    graph.parse(data=response.content, format=syntax)
    return graph


def one(graph: Graph, subject: URIRef, predicate: URIRef) -> object:
    values = list(graph.objects(subject, predicate))
    assert len(values) == 1, (subject, predicate, values)
    return values[0]


@pytest.mark.parametrize("path", DESCRIPTIONS)
@pytest.mark.parametrize("accept", list(RDF_FORMATS))
def test_description_in_every_format(server: Server, built_project: Project, store: ox.Store,
                                     path: str, accept: str) -> None:
    response = server.get(server.base + path, headers={"Accept": accept}, timeout=30)
    assert response.headers["content-type"].startswith(accept)
    graph = parsed(response, RDF_FORMATS[accept])
    base = server.base
    cat, whole = URIRef(base + "/catalog#catalog"), URIRef(base + "/catalog#ketju")
    service = URIRef(base + "/catalog#sparql")

    assert (cat, RDF.type, DCAT.Catalog) in graph
    for subject in (cat, whole):
        titles = {t.language for t in graph.objects(subject, DCTERMS.title)}
        assert titles == {"fi", "sv", "en"}, subject
        assert {d.language for d in graph.objects(subject, DCTERMS.description)} == titles
    publisher = one(graph, cat, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph
    assert Literal("ketju project", lang="en") in set(graph.objects(publisher, FOAF.name))
    assert one(graph, cat, DCTERMS.license) == URIRef(catalog.LICENSE)
    assert isinstance(one(graph, cat, DCTERMS.modified), Literal)
    assert (cat, DCAT.service, service) in graph

    assert (whole, RDF.type, DCAT.Dataset) in graph and (whole, RDF.type, VOID.Dataset) in graph
    assert (cat, DCAT.dataset, whole) in graph
    assert int(one(graph, whole, VOID.triples)) == len(store)  # type: ignore[call-overload]
    assert str(one(graph, whole, VOID.uriSpace)) == "https://w3id.org/ketju/id/"
    assert one(graph, whole, VOID.sparqlEndpoint) == URIRef(base + "/sparql")
    assert set(graph.objects(whole, VOID.dataDump)) == {
        URIRef(f"{base}/dumps/ketju.{ext}.gz") for ext in ("nq", "ttl")}
    assert URIRef(catalog.ns.ONTOLOGY) in set(graph.objects(whole, VOID.vocabulary))
    assert isinstance(one(graph, whole, DCTERMS.modified), Literal)

    counts = dumps.graph_counts(store)
    for region, graphs in regions_with_data(built_project).items():
        dataset = URIRef(f"{base}/catalog#region-{region}")
        assert (dataset, RDF.type, DCAT.Dataset) in graph, region
        assert (whole, VOID.subset, dataset) in graph and \
            (dataset, DCTERMS.isPartOf, whole) in graph, region
        assert (cat, DCAT.dataset, dataset) in graph
        assert int(one(graph, dataset, VOID.triples)) == \
            sum(counts[g] for g in graphs), region  # type: ignore[call-overload]
        assert set(graph.objects(dataset, VOID.dataDump)) == {
            URIRef(f"{base}/dumps/{region}.{ext}.gz") for ext in ("nq", "ttl")}
        assert list(graph.objects(dataset, DCTERMS.title))

    assert (service, RDF.type, DCAT.DataService) in graph
    assert one(graph, service, DCAT.endpointURL) == URIRef(base + "/sparql")
    assert one(graph, service, DCAT.endpointDescription) == URIRef(base + "/sparql")
    assert URIRef("https://www.w3.org/TR/sparql11-protocol/") in \
        set(graph.objects(service, DCTERMS.conformsTo))
    assert (service, DCAT.servesDataset, whole) in graph
    assert list(graph.objects(service, DCTERMS.title))


def test_distributions_download_with_the_described_bytes(server: Server) -> None:
    graph = parsed(server.get(server.base + "/catalog", timeout=30), "turtle")
    # The dumps (the observation data sets' CSV distributions: test_observations_api).
    distributions = {d for d in graph.subjects(RDF.type, DCAT.Distribution)
                     if "#dump-" in str(d)}
    assert len(distributions) >= 4
    spdx = {name: URIRef(SPDX + name) for name in ("checksum", "algorithm", "checksumValue")}
    for distribution in distributions:
        url = one(graph, distribution, DCAT.downloadURL)
        assert one(graph, distribution, DCAT.accessURL) == url
        assert one(graph, distribution, DCAT.compressFormat) == \
            URIRef("https://www.iana.org/assignments/media-types/application/gzip")
        assert str(one(graph, distribution, DCAT.mediaType)).endswith(
            ("/application/n-quads", "/text/turtle"))
        assert str(one(graph, distribution, DCTERMS["format"])).startswith(catalog.EU)
        checksum = one(graph, distribution, spdx["checksum"])
        assert one(graph, checksum, spdx["algorithm"]) == \
            URIRef(SPDX + "checksumAlgorithm_sha256")
        response = server.get(str(url), timeout=30)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "application/gzip"
        assert "attachment" in response.headers["content-disposition"]
        assert hashlib.sha256(response.content).hexdigest() == \
            str(one(graph, checksum, spdx["checksumValue"]))
        assert len(response.content) == int(one(graph, distribution, DCAT.byteSize))  # type: ignore[call-overload]


def test_description_for_browsers_and_caches(server: Server) -> None:
    page = server.get(server.base + "/catalog", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in page.text and "dcat:Catalog" in page.text
    anything = server.get(server.base + "/.well-known/void", headers={"Accept": "*/*"})
    assert anything.headers["content-type"].startswith("text/turtle")
    assert server.get(server.base + "/catalog?format=jsonld").headers[
        "content-type"].startswith("application/ld+json")
    assert server.get(server.base + "/catalog", headers={"Accept": "image/png"}).status_code == 406
    first = server.get(server.base + "/catalog")
    again = server.get(server.base + "/catalog", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_service_description_links_to_the_void(server: Server) -> None:
    graph = parsed(server.get(server.sparql, headers={"Accept": "text/turtle"}, timeout=30),
                   "turtle")
    assert URIRef(server.base + "/.well-known/void") in set(graph.objects(None, RDFS.seeAlso))


def test_home_page_links_to_the_catalog(server: Server) -> None:
    for lang in ("fi", "sv", "en"):
        home = server.get(server.base + "/", params={"lang": lang}, timeout=30)
        assert 'href="/catalog"' in home.text and 'href="/.well-known/void"' in home.text
        assert "DCAT-AP 3, VoID" in home.text


# -- serving the dumps -------------------------------------------------------------------------


def test_dump_listing_in_html_and_json(server: Server, index: dict[str, object]) -> None:
    page = server.get(server.base + "/dumps/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<caption>" in page.text and '<th scope="col">' in page.text
    for name in index:
        assert f'href="/dumps/{name}"' in page.text
    assert 'href="/dumps/SHA256SUMS"' in page.text
    for request in ({"headers": {"Accept": "application/json"}}, {"params": {"format": "json"}}):
        listing = server.get(server.base + "/dumps/", timeout=30, **request)  # type: ignore[arg-type]
        files = listing.json()["files"]
        assert {f["name"] for f in files} == set(index)
        assert all(f["url"] == f"{server.base}/dumps/{f['name']}" for f in files)


def test_dump_files_are_served_with_etags_and_only_when_listed(server: Server,
                                                               index: dict[str, dict[str, object]]
                                                               ) -> None:
    url = server.base + "/dumps/ketju.nq.gz"
    response = server.get(url, timeout=30)
    assert response.headers["etag"] == f'"{index["ketju.nq.gz"]["sha256"]}"'
    assert server.get(url, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    assert server.head(url).headers["content-length"] == str(index["ketju.nq.gz"]["bytes"])
    sums = server.get(server.base + "/dumps/SHA256SUMS")
    assert sums.status_code == 200 and "ketju.nq.gz" in sums.text
    for name in ("nope.nq.gz", "build.json", "..%2Fbuild.json", "dumps.json", "ketju.nq"):
        assert server.get(server.base + "/dumps/" + name).status_code == 404, name


@pytest.mark.slow
def test_remote_mode_describes_the_data_and_has_no_dumps(built_project: Project,
                                                         server_logs: Path,
                                                         store: ox.Store) -> None:
    with oxigraph_server(built_project.store_link.resolve(), server_logs) as oxigraph, \
            ketju_server(built_project.root, server_logs,
                         sparql_endpoint=oxigraph.base + "/query") as remote:
        graph = parsed(remote.get(remote.base + "/catalog", timeout=60), "turtle")
        whole = URIRef(remote.base + "/catalog#ketju")
        assert int(one(graph, whole, VOID.triples)) == len(store)  # type: ignore[call-overload]
        assert (URIRef(remote.base + "/catalog#region-lappi"), RDF.type, DCAT.Dataset) in graph
        assert not [d for d in graph.subjects(RDF.type, DCAT.Distribution)
                    if "#dump-" in str(d)]
        for path in ("/dumps/", "/dumps/ketju.nq.gz"):
            assert remote.get(remote.base + path).status_code == 503, path
