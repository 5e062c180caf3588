"""Comparing service chains across regions: step alignment, differences and a similarity score.

Two chains are compared by aligning their steps in position order, the way sequences are
aligned in bioinformatics (Needleman–Wunsch), so that the order of the steps counts and not
only which steps there are. The result lists the matched steps (with what differs in them), the
steps only one side has, the steps that both have in a different place in the order, the shared
goals and indicators, and a score.

Step similarity
    s(x, y) = (0.45·c + 0.20·t + 0.20·l + 0.15·p) / 1.00, in [0, 1], where

    - c, JHS 183 service classes of the steps' services: a Jaccard index in which a class of one
      step that the other lacks, but whose sibling (same parent code: P5.5 and P5.6 under P5;
      P5 and P5.6) the other has, counts as a quarter of a shared class:
      c = (|X ∩ Y| + ¼·k) / (|X ∪ Y| − k), k the number of such sibling pairs (per parent, the
      smaller of the two sides' counts of unshared classes under it);
    - t, service tasks: the Jaccard index |X ∩ Y| / |X ∪ Y|;
    - l, service level: 1 when equal, ½ when one rank apart, else 0;
    - p, producer type: 1 when equal, ½ for two kinds of private production (private,
      private-direct-choice, private-voucher, private-contracted), else 0.

    Two empty sets, and two missing values, count as equal; equal features give exactly 1.

Match value
    Two steps *match* when s > 0.5 and c > 0 (their services share a class or a parent class).
    The match value is the similarity above that threshold, rescaled to [0, 1]:
    m(x, y) = (s − 0.5) / (1 − 0.5) = 2s − 1 for a match, 0 otherwise. So one good match
    outweighs two weak ones: with the raw similarity the alignment would rather shift a whole
    run of steps by one (emergency care against the emergency department, the emergency
    department against surgery, ...) than leave one step unmatched. m depends on the two steps
    only, never on their neighbours or positions; m(x, x) = 1.

Alignment value
    The steps of each chain are taken in position order; parallel and alternative steps are
    separate steps in that order. An alignment is a set of matching pairs (x, y) whose positions
    increase on both sides together (no crossings), each step in at most one pair. V(A, B) is
    the largest sum of m over an alignment, found by dynamic programming over the two step
    sequences (Needleman–Wunsch with gaps costing nothing).

Score
    score(A, B) = 2·V(A, B) / (n_A + n_B), n the numbers of steps (1 when both are empty): the
    share of all steps that are matched, each match weighed by its match value (a Dice
    coefficient).

Properties (each tested with hypothesis in tests/test_compare.py)
    1. 0 ≤ score ≤ 1: every m ≤ 1 and an alignment has at most min(n_A, n_B) pairs, so
       V ≤ min(n_A, n_B) ≤ (n_A + n_B) / 2.
    2. Symmetric, score(A, B) = score(B, A): m is symmetric and the alignments of (B, A) are
       those of (A, B) mirrored.
    3. A chain with itself scores 1 with every step matched to itself: m(x, x) = 1, so the
       identity alignment reaches the bound V = n; an alignment worth n has n pairs of value 1,
       and n non-crossing pairs between two sequences of n steps can only be the identity.
    4. Deleting a step from either chain never raises V: every alignment of the smaller pair of
       chains is an alignment of the original pair with the same value, since m does not depend
       on context.
    5. Deletions from a self-comparison never raise the score: if B is A with some steps
       deleted (m of A's n steps kept, in order), then V(A, B) = m (the identity alignment of
       the kept steps reaches the bound min(n, m)), so score(A, B) = 2m / (n + m), which grows
       with m; deleting a further step from B lowers the score, and by symmetry the same holds
       with the sides exchanged.

    No score normalised by the chains' sizes can promise more for arbitrary pairs: deleting a
    step that is not matched keeps V and shrinks n_A + n_B, so the score rises
    (A = [x, y], B = [x] scores 2/3; without y, 1). Keeping the score constant instead would
    make every chain score 1 against any chain that contains it.

Order differences
    Matched pairs of an alignment never cross, so a step that both chains have in a different
    place is left unmatched by it. After the alignment, unmatched steps of A and of B that would
    match are paired (greedily, best similarity first) and reported as moved, with the matched
    pairs whose order they invert. Moved pairs do not count in V. With full chains
    (`load_chain`), a moved pair whose every inversion is with a step it runs in parallel with
    or is an alternative to is flagged `parallel_only` (not a real order difference).

Similar chains
    `ChainIndex` holds the comparison features of every chain (one `chain-features` query per
    data version) and ranks the chains most similar to one: a cheap estimate from an inverted
    index of (service class, level) and parent-class tokens picks the candidates, which are then
    aligned exactly (CANDIDATES of them). The scores returned are exact; the ranking is exact
    among the candidates, and a chain is missed only when the estimate puts it below
    CANDIDATES others (on 2,000 synthetic chains the top 10 equalled a brute-force ranking).
    Chains that share no parent class with the query cannot match any of its steps (c = 0)
    and score 0, so they are never candidates.
    `chain_index` keeps one index per snapshot (one build). `load_indexed_chains` takes
    the steps of the chains to compare from the index and only their names (one `names-of`
    query) and goals (`chain-goals`) from the store: the quick path for the API, with the same
    scores as `load_chains`, which reads the full chains with `load_chain`.

The package's modules: `similarity` (two steps), `alignment` (two chains), `index` (every chain
of a build, for similar chains), `loading` (which chains, from where; comparing many),
`report` (plain text) and `states` (what a target model changes in its own current state).
Pages name regions by `region_names` (their organisers' names), never by the short names of
the IRIs.
"""

from ketju.domain.compare.alignment import (
    ChainGoals,
    Comparison,
    Difference,
    align,
    load_goals,
    load_goals_of,
)
from ketju.domain.compare.index import ChainIndex, StepRecord, UnknownChains, chain_index
from ketju.domain.compare.loading import (
    NotAChainName,
    chain_iri,
    compare,
    compare_many,
    load_chains,
    load_indexed_chains,
    region_name,
    region_names,
    region_of,
)
from ketju.domain.compare.report import format_comparison
from ketju.domain.compare.similarity import (
    SCORE_DEFINITION,
    match_value,
    parent_class,
    step_similarity,
)
from ketju.domain.compare.states import target_changes

__all__ = [
    "SCORE_DEFINITION", "ChainGoals", "ChainIndex", "Comparison", "Difference", "NotAChainName",
    "StepRecord",
    "UnknownChains", "align", "chain_index", "chain_iri", "compare", "compare_many",
    "format_comparison", "load_chains", "load_goals", "load_goals_of", "load_indexed_chains",
    "match_value", "parent_class", "region_name", "region_names", "region_of", "step_similarity",
    "target_changes",
]
