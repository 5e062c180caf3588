"""A review as people and bots read it: Markdown for a pull-request comment, plain text for a
terminal, JSON records for bots.

Names come from the data (head first, then base) in the chosen language, then from the
vocabularies; a raw IRI is shown only when nothing names it. Durations are words ("at most
2 days"), dates as the language writes them, numbers with its decimal separator.

>>> texts("fi")["nothing"], texts("en")["what_transition"]
('Ei muutoksia kuvauksiin.', 'Hand-over')
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from ketju.core.languages import FALLBACK
from ketju.core.namespaces import KSTATUS, RDFS
from ketju.domain.monitoring import duration_words, format_number
from ketju.domain.review.changes import (
    LABEL,
    PROPERTY_KINDS,
    Change,
    Review,
)
from ketju.domain.review.sources import Graph

RDFS_LABEL = RDFS + "label"
K = "https://w3id.org/ketju/ontology#"
#: JHS 183 service classes are shown with their code ("P4.3 Kotihoito ja kotipalvelut").
JHS = "http://uri.suomi.fi/codelist/ptv/ptvserclass2/code/"
NOTATION = "http://www.w3.org/2004/02/skos/core#notation"
#: The groups of a description's changes, in the order they are shown.
GROUPS = (("description", ("description", "decision")), ("step", ("step",)),
          ("transition", ("transition",)), ("goal", ("goal", "indicator", "target")),
          ("producer", ("producer",)), ("service", ("service", "part")))
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~!&])")
_DATE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})")


@cache
def texts(lang: str) -> dict[str, str]:
    """The review's texts in `lang`, each missing one taken along the fallback order."""
    with open(Path(__file__).with_name("texts.toml"), "rb") as source:
        table: dict[str, dict[str, str]] = tomllib.load(source)
    merged: dict[str, str] = {}
    for language in reversed(FALLBACK.get(lang, FALLBACK["fi"])):
        merged.update(table.get(language, {}))
    return merged


