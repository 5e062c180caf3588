"""The CPSV-AP 3.2.0 feed: every service of the catalogue as a `cpsv:PublicService`.

The mapping is a handful of CONSTRUCT queries (below), each one pass over one kind of entity, so
its cost does not grow with per-service round trips: the whole national catalogue is read in
ten queries. Python only merges, orders and serialises their answers.

What the export holds, and why (the rules are those of the official SHACL shapes of CPSV-AP
3.2.0, `standards/cpsv-ap/cpsv-ap-SHACL.ttl`; every shape there is open, `sh:closed false`):

- `ketju:Service` -> `cpsv:PublicService` with exactly one `dct:identifier` (its IRI as a
  string), `dct:title` from `skos:prefLabel` and `dct:description`, each in every language the
  service has (only language-tagged texts: the shapes want `rdf:langString`), and
  `cv:hasCompetentAuthority` its `ketju:organiser`.
- Codes: `ketju:serviceClass` (JHS 183) -> `cv:thematicArea`; `ketju:sector` -> `cv:sector`;
  `ketju:serviceLevel` and `ketju:serviceTask` -> `cv:isClassifiedBy`; PTV target groups
  (`ketju:ptvTargetGroup` of the service, or of a customer segment it targets) ->
  `dct:audience`. Every code value is typed `skos:Concept` (with its labels, notation and
  scheme): the shapes check `sh:class skos:Concept`. (The concepts described are those these
  properties use anywhere in the catalogue, a few more than the services use: much cheaper.)
- PTV life events (`ketju:lifeEvent`) -> `cv:isGroupedBy`; the code is typed `cv:Event` and
  `cv:LifeEvent` (a `cv:LifeEvent` alone is not checked by the Event shape) with the identifier
  (its notation, e.g. "KE1") and title the Event shape requires, and `cv:hasRelatedService`.
- Channels (`cv:Channel`) with the one `dct:identifier` the shape requires and their
  `dct:type` (a ketju channel-type concept, typed `skos:Concept`).
- Legal resources (`cv:hasLegalResource`, Finlex ELI IRIs) typed `eli:LegalResource`.
- Organisers -> `cv:PublicOrganisation` with `skos:prefLabel` and `dct:spatial` (a
  `dct:Location`), both required by the shape.
- Packages and chains are ketju's own extension (CPSV-AP has no such notion): typed with ketju
  classes only (no shape targets them) and linked to their services with `dct:hasPart` (and
  `ketju:includesService`, `ketju:hasStep` / `ketju:service`). Their life cycle goes where the
  standards have a place for it: `adms:status` (as on a public service; the concept typed
  `skos:Concept`), `dct:replaces` / `dct:isReplacedBy`, and the validity as DCAT-AP's
  `dct:temporal` period (`dcat:startDate`, `dcat:endDate`) beside ketju's own
  `ketju:validFrom` / `ketju:validUntil`; the approving decision (`ketju:approvedBy`, a
  `prov:Activity` with its date, reference and deciding body) and the current state or target
  model (`ketju:modelState`, `ketju:targetModelOf`) are ketju's. Never the inverse
  `dct:isPartOf`: on a public service the shapes demand that it points to a `dcat:Dataset`.

Workarounds, stated honestly (both only where the data lacks what the shapes demand):

- A service without a language-tagged `dct:description` gets its names as descriptions (the
  shape requires at least one; no text is invented). The example data describes every service.
- An organiser without `dct:spatial` (a municipality or Kela at an interface) gets the area it
  works in: the region whose folder defines it (`vocab/region/{region}`), or Finland (the EU
  country authority `FIN`) for national organisations. For a municipality this is the
  wellbeing services county it lies in, a coarser area than its own; a region can state the
  organisation's own `dct:spatial` to replace it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox

from ketju.core.namespaces import (
    CPSV,
    DCT,
    EU_AUTHORITY,
    PREFIXES,
    SKOS,
    VOCAB,
    sparql_prefixes,
)
from ketju.core.namespaces import ELI as ELI_NS
from ketju.core.project import Project

if TYPE_CHECKING:
    from ketju.infra.snapshot import Snapshot

RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
ELI = ELI_NS
FINLAND = EU_AUTHORITY + "country/FIN"

#: Prefixes of the Turtle and RDF/XML serialisations.
FEED_PREFIXES = {name: PREFIXES[name] for name in (
    "cpsv", "cv", "dct", "skos", "adms", "org", "ketju", "rdf", "xsd", "dcat", "prov",
    "foaf")} | {"eli": ELI}

#: The precomputed feed files in a built store's folder, by format name (sparql.formats).
FEED_DIR = "feeds"
FEED_FILES = {"turtle": "cpsv-ap.ttl", "ntriples": "cpsv-ap.nt", "jsonld": "cpsv-ap.jsonld",
              "rdfxml": "cpsv-ap.rdf"}
OXIGRAPH_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                    "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}

_PREFIXES = sparql_prefixes(("ketju", "rdf", "skos", "dct", "cpsv", "cv", "adms", "org",
                             "dcat", "prov", "foaf")) + \
    f"PREFIX eli: <{ELI}>\n"

# In the queries below, a UNION branch that binds `?typed` (only that branch) emits the type
# and identifier triples, so they are made once per entity and not once per answer row. Every
# branch repeats the entity's own pattern: a nested group cannot see bindings from outside it.

SERVICES = """
CONSTRUCT {
  ?typed a cpsv:PublicService, ketju:Service ; dct:identifier ?id .
  ?s dct:title ?title ; dct:description ?description ; ketju:illustrative ?illustrative .
  ?s ?target ?value .
  ?s cv:hasLegalResource ?legal . ?legal a eli:LegalResource .
} WHERE {
  { ?s a ketju:Service BIND(?s AS ?typed) BIND(STR(?s) AS ?id) }
  UNION { ?s a ketju:Service ; skos:prefLabel ?title FILTER(LANG(?title) != "") }
  UNION { ?s a ketju:Service ; dct:description ?description FILTER(LANG(?description) != "") }
  UNION {
    # Workaround (module docstring): no description in any language -> the names.
    ?s a ketju:Service ; skos:prefLabel ?description FILTER(LANG(?description) != "")
    FILTER NOT EXISTS { ?s dct:description ?given FILTER(LANG(?given) != "") }
  }
  UNION { ?s a ketju:Service ; ketju:illustrative ?illustrative }
  UNION {
    VALUES (?source ?target) {
      (ketju:organiser cv:hasCompetentAuthority)
      (ketju:serviceClass cv:thematicArea)
      (ketju:sector cv:sector)
      (ketju:serviceLevel cv:isClassifiedBy)
      (ketju:serviceTask cv:isClassifiedBy)
      (cv:hasChannel cv:hasChannel)
      (ketju:ptvTargetGroup dct:audience)
      (ketju:lifeEvent cv:isGroupedBy)
    }
    ?s a ketju:Service ; ?source ?value .
  }
  UNION {
    ?s a ketju:Service ; ketju:targetSegment ?segment . ?segment ketju:ptvTargetGroup ?value .
    BIND(dct:audience AS ?target)
  }
  UNION { ?s a ketju:Service ; cv:hasLegalResource ?legal }
}"""

# The PTV identifier, when the data has one, as an ADMS identifier (dct:identifier stays the
# single IRI the shape allows). Its own query: the blank node must not be made for other rows.
PTV_IDENTIFIERS = """
CONSTRUCT {
  ?s adms:identifier _:ptv .
  _:ptv a adms:Identifier ; skos:notation ?code ;
    adms:schemaAgency "Suomi.fi-palvelutietovaranto (PTV)"@fi .
} WHERE { ?s a ketju:Service ; ketju:ptvServiceId ?code }"""

CONCEPTS = """
CONSTRUCT {
  ?concept a skos:Concept ; skos:prefLabel ?label ; skos:notation ?notation ;
    skos:inScheme ?scheme .
  ?scheme a skos:ConceptScheme ; skos:prefLabel ?schemeLabel .
} WHERE {
  {
    SELECT DISTINCT ?concept WHERE {
      # The values of these properties anywhere (also a segment's target group, a step's
      # level): a superset of the services' codes, 25 times cheaper than joining services.
      {
        VALUES ?p { ketju:serviceClass ketju:sector ketju:serviceLevel ketju:serviceTask
                    ketju:ptvTargetGroup ketju:lifeEvent }
        ?s ?p ?concept .
      }
      UNION { ?channel a cv:Channel ; dct:type ?concept }
      UNION { VALUES ?kind { ketju:ServicePackage ketju:ServiceChain }
              VALUES ?p { adms:status ketju:modelState }
              ?x a ?kind ; ?p ?concept }
    }
  }
  # OPTIONALs after the few concepts are index lookups (a UNION would scan every label).
  OPTIONAL { ?concept skos:prefLabel ?label FILTER(LANG(?label) != "") }
  OPTIONAL { ?concept skos:notation ?notation }
  OPTIONAL {
    ?concept skos:inScheme ?scheme .
    OPTIONAL { ?scheme skos:prefLabel ?schemeLabel FILTER(LANG(?schemeLabel) != "") }
  }
}"""

LIFE_EVENTS = """
CONSTRUCT {
  ?event a cv:Event, cv:LifeEvent ; dct:identifier ?id ; dct:title ?title ;
    cv:hasRelatedService ?s .
} WHERE {
  {
    SELECT ?event (MIN(STR(COALESCE(?notation, ?event))) AS ?id) WHERE {
      ?service a ketju:Service ; ketju:lifeEvent ?event .
      OPTIONAL { ?event skos:notation ?notation }
    } GROUP BY ?event
  }
  OPTIONAL { ?event skos:prefLabel ?title FILTER(LANG(?title) != "") }
  OPTIONAL { ?s ketju:lifeEvent ?event ; a ketju:Service }
}"""

ORGANISERS = f"""
CONSTRUCT {{
  ?org a cv:PublicOrganisation, org:Organization ; skos:prefLabel ?label ;
    dct:identifier ?code ; dct:spatial ?spatial .
  ?spatial a dct:Location ; skos:prefLabel ?place .
}} WHERE {{
  {{ SELECT DISTINCT ?org WHERE {{ ?x ketju:organiser|ketju:coOrganiser ?org }} }}
  OPTIONAL {{ ?org skos:prefLabel ?label FILTER(LANG(?label) != "") }}
  OPTIONAL {{ ?org dct:identifier ?code }}
  OPTIONAL {{ ?org dct:spatial ?own }}
  # Workaround (module docstring): no dct:spatial -> the region of the defining folder, or
  # Finland for national organisations and anything outside the regional namespaces.
  BIND(REPLACE(STR(?org), "^https://w3id[.]org/ketju/id/([a-z0-9-]+)/.*$", "$1") AS ?home)
  # (The last <FIN> is never reached; it tells the optimiser that ?spatial is always bound,
  # so the place names below are index lookups, not a scan of every label: 2 s -> 10 ms.)
  BIND(COALESCE(?own, IF(?home != "national" && ?home != STR(?org),
       IRI(CONCAT("{VOCAB}region/", ?home)), <{FINLAND}>),
       <{FINLAND}>) AS ?spatial)
  OPTIONAL {{ ?spatial skos:prefLabel ?place FILTER(LANG(?place) != "") }}
}}"""

CHANNELS = """
CONSTRUCT {
  ?typed a cv:Channel ; dct:identifier ?id ; dct:type ?type .
  ?channel skos:prefLabel ?label ; dct:description ?description .
} WHERE {
  { ?channel a cv:Channel BIND(?channel AS ?typed) BIND(STR(?channel) AS ?id)
    OPTIONAL { ?channel dct:type ?type } }
  UNION { ?channel a cv:Channel ; skos:prefLabel ?label FILTER(LANG(?label) != "") }
  UNION { ?channel a cv:Channel ; dct:description ?description
          FILTER(LANG(?description) != "") }
}"""

# ketju's extension: packages and chains, typed with ketju classes only, linked to services.
PACKAGES = """
CONSTRUCT {
  ?typed a ketju:ServicePackage ; dct:identifier ?id .
  ?x skos:prefLabel ?label ; dct:description ?description ; dct:hasPart ?part ; ?link ?value .
} WHERE {
  { ?x a ketju:ServicePackage BIND(?x AS ?typed) BIND(STR(?x) AS ?id) }
  UNION { ?x a ketju:ServicePackage ; skos:prefLabel ?label FILTER(LANG(?label) != "") }
  UNION { ?x a ketju:ServicePackage ; dct:description ?description
          FILTER(LANG(?description) != "") }
  UNION { ?x a ketju:ServicePackage ; ketju:includesService|ketju:hasSubPackage ?part }
  UNION {
    VALUES ?link { ketju:includesService ketju:hasSubPackage ketju:relatedPackage
                   ketju:organiser ketju:coOrganiser adms:status ketju:illustrative
                   dct:replaces dct:isReplacedBy ketju:validFrom ketju:validUntil
                   ketju:approvedBy ketju:modelState ketju:targetModelOf }
    ?x a ketju:ServicePackage ; ?link ?value .
  }
}"""

CHAINS = """
CONSTRUCT {
  ?typed a ?class ; dct:identifier ?id .
  ?x skos:prefLabel ?label ; dct:description ?description ; dct:hasPart ?part ; ?link ?value .
  ?step a ketju:ChainStep ; ketju:position ?position ; ketju:service ?part .
} WHERE {
  { ?x a ketju:ServiceChain BIND(?x AS ?typed) BIND(STR(?x) AS ?id)
    BIND(ketju:ServiceChain AS ?class) }
  UNION { ?x a ketju:CareAndRehabilitationChain
          BIND(?x AS ?typed) BIND(ketju:CareAndRehabilitationChain AS ?class) }
  UNION { ?x a ketju:ServiceChain ; skos:prefLabel ?label FILTER(LANG(?label) != "") }
  UNION { ?x a ketju:ServiceChain ; dct:description ?description
          FILTER(LANG(?description) != "") }
  UNION {
    VALUES ?link { ketju:partOfPackage ketju:organiser ketju:hasStep adms:status
                   ketju:illustrative dct:replaces dct:isReplacedBy ketju:validFrom
                   ketju:validUntil ketju:approvedBy ketju:modelState ketju:targetModelOf }
    ?x a ketju:ServiceChain ; ?link ?value .
  }
  UNION {
    # One row per step: its position and service (the order of the chain's services), and
    # the chain's direct link to the service. The rest of a step is on the chain's own page.
    ?x a ketju:ServiceChain ; ketju:hasStep ?step .
    ?step ketju:position ?position ; ketju:service ?part .
  }
}"""

# The life cycle of packages and chains (docs/MODELLING.md): their validity also as DCAT-AP's
# dct:temporal, a dct:PeriodOfTime with dcat:startDate and dcat:endDate (one period per
# description: its own query, so that the blank node is made once), and the approving decisions
# with their deciding bodies. Status and successor (adms:status, dct:replaces, dct:isReplacedBy)
# go with the other links above. The period is named `{description}#validity`, not a blank
# node, so that the export is the same triples every time it is made.
VALIDITY = """
CONSTRUCT {
  ?x dct:temporal ?period . ?period a dct:PeriodOfTime ; dcat:startDate ?from ;
    dcat:endDate ?until .
} WHERE {
  { SELECT DISTINCT ?x WHERE {
      VALUES ?kind { ketju:ServicePackage ketju:ServiceChain }
      VALUES ?p { ketju:validFrom ketju:validUntil }
      ?x a ?kind ; ?p ?day } }
  BIND(IRI(CONCAT(STR(?x), "#validity")) AS ?period)
  OPTIONAL { ?x ketju:validFrom ?from }
  OPTIONAL { ?x ketju:validUntil ?until }
}"""

DECISIONS = """
CONSTRUCT {
  ?decision a ketju:Decision, prov:Activity ; skos:prefLabel ?label ; dct:date ?date ;
    dct:identifier ?reference ; foaf:page ?page ; prov:wasAssociatedWith ?body .
  ?body a org:Organization ; skos:prefLabel ?bodyLabel .
} WHERE {
  { SELECT DISTINCT ?decision WHERE { ?x ketju:approvedBy ?decision } }
  OPTIONAL { ?decision skos:prefLabel ?label FILTER(LANG(?label) != "") }
  OPTIONAL { ?decision dct:date ?date }
  OPTIONAL { ?decision dct:identifier ?reference }
  OPTIONAL { ?decision foaf:page ?page }
  OPTIONAL {
    ?decision prov:wasAssociatedWith ?body .
    OPTIONAL { ?body skos:prefLabel ?bodyLabel FILTER(LANG(?bodyLabel) != "") }
  }
}"""

#: The mapping, in the order the queries run.
QUERIES: dict[str, str] = {
    "services": SERVICES, "ptv-identifiers": PTV_IDENTIFIERS, "concepts": CONCEPTS,
    "life-events": LIFE_EVENTS, "organisers": ORGANISERS, "channels": CHANNELS,
    "packages": PACKAGES, "chains": CHAINS, "validity": VALIDITY, "decisions": DECISIONS,
}

#: Finland as a place, for organisations without an area of their own (see ORGANISERS).
FINLAND_TRIPLES = [
    ox.Triple(ox.NamedNode(FINLAND), RDF_TYPE, ox.NamedNode(DCT + "Location")),
    *(ox.Triple(ox.NamedNode(FINLAND), ox.NamedNode(SKOS + "prefLabel"),
                ox.Literal(name, language=lang))
      for lang, name in (("fi", "Suomi"), ("sv", "Finland"), ("en", "Finland"))),
]


class Constructs(Protocol):
    """What the mapping reads from: a `Catalogue` (embedded or remote) or a `StoreReader`."""

    def construct(self, query: str, bindings: Mapping[str, Any] | None = None
                  ) -> list[ox.Triple]: ...


class StoreReader:
    """A `pyoxigraph.Store` (e.g. the one being built) read with the union default graph."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def construct(self, query: str, bindings: Mapping[str, Any] | None = None
                  ) -> list[ox.Triple]:
        """Run a CONSTRUCT over the union of all graphs (bindings are not used here)."""
        result = self.store.query(query, use_default_graph_as_union=True)
        assert isinstance(result, ox.QueryTriples)
        return list(result)


