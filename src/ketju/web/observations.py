"""`/api/observations`: indicator observations (mittarihavainnot) as JSON, JSON-LD and CSV.

- `GET /api/observations`: the observations of the named query `observations`
  (`queries/observations.rq`), filtered by indicator, national indicator, region and period
  range (`from`, `to`: `2024`, `2024-Q3`, `2024-05`), paged with `limit`/`offset` and `Link`
  headers like the other lists. At least one of indicator, nationalIndicator and region is
  required (400 otherwise): one request must not read every observation of the country (92,000
  took 5 s); a whole data set is `/api/observations/{region}.csv` or the dumps.
  The format is `?format=` (json, jsonld, csv), else `Accept`
  (`application/json`, `application/ld+json`, `text/csv`), else JSON.
  - JSON: one flat object per observation, codes as in the contribution files.
  - JSON-LD: RDF Data Cube observations under an inline `@context` whose terms expand to
    the IRIs of ketju, qb (RDF Data Cube) and SDMX; the answer is a page of a
    `hydra:Collection` like the API's other lists (`ketju.web.api.collection_page`): `items`
    are its `hydra:member`s, `total` its `hydra:totalItems`, `view` the page.
  - CSV: the columns of a contribution file (`indicator,period,value,unit,status,sex,
    age_group,from_level,to_level,chain,transition`) and `region`, text made safe for
    spreadsheets like every CSV answer.
- `GET /api/observations/{region}.csv`: a region's whole data set as one contribution file
  (the distribution the catalogue describes, `/catalog`).
- `GET /api/observations/csv-metadata.json`: the CSV on the Web metadata document of the
  columns (`ontology/observations.csv-metadata.json`); every CSV answer points to it with a
  `Link: <…>; rel="describedby"` header (CSVW, "Locating metadata").

Answers are kept in the snapshot's cache (per filter) and carry an ETag of the build, so
paging and repeated calls do not run the query again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ketju.core.namespaces import (
    ONTOLOGY,
    QB,
    SDMX_ATTRIBUTE,
    SDMX_CODE,
    SDMX_DIMENSION,
    XSD,
    region_iri,
)
from ketju.core.queries import MAX_IRI_CHARS, ParameterError
from ketju.domain.observations import (
    STATUS,
    TOTAL,
    Observation,
    code,
    observations,
)
from ketju.infra.feeds.catalog import CSVW_METADATA
from ketju.infra.jsonld import COLLECTION_TERMS
from ketju.infra.observations import contribution_columns
from ketju.infra.sparql.results import spreadsheet_cell
from ketju.web.api import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    PROBLEMS,
    SLUG,
    collection_page,
    link_header,
)
from ketju.web.http import (
    Offer,
    build_etag,
    cache_headers,
    negotiate_request,
    problem,
    public_base_url,
    unchanged,
)
from ketju.web.openapi_docs import JSONLDResponse
from ketju.web.services import ServicesDep, SnapshotDep

#: A period: a year, a quarter or a month.
PERIOD = r"^[0-9]{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"
#: Why an answer without indicator, national indicator or region is refused (fi / en).
NEEDS_FILTER = (
    "Anna ainakin yksi suodatin: indicator, nationalIndicator tai region. Alueen kaikki "
    "havainnot: /api/observations/{alue}.csv; kaikki havainnot: datadumpit (/catalog). / "
    "Give at least one filter: indicator, nationalIndicator or region. A region's whole data "
    "set is /api/observations/{region}.csv; every observation is in the dumps (/catalog).")
#: The query's parameters that the `Link` headers repeat.
KEPT = ("indicator", "nationalIndicator", "region", "from", "to", "limit", "format")

OFFERS: tuple[Offer, ...] = (
    Offer("json", frozenset({"json"}), frozenset({"application/json"})),
    Offer("jsonld", frozenset({"jsonld", "json-ld"}), frozenset({"application/ld+json"})),
    Offer("csv", frozenset({"csv"}), frozenset({"text/csv"})))

#: The JSON-LD context of the answers: every term expands to the IRI of the standard.
CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "ketju": ONTOLOGY, "qb": QB, "sdmx-attribute": SDMX_ATTRIBUTE,
    "sdmx-dimension": SDMX_DIMENSION, "sdmx-code": SDMX_CODE, "xsd": XSD,
    # The list's terms (a page of a hydra:Collection), not those of the catalogue's items.
    **{term: definition for term, definition in COLLECTION_TERMS.items()
       if term not in ("api", "region", "Region")},
    "IndicatorObservation": "ketju:IndicatorObservation",
    "dataSet": {"@id": "qb:dataSet", "@type": "@id"},
    "indicator": {"@id": "ketju:indicator", "@type": "@id"},
    "nationalIndicator": {"@id": "ketju:nationalIndicator", "@type": "@id"},
    "refArea": {"@id": "ketju:refArea", "@type": "@id"},
    "refPeriod": {"@id": "ketju:refPeriod"},
    "observedValue": {"@id": "ketju:observedValue", "@type": "xsd:decimal"},
    "unitMeasure": {"@id": "sdmx-attribute:unitMeasure", "@type": "@id"},
    "obsStatus": {"@id": "sdmx-attribute:obsStatus", "@type": "@id"},
    "sex": {"@id": "sdmx-dimension:sex", "@type": "@id"},
    "ageGroup": {"@id": "ketju:ageGroup", "@type": "@id"},
    "fromLevel": {"@id": "ketju:fromLevel", "@type": "@id"},
    "toLevel": {"@id": "ketju:toLevel", "@type": "@id"},
    "transition": {"@id": "ketju:transition", "@type": "@id"},
}


def plain(o: Observation) -> dict[str, Any]:
    """The JSON answer's object: IRIs of resources, codes of code lists, the number."""
    number = float(o.value)
    return {
        "observation": o.iri, "dataset": o.dataset, "region": o.region,
        "indicator": o.indicator, "nationalIndicator": o.national,
        "period": o.period,
        "value": int(number) if number.is_integer() and "." not in o.value else number,
        "unit": code(o.unit), "status": STATUS.get(o.status or ""),
        "sex": code(o.sex, "sex-") or None, "ageGroup": code(o.age_group) or None,
        "fromLevel": code(o.from_level) or None,
        "toLevel": code(o.to_level) or None,
        "transition": None if o.transition == TOTAL else o.transition,
    }


