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
from .danish import is_standing_item
from .records import Candidate, Case, Chunk, Filter, Hit, IndexBuild, Meeting, Sentence

MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
SENTENCE_VECTORS = "sentences.faiss"
STORE = "chunks.sqlite"
# 2: adds the lexical (FTS5) table; 3: page numbers of chunks; 4: hyphenation joined as in danish.py; 5: evidence sentences;
# 6: each agenda item's decision (a case's history)
FORMAT_VERSION = 6


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
CREATE INDEX chunks_doc ON chunks(doc_id);
CREATE TABLE sentences (row INTEGER PRIMARY KEY, chunk_row INTEGER, doc_id TEXT, text TEXT, terms TEXT, text_hash TEXT);
CREATE INDEX sentences_doc ON sentences(doc_id);
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


class CaseBook:
    """The cases of a loaded index's documents (both stores keep them so): which items are one matter, and its history.
    A store sets ``_docs`` (document id → title and metadata) before any of these is asked."""

    _docs: dict[str, tuple[str, dict[str, str]]]
    _cases: dict[str, list[str]] | None = None

    def _index(self) -> dict[str, list[str]]:
        if self._cases is None:  # a loaded index does not change
            self._cases = case_index(self._docs)
        return self._cases

    def meetings(self, doc_id: str) -> list[str]:
        """The documents of the case ``doc_id`` belongs to (itself included), newest meeting first; [doc_id] when it has no
        case number."""
        return case_meetings(doc_id, self._docs, self._index())

    def case(self, doc_id: str) -> Case | None:
        """The case the document ``doc_id`` is an item of, with every meeting that handled it; None when it has no case
        number or a standing item's."""
        number = self._docs[doc_id][1].get("case_number", "") if doc_id in self._docs else ""
        return self.numbered(number) if number else None

    def numbered(self, number: str) -> Case | None:
        """The case with this number (as the source writes it), None when the index has none (a standing item's number
        is none either)."""
        number = number.strip()
        docs = self._index().get(number)
        return case_record(number, docs, self._docs) if docs else None


def case_record(number: str, doc_ids: list[str], docs: dict[str, tuple[str, dict[str, str]]]) -> Case:
    """The Case of ``doc_ids`` (its items, newest first): each meeting's date, body, title and decision."""
    return Case(number, tuple(Meeting.of(doc_id, *docs[doc_id]) for doc_id in doc_ids))


