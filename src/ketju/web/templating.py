"""Jinja2 templates: autoescaped, with the interface language and its texts at hand."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ketju.core.languages import LANGUAGES
from ketju.domain.monitoring import format_number
from ketju.web.i18n import NAMES, translate


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["LANGUAGE_NAMES"] = NAMES
    env.filters["number"] = format_number  # `{{ value|number(lang) }}`: 73,5 in fi and sv
    return env


def render(template: str, lang: str, **context: Any) -> str:
    def t(key: str, **values: Any) -> str:
        text = translate(key, lang)
        return text.format(**values) if values else text

    return environment().get_template(template).render(lang=lang, t=t, **context)
