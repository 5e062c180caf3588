"""Full-text search over the catalogue: an SQLite FTS5 index built beside the store.

`build_index` reads every entity a user would look for (packages, chains, services, producers,
organisers, interfaces, goals, indicators, data sources, segments, steering measures, service
tasks, JHS 183 service classes and the other SKOS concepts of the vocabularies) with its labels
and descriptions in Finnish, Swedish and English, and writes one SQLite file. The build puts it
inside the new store folder (`<store>/search.sqlite`), so it is swapped in with the store.

The file holds:

- `entity`: one row per entity, its `id` also the rowid in the full-text tables: IRI, kind
  (local name of its class), region (from `https://w3id.org/ketju/id/{region}/...`, else
  null), the label to show and a short snippet per language, in their original spelling;
- `labels`: FTS5 (`unicode61`, prefix indexes) of the normalised labels (skos:prefLabel,
  rdfs:label, skos:altLabel, skos:notation), one column per language, for word starts
  ("lonkk" finds "Lonkkamurtumapotilaan ...");
- `words`: FTS5 (`unicode61`, prefix indexes) of the normalised labels and descriptions
  (dct:description, skos:definition), one column per language and role, for matches anywhere;
- `tri`: FTS5 (`trigram`) of the normalised labels, for words inside Finnish compounds
  ("murtuma" finds "Lonkkamurtumapotilaan ...");
- `exact`: every normalised label, so that a query that is a whole label comes first;
- `facet`: short codes for kinds and regions. Each full-text table has a column `f` holding an
  entity's codes, so a kind or region filter is part of the full-text match (fast) rather
  than a lookup per matching row;
- `meta`: what built the file.

Entity ids follow a static prior (packages and chains, then services, then the rest; shorter
labels first), because full-text matches come in id order: where a tier has more than
`RANKED_PER_TIER` matches, bm25 ranks its first that many and the rest follow in id order.

Text is normalised in Python in the same way before indexing and before searching
(`normalise`: casefold, NFKD, combining marks dropped), so "Ä", "ä" and "a" are one letter.

`search` ranks in tiers, best first, then by bm25 within a tier (labels weighted far above
descriptions, the chosen language a little above the others, packages and chains boosted):

0. the query is a whole label (a preferred label in the chosen language first);
1. every word of the query starts a word of the labels;
2. every word of the query is inside a label (words under three characters must still start
   a word);
3. every word of the query starts a word of the labels or the descriptions.

The query is untrusted: it is cut to `MAX_QUERY_CHARS`, reduced to its words (letters and
digits) and each word is quoted as an FTS5 string, so FTS5 operators, quotes, parentheses,
column filters and stars in it are plain text. Values are always bound, never pasted into SQL.
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import threading
import unicodedata
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ketju.core import kinds as registry
from ketju.core import namespaces as ns
from ketju.core.namespaces import DCT, RDFS, SKOS

if TYPE_CHECKING:
    from ketju.infra.snapshot import Snapshot

#: Name of the index file inside a store folder.
INDEX_FILE = "search.sqlite"
#: Changes whenever the layout or the normalisation of the index changes.
SCHEMA_VERSION = "1"

LANGS = ("fi", "sv", "en")
#: Which label to show when the chosen language has none.
FALLBACK: dict[str, tuple[str, ...]] = {
    "fi": ("fi", "en", "sv"),
    "sv": ("sv", "fi", "en"),
    "en": ("en", "fi", "sv"),
}
#: Column suffix for texts without a language tag or in another language.
OTHER = "x"
_COLUMN_LANGS = (*LANGS, OTHER)

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
MAX_LIMIT = 200
SNIPPET_CHARS = 240
#: In each tier, bm25 ranks at most this many matches (the first by the static prior).
RANKED_PER_TIER = 1000

_K = ns.ONTOLOGY

#: The classes whose instances are searched (ontology classes, from the registry of kinds),
#: most specific first: an entity of several of them gets the first as its kind. Other SKOS
#: concepts get their own class's local name.
KIND_CLASSES: tuple[str, ...] = registry.names(searched=True)
_CONCEPT = SKOS + "Concept"
_WANTED = frozenset({_CONCEPT, *(_K + c for c in KIND_CLASSES)})

#: Within a tier, relevance is multiplied by this (kinds not listed: 1.0).
KIND_BOOST: dict[str, float] = {kind.name: kind.boost for kind in registry.KINDS
                                 if kind.searched and kind.boost != 1.0}

_LABEL_PREDICATES = (SKOS + "prefLabel", RDFS + "label", SKOS + "altLabel")
_CODE_PREDICATE = SKOS + "notation"
_TEXT_PREDICATES = (DCT + "description", SKOS + "definition")
#: Preference among predicates for the label and snippet shown (lower first).
_LABEL_RANK = {p: i for i, p in enumerate(_LABEL_PREDICATES)}
_ALT_RANK = _LABEL_RANK[SKOS + "altLabel"]
_CODE_RANK = len(_LABEL_PREDICATES)
_TEXT_RANK = {p: i for i, p in enumerate(_TEXT_PREDICATES)}

# bm25 weights: labels far above descriptions, the chosen language a little above the others.
_W_LABEL_CHOSEN = 12.0
_W_LABEL_OTHER = 8.0
_W_LABEL_CODE = 10.0
_W_TEXT_CHOSEN = 1.2
_W_TEXT_OTHER = 1.0

_REGION = re.compile(rf"^{re.escape(ns.ID)}([a-z0-9]+(?:-[a-z0-9]+)*)/")
#: A word as FTS5's unicode61 tokenizer sees one: letters and digits.
_WORD = re.compile(r"[^\W_]+")


# ------------------------------------------------------------------------------------------
# Normalisation
# ------------------------------------------------------------------------------------------

_COMMON_MARKS = re.compile("[\u0300-\u036f]+")
_NON_ASCII = re.compile("[^\x00-\x7f]")


@lru_cache(maxsize=1024)
def _strip(marks: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(marks)}]+")


def normalise(text: str) -> str:
    """Casefolded, NFKD-decomposed text without combining marks ("Lönkkä" -> "lonkka")."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", folded))
    if decomposed.isascii():
        return decomposed
    # Rarer marks: a pattern of just those this text holds (one of all ~900 would be slow).
    marks = "".join(sorted(
        {c for c in _NON_ASCII.findall(decomposed) if unicodedata.combining(c)}))
    return _strip(marks).sub("", decomposed) if marks else decomposed


