"""Downloadable dumps of the whole catalogue and of each region, written by `ketju build`.

`build_step` runs last in the build and writes into `{store}/dumps/`:

- `ketju.nq.gz`: the whole store as N-Quads, every named graph (one per source file, plus the
  build's own graphs) with its name; a region's observation files (CSV) are graphs of the
  region like its Turtle files, so its observations are in its dumps;
- `ketju.ttl.gz`: the union of all graphs as Turtle (Turtle has no graphs: this is what the
  SPARQL endpoint's default graph holds), written graph after graph under one set of prefixes
  (a statement made in two graphs is written twice and read once);
- `{region}.nq.gz` and `{region}.ttl.gz`: the same for the graphs of the files in
  `data/{region}/`;
- `SHA256SUMS`, for `sha256sum -c SHA256SUMS`, and `dumps.json`: for every file its size in
  bytes, SHA-256, statements (`triples`: quads in N-Quads, triples in Turtle), region (null for
  the whole catalogue), format and number of graphs.

Every file is one ordinary gzip member with a fixed header (modification time 0, no name), so
the same content always gives the same bytes.

Speed. Reading a million quads back out of the on-disk store takes ~10 s (every term of every
quad is looked up in the store's dictionary), while parsing the same, already validated source
files into in-memory stores takes a fraction of that. So the dumps are made from in-memory
copies, one per region (and one for the rest: ontology, vocabularies, shapes, build graphs),
worked on in parallel threads (pyoxigraph and zlib release the GIL). Graphs that are not
source files (the build's graphs) are copied from the store, and every graph's quad count is
checked against the store: a graph whose source file no longer matches it is copied from the
store instead. Each region's data is serialised and compressed once: the whole-catalogue files
are the regions' compressed blocks joined into one gzip stream (as `pigz` does), with the
CRC-32 combined arithmetically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ketju.core import namespaces as ns
from ketju.core.project import Project, SourceFile

#: Where the dumps are written inside a store folder.
DUMPS_DIR = "dumps"
INDEX = "dumps.json"
SUMS = "SHA256SUMS"
#: The statistics `ketju.infra.feeds.catalog` saves in the store folder (read for graph counts).
CATALOG_STATS = "catalog.json"
#: Base name of the whole-catalogue dumps.
WHOLE = "ketju"
#: The two formats, as (file extension, name in dumps.json).
NQUADS = ("nq", "nquads")
TURTLE = ("ttl", "turtle")
#: zlib level: 6 (gzip's default) gives ~30 % smaller files than 1 for twice the time.
LEVEL = 6
_SAFE_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: gzip header (RFC 1952): magic, deflate, no flags, mtime 0, no extra flags, OS unknown.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#: An empty final deflate block: what ends a stream of sync-flushed segments.
_FINAL_BLOCK = zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush()
GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
#: Prefixes of the Turtle dumps, declared once at the start of each region's part.
PREFIXES = dict(sorted(ns.PREFIXES.items()))
TURTLE_HEADER = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in PREFIXES.items()).encode()


def dumps_folder(store_folder: Path) -> Path:
    """The folder of a built store that holds its dumps."""
    return store_folder / DUMPS_DIR


def load_index(store_folder: Path) -> dict[str, dict[str, Any]]:
    """The dumps.json of a built store (file name → facts), or {} when it has none."""
    try:
        index = json.loads((dumps_folder(store_folder) / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def region_of_graph(graph: str) -> str | None:
    """The region of a source graph `graph/data/{region}/…`, else None."""
    if not graph.startswith(ns.GRAPH + "data/"):
        return None
    parts = graph[len(ns.GRAPH):].split("/")
    return parts[1] if len(parts) >= 3 and parts[1] else None


# -- gzip from independently compressed segments ---------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Some data as raw deflate blocks that end byte-aligned and not final, so segments can be
    joined into one stream; with the CRC-32 and length of the uncompressed data."""

    deflate: bytes
    crc: int
    size: int
    statements: int


def compress_segment(data: bytes, statements: int = 0) -> Segment:
    """Compress `data` into a joinable segment (zlib releases the GIL while it works)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return Segment(body, zlib.crc32(data), len(data), statements)


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, row = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[row]
        vector >>= 1
        row += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC-32 of A+B from those of A and B and the length of B (zlib's crc32_combine).

    >>> a, b = b"ketju ", b"palveluketju"
    >>> crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    True
    """
    if length2 <= 0:
        return crc1
    odd = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    even = _gf2_square(odd)  # two zero bits
    odd = _gf2_square(even)  # four zero bits
    while True:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
        if not length2:
            break
    return crc1 ^ crc2