def node(o: Observation) -> dict[str, Any]:
    """The JSON-LD node (under CONTEXT): only what the store says of the observation, and
    of its indicator the national indicator it follows."""
    node: dict[str, Any] = {
        "@id": o.iri, "@type": "IndicatorObservation", "indicator": o.indicator,
        "refArea": o.area, "refPeriod": {"@value": o.period, "@type": o.period_type},
        "observedValue": o.value, "sex": o.sex, "ageGroup": o.age_group,
        "fromLevel": o.from_level, "toLevel": o.to_level,
        "transition": o.transition}
    for key, value in (("dataSet", o.dataset), ("unitMeasure", o.unit),
                       ("obsStatus", o.status)):
        if value:
            node[key] = value
    if o.national:
        # The national indicator is the region's indicator's, as the store says.
        node["indicator"] = {"@id": o.indicator, "nationalIndicator": o.national}
    return node


def to_csv(rows: Iterable[Observation], columns: Sequence[str]) -> str:
    """Observations as CSV with `columns`; text a spreadsheet would run as a formula gets a
    leading quote (a value in a contribution file cannot start so: it is checked)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n",
                            extrasaction="ignore")
    writer.writeheader()
    for observation in rows:
        writer.writerow({k: spreadsheet_cell(v) for k, v in observation.row().items()})
    return buffer.getvalue()


class ObservationItem(BaseModel):
    """An indicator observation (JSON answer)."""

    observation: str = Field(description="The observation's IRI.")
    dataset: str | None = Field(description="Its data set (qb:DataSet) IRI.")
    region: str = Field(description="The region's short name (folder name).")
    indicator: str = Field(description="The region's indicator IRI.")
    nationalIndicator: str | None = Field(description="The national indicator it follows.")
    period: str = Field(description="Year, quarter or month: 2024, 2024-Q3, 2024-05.")
    value: float
    unit: str = Field(description="Code of the unit (ontology/vocab/unit.ttl).")
    status: str | None = Field(description="final or preliminary.")
    sex: str | None = Field(description="M or F; null for the total.")
    ageGroup: str | None = Field(description="Code of the age group; null for the total.")
    fromLevel: str | None = Field(description="Service level moved from; null for the total.")
    toLevel: str | None = Field(description="Service level moved to; null for the total.")
    transition: str | None = Field(description="The hand-over's IRI; null for the total.")


class ObservationPage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    total: int = Field(description="Observations in the whole answer, not only this page.")
    limit: int
    offset: int
    items: list[ObservationItem]


_JSONLD_PAGE = {"type": "object", "required": ["@context", "@id", "@type", "items"], "properties": {
    "@context": {"type": "object"}, "@id": {"type": "string"},
    "@type": {"type": "string", "enum": ["Collection"]}, "total": {"type": "integer"},
    "limit": {"type": "integer"}, "offset": {"type": "integer"},
    "view": {"$ref": "#/components/schemas/PageView"},
    "items": {"type": "array", "items": {"type": "object", "required": ["@id", "@type"]}}}}
_CSV = {"schema": {"type": "string"}}
_NOT_MODIFIED = {"description": "Not modified since the ETag given."}

router = APIRouter(prefix="/api", tags=["Monitoring"])


def _described_by(request: Request) -> str:
    return f'<{public_base_url(request)}{CSVW_METADATA}>; rel="describedby"; ' \
        'type="application/csvm+json"'


@router.get(
    "/observations", response_model=ObservationPage, operation_id="list_observations",
    summary="Indicator observations, filtered by indicator, national indicator, region and "
            "period; JSON, JSON-LD or CSV",
    description="At least one of `indicator`, `nationalIndicator` and `region` is required "
                "(400 otherwise), so that no request reads every observation of the country. "
                "A region's whole data set is `/api/observations/{region}.csv`; every "
                "observation is in the dumps (`/catalog`).",
    responses={**PROBLEMS, 304: _NOT_MODIFIED, 200: {"content": {
        "application/ld+json": {"schema": _JSONLD_PAGE}, "text/csv": _CSV}}})
def list_observations(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    indicator: Annotated[str | None, Query(max_length=MAX_IRI_CHARS,
                         description="IRI of a region's indicator.")] = None,
    nationalIndicator: Annotated[str | None, Query(max_length=MAX_IRI_CHARS,
                                 description="IRI of a national indicator.")] = None,
    region: Annotated[str | None, Query(pattern=SLUG, max_length=60,
                      description="A region's short name, e.g. pohjois-pohjanmaa.")] = None,
    period_from: Annotated[str | None, Query(alias="from", pattern=PERIOD,
                           description="First period: 2024, 2024-Q3 or 2024-05.")] = None,
    period_to: Annotated[str | None, Query(alias="to", pattern=PERIOD,
                         description="Last period: 2024, 2024-Q3 or 2024-05.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
    fmt: Annotated[str | None, Query(
        alias="format", description="json (default), jsonld or csv; overrides Accept.")] = None,
) -> Response:
    # An unknown `format` falls back to Accept, and Accept to JSON: never refused.
    offer = negotiate_request(request, OFFERS, default=OFFERS[0]) or OFFERS[0]
    if not (indicator or nationalIndicator or region):
        return problem(400, NEEDS_FILTER)
    raw = {name: value for name, value in (
        ("indicator", indicator), ("nationalIndicator", nationalIndicator),
        ("region", region_iri(region) if region else None), ("from", period_from),
        ("to", period_to)) if value}
    tag = build_etag(snapshot.version, offer.name, str(sorted(raw.items())), str(limit),
                     str(offset))
    headers = cache_headers(tag, cache_control="public, max-age=60")
    if (answer := unchanged(request, headers)) is not None:
        return answer
    try:
        found = observations(snapshot, raw)
    except ParameterError as error:
        return problem(400, str(error))
    page = found[offset:offset + limit]
    headers["Link"] = link_header(request, len(found), limit, offset, KEPT)
    headers["X-Total-Count"] = str(len(found))
    if offer.name == "csv":
        headers["Link"] += ", " + _described_by(request)
        columns = (*contribution_columns(state.project.root), "region")
        return Response(to_csv(page, columns),
                        media_type="text/csv; charset=utf-8", headers=headers)
    if offer.name == "jsonld":
        return JSONLDResponse(collection_page(request, CONTEXT, len(found), limit, offset,
                                              [node(o) for o in page], KEPT),
                              headers=headers)
    return JSONResponse({"total": len(found), "limit": limit, "offset": offset,
                         "items": [plain(o) for o in page]}, headers=headers)


#: The name of the CSVW metadata document in ontology/.
METADATA_FILE = "observations.csv-metadata.json"


@router.get(
    "/observations/csv-metadata.json", response_class=Response,
    operation_id="observations_csv_metadata",
    summary="The CSV on the Web metadata document of the observation files' columns",
    responses={404: PROBLEMS[404], 304: _NOT_MODIFIED, 200: {
        "description": "W3C Metadata Vocabulary for Tabular Data (JSON).",
        "content": {"application/csvm+json": {"schema": {"type": "object"}}}}})
def csv_metadata(request: Request, state: ServicesDep, snapshot: SnapshotDep) -> Response:
    path = state.project.ontology_dir / METADATA_FILE
    try:
        body = path.read_bytes()
    except OSError:
        return problem(404, "This catalogue has no CSV on the Web metadata document.")
    tag = build_etag(snapshot.version, "csvw", hashlib.sha256(body).hexdigest())
    headers = cache_headers(tag, vary=None)
    if (answer := unchanged(request, headers)) is not None:
        return answer
    return Response(body, media_type="application/csvm+json", headers=headers)


@router.get(
    "/observations/{region}.csv", response_class=Response, operation_id="region_observations",
    summary="A region's observations as one contribution file (CSV)",
    responses={**PROBLEMS, 304: _NOT_MODIFIED, 200: {
        "description": "The region's data set in the columns of a contribution file.",
        "content": {"text/csv": _CSV}}})
def region_observations(
        request: Request, state: ServicesDep, snapshot: SnapshotDep,
        region: Annotated[str, Path(pattern=SLUG, max_length=60)]) -> Response:
    headers = cache_headers(build_etag(snapshot.version, "region-csv", region), vary=None,
                            cache_control="public, max-age=300")
    if (answer := unchanged(request, headers)) is not None:
        return answer
    found = observations(snapshot, {"region": region_iri(region)})
    if not found:
        return problem(404, f"Region {region} has no observations in the catalogue.")
    headers["Content-Disposition"] = f'attachment; filename="{region}-observations.csv"'
    headers["Link"] = _described_by(request)
    return Response(to_csv(found, contribution_columns(state.project.root)),
                    media_type="text/csv; charset=utf-8", headers=headers)
