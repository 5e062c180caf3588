"""IRIs of ketju and of the standards it reuses, and the rules of the IRI scheme.

The scheme (DESIGN.md, docs/MODELLING.md):
- ontology terms   https://w3id.org/ketju/ontology#Term
- vocabularies     https://w3id.org/ketju/vocab/{scheme}/{code}
- regional data    https://w3id.org/ketju/id/{region}/{kind}/{slug}[/{sub-kind}/{slug}]
                   ({kind}: a segment of the registry of kinds, ketju.core.kinds)
- source graphs    https://w3id.org/ketju/graph/{path of the source file}
"""

from __future__ import annotations

import re
from typing import Final

BASE: Final = "https://w3id.org/ketju/"
ONTOLOGY: Final = BASE + "ontology#"
ONTOLOGY_DOC: Final = BASE + "ontology"
VOCAB: Final = BASE + "vocab/"
ID: Final = BASE + "id/"
GRAPH: Final = BASE + "graph/"

#: Graphs the build adds beside the source graphs.
BUILD_GRAPH: Final = GRAPH + "build"
INFERRED_GRAPH: Final = GRAPH + "inferred"

JHS183_SCHEME: Final = "http://uri.suomi.fi/codelist/ptv/ptvserclass2"
PTV_CODELISTS: Final = "http://uri.suomi.fi/codelist/ptv/"

RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
OWL: Final = "http://www.w3.org/2002/07/owl#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
DCT: Final = "http://purl.org/dc/terms/"
PROV: Final = "http://www.w3.org/ns/prov#"
ORG: Final = "http://www.w3.org/ns/org#"
CPSV: Final = "http://purl.org/vocab/cpsv#"
CV: Final = "http://data.europa.eu/m8g/"
ADMS: Final = "http://www.w3.org/ns/adms#"
DCAT: Final = "http://www.w3.org/ns/dcat#"
QB: Final = "http://purl.org/linked-data/cube#"
SH: Final = "http://www.w3.org/ns/shacl#"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
VOID: Final = "http://rdfs.org/ns/void#"
SDMX_ATTRIBUTE: Final = "http://purl.org/linked-data/sdmx/2009/attribute#"
SDMX_DIMENSION: Final = "http://purl.org/linked-data/sdmx/2009/dimension#"
SDMX_CODE: Final = "http://purl.org/linked-data/sdmx/2009/code#"

PREFIXES: Final[dict[str, str]] = {
    "ketju": ONTOLOGY, "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS,
    "dct": DCT, "prov": PROV, "org": ORG, "cpsv": CPSV, "cv": CV, "adms": ADMS, "dcat": DCAT,
    "qb": QB, "sh": SH, "foaf": FOAF, "void": VOID, "sdmx-attribute": SDMX_ATTRIBUTE,
    "sdmx-dimension": SDMX_DIMENSION, "sdmx-code": SDMX_CODE,
}

RDF_TYPE: Final = RDF + "type"

#: Namespaces whose IRIs must resolve to something defined in the catalogue.
CHECKED_NAMESPACES: Final = (BASE, PTV_CODELISTS)

SLUG: Final = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_DATA_IRI = re.compile(
    rf"^{re.escape(ID)}(?P<region>{SLUG})/(?P<kind>{SLUG})/(?P<slug>{SLUG})"
    rf"(?:/(?P<subkind>step|transition)/(?P<subslug>{SLUG}))?$"
)


def region_namespace(region: str) -> str:
    """The namespace a region owns: every subject in data/{region}/ starts with it."""
    return f"{ID}{region}/"


def organiser_iri(region: str) -> str:
    """The organiser (järjestäjä) of a region, as generated from the official county list."""
    return f"{ID}{region}/organiser/{region}"


def region_iri(region: str) -> str:
    """The area of a region (alue) in the regions vocabulary."""
    return f"{VOCAB}region/{region}"


def parse_data_iri(iri: str) -> dict[str, str] | None:
    """Split a regional data IRI into region, kind and slug, or None when it breaks the scheme.

    >>> parse_data_iri("https://w3id.org/ketju/id/etela-karjala/chain/intake")["kind"]
    'chain'
    >>> parse_data_iri("https://w3id.org/ketju/id/x/chain/a/step/b")["subkind"]
    'step'
    >>> parse_data_iri("https://w3id.org/ketju/id/Etela/chain/a") is None
    True
    """
    match = _DATA_IRI.match(iri)
    if match is None:
        return None
    return {k: v for k, v in match.groupdict().items() if v is not None}


def graph_iri(relative_path: str) -> str:
    """Named graph of a source file, e.g. graph/data/etela-karjala/chain.ttl."""
    return GRAPH + relative_path


def sparql_prefixes(names: tuple[str, ...] | None = None) -> str:
    """PREFIX declarations for the given prefix names (all when None)."""
    chosen = PREFIXES if names is None else {n: PREFIXES[n] for n in names}
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in chosen.items())


# -- Namespaces of the standards the feeds and the reuse drafts write (one copy, here) -----

#: The EU Publications Office's authority tables (languages, countries, file types, ...).
EU_AUTHORITY: Final = "http://publications.europa.eu/resource/authority/"
#: ADMS status concepts (a draft is `UnderDevelopment`).
ADMS_STATUS: Final = "http://purl.org/adms/status/"
#: ketju's own status concepts beside ADMS's (`Proposed`, which ADMS has not) and the model
#: states (current state, target model) of a description's life cycle (docs/MODELLING.md).
KSTATUS: Final = VOCAB + "status/"
MODEL_STATE: Final = VOCAB + "model-state/"
#: European Legislation Identifier ontology (legal bases in the CPSV-AP feed).
ELI: Final = "http://data.europa.eu/eli/ontology#"
SPDX: Final = "http://spdx.org/rdf/terms#"
#: TREE and LDES (the change stream) and Activity Streams (its deletions).
TREE: Final = "https://w3id.org/tree#"
LDES: Final = "https://w3id.org/ldes#"
ACTIVITY_STREAMS: Final = "https://www.w3.org/ns/activitystreams#"
#: The Suomi.fi PTV code lists' code namespaces: JHS 183 service classes, target groups and
#: life events.
JHS183_CODES: Final = JHS183_SCHEME + "/code/"
PTV_TARGET_GROUPS: Final = PTV_CODELISTS + "ptvkohderyhmat/code/"
PTV_LIFE_EVENTS: Final = PTV_CODELISTS + "ptvelti/code/"
#: Producer types (tuottajatyyppi), a project vocabulary.
PRODUCER_TYPE: Final = VOCAB + "producer-type/"
