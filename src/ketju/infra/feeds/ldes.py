"""The LDES change stream: every version of every package, chain, service and producer.

`ketju build` calls `build_step`, which turns the git history of `data/` into a Linked Data
Event Stream (https://w3id.org/ldes/specification) and writes it as static pages into the new
store folder (`feeds/ldes/`); `ketju.web.feeds_ldes` serves them.

Members. A member is one immutable *version* of a tracked entity (anything typed
`ketju:ServicePackage`, `ketju:ServiceChain`, `ketju:Service` or `ketju:Producer`, subclasses
included). An entity's state is its own triples plus those of the subjects under `{entity}/`
(the steps and transitions of a chain), across all data files, in the store's canonical form.
Every commit that changes a state gives a new version `{entity}#v{yyyyMMddTHHmmssZ}-{commit}`:

    <…/chain/x#v20250201T100000Z-1a2b3c4> dct:isVersionOf <…/chain/x> ;
        dct:issued "2025-02-01T10:00:00Z"^^xsd:dateTime ; ketju:commit "1a2b3c4…" ;
        a ketju:ServiceChain ; skos:prefLabel "…"@fi ; ketju:hasStep <…/chain/x/step/a> ;
        dct:hasPart _:p1 .
    _:p1 dct:isVersionOf <…/chain/x/step/a> ; a ketju:ChainStep ; ketju:position 1 .

The entity's triples are re-subjected onto the version (objects stay as in the data); each
part becomes a blank node of the version that says which part it is a version of, so the
concise bounded description of the member is the whole state (no shape needed, no cycles). A
deletion gives a tombstone: `a as:Delete`, `dct:isVersionOf` and `dct:issued`, no state.
What the build loaded but is not committed (everything, in a tree without git history) gives
versions stamped with the build time and a hash of the state instead of a commit, so the
stream always ends in the state of the store; they keep their time over rebuilds while their
state stays the same.

Pages. Members are ordered by time (first-parent commit order, timestamps made
non-decreasing) and cut into pages of `PAGE_SIZE`. The root node (`/feeds/ldes`) describes the
`ldes:EventStream` with `tree:view <>` and links every page once with two relations on
`dct:issued`: its lower and its upper bound (TREE: one node links into each page). A page that
is full, not the newest and holds only committed versions can never change (history only
grows): it says `ldes:immutable true` and is served as immutable. Pages are N-Triples in the
TREE profile order (hypermedia first, then one group per member starting with its
`tree:member` triple); the server makes Turtle and JSON-LD of them. Page IRIs are written
under `PLACEHOLDER` and replaced by the server's public URL when served.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import logging
import subprocess
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.kinds import KINDS
from ketju.core.namespaces import DCT, SH, XSD
from ketju.core.project import Project

log = logging.getLogger("ketju.ldes")

#: Members per page. Changing it changes every page, so keep it fixed once published.
PAGE_SIZE = 250
#: Where the feed is written inside a store folder.
FEED_PATH = ("feeds", "ldes")
INDEX = "index.json"
ROOT_FILE = "root.nt"
#: Stands for the server's public URL (with a trailing slash) in the stored pages.
PLACEHOLDER = "http://ketju-ldes.invalid/"
FEED_BASE = PLACEHOLDER + "feeds/ldes"
STREAM = FEED_BASE + "#stream"
SHAPE = FEED_BASE + "#shape"
#: The classes whose instances get versions (their subclasses too): the registry's kinds
#: in the change stream.
TRACKED_CLASSES = tuple(kind.iri for kind in KINDS if kind.change_stream)

TREE = ns.TREE
LDES = ns.LDES
AS = ns.ACTIVITY_STREAMS
IS_VERSION_OF = DCT + "isVersionOf"
ISSUED = DCT + "issued"
COMMIT = ns.ONTOLOGY + "commit"
DELETE = AS + "Delete"

#: Prefixes of the written pages (Turtle); JSON-LD and N-Triples are made from them on request.
PAGE_PREFIXES = {
    "tree": TREE, "ldes": LDES, "dct": DCT, "xsd": XSD, "as": AS, "sh": SH,
    "feed": FEED_BASE + "#", **{k: v for k, v in ns.PREFIXES.items() if k not in ("dct", "xsd")},
}

_RDF_TYPE_NT = f"<{ns.RDF_TYPE}>"
_ID_NT = "<" + ns.ID
_ZERO_OID = "0" * 40


# ---------------------------------------------------------------------------------------------
# The data tree, file by file, grouped by entity
# ---------------------------------------------------------------------------------------------

def _group_key(subject: str, cache: dict[str, str]) -> str:
    """The entity a subject (N-Triples form) belongs to: `…/id/{region}/{kind}/{slug}`."""
    key = cache.get(subject)
    if key is None:
        key = subject
        if subject.startswith(_ID_NT):
            parts = subject[len(_ID_NT):-1].split("/", 3)
            if len(parts) == 4:
                key = _ID_NT + "/".join(parts[:3]) + ">"
        cache[subject] = key
    return key


@dataclass
class FileContent:
    """One data file's triples (N-Triples lines) by entity group, and its tracked subjects."""

    groups: dict[str, list[str]]
    typed: set[str]