def escape_markdown(text: str) -> str:
    r"""Text that Markdown shows as it is.

    >>> escape_markdown("a*b_<c>")
    'a\\*b\\_\\<c\\>'
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _pick(graph: Graph, iri: str, lang: str) -> str | None:
    for predicate in (LABEL, RDFS_LABEL):
        literals = [o for o in graph.objects(iri, predicate) if isinstance(o, ox.Literal)]
        for language in (*FALLBACK.get(lang, ()), ""):
            for literal in sorted(literals, key=lambda x: x.value):
                if (literal.language or "") == language:
                    return literal.value
        if literals:
            return sorted(x.value for x in literals)[0]
    return None


def _in_language(graph: Graph, iri: str, lang: str) -> str | None:
    return next((o.value for o in graph.objects(iri, LABEL)
                 if isinstance(o, ox.Literal) and o.language == lang), None)


class Namer:
    """Names of things and values in one language, from both sides of a review."""

    def __init__(self, review: Review, lang: str) -> None:
        self.review, self.lang, self.t = review, lang, texts(lang)

    def name(self, iri: str, *, base_first: bool = False) -> str | None:
        sides = (self.review.base, self.review.head)
        graphs = [s.data for s in (sides if base_first else reversed(sides))]
        graphs += [s.vocab for s in reversed(sides)]
        for graph in graphs:
            if (found := _pick(graph, iri, self.lang)) is not None:
                if iri.startswith(JHS) and (notation := graph.value(iri, NOTATION)):
                    return f"{notation} {found}"
                return found
        if iri.startswith(KSTATUS):
            return self.t.get("status_" + iri[len(KSTATUS):])
        return None

    def entity(self, change: Change) -> str:
        """What names the changed thing: its label, a hand-over by its steps."""
        base_first = change.kind == "removed"
        if found := self.name(change.entity, base_first=base_first):
            return found
        if change.what == "transition":
            sides = [self.review.base.data, self.review.head.data]
            graph = sides[0] if base_first else sides[1]
            ends = [graph.value(change.entity, K + p) for p in ("fromStep", "toStep")]
            if all(ends):
                names = [self.name(e, base_first=base_first) or e for e in ends if e]
                return self.t["transition_name"].format(**{"from": names[0], "to": names[1]})
        return change.entity

    def value(self, key: str | None, value: str | None) -> tuple[str, bool]:
        """A value in words, and whether it is a raw IRI (shown as code)."""
        if value is None:
            return self.t["none"], False
        how = PROPERTY_KINDS.get(key or "", "text")
        if how == "iri":
            names = [self.name(v) for v in value.split(", ")]
            if all(names):
                return ", ".join(n for n in names if n), False
            return value, True
        if how == "duration":
            return self.duration(value, maximum=key in ("maximumWait", "maximumDuration")), False
        if how == "date":
            return self.date(value), False
        if how == "number":
            try:
                return format_number(float(value), self.lang), False
            except ValueError:
                return value, False
        return value, False

    def duration(self, value: str, *, maximum: bool) -> str:
        """An ISO 8601 duration in words.

        >>> from ketju.domain.review.sources import Side
        >>> n = Namer(Review(Side("a", Graph(), Graph()), Side("b", Graph(), Graph()), [], {}),
        ...           "fi")
        >>> n.duration("P2D", maximum=True), n.duration("PT1,5H", maximum=False)
        ('enintään 2 päivää', '1,5 tuntia')
        """
        shown = duration_words(value, self.lang, lambda key, n: self.t[key].format(n=n))
        if shown is None:
            return value
        return self.t["at_most"].format(duration=shown) if maximum else shown

    def date(self, value: str) -> str:
        match = _DATE.match(value.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            return value
        year, month, day = match.groups()
        if self.lang == "en":
            return f"{int(day)} {self.t[f'month_name_{int(month)}']} {year}"
        return f"{int(day)}.{int(month)}.{year}"


def _plural(t: dict[str, str], key: str, n: int) -> str:
    return t[f"{key}_one" if n == 1 else f"{key}_other"].format(n=n)


def summary(review: Review, lang: str) -> str:
    """The first line: how many descriptions changed, were added or removed (and problems)."""
    t = texts(lang)
    if not review.changes:
        return t["nothing"]
    parts = []
    for kind in ("chain", "package"):
        for state in ("changed", "added", "removed"):
            n = sum(1 for k, s in review.descriptions.values() if (k, s) == (kind, state))
            if n:
                parts.append(_plural(t, f"{kind}_{state}", n))
    if review.problems:
        parts.append(_plural(t, "problems", len(review.problems)))
    return ", ".join(parts) + t["summary_end"]


def sentence(change: Change, namer: Namer, strong: Callable[[str], str],
             code: Callable[[str], str], plain: Callable[[str], str]) -> str:
    """One change as a sentence; `strong`, `code` and `plain` mark names, raw IRIs and the
    rest of the values for the output format."""
    t = namer.t

    def shown(key: str | None, value: str | None) -> str:
        text, raw = namer.value(key, value)
        return code(text) if raw else plain(text)

    what = t[f"what_{change.what}"]
    name = strong(namer.entity(change))
    if change.kind in ("added", "removed"):
        said = t[change.kind].format(what=plain(what), name=name)
        graph = (namer.review.base if change.kind == "removed" else namer.review.head).data
        if change.what == "step" and (position := graph.value(change.entity, K + "position")):
            said += plain(t["at_position"].format(n=position))
        ends = [graph.value(change.entity, K + p) for p in ("fromStep", "toStep")]
        if change.what == "transition" and ends[0] and ends[1] and namer.name(change.entity):
            names = [namer.name(e, base_first=change.kind == "removed") or e for e in ends if e]
            said += plain(" (" + t["transition_name"].format(
                **{"from": names[0], "to": names[1]}) + ")")
        return said
    if change.kind == "renamed":
        old = _pick(namer.review.base.data, change.entity, namer.lang) or change.before
        new = _pick(namer.review.head.data, change.entity, namer.lang) or change.after
        for language in FALLBACK.get(namer.lang, ()):
            if old != new:
                break
            # Renamed in another language only: say it in that one.
            old = _in_language(namer.review.base.data, change.entity, language) or old
            new = _in_language(namer.review.head.data, change.entity, language) or new
        return t["renamed"].format(what=plain(what), before=strong(old or ""),
                                   after=strong(new or ""))
    values = {"what": plain(what), "name": name, "before": shown(change.property, change.before),
              "after": shown(change.property, change.after),
              "property": plain(t.get(f"prop_{change.property}", change.property or ""))}
    if change.kind == "moved":
        values["before"], values["after"] = plain(change.before or "?"), plain(
            change.after or "?")
        return t["moved"].format(**values)
    if change.what == "description":
        # The heading names the description: say only what changed.
        label = values["property"]
        text = t["changed_description"].format(**values | {
            "property": label[:1].upper() + label[1:]})
    else:
        text = t["changed"].format(**values)
    if change.problem:
        text += ". " + plain(t["backwards"])
    return text


def _added(review: Review, iri: str, kind: str, t: dict[str, str]) -> str:
    """What a new description holds: a chain's steps and hand-overs, a package's services."""
    graph = review.head.data
    if kind == "package":
        return t["package_added"].format(services=len(graph.iris(iri, K + "includesService")))
    return t["description_added"].format(steps=len(graph.iris(iri, K + "hasStep")),
                                         transitions=len(graph.iris(iri, K + "hasTransition")))


#: GitHub refuses a comment longer than 65,536 characters: a longer review is cut there.
COMMENT_LIMIT = 60_000


def _by_description(review: Review) -> dict[str, list[Change]]:
    found: dict[str, list[Change]] = {}
    for change in review.changes:
        found.setdefault(change.description, []).append(change)
    return found


def markdown(review: Review, lang: str, limit: int = COMMENT_LIMIT) -> str:
    """The review as a pull-request comment: the summary first, then a heading per changed
    description with its changes as bullet lists, grouped as the chain page groups them.
    Descriptions that would take the comment past `limit` characters are only counted."""
    t, namer = texts(lang), Namer(review, lang)
    lines = [f"**{escape_markdown(summary(review, lang))}**"]

    def strong(text: str) -> str:
        return f"**{escape_markdown(text)}**"

    def code(text: str) -> str:
        return f"`{text.replace('`', '')}`"

    for problem in review.problems:
        subject = namer.name(problem.description) or problem.description
        lines += ["", f"> ⚠️ **{escape_markdown(t['problem'])}:** {strong(subject)}: "
                  + sentence(problem, namer, strong, code, escape_markdown)]
    size = sum(len(line) + 1 for line in lines)
    changes = _by_description(review)
    for index, (iri, (kind, state)) in enumerate(review.descriptions.items()):
        title = namer.name(iri, base_first=state == "removed") or iri
        heading = f"### {escape_markdown(t['kind_' + kind])}: [{escape_markdown(title)}](<{iri}>)"
        if state != "changed":
            heading += f" ({escape_markdown(t['state_' + state])})"
        block = ["", heading]
        if state == "added":
            block += ["", escape_markdown(_added(review, iri, kind, t))]
        elif state == "removed":
            block += ["", escape_markdown(t["description_removed"])]
        else:
            mine = changes.get(iri, [])
            for group, whats in GROUPS:
                found = [c for c in mine if c.what in whats]
                if not found:
                    continue
                block += ["", f"**{escape_markdown(t['group_' + group])}**", ""]
                for change in found:
                    mark = "⚠️ " if change.problem else ""
                    block.append(f"- {mark}" + sentence(change, namer, strong, code,
                                                        escape_markdown))
        length = sum(len(line) + 1 for line in block)
        if size + length > limit:
            rest = len(review.descriptions) - index
            lines += ["", "---", "", escape_markdown(t["cut"].format(n=rest))]
            break
        lines += block
        size += length
    return "\n".join(lines) + "\n"


def text(review: Review, lang: str) -> str:
    """The review for a terminal: the same lines without Markdown."""
    t, namer = texts(lang), Namer(review, lang)
    lines = [summary(review, lang)]
    changes = _by_description(review)

    def quoted(name: str) -> str:
        return f"\u201d{name}\u201d" if lang != "en" else f"\u201c{name}\u201d"

    def same(value: str) -> str:
        return value

    for iri, (kind, state) in review.descriptions.items():
        title = namer.name(iri, base_first=state == "removed") or iri
        suffix = f" ({t['state_' + state]})" if state != "changed" else ""
        lines += ["", f"{t['kind_' + kind]}: {title}{suffix}"]
        if state == "added":
            lines.append("  " + _added(review, iri, kind, t))
            continue
        if state == "removed":
            lines.append("  " + t["description_removed"])
            continue
        for change in changes.get(iri, []):
            mark = f"{t['problem']}! " if change.problem else ""
            lines.append(f"  - {mark}" + sentence(change, namer, quoted, same, same))
    return "\n".join(lines) + "\n"


def records(review: Review, lang: str) -> list[dict[str, object]]:
    """One record per change for bots, with the names in `lang` beside the IRIs."""
    namer = Namer(review, lang)
    found = []
    for change in review.changes:
        record = change.record()
        record["description_name"] = namer.name(change.description)
        record["entity_name"] = namer.entity(change)
        found.append(record)
    return found


def to_json(review: Review, lang: str) -> str:
    return json.dumps({"summary": summary(review, lang), "changes": records(review, lang)},
                      ensure_ascii=False, indent=2)


FORMATS: dict[str, Callable[[Review, str], str]] = {
    "markdown": markdown, "text": text, "json": lambda r, lang: to_json(r, lang) + "\n"}
