"""JSON-LD that is RDF (issue 12): every API answer that is JSON-LD, expanded with pyld (PyLD,
a JSON-LD processor nobody here wrote) and turned into triples, says only what the store says
about the catalogue, and says all the store says about the entity it describes.

- The routes are those of the OpenAPI document: every GET under /api whose answer is
  `application/ld+json` or carries an `@context`; their path parameters are filled from the
  real data in data/, every entity of each kind (a table here says how; a new JSON-LD route
  without an entry fails).
- pyld's document loader is this test server: the published context is fetched from
  `/api/context.jsonld` as a client would, and nothing comes from the internet.
- Every triple whose subject is a catalogue IRI must be in the store (asked through `/sparql`,
  the union of the graphs), except the answer's own links to this server (`page`, `api`); the
  described entity's statements in the store must all be in the answer.
- No property or type expands to a relative IRI or one on this server's host (the complaint
  of the issue: `@type: ServiceChain` became `http://host/api/chains/.../ServiceChain`).
- Named queries (every one, with its declared examples) as JSON-LD: a CONSTRUCT's page gives
  exactly its triples (all of the store's answer when the page holds it all); a SELECT's page
  gives rs:ResultSolution rows whose values are the store's terms (IRI, datatype, language)
  and read as the JSON answer's rows. A comparison and a similar-chains list name chains of
  the store, each with its score (ketju:similarity).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from pyld import jsonld

from ketju.core.namespaces import FOAF, ID, ONTOLOGY, RDF_TYPE, VOCAB
from ketju.core.project import Project
from ketju.core.queries import NamedQuery, example_values, load_queries
from ketju.infra.sparql.analysis import analyse
from ketju.infra.store import EmbeddedCatalogue
from ketju.web.api import LISTED, plain
from tests.conftest import ROOT
from tests.servers import InProcessServer

HYDRA = "http://www.w3.org/ns/hydra/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
SIMILARITY = ONTOLOGY + "similarity"
COMPARED = ONTOLOGY + "comparedChain"
PS_CHAIN = f"{ID}pohjois-savo/chain/lonkkamurtuma"
JHS = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/"
VS_CHAIN = f"{ID}varsinais-suomi/chain/lonkkamurtuma"
#: Properties by which an answer links to this server's pages and API URLs (not the store's).
ANSWER_LINKS = {FOAF + "page", SEE_ALSO}
#: How many filters of observations are asked (regions spread over those with data).
SAMPLE = 2


@pytest.fixture(scope="module")
def server(app_server: InProcessServer) -> InProcessServer:
    return app_server


# -- the real data ----------------------------------------------------------------------------


@cache
def data_triples() -> list[ox.Triple]:
    """Every triple of the Turtle files in data/."""
    return [ox.Triple(q.subject, q.predicate, q.object)  # type: ignore[arg-type]
            for path in sorted((ROOT / "data").rglob("*.ttl"))
            for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]


def spread(values: list[str], count: int = SAMPLE) -> list[str]:
    """`count` of the sorted values, first and last among them."""
    ordered = sorted(set(values))
    if len(ordered) <= count:
        return ordered
    return [ordered[round(i * (len(ordered) - 1) / (count - 1))] for i in range(count)]


def kind_paths(kind_iri: str, segment: str) -> list[str]:
    """`{region}/{slug}` of every entity of a kind in data/ (a few hundred: pyld expands
    them in seconds)."""
    iris = {t.subject.value for t in data_triples() if t.predicate.value == RDF_TYPE
            and t.object == ox.NamedNode(kind_iri) and t.subject.value.startswith(ID)}
    assert VS_CHAIN in iris or kind_iri != ONTOLOGY + "ServiceChain"
    return [iri.removeprefix(ID).replace(f"/{segment}/", "/", 1) for iri in sorted(iris)]


def region_slugs() -> list[str]:
    return sorted(p.name for p in (ROOT / "data").iterdir()
                  if p.is_dir() and p.name != "national")


def class_codes() -> list[str]:
    """The JHS 183 classes the data uses."""
    return sorted({t.object.value.removeprefix(JHS) for t in data_triples()
                   if t.predicate.value == ONTOLOGY + "serviceClass"
                   and t.object.value.startswith(JHS)})


def observation_filters() -> list[dict[str, str]]:
    regions = [p.parent.parent.name for p in (ROOT / "data").glob("*/observations/*.csv")]
    return [{"region": r, "format": "jsonld", "limit": "5", "offset": "5"}
            for r in spread(regions)]


@cache
def named_queries() -> dict[str, NamedQuery]:
    return load_queries(ROOT / "queries")


def named_asks(query: NamedQuery) -> Asks:
    """A named query with its declared examples, as JSON-LD: the first page (up to 500 rows,
    the whole answer of most) and, for a long answer, a later one."""
    params = {**example_values(query), "format": "jsonld"}
    return [(f"/api/queries/{query.name}", {**params, "limit": "500"}),
            (f"/api/queries/{query.name}", {**params, "limit": "3", "offset": "3"})]


def chain_paths(count: int = 3) -> list[str]:
    return spread(kind_paths(ONTOLOGY + "ServiceChain", "chain"), count)


#: What to ask of each JSON-LD route: its URLs, paths and query parameters (from data/).
Asks = list[tuple[str, dict[str, Any]]]
ROUTES: dict[str, Callable[[], Asks]] = {
    "/api/context.jsonld": lambda: [("/api/context.jsonld", {})],
    "/api/regions": lambda: [("/api/regions", {}), ("/api/regions", {"limit": "5",
                                                                     "offset": "5"})],
    "/api/regions/{slug}": lambda: [(f"/api/regions/{s}", {}) for s in region_slugs()],
    "/api/service-classes": lambda: [("/api/service-classes", {"broader": JHS + "P5"})],
    "/api/service-classes/{code}": lambda: [(f"/api/service-classes/{c}", {})
                                            for c in class_codes()],
    "/api/observations": lambda: [("/api/observations", f) for f in observation_filters()],
    "/api/search": lambda: [("/api/search", {"q": "lonkk", "limit": "5", "offset": "5"}),
                            ("/api/search", {"q": "palvelu", "lang": "sv", "limit": "50"}),
                            ("/api/search", {"q": "kainuu", "limit": "50"})],
    **{f"/api/{kind.api}": (lambda kind=kind: [
        (f"/api/{kind.api}", {"limit": "7"}),
        (f"/api/{kind.api}", {"region": "varsinais-suomi", "limit": "2", "offset": "2"})])
       for kind in LISTED.values()},
    **{f"/api/{kind.api}/{{region}}/{{slug}}": (lambda kind=kind: [
        (f"/api/{kind.api}/{path}", {}) for path in kind_paths(kind.iri, str(kind.segment))])
       for kind in LISTED.values()},
    **{f"/api/queries/{name}": (lambda query=query: named_asks(query))
       for name, query in named_queries().items()},
    "/api/compare": lambda: [
        ("/api/compare", {"chains": f"{VS_CHAIN},{PS_CHAIN}", "lang": "sv"}),
        ("/api/compare", {"chains": ",".join(chain_paths()), "lang": "en"}),
        ("/api/compare", {"chains": "varsinais-suomi/lonkkamurtuma,"
                                    "varsinais-suomi/lonkkamurtuma"})],
    "/api/chains/{region}/{slug}/similar": lambda: [
        (f"/api/chains/{path}/similar", {"limit": "5"}) for path in chain_paths()],
}


def jsonld_routes(spec: dict[str, Any]) -> set[str]:
    """The OpenAPI document's GET routes under /api whose answer is JSON-LD."""
    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in schema:
            return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    found = set()
    for path, item in spec["paths"].items():
        if not path.startswith("/api/") or "get" not in item:
            continue
        content = item["get"]["responses"].get("200", {}).get("content", {})
        if "application/ld+json" in content or any(
                "@context" in resolve(media.get("schema", {})).get("properties", {})
                for media in content.values()):
            found.add(path)
    return found


