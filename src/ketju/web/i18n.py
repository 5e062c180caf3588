"""Languages of the interface: Finnish, Swedish, English, with a fallback order.

The language comes from `?lang=`, then the `lang` cookie (set by the switch), then
Accept-Language, then Finnish. Texts live in messages.toml, one table per language; a text
missing in the chosen language falls back along FALLBACK (ketju.core.languages).

>>> choose_language(None, None, "sv-FI,sv;q=0.9,en;q=0.5")
'sv'
>>> choose_language("en", "fi", "sv")
'en'
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from ketju.core.kinds import label_texts
from ketju.core.languages import DEFAULT, FALLBACK, LANGUAGES

NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}


def choose_language(param: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (param, cookie):
        if candidate and candidate.lower() in LANGUAGES:
            return candidate.lower()
    ranges = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        if rest.strip().startswith("q="):
            try:
                q = float(rest.strip()[2:])
            except ValueError:
                q = 0.0
        ranges.append((-q, position, tag.strip().lower().split("-")[0]))
    for _, _, primary in sorted(ranges):
        if primary in LANGUAGES:
            return primary
    return DEFAULT


@cache
def messages() -> dict[str, dict[str, str]]:
    """The interface texts: messages.toml, and the kinds' names (`kind_*`, `kinds_*`) from
    the registry of kinds."""
    with open(Path(__file__).parent / "messages.toml", "rb") as source:
        loaded: dict[str, dict[str, object]] = tomllib.load(source)
    # A language's texts may also sit in sub-tables ([fi.area]): one block per area of work.
    table: dict[str, dict[str, str]] = {}
    for lang, texts in loaded.items():
        flat = table.setdefault(lang, {})
        for key, text in texts.items():
            if isinstance(text, dict):
                flat.update(text)
            else:
                flat[key] = str(text)
    for lang, texts in label_texts().items():
        table.setdefault(lang, {}).update(texts)
    return table


def translate(key: str, lang: str) -> str:
    table = messages()
    for candidate in FALLBACK.get(lang, FALLBACK[DEFAULT]):
        if key in table.get(candidate, {}):
            return table[candidate][key]
    return key
