"""The two sides of a review: the catalogue's Turtle at a git revision or in a folder.

A side is read without touching the work tree: a git revision through `git archive` (its
data/ and, for the names of vocabulary concepts, ontology/vocab/), a folder as it is (a project
root holding data/, or a data folder itself). Each side is parsed with pyoxigraph into a plain
in-memory index; nothing is validated (the pull request's own `ketju validate` does that).
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox


class SourceError(Exception):
    """A side could not be read (neither a folder nor a git revision, or bad Turtle)."""


@dataclass
class Graph:
    """Triples indexed by subject: `graph[s][p]` is the list of objects (pyoxigraph terms)."""

    index: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def add(self, triples: Iterable[ox.Triple | ox.Quad]) -> None:
        for triple in triples:
            subject = triple.subject
            if isinstance(subject, ox.NamedNode):
                objects = self.index[subject.value][triple.predicate.value]
                if triple.object not in objects:
                    objects.append(triple.object)  # type: ignore[arg-type]

    def objects(self, subject: str, predicate: str) -> list[ox.NamedNode | ox.BlankNode
                                                          | ox.Literal]:
        found = self.index.get(subject)
        return list(found.get(predicate, ())) if found else []

    def iris(self, subject: str, predicate: str) -> list[str]:
        return sorted(o.value for o in self.objects(subject, predicate)
                      if isinstance(o, ox.NamedNode))

    def value(self, subject: str, predicate: str) -> str | None:
        """One value (the smallest, so that the answer is stable), as text."""
        values = sorted(o.value for o in self.objects(subject, predicate)
                        if not isinstance(o, ox.BlankNode))
        return values[0] if values else None

    def subjects_of_type(self, cls: str) -> list[str]:
        rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        return sorted(s for s, props in self.index.items()
                      if any(o.value == cls for o in props.get(rdf_type, ())))

    def has(self, subject: str) -> bool:
        return subject in self.index


@dataclass
class Side:
    """One side of a review: the data's graph, and the vocabularies' (for names only)."""

    name: str
    data: Graph
    vocab: Graph


def _parse(graph: Graph, text: bytes, name: str) -> None:
    try:
        graph.add(ox.parse(input=text, format=ox.RdfFormat.TURTLE,
                           base_iri="https://w3id.org/ketju/"))
    except SyntaxError as error:
        raise SourceError(f"{name}: {error}") from error


def _folder_files(folder: Path) -> Iterator[Path]:
    yield from sorted(p for p in folder.rglob("*.ttl") if p.is_file())


#: Where the names of vocabulary concepts are (ketju's vocabularies, the JHS 183 classes).
VOCAB_FOLDERS = ("ontology/vocab", "ontology/generated")


def _read_vocab(side: Side, roots: list[Path]) -> None:
    """Names of concepts from the first of `roots` that has the vocabularies."""
    for root in roots:
        folders = [root / f for f in VOCAB_FOLDERS if (root / f).is_dir()]
        if folders:
            for folder in folders:
                for path in _folder_files(folder):
                    _parse(side.vocab, path.read_bytes(), str(path))
            return


def read_folder(folder: Path, fallback: Path | None = None) -> Side:
    """A folder: a project root (with data/) or a data folder; the vocabularies' names from
    the folder's ontology/, else from the project at `fallback`."""
    data_dir = folder / "data" if (folder / "data").is_dir() else folder
    side = Side(str(folder), Graph(), Graph())
    for path in _folder_files(data_dir):
        _parse(side.data, path.read_bytes(), str(path))
    _read_vocab(side, [folder] + ([fallback] if fallback else []))
    return side


def _git(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    if done.returncode != 0:
        raise SourceError(done.stderr.decode(errors="replace").strip() or "git failed")
    return done.stdout


def _archive_ttl(repo: Path, revision: str, folder: str) -> Iterator[tuple[str, bytes]]:
    listing = _git(repo, "ls-tree", "-r", "--name-only", revision, "--", folder)
    if not listing.strip():
        return
    body = io.BytesIO(_git(repo, "archive", "--format=tar", revision, "--", folder))
    with tarfile.open(fileobj=body) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".ttl"):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    yield member.name, extracted.read()


def is_revision(repo: Path, revision: str) -> bool:
    try:
        _git(repo, "rev-parse", "--verify", "--quiet", revision + "^{commit}")
    except SourceError:
        return False
    return True


def read_revision(repo: Path, revision: str) -> Side:
    """The catalogue at a git revision of `repo`, read with `git archive` (no checkout); the
    vocabularies' names from the revision's ontology/, else from the work tree's."""
    side = Side(revision, Graph(), Graph())
    for name, text in _archive_ttl(repo, revision, "data"):
        _parse(side.data, text, f"{revision}:{name}")
    for folder in VOCAB_FOLDERS:
        for name, text in _archive_ttl(repo, revision, folder):
            _parse(side.vocab, text, f"{revision}:{name}")
    if not side.vocab.index:
        _read_vocab(side, [repo])
    return side


def read_side(spec: str, repo: Path) -> Side:
    """A folder when `spec` names one, else a git revision of the repository at `repo`."""
    path = Path(spec)
    if path.is_dir():
        return read_folder(path, repo)
    if is_revision(repo, spec):
        return read_revision(repo, spec)
    raise SourceError(f"{spec}: neither a folder nor a git revision of {repo}")
