"""A comparison made from the chain index: the names it holds are those `names_of` finds, and
comparing two chains asks the store one query (their goals), whatever their size."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ketju.core.project import Project
from ketju.domain.compare import (
    ChainIndex,
    compare_many,
    load_goals,
    load_goals_of,
    load_indexed_chains,
)
from ketju.domain.entities import names_of
from ketju.infra.snapshot import Snapshot, SnapshotSource
from ketju.infra.store import Row

HIP = ("https://w3id.org/ketju/id/varsinais-suomi/chain/lonkkamurtuma",
       "https://w3id.org/ketju/id/pohjois-savo/chain/lonkkamurtuma")


class Counting(Snapshot):
    """A snapshot that counts the named queries it runs."""

    def __init__(self, other: Snapshot) -> None:
        super().__init__(other.version, other.data, other.queries, other.files, 0)
        self.ran: list[str] = []

    def select(self, name: str, /, **bindings: ox.NamedNode | list) -> list[Row]:
        self.ran.append(name)
        return super().select(name, **bindings)


@pytest.fixture(scope="module")
def snapshot(built_project: Project) -> Snapshot:
    return SnapshotSource.embedded(built_project, cache_entries=0).current()


def test_the_index_holds_the_names_names_of_finds(snapshot: Snapshot) -> None:
    index = ChainIndex.build(snapshot)
    assert index.names and index.names.keys() >= set(index.chains())
    named = {iri: texts for iri, texts in index.names.items() if texts}
    assert {k: v.values for k, v in named.items()} == {
        k: v.values for k, v in names_of(snapshot, set(index.names)).items()}


def test_comparing_two_chains_takes_one_query(snapshot: Snapshot) -> None:
    counting = Counting(snapshot)
    index = ChainIndex.build(counting)
    chains = index.chains()
    assert set(HIP) <= set(chains)
    # The vocabulary's names (producer types, levels, hand-over kinds) once per snapshot.
    load_indexed_chains(counting, list(HIP), index)
    counting.ran.clear()
    loaded, goals = load_indexed_chains(counting, list(HIP), index)
    assert counting.ran == ["chain-goals"]
    assert all(step.service.names for chain in loaded for step in chain.steps)
    assert all(chain.names for chain in loaded)
    assert goals == {iri: load_goals(snapshot, iri) for iri in HIP}
    assert compare_many(loaded, goals)["scores"][0][1] > 0.5


def test_goals_of_several_chains_are_each_chains_own(snapshot: Snapshot) -> None:
    chains = ChainIndex.build(snapshot).chains()[:6]
    assert load_goals_of(snapshot, chains) == {iri: load_goals(snapshot, iri) for iri in chains}
    assert load_goals_of(snapshot, []) == {}
