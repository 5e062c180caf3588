"""Compare chains across regions: the API (`/api/compare`, `/api/chains/.../similar`) and the
side-by-side page (`/compare`), all calling `ketju.domain.compare`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ketju.core.namespaces import ID
from ketju.domain.compare import (
    UnknownChains,
    chain_index,
    chain_iri,
    compare_many,
    load_indexed_chains,
)
from ketju.infra.snapshot import Snapshot
from ketju.web.api import PROBLEMS, SLUG
from ketju.web.http import problem, public_base_url
from ketju.web.monitoring import compare_section
from ketju.web.pages import Site, is_iri, kept, page_language, render_page
from ketju.web.services import ServicesDep, SnapshotDep

MAX_CHAINS = 6


def _chain_list(text: str) -> list[str]:
    iris = [chain_iri(part) for part in text.split(",") if part.strip()]
    for iri in iris:
        if not is_iri(iri):
            raise ValueError(f"not a chain IRI or region/slug: {iri[:200]!r}")
    if len(iris) > MAX_CHAINS:
        raise ValueError(f"compare at most {MAX_CHAINS} chains at a time")
    if len(set(iris)) != len(iris):
        raise ValueError("the same chain is given twice")
    return iris


def comparison(snapshot: Snapshot, chains: list[str], lang: str) -> dict[str, Any]:
    loaded, goals = load_indexed_chains(snapshot, chains)
    return compare_many(loaded, goals, lang)


#: The comparison API, similar chains and the compare page.
router = APIRouter()

@router.get("/api/compare", tags=["Compare and reuse"], responses=PROBLEMS,
            summary="Align the steps of two or more chains and score their similarity",
            operation_id="compare_chains", response_class=JSONResponse)
async def compare_api(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    chains: Annotated[str, Query(max_length=2000, description=(
        "Comma-separated chains: IRIs or region/slug, e.g. "
        "varsinais-suomi/lonkkamurtuma,pohjois-savo/lonkkamurtuma."))],
    lang: Annotated[str, Query(pattern="^(fi|sv|en)$")] = "fi",
) -> Response:
    try:
        iris = _chain_list(chains)
        if len(iris) < 2:
            return problem(400, "Give at least two chains to compare.")
        return await kept(request, Site(state.settings, snapshot), f"answer|{request.url}",
                          lambda: JSONResponse(comparison(snapshot, iris, lang)))
    except UnknownChains as unknown:
        return problem(404, f"No such service chain: {', '.join(unknown.iris)}.")
    except ValueError as error:
        return problem(400, str(error))

@router.get("/api/chains/{region}/{slug}/similar", tags=["Compare and reuse"],
            responses=PROBLEMS, response_class=JSONResponse,
            summary="The chains of the whole catalogue most similar to this one",
            operation_id="similar_chains")
async def similar_api(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    region: Annotated[str, Path(pattern=SLUG, max_length=60)],
    slug: Annotated[str, Path(pattern=SLUG, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    lang: Annotated[str, Query(pattern="^(fi|sv|en)$")] = "fi",
) -> Response:
    return await kept(request, Site(state.settings, snapshot), f"answer|{request.url}",
                      lambda: similar_answer(request, snapshot, region, slug, limit, lang))

def similar_answer(request: Request, snapshot: Snapshot, region: str, slug: str, limit: int,
                   lang: str) -> Response:
    iri = f"{ID}{region}/chain/{slug}"
    index = chain_index(snapshot)
    if iri not in index:
        return problem(404, f"No such service chain: {iri}.")
    ranked = index.similar(iri, limit)
    names = index.names_of(snapshot, [other for other, _ in ranked])
    base = public_base_url(request)
    return JSONResponse({"chain": iri, "items": [
        {"chain": other, "score": round(score, 6),
         "label": names[other].pick(lang)[0] if other in names else other,
         "region": other.removeprefix(ID).split("/", 1)[0],
         "compare": f"{base}/api/compare?chains={iri},{other}"}
        for other, score in ranked]})

@router.get("/compare", include_in_schema=False)
def compare_page(request: Request, state: ServicesDep, snapshot: SnapshotDep,
                 chains: Annotated[str, Query(max_length=2000)] = "") -> Response:
    lang = page_language(request)
    site = Site(state.settings, snapshot)
    try:
        iris = _chain_list(chains)
    except ValueError as error:
        return render_page(request, site, "compare.html", lang, status=400,
                           error=str(error), result=None, suggestions=[])
    suggestions: list[dict[str, Any]] = []
    index = chain_index(snapshot)
    if len(iris) == 1 and iris[0] in index:
        ranked = index.similar(iris[0], 10)
        names = index.names_of(snapshot, [o for o, _ in ranked])
        suggestions = [{"iri": o, "score": s, "names": names.get(o)} for o, s in ranked]
    result = None
    if len(iris) >= 2:
        try:
            result = comparison(snapshot, iris, lang)
        except UnknownChains as unknown:
            return render_page(request, site, "compare.html", lang, status=404,
                               error=", ".join(unknown.iris), result=None,
                               suggestions=[])
    measures = compare_section(snapshot, iris, lang) if result else {}
    return render_page(request, site, "compare.html", lang, result=result, chains=iris,
                       suggestions=suggestions, error=None, **measures)
