"""What routes depend on: the process's services (`ServicesDep`: settings, project, the guarded
SPARQL backend, where snapshots come from) and the build being served (`SnapshotDep`).

The snapshot is reached through one dependency, resolved once per request in the event loop
(`SnapshotSource.current` never waits), so a request is answered from one build throughout,
and a rebuild that lands meanwhile is seen by the next request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request

from ketju.core.project import Project
from ketju.core.queries import NamedQuery
from ketju.core.settings import Settings
from ketju.infra.snapshot import Snapshot, SnapshotSource
from ketju.infra.sparql.backend import QueryBackend


class Services:
    """What lives as long as the server process: settings, project, the SPARQL backend and the
    source of snapshots. Nothing per build lives here (that is the Snapshot's)."""

    def __init__(self, settings: Settings, project: Project, source: SnapshotSource,
                 backend: QueryBackend) -> None:
        self.settings = settings
        self.project = project
        self.source = source
        self.backend = backend

    @property
    def queries(self) -> Mapping[str, NamedQuery]:
        """The named queries (from the source tree: the same for every build)."""
        return self.source.queries


async def services(request: Request) -> Services:
    # Async, like current_snapshot: a plain function would be called in a worker thread.
    return request.app.state.services  # type: ignore[no-any-return]


def snapshot_of(request: Request) -> Snapshot:
    """The snapshot to answer `request` from (exception handlers, which get no dependencies,
    call this; routes use `SnapshotDep`)."""
    source: SnapshotSource = request.app.state.source
    return source.current()


async def current_snapshot(request: Request) -> Snapshot:
    # Async, so FastAPI resolves it in the event loop: no thread hop before a kept answer.
    return snapshot_of(request)


ServicesDep = Annotated[Services, Depends(services)]
SnapshotDep = Annotated[Snapshot, Depends(current_snapshot)]
