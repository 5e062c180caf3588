"""The dataset description: DCAT-AP 3 and VoID for the catalogue, its regions, its dumps and its
SPARQL endpoint, served at `/catalog` and `/.well-known/void`.

`build_step` (run by `ketju build` on the new store) counts what the store holds and saves it as
`catalog.json` in the store folder: triples per named graph, per region (the graphs of the files
in `data/{region}/`) and in all, entities per class in the IRI space `https://w3id.org/ketju/id/`,
the regions' names and areas, and when each region last changed (the latest git commit touching
`data/{region}` when the project is a git repository and that folder has no uncommitted
changes; otherwise the build time). The dumps step runs after it and writes `dumps.json`.

`catalog_triples(stats, base_url, build_info)` turns those statistics (with the dumps' index
under `stats["dumps"]`) into RDF, with every URL under the server's public base:

- a `dcat:Catalog` (`/catalog#catalog`) with title, description, publisher, licence, languages,
  coverage, theme taxonomy, modification time, its datasets and its data service;
- the whole catalogue as a `dcat:Dataset` and `void:Dataset` (`/catalog#ketju`) with
  `void:triples`, `void:entities`, class partitions, `void:uriSpace`, `void:sparqlEndpoint`,
  `void:dataDump`, `void:vocabulary` and a `dcat:Distribution` per dump (URLs, media type,
  format, compression, size and SHA-256 checksum);
- one dataset per region with data (`/catalog#region-{region}`), a `void:subset` of the whole
  (`dct:isPartOf` it), with its own counts and dumps;
- each region's indicator observations (`…/{region}/dataset/observations`, the RDF Data Cube
  data set its CSV contributions become) as a `qb:DataSet` and `dcat:Dataset`, part of the
  region's dataset, with one CSV `dcat:Distribution`: the region's observations as one
  contribution file (`/api/observations/{region}.csv`), `dct:conformsTo` the CSV on the Web
  metadata document that describes its columns (`/api/observations/csv-metadata.json`);
- the SPARQL endpoint as a `dcat:DataService` (`/catalog#sparql`) with `dcat:endpointURL`, its
  service description as `dcat:endpointDescription`, `dct:conformsTo` the SPARQL 1.1 Protocol
  and `dcat:servesDataset` every dataset.

Where DCAT-AP 3 makes a property mandatory it is given (catalogue: title, description,
publisher; dataset: title, description; distribution: access URL; data service: title,
endpoint URL; agent: name; checksum: algorithm, value), and the values of properties whose
range DCAT-AP constrains (licence, language, location, media type, format, standard, theme,
checksum algorithm) are typed accordingly.

Licence. The catalogue metadata and the dumps are offered under CC BY 4.0. The example data
in `data/` are illustrative (`ketju:illustrative true`), modelled on public guidance; they are
not official descriptions of any region, and the dataset descriptions say so.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.namespaces import DCAT, DCT, FOAF, PROV, QB, RDF, RDFS, SKOS, VOID, XSD
from ketju.core.project import Project
from ketju.infra.feeds import dumps

STATS_FILE = dumps.CATALOG_STATS

SPDX = ns.SPDX
EU = ns.EU_AUTHORITY
IANA = "https://www.iana.org/assignments/media-types/"

#: Licence of the catalogue metadata and the dumps (see the module docstring).
LICENSE = "http://creativecommons.org/licenses/by/4.0/"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
SPARQL_QUERY = "https://www.w3.org/TR/sparql11-query/"
URI_SPACE = ns.ID
LANGUAGES = {"fi": EU + "language/FIN", "sv": EU + "language/SWE", "en": EU + "language/ENG"}
FINLAND = EU + "country/FIN"
PUBLIC = EU + "access-right/PUBLIC"
THEME_SCHEME = EU + "data-theme"
THEMES = {EU + "data-theme/HEAL": "Health", EU + "data-theme/SOCI": "Population and society"}
#: Per dump format: IANA media type, EU file type, W3C format IRI (for void:feature).
FORMATS = {
    "nquads": ("application/n-quads", EU + "file-type/RDF_N_QUADS",
               "http://www.w3.org/ns/formats/N-Quads"),
    "turtle": ("text/turtle", EU + "file-type/RDF_TURTLE", "http://www.w3.org/ns/formats/Turtle"),
}
GZIP = IANA + "application/gzip"
CSV_MEDIA = IANA + "text/csv"
CSV_FILE_TYPE = EU + "file-type/CSV"
#: Where the server publishes a region's observations and the CSVW document of their columns.
OBSERVATIONS_CSV = "/api/observations/{region}.csv"
CSVW_METADATA = "/api/observations/csv-metadata.json"
#: Vocabularies the data uses (void:vocabulary), as their namespace IRIs.
VOCABULARIES = tuple(iri for name, iri in ns.PREFIXES.items()
                     if name not in ("rdf", "rdfs", "xsd", "owl", "void", "dcat", "foaf"))
#: Graphs whose types are not descriptions: the build's own and the materialised superclasses.
DERIVED_GRAPHS = (ns.BUILD_GRAPH, ns.INFERRED_GRAPH)

Texts = dict[str, str]

CATALOGUE_TITLE: Texts = {
    "fi": "ketju – sosiaali- ja terveyspalvelujen palvelukokonaisuudet ja palveluketjut",
    "sv": "ketju – servicehelheter och servicekedjor inom social- och hälsovården",
    "en": "ketju – social and health service packages and service chains",
}
CATALOGUE_DESCRIPTION: Texts = {
    "fi": "Linkitetyn datan luettelo hyvinvointialueiden sosiaali- ja terveyspalvelujen "
          "palvelukokonaisuuksista ja palveluketjuista: koko luettelo ja alueittaiset "
          "aineistot, SPARQL-rajapinta ja ladattavat tiedostot.",
    "sv": "En katalog i form av länkade data över välfärdsområdenas servicehelheter och "
          "servicekedjor inom social- och hälsovården: hela katalogen och materialet per "
          "område, ett SPARQL-gränssnitt och nedladdningsbara filer.",
    "en": "A linked-data catalogue of the social and health service packages and service "
          "chains of Finnish wellbeing services counties: the whole catalogue and each "
          "region's data, a SPARQL endpoint and downloadable dumps.",
}
DATASET_TITLE: Texts = {
    "fi": "ketju: koko luettelo",
    "sv": "ketju: hela katalogen",
    "en": "ketju: the whole catalogue",
}
DATASET_DESCRIPTION: Texts = {
    "fi": "Hyvinvointialueiden palvelukokonaisuudet, palveluketjut, palvelut, tuottajat, "
          "yhdyspinnat, tavoitteet ja mittarit sekä ketju-ontologia, sanastot ja SHACL-muodot; "
          "yksi nimetty graafi lähdetiedostoa kohden. Esimerkkiaineisto on havainnollistava: "
          "se ei ole minkään alueen virallinen kuvaus.",
    "sv": "Välfärdsområdenas servicehelheter, servicekedjor, tjänster, producenter, "
          "gränssnitt, mål och indikatorer samt ketju-ontologin, vokabulärerna och "
          "SHACL-formerna; en namngiven graf per källfil. Exempeldata är illustrativa: de är "
          "inte officiella beskrivningar av något område.",
    "en": "The service packages, service chains, services, producers, interfaces, goals and "
          "indicators of wellbeing services counties, with the ketju ontology, vocabularies "
          "and SHACL shapes; one named graph per source file. The example data are "
          "illustrative: they are not official descriptions of any region.",
}
REGION_DESCRIPTION: Texts = {
    "fi": "{name}: palvelukokonaisuudet, palveluketjut ja muut kuvaukset kansion "
          "data/{region}/ tiedostoista (havainnollistava esimerkkiaineisto).",
    "sv": "{name}: servicehelheter, servicekedjor och andra beskrivningar i filerna i mappen "
          "data/{region}/ (illustrativa exempeldata).",
    "en": "{name}: the service packages, service chains and other descriptions in the files "
          "of data/{region}/ (illustrative example data).",
}
NATIONAL_NAMES: Texts = {
    "fi": "Kansalliset määrittelyt", "sv": "Nationella definitioner",
    "en": "National definitions",
}
OBSERVATIONS_TITLE: Texts = {
    "fi": "{name}: mittarihavainnot", "sv": "{name}: mätarobservationer",
    "en": "{name}: indicator observations",
}
OBSERVATIONS_DESCRIPTION: Texts = {
    "fi": "{name}: mittareiden kootut arvot ajanjaksoittain (RDF Data Cube -havainnot "
          "kansion data/{region}/observations/ CSV-tiedostoista; {count} havaintoa).",
    "sv": "{name}: indikatorernas aggregerade värden per period (RDF Data Cube-observationer "
          "från CSV-filerna i mappen data/{region}/observations/; {count} observationer).",
    "en": "{name}: the indicators' aggregate values by period (RDF Data Cube observations "
          "from the CSV files of data/{region}/observations/; {count} observations).",
}
OBSERVATIONS_CSV_TITLE: Texts = {
    "fi": "Havainnot CSV-tiedostona (sarakkeet kuten tiedoston lähetyksessä)",
    "sv": "Observationerna som CSV-fil (kolumnerna som i ett bidrag)",
    "en": "The observations as a CSV file (the columns of a contribution)",
}
PUBLISHER_NAME: Texts = {"fi": "ketju-projekti", "sv": "ketju-projektet", "en": "ketju project"}
SERVICE_TITLE: Texts = {
    "fi": "ketju SPARQL-rajapinta", "sv": "ketju SPARQL-gränssnitt",
    "en": "ketju SPARQL endpoint",
}
SERVICE_DESCRIPTION: Texts = {
    "fi": "SPARQL 1.1 -kyselyt koko luetteloon, vain luku. Oletusgraafi on kaikkien "
          "graafien yhdiste (yksi graafi lähdetiedostoa kohden).",
    "sv": "SPARQL 1.1-frågor mot hela katalogen, endast läsning. Standardgrafen är unionen "
          "av alla grafer (en graf per källfil).",
    "en": "Read-only SPARQL 1.1 queries over the whole catalogue. The default graph is the "
          "union of all graphs (one graph per source file).",
}
KEYWORDS: dict[str, tuple[str, ...]] = {
    "fi": ("palvelukokonaisuus", "palveluketju", "sosiaali- ja terveyspalvelut",
           "hyvinvointialue"),
    "sv": ("servicehelhet", "servicekedja", "social- och hälsovård", "välfärdsområde"),
    "en": ("service package", "service chain", "social and health services",
           "wellbeing services county"),
}
DUMP_DESCRIPTION: dict[str, Texts] = {
    "nquads": {
        "fi": "N-Quads, gzip-pakattu: jokainen graafi nimineen (yksi lähdetiedostoa kohden).",
        "sv": "N-Quads, gzip-komprimerad: varje graf med sitt namn (en per källfil).",
        "en": "N-Quads, gzip-compressed: every graph with its name (one per source file).",
    },
    "turtle": {
        "fi": "Turtle, gzip-pakattu: graafien yhdiste (kuten SPARQL-oletusgraafi).",
        "sv": "Turtle, gzip-komprimerad: unionen av graferna (som SPARQL-standardgrafen).",
        "en": "Turtle, gzip-compressed: the union of the graphs (as the SPARQL default graph).",
    },
}

Select = Callable[[str], list[dict[str, Any]]]

_CLASS_COUNTS = f"""
SELECT ?region ?class (COUNT(DISTINCT ?e) AS ?n) WHERE {{
  GRAPH ?g {{ ?e a ?class }}
  FILTER(isIRI(?e) && isIRI(?class) && STRSTARTS(STR(?e), "{ns.ID}")
         && ?g NOT IN ({", ".join(f"<{g}>" for g in DERIVED_GRAPHS)}))
  BIND(IF(STRSTARTS(STR(?g), "{ns.GRAPH}data/"),
          STRBEFORE(STRAFTER(STR(?g), "{ns.GRAPH}data/"), "/"), "") AS ?region)
}} GROUP BY ?region ?class"""
_ENTITY_COUNTS = f"""
SELECT ?region (COUNT(DISTINCT ?e) AS ?n) WHERE {{
  GRAPH ?g {{ ?e a ?class }}
  FILTER(isIRI(?e) && STRSTARTS(STR(?e), "{ns.ID}")
         && ?g NOT IN ({", ".join(f"<{g}>" for g in DERIVED_GRAPHS)}))
  BIND(IF(STRSTARTS(STR(?g), "{ns.GRAPH}data/"),
          STRBEFORE(STRAFTER(STR(?g), "{ns.GRAPH}data/"), "/"), "") AS ?region)
}} GROUP BY ?region"""
_ALL_ENTITIES = _ENTITY_COUNTS.replace("SELECT ?region", "SELECT").replace(
    "GROUP BY ?region", "")
_ALL_CLASSES = _CLASS_COUNTS.replace("SELECT ?region ?class", "SELECT ?class").replace(
    "GROUP BY ?region ?class", "GROUP BY ?class")
_ORGANISERS = f"""
SELECT ?organiser ?label ?area WHERE {{
  ?organiser a <{ns.ONTOLOGY}Organiser> .
  OPTIONAL {{ ?organiser <{SKOS}prefLabel> ?label }}
  OPTIONAL {{ ?organiser <{DCT}spatial> ?area FILTER(isIRI(?area)) }}
}}"""
_OBSERVATION_SETS = f"""
SELECT ?dataset (COUNT(?observation) AS ?n) WHERE {{
  ?dataset a <{QB}DataSet> FILTER(STRSTARTS(STR(?dataset), "{ns.ID}"))
  OPTIONAL {{ ?observation <{QB}dataSet> ?dataset }}
}} GROUP BY ?dataset"""
_BUILD_TIME = f"""
SELECT ?time WHERE {{ GRAPH <{ns.BUILD_GRAPH}> {{
  <{ns.BASE}build> <{PROV}endedAtTime> ?time }} }} LIMIT 1"""


# -- statistics ---------------------------------------------------------------------------------


def store_select(store: ox.Store) -> Select:
    """SELECT over a pyoxigraph store with the union of its graphs as default graph."""

    def select(query: str) -> list[dict[str, Any]]:
        solutions = store.query(query, use_default_graph_as_union=True)
        assert isinstance(solutions, ox.QuerySolutions)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names if s[n] is not None} for s in solutions]

    return select


def _git(root: Path, *args: str) -> str | None:
    """Output of a read-only git command in `root`, or None when it fails."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
            timeout=20, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def git_modified(root: Path, paths: list[str]) -> datetime | None:
    """Time of the latest commit touching `paths` (relative to `root`), in UTC; None when
    `root` is not in a git repository, the paths have no commits, or they have uncommitted
    changes (then the data served is newer than any commit)."""
    status = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *paths)
    if status is None or status.strip():
        return None
    out = (_git(root, "log", "-1", "--format=%cI", "--", *paths) or "").strip()
    if not out:
        return None
    try:
        return datetime.fromisoformat(out).astimezone(UTC)
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class TypeCounts:
    """Distinct entities (IRIs under the catalogue's base) by class and by region (the region
    of the graph that types them, "" outside data/), leaving out the build's derived graphs."""

    by_region_class: dict[tuple[str, str], int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    by_class: dict[str, int] = field(default_factory=dict)
    entities: int = 0


def query_type_counts(select: Select) -> TypeCounts:
    """TypeCounts asked of any SPARQL store."""
    entities = select(_ALL_ENTITIES)
    return TypeCounts(
        {(r["region"].value, r["class"].value): int(r["n"].value)
         for r in select(_CLASS_COUNTS)},
        {r["region"].value: int(r["n"].value) for r in select(_ENTITY_COUNTS)},
        {r["class"].value: int(r["n"].value) for r in select(_ALL_CLASSES)},
        int(entities[0]["n"].value) if entities else 0)


def store_type_counts(store: ox.Store) -> TypeCounts:
    """TypeCounts of a pyoxigraph store in one pass over its rdf:type statements: the four
    COUNT(DISTINCT) queries took 9 s at 1M triples with 300,000 observations, this 0.5 s."""
    derived = {ox.NamedNode(g) for g in DERIVED_GRAPHS}
    region_of: dict[ox.NamedNode, str] = {}
    by_region_class: dict[tuple[str, str], set[str]] = {}
    by_region: dict[str, set[str]] = {}
    by_class: dict[str, set[str]] = {}
    for quad in store.quads_for_pattern(None, ox.NamedNode(ns.RDF_TYPE), None, None):
        entity, cls, graph = quad.subject, quad.object, quad.graph_name
        if not isinstance(graph, ox.NamedNode) or graph in derived or \
                not isinstance(entity, ox.NamedNode) or not isinstance(cls, ox.NamedNode) or \
                not entity.value.startswith(ns.ID):
            continue
        if (region := region_of.get(graph)) is None:
            region = region_of[graph] = dumps.region_of_graph(graph.value) or ""
        by_region_class.setdefault((region, cls.value), set()).add(entity.value)
        by_region.setdefault(region, set()).add(entity.value)
        by_class.setdefault(cls.value, set()).add(entity.value)
    return TypeCounts({key: len(v) for key, v in by_region_class.items()},
                      {key: len(v) for key, v in by_region.items()},
                      {key: len(v) for key, v in by_class.items()},
                      len(set().union(*by_class.values())) if by_class else 0)


def collect_stats(select: Select, graph_triples: Mapping[str, int], total: int,
                  built_at: str, root: Path | None = None,
                  types: TypeCounts | None = None) -> dict[str, Any]:
    """The statistics the description is made of (see the module docstring).

    `select` runs SPARQL over the union of the graphs; `graph_triples` gives the quads of each
    named graph and `total` those of the whole store; `root`, when given, is the project folder
    whose git history dates the regions; `types`, when given, the entities by class (else
    asked with `select`)."""
    regions: dict[str, dict[str, Any]] = {}
    for graph, count in sorted(graph_triples.items()):
        region = dumps.region_of_graph(graph)
        if region is None:
            continue
        facts = regions.setdefault(region, {"triples": 0, "graphs": 0, "entities": 0,
                                            "classes": {}})
        facts["triples"] += count
        facts["graphs"] += 1
    counted = types or query_type_counts(select)
    for (region, cls), n in counted.by_region_class.items():
        if region in regions:
            regions[region]["classes"][cls] = n
    for region, n in counted.by_region.items():
        if region in regions:
            regions[region]["entities"] = n
    names: dict[str, Texts] = {}
    areas: dict[str, str] = {}
    for row in select(_ORGANISERS):
        organiser = row["organiser"].value
        if "label" in row and row["label"].language:
            names.setdefault(organiser, {})[row["label"].language] = row["label"].value
        if "area" in row:
            areas[organiser] = row["area"].value
    for region, facts in regions.items():
        organiser = ns.organiser_iri(region)
        facts["names"] = dict(sorted(names.get(organiser, {}).items())) or (
            dict(NATIONAL_NAMES) if region == "national" else {"fi": region})
        facts["spatial"] = areas.get(organiser, FINLAND if region == "national" else None)
        changed = git_modified(root, [f"data/{region}"]) if root is not None else None
        facts["modified"] = _iso(changed) if changed else built_at
        facts["modified_from"] = "git" if changed else "build"
    for row in select(_OBSERVATION_SETS):
        dataset = row["dataset"].value
        region = dataset.removeprefix(ns.ID).split("/", 1)[0]
        if region in regions:
            regions[region].setdefault("observation_sets", {})[dataset] = int(row["n"].value)
    changed = git_modified(root, ["ontology", "shapes", "data"]) if root is not None else None
    return {
        "built_at": built_at,
        "modified": _iso(changed) if changed else built_at,
        "modified_from": "git" if changed else "build",
        "triples": total,
        "graphs": len(graph_triples),
        "entities": counted.entities,
        "classes": dict(sorted(counted.by_class.items())),
        "graph_triples": dict(sorted(graph_triples.items())),
        "regions": dict(sorted(regions.items())),
    }


def store_stats(project: Project, store: ox.Store) -> dict[str, Any]:
    """The statistics of a store being built from `project`."""
    select = store_select(store)
    rows = select(_BUILD_TIME)
    built_at = rows[0]["time"].value if rows else _iso(datetime.now(UTC))
    counts = dumps.graph_counts(store)
    return collect_stats(select, counts, len(store), built_at, project.root,
                         store_type_counts(store))


def build_step(project: Project, store: ox.Store, folder: Path) -> dict[str, Any]:
    """Run by `ketju build` on the new store before the swap; returns facts for the manifest."""
    stats = store_stats(project, store)
    (folder / STATS_FILE).write_text(json.dumps(stats, indent=2, ensure_ascii=False),
                                     encoding="utf-8")
    return {"datasets": 1 + len(stats["regions"])}


def load_stats(store_folder: Path) -> dict[str, Any] | None:
    """The statistics saved with a built store, with its dumps under "dumps"; None when the
    store was built without them."""
    try:
        stats = json.loads((store_folder / STATS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stats, dict):
        return None
    stats["dumps"] = dumps.load_index(store_folder)
    return stats


# -- RDF ------------------------------------------------------------------------------------------


class _Graph:
    """A list of triples, built with short calls."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, subject: str, predicate: str, value: ox.NamedNode | ox.Literal | str) -> None:
        term = ox.NamedNode(value) if isinstance(value, str) else value
        self.triples.append(ox.Triple(ox.NamedNode(subject), ox.NamedNode(predicate), term))

    def type(self, subject: str, *classes: str) -> None:
        for cls in classes:
            self.add(subject, RDF + "type", cls)

    def texts(self, subject: str, predicate: str, texts: Mapping[str, str]) -> None:
        for language, text in texts.items():
            self.add(subject, predicate, ox.Literal(text, language=language))

    def grouped(self) -> list[ox.Triple]:
        """The distinct triples, each subject's together and within it each predicate's (in
        order of first mention), so that serialisers write every resource once."""
        unique = list(dict.fromkeys(self.triples))
        first: dict[Any, int] = {}
        for triple in unique:
            first.setdefault(triple.subject, len(first))
            first.setdefault((triple.subject, triple.predicate), len(first))
        return sorted(unique, key=lambda t: (first[t.subject], first[(t.subject, t.predicate)]))


def _typed(value: object, datatype: str) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + datatype))


def _time(value: str | None) -> ox.Literal | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return _typed(_iso(moment), "dateTime")


def _common(graph: _Graph, subject: str, publisher: str) -> None:
    """What the datasets and the data service share: publisher, licence, rights, languages."""
    graph.add(subject, DCT + "publisher", publisher)
    graph.add(subject, DCT + "license", LICENSE)
    graph.add(subject, DCT + "accessRights", PUBLIC)
    for language in LANGUAGES.values():
        graph.add(subject, DCT + "language", language)


def _partitions(graph: _Graph, dataset: str, classes: Mapping[str, int]) -> None:
    for index, (cls, count) in enumerate(sorted(classes.items())):
        partition = f"{dataset}-class-{index + 1}"
        graph.add(dataset, VOID + "classPartition", partition)
        graph.add(partition, VOID + "class", cls)
        graph.add(partition, VOID + "entities", _typed(count, "integer"))


def _distributions(graph: _Graph, dataset: str, doc: str, base: str, modified: str | None,
                   files: Mapping[str, Mapping[str, Any]]) -> None:
    for name, facts in sorted(files.items()):
        fmt = FORMATS.get(str(facts.get("format")))
        if fmt is None:
            continue
        media_type, file_type, _ = fmt
        url = f"{base}/dumps/{name}"
        distribution = f"{doc}#dump-{name}"
        checksum = f"{doc}#sha256-{name}"
        graph.add(dataset, DCAT + "distribution", distribution)
        graph.add(dataset, VOID + "dataDump", url)
        graph.type(distribution, DCAT + "Distribution")
        graph.add(distribution, DCT + "title", ox.Literal(name))
        graph.texts(distribution, DCT + "description", DUMP_DESCRIPTION[str(facts["format"])])
        graph.add(distribution, DCAT + "accessURL", url)
        graph.add(distribution, DCAT + "downloadURL", url)
        graph.add(distribution, DCAT + "mediaType", IANA + media_type)
        graph.add(distribution, DCAT + "compressFormat", GZIP)
        graph.add(distribution, DCT + "format", file_type)
        graph.type(IANA + media_type, DCT + "MediaType")
        graph.type(file_type, DCT + "MediaTypeOrExtent")
        graph.add(distribution, DCAT + "byteSize", _typed(int(facts["bytes"]),
                                                          "nonNegativeInteger"))
        graph.add(distribution, DCT + "license", LICENSE)
        if (when := _time(modified)) is not None:
            graph.add(distribution, DCT + "modified", when)
        graph.add(distribution, SPDX + "checksum", checksum)
        graph.type(checksum, SPDX + "Checksum")
        graph.add(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        graph.add(checksum, SPDX + "checksumValue", _typed(facts["sha256"], "hexBinary"))
    if files:
        graph.type(GZIP, DCT + "MediaType")
        graph.type(SPDX + "checksumAlgorithm_sha256", SPDX + "ChecksumAlgorithm")


def _void(graph: _Graph, dataset: str, base: str, facts: Mapping[str, Any],
          uri_space: str) -> None:
    """The VoID statistics and access points of one dataset."""
    graph.add(dataset, VOID + "triples", _typed(int(facts.get("triples", 0)), "integer"))
    graph.add(dataset, VOID + "entities", _typed(int(facts.get("entities", 0)), "integer"))
    graph.add(dataset, VOID + "uriSpace", ox.Literal(uri_space))
    graph.add(dataset, VOID + "sparqlEndpoint", f"{base}/sparql")
    _partitions(graph, dataset, facts.get("classes", {}))


@dataclass(frozen=True)
class _Names:
    """The IRIs of the description, made from the base URL it is served from."""

    base: str
    doc: str
    catalog: str
    publisher: str
    whole: str
    service: str
    regions: dict[str, str]

    @classmethod
    def of(cls, base_url: str, regions: Iterable[str]) -> _Names:
        base = base_url.rstrip("/")
        doc = f"{base}/catalog"
        return cls(base, doc, f"{doc}#catalog", f"{doc}#publisher", f"{doc}#ketju",
                   f"{doc}#sparql", {region: f"{doc}#region-{region}" for region in regions})


def catalog_triples(stats: Mapping[str, Any], base_url: str,
                    build_info: Mapping[str, Any]) -> list[ox.Triple]:
    """DCAT-AP 3 and VoID for the catalogue described by `stats` (from `build_step` or
    `collect_stats`, with the dumps' index under "dumps"), served from `base_url`."""
    built_at = build_info.get("built_at") or stats.get("built_at")
    files: Mapping[str, Mapping[str, Any]] = stats.get("dumps") or {}
    regions: Mapping[str, Mapping[str, Any]] = stats.get("regions") or {}
    names = _Names.of(base_url, regions)
    g = _Graph()
    _catalogue(g, names, built_at)
    _whole_dataset(g, names, stats, build_info, built_at, files)
    for region, facts in regions.items():
        _region_dataset(g, names, region, facts, built_at, files)
        _observation_sets(g, names, region, facts)
    _data_service(g, names)
    _value_types(g, names.base)
    return g.grouped()


def _catalogue(g: _Graph, names: _Names, built_at: str | None) -> None:
    """The description document (VoID), the catalogue (DCAT) and its publisher."""
    doc, catalog, publisher = names.doc, names.catalog, names.publisher
    g.type(doc, VOID + "DatasetDescription")
    g.add(doc, FOAF + "primaryTopic", names.whole)
    g.texts(doc, DCT + "title", DATASET_TITLE)
    g.type(catalog, DCAT + "Catalog")
    g.texts(catalog, DCT + "title", CATALOGUE_TITLE)
    g.texts(catalog, DCT + "description", CATALOGUE_DESCRIPTION)
    g.add(catalog, DCT + "publisher", publisher)
    g.add(catalog, DCT + "license", LICENSE)
    g.add(catalog, FOAF + "homepage", f"{names.base}/")
    g.add(catalog, DCT + "spatial", FINLAND)
    g.add(catalog, DCAT + "themeTaxonomy", THEME_SCHEME)
    for language in LANGUAGES.values():
        g.add(catalog, DCT + "language", language)
    if (when := _time(built_at)) is not None:
        g.add(catalog, DCT + "modified", when)
    for dataset in (names.whole, *names.regions.values()):
        g.add(catalog, DCAT + "dataset", dataset)
    g.add(catalog, DCAT + "service", names.service)
    g.type(publisher, FOAF + "Agent")
    g.texts(publisher, FOAF + "name", PUBLISHER_NAME)


def _whole_dataset(g: _Graph, names: _Names, stats: Mapping[str, Any],
                   build_info: Mapping[str, Any], built_at: str | None,
                   files: Mapping[str, Mapping[str, Any]]) -> None:
    """The whole catalogue as one dataset, with its statistics and whole-catalogue dumps."""
    whole = names.whole
    g.type(whole, DCAT + "Dataset", VOID + "Dataset")
    g.texts(whole, DCT + "title", DATASET_TITLE)
    g.texts(whole, DCT + "description", DATASET_DESCRIPTION)
    _common(g, whole, names.publisher)
    g.add(whole, DCT + "spatial", FINLAND)
    g.add(whole, DCAT + "landingPage", f"{names.base}/")
    for theme in THEMES:
        g.add(whole, DCAT + "theme", theme)
    for language, words in KEYWORDS.items():
        for word in words:
            g.add(whole, DCAT + "keyword", ox.Literal(word, language=language))
    if (when := _time(stats.get("modified") or built_at)) is not None:
        g.add(whole, DCT + "modified", when)
    if build_info.get("commit"):
        g.add(whole, DCAT + "version", ox.Literal(str(build_info["commit"])))
    _void(g, whole, names.base, stats, URI_SPACE)
    for vocabulary in VOCABULARIES:
        g.add(whole, VOID + "vocabulary", vocabulary)
    if files:
        for _, _, feature in FORMATS.values():
            g.add(whole, VOID + "feature", feature)
    _distributions(g, whole, names.doc, names.base, built_at,
                   {name: facts for name, facts in files.items() if facts.get("region") is None})


def _region_dataset(g: _Graph, names: _Names, region: str, facts: Mapping[str, Any],
                    built_at: str | None, files: Mapping[str, Mapping[str, Any]]) -> None:
    """One region's dataset: a part of the whole, with its statistics and dumps."""
    dataset, whole = names.regions[region], names.whole
    titles: Mapping[str, str] = facts.get("names") or {"fi": region}
    g.type(dataset, DCAT + "Dataset", VOID + "Dataset")
    g.texts(dataset, DCT + "title", {lang: f"ketju: {name}" for lang, name in titles.items()})
    g.texts(dataset, DCT + "description", {
        lang: text.format(name=titles.get(lang) or next(iter(titles.values())), region=region)
        for lang, text in REGION_DESCRIPTION.items()})
    _common(g, dataset, names.publisher)
    if facts.get("spatial"):
        g.add(dataset, DCT + "spatial", str(facts["spatial"]))
        g.type(str(facts["spatial"]), DCT + "Location")
    for theme in THEMES:
        g.add(dataset, DCAT + "theme", theme)
    if (when := _time(facts.get("modified") or built_at)) is not None:
        g.add(dataset, DCT + "modified", when)
    g.add(dataset, DCT + "isPartOf", whole)
    g.add(whole, DCT + "hasPart", dataset)
    g.add(whole, VOID + "subset", dataset)
    _void(g, dataset, names.base, facts, f"{URI_SPACE}{region}/")
    _distributions(g, dataset, names.doc, names.base, built_at,
                   {name: f for name, f in files.items() if f.get("region") == region})


def _observation_sets(g: _Graph, names: _Names, region: str,
                      facts: Mapping[str, Any]) -> None:
    """The region's observation data sets (RDF Data Cube), each with its CSV distribution."""
    sets: Mapping[str, int] = facts.get("observation_sets") or {}
    titles: Mapping[str, str] = facts.get("names") or {"fi": region}
    for index, (dataset, count) in enumerate(sorted(sets.items())):
        g.type(dataset, QB + "DataSet", DCAT + "Dataset")
        g.add(dataset, QB + "structure", ns.ONTOLOGY + "indicatorObservations")
        name = {lang: titles.get(lang) or next(iter(titles.values())) for lang in LANGUAGES}
        g.texts(dataset, DCT + "title", {
            lang: text.format(name=name[lang]) for lang, text in OBSERVATIONS_TITLE.items()})
        g.texts(dataset, DCT + "description", {
            lang: text.format(name=name[lang], region=region, count=count)
            for lang, text in OBSERVATIONS_DESCRIPTION.items()})
        _common(g, dataset, names.publisher)
        for theme in THEMES:
            g.add(dataset, DCAT + "theme", theme)
        if facts.get("spatial"):
            g.add(dataset, DCT + "spatial", str(facts["spatial"]))
        g.add(dataset, DCT + "isPartOf", names.regions[region])
        g.add(names.regions[region], DCT + "hasPart", dataset)
        g.add(names.catalog, DCAT + "dataset", dataset)
        url = names.base + OBSERVATIONS_CSV.format(region=region)
        distribution = f"{names.doc}#observations-{region}-csv" + (
            f"-{index + 1}" if index else "")
        metadata = names.base + CSVW_METADATA
        g.add(dataset, DCAT + "distribution", distribution)
        g.type(distribution, DCAT + "Distribution")
        g.texts(distribution, DCT + "title", OBSERVATIONS_CSV_TITLE)
        g.add(distribution, DCAT + "accessURL", url)
        g.add(distribution, DCAT + "downloadURL", url)
        g.add(distribution, DCAT + "mediaType", CSV_MEDIA)
        g.add(distribution, DCT + "format", CSV_FILE_TYPE)
        g.add(distribution, DCT + "conformsTo", metadata)
        g.add(distribution, DCT + "license", LICENSE)
        g.type(CSV_MEDIA, DCT + "MediaType")
        g.type(CSV_FILE_TYPE, DCT + "MediaTypeOrExtent")
        g.type(metadata, DCT + "Standard")


def _data_service(g: _Graph, names: _Names) -> None:
    """The SPARQL endpoint as a DCAT data service."""
    service, base = names.service, names.base
    g.type(service, DCAT + "DataService")
    g.texts(service, DCT + "title", SERVICE_TITLE)
    g.texts(service, DCT + "description", SERVICE_DESCRIPTION)
    g.add(service, DCAT + "endpointURL", f"{base}/sparql")
    g.add(service, DCAT + "endpointDescription", f"{base}/sparql")
    g.add(service, DCT + "conformsTo", SPARQL_PROTOCOL)
    g.add(service, DCT + "conformsTo", SPARQL_QUERY)
    _common(g, service, names.publisher)
    for dataset in (names.whole, *names.regions.values()):
        g.add(service, DCAT + "servesDataset", dataset)


def _value_types(g: _Graph, base: str) -> None:
    """Types of the values whose class DCAT-AP 3 constrains."""
    g.type(LICENSE, DCT + "LicenseDocument")
    g.type(PUBLIC, DCT + "RightsStatement")
    g.type(FINLAND, DCT + "Location")
    g.type(f"{base}/", FOAF + "Document")
    for standard in (SPARQL_PROTOCOL, SPARQL_QUERY):
        g.type(standard, DCT + "Standard")
    for language in LANGUAGES.values():
        g.type(language, DCT + "LinguisticSystem")
    g.type(THEME_SCHEME, SKOS + "ConceptScheme")
    g.add(THEME_SCHEME, DCT + "title", ox.Literal("Data theme", language="en"))
    for theme, label in THEMES.items():
        g.type(theme, SKOS + "Concept")
        g.add(theme, SKOS + "prefLabel", ox.Literal(label, language="en"))
        g.add(theme, SKOS + "inScheme", THEME_SCHEME)


#: Prefixes for serialising the description.
PREFIXES = {"dcat": DCAT, "dct": DCT, "qb": QB, "foaf": FOAF, "void": VOID, "spdx": SPDX,
            "xsd": XSD,
            "rdf": RDF, "rdfs": RDFS, "skos": SKOS, "ketju": ns.ONTOLOGY}