def _relabel(line: str, labels: dict[str, str]) -> str:
    subject, predicate, rest = line.split(" ", 2)
    subject = labels.get(subject, subject)
    obj = rest[:-2]
    if obj.startswith("_:"):
        obj = labels.get(obj, obj)
    return f"{subject} {predicate} {obj} ."


def _canonical_bnodes(lines: list[str], bnodes: set[str]) -> list[str]:
    """Give blank nodes labels made from their content, so equal states compare equal."""
    by_node: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for line in lines:
        subject, predicate, rest = line.split(" ", 2)
        if subject in bnodes:
            by_node[subject].append((predicate, rest[:-2]))
    labels = {b: "_:" for b in bnodes}
    for _ in range(4):  # a few rounds of refinement are plenty for data descriptions
        labels = {
            b: "_:c" + hashlib.sha1("\n".join(sorted(
                f"{p} {labels.get(o, o)}" for p, o in by_node.get(b, []))).encode()
            ).hexdigest()[:16]
            for b in bnodes
        }
    return [_relabel(line, labels) for line in lines]


def _typed_subjects(text: str, tracked: frozenset[str]) -> set[str]:
    """Subjects of the `rdf:type` lines whose class is tracked (found by substring search)."""
    typed: set[str] = set()
    needle = f" {_RDF_TYPE_NT} "
    at = text.find(needle)
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        line = text[start:end] if end >= 0 else text[start:]
        subject, predicate, rest = line.split(" ", 2)
        if predicate == _RDF_TYPE_NT and rest[:-2] in tracked and not subject.startswith("_:"):
            typed.add(subject)
        at = text.find(needle, end if end >= 0 else len(text))
    return typed


def parse_ntriples(text: str, tracked: frozenset[str], cache: dict[str, str]) -> FileContent:
    """Group a file's N-Triples by entity; blank nodes go with the subject that uses them."""
    groups: dict[str, list[str]] = defaultdict(list)
    typed: set[str] = set()
    if "_:" not in text:
        # The fast path (no blank nodes): lines of one subject usually come together.
        previous = ""
        bucket: list[str] = []
        for line in text.splitlines():
            subject = line[:line.find(" ")]
            if subject != previous:
                if not subject:
                    continue
                previous = subject
                bucket = groups[_group_key(subject, cache)]
            bucket.append(line)
        return FileContent(dict(groups), _typed_subjects(text, tracked))
    blank_lines: dict[str, list[str]] = defaultdict(list)
    links: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if not line:
            continue
        subject, predicate, rest = line.split(" ", 2)
        obj = rest[:-2]
        if obj.startswith("_:"):
            links[subject].append(obj)
        if subject.startswith("_:"):
            blank_lines[subject].append(line)
            continue
        groups[_group_key(subject, cache)].append(line)
        if predicate == _RDF_TYPE_NT and obj in tracked:
            typed.add(subject)
    owner: dict[str, str] = {}
    for subject in sorted(links):
        if subject.startswith("_:"):
            continue
        key = _group_key(subject, cache)
        todo = list(links[subject])
        while todo:
            node = todo.pop()
            if node not in owner:
                owner[node] = key
                todo.extend(links.get(node, []))
    touched: dict[str, set[str]] = defaultdict(set)
    for node, key in owner.items():
        groups[key].extend(blank_lines.get(node, []))
        touched[key].add(node)
    for key, nodes in touched.items():
        groups[key] = _canonical_bnodes(groups[key], nodes)
    return FileContent(dict(groups), typed)