def cpsv_graph(catalogue: Constructs) -> list[ox.Triple]:
    """The CPSV-AP export of the catalogue: distinct triples, in a stable order.

    The mapping's CONSTRUCT queries are this module's own (`QUERIES`), not files of queries/,
    since every file there becomes a paged `/api/queries/` answer.
    """
    triples: set[ox.Triple] = set()
    for query in QUERIES.values():
        triples.update(catalogue.construct(_PREFIXES + query))
    finland = ox.NamedNode(FINLAND)
    if any(t.object == finland for t in triples):
        triples.update(FINLAND_TRIPLES)
    # N-Triples order: subjects and their predicates together (readable Turtle), stable.
    return sorted(triples, key=str)


def public_services(triples: Iterable[ox.Triple]) -> int:
    """How many `cpsv:PublicService`s the export holds."""
    service = ox.NamedNode(CPSV + "PublicService")
    return sum(1 for t in triples if t.predicate == RDF_TYPE and t.object == service)


def serialize(triples: list[ox.Triple], fmt: str, output: Path | None = None) -> bytes | None:
    """The export in one format (`turtle`, `ntriples`, `jsonld`, `rdfxml`), as bytes or to a
    file."""
    extra: dict[str, Any] = {"prefixes": FEED_PREFIXES} if fmt in ("turtle", "rdfxml") else {}
    if output is None:
        return ox.serialize(triples, format=OXIGRAPH_FORMATS[fmt], **extra)
    ox.serialize(triples, str(output), format=OXIGRAPH_FORMATS[fmt], **extra)
    return None