def write_gzip(path: Path, segments: list[Segment]) -> tuple[int, str]:
    """Write the segments as one gzip member; return its size and SHA-256."""
    crc, size = 0, 0
    for segment in segments:
        crc = crc32_combine(crc, segment.crc, segment.size)
        size += segment.size
    trailer = crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little")
    digest = hashlib.sha256()
    written = 0
    with open(path, "wb") as out:
        for chunk in (_GZIP_HEADER, *(s.deflate for s in segments), _FINAL_BLOCK, trailer):
            out.write(chunk)
            digest.update(chunk)
            written += len(chunk)
    return written, digest.hexdigest()


# -- one group of graphs: a region, or the rest -----------------------------------------------


@dataclass(frozen=True)
class _Group:
    region: str | None
    #: (graph IRI, its source file when it has one), in graph order.
    graphs: list[tuple[str, SourceFile | None]]
    #: Quads per graph in the store.
    expected: dict[str, int]
    #: Triples in the store's default graph (the build writes none; only the rest group).
    default_triples: int = 0

    @property
    def size(self) -> int:
        """Quads of the group in the store."""
        return sum(self.expected.get(graph, 0) for graph, _ in self.graphs) + \
            self.default_triples


@dataclass(frozen=True)
class _Part:
    region: str | None
    graphs: int
    nquads: Segment
    turtle: Segment


def graph_counts(store: ox.Store) -> dict[str, int]:
    return {row["g"].value: int(row["n"].value) for row in store.query(GRAPH_COUNTS)}


def _copy_from_store(store: ox.Store, memory: ox.Store,
                     graph: ox.NamedNode | ox.DefaultGraph) -> None:
    """Copy a graph of the store into `memory`, its statements sorted: a store writes them in
    the order they were added, and the build's store and the same data on disk list them in
    different orders (the same content must give the same bytes)."""
    data = b"\n".join(sorted(store.dump(format=ox.RdfFormat.N_TRIPLES,
                                         from_graph=graph).splitlines()))
    if data:
        memory.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)


def _as_nquads(ntriples: bytes, graph: str) -> bytes:
    """N-Triples as N-Quads in `graph`: every line ends in " .\n", and no other " .\n"
    can occur (N-Triples escapes line breaks inside literals)."""
    return ntriples.replace(b" .\n", f" <{graph}> .\n".encode())


def _without_prefixes(turtle: bytes) -> bytes:
    """A Turtle document without the `@prefix` lines a serialiser writes first."""
    start = 0
    while turtle.startswith(b"@prefix ", start):
        start = turtle.index(b"\n", start) + 1
    return turtle[start:]


def _made_from_table(source: SourceFile | None) -> bool:
    """Whether the graph is the RDF the build made of a table (an observation CSV file): the
    store holds it in the order the build's conversion wrote it, the same on every build."""
    return source is not None and source.tabular


def _load_group(store: ox.Store, group: _Group) -> ox.Store:
    """The group's graphs in memory, except those made from tables (read from the store as
    they are): parsed from their source files, copied from the store when they have none or
    when the file no longer gives what the store holds."""
    memory = ox.Store()
    for graph, source in group.graphs:
        node = ox.NamedNode(graph)
        if _made_from_table(source):
            continue
        if source is None or source.path.suffix != ".ttl":
            # The build's graphs: as the store holds them.
            _copy_from_store(store, memory, node)
            continue
        try:
            memory.bulk_load(path=str(source.path), format=ox.RdfFormat.TURTLE, to_graph=node)
        except (OSError, SyntaxError):
            memory.remove_graph(node)  # the counts below then copy it from the store
    if group.default_triples:
        _copy_from_store(store, memory, ox.DefaultGraph())
    loaded = graph_counts(memory)
    for graph, source in group.graphs:
        if not _made_from_table(source) and loaded.get(graph, 0) != group.expected.get(graph, 0):
            node = ox.NamedNode(graph)
            memory.remove_graph(node)
            _copy_from_store(store, memory, node)
    return memory