class Snapshot:
    """The data tree as groups of triples per entity, kept up to date one file at a time."""

    def __init__(self, tracked: frozenset[str]) -> None:
        self.tracked = tracked
        self.files: dict[str, FileContent] = {}
        self.group_files: dict[str, set[str]] = defaultdict(set)
        self.type_count: Counter[str] = Counter()
        self.entities_by_group: dict[str, set[str]] = defaultdict(set)
        self._keys: dict[str, str] = {}

    def set_file(self, path: str, content: FileContent | None) -> set[str]:
        """Replace (None: remove) one file; return the entities whose state may have changed."""
        affected: set[str] = set()
        old = self.files.pop(path, None)
        for item in (old, content):
            if item is None:
                continue
            affected.update(item.typed)
            for key in item.groups:
                affected.update(self.entities_by_group.get(key, ()))
        if old is not None:
            for key in old.groups:
                self.group_files[key].discard(path)
            for subject in old.typed:
                self.type_count[subject] -= 1
                if self.type_count[subject] <= 0:
                    del self.type_count[subject]
                    self.entities_by_group[_group_key(subject, self._keys)].discard(subject)
        if content is not None:
            self.files[path] = content
            for key in content.groups:
                self.group_files[key].add(path)
                affected.update(self.entities_by_group.get(key, ()))
            for subject in content.typed:
                self.type_count[subject] += 1
                self.entities_by_group[_group_key(subject, self._keys)].add(subject)
        return affected

    def parse(self, text: str) -> FileContent:
        return parse_ntriples(text, self.tracked, self._keys)

    def entities(self) -> set[str]:
        return set(self.type_count)

    def state(self, entity: str) -> tuple[str, ...] | None:
        """The sorted N-Triples lines of an entity and its parts; None when it does not exist."""
        if entity not in self.type_count:
            return None
        key = _group_key(entity, self._keys)
        lines: set[str] = set()
        for path in self.group_files.get(key, ()):
            lines.update(self.files[path].groups[key])
        if key != entity:
            inside = entity[:-1] + "/"
            lines = {line for line in lines
                     if line.startswith((entity + " ", inside)) or line.startswith("_:")}
        return tuple(sorted(lines))


# ---------------------------------------------------------------------------------------------
# Versions from the git history and the store
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    """One member of the stream: an entity's state at a time, or its deletion."""

    entity: str
    issued: datetime
    #: Short commit hash, or "w" and a hash of the state for changes not (yet) committed.
    token: str
    commit: str | None
    #: The entity's N-Triples lines (subjects and objects as in the data); None: deleted.
    lines: tuple[str, ...] | None = field(repr=False)

    @property
    def iri(self) -> str:
        separator = "-" if "#" in self.entity else "#"
        return f"{self.entity}{separator}v{self.issued.strftime('%Y%m%dT%H%M%SZ')}-{self.token}"

    @property
    def deleted(self) -> bool:
        return self.lines is None


@dataclass(frozen=True)
class Commit:
    sha: str
    time: datetime
    #: (path relative to the project, new blob id or None when the file went away)
    changes: tuple[tuple[str, str | None], ...]


def _git(root: Path, *args: str, timeout: float = 600) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), "-c", "core.quotepath=false", *args],
                              capture_output=True, check=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def read_history(root: Path) -> list[Commit]:
    """Commits that changed `data/**/*.ttl`, oldest first (first-parent line, merges as one)."""
    out = _git(root, "log", "--reverse", "--first-parent", "--diff-merges=first-parent",
               "--no-renames", "--raw", "--no-abbrev", "-z", "--relative",
               "--format=%x01%H %ct", "--", "data/")
    if not out:
        return []
    commits: list[Commit] = []
    for chunk in out.decode("utf-8", "replace").split("\x01")[1:]:
        header, _, body = chunk.partition("\0")
        sha, _, seconds = header.strip().partition(" ")
        tokens = body.lstrip("\n").split("\0")
        changes: list[tuple[str, str | None]] = []
        i = 0
        while i < len(tokens):
            meta = tokens[i].strip()
            if not meta.startswith(":"):
                i += 1
                continue
            fields = meta[1:].split()
            status = fields[4] if len(fields) > 4 else "M"
            paths = tokens[i + 1:i + (3 if status[:1] in "RC" else 2)]
            i += 1 + len(paths)
            new_mode, new_oid, path = fields[1], fields[3], paths[-1] if paths else ""
            if not path.endswith(".ttl") or not path.startswith("data/"):
                continue
            gone = status.startswith("D") or new_oid == _ZERO_OID or not new_mode.startswith("10")
            changes.append((path, None if gone else new_oid))
        commits.append(Commit(sha, datetime.fromtimestamp(int(seconds), UTC), tuple(changes)))
    return [c for c in commits if c.changes]