def test_every_jsonld_route_is_checked(server: InProcessServer) -> None:
    spec = server.get(server.base + "/openapi.json").json()
    assert jsonld_routes(spec) == set(ROUTES)


# -- expansion with pyld ----------------------------------------------------------------------


def loader(server: InProcessServer) -> Callable[..., dict[str, Any]]:
    """pyld's document loader: this server only (the published context), never the network."""
    def load(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if not url.startswith(server.base + "/"):
            raise jsonld.JsonLdError(f"Offline: {url} is not on the test server.",
                                     "jsonld.LoadDocumentError",
                                     code="loading document failed")
        response = server.get(url, headers={"Accept": "application/ld+json"})
        assert response.status_code == 200, url
        return {"contentType": response.headers["content-type"].split(";")[0],
                "contextUrl": None, "documentUrl": url, "document": response.json()}
    return load


def answer_triples(server: InProcessServer, url: str,
                   document: dict[str, Any]) -> set[ox.Triple]:
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "base": url,
                                      "documentLoader": loader(server)})
    return {ox.Triple(q.subject, q.predicate, q.object)  # type: ignore[arg-type]
            for q in ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS)}


def store_triples(server: InProcessServer, subjects: set[str]) -> set[ox.Triple]:
    """The store's statements of `subjects`, in the union of its graphs, through /sparql."""
    found: set[ox.Triple] = set()
    ordered = sorted(subjects)
    for start in range(0, len(ordered), 200):
        values = " ".join(f"<{s}>" for s in ordered[start:start + 200])
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}"
        response = server.get(server.base + "/sparql", params={"query": query},
                              headers={"Accept": "application/n-triples"})
        assert response.status_code == 200, response.text
        found.update(ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES))  # type: ignore[arg-type]
    return found