class FaissStore(CaseBook):
    """A loaded index folder: search by vector or words, look up chunks and documents."""

    def __init__(
        self, directory: Path, manifest: dict[str, Any], vectors: faiss.Index, db: sqlite3.Connection, sentence_vectors: faiss.Index | None = None
    ) -> None:
        self.directory = directory
        self.manifest = manifest
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors if sentence_vectors is not None else faiss.IndexFlatIP(vectors.d)
        self.db = db
        self._docs: dict[str, tuple[str, dict[str, str]]] = {}
        self._files: dict[str, str] = {}  #: document id → source file name (what the document filter names)
        self._within: dict[Filter, np.ndarray] = {}  #: recent filters' rows: both channels of a question ask for them
        self._sentences_within: dict[Filter, np.ndarray] = {}  #: the same filters' sentence rows (each form asks)
        self._within_lock = threading.Lock()
        self._facets: dict[str, list[str]] | None = None
        for doc_id, path, title, meta in db.execute("SELECT id, path, title, metadata FROM documents"):
            self._docs[doc_id] = (title, json.loads(meta))
            self._files[doc_id] = Path(path).name

    @classmethod
    def load(cls, directory: Path, expect: dict[str, Any] | None = None) -> FaissStore:
        """Open the index in ``directory``; refuse, naming the rebuild command, if it was built under other settings."""
        directory = _whole(directory)
        manifest_path = directory / MANIFEST
        if not manifest_path.exists():
            raise IndexNotUsable(f"no index in {directory}; build it with: {rebuild_command(directory)}")
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IndexNotUsable(f"the manifest in {directory} is unreadable ({exc}); rebuild with: {rebuild_command(directory)}") from exc
        check_manifest(manifest, {"format_version": FORMAT_VERSION, **(expect or {})}, str(directory), rebuild_command(directory))
        vectors = faiss.read_index(str(directory / VECTORS))
        sentence_vectors = faiss.read_index(str(directory / SENTENCE_VECTORS))
        # One query at a time: a second OpenMP thread made a search slower here (100k passages: 7.9 ms on one thread,
        # 12.5 ms on two; bench/scale_latency.py).
        faiss.omp_set_num_threads(1)
        # check_same_thread=False: the chat server answers from worker threads; SQLite is only read here.
        db = sqlite3.connect(f"file:{directory / STORE}?mode=ro", uri=True, check_same_thread=False)
        return cls(directory, manifest, vectors, db, sentence_vectors)

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

    def dense_sentences(self, vector: np.ndarray, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` chunks whose evidence sentences are nearest to a normalised query
        vector, each chunk once at its nearest sentence, best first; ``narrow`` restricts the search."""
        total = int(self.sentence_vectors.ntotal)
        within = self.rows_within(narrow)
        if total == 0 or (within is not None and len(within) == 0):
            return []
        query = vector.reshape(1, -1).astype(np.float32)
        # A case's sentences stand at each of its meetings and a chunk holds several: ask for more than k sentences.
        wanted = min(4 * k, total)
        if within is None:
            scores, rows = self.sentence_vectors.search(query, wanted)
        else:
            params = faiss.SearchParameters()
            params.sel = faiss.IDSelectorBatch(self._sentence_rows(narrow, within))
            scores, rows = self.sentence_vectors.search(query, wanted, params=params)
        found = [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        chunk_of = dict(self.db.execute(
            f"SELECT row, chunk_row FROM sentences WHERE row IN ({','.join('?' * len(found))})", [r for r, _ in found]
        ).fetchall()) if found else {}  # fmt: skip
        best: dict[int, float] = {}
        for row, score in found:
            if row in chunk_of and chunk_of[row] not in best:
                best[chunk_of[row]] = score
        return list(best.items())[:k]

    def _sentence_rows(self, narrow: Filter, chunk_rows: np.ndarray) -> np.ndarray:
        with self._within_lock:
            if narrow not in self._sentences_within:
                if len(self._sentences_within) >= 8:
                    self._sentences_within.pop(next(iter(self._sentences_within)))
                found = self.db.execute("SELECT row FROM sentences WHERE chunk_row IN (SELECT value FROM json_each(?))", (json.dumps(chunk_rows.tolist()),))
                self._sentences_within[narrow] = np.array(sorted(r for (r,) in found), dtype=np.int64)
            return self._sentences_within[narrow]

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

    def sentences(self, doc_ids: list[str]) -> list[Sentence]:
        """The evidence sentences of these documents with their vectors, each document's in reading order."""
        if not doc_ids:
            return []
        found = self.db.execute(
            "SELECT row, chunk_row, doc_id, text, terms FROM sentences WHERE doc_id IN (SELECT value FROM json_each(?))",
            (json.dumps(doc_ids),),
        ).fetchall()
        order = {d: i for i, d in enumerate(doc_ids)}
        found.sort(key=lambda r: (order[r[2]], r[0]))
        return [Sentence(chunk_row, doc_id, text, words, self.sentence_vectors.reconstruct(row)) for row, chunk_row, doc_id, text, words in found]

    def document_text(self, doc_id: str) -> str:
        """The full text of a document, for showing a passage in its place."""
        row = self.db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        """Every stored vector (passages' and sentences') by its embedded text's hash (what a rebuild can reuse)."""
        return vectors_by_hash(self.db, self.vectors, self.sentence_vectors)


def vectors_by_hash(db: sqlite3.Connection, vectors: faiss.Index, sentence_vectors: faiss.Index | None) -> dict[str, np.ndarray]:
    """An index folder's vectors by embedded-text hash: its passages' and, where it has them, its sentences'."""
    found: dict[str, np.ndarray] = {}
    tables = [("chunks", vectors), *([("sentences", sentence_vectors)] if sentence_vectors is not None else [])]
    for table, index in tables:
        if index.ntotal:
            matrix = index.reconstruct_n(0, index.ntotal)
            found.update((h, matrix[row]) for h, row in db.execute(f"SELECT text_hash, row FROM {table}"))  # noqa: S608 (a fixed name)
    return found


def case_index(docs: dict[str, tuple[str, dict[str, str]]]) -> dict[str, list[str]]:
    """The documents of each case number (of ``docs``: id → title and metadata), newest meeting first; a standing item's
    number (the agenda, signatures: ``danish.is_standing_item``) is no case."""
    cases: dict[str, list[str]] = {}
    for doc_id, (_, meta) in docs.items():
        if meta.get("case_number"):
            cases.setdefault(meta["case_number"], []).append(doc_id)
    for case, same in list(cases.items()):
        if is_standing_item([docs[d][0] for d in same]):
            del cases[case]
            continue
        same.sort(key=lambda d: docs[d][1].get("date", ""), reverse=True)
    return cases


def case_meetings(doc_id: str, docs: dict[str, tuple[str, dict[str, str]]], cases: dict[str, list[str]]) -> list[str]:
    """The documents of ``doc_id``'s case in ``cases`` (``case_index``), itself included, newest first; [doc_id] alone
    when it has no case number or a standing item's."""
    case = docs[doc_id][1].get("case_number", "") if doc_id in docs else ""
    return list(cases.get(case, [doc_id])) if case else [doc_id]


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


def _whole(index_dir: Path) -> Path:
    """The folder holding the whole index: ``index_dir``, or the old index beside it when an indexer stopped between
    moving the old index aside and moving the new one in."""
    previous = _previous(index_dir)
    return previous if not (index_dir / MANIFEST).exists() and (previous / MANIFEST).exists() else index_dir


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
        """Vectors of the current index by embedded-text hash, when they were made under the same settings; an index
        of an older format counts too (its vectors are as good: only what is kept beside them changed)."""
        directory = _whole(self.directory)
        try:
            manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return {}
        if any(manifest.get(k) != v for k, v in expect.items()):
            return {}
        try:
            db = sqlite3.connect(f"file:{directory / STORE}?mode=ro", uri=True)
            try:
                vectors = faiss.read_index(str(directory / VECTORS))
                sentences = directory / SENTENCE_VECTORS
                has_sentences = sentences.exists() and db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sentences'").fetchone()
                return vectors_by_hash(db, vectors, faiss.read_index(str(sentences)) if has_sentences else None)
            finally:
                db.close()
        except (RuntimeError, sqlite3.Error, OSError):
            return {}

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
        sentence_vectors = faiss.IndexFlatIP(build.vectors.shape[1])
        if build.sentence_vectors is not None and len(build.sentence_vectors):
            sentence_vectors.add(build.sentence_vectors)
        faiss.write_index(sentence_vectors, str(staging / SENTENCE_VECTORS))
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
        db.executemany(
            "INSERT INTO sentences VALUES (?, ?, ?, ?, ?, ?)",
            [(i, x.row, x.doc_id, x.text, x.terms, h) for i, (x, h) in enumerate(zip(build.sentences, build.sentence_hashes))],
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
