"""The review of a change (`ketju diff`): what changed in the catalogue's descriptions
between two git revisions or two folders, in the chain comparison's words.

- `sources`: each side's Turtle, read from a folder or a git revision (no checkout);
- `changes`: the change records per package and chain (steps, hand-overs, goals, indicators,
  targets, producers, life cycle; a status that goes backwards is a problem);
- `render`: Markdown for a pull-request comment, text for a terminal, JSON for bots.
"""

from __future__ import annotations

from pathlib import Path

from ketju.domain.review.changes import Change, Review, compare
from ketju.domain.review.render import FORMATS, summary
from ketju.domain.review.sources import SourceError, read_side

__all__ = ["FORMATS", "Change", "Review", "SourceError", "compare", "review", "summary"]


def review(base: str, head: str, repo: Path) -> Review:
    """The changes from `base` to `head`, each a folder or a git revision of `repo`."""
    return compare(read_side(base, repo), read_side(head, repo))