def feed_file(store_folder: Path, fmt: str) -> Path:
    """Where the build put the export in one format."""
    return store_folder / FEED_DIR / FEED_FILES[fmt]


def precomputed(snapshot: Snapshot, fmt: str) -> Path | None:
    """The build's file of the export, when the snapshot's build has one (none in remote
    mode)."""
    if snapshot.files is None:
        return None
    return snapshot.files.file(FEED_DIR, FEED_FILES[fmt])


def export_bytes(snapshot: Snapshot, fmt: str) -> bytes:
    """The export in one format: the build's file if there is one, else computed now."""
    path = precomputed(snapshot, fmt)
    if path is not None:
        return path.read_bytes()
    body = serialize(cpsv_graph(snapshot.data), fmt)
    assert body is not None
    return body


def build_step(project: Project, store: ox.Store, folder: Path) -> dict[str, Any]:
    """Run by `ketju build` on the new store before the swap: write the export in every format
    to `{store}/feeds/`, so the feed and `ketju export` serve files; facts for the manifest."""
    started = time.monotonic()
    triples = cpsv_graph(StoreReader(store))
    (folder / FEED_DIR).mkdir(parents=True, exist_ok=True)
    for fmt in FEED_FILES:
        target = feed_file(folder, fmt)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        serialize(triples, fmt, partial)
        os.replace(partial, target)
    return {"cpsv_ap_services": public_services(triples), "cpsv_ap_triples": len(triples),
            "cpsv_ap_seconds": round(time.monotonic() - started, 3)}
