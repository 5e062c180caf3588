"""Where things are: the source tree (ontology, shapes, data, queries) and the store.

A *source file* is one Turtle file, or one observation CSV file under
data/{region}/observations/, that becomes one named graph in the store. Its role decides
which checks apply: data files are contributions owned by a region; ontology, vocabulary and
shape files are the project's own.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ketju.core.namespaces import graph_iri

#: What a source file may be called: its name becomes part of its graph's IRI and of links,
#: and names outside these letters broke the build (a space or `%zz` is not a valid IRI).
FILE_NAME = re.compile(r"[a-z0-9-]+\.ttl")
#: What a folder under ontology/, shapes/ or data/ may be called (a region's short name).
FOLDER_NAME = re.compile(r"[a-z0-9-]+")
#: The folder of a region's indicator observations (CSV), data/{region}/observations/.
OBSERVATIONS_FOLDER = "observations"
#: What an observation file may be called (same letters as Turtle files, ending .csv).
OBSERVATION_FILE_NAME = re.compile(r"[a-z0-9-]+\.csv")
#: A file that marks a region's observations illustrative; it is not a source file.
ILLUSTRATIVE_MARKER = "ILLUSTRATIVE"


def in_observations_folder(relative_folder: str) -> bool:
    """Whether a folder (relative to the project) is a region's data/{region}/observations/."""
    parts = relative_folder.split("/")
    return len(parts) == 3 and parts[0] == "data" and parts[2] == OBSERVATIONS_FOLDER


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
    def tabular(self) -> bool:
        """An observation CSV file (data/{region}/observations/x.csv), not Turtle."""
        return self.role is Role.DATA and self.relative.endswith(".csv")

    @property
    def region(self) -> str | None:
        """The region folder of a data file: data/{region}/file.ttl."""
        parts = self.relative.split("/")
        if self.role is Role.DATA and len(parts) >= 3 and parts[0] == "data":
            return parts[1]
        return None


class Refusal(StrEnum):
    """Why a file or folder is not read at all."""

    SYMLINK = "symlink"
    FILE_NAME = "file-name"
    FOLDER_NAME = "folder-name"
    NOT_A_FILE = "not-a-file"


@dataclass(frozen=True)
class RefusedPath:
    """A file or folder that is refused before anything is read from it."""

    #: Its name relative to the project, with control characters escaped (it is printed).
    relative: str
    reason: Refusal


