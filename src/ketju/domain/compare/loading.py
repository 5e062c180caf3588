"""Loading the chains to compare (by IRI or region/slug; from the store or the index) and comparing
two or more."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ketju.core.namespaces import ID, SLUG
from ketju.domain.chains import (
    Chain,
    ChainNotFound,
    load_chain,
)
from ketju.domain.compare.alignment import ChainGoals, Comparison, _chain_dict, align, load_goals_of
from ketju.domain.compare.index import ChainIndex, UnknownChains, chain_index
from ketju.domain.compare.similarity import SCORE_DEFINITION
from ketju.domain.entities import names_of
from ketju.domain.texts import Texts
from ketju.infra.snapshot import Snapshot

# Loading and comparing many

class NotAChainName(ValueError):
    """A name of a chain that is neither an IRI nor `region/slug` (nor `region/chain/slug`)."""


_SLUG = re.compile(SLUG)


def chain_iri(text: str) -> str:
    """A chain's IRI from the ways people name it: its IRI, `region/slug` or
    `region/chain/slug`. The one function for this: the command line (`ketju compare`,
    `ketju reuse`), `/api/compare` and the compare page all call it.

    >>> chain_iri("varsinais-suomi/lonkkamurtuma")
    'https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma'
    >>> chain_iri("varsinais-suomi/chain/lonkkamurtuma")
    'https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma'
    >>> chain_iri(" https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma ")
    'https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma'
    >>> chain_iri("lonkkamurtuma")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    NotAChainName: 'lonkkamurtuma' is not a service chain
    """
    text = text.strip()
    if text.startswith(("https://", "http://")):
        return text
    parts = text.strip("/").lower().split("/")
    if len(parts) == 3 and parts[1] == "chain":
        parts = [parts[0], parts[2]]
    if len(parts) == 2 and all(_SLUG.fullmatch(part) for part in parts):
        return f"{ID}{parts[0]}/chain/{parts[1]}"
    raise NotAChainName(f"{text[:200]!r} is not a service chain: give its IRI or region/slug, "
                        "for example varsinais-suomi/lonkkamurtuma.")


def region_of(iri: str) -> str:
    """The region (short name) of a data IRI.

    >>> region_of("https://w3id.org/ketju/id/pohjois-savo/chain/lonkkamurtuma")
    'pohjois-savo'
    """
    return iri.removeprefix(ID).split("/", 1)[0] if iri.startswith(ID) else ""


def region_names(snapshot: Snapshot) -> dict[str, Texts]:
    """The names (fi/sv/en) of the regions by their short names (`varsinais-suomi`): the names
    of their organisers (`regions`), read once per build."""
    def make() -> dict[str, Texts]:
        organisers = [row["organiser"].value for row in snapshot.select("regions")]
        names = names_of(snapshot, organisers)
        found: dict[str, Texts] = {}
        for iri in organisers:
            if names.get(iri):
                found.setdefault(region_of(iri), names[iri])
        return found
    return snapshot.kept("region-names", make)


def region_name(names: Mapping[str, Texts], region: str, lang: str) -> str:
    """A region's name in `lang` (with fallback); a region without one is named by its short
    name written as a name (`pohjois-savo` → `Pohjois-Savo`), never left a slug.

    >>> region_name({}, "pohjois-savo", "fi")
    'Pohjois-Savo'
    """
    texts = names.get(region)
    text = texts.pick(lang)[0] if texts else ""
    return text or "-".join(part.capitalize() for part in region.split("-"))


def load_chains(snapshot: Snapshot,
                iris: Sequence[str]) -> tuple[list[Chain], dict[str, ChainGoals]]:
    """The chains (full, with texts) and their goals; `UnknownChains` names all missing ones."""
    chains: list[Chain] = []
    unknown: list[str] = []
    for iri in iris:
        try:
            chains.append(load_chain(snapshot, iri))
        except ChainNotFound:
            unknown.append(iri)
    if unknown:
        raise UnknownChains(unknown)
    return chains, load_goals_of(snapshot, [c.iri for c in chains])


def load_indexed_chains(snapshot: Snapshot, iris: Sequence[str],
                        index: ChainIndex | None = None,
                        ) -> tuple[list[Chain], dict[str, ChainGoals]]:
    """Like `load_chains`, but the steps come from the chain index (`chain_index`) and only
    the texts and goals are queried: milliseconds instead of seconds on a national catalogue.
    """
    index = index or chain_index(snapshot)
    unknown = [iri for iri in iris if iri not in index]
    if unknown:
        raise UnknownChains(unknown)
    return index.named_chains(snapshot, iris), load_goals_of(snapshot, iris)


def compare(snapshot: Snapshot, a: str, b: str) -> Comparison:
    """Load two chains by IRI and compare them (`UnknownChains` when one does not exist)."""
    chains, goals = load_chains(snapshot, [a, b])
    return align(chains[0], chains[1], goals[chains[0].iri], goals[chains[1].iri])


def compare_many(chains: Sequence[Chain], goals: Mapping[str, ChainGoals] | None = None,
                 lang: str = "fi") -> dict[str, Any]:
    """All pairwise comparisons, a score matrix and a side-by-side table against the first.

    `table.rows` are aligned rows: one position (or null) per chain, in the first chain's
    order; a step of another chain that matches no step of the first gets a row of its own
    after the row of its previous step.
    """
    if len(chains) < 2:
        raise ValueError("comparing needs at least two chains")
    goals = goals or {}
    count = len(chains)
    matrix = [[1.0 if i == j else 0.0 for j in range(count)] for i in range(count)]
    pairs = []
    by_pair: dict[tuple[int, int], Comparison] = {}
    for i in range(count):
        for j in range(i + 1, count):
            result = align(chains[i], chains[j], goals.get(chains[i].iri),
                           goals.get(chains[j].iri))
            by_pair[i, j] = result
            matrix[i][j] = matrix[j][i] = result.score
            pairs.append(result.to_dict(lang))
    # Side-by-side rows against the first chain.
    rows: list[list[int | None]] = [[s.position] + [None] * (count - 1) for s in chains[0].steps]
    row_of_first = {s.position: rows[k] for k, s in enumerate(chains[0].steps)}
    moved: list[dict[str, Any]] = []
    for k in range(1, count):
        result = by_pair[0, k]
        counterpart = {p.b.position: p.a.position for p in result.matched}
        moved.extend({"chain": k, "position": p.b.position, "first": p.a.position}
                     for p in result.order_differences)
        anchor: list[int | None] | None = None
        for step in chains[k].steps:
            if step.position in counterpart:
                anchor = row_of_first[counterpart[step.position]]
                anchor[k] = step.position
                continue
            new_row: list[int | None] = [None] * count
            new_row[k] = step.position
            at = next(r for r, row in enumerate(rows) if row is anchor) + 1 if anchor else 0
            rows.insert(at, new_row)
            anchor = new_row
    return {
        "chains": [_chain_dict(c, lang) for c in chains],
        "score_definition": SCORE_DEFINITION,
        "scores": [[round(x, 6) for x in row] for row in matrix],
        "pairs": pairs,
        "table": {"rows": rows, "moved": moved},
    }