def words(text: str) -> list[str]:
    """The normalised words of a text, split as FTS5's unicode61 tokenizer splits them."""
    return _WORD.findall(normalise(text))


def _quote(word: str) -> str:
    """One word as an FTS5 string (words hold only letters and digits; quoting is defence)."""
    return '"' + word.replace('"', '""') + '"'


# ------------------------------------------------------------------------------------------
# Building the index
# ------------------------------------------------------------------------------------------

_LABEL_COLUMNS = ", ".join(f"l_{c}" for c in _COLUMN_LANGS)
_TEXT_COLUMNS = ", ".join(f"d_{c}" for c in _COLUMN_LANGS)
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE entity (
    id INTEGER PRIMARY KEY,
    iri TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    region TEXT,
    label_fi TEXT, label_sv TEXT, label_en TEXT, label_x TEXT,
    snippet_fi TEXT, snippet_sv TEXT, snippet_en TEXT, snippet_x TEXT
);
CREATE TABLE exact (
    norm TEXT NOT NULL, id INTEGER NOT NULL, alt INTEGER NOT NULL, langs TEXT NOT NULL,
    PRIMARY KEY (norm, id)
) WITHOUT ROWID;
CREATE TABLE facet (
    type TEXT NOT NULL, name TEXT NOT NULL, code TEXT NOT NULL, PRIMARY KEY (type, name)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE labels USING fts5(
    {_LABEL_COLUMNS}, f, content='', tokenize='unicode61 remove_diacritics 0',
    prefix='2 3 4 5 6 7 8'
);
CREATE VIRTUAL TABLE words USING fts5(
    {_LABEL_COLUMNS}, {_TEXT_COLUMNS}, f, content='', tokenize='unicode61 remove_diacritics 0',
    prefix='2 3 4 5 6 7 8'
);
CREATE VIRTUAL TABLE tri USING fts5({_LABEL_COLUMNS}, f, content='', tokenize='trigram');
"""
_FTS_TABLES = ("labels", "words", "tri")
#: Bulk loading: a large in-memory buffer and no merging until the end (`optimize`), which
#: halves the time to build the index (measured).
_FTS_BULK = (("automerge", 0), ("crisismerge", 64), ("hashsize", 64 * 1024 * 1024))
_FTS_DEFAULTS = (("automerge", 4), ("crisismerge", 16), ("hashsize", 1024 * 1024))


def _iris(iris: Sequence[str]) -> str:
    return " ".join(f"<{iri}>" for iri in iris)


#: The typed entities: the searched classes, and every type of a SKOS concept (for its kind).
_TYPES_QUERY = f"""
SELECT ?s ?t WHERE {{
  {{ VALUES ?t {{ {_iris([_K + c for c in KIND_CLASSES])} <{_CONCEPT}> }} ?s a ?t }}
  UNION {{ ?s a <{_CONCEPT}> , ?t }}
}}"""
#: Texts, one query per group of predicates so that they run in parallel. Texts of subjects
#: that are not entities are dropped in Python: cheaper than a join that repeats each text
#: once per type. Nothing is computed in the query (no STR or LANG), which would cost time.
_TEXT_QUERY = "SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {} }} ?s ?p ?o }}"
_TEXT_GROUPS: tuple[tuple[str, ...], ...] = (
    (SKOS + "prefLabel",),
    (DCT + "description",),
    (SKOS + "definition", SKOS + "altLabel", RDFS + "label", _CODE_PREDICATE),
)
_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ESCAPED = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f"}


def _unescape_char(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        return chr(int(code, 16))
    char = match.group(3)
    return _ESCAPED.get(char, char)


def _literal(term: str) -> tuple[str, str] | None:
    """Value and language of a literal in SPARQL TSV syntax; None for IRIs and blank nodes."""
    if term.startswith('"'):
        end = term.rfind('"')
        value = term[1:end]
        if "\\" in value:
            value = _ESCAPE.sub(_unescape_char, value)
        rest = term[end + 1 :]
        return value, rest[1:] if rest.startswith("@") else ""
    if not term or term[0] in "<_":
        return None
    return term, ""  # a number or boolean in its short form


def _run_tsv(store: ox.Store, query: str, target: Path) -> Path:
    """Evaluate and serialise in Rust (pyoxigraph releases the GIL): parallel and fast."""
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    solutions.serialize(str(target), format=ox.QueryResultsFormat.TSV)
    return target


def _tsv_rows(path: Path) -> Iterator[list[str]]:
    # Tabs and line breaks inside values are escaped in SPARQL TSV: split on them safely.
    with open(path, encoding="utf-8", newline="\n") as lines:
        next(lines, None)  # header
        for line in lines:
            yield line.rstrip("\n").split("\t")


def _local_name(iri: str) -> str:
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def _kind(types: set[str]) -> str:
    for name in KIND_CLASSES:
        if _K + name in types:
            return name
    others = sorted(t for t in types if t != _CONCEPT)
    own = [t for t in others if t.startswith(_K)]
    chosen = own or others
    return _local_name(chosen[0]) if chosen else "Concept"


@lru_cache(maxsize=256)
def _column(lang: str) -> str:
    primary = lang.split("-", 1)[0].lower()
    return primary if primary in LANGS else OTHER


def _short(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text[: limit * 2].split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,.;:") + "…"


@dataclass
class _Entity:
    types: set[str]
    #: (column language, predicate rank, text) of labels and codes (rank `_CODE_RANK`).
    labels: list[tuple[str, int, str]] = field(default_factory=list)
    #: (column language, predicate rank, text) of descriptions and definitions.
    texts: list[tuple[str, int, str]] = field(default_factory=list)

    def prior(self, iri: str) -> tuple[float, int, str]:
        """Static order of entities: boosted kinds, then shorter labels, then the IRI."""
        shown = [text for column, rank, text in self.labels if rank < _CODE_RANK]
        fi = [text for column, rank, text in self.labels if column == "fi" and rank == 0]
        label = min(fi or shown or [iri], key=len)
        return (-KIND_BOOST.get(_kind(self.types), 1.0), len(label), iri)


def _read_entities(store: ox.Store, workdir: Path) -> dict[str, _Entity]:
    """Run the type and text queries in parallel, streaming their TSV results from disk."""
    queries = [_TYPES_QUERY] + [_TEXT_QUERY.format(_iris(group)) for group in _TEXT_GROUPS]
    workers = max(1, min(len(queries), os.cpu_count() or 1))
    with ThreadPoolExecutor(workers, thread_name_prefix="search-index") as pool:
        futures = [pool.submit(_run_tsv, store, query, workdir / f"{i}.tsv")
                   for i, query in enumerate(queries)]
        types: dict[str, set[str]] = {}
        result = futures[0].result()
        for s, t in _tsv_rows(result):
            if s.startswith("<") and t.startswith("<"):
                types.setdefault(s[1:-1], set()).add(t[1:-1])
        result.unlink()
        entities = {iri: _Entity(kinds) for iri, kinds in types.items() if kinds & _WANTED}
        for future in as_completed(futures[1:]):
            result = future.result()
            for s, p, o in _tsv_rows(result):
                entity = entities.get(s[1:-1])
                literal = _literal(o) if entity is not None else None
                if entity is None or literal is None or not literal[0].strip():
                    continue
                value, lang = literal
                predicate = p[1:-1]
                if predicate in _TEXT_RANK:
                    entity.texts.append((_column(lang), _TEXT_RANK[predicate], value))
                elif predicate in _LABEL_RANK:
                    entity.labels.append((_column(lang), _LABEL_RANK[predicate], value))
                else:
                    entity.labels.append((OTHER, _CODE_RANK, value))
            result.unlink()
    return entities


_Row = tuple[object, ...]


def _facet_codes(entities: dict[str, _Entity]) -> dict[tuple[str, str], str]:
    """A short code per kind and region ("k3q", "r12q"): one word, no word holds another."""
    kinds = sorted({_kind(e.types) for e in entities.values()})
    regions = sorted({m.group(1) for iri in entities if (m := _REGION.match(iri))})
    codes = {("kind", name): f"k{i}q" for i, name in enumerate(kinds)}
    codes.update({("region", name): f"r{i}q" for i, name in enumerate(regions)})
    return codes


def _entity_rows(
    entities: dict[str, _Entity], codes: dict[tuple[str, str], str],
) -> Iterator[tuple[_Row, _Row, _Row, _Row, list[_Row]]]:
    """Per entity, in the order of the prior: its entity, labels, words, tri and exact rows."""
    order = sorted(entities, key=lambda iri: entities[iri].prior(iri))
    kinds = {id(e): _kind(e.types) for e in entities.values()}
    for number, iri in enumerate(order, start=1):
        entity = entities[iri]
        # Sorted (preferred labels first) and deduplicated (a triple may be in two graphs).
        labels = sorted(set(entity.labels), key=_by_rank) if len(entity.labels) > 1 else (
            entity.labels)
        shown: dict[str, str] = {}
        label_text: dict[str, list[str]] = {}
        exact: dict[str, tuple[int, set[str]]] = {}
        for column, rank, text in labels:
            if rank < _CODE_RANK and column not in shown:
                shown[column] = text
            normal = normalise(text)
            label_text.setdefault(column, []).append(normal)
            key = " ".join(_WORD.findall(normal))
            if key:
                alt, langs = exact.get(key, (1, set()))
                exact[key] = (min(alt, int(rank >= _ALT_RANK)), langs | {column})
        texts = sorted(set(entity.texts), key=_by_rank) if len(entity.texts) > 1 else (
            entity.texts)
        raw_text: dict[str, list[str]] = {}
        for column, _rank, text in texts:
            raw_text.setdefault(column, []).append(text)
        kind = kinds[id(entity)]
        match = _REGION.match(iri)
        region = match.group(1) if match else None
        facets = codes[("kind", kind)] + (f" {codes[('region', region)]}" if region else "")
        label_columns = tuple(" | ".join(label_text.get(c, ())) for c in _COLUMN_LANGS)
        text_columns = tuple(normalise(" | ".join(raw_text[c])) if c in raw_text else ""
                             for c in _COLUMN_LANGS)
        yield (
            (number, iri, kind, region, *(shown.get(c) for c in _COLUMN_LANGS),
             *(_short(raw_text[c][0]) if c in raw_text else None for c in _COLUMN_LANGS)),
            (number, *label_columns, facets),
            (number, *label_columns, *text_columns, facets),
            (number, *label_columns, facets),
            [(key, number, alt, " ".join(sorted(langs))) for key, (alt, langs) in exact.items()],
        )


def _by_rank(item: tuple[str, int, str]) -> tuple[int, str]:
    return item[1], item[2]


_INSERTS = (
    f"INSERT INTO entity VALUES ({', '.join('?' * 12)})",
    f"INSERT INTO labels(rowid, {_LABEL_COLUMNS}, f) VALUES ({', '.join('?' * 6)})",
    f"INSERT INTO words(rowid, {_LABEL_COLUMNS}, {_TEXT_COLUMNS}, f) "
    f"VALUES ({', '.join('?' * 10)})",
    f"INSERT INTO tri(rowid, {_LABEL_COLUMNS}, f) VALUES ({', '.join('?' * 6)})",
    "INSERT INTO exact VALUES (?, ?, ?, ?)",
)
_BATCH = 2000


def _write_index(entities: dict[str, _Entity], target: Path) -> int:
    """Write a new index file: not yet visible, so no journal and no syncs while writing."""
    codes = _facet_codes(entities)
    connection = sqlite3.connect(target, isolation_level=None)
    try:
        connection.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 8192;"
            "PRAGMA cache_size = -131072; PRAGMA temp_store = MEMORY;" + _SCHEMA + "BEGIN;")
        for table in _FTS_TABLES:
            connection.executemany(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)",
                                   _FTS_BULK)
        connection.executemany("INSERT INTO facet VALUES (?, ?, ?)",
                               [(kind, name, code) for (kind, name), code in codes.items()])
        connection.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("schema", SCHEMA_VERSION),
            ("built_at", datetime.now(UTC).isoformat(timespec="seconds")),
            ("entities", str(len(entities))),
            ("sqlite", sqlite3.sqlite_version),
        ])
        batch: list[list[_Row]] = [[] for _ in _INSERTS]
        for number, (entity_row, label_row, word_row, tri_row, exact_rows) in enumerate(
                _entity_rows(entities, codes), start=1):
            batch[0].append(entity_row)
            batch[1].append(label_row)
            batch[2].append(word_row)
            batch[3].append(tri_row)
            batch[4].extend(exact_rows)
            if number % _BATCH == 0 or number == len(entities):
                for sql, rows in zip(_INSERTS, batch, strict=True):
                    connection.executemany(sql, rows)
                batch = [[] for _ in _INSERTS]
        for table in _FTS_TABLES:
            connection.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
            connection.executemany(f"INSERT INTO {table}({table}, rank) VALUES (?, ?)",
                                   _FTS_DEFAULTS)
        connection.execute("COMMIT")
    finally:
        connection.close()
    return len(entities)


def build_index(store: ox.Store, path: Path) -> int:
    """Write the search index of `store` to `path`, replacing it atomically; entities indexed.

    Call it on the new store before the swap, with `path` inside the new store folder
    (`<store>/search.sqlite`, `INDEX_FILE`), so that store and index change together.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix=".search-", dir=path.parent) as workdir:
        entities = _read_entities(store, Path(workdir))
        target = Path(workdir) / path.name
        count = _write_index(entities, target)
        with open(target, "rb") as written:
            os.fsync(written.fileno())  # on disk before it can be swapped in
        os.replace(target, path)
    return count


