"""The index on disk: a FAISS file of normalised vectors, a SQLite store of chunks and documents, a manifest.

Nothing is pickled. A build is written into a sibling folder and swapped in only when complete, so an interrupted
build leaves the previous index usable. Passages whose embedded text is unchanged reuse their stored vectors, so
re-indexing an unchanged folder embeds nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from . import lexical
from .chunking import Chunker, embedding_text
from .embedding import Embedder
from .ingest import Problem, load_documents, sha256_of
from .records import Chunk, Document, Filter, Hit

MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "chunks.sqlite"
FORMAT_VERSION = 3  # 2: adds the lexical (FTS5) table; 3: page numbers of chunks


class IndexNotUsable(RuntimeError):
    """The index cannot be used as it is; the message gives the command that fixes it."""


def rebuild_command(index_dir: Path) -> str:
    """The exact command that rebuilds the index in ``index_dir``."""
    return f"assistant index --index-dir {index_dir}"


def expected_manifest(embedder: Embedder, chunker: Chunker) -> dict[str, Any]:
    """The settings an index must have been built with to be loaded under the current ones."""
    return {
        "format_version": FORMAT_VERSION,
        "embedding_model": embedder.name,
        "passage_prompt": embedder.passage_prompt,
        "chunking": chunker.settings(),
    }


@dataclass
class BuildReport:
    """What an indexing run did."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0  #: passages embedded in this run
    reused: int = 0  #: passages whose vectors were reused
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    up_to_date: bool = False


