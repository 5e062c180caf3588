"""What routes depend on, reached through `Depends(services)`: settings, project, data, queries."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import Depends, Request

from ketju.core.project import Project
from ketju.core.queries import load_queries
from ketju.core.settings import Settings
from ketju.infra.build import MANIFEST
from ketju.infra.sparql.backend import QueryBackend
from ketju.infra.store import Catalogue, EmbeddedCatalogue, RemoteCatalogue
from ketju.web.sparql import ResultCache


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
        every page's ETag and Last-Modified come from it. Never waits for a remote engine:
        its build is the one last checked (in the background), so /healthz, 404 pages and
        error pages can show it from the event loop while the engine hangs."""
        if isinstance(self.catalogue, RemoteCatalogue):
            return self.catalogue.build_info()
        version = self.catalogue.version()
        if self._build_info[0] != version:
            self._build_info = (version, self._read_build_info())
        return dict(self._build_info[1])

    def _read_build_info(self) -> dict[str, Any]:
        assert isinstance(self.catalogue, EmbeddedCatalogue)
        try:
            manifest = json.loads((self.catalogue.path / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            manifest = {}
        return {"store": self.catalogue.path.name, "commit": manifest.get("commit"),
                "built_at": manifest.get("built_at"), "triples": manifest.get("triples")}


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(services)]
