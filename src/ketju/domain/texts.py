"""Names and texts in several languages, and the nodes that carry them.

Every view of the catalogue (chains, packages, goals, entity pages) names things with `Node`:
an IRI and its names in every language they exist in; `Texts.pick(lang)` chooses one along
the fallback order of ketju.core.languages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ketju.core.languages import FALLBACK


@dataclass(frozen=True)
class Texts:
    """One text in several languages: {"fi": "...", "sv": "...", "en": "..."}."""

    values: dict[str, str] = field(default_factory=dict)

    def pick(self, lang: str) -> tuple[str, str]:
        """The text in `lang` or the first fallback that exists, with the language used."""
        for candidate in FALLBACK.get(lang, FALLBACK["fi"]):
            if candidate in self.values:
                return self.values[candidate], candidate
        for candidate, value in sorted(self.values.items()):
            return value, candidate
        return "", lang

    def __bool__(self) -> bool:
        return bool(self.values)


@dataclass(frozen=True)
class Node:
    """Something with an IRI and names (a service, a producer, a level...)."""

    iri: str
    names: Texts = field(default_factory=Texts)

    def label(self, lang: str) -> str:
        text, _ = self.names.pick(lang)
        return text or self.iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    @property
    def code(self) -> str:
        """The last segment of the IRI (e.g. the code of a vocabulary concept)."""
        return self.iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