class Blobs:
    """Reads blobs from one long-running `git cat-file --batch`."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, oid: str) -> bytes | None:
        stdin: IO[bytes] | None = self.process.stdin
        stdout: IO[bytes] | None = self.process.stdout
        assert stdin is not None and stdout is not None
        stdin.write(oid.encode() + b"\n")
        stdin.flush()
        header = stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None
        data = stdout.read(int(header[2]))
        stdout.read(1)
        return data

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Blobs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Literals:
    """Typed literals in the store's canonical form ("P12M"^^xsd:duration is stored as "P1Y").

    The store keeps XSD values in a binary form and writes them back canonically; a parsed
    file keeps what was written. Each distinct typed literal goes once through an in-memory
    store, so parsed files compare equal to what the build stored.
    """

    NEEDLE = '"^^<' + XSD

    def __init__(self) -> None:
        self.known: dict[str, str] = {}

    def canonical(self, text: str) -> str:
        """N-Triples text with every XSD-typed literal object in canonical form."""
        if self.NEEDLE not in text:
            return text
        found: set[str] = set()
        at = text.find(self.NEEDLE)
        while at >= 0:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            end = len(text) if end < 0 else end
            found.add(text[start:end].split(" ", 2)[2][:-2])
            at = text.find(self.NEEDLE, end)
        self._learn([term for term in found if term not in self.known])
        for term in found:
            canonical = self.known[term]
            if canonical != term:
                text = text.replace(f" {term} .\n", f" {canonical} .\n")
        return text

    def _learn(self, terms: list[str]) -> None:
        if not terms:
            return
        memory = ox.Store()
        memory.load("".join(f"<urn:x:{i}> <urn:x:v> {t} .\n" for i, t in enumerate(terms))
                    .encode(), format=ox.RdfFormat.N_TRIPLES)
        for quad in memory.quads_for_pattern(None, None, None, ox.DefaultGraph()):
            term = quad.object
            assert isinstance(term, ox.Literal)
            self.known[terms[int(quad.subject.value[6:])]] = str(term)


def turtle_ntriples(data: bytes | Path, literals: Literals) -> str:
    """A Turtle file (bytes or path) as N-Triples, typed literals as the store has them."""
    triples = (ox.parse(path=str(data), format=ox.RdfFormat.TURTLE) if isinstance(data, Path)
               else ox.parse(data, format=ox.RdfFormat.TURTLE))
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode()
    return literals.canonical(text)


def tracked_classes(store: ox.Store) -> frozenset[str]:
    """The tracked classes and their subclasses (N-Triples form), from the ontology."""
    values = " ".join(f"<{c}>" for c in TRACKED_CLASSES)
    rows = store.query(
        "SELECT DISTINCT ?c WHERE { VALUES ?root { " + values + " } "
        "?c <http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?root }",
        use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    found = {str(row["c"]) for row in rows if isinstance(row["c"], ox.NamedNode)}
    return frozenset(found | {f"<{c}>" for c in TRACKED_CLASSES})


def build_time(store: ox.Store) -> datetime:
    """When the build ran, as the build graph says (now when it says nothing)."""
    for quad in store.quads_for_pattern(ox.NamedNode(ns.BASE + "build"),
                                        ox.NamedNode(ns.PREFIXES["prov"] + "endedAtTime"),
                                        None, ox.NamedNode(ns.BUILD_GRAPH)):
        try:
            when = datetime.fromisoformat(quad.object.value)
        except ValueError:
            continue
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime.now(UTC).replace(microsecond=0)


def _state_token(lines: tuple[str, ...] | None) -> str:
    text = "\n".join(lines) if lines is not None else "deleted"
    return "w" + hashlib.sha256(text.encode()).hexdigest()[:8]


def _plain(term: str) -> str:
    return term[1:-1]


def compute_versions(project: Project, store: ox.Store,
                     earlier: dict[str, tuple[str, str]] | None = None) -> list[Version]:
    """Every version, oldest first: the history of `data/`, then what is not committed.

    `earlier` maps entities to the (token, issued) of the uncommitted versions of the last
    build: an entity whose uncommitted state has not changed since keeps its version, so
    rebuilding without changes gives the same pages.
    """
    tracked = tracked_classes(store)
    literals = Literals()
    history = Snapshot(tracked)
    digests: dict[str, bytes] = {}  # sha-256 of each file as last committed
    last: dict[str, tuple[str, ...]] = {}
    versions: list[Version] = []
    latest = datetime.fromtimestamp(0, UTC)
    commits = read_history(project.root)
    if commits:
        with Blobs(project.root) as blobs:
            for commit in commits:
                affected: set[str] = set()
                for path, oid in commit.changes:
                    content: FileContent | None = None
                    if oid is not None:
                        data = blobs.read(oid)
                        if data is None:
                            log.warning("%s at %s is missing from git", path, commit.sha[:7])
                            continue
                        try:
                            content = history.parse(turtle_ntriples(data, literals))
                        except (SyntaxError, ValueError) as error:
                            log.warning("%s at %s does not parse (%s); kept as it was",
                                        path, commit.sha[:7], error)
                            continue
                        digests[path] = hashlib.sha256(data).digest()
                    else:
                        digests.pop(path, None)
                    affected |= history.set_file(path, content)
                latest = max(latest, commit.time)
                versions.extend(_changes(history, last, affected, commit, latest))
    # What the build loaded (the working tree), against the last commit: uncommitted versions.
    # A file as committed is not parsed again.
    current = Snapshot(tracked)
    for path in sorted(project.data_dir.rglob("*.ttl")):
        relative = path.relative_to(project.root).as_posix()
        try:
            data = path.read_bytes()
            if relative in history.files and digests.get(relative) == \
                    hashlib.sha256(data).digest():
                content = history.files[relative]
            else:
                content = current.parse(turtle_ntriples(data, literals))
        except (OSError, SyntaxError, ValueError):  # changed since it was loaded: the store's
            graph = ox.NamedNode(ns.graph_iri(relative))
            text = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode()
            content = current.parse(text)
        current.set_file(relative, content)
    now = max(latest, build_time(store))
    pending = _changes(current, last, current.entities() | set(last), None, now)
    kept = earlier or {}
    for i, version in enumerate(pending):
        before = kept.get(version.entity)
        if before is not None and before[0] == version.token:
            issued = max(datetime.fromisoformat(before[1]), latest)
            pending[i] = Version(version.entity, issued, version.token, None, version.lines)
    versions.extend(sorted(pending, key=lambda v: (v.issued, v.entity)))
    return versions


def _changes(snapshot: Snapshot, last: dict[str, tuple[str, ...]], candidates: Iterable[str],
             commit: Commit | None, when: datetime) -> list[Version]:
    """New versions for the candidates whose state differs from the last one (updates `last`)."""
    out: list[Version] = []
    for entity in sorted(candidates):
        state = snapshot.state(entity)
        if state == last.get(entity):
            continue
        if state is None:
            del last[entity]
        else:
            last[entity] = state
        token = commit.sha[:7] if commit else _state_token(state)
        out.append(Version(_plain(entity), when, token, commit.sha if commit else None, state))
    return out


# ---------------------------------------------------------------------------------------------
# Pages (stored as N-Triples in TREE profile order; the server renders Turtle and JSON-LD)
# ---------------------------------------------------------------------------------------------

def _nt(iri: str) -> str:
    return f"<{iri}>"


_A = _RDF_TYPE_NT
_TREE_MEMBER = _nt(TREE + "member")
_VERSION_OF = _nt(IS_VERSION_OF)
_ISSUED = _nt(ISSUED)
_COMMIT = _nt(COMMIT)
_HAS_PART = _nt(DCT + "hasPart")
_STREAM = _nt(STREAM)


def _nt_timestamp(when: datetime) -> str:
    return f'"{when.strftime("%Y-%m-%dT%H:%M:%SZ")}"^^<{XSD}dateTime>'


def member_ntriples(version: Version) -> list[str]:
    """One member group: the `tree:member` triple, then the version and its parts.

    The entity's own triples are re-subjected onto the version; each part (a subject under
    `{entity}/`: a step, a transition) becomes a blank node linked from the version with
    `dct:hasPart` that says which part it is a version of (`dct:isVersionOf`). Objects stay as
    in the data (blank nodes get labels unique to the version), so a concise bounded
    description of the member is exactly the version, without cycles. Lines are rewritten by
    slicing, so this stays fast for a national catalogue.
    """
    member = _nt(version.iri)
    out = [f"{_STREAM} {_TREE_MEMBER} {member} .",
           f"{member} {_VERSION_OF} {_nt(version.entity)} .",
           f"{member} {_ISSUED} {_nt_timestamp(version.issued)} ."]
    if version.commit:
        out.append(f'{member} {_COMMIT} "{version.commit}" .')
    if version.lines is None:
        out.append(f"{member} {_A} {_nt(AS + 'Delete')} .")
        return out
    entity = _nt(version.entity)
    salt = version.iri.encode()
    labels: dict[str, str] = {}

    def label(term: str) -> str:
        found = labels.get(term)
        if found is None:
            found = labels[term] = "_:b" + hashlib.sha1(salt + term.encode()).hexdigest()[:16]
        return found

    def objects(rest: str) -> str:  # " <p> <o> ." with blank-node objects relabelled
        if "_:" in rest:
            predicate, obj = rest[1:-2].split(" ", 1)
            if obj.startswith("_:"):
                return f" {predicate} {label(obj)} ."
        return rest

    lines = version.lines
    # The entity's own lines first (they sort after its parts: "/" < ">"), then each part.
    low = bisect.bisect_left(lines, entity + " ")
    high = bisect.bisect_left(lines, entity + "!")
    for line in lines[low:high]:
        out.append(member + objects(line[len(entity):]))
    previous = subject = ""
    for line in itertools.chain(lines[:low], lines[high:]):
        space = line.find(" ")
        term = line[:space]
        if term != previous:
            previous = term
            subject = label(term)
            if term.startswith("<"):
                out.append(f"{member} {_HAS_PART} {subject} .")
                out.append(f"{subject} {_VERSION_OF} {term} .")
        out.append(subject + objects(line[space:]))
    return out


def page_ntriples(number: int, versions: list[Version], immutable: bool) -> str:
    node = _nt(f"{FEED_BASE}/{number}")
    lines = [f"{node} {_A} {_nt(TREE + 'Node')} .",
             f"{node} {_nt(DCT + 'isPartOf')} {_STREAM} ."]
    if immutable:
        lines.append(f'{node} {_nt(LDES + "immutable")} "true"^^<{XSD}boolean> .')
    lines.append(f"{_STREAM} {_A} {_nt(LDES + 'EventStream')} .")
    for version in versions:
        lines.extend(member_ntriples(version))
    return "\n".join(lines) + "\n"


def root_ntriples(pages: list[dict[str, Any]]) -> str:
    """The entry point: the stream's description and shape, and a time window per page."""
    root = _nt(FEED_BASE)
    shape = _nt(SHAPE)

    def lit(text: str, lang: str) -> str:
        return f'"{text}"@{lang}'

    lines = [
        f"{_STREAM} {_A} {_nt(LDES + 'EventStream')} .",
        f"{_STREAM} {_nt(DCT + 'title')} " + lit(
            "ketju: muutokset palvelukokonaisuuksiin, palveluketjuihin, palveluihin ja "
            "tuottajiin", "fi") + " .",
        f"{_STREAM} {_nt(DCT + 'title')} " + lit(
            "ketju: changes to service packages, service chains, services and producers",
            "en") + " .",
        f"{_STREAM} {_nt(LDES + 'timestampPath')} {_ISSUED} .",
        f"{_STREAM} {_nt(LDES + 'versionOfPath')} {_VERSION_OF} .",
        f"{_STREAM} {_nt(LDES + 'versionDeletePath')} {_A} .",
        f"{_STREAM} {_nt(LDES + 'versionDeleteObject')} {_nt(AS + 'Delete')} .",
        f"{_STREAM} {_nt(TREE + 'shape')} {shape} .",
        f"{_STREAM} {_nt(TREE + 'view')} {root} .",
        f"{root} {_A} {_nt(TREE + 'Node')} .",
        f"{root} {_nt(DCT + 'isPartOf')} {_STREAM} .",
    ]
    described: list[str] = []
    for i, page in enumerate(pages):
        target = _nt(f"{FEED_BASE}/{page['page']}")
        last = datetime.fromisoformat(page["last"])
        bounds = [("GreaterThanOrEqualToRelation", datetime.fromisoformat(page["first"]))]
        if i + 1 < len(pages):
            following = datetime.fromisoformat(pages[i + 1]["first"])
            # Pages tile the time line; only when one timestamp spans two pages do they meet.
            bounds.append(("LessThanRelation", following) if following > last
                          else ("LessThanOrEqualToRelation", last))
        for kind, value in bounds:
            relation = f"_:r{page['page']}{kind[:2].lower()}"
            lines.append(f"{root} {_nt(TREE + 'relation')} {relation} .")
            described += [
                f"{relation} {_A} {_nt(TREE + kind)} .",
                f"{relation} {_nt(TREE + 'node')} {target} .",
                f"{relation} {_nt(TREE + 'path')} {_ISSUED} .",
                f"{relation} {_nt(TREE + 'value')} {_nt_timestamp(value)} .",
                f'{relation} {_nt(TREE + "remainingItems")} '
                f'"{page["count"]}"^^<{XSD}integer> .',
            ]
    lines += described
    lines += [f"{shape} {_A} {_nt(SH + 'NodeShape')} .",
              f"{shape} {_nt(SH + 'property')} _:shapev .",
              f"{shape} {_nt(SH + 'property')} _:shapet ."]
    for name, path, constraint in (("v", _VERSION_OF, (SH + "nodeKind", _nt(SH + "IRI"))),
                                   ("t", _ISSUED, (SH + "datatype", _nt(XSD + "dateTime")))):
        prop = f"_:shape{name}"
        lines += [f"{prop} {_nt(SH + 'path')} {path} .",
                  f"{prop} {_nt(constraint[0])} {constraint[1]} .",
                  f'{prop} {_nt(SH + "minCount")} "1"^^<{XSD}integer> .',
                  f'{prop} {_nt(SH + "maxCount")} "1"^^<{XSD}integer> .']
    return "\n".join(lines) + "\n"


