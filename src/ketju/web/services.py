"""What routes depend on, reached through `Depends(services)`: settings, project, data, queries."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import Depends, Request

from ketju.build import MANIFEST
from ketju.project import Project
from ketju.queries import load_queries
from ketju.settings import Settings
from ketju.sparql.backend import QueryBackend
from ketju.sparql.endpoint import ResultCache
from ketju.store import Catalogue, EmbeddedCatalogue


class Services:
    """What routes depend on, reached through `Depends(services)`."""

    def __init__(self, settings: Settings, project: Project, catalogue: Catalogue,
                 backend: QueryBackend) -> None:
        self.settings = settings
        self.project = project
        self.catalogue = catalogue
        self.backend = backend
        self.queries = load_queries(project.queries_dir)
        #: Finished answers per build: pages and their RDF, search, comparisons (pages.kept).
        self.page_cache = ResultCache(settings.result_cache_entries)
        self._build_info: tuple[str, dict[str, Any]] = ("", {})
        #: Set once this process has its chain index (see compare.warm_index).
        self.warm = threading.Event()

    def build_info(self) -> dict[str, Any]:
        """Which build is served (store, commit, time, triples), read once per data version:
        every page's ETag and Last-Modified come from it."""
        version = self.catalogue.version()
        if self._build_info[0] != version:
            self._build_info = (version, self._read_build_info())
        return dict(self._build_info[1])

    def _read_build_info(self) -> dict[str, Any]:
        if isinstance(self.catalogue, EmbeddedCatalogue):
            try:
                manifest = json.loads((self.catalogue.path / MANIFEST).read_text("utf-8"))
            except (OSError, ValueError):
                manifest = {}
            return {"store": self.catalogue.path.name, "commit": manifest.get("commit"),
                    "built_at": manifest.get("built_at"), "triples": manifest.get("triples")}
        rows = self.catalogue.select("""
            SELECT ?time ?triples ?commit WHERE {
              <https://w3id.org/ketju/build> <http://www.w3.org/ns/prov#endedAtTime> ?time ;
                <http://rdfs.org/ns/void#triples> ?triples .
              OPTIONAL { <https://w3id.org/ketju/build> <https://w3id.org/ketju/ontology#commit>
                         ?commit } } LIMIT 1""")
        row = rows[0] if rows else {}
        return {"store": "remote", "commit": row["commit"].value if "commit" in row else None,
                "built_at": row["time"].value if "time" in row else None,
                "triples": int(row["triples"].value) if "triples" in row else None}


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]
