"""The default store: an index folder holding a FAISS file of normalised vectors, a SQLite store of chunks and
documents (with the lexical channel's FTS5 table), and a manifest of the settings it was built under.

Nothing is pickled. A build is written into a sibling folder and swapped in only when complete, so an interrupted
build leaves the previous index usable. Building (files → chunks → vectors) is ``indexing``'s; this module loads,
searches, reads passages back, and writes what a build hands it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from . import lexical
from .records import Candidate, Chunk, Filter, Hit, IndexBuild

MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
STORE = "chunks.sqlite"
FORMAT_VERSION = 4  # 2: adds the lexical (FTS5) table; 3: page numbers of chunks; 4: hyphenation joined as in danish.py


class IndexNotUsable(RuntimeError):
    """The index cannot be used as it is; the message gives the command that fixes it."""


def rebuild_command(index_dir: Path) -> str:
    """The exact command that rebuilds the index in ``index_dir``."""
    return f"assistant index --index-dir {index_dir}"


class IndexLocked(RuntimeError):
    """Another indexer is writing the same index."""


def check_manifest(manifest: dict[str, Any], expect: dict[str, Any], where: str, rebuild: str) -> None:
    """Refuse, naming the setting and the rebuild command, an index whose manifest differs from ``expect``."""
    for key, want in expect.items():
        if manifest.get(key) != want:
            raise IndexNotUsable(
                f"the index in {where} was built with {key}={manifest.get(key)!r}, but the settings say {want!r}; "
                f"rebuild it with: {rebuild}"
            )


_SCHEMA = """
CREATE TABLE documents (id TEXT PRIMARY KEY, path TEXT, title TEXT, sha256 TEXT, metadata TEXT, text TEXT);
CREATE TABLE chunks (
    row INTEGER PRIMARY KEY, id TEXT UNIQUE, doc_id TEXT, text TEXT, start INTEGER, end_ INTEGER,
    line_start INTEGER, line_end INTEGER, heading TEXT, text_hash TEXT, page_start INTEGER, page_end INTEGER
);
CREATE INDEX chunks_hash ON chunks(text_hash);
"""


@contextmanager
def hold_lock(path: Path, what: str) -> Iterator[None]:
    """Hold the lock file ``path`` while ``what`` is written; a second writer is refused at once, not queued."""
    with path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLocked(f"another `assistant index` is writing {what} (lock: {path}); wait for it to finish, then run again") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class FaissStore:
    """A loaded index folder: search by vector or words, look up chunks and documents."""

    def __init__(self, directory: Path, manifest: dict[str, Any], vectors: faiss.Index, db: sqlite3.Connection) -> None:
        self.directory = directory
        self.manifest = manifest
        self.vectors = vectors
        self.db = db
        self._docs: dict[str, tuple[str, dict[str, str]]] = {}
        self._files: dict[str, str] = {}  #: document id → source file name (what the document filter names)
        self._within: dict[Filter, np.ndarray] = {}  #: recent filters' rows: both channels of a question ask for them
        self._within_lock = threading.Lock()
        self._facets: dict[str, list[str]] | None = None
        for doc_id, path, title, meta in db.execute("SELECT id, path, title, metadata FROM documents"):
            self._docs[doc_id] = (title, json.loads(meta))
            self._files[doc_id] = Path(path).name

    @classmethod
    def load(cls, directory: Path, expect: dict[str, Any] | None = None) -> FaissStore:
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
        check_manifest(manifest, {"format_version": FORMAT_VERSION, **(expect or {})}, str(directory), rebuild_command(directory))
        vectors = faiss.read_index(str(directory / VECTORS))
        # One query at a time: a second OpenMP thread made a search slower here (100k passages: 7.9 ms on one thread,
        # 12.5 ms on two; bench/scale_latency.py).
        faiss.omp_set_num_threads(1)
        # check_same_thread=False: the chat server answers from worker threads; SQLite is only read here.
        db = sqlite3.connect(f"file:{directory / STORE}?mode=ro", uri=True, check_same_thread=False)
        return cls(directory, manifest, vectors, db)

    def close(self) -> None:
        """Let go of the SQLite store."""
        self.db.close()

    def __len__(self) -> int:
        return int(self.vectors.ntotal)

    def _chunk(self, row: tuple[Any, ...]) -> Chunk:
        _, cid, doc_id, text, start, end, line_start, line_end, heading, _, page_start, page_end = row
        title, meta = self._docs[doc_id]
        return Chunk(cid, doc_id, title, text, start, end, line_start, line_end, heading, meta, page_start, page_end)

    def dense(self, vector: np.ndarray, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` chunks nearest to a normalised query vector, best first;
        ``narrow`` restricts the search to the documents it admits."""
        within = self.rows_within(narrow)
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

    def lexical(self, query: str, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and BM25 scores of the ``k`` best chunks by words, best first; ``narrow`` restricts the search."""
        within = self.rows_within(narrow)
        return lexical.search(self.db, query, k, within=None if within is None else within.tolist())

    def facets(self) -> dict[str, list[str]]:
        """What retrieval can be narrowed by: source file names, bodies, and the earliest and latest date."""
        if self._facets is None:  # a loaded index does not change: every question asks for the bodies
            self._facets = facets(self._files.values(), (m for _, m in self._docs.values()))
        return self._facets

    def rows_within(self, narrow: Filter | None) -> np.ndarray | None:
        """The rows of chunks whose documents pass ``narrow`` (None when it narrows nothing)."""
        if narrow is None or narrow.empty:
            return None
        with self._within_lock:
            if narrow not in self._within:
                if len(self._within) >= 8:
                    self._within.pop(next(iter(self._within)))
                self._within[narrow] = self._rows_admitted(narrow)
            return self._within[narrow]

    def _rows_admitted(self, narrow: Filter) -> np.ndarray:
        docs = [doc_id for doc_id, (_, m) in self._docs.items() if narrow.admits(self._files[doc_id], m.get("body", ""), m.get("date", ""))]
        rows = self.db.execute("SELECT row FROM chunks WHERE doc_id IN (SELECT value FROM json_each(?))", (json.dumps(docs),))
        return np.array(sorted(r for (r,) in rows), dtype=np.int64)

    def hits(self, rows: list[int], vector: np.ndarray) -> list[Hit]:
        """Hits for chunk ``rows`` in the given order (rank 1 first), scored by cosine similarity to ``vector``."""
        hits = []
        for rank, row in enumerate(rows, 1):
            found = self.db.execute("SELECT * FROM chunks WHERE row = ?", (row,)).fetchone()
            stored = self.vectors.reconstruct(row)
            hits.append(Hit(self._chunk(found), float(stored @ vector), rank, row, stored))
        return hits

    def candidates(self, rows: list[int]) -> list[Candidate]:
        """Each row's text hash, document, agenda item and section, and its meeting's body, date and case, in order."""
        if not rows:
            return []
        query = f"SELECT row, text_hash, doc_id, heading FROM chunks WHERE row IN ({','.join('?' * len(rows))})"
        found = {r: (h, d, head) for r, h, d, head in self.db.execute(query, rows)}
        return [candidate(row, *found[row], self._docs[found[row][1]][1]) for row in rows if row in found]

    def document_text(self, doc_id: str) -> str:
        """The full text of a document, for showing a passage in its place."""
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        """Every stored vector by its passage's embedded-text hash (what a rebuild can reuse)."""
        matrix = self.vectors.reconstruct_n(0, len(self)) if len(self) else np.zeros((0, self.vectors.d), np.float32)
        return {h: matrix[row] for h, row in self.db.execute("SELECT text_hash, row FROM chunks")}


def candidate(row: int, text_hash: str, doc_id: str, heading: str, metadata: dict[str, str]) -> Candidate:
    """A row's Candidate from its stored fields and its document's metadata (both stores make them so)."""
    return Candidate(row, text_hash, doc_id, heading, metadata.get("body", ""), metadata.get("date", ""), metadata.get("case_number", ""))


def facets(files: Any, metadata: Any) -> dict[str, list[str]]:
    """Source file names, bodies, and the earliest and latest date, from documents' file names and metadata."""
    bodies, dates = set(), set()
    for m in metadata:
        if m.get("body"):
            bodies.add(m["body"])
        if m.get("date"):
            dates.add(m["date"][:10])
    return {"files": sorted(set(files)), "bodies": sorted(bodies), "dates": [min(dates), max(dates)] if dates else []}


def _previous(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".old")


class FaissFolder:
    """Where a FAISS index lives (a folder), as an indexer sees it: its manifest, its lock, and writing a build."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def __str__(self) -> str:
        return str(self.directory)

    @property
    def rebuild(self) -> str:
        """The command that rebuilds this index."""
        return rebuild_command(self.directory)

    @property
    def journal(self) -> Path:
        """Beside the folder: the vectors a build embedded before it was interrupted."""
        return self.directory.with_name(self.directory.name + ".partial")

    def manifest(self) -> dict[str, Any] | None:
        """The current index's manifest (None when there is none, or it is unreadable)."""
        try:
            return dict(json.loads((self.directory / MANIFEST).read_text("utf-8")))
        except (OSError, json.JSONDecodeError):
            return None

    def load(self, expect: dict[str, Any] | None = None) -> FaissStore:
        """The index, loaded; refused when built under other settings than ``expect``."""
        return FaissStore.load(self.directory, expect)

    def reusable_vectors(self, expect: dict[str, Any]) -> dict[str, np.ndarray]:
        """Vectors of the current index by embedded-text hash, when it was built under the same settings."""
        try:
            old = FaissStore.load(self.directory, expect)
        except (IndexNotUsable, RuntimeError, sqlite3.Error):
            return {}
        try:
            return old.vectors_by_hash()
        finally:
            old.close()

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the index's lock file for a whole build; a second indexer is refused at once, not queued."""
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with hold_lock(self.directory.with_name(self.directory.name + ".lock"), str(self.directory)):
            yield

    def write(self, build: IndexBuild) -> None:
        """Write a complete index beside the folder, then swap it in."""
        index_dir = self.directory
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = index_dir.with_name(index_dir.name + ".building")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir()
        vectors = faiss.IndexFlatIP(build.vectors.shape[1])
        vectors.add(build.vectors)
        faiss.write_index(vectors, str(staging / VECTORS))
        db = sqlite3.connect(staging / STORE)
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?)",
            [(d.id, d.path, d.title, d.sha256, json.dumps(d.metadata, ensure_ascii=False), d.text) for d in build.documents],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i, c.id, c.doc_id, c.text, c.start, c.end, c.line_start, c.line_end, c.heading, h, c.page_start, c.page_end)
                for i, (c, h) in enumerate(zip(build.chunks, build.hashes))
            ],
        )
        db.executescript(lexical.SCHEMA)
        lexical.add(db, enumerate(build.terms))
        db.commit()
        db.close()
        manifest = {**build.manifest, "format_version": FORMAT_VERSION, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
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
