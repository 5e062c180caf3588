"""Compare chains across regions: the API (`/api/compare`, `/api/chains/.../similar`) and the
side-by-side page (`/compare`), all calling `ketju.domain.compare`.

The API's answers are JSON that is also JSON-LD (`ketju.infra.jsonld.COMPARISON_CONTEXT`): a
comparison names its chains (`iri` is `@id`) and its pairs with their score; the similar
chains are a `hydra:Collection` whose members each name a chain and its score. Every key the
JSON had is kept. Asked for as `application/ld+json`, they are answered so (the same
body); `application/json` otherwise."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from ketju.core.namespaces import ID
from ketju.domain.chains import draft_chains, load_chain
from ketju.domain.compare import (
    NotAChainName,
    UnknownChains,
    chain_index,
    chain_iri,
    compare_many,
    load_indexed_chains,
    region_name,
    region_names,
    region_of,
)
from ketju.domain.compare.states import target_changes
from ketju.domain.entities import names_of
from ketju.domain.lifecycle import current_and_target, lifecycle_of
from ketju.infra.jsonld import COMPARISON_CONTEXT
from ketju.infra.snapshot import Snapshot
from ketju.web.api import PROBLEMS, SLUG, list_media, list_response
from ketju.web.http import problem, public_base_url
from ketju.web.humanise import duration
from ketju.web.i18n import translate
from ketju.web.monitoring import compare_section
from ketju.web.pages import Site, is_iri, kept, page_language, render_page
from ketju.web.services import ServicesDep, SnapshotDep

MAX_CHAINS = 6


class ChainListError(ValueError):
    """Why the chains asked for cannot be compared: the text (the API's answer) and the key of
    the message that says it on the page, with what it names."""

    def __init__(self, text: str, key: str, detail: str = "") -> None:
        super().__init__(text)
        self.key = key
        self.detail = detail


def _chain_list(text: str) -> list[str]:
    """The chains of a `chains` parameter (IRIs, region/slug or region/chain/slug,
    comma-separated; `chain_iri`, as the command line). A chain may be given twice: compared
    with itself it scores 1 (a platform that computes a similarity matrix asks for the
    diagonal too)."""
    iris = []
    for part in (part.strip() for part in text.split(",")):
        if not part:
            continue
        try:
            iri = chain_iri(part)
        except NotAChainName as error:
            raise ChainListError(str(error), "compare_not_a_chain", part[:200]) from None
        if not is_iri(iri):
            raise ChainListError(f"{part[:200]!r} is not a service chain: give its IRI or "
                                 "region/slug, for example varsinais-suomi/lonkkamurtuma.",
                                 "compare_not_a_chain", part[:200])
        iris.append(iri)
    if len(iris) > MAX_CHAINS:
        raise ChainListError(f"compare at most {MAX_CHAINS} chains at a time",
                             "compare_too_many", str(MAX_CHAINS))
    return iris


def comparison(snapshot: Snapshot, chains: list[str], lang: str) -> dict[str, Any]:
    """The comparison of `chains`; of a current state and its own target model (two chains,
    either order) also `lifecycle`: which is which and what the target model changes
    (`ketju.domain.compare.states`), from the two full chains."""
    loaded, goals = load_indexed_chains(snapshot, chains)
    result = compare_many(loaded, goals, lang)
    pair = current_and_target(snapshot, chains[0], chains[1]) if len(chains) == 2 else None
    if pair is not None:
        current, target = (load_chain(snapshot, iri) for iri in pair)
        result["lifecycle"] = {"current": pair[0], "target": pair[1],
                               "changes": target_changes(current, target, lang)}
    return result


def comparison_answer(request: Request, snapshot: Snapshot, iris: list[str],
                      lang: str) -> dict[str, Any]:
    """`/api/compare`'s answer: `comparison` as JSON-LD, a `ketju:ChainComparison` whose IRI
    is this URL under the public base."""
    url = public_base_url(request) + request.url.path + (
        "?" + request.url.query if request.url.query else "")
    return {"@context": COMPARISON_CONTEXT, "@id": url, "@type": "ChainComparison",
            **comparison(snapshot, iris, lang)}


#: The comparison API, similar chains and the compare page.
router = APIRouter()


def _jsonld_answer(description: str) -> dict[int | str, Any]:
    """The routes' `responses=`: JSON that is JSON-LD (an `@context`), and the problems."""
    return {**PROBLEMS, 200: {"description": description, "content": {"application/json": {
        "schema": {"type": "object", "properties": {
            "@context": {"type": "object", "description": "The JSON-LD context."},
            "@id": {"type": "string", "format": "uri"}, "@type": {"type": "string"}}}}}}}


@router.get("/api/compare", tags=["Compare and reuse"],
            responses=_jsonld_answer("The comparison (JSON that is JSON-LD)."),
            summary="Align the steps of two or more chains and score their similarity",
            operation_id="compare_chains", response_class=JSONResponse)
async def compare_api(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    chains: Annotated[str, Query(max_length=2000, description=(
        "Comma-separated chains: IRIs, region/slug or region/chain/slug, e.g. "
        "varsinais-suomi/lonkkamurtuma,pohjois-savo/lonkkamurtuma. A chain may be given "
        "twice: with itself it scores 1."))],
    lang: Annotated[str, Query(pattern="^(fi|sv|en)$")] = "fi",
) -> Response:
    """Pairwise alignments, scores and a side-by-side table against the first chain. Two
    chains that are a current state and its own target model (`ketju:targetModelOf`, either
    order) also get `lifecycle`: which is which and what the target model changes (steps
    added, removed, changed and moved, hand-overs changed, added and removed)."""
    try:
        iris = _chain_list(chains)
        if len(iris) < 2:
            return problem(400, "Give at least two chains to compare.")
        return await kept(request, Site(state.settings, snapshot),
                          f"answer|{request.url}|{list_media(request)}",
                          lambda: list_response(request, comparison_answer(
                              request, snapshot, iris, lang), {}))
    except UnknownChains as unknown:
        return problem(404, f"No such service chain: {', '.join(unknown.iris)}.")
    except ValueError as error:
        return problem(400, str(error))

@router.get("/api/chains/{region}/{slug}/similar", tags=["Compare and reuse"],
            responses=_jsonld_answer("The most similar chains, a hydra:Collection (JSON "
                                     "that is JSON-LD)."), response_class=JSONResponse,
            summary="The chains of the whole catalogue most similar to this one",
            operation_id="similar_chains")
async def similar_api(
    request: Request, state: ServicesDep, snapshot: SnapshotDep,
    region: Annotated[str, Path(pattern=SLUG, max_length=60)],
    slug: Annotated[str, Path(pattern=SLUG, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    lang: Annotated[str, Query(pattern="^(fi|sv|en)$")] = "fi",
) -> Response:
    return await kept(request, Site(state.settings, snapshot),
                      f"answer|{request.url}|{list_media(request)}",
                      lambda: similar_answer(request, snapshot, region, slug, limit, lang))

def similar_answer(request: Request, snapshot: Snapshot, region: str, slug: str, limit: int,
                   lang: str) -> Response:
    iri = chain_iri(f"{region}/{slug}")
    index = chain_index(snapshot)
    if iri not in index:
        return problem(404, f"No such service chain: {iri}.")
    ranked = index.similar(iri, limit)
    names = index.names_of(snapshot, [other for other, _ in ranked])
    base = public_base_url(request)
    url = base + request.url.path + ("?" + request.url.query if request.url.query else "")
    items = [{"@type": "ChainSimilarity", "chain": other, "score": round(score, 6),
              "label": names[other].pick(lang)[0] if other in names else other,
              "region": other.removeprefix(ID).split("/", 1)[0],
              "compare": f"{base}/api/compare?chains={iri},{other}"}
             for other, score in ranked]
    return list_response(request, {"@context": COMPARISON_CONTEXT, "@id": url,
                                   "@type": "Collection", "chain": iri, "total": len(items),
                                   "items": items}, {})

#: How a similarity reads in words: (lowest score, message key), highest first.
SCORE_WORDS = ((0.8, "compare_score_high"), (0.5, "compare_score_medium"),
               (0.0, "compare_score_low"))
#: How many of the most similar chains the picker suggests.
SUGGESTIONS = 10


def score_words(score: float) -> str:
    """The message key that says in words how alike two chains are."""
    return next(key for lowest, key in SCORE_WORDS if score >= lowest)


class Regions:
    """Names the chains' regions on the compare page: the organisers' names in the page's
    language, never the short names of the IRIs."""

    def __init__(self, snapshot: Snapshot, lang: str) -> None:
        self.names = region_names(snapshot)
        self.lang = lang

    def __call__(self, iri: str) -> str:
        return region_name(self.names, region_of(iri), self.lang)

    def titles(self, chains: list[dict[str, Any]]) -> dict[str, str]:
        """What tells each compared chain apart: its region's name, and the chain's own
        name too when two chains of one region are compared (a chain compared with itself
        is named by its region alone)."""
        distinct = {chain["iri"]: chain for chain in chains}.values()
        regions = [self(chain["iri"]) for chain in distinct]
        return {chain["iri"]: region if regions.count(region) == 1
                else f"{region}: {chain['label']}" for chain, region in zip(distinct, regions,
                                                                           strict=True)}


@router.get("/compare", include_in_schema=False)
def compare_page(request: Request, state: ServicesDep, snapshot: SnapshotDep,
                 chains: Annotated[str, Query(max_length=2000)] = "") -> Response:
    lang = page_language(request)
    site = Site(state.settings, snapshot)
    regions = Regions(snapshot, lang)

    def page(status: int = 200, **context: Any) -> Response:
        values: dict[str, Any] = {"error": None, "result": None, "subject": None,
                                  "suggestions": [], "chains": [], "region": regions,
                                  "score_words": score_words,
                                  "drafts": draft_chains(snapshot), "states": None,
                                  "state_pairs": []}
        return render_page(request, site, "compare.html", lang, status=status,
                           **{**values, **context})

    try:
        iris = _chain_list(chains)
    except ChainListError as error:
        return page(400, error=(error.key, error.detail))
    if not iris:
        return page()
    index = chain_index(snapshot)
    unknown = [iri for iri in iris if iri not in index]
    if unknown:
        return page(404, error=("compare_unknown", ", ".join(_short(iri) for iri in unknown)))
    # A current state and its own target model: the current state first (the side-by-side
    # table is against the first chain).
    if len(iris) == 2 and (ordered := current_and_target(snapshot, *iris)) is not None:
        iris = list(ordered)
    if len(iris) == 1:
        ranked = index.similar(iris[0], SUGGESTIONS)
        names = index.names_of(snapshot, [iris[0], *(other for other, _ in ranked)])

        def named(iri: str) -> dict[str, Any]:
            texts = names.get(iri)
            return {"iri": iri, "label": texts.pick(lang)[0] if texts else _short(iri),
                    "region": regions(iri)}

        # A current state or target model is offered the comparison with its counterpart.
        lived = lifecycle_of(snapshot, iris[0])
        pairs = [[lived.current_state.iri, iris[0]] if lived.current_state else
                 [iris[0], other.iri] for other in lived.counterparts] if lived else []
        return page(chains=iris, subject=named(iris[0]), state_pairs=pairs,
                    suggestions=[{**named(other), "score": score} for other, score in ranked])
    result = comparison(snapshot, iris, lang)
    _name_service_classes(snapshot, result, lang)
    titles = regions.titles(result["chains"])
    if states := result.get("lifecycle"):
        # Labelled by state, not by region: both are the same region's.
        titles = {states["current"]: translate("cmp_lc_current", lang),
                  states["target"]: translate("cmp_lc_target", lang)}
        _durations_in_words(states["changes"], lang)
    measures = compare_section(snapshot, iris, lang, labels=[titles[iri] for iri in iris])
    return page(result=result, chains=iris, titles=titles, states=states, **measures)


def _short(iri: str) -> str:
    """A chain named as people typed it: `region/slug`."""
    return iri.removeprefix(ID).replace("/chain/", "/", 1) if iri.startswith(ID) else iri


def _name_service_classes(snapshot: Snapshot, result: dict[str, Any], lang: str) -> None:
    """The JHS 183 classes in which matched steps differ, named for the page ("Kuntoutus
    (P5.14)") where the comparison has only their codes."""
    differing = [node for pair in result["pairs"]
                 for found in (*pair["matched"], *pair["order_differences"])
                 for difference in found["differences"]
                 if difference["kind"] == "service-classes"
                 for node in (*difference["a"], *difference["b"])]
    names = names_of(snapshot, {node["iri"] for node in differing})
    for node in differing:
        if texts := names.get(node["iri"]):
            node["label"] = f"{texts.pick(lang)[0]} ({node['label']})"


def _durations_in_words(changes: dict[str, Any], lang: str) -> None:
    """The maximum durations and waits of what a target model changes, in words ("enintään
    2 päivää") where the answer has them as ISO 8601 ("P2D")."""
    for item in (*changes["changed"], *changes["moved"], *changes["handovers_changed"]):
        for difference in item["differences"]:
            if difference["kind"] in ("maximum-duration", "maximum-wait"):
                for value in (*difference["a"], *difference["b"]):
                    value["label"] = duration(value["value"], lang, maximum=True)
    for handover in (*changes["handovers_added"], *changes["handovers_removed"]):
        if handover["maximum_wait"]:
            handover["maximum_wait_words"] = duration(handover["maximum_wait"], lang,
                                                      maximum=True)