def write_feed(versions: list[Version], target: Path, page_size: int | None = None
               ) -> dict[str, Any]:
    """Write the pages, the root and the index into `target`; return the index."""
    page_size = page_size or PAGE_SIZE
    target.mkdir(parents=True, exist_ok=True)
    pages: list[dict[str, Any]] = []
    count = (len(versions) + page_size - 1) // page_size
    for number in range(count):
        chunk = versions[number * page_size:(number + 1) * page_size]
        # Full, not the newest, only commits: no later build can change it (history only
        # grows), so clients may keep it forever.
        immutable = number + 1 < count and all(v.commit is not None for v in chunk)
        data = page_ntriples(number, chunk, immutable).encode()
        name = f"{number}.nt"
        (target / name).write_bytes(data)
        pages.append({
            "page": number, "file": name, "count": len(chunk),
            "first": chunk[0].issued.isoformat(), "last": chunk[-1].issued.isoformat(),
            "first_member": chunk[0].iri, "last_member": chunk[-1].iri,
            "deletions": sum(1 for v in chunk if v.deleted),
            "immutable": immutable, "sha256": hashlib.sha256(data).hexdigest(),
        })
    root = root_ntriples(pages).encode()
    (target / ROOT_FILE).write_bytes(root)
    index = {
        "format": 1, "page_size": page_size, "members": len(versions),
        "committed": sum(1 for v in versions if v.commit is not None),
        "placeholder": PLACEHOLDER,
        "root": {"file": ROOT_FILE, "sha256": hashlib.sha256(root).hexdigest()},
        "pages": pages,
        # For the next build: uncommitted versions it may keep when their state is the same.
        "uncommitted": {v.entity: [v.token, v.issued.isoformat()]
                        for v in versions if v.commit is None},
    }
    (target / INDEX).write_text(json.dumps(index, indent=1), encoding="utf-8")
    return index


def feed_folder(store_folder: Path) -> Path:
    return store_folder.joinpath(*FEED_PATH)


def earlier_uncommitted(project: Project) -> dict[str, tuple[str, str]]:
    """The uncommitted versions of the store being served (the last build), if any."""
    try:
        index = json.loads((feed_folder(project.store_link) / INDEX).read_text("utf-8"))
        return {entity: (token, issued)
                for entity, (token, issued) in index.get("uncommitted", {}).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def build_step(project: Project, store: ox.Store, folder: Path) -> dict[str, Any]:
    """Run by `ketju build` on the new store before the swap; returns facts for the manifest."""
    versions = compute_versions(project, store, earlier_uncommitted(project))
    index = write_feed(versions, feed_folder(folder))
    return {"ldes_members": index["members"], "ldes_pages": len(index["pages"])}