def build_step(project: object, store: ox.Store, folder: Path) -> dict[str, object]:
    """The build's search step: the index goes inside the new store folder, swapped with it."""
    return {"search_entities": build_index(store, Path(folder) / INDEX_FILE)}


#: What the index reads, fetched in one CONSTRUCT when the store is a remote engine.
_REMOTE_QUERY = f"""
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  VALUES ?p {{ <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>
              {_iris([*_LABEL_RANK, _CODE_PREDICATE, *_TEXT_RANK])} }}
  ?s ?p ?o
}}"""


def build_index_from(catalogue: Any, path: Path) -> int:
    """Index a catalogue read by SPARQL (a remote engine, or a store built without an index):
    its types and texts are fetched into a store in memory, then indexed as the build does."""
    memory = ox.Store()
    memory.bulk_extend(ox.Quad(t.subject, t.predicate, t.object)
                       for t in catalogue.construct(_REMOTE_QUERY))
    return build_index(memory, path)


# ------------------------------------------------------------------------------------------
# Searching
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One entity found: what a result list shows, in the language asked for when possible."""

    iri: str
    kind: str
    region: str | None
    label: str
    #: The language of `label`: the one asked for or a fallback ("" for an untagged label).
    label_lang: str
    snippet: str | None
    #: Higher is better. The integer part is 3 minus the tier (3 exact label, 2 word starts
    #: in labels, 1 inside labels, 0 with descriptions), the fraction the relevance in it.
    score: float


@dataclass(frozen=True)
class SearchResults:
    """A page of hits, best first, and how many matched in all."""

    #: Every match (after the kind and region filters), not only the page in `hits`.
    total: int
    hits: list[Hit]


class Index:
    """An index file being searched, with idle read-only connections to it shared by threads
    (one user at a time). Kept per snapshot (`index_for`), so its connections go with the
    build they belong to.

    Measured: a pooled connection saves about 1.5 ms per search over opening one per call.
    The file never changes once built (a rebuild writes a new file), hence `immutable=1`.
    """

    MAX_IDLE = 8

    def __init__(self, path: Path, workdir: tempfile.TemporaryDirectory[str] | None = None
                 ) -> None:
        self.path = Path(path)
        self.uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
        #: The temporary folder of an index built by the server (removed with the Index).
        self.workdir = workdir
        self.idle: list[sqlite3.Connection] = []
        self.lock = threading.Lock()
        self.closed = False

    def acquire(self) -> sqlite3.Connection:
        with self.lock:
            if self.idle:
                return self.idle.pop()
        if not self.path.exists():
            raise FileNotFoundError(self.path)
        connection = sqlite3.connect(self.uri, uri=True, check_same_thread=False)
        connection.execute("PRAGMA mmap_size = 1073741824")
        return connection

    def release(self, connection: sqlite3.Connection) -> None:
        with self.lock:
            if not self.closed and len(self.idle) < self.MAX_IDLE:
                self.idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self.lock:
            idle, self.idle, self.closed = self.idle, [], True
        for connection in idle:
            connection.close()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A pooled connection for one search."""
        connection = self.acquire()
        try:
            yield connection
        except BaseException:
            connection.close()
            raise
        self.release(connection)