def printable(name: str) -> str:
    """A file name safe to print: control and undecodable characters are escaped.

    >>> printable("a\\nb\\x1b[31m.ttl")
    'a\\\\nb\\\\x1b[31m.ttl'
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _walk(folder: Path, relative: str, strict: bool) -> tuple[list[Path], list[RefusedPath]]:
    """The Turtle files under `folder` (sorted), and what is refused there, following no link.

    Symbolic links are refused whatever they point to (a link to /etc/passwd would otherwise
    be read, and its first line shown in the syntax error); so are devices and pipes, and names
    outside FILE_NAME and FOLDER_NAME. Hidden entries (`.git`, `.DS_Store`) are skipped
    unless they are named like Turtle. `strict` (data/) refuses every other file too, so that
    `chain.ttl.txt` or `Chain.TTL` is not silently left out; in ontology/ and shapes/, which
    hold READMEs, only names ending in .ttl are checked. A region's observations/ folder
    holds CSV files (OBSERVATION_FILE_NAME) and may hold the ILLUSTRATIVE marker.
    """
    files: list[Path] = []
    refused: list[RefusedPath] = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except FileNotFoundError:
        return files, refused
    tabular = strict and in_observations_folder(relative)
    for entry in entries:
        name = entry.name
        if tabular and name == ILLUSTRATIVE_MARKER and not entry.is_symlink() \
                and entry.is_file(follow_symlinks=False):
            continue
        looks_turtle = name.rstrip().lower().endswith(".ttl")
        if name.startswith(".") and not looks_turtle:
            continue
        shown = printable(f"{relative}/{name}")
        if entry.is_symlink():
            refused.append(RefusedPath(shown, Refusal.SYMLINK))
        elif entry.is_dir(follow_symlinks=False):
            if FOLDER_NAME.fullmatch(name):
                more, worse = _walk(Path(entry.path), f"{relative}/{name}", strict)
                files += more
                refused += worse
            else:
                refused.append(RefusedPath(shown, Refusal.FOLDER_NAME))
        elif not (strict or looks_turtle):
            continue
        elif not entry.is_file(follow_symlinks=False):
            refused.append(RefusedPath(shown, Refusal.NOT_A_FILE))
        elif FILE_NAME.fullmatch(name) or (tabular and OBSERVATION_FILE_NAME.fullmatch(name)):
            files.append(Path(entry.path))
        else:
            refused.append(RefusedPath(shown, Refusal.FILE_NAME))
    return files, refused


def _refusal(source: SourceFile) -> Refusal | None:
    """Why a file named on the command line is refused, if it is."""
    parts = source.relative.split("/")
    # The folders below the top one (data/, or the draft's own folder) are on disk above it.
    folders = [source.path.parents[i] for i in range(len(parts) - 2)]
    if source.path.is_symlink() or any(folder.is_symlink() for folder in folders):
        return Refusal.SYMLINK
    if not all(FOLDER_NAME.fullmatch(part) for part in parts[:-1]):
        return Refusal.FOLDER_NAME
    tabular = in_observations_folder("/".join(parts[:-1])) and \
        OBSERVATION_FILE_NAME.fullmatch(parts[-1]) is not None
    if not (FILE_NAME.fullmatch(parts[-1]) or tabular):
        return Refusal.FILE_NAME
    if not source.path.is_file():
        return Refusal.NOT_A_FILE
    return None


@dataclass(frozen=True)
class Listing:
    """The source files of a tree at one moment (one walk; validation and builds list the tree
    once, which is 0.5 s of a one-file validation at national scale when done five times)."""

    ontology: list[SourceFile]
    shapes: list[SourceFile]
    data: list[SourceFile]
    refused: list[RefusedPath]

    @property
    def all(self) -> list[SourceFile]:
        return self.ontology + self.shapes + self.data


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
        # Not resolved: a link's target must not decide the name (see `given_sources`).
        absolute = Path(os.path.abspath(path))
        try:
            relative = absolute.relative_to(self.root).as_posix()
        except ValueError:
            parts = absolute.parts
            relative = (
                "/".join(parts[len(parts) - 1 - parts[::-1].index("data") :])
                if "data" in parts
                else absolute.name
            )
        top = relative.split("/", 1)[0]
        role = {"ontology": Role.ONTOLOGY, "shapes": Role.SHAPES}.get(top, Role.DATA)
        return SourceFile(absolute, relative, role)

    def _sources(self, folder: Path, strict: bool) -> tuple[list[SourceFile], list[RefusedPath]]:
        files, refused = _walk(folder, folder.name, strict)
        return [self.source_file(path) for path in files], refused

    def listing(self) -> Listing:
        """Every source file by role, and what is refused, from one walk of the tree."""
        found = {}
        refused: list[RefusedPath] = []
        for name, folder, strict in (("ontology", self.ontology_dir, False),
                                     ("shapes", self.shapes_dir, False),
                                     ("data", self.data_dir, True)):
            found[name], worse = self._sources(folder, strict)
            refused += worse
        return Listing(found["ontology"], found["shapes"], found["data"], refused)

    def ontology_files(self) -> list[SourceFile]:
        return self._sources(self.ontology_dir, strict=False)[0]

    def shape_files(self) -> list[SourceFile]:
        return self._sources(self.shapes_dir, strict=False)[0]

    def data_files(self) -> list[SourceFile]:
        return self._sources(self.data_dir, strict=True)[0]

    def all_files(self) -> list[SourceFile]:
        return self.ontology_files() + self.shape_files() + self.data_files()

    def refused_files(self) -> list[RefusedPath]:
        """Files and folders under ontology/, shapes/ and data/ that are not read at all."""
        return [refused for folder, strict in ((self.ontology_dir, False),
                                               (self.shapes_dir, False), (self.data_dir, True))
                for refused in self._sources(folder, strict)[1]]

    def given_sources(self, paths: list[Path]) -> tuple[list[SourceFile], list[RefusedPath]]:
        """The files named on the command line (folders: the Turtle files in them).

        A file given may live anywhere (a draft in /tmp), but the rules of the tree still
        apply to it: it is no link, nor is any folder its name is made of, and its name and
        those folders' names are ones its graph's IRI can be made of.
        """
        sources: list[SourceFile] = []
        refused: list[RefusedPath] = []
        for path in paths:
            absolute = Path(os.path.abspath(path))
            if absolute.is_dir() and not absolute.is_symlink():
                relative = self.source_file(absolute).relative
                files, worse = _walk(absolute, printable(relative),
                                     strict=relative.split("/", 1)[0] == "data")
                refused += worse
            else:
                files = [absolute]
            for file in files:
                source = self.source_file(file)
                reason = _refusal(source)
                if reason is None:
                    sources.append(source)
                else:
                    refused.append(RefusedPath(printable(source.relative), reason))
        return sources, refused

    def regions_in_data(self) -> list[str]:
        return sorted(p.name for p in self.data_dir.iterdir() if p.is_dir() and not p.is_symlink())
