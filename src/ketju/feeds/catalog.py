"""(being written)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ketju.project import Project


def build_step(project: Project, store: ox.Store, folder: Path) -> dict[str, Any]:
    """Run by `ketju build` on the new store before the swap; returns facts for the manifest."""
    return {}
