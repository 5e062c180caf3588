"""The browser page of `/sparql`: YASGUI with the named queries as examples, and a plain form."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from ketju.core.project import Project
from ketju.core.queries import load_queries
from ketju.core.settings import Settings
from ketju.web.i18n import choose_language
from ketju.web.templating import render


def language_of(scope: dict[str, Any]) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1")
               for k, v in scope.get("headers", [])}
    param = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
    cookie = SimpleCookie(headers.get("cookie", ""))
    chosen = cookie["lang"].value if "lang" in cookie else None
    return choose_language(param, chosen, headers.get("accept-language"))


def query_page(project: Project, scope: dict[str, Any], settings: Settings | None = None) -> bytes:
    settings = settings or Settings.from_env()
    examples = list(load_queries(project.queries_dir).values())
    first = examples[0].body.strip() if examples else "SELECT * WHERE { ?s ?p ?o } LIMIT 10"
    html = render("query.html", language_of(scope), examples=examples, first_query=first,
                  timeout=f"{settings.query_timeout:g}", max_rows=settings.max_rows)
    return html.encode("utf-8")