@contextmanager
def _connection(index: Index | Path) -> Iterator[sqlite3.Connection]:
    """A connection to the index: a pooled one of an `Index`, or one of its own for a path
    (FileNotFoundError when there is no index at the path)."""
    if isinstance(index, Index):
        with index.connection() as connection:
            yield connection
        return
    os.stat(index)  # FileNotFoundError when there is no index
    connection = sqlite3.connect(Path(index).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


def index_for(snapshot: Snapshot) -> Index:
    """The index of a snapshot's data: the file its build wrote beside the store, or, when
    there is none (remote mode, or a store built by an older ketju), one built here from the
    data into a temporary folder. Keep it with the snapshot (`snapshot.kept`); the folder
    goes when the Index does."""
    files = snapshot.files
    built = files.file(INDEX_FILE) if files is not None else None
    if built is not None:
        return Index(built)
    workdir = tempfile.TemporaryDirectory(prefix="ketju-search-")
    target = Path(workdir.name) / INDEX_FILE
    build_index_from(snapshot.data, target)
    return Index(target, workdir)


def _weights(lang: str, texts: bool = False) -> str:
    """bm25 weights: label columns, then (`texts`) description columns, then the facets."""
    values = [_W_LABEL_CHOSEN if c == lang else _W_LABEL_CODE if c == OTHER else _W_LABEL_OTHER
              for c in _COLUMN_LANGS]
    if texts:
        values += [_W_TEXT_CHOSEN if c == lang else _W_TEXT_OTHER for c in _COLUMN_LANGS]
    return ", ".join(f"{v:.1f}" for v in (*values, 0.0))


@dataclass(frozen=True)
class _Shape:
    """What varies in the SQL of a search (values never do: they are bound parameters)."""

    lang: str
    infix: bool
    short: bool
    kinds: int
    region: bool


def _source(tier: int, shape: _Shape, ranked: bool = False) -> str | None:
    """The ids (and, when ranked, `bm`: lower is better) of one tier's whole match set."""
    if tier == 0:
        filters = []
        if shape.kinds:
            filters.append(f"e.kind IN ({', '.join(f':k{i}' for i in range(shape.kinds))})")
        if shape.region:
            filters.append("e.region = :region")
        join = " JOIN entity AS e ON e.id = x.id" if filters else ""
        where = "".join(f" AND {f}" for f in filters)
        # A preferred label (not an alternative one or a code), in the language asked for.
        bm = ", -1.0 - (x.alt = 0) - (instr(x.langs, :lang) > 0) AS bm" if ranked else ""
        return f"SELECT x.id{bm} FROM exact AS x{join} WHERE x.norm = :exact{where}"
    if tier == 1:
        bm = f", bm25(labels, {_weights(shape.lang)}) AS bm" if ranked else ""
        return f"SELECT rowid AS id{bm} FROM labels WHERE labels MATCH :labels"
    if tier == 2:
        if not shape.infix:
            return None
        bm = f", bm25(tri, {_weights(shape.lang)}) AS bm" if ranked else ""
        # `+rowid`: keeps SQLite from re-running the trigram match once per short-word id.
        short = (" AND +rowid IN (SELECT rowid FROM labels WHERE labels MATCH :short)"
                 if shape.short else "")
        return f"SELECT rowid AS id{bm} FROM tri WHERE tri MATCH :tri{short}"
    bm = f", bm25(words, {_weights(shape.lang, texts=True)}) AS bm" if ranked else ""
    return f"SELECT rowid AS id{bm} FROM words WHERE words MATCH :words"


def _excluding(tier: int, shape: _Shape) -> str:
    """The condition that keeps a tier's ids out of the better tiers (see `_tier_counts`)."""
    if tier == 0:
        return ""
    better = 0 if tier == 1 else 1 if tier == 2 or not shape.infix else 2
    return f"WHERE s.id NOT IN ({_source(better, shape)})"


@cache
def _count_sql(name: str, shape: _Shape) -> str:
    """Counts of whole match sets, from which the tiers' counts follow (see `_tier_counts`)."""
    if name in "xlt":
        return f"SELECT count(*) FROM ({_source('xlt'.index(name), shape)})"
    words = _source(3, shape)
    if not shape.infix:
        return f"SELECT count(*), 0 FROM ({words})"
    # |w| and |w ∩ t| in one pass over w (its prefix expansion is the costly part).
    return (f"SELECT count(*), count(*) FILTER (WHERE +id IN ({_source(2, shape)})) "
            f"FROM ({words})")


def _tier_counts(connection: sqlite3.Connection, shape: _Shape,
                 params: dict[str, object]) -> list[int]:
    """How many entities each tier holds, from the sizes of the match sets.

    The sets: x the query is a whole label, l every word starts a word of the labels, t every
    word is inside the labels, w every word starts a word of the labels or the descriptions.
    By construction x ⊆ l ⊆ w, and l ⊆ t when there is infix matching (a word of three
    characters or more). So the tiers are x, l − x, t − l and w − t (w − l without infix
    matching): their counts need no sets of ids, but for |w ∩ t|.
    """
    def count(name: str) -> list[int]:
        return [int(n) for n in connection.execute(_count_sql(name, shape), params).fetchone()]

    n_x, n_l = count("x")[0], count("l")[0]
    n_w, n_wt = count("w")
    if not shape.infix:
        return [n_x, max(0, n_l - n_x), 0, max(0, n_w - n_l)]
    n_t = count("t")[0]
    return [n_x, max(0, n_l - n_x), max(0, n_t - n_l), max(0, n_w - n_wt)]


_BOOST = " ".join(f"WHEN '{kind}' THEN {boost}" for kind, boost in KIND_BOOST.items())


@cache
def _ranked_sql(tier: int, shape: _Shape) -> str:
    """The tier's first `:head` ids (static prior) with bm25, ranked; a page of them."""
    return f"""
WITH s AS MATERIALIZED (
    SELECT s.id, s.bm FROM ({_source(tier, shape, ranked=True)}) AS s
    {_excluding(tier, shape)} ORDER BY s.id LIMIT :head
)
SELECT e.*, -s.bm * (CASE e.kind {_BOOST} ELSE 1.0 END) AS relevance
FROM s JOIN entity AS e ON e.id = s.id
ORDER BY relevance DESC, e.id LIMIT :limit OFFSET :offset"""


@cache
def _tail_sql(tier: int, shape: _Shape) -> str:
    """A page of the tier's ids beyond the ranked head, in the order of the static prior."""
    return f"""
SELECT e.*, 0.0 AS relevance FROM ({_source(tier, shape)}) AS s
JOIN entity AS e ON e.id = s.id {_excluding(tier, shape)}
ORDER BY s.id LIMIT :limit OFFSET :offset"""


def _pick(row: sqlite3.Row, prefix: str, lang: str) -> tuple[str | None, str]:
    for choice in (*FALLBACK[lang], OTHER):
        value = row[f"{prefix}_{choice}"]
        if value:
            return value, "" if choice == OTHER else choice
    return None, ""


def _hit(row: sqlite3.Row, tier: int, lang: str) -> Hit:
    label, label_lang = _pick(row, "label", lang)
    snippet, _ = _pick(row, "snippet", lang)
    relevance = max(float(row["relevance"]), 0.0)
    return Hit(
        iri=row["iri"],
        kind=row["kind"],
        region=row["region"],
        label=label if label is not None else _local_name(row["iri"]),
        label_lang=label_lang,
        snippet=snippet,
        score=round((3 - tier) + relevance / (1.0 + relevance), 6),
    )


def _match(columns: str, terms: Sequence[str], facets: str) -> str:
    """An FTS5 query: every term (quoted already) in the given columns, and the facet filter."""
    return f"{{{columns}}} : ({' '.join(terms)}){facets}"


def search(
    index: Index | Path,
    q: str,
    lang: str = "fi",
    kinds: Sequence[str] | None = None,
    region: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchResults:
    """Search the index (an `Index`, or the file at a path) for `q` (untrusted text): a ranked
    page and the true total.

    Every word of `q` must match, as the start of a word of a label or a description, or
    (from three characters on) anywhere inside a label; a one-character word must be a whole
    word. `kinds` (class local names such as "ServiceChain") and `region` (a region's short
    name) filter. Labels are given in `lang` when they exist, else in the next language of
    `FALLBACK[lang]`; `Hit.label_lang` tells which. `limit` is capped at `MAX_LIMIT`.
    Raises FileNotFoundError when there is no index file.
    """
    lang = _column(lang) if _column(lang) in FALLBACK else "fi"
    if isinstance(kinds, str):
        kinds = [kinds]
    query_words = words(q[:MAX_QUERY_CHARS])
    terms = list(dict.fromkeys(query_words))[:MAX_QUERY_WORDS]
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    if not terms:
        return SearchResults(0, [])
    long_terms = [_quote(t) for t in terms if len(t) >= 3]
    # A word of one character is matched whole: as a prefix it would match most of the index.
    prefixes = [_quote(t) + ("*" if len(t) > 1 else "") for t in terms]
    short_terms = [p for t, p in zip(terms, prefixes, strict=True) if len(t) < 3]
    kind_list = list(dict.fromkeys(kinds or ()))
    shape = _Shape(lang, bool(long_terms), bool(long_terms and short_terms), len(kind_list),
                   bool(region))
    label_columns = _LABEL_COLUMNS.replace(",", "")
    all_columns = f"{label_columns} {_TEXT_COLUMNS.replace(',', '')}"
    with _connection(index) as connection:
        facets = ""
        if kind_list or region:
            found = dict(connection.execute(
                "SELECT type || ' ' || name, code FROM facet",
            ).fetchall())
            kind_codes = [found[f"kind {k}"] for k in kind_list if f"kind {k}" in found]
            region_code = found.get(f"region {region}") if region else None
            if (kind_list and not kind_codes) or (region and region_code is None):
                return SearchResults(0, [])
            if kind_codes:
                facets += f" AND {{f}} : ({' OR '.join(_quote(c) for c in kind_codes)})"
            if region_code:
                facets += f" AND {{f}} : {_quote(region_code)}"
        params: dict[str, object] = {
            "exact": " ".join(query_words),
            "lang": lang,
            "labels": _match(label_columns, prefixes, facets),
            "words": _match(all_columns, prefixes, facets),
            "region": region,
            **{f"k{i}": kind for i, kind in enumerate(kind_list)},
        }
        if long_terms:
            params["tri"] = _match(label_columns, long_terms, facets)
            params["short"] = _match(label_columns, short_terms, "") if short_terms else None
        hits: list[Hit] = []
        counts = _tier_counts(connection, shape, params)
        for tier, count in enumerate(counts):
            if count:
                hits.extend(
                    _page(connection, tier, shape, params, count, offset, limit - len(hits)))
            offset = max(0, offset - count)
    return SearchResults(sum(counts), hits)


def _page(connection: sqlite3.Connection, tier: int, shape: _Shape, params: dict[str, object],
          count: int, offset: int, limit: int) -> list[Hit]:
    """Positions [offset, offset + limit) of one tier: from its ranked head, then its tail."""
    head = min(count, RANKED_PER_TIER)
    end = min(count, offset + limit)
    rows: list[sqlite3.Row] = []
    if offset < head and offset < end:
        cursor = connection.execute(_ranked_sql(tier, shape), {
            **params, "head": head, "limit": min(end, head) - offset, "offset": offset})
        cursor.row_factory = sqlite3.Row
        rows.extend(cursor.fetchall())
    if end > head:
        start = max(offset, head)
        cursor = connection.execute(_tail_sql(tier, shape), {
            **params, "limit": end - start, "offset": start})
        cursor.row_factory = sqlite3.Row
        rows.extend(cursor.fetchall())
    return [_hit(row, tier, shape.lang) for row in rows]