def _dump_group(store: ox.Store, group: _Group) -> _Part:
    """Serialise and compress one group (run in a worker thread)."""
    memory = _load_group(store, group)
    # Observation graphs are large and already in a fixed order in the store: written from
    # it straight, rather than copied, sorted and parsed again (at national scale that copy
    # was a third of the build's added time for observations).
    tables = [g for g, source in group.graphs if _made_from_table(source)]
    nquads = compress_segment(memory.dump(format=ox.RdfFormat.N_QUADS) + b"".join(
        _as_nquads(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g)), g)
        for g in tables), group.size)
    # Turtle has no graphs: the graphs one after the other under one set of prefixes, read
    # as their union (a statement made in two graphs is written twice and read once).
    graphs: list[tuple[ox.Store, ox.NamedNode | ox.DefaultGraph]] = [
        (store if g in tables else memory, ox.NamedNode(g)) for g, _ in group.graphs]
    if group.default_triples:
        graphs.append((memory, ox.DefaultGraph()))
    turtle = TURTLE_HEADER + b"".join(
        _without_prefixes(holder.dump(format=ox.RdfFormat.TURTLE, from_graph=graph,
                                      prefixes=PREFIXES)) for holder, graph in graphs)
    return _Part(group.region, len(group.graphs), nquads,
                 compress_segment(turtle, group.size))


def _groups(project: Project, store: ox.Store,
            counts: dict[str, int] | None = None) -> list[_Group]:
    """The store's graphs by region (sorted), the rest first; with their quad counts."""
    sources = {source.graph: source for source in project.all_files()}
    counts = graph_counts(store) if counts is None else counts
    by_region: dict[str | None, list[tuple[str, SourceFile | None]]] = {}
    for graph in sorted(counts):
        region = region_of_graph(graph)
        if region is not None and not _SAFE_NAME.match(region):
            region = None  # not a name to make a file of: only in the whole dump
        by_region.setdefault(region, []).append((graph, sources.get(graph)))
    default = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    default_triples = int(next(iter(default))["n"].value)
    groups = [_Group(None, by_region.pop(None, []), counts, default_triples)]
    groups += [_Group(region, graphs, counts) for region, graphs in sorted(
        by_region.items(), key=lambda item: str(item[0]))]
    return groups


def file_name(region: str | None, extension: str) -> str:
    """`ketju.nq.gz` for the whole catalogue, `{region}.nq.gz` for a region."""
    if region is None:
        return f"{WHOLE}.{extension}.gz"
    stem = f"{region}-region" if region == WHOLE else region
    return f"{stem}.{extension}.gz"


def write_dumps(project: Project, store: ox.Store, target: Path,
                counts: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """Write every dump, SHA256SUMS and dumps.json into `target`; return the index.

    `counts` are the store's quads per named graph, when already known."""
    target.mkdir(parents=True, exist_ok=True)
    groups = _groups(project, store, counts)
    workers = max(1, min(len(groups), os.cpu_count() or 1))
    order = sorted(range(len(groups)), key=lambda i: -groups[i].size)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ketju-dumps") as pool:
        futures = {i: pool.submit(_dump_group, store, groups[i]) for i in order}
        parts = [futures[i].result() for i in range(len(groups))]

    index: dict[str, dict[str, Any]] = {}

    def write(name: str, region: str | None, fmt: str, graphs: int,
              segments: list[Segment]) -> None:
        size, sha256 = write_gzip(target / name, segments)
        index[name] = {"bytes": size, "sha256": sha256,
                       "triples": sum(s.statements for s in segments), "region": region,
                       "format": fmt, "graphs": graphs}

    total_graphs = sum(part.graphs for part in parts)
    for (extension, fmt), attribute in ((NQUADS, "nquads"), (TURTLE, "turtle")):
        write(file_name(None, extension), None, fmt, total_graphs,
              [getattr(part, attribute) for part in parts])
    for part in parts:
        if part.region is None:
            continue
        for (extension, fmt), attribute in ((NQUADS, "nquads"), (TURTLE, "turtle")):
            write(file_name(part.region, extension), part.region, fmt, part.graphs,
                  [getattr(part, attribute)])
    (target / SUMS).write_text("".join(f"{facts['sha256']}  {name}\n"
                                       for name, facts in sorted(index.items())),
                               encoding="utf-8")
    (target / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True), encoding="utf-8")
    return index


def build_step(project: Project, store: ox.Store, folder: Path) -> dict[str, Any]:
    """Run by `ketju build` on the new store before the swap; returns facts for the manifest."""
    index = write_dumps(project, store, dumps_folder(folder), _known_counts(folder))
    return {"dumps": len(index)}


def _known_counts(folder: Path) -> dict[str, int] | None:
    """The quads per graph that the catalogue step (run just before, on the same store) saved
    in `catalog.json`, to save counting them again; None when it did not."""
    try:
        stats = json.loads((folder / CATALOG_STATS).read_text(encoding="utf-8"))
        counts = stats["graph_triples"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(counts, dict):
        return None
    return {str(graph): int(count) for graph, count in counts.items()}
