"""The life cycle of a description (issue 16; docs/MODELLING.md, "Life cycle of a description"):
the words people use for its status and its model state, and the IRIs behind them.

A description is a draft, proposed, approved or retired (replaced by a successor, or withdrawn
without one); it describes the current state or the target model of its services. The API's
filters (`/api/chains?status=retired&state=current`) take these words.

>>> [iri.rsplit("/", 1)[1] for iri in STATUS_WORDS["retired"]]
['Deprecated', 'Withdrawn']
>>> status_word("https://w3id.org/ketju/vocab/status/Proposed")
'proposed'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from ketju.core.namespaces import ADMS_STATUS, KSTATUS, MODEL_STATE, ONTOLOGY

#: Status words, in the order of the life cycle, and the status concepts each stands for.
STATUS_WORDS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "draft": (ADMS_STATUS + "UnderDevelopment",),
    "proposed": (KSTATUS + "Proposed",),
    "approved": (ADMS_STATUS + "Completed",),
    "retired": (ADMS_STATUS + "Deprecated", ADMS_STATUS + "Withdrawn"),
})
#: Model-state words and their concepts.
STATE_WORDS: Final[Mapping[str, str]] = MappingProxyType({
    "current": MODEL_STATE + "current",
    "target": MODEL_STATE + "target",
})

#: The life-cycle properties of a description (besides adms:status, dct:replaces and
#: dct:isReplacedBy).
VALID_FROM: Final = ONTOLOGY + "validFrom"
VALID_UNTIL: Final = ONTOLOGY + "validUntil"
APPROVED_BY: Final = ONTOLOGY + "approvedBy"
MODEL_STATE_PROPERTY: Final = ONTOLOGY + "modelState"
TARGET_MODEL_OF: Final = ONTOLOGY + "targetModelOf"
DECISION: Final = ONTOLOGY + "Decision"


def status_word(iri: str) -> str | None:
    """The word of a status concept (None for a concept outside the life cycle)."""
    return next((word for word, iris in STATUS_WORDS.items() if iri in iris), None)


__all__ = ["APPROVED_BY", "DECISION", "MODEL_STATE_PROPERTY", "STATE_WORDS", "STATUS_WORDS",
           "TARGET_MODEL_OF", "VALID_FROM", "VALID_UNTIL", "status_word"]