_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, path TEXT, title TEXT, sha256 TEXT, metadata TEXT, text TEXT);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, id TEXT UNIQUE, doc_id TEXT, text TEXT, start INTEGER, end_ INTEGER,
    line_start INTEGER, line_end INTEGER, heading TEXT, text_hash TEXT, page_start INTEGER, page_end INTEGER
);
CREATE INDEX chunks_hash ON chunks(text_hash);
"""


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Index:
    """A loaded index: search by vector, look up chunks and documents."""

    def __init__(self, directory: Path, manifest: dict[str, Any], vectors: faiss.Index, db: sqlite3.Connection) -> None:
        self.directory = directory
        self.manifest = manifest
        self.vectors = vectors
        self.db = db
        self._docs: dict[str, tuple[str, dict[str, str]]] = {}
        self._files: dict[str, str] = {}  #: document id → source file name (what the document filter names)
        for doc_id, path, title, meta in db.execute("SELECT id, path, title, metadata FROM documents"):
            self._docs[doc_id] = (title, json.loads(meta))
            self._files[doc_id] = Path(path).name

    @classmethod
    def load(cls, directory: Path, expect: dict[str, Any] | None = None) -> Index:
        """Open the index in ``directory``; refuse, naming the rebuild command, if it was built under other settings."""
        manifest_path = directory / MANIFEST
        previous = _previous(directory)
        if not manifest_path.exists() and (previous / MANIFEST).exists():
            # An indexer stopped between moving the old index aside and moving the new one in: the old one is whole.
            directory, manifest_path = previous, previous / MANIFEST
        if not manifest_path.exists():
            raise IndexNotUsable(f"no index in {directory}; build it with: {rebuild_command(directory)}")
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexNotUsable(f"the manifest in {directory} is unreadable ({exc}); rebuild with: {rebuild_command(directory)}") from exc
        for key, want in (expect or {}).items():
            if manifest.get(key) != want:
                raise IndexNotUsable(
                    f"the index in {directory} was built with {key}={manifest.get(key)!r}, but the settings say {want!r}; "
                    f"rebuild it with: {rebuild_command(directory)}"
                )
        vectors = faiss.read_index(str(directory / VECTORS))
        # One query at a time: a second OpenMP thread made a search slower here (100k passages: 7.9 ms on one thread,
        # 12.5 ms on two; bench/scale_latency.py).
        faiss.omp_set_num_threads(1)
        # check_same_thread=False: the chat server answers from worker threads; SQLite is only read here.
        db = sqlite3.connect(f"file:{directory / STORE}?mode=ro", uri=True, check_same_thread=False)
        return cls(directory, manifest, vectors, db)

    def __len__(self) -> int:
        return int(self.vectors.ntotal)

    def _chunk(self, row: tuple[Any, ...]) -> Chunk:
        _, cid, doc_id, text, start, end, line_start, line_end, heading, _, page_start, page_end = row
        title, meta = self._docs[doc_id]
        return Chunk(cid, doc_id, title, text, start, end, line_start, line_end, heading, meta, page_start, page_end)

    def dense(self, vector: np.ndarray, k: int, within: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` chunks nearest to a normalised query vector, best first;
        ``within`` (rows) restricts the search."""
        if len(self) == 0 or (within is not None and len(within) == 0):
            return []
        query = vector.reshape(1, -1).astype(np.float32)
        if within is None:
            scores, rows = self.vectors.search(query, min(k, len(self)))
        else:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(within.astype(np.int64))
            scores, rows = self.vectors.search(query, min(k, len(within)), params=params)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def lexical(self, query: str, k: int, within: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Rows and BM25 scores of the ``k`` best chunks by words, best first; ``within`` (rows) restricts the search."""
        return lexical.search(self.db, query, k, within=None if within is None else within.tolist())

    def facets(self) -> dict[str, list[str]]:
        """What retrieval can be narrowed by: source file names, bodies, and the earliest and latest date."""
        files, bodies, dates = set(self._files.values()), set(), set()
        for _, m in self._docs.values():
            if m.get("body"):
                bodies.add(m["body"])
            if m.get("date"):
                dates.add(m["date"][:10])
        return {"files": sorted(files), "bodies": sorted(bodies), "dates": [min(dates), max(dates)] if dates else []}

    def rows_within(self, narrow: Filter) -> np.ndarray | None:
        """The rows of chunks whose documents pass ``narrow`` (None when it narrows nothing)."""
        if narrow.empty:
            return None
        docs = [doc_id for doc_id, (_, m) in self._docs.items() if narrow.admits(self._files[doc_id], m.get("body", ""), m.get("date", ""))]
        rows = self.db.execute("SELECT row FROM chunks WHERE doc_id IN (SELECT value FROM json_each(?))", (json.dumps(docs),))
        return np.array(sorted(r for (r,) in rows), dtype=np.int64)

    def hits(self, rows: list[int], vector: np.ndarray) -> list[Hit]:
        """Hits for chunk ``rows`` in the given order (rank 1 first), scored by cosine similarity to ``vector``."""
        hits = []
        for rank, row in enumerate(rows, 1):
            found = self.db.execute("SELECT * FROM chunks WHERE row = ?", (row,)).fetchone()
            score = float(self.vector(row) @ vector)
            hits.append(Hit(self._chunk(found), score, rank, row))
        return hits

    def search(self, vector: np.ndarray, k: int) -> list[Hit]:
        """The ``k`` chunks nearest to a normalised query vector, best first."""
        return self.hits([row for row, _ in self.dense(vector, k)], vector)

    def text_hashes(self, rows: list[int]) -> list[str]:
        """The embedded-text hash of each row: equal hashes are the same passage (a case repeated at several meetings)."""
        found = dict(self.db.execute(f"SELECT row, text_hash FROM chunks WHERE row IN ({','.join('?' * len(rows))})", rows)) if rows else {}
        return [found.get(r, str(r)) for r in rows]

    def vector(self, row: int) -> np.ndarray:
        """The stored vector of the passage in ``row``."""
        return self.vectors.reconstruct(row)

    def document_text(self, doc_id: str) -> str:
        """The full text of a document, for showing a passage in its place."""
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""


def indexed_sources(index_dir: Path) -> list[Path]:
    """The files and folders the index in ``index_dir`` was built from (empty when there is none)."""
    try:
        manifest = json.loads((index_dir / MANIFEST).read_text("utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return [Path(p) for p in manifest.get("sources", [])]


def _old_vectors(index_dir: Path, expect: dict[str, Any]) -> tuple[dict[str, int], faiss.Index | None]:
    """Vectors of the current index, by embedded-text hash, when it was built under the same settings."""
    try:
        old = Index.load(index_dir, expect)
    except (IndexNotUsable, RuntimeError, sqlite3.Error):
        return {}, None
    by_hash = {h: row for row, h in old.db.execute("SELECT row, text_hash FROM chunks")}
    old.db.close()
    return by_hash, old.vectors


class NoDocuments(ValueError):
    """Nothing readable was found where the indexer was pointed."""


class IndexLocked(RuntimeError):
    """Another indexer is writing the same index."""


def _previous(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".old")


@contextmanager
def _lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's lock file for the whole build; a second indexer is refused at once, not queued."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    path = index_dir.with_name(index_dir.name + ".lock")
    with path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(f"another `assistant index` is writing {index_dir} (lock: {path}); wait for it to finish, then run again") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_index(
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    chunker: Chunker,
    progress: Callable[[int, int], None] | None = None,
    max_bytes: int | None = None,
) -> BuildReport:
    """Index every document under ``paths`` into ``index_dir``, reusing unchanged passages' vectors.

    ``progress(done, total)`` is called as passages are embedded. The new index replaces the old one only once
    it is complete; while one indexer writes, another is refused (IndexLocked). ``max_bytes`` caps one document
    file's size (larger ones are reported, not indexed).
    """
    with _lock(index_dir):
        return _build(paths, index_dir, embedder, chunker, progress, max_bytes)


def _build(
    paths: list[Path],
    index_dir: Path,
    embedder: Embedder,
    chunker: Chunker,
    progress: Callable[[int, int], None] | None,
    max_bytes: int | None = None,
) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport()
    docs, report.problems = load_documents(paths, max_bytes)
    if not docs:
        reasons = "; ".join(str(p) for p in report.problems[:3]) or "no .txt, .md, .pdf, .docx, .html or .jsonl files there"
        raise NoDocuments(f"no documents to index in {', '.join(map(str, paths))} ({reasons}); the existing index is unchanged")
    expect = expected_manifest(embedder, chunker)
    # Whole-file hashes: a JSONL file holds many records, and a change in any of them changes the file's hash.
    files = {path: sha256_of(Path(path)) for path in dict.fromkeys(d.path for d in docs)}

    manifest_path = index_dir / MANIFEST
    if manifest_path.exists():
        try:
            current = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            current = {}
        if all(current.get(k) == v for k, v in expect.items()) and current.get("files") == files:
            report.documents, report.chunks, report.up_to_date = current.get("documents", 0), current.get("chunks", 0), True
            report.seconds = time.perf_counter() - started
            return report

    chunks: list[Chunk] = [c for d in docs for c in chunker.split(d)]
    texts = [embedding_text(c) for c in chunks]
    hashes = [_text_hash(t) for t in texts]
    by_hash, old_vectors = _old_vectors(index_dir, expect)

    dim = embedder.dimension
    matrix = np.zeros((len(chunks), dim), dtype=np.float32)
    todo: list[int] = []
    for i, h in enumerate(hashes):
        if old_vectors is not None and h in by_hash:
            matrix[i] = old_vectors.reconstruct(by_hash[h])
        else:
            todo.append(i)
    # Identical passages (common in minutes) are embedded once.
    unique: dict[str, int] = {}
    for i in todo:
        unique.setdefault(hashes[i], i)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(unique))

    if progress:
        progress(0, len(unique))
    firsts = list(unique.values())
    vecs = embedder.embed_passages([texts[i] for i in firsts], progress=step)
    first_vec = {hashes[i]: v for i, v in zip(firsts, vecs)}
    for i in todo:
        matrix[i] = first_vec[hashes[i]]
    report.embedded, report.reused = len(unique), len(chunks) - len(todo)

    sources = [str(p.resolve()) for p in paths]
    manifest = {**expect, "dimension": dim, "sources": sources, "files": files, "documents": len(docs), "chunks": len(chunks)}
    _write(index_dir, docs, chunks, hashes, matrix, manifest)
    report.documents, report.chunks = len(docs), len(chunks)
    report.seconds = time.perf_counter() - started
    return report


def _write(index_dir: Path, docs: list[Document], chunks: list[Chunk], hashes: list[str], matrix: np.ndarray, manifest: dict[str, Any]) -> None:
    """Write a complete index beside ``index_dir``, then swap it in."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = index_dir.with_name(index_dir.name + ".building")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    vectors = faiss.IndexFlatIP(matrix.shape[1])
    vectors.add(matrix)
    faiss.write_index(vectors, str(staging / VECTORS))
    db = sqlite3.connect(staging / STORE)
    db.executescript(_SCHEMA)
    db.executemany(
        "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
        [(d.id, d.path, d.title, d.sha256, json.dumps(d.metadata, ensure_ascii=False), d.text) for d in docs],
    )
    db.executemany(
        "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (i, c.id, c.doc_id, c.text, c.start, c.end, c.line_start, c.line_end, c.heading, h, c.page_start, c.page_end)
            for i, (c, h) in enumerate(zip(chunks, hashes))
        ],
    )
    db.executescript(lexical.SCHEMA)
    lexical.add(db, ((i, embedding_text(c)) for i, c in enumerate(chunks)))
    db.commit()
    db.close()
    manifest["built_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    for f in staging.iterdir():
        with f.open("rb") as fh:
            os.fsync(fh.fileno())
    old = _previous(index_dir)
    if old.exists() and index_dir.exists():
        shutil.rmtree(old)
    if index_dir.exists():
        index_dir.rename(old)
    staging.rename(index_dir)
    shutil.rmtree(old, ignore_errors=True)