def blank_free(triple: ox.Triple) -> tuple[Any, ...]:
    """The triple with a blank object as a wildcard (blank node labels are not kept)."""
    return (triple.subject, triple.predicate,
            None if isinstance(triple.object, ox.BlankNode) else triple.object)


def asks() -> list[tuple[str, str, dict[str, str]]]:
    return [(route, path, params) for route, make in sorted(ROUTES.items())
            for path, params in make()]


@pytest.mark.parametrize(("route", "path", "params"), asks(),
                         ids=lambda v: v if isinstance(v, str) else "&".join(
                             f"{k}={w}" for k, w in v.items()) or "-")
def test_answer_is_the_stores_rdf(server: InProcessServer, built_project: Project,
                                  route: str, path: str, params: dict[str, Any]) -> None:
    response = server.get(server.base + path, params=params,
                          headers={"Accept": "application/ld+json"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] in (
        "application/ld+json", "application/json")
    document = response.json()
    url = str(response.url)
    triples = answer_triples(server, url, document)
    if route == "/api/context.jsonld":
        assert triples == set(), "a context says nothing by itself"
        return
    assert triples, path
    here = server.base + "/"
    host = urlsplit(server.base).netloc

    # No property or type is relative or on this server.
    for triple in triples:
        terms = [triple.predicate] + ([triple.object] if triple.predicate.value == RDF_TYPE
                                      else [])
        for term in terms:
            assert term.value.startswith(("http://", "https://", "urn:")), triple
            assert host not in term.value, f"{term.value} is on the answer's host"

    if route.startswith("/api/queries/"):
        check_named(server, built_project, route.removeprefix("/api/queries/"), path, params,
                    document, triples)
        return
    if route in ("/api/compare", "/api/chains/{region}/{slug}/similar"):
        check_comparison(server, document, triples)
        return

    catalogue = {t for t in triples if isinstance(t.subject, ox.NamedNode)
                 and not t.subject.value.startswith(here)}
    about = {t.subject.value for t in catalogue}
    store = store_triples(server, about)
    said = {t for t in catalogue
            if not (t.predicate.value in ANSWER_LINKS and t.object.value.startswith(here))}
    missing = {blank_free(t) for t in said} - {blank_free(t) for t in store}
    assert not missing, sorted(map(str, missing))[:10]

    if "items" in document:
        # A page of a hydra:Collection: its members, true total and the page's view.
        collection = ox.NamedNode(document["@id"])
        members = {t.object for t in triples
                   if t.subject == collection and t.predicate.value == HYDRA + "member"}
        assert members == {ox.NamedNode(item["@id"]) for item in document["items"]}
        assert ox.Triple(collection, ox.NamedNode(RDF_TYPE),
                         ox.NamedNode(HYDRA + "Collection")) in triples
        assert ox.Triple(collection, ox.NamedNode(HYDRA + "totalItems"),
                         ox.Literal(str(document["total"]), datatype=ox.NamedNode(
                             "http://www.w3.org/2001/XMLSchema#integer"))) in triples
        view = ox.NamedNode(document["view"]["@id"])
        assert ox.Triple(collection, ox.NamedNode(HYDRA + "view"), view) in triples
        links = {t.predicate.value.removeprefix(HYDRA): t.object.value for t in triples
                 if t.subject == view and isinstance(t.object, ox.NamedNode)}
        assert {"first", "last"} <= set(links)
        assert ("previous" in links) == (document["offset"] > 0)
        assert ("next" in links) == (document["offset"] + document["limit"]
                                     < document["total"])
        limit = {t.object.value for t in triples
                 if t.subject == view and t.predicate.value == HYDRA + "limit"}
        assert limit == {str(document["limit"])}
        # Every member given a type has it as a class (its store's: checked above); the lists
        # of resources type every member (a search hit only when its kind is a kind of the
        # registry or a plain SKOS concept).
        typed = {t.subject for t in catalogue if t.predicate.value == RDF_TYPE}
        assert {ox.NamedNode(i["@id"]) for i in document["items"] if "@type" in i} <= typed
        if route != "/api/search":
            assert members <= typed
    else:
        # One entity: all the store says of it (and of the steps and hand-overs it embeds)
        # is in the answer.
        entity = document["@id"]
        described = {entity} | {s for s in about if s.startswith(entity + "/")}
        own = {t for t in store if t.subject.value in described}
        assert own
        absent = {blank_free(t) for t in own} - {blank_free(t) for t in triples}
        assert not absent, sorted(map(str, absent))[:10]


# -- named queries, comparisons --------------------------------------------------------------


ANSWERS: dict[tuple[str, str], list[Any]] = {}


def embedded_answer(project: Project, name: str) -> list[Any]:
    """A named query's whole answer with its declared examples, from the built store read
    directly (not through the API): CONSTRUCT triples or SELECT rows of terms."""
    key = (str(project.store_link), name)
    if key not in ANSWERS:
        query = named_queries()[name]
        store = EmbeddedCatalogue.open(project)
        bindings = query.bindings(example_values(query))
        ANSWERS[key] = (list(store.construct(query.body, bindings))
                        if analyse(query.body).form == "CONSTRUCT"
                        else list(store.select(query.body, bindings)))
    return ANSWERS[key]


def collection_of(document: dict[str, Any], triples: set[ox.Triple]) -> set[ox.Term]:
    """The members of the answer's collection (hydra:member), checked to be one."""
    collection = ox.NamedNode(document["@id"])
    assert ox.Triple(collection, ox.NamedNode(RDF_TYPE),
                     ox.NamedNode(HYDRA + "Collection")) in triples
    assert ox.Triple(collection, ox.NamedNode(HYDRA + "totalItems"), ox.Literal(
        str(document["total"]), datatype=ox.NamedNode(XSD + "integer"))) in triples
    return {t.object for t in triples
            if t.subject == collection and t.predicate.value == HYDRA + "member"}


def check_named(server: InProcessServer, project: Project, name: str, path: str,
                params: dict[str, Any], document: dict[str, Any],
                triples: set[ox.Triple]) -> None:
    """A named query's JSON-LD page says exactly its rows: a CONSTRUCT's triples, a SELECT's
    solutions with each value the store's term (IRI, datatype, language)."""
    whole = embedded_answer(project, name)
    limit, offset = int(params["limit"]), int(params.get("offset", 0))
    size = len(whole[offset:offset + limit])
    assert document["total"] == len(whole)
    members = collection_of(document, triples)
    here = server.base + "/"
    # The JSON answer's page: the same rows, in the same order.
    as_json = server.get(server.base + path, params={**params, "format": "json"}).json()
    assert len(as_json["items"]) == size

    def loose(value: Any) -> Any:  # blank node labels are not kept by pyld
        return None if isinstance(value, str) and value.startswith("_:") else value

    if analyse(named_queries()[name].body).form == "CONSTRUCT":
        said = {blank_free(t) for t in triples if not (isinstance(t.subject, ox.NamedNode)
                                                       and t.subject.value.startswith(here))}
        everything = {blank_free(t) for t in whole}
        # Only the store's answer, and on a page that holds it all, all of it.
        assert said <= everything, sorted(map(str, said - everything))[:5]
        if size == len(whole):
            assert said == everything, name
        assert {tuple(loose(plain(v)) if v is not None else None for v in t) for t in said} \
            == {(loose(r["subject"]), r["predicate"], loose(r["object"]))
                for r in as_json["items"]}
        assert {m for m in members if isinstance(m, ox.NamedNode)} == {
            t[0] for t in said if isinstance(t[0], ox.NamedNode)}
        return
    collection = ox.NamedNode(document["@id"])
    assert ox.Triple(collection, ox.NamedNode(RDF_TYPE),
                     ox.NamedNode(RS + "ResultSet")) in triples
    variables = {t.object.value for t in triples if t.subject == collection
                 and t.predicate.value == RS + "resultVariable"}
    assert variables == {v for row in whole for v in row}
    by_subject: dict[ox.Term, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)

    def one(subject: ox.Term, predicate: str) -> ox.Term:
        [found] = [t.object for t in by_subject[subject] if t.predicate.value == predicate]
        return found

    read: dict[int, dict[str, ox.Term]] = {}
    for member in members:
        bindings = [t.object for t in by_subject[member] if t.predicate.value == RS + "binding"]
        read[int(one(member, RS + "index").value)] = {
            one(b, RS + "variable").value: one(b, RS + "value") for b in bindings}
    assert sorted(read) == list(range(offset + 1, offset + size + 1))
    rows = [read[i] for i in sorted(read)]

    def key(row: dict[str, Any]) -> str:
        return repr(sorted((k, None if isinstance(v, ox.BlankNode) else str(v))
                           for k, v in row.items()))

    # Values and kinds of term as the store has them (IRI, datatype, language) ...
    everything_rows = {key(row) for row in whole}
    assert {key(row) for row in rows} <= everything_rows, name
    if size == len(whole):
        assert sorted(map(key, rows)) == sorted(map(key, whole)), name
    # ... and the same rows as the JSON answer's, in its order.
    assert [{k: loose(plain(v)) for k, v in row.items()} for row in rows] == [
        {k: loose(v) for k, v in row.items()} for row in as_json["items"]]


def check_comparison(server: InProcessServer, document: dict[str, Any],
                     triples: set[ox.Triple]) -> None:
    """A comparison or similar-chains answer names chains of the store, each with its score
    (ketju:similarity, an xsd:double) as the JSON says it."""
    double = ox.NamedNode(XSD + "double")
    chains_in_store = {t.subject.value for t in store_triples(
        server, {o.value for t in triples if t.predicate.value == COMPARED
                 for o in [t.object]}) if t.predicate.value == RDF_TYPE
        and t.object.value == ONTOLOGY + "ServiceChain"}
    named = {t.object.value for t in triples if t.predicate.value == COMPARED}
    assert named and named <= chains_in_store
    top = ox.NamedNode(document["@id"])
    if "items" in document:
        # Similar chains: a hydra:Collection about one chain; each member a chain and score.
        assert ox.Triple(top, ox.NamedNode(COMPARED), ox.NamedNode(document["chain"])) \
            in triples
        members = collection_of(document, triples)
        read = {}
        for member in members:
            [chain] = [t.object.value for t in triples
                       if t.subject == member and t.predicate.value == COMPARED]
            [score] = [t.object for t in triples
                       if t.subject == member and t.predicate.value == SIMILARITY]
            assert score.datatype == double  # type: ignore[union-attr]
            read[chain] = float(score.value)
        assert read == {i["chain"]: i["score"] for i in document["items"]}
        return
    # A comparison: its chains, and each pair of chains with its score.
    assert ox.Triple(top, ox.NamedNode(RDF_TYPE),
                     ox.NamedNode(ONTOLOGY + "ChainComparison")) in triples
    assert {t.object.value for t in triples if t.subject == top
            and t.predicate.value == COMPARED} == {c["iri"] for c in document["chains"]}
    pairs = [t.object for t in triples if t.subject == top
             and t.predicate.value == ONTOLOGY + "pairComparison"]
    read = []
    for pair in pairs:
        chains = sorted(t.object.value for t in triples
                        if t.subject == pair and t.predicate.value == COMPARED)
        [score] = [t.object for t in triples
                   if t.subject == pair and t.predicate.value == SIMILARITY]
        assert score.datatype == double  # type: ignore[union-attr]
        read.append((chains, float(score.value)))
    assert sorted(read) == sorted((sorted({p["a"]["iri"], p["b"]["iri"]}), p["score"])
                                  for p in document["pairs"])


@pytest.mark.parametrize("path", ["/api/chains?limit=2", "/api/regions?limit=2",
                                  "/api/service-classes?limit=2",
                                  "/api/search?q=lonkk&limit=2",
                                  "/api/chains/varsinais-suomi/lonkkamurtuma/similar?limit=2",
                                  "/api/compare?chains=varsinais-suomi/lonkkamurtuma,"
                                  "pohjois-savo/lonkkamurtuma"])
def test_a_list_asked_as_jsonld_is_answered_as_jsonld(server: InProcessServer,
                                                      path: str) -> None:
    asked = server.get(server.base + path, headers={"Accept": "application/ld+json"})
    plain_json = server.get(server.base + path, headers={"Accept": "application/json"})
    default = server.get(server.base + path)
    assert asked.headers["content-type"].startswith("application/ld+json")
    assert plain_json.headers["content-type"].startswith("application/json")
    assert default.headers["content-type"].startswith("application/json")
    assert asked.json() == plain_json.json()
    assert all("Accept" in r.headers["vary"] for r in (asked, plain_json, default))


def test_named_query_negotiates_jsonld(server: InProcessServer) -> None:
    url = server.base + "/api/queries/chains"
    assert server.get(url).headers["content-type"].startswith("application/json")
    asked = server.get(url, headers={"Accept": "application/ld+json"})
    assert asked.headers["content-type"].startswith("application/ld+json")
    assert "ResultSet" in asked.json()["@type"]
    by_name = server.get(url, params={"format": "json-ld"})
    assert by_name.headers["content-type"].startswith("application/ld+json")
    assert by_name.json()["items"] == asked.json()["items"]
    # A format the route cannot match falls back to Accept; CSV is unchanged.
    fallback = server.get(url, params={"format": "n3"},
                          headers={"Accept": "application/ld+json"})
    assert fallback.headers["content-type"].startswith("application/ld+json")
    assert server.get(url, params={"format": "csv"}).headers["content-type"].startswith(
        "text/csv")


# -- the published context --------------------------------------------------------------------


def test_context_is_served_and_maps_every_key(server: InProcessServer) -> None:
    response = server.get(server.base + "/api/context.jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    again = server.get(server.base + "/api/context.jsonld",
                       headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    context = response.json()["@context"]
    assert context["@vocab"] == ONTOLOGY
    assert context["Collection"]["@id"] == HYDRA + "Collection"
    assert context["items"]["@id"] == HYDRA + "member"
    assert context["total"]["@id"] == HYDRA + "totalItems"
    # An item links to its context the JSON-LD way too.
    item = server.get(server.base + "/api/chains/varsinais-suomi/lonkkamurtuma")
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in item.headers["link"]


def test_types_expand_to_the_ontologys_classes(server: InProcessServer) -> None:
    url = server.base + "/api/chains/varsinais-suomi/lonkkamurtuma"
    triples = answer_triples(server, url, server.get(url).json())
    types = {t.object.value for t in triples if t.predicate.value == RDF_TYPE}
    assert {ONTOLOGY + "ServiceChain", ONTOLOGY + "ChainStep", ONTOLOGY + "Transition"} <= types


def test_plain_json_clients_keep_their_keys(server: InProcessServer) -> None:
    body = server.get(server.base + "/api/chains", params={"limit": 2, "offset": 2}).json()
    assert {"total", "limit", "offset", "items"} <= set(body)
    assert (body["limit"], body["offset"], len(body["items"])) == (2, 2, 2)
    assert body["view"]["previous"].endswith("offset=0")
    assert body["view"]["next"].endswith("offset=4")
    assert "offset" not in body["@id"] and "limit" not in body["@id"]
    assert all({"@id", "label", "page", "api", "region"} <= set(i) for i in body["items"])


def test_regions_vocabulary_iris(server: InProcessServer) -> None:
    body = server.get(server.base + "/api/regions").json()
    assert all(item["@id"].startswith(VOCAB + "region/") for item in body["items"])


def test_data_gives_every_route_something_to_ask() -> None:
    assert all(make() for make in ROUTES.values())
    assert Path(ROOT / "data").is_dir()


def test_an_ontology_property_may_not_take_a_list_term() -> None:
    # `items`, `total`, `next`... are the lists' (Hydra) terms: an ontology property of that
    # local name would silently change what every list answer means.
    from ketju.infra.jsonld import context

    with pytest.raises(ValueError, match="next"):
        context([(ONTOLOGY + "next", "object", None)])
    assert context([(ONTOLOGY + "hasStep", "object", None)])["@context"]["hasStep"] == {
        "@id": ONTOLOGY + "hasStep", "@type": "@id"}


@pytest.mark.parametrize("path", ["/api/chains?limit=2&offset=2", "/api/regions?limit=3",
                                  "/api/search?q=lonkk&limit=3",
                                  "/api/observations?region=varsinais-suomi&format=jsonld"
                                  "&limit=2"])
def test_rdflib_reads_a_list_as_a_hydra_collection(server: InProcessServer, path: str) -> None:
    # A second JSON-LD processor (rdflib's, fetching the context through urllib from this
    # server) agrees: members, and limit/offset said of the page, not of the collection.
    from rdflib import Graph, URIRef

    response = server.get(server.base + path)
    body = response.json()
    graph = Graph().parse(data=response.text, format="json-ld", base=str(response.url))
    collection = URIRef(body["@id"])
    assert {str(o) for o in graph.objects(collection, URIRef(HYDRA + "member"))} == {
        i["@id"] for i in body["items"]}
    assert [(str(s), o.toPython()) for s, o in graph.subject_objects(URIRef(HYDRA + "limit"))] \
        == [(body["view"]["@id"], body["limit"])]
