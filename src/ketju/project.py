"""Where things are: the source tree (ontology, shapes, data, queries) and the store.

A *source file* is one Turtle file that becomes one named graph in the store. Its role decides
which checks apply: data files are contributions owned by a region; ontology, vocabulary and
shape files are the project's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ketju.namespaces import graph_iri


class Role(StrEnum):
    ONTOLOGY = "ontology"
    SHAPES = "shapes"
    DATA = "data"


@dataclass(frozen=True)
class SourceFile:
    """One Turtle file: its path on disk, its name relative to the project and its graph."""

    path: Path
    relative: str
    role: Role

    @property
    def graph(self) -> str:
        return graph_iri(self.relative)

    @property
    def region(self) -> str | None:
        """The region folder of a data file: data/{region}/file.ttl."""
        parts = self.relative.split("/")
        if self.role is Role.DATA and len(parts) >= 3 and parts[0] == "data":
            return parts[1]
        return None


@dataclass(frozen=True)
class Project:
    """A ketju source tree and the store built from it."""

    root: Path

    @classmethod
    def locate(cls, start: Path | None = None) -> Project:
        """The project at $KETJU_HOME, or the nearest folder upwards holding ontology/ketju.ttl."""
        if home := os.environ.get("KETJU_HOME"):
            return cls(Path(home).resolve())
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "ontology" / "ketju.ttl").is_file():
                return cls(folder)
        return cls(here)

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def var_dir(self) -> Path:
        return Path(os.environ.get("KETJU_VAR", self.root / "var"))

    @property
    def store_link(self) -> Path:
        """The symlink that always points at the current good store."""
        return self.var_dir / "store"

    @property
    def stores_dir(self) -> Path:
        return self.var_dir / "stores"

    def source_file(self, path: Path) -> SourceFile:
        """Describe a file; files outside the tree keep their path below a `data/` folder."""
        resolved = path.resolve()
        try:
            relative = resolved.relative_to(self.root).as_posix()
        except ValueError:
            parts = resolved.parts
            relative = (
                "/".join(parts[len(parts) - 1 - parts[::-1].index("data") :])
                if "data" in parts
                else resolved.name
            )
        top = relative.split("/", 1)[0]
        role = {"ontology": Role.ONTOLOGY, "shapes": Role.SHAPES}.get(top, Role.DATA)
        return SourceFile(resolved, relative, role)

    def ontology_files(self) -> list[SourceFile]:
        return [self.source_file(p) for p in sorted(self.ontology_dir.rglob("*.ttl"))]

    def shape_files(self) -> list[SourceFile]:
        return [self.source_file(p) for p in sorted(self.shapes_dir.rglob("*.ttl"))]

    def data_files(self) -> list[SourceFile]:
        return [self.source_file(p) for p in sorted(self.data_dir.rglob("*.ttl"))]

    def all_files(self) -> list[SourceFile]:
        return self.ontology_files() + self.shape_files() + self.data_files()

    def regions_in_data(self) -> list[str]:
        return sorted(p.name for p in self.data_dir.iterdir() if p.is_dir())
