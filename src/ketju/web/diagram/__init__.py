"""A service chain drawn on the server as SVG: swimlanes, steps in order, labelled hand-overs.

`chain_svg(chain, lang)` returns one self-contained `<svg>` element (no script, no external
resources, no foreignObject) for the chain page. Everything in it that comes from contributed
data is escaped, and links are only emitted for http(s) URLs or site-relative paths.

Layout
------
* **Lanes** (rows of the drawing): one horizontal swimlane per responsible producer, in the order
  in which the producers first appear in the chain (`lanes="sector"` groups by service sector
  instead). The lane label on the left gives the producer's name and, in smaller text, its
  producer type.
* **Columns**: steps are taken in position order and each step starts a new column, except that
  steps joined by `parallelWith` or `alternativeTo` (transitively) share the column of the first
  of them. When several steps of one column fall in the same lane, the lane grows a sub-row for
  each, so boxes never overlap.
* **Boxes**: a coloured band at the top gives the position and the service level as text; the
  band's colour also tells the level (five ranks, a viridis ramp from light to dark, readable in
  all common colour-vision deficiencies; the band text is black or white, whichever has the
  higher contrast, always at least 4.5:1). The step name is wrapped into at most three lines;
  the full name is in the box's `<title>` (shown on hover). Alternative steps have a dashed
  border and an "or" pill between them; parallel steps are joined by a double line and an
  "in parallel" pill; optional steps have a dotted border, a grey body and the word "optional".
* **Hand-overs** (`ketju:Transition`): dark arrows from the right side of the from-step to the
  left side of the to-step, drawn as smooth curves through a numbered marker. The marker sits
  in the gap just before the to-step's column; its number leads to the list under the drawing
  (`handovers`: kind, maximum wait as a humanised ISO 8601 duration, "P7D" -> "7 pv", and the
  responsible producer and/or role), so no text is cut and none lies over a connector; where
  the chain branches, each arrow has its own number. Markers in one gap are pushed apart so
  they never overlap. An arrow that skips columns runs along the gutter between rows so it
  does not cross boxes. An arrow between two steps of one column loops out to the right.
* **Back edges** (to an earlier column, e.g. monitoring -> assessment): leave the from-step to the
  right, run along a channel below all lanes (one track per back edge, with its marker) and
  enter the to-step from the left.
* `followedBy` relations without a described hand-over are thin grey arrows without a label.
* **Drafts** (`ketju.domain.chains.draft_status`): a dashed "Draft: the description is not
  complete" mark in the header (and first in the description), and the lanes of placeholder
  producers left by `ketju reuse` dashed and tinted, so a printed or downloaded drawing of a
  draft cannot pass for an approved chain.
* **Legend** under the lanes: the level colours with their names, and the line and border styles.
* **Accessibility**: `role="img"` with `aria-labelledby` pointing to a `<title>` and a `<desc>`
  that summarises the chain in words (counts, the sequence with producer and level of each
  step, parallel, alternative and optional steps, returns to earlier steps). Ids derive from a
  hash of the chain IRI, so several diagrams can share a page.

The drawing is deterministic (same chain and language, same bytes) and sized by its content
(`viewBox`, with `width` and `height` equal to it: the page's stylesheet shrinks it to the
width of the page, `max-width: 100%; height: auto`, and links the drawing at full size).

Narrow screens get the chain top to bottom (`vertical_svg`, 360 units wide, see
`ketju.web.diagram.vertical`); `chain_diagram` gives both drawings and the numbered list of
hand-overs they share, for the page to show one by the screen's width.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ketju.domain.chains import Chain
from ketju.web.diagram.layout import (
    BOX_H,
    BOX_W,
    INK,
    LEVEL_COLOURS,
    LEVEL_TEXT,
    MUTED,
    Handover,
    LaneMode,
    Layout,
    contrast_ratio,
    handovers,
    humanise_duration,
    layout,
    no_link,
    safe_href,
    wrap,
)
from ketju.web.diagram.render import render
from ketju.web.diagram.vertical import NARROW_WIDTH, vertical_svg

__all__ = ["BOX_H", "BOX_W", "INK", "LEVEL_COLOURS", "LEVEL_TEXT", "MUTED", "NARROW_WIDTH",
           "Diagram", "Handover", "Layout", "chain_diagram", "chain_svg", "contrast_ratio",
           "handovers", "humanise_duration", "layout", "render", "safe_href", "vertical_svg",
           "wrap"]


#: Width above which a wide drawing counts as very wide (`Diagram.very_wide`).
VERY_WIDE = 1800


@dataclass(frozen=True)
class Diagram:
    """What the chain page shows: the swimlane drawing (wide screens, print), the drawing top
    to bottom (narrow screens) and the numbered hand-overs both mark."""

    wide: str
    narrow: str
    handovers: list[Handover]
    #: The wide drawing's own width (user units = CSS px at full size).
    wide_width: float = 0

    @property
    def very_wide(self) -> bool:
        """Whether the wide drawing would shrink below about 60 % on a desktop page (then
        the page shows the narrow drawing up to a wider screen)."""
        return self.wide_width > VERY_WIDE


def chain_diagram(chain: Chain, lang: str) -> Diagram:
    """Both drawings of the chain in `lang` and their numbered hand-overs."""
    drawing = layout(chain, lang)
    return Diagram(render(drawing), vertical_svg(chain, lang, listed=drawing.handovers),
                   drawing.handovers, drawing.width)


def chain_svg(chain: Chain, lang: str, link: Callable[[str], str | None] = no_link,
              *, lanes: LaneMode = "producer") -> str:
    """The chain as one `<svg>` element (a string), with texts in `lang`.

    `link(step_iri)` may give the URL of a step's page; only http(s) URLs and site-relative
    paths are used. `lanes` chooses the swimlanes: one per producer (default) or per sector.
    """
    return render(layout(chain, lang, lanes), link)
