"""Building an index: load files → chunk → embed what is new → hand the whole to the store to write.

Passages whose embedded text is unchanged reuse their stored vectors, identical passages are embedded once, and an
unchanged set of files returns at once. One indexer at a time writes an index (a second is refused), and the store
swaps a build in only once it is complete, so an interrupted run leaves the previous index usable; the passages it
had embedded are kept in a journal beside the index, and the next run resumes from them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .chunking import Chunker, embedding_text
from .danish import TERMS_VERSION, evidence_sentences, load_vocabulary, terms
from .index import FaissFolder
from .ingest import Problem, load_documents, sha256_of, store_upload
from .interfaces import Embedder, Store
from .records import Chunk, Document, IndexBuild, Sentence
from .settings import Settings


class NoDocuments(ValueError):
    """Nothing readable was found where the indexer was pointed."""


class IndexLocation(Protocol):
    """Where an index lives, as an indexer sees it (a FAISS folder, a Milvus collection)."""

    @property
    def rebuild(self) -> str: ...

    @property
    def journal(self) -> Path:
        """The folder where a build not finished yet keeps the vectors it embedded."""
        ...

    def manifest(self) -> dict[str, Any] | None: ...

    def load(self, expect: dict[str, Any] | None = None) -> Store: ...

    def reusable_vectors(self, expect: dict[str, Any]) -> dict[str, np.ndarray]: ...

    def lock(self) -> AbstractContextManager[None]: ...

    def write(self, build: IndexBuild) -> None: ...


#: Passages embedded between two writes of the journal: the most an interrupted build has to embed again.
JOURNAL_SLICE = 512


class EmbeddingJournal:
    """Vectors embedded by a build that has not finished, kept beside the index so that the next build resumes: a
    slice's vectors as one ``.npy`` file and their text hashes as one JSON list, the vector settings in a manifest;
    nothing is pickled. A slice cut short by the interruption is not read back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load(self, settings: dict[str, Any]) -> dict[str, np.ndarray]:
        """The journal's vectors by text hash, when they were made under ``settings``; else none (and it is cleared)."""
        try:
            if json.loads((self.folder / "manifest.json").read_text("utf-8")) != settings:
                self.clear()
                return {}
        except (OSError, ValueError):
            return {}
        vectors: dict[str, np.ndarray] = {}
        for names in sorted(self.folder.glob("hashes-*.json")):
            try:
                hashes = json.loads(names.read_text("utf-8"))
                matrix = np.load(names.with_name(names.name.replace("hashes-", "vectors-").replace(".json", ".npy")), allow_pickle=False)
            except (OSError, ValueError):
                continue
            if len(hashes) == len(matrix):
                vectors.update(zip(hashes, matrix))
        return vectors

    def append(self, settings: dict[str, Any], hashes: list[str], vectors: np.ndarray) -> None:
        """Keep a slice's vectors (the vectors first, so that a slice's hashes never name vectors not written)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        manifest = self.folder / "manifest.json"
        if not manifest.exists():
            manifest.write_text(json.dumps(settings), "utf-8")
        n = len(list(self.folder.glob("hashes-*.json")))
        np.save(self.folder / f"vectors-{n:06d}.npy", vectors.astype(np.float32), allow_pickle=False)
        (self.folder / f"hashes-{n:06d}.json").write_text(json.dumps(hashes), "utf-8")

    def clear(self) -> None:
        """Forget the journal (its build is in the index now, or was made under other settings)."""
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class BuildReport:
    """What an indexing run did."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0  #: passages embedded in this run
    sentences: int = 0  #: evidence sentences in the index
    embedded_sentences: int = 0  #: … embedded in this run (the others' vectors were reused)
    reused: int = 0  #: passages whose vectors were reused
    resumed: int = 0  #: … of which an interrupted earlier run had embedded (its journal)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    up_to_date: bool = False


def vector_manifest(embedder: Embedder) -> dict[str, Any]:
    """The settings an index's vectors depend on: those of another index built under them can be reused. Vectors are
    reused by the hash of the text embedded, so the chunking, which decides that text, need not match."""
    return {"embedding_model": embedder.name, "passage_prompt": embedder.passage_prompt}


def expected_manifest(embedder: Embedder, chunker: Chunker) -> dict[str, Any]:
    """The settings an index must have been built with to be loaded under the current ones."""
    return {**vector_manifest(embedder), "chunking": chunker.settings(), "lexical_terms": TERMS_VERSION}


def location(settings: Settings) -> IndexLocation:
    """Where the settings put the index: a FAISS folder, or a Milvus collection."""
    if settings.store == "milvus":
        from .milvus_store import MilvusLocation

        return MilvusLocation(settings.milvus_uri, settings.milvus_collection, settings.milvus_token.get_secret_value())
    return FaissFolder(settings.index_dir)


def open_store(settings: Settings, embedder: Embedder) -> Store:
    """The index the settings name, loaded; refused (with the rebuild command) if built under other settings."""
    # A missing model is the thing to fix first: the index check would otherwise ask for a rebuild that fails.
    embedder.check()
    return location(settings).load(expected_manifest(embedder, Chunker.from_settings(settings)))


def indexed_sources(where: IndexLocation) -> list[Path]:
    """The files and folders the index was built from (empty when there is none)."""
    return [Path(p) for p in (where.manifest() or {}).get("sources", [])]


def indexed_municipalities(where: IndexLocation) -> dict[Path, str]:
    """The municipality each source of the index was indexed as, where one was named."""
    return {Path(p): name for p, name in ((where.manifest() or {}).get("municipalities") or {}).items()}


def _of_municipalities(docs: list[Document], municipalities: dict[Path, str]) -> list[Document]:
    """``docs`` with the municipality of the source each was read under, where its metadata does not say; the ids
    of a named source's documents start with its name."""
    if not municipalities:
        return docs
    named = [(p.resolve(), name) for p, name in municipalities.items()]
    out = []
    for doc in docs:
        path = Path(doc.path).resolve()
        name = next((n for root, n in named if path == root or root in path.parents), "")
        if name:
            metadata = {**doc.metadata, "municipality": doc.metadata.get("municipality") or name}
            doc = dataclasses.replace(doc, id=f"{name}/{doc.id}", metadata=metadata)
        out.append(doc)
    return out


def _distinct_ids(docs: list[Document], problems: list[Problem]) -> list[Document]:
    """``docs`` without a second document of an id already taken (two folders' files of one name), each reported."""
    first: dict[str, str] = {}
    kept = []
    for doc in docs:
        if doc.id in first:
            problems.append(
                Problem(doc.path, f"has the same name as {first[doc.id]}; rename one, or index the folders as municipalities (NAME=PATH)")
            )
            continue
        first[doc.id] = doc.path
        kept.append(doc)
    return kept


def _text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def chunk_sentences(chunks: list[Chunk], vocabulary: frozenset[str] = frozenset()) -> list[Sentence]:
    """The evidence sentences of every chunk (``row``: the chunk's index), each document's once: the evidence ranking
    reads every sentence of the items a question finds, so their vectors and words are made here, not per question."""
    sentences: list[Sentence] = []
    start = 0
    while start < len(chunks):
        end = start
        while end < len(chunks) and chunks[end].doc_id == chunks[start].doc_id:
            end += 1
        per_chunk = evidence_sentences([(c.text, c.heading) for c in chunks[start:end]])
        for row, texts in enumerate(per_chunk, start):
            sentences += [Sentence(row, chunks[row].doc_id, t, " ".join(terms(t, vocabulary=vocabulary))) for t in texts]
        start = end
    return sentences


def build_index(
    paths: Sequence[Path],
    where: IndexLocation,
    embedder: Embedder,
    chunker: Chunker,
    progress: Callable[[int, int], None] | None = None,
    max_bytes: int | None = None,
    vectors_from: Sequence[IndexLocation] = (),
    vocabulary: frozenset[str] = frozenset(),
    municipalities: dict[Path, str] | None = None,
) -> BuildReport:
    """Index every document under ``paths`` into ``where``, reusing unchanged passages' vectors.

    ``progress(done, total)`` is called as passages are embedded. The new index replaces the old one only once it
    is complete; while one indexer writes, another is refused (IndexLocked). ``max_bytes`` caps one document file's
    size (larger ones are reported, not indexed). ``vectors_from``: other indexes built under the same settings whose
    vectors may be reused too (moving an index from one store to another embeds nothing). ``vocabulary``: the Danish
    word list whose words a compound is split into for the lexical channel (empty: compounds stay whole).
    ``municipalities``: a name for some of ``paths`` (several councils in one index): their documents are that
    municipality's where their metadata does not say, and their ids start with it, so that two councils' files of one
    name stay apart.
    """
    with where.lock():
        started = time.perf_counter()
        report = BuildReport()
        docs, report.problems = load_documents(list(paths), max_bytes)
        docs = _of_municipalities(docs, municipalities or {})
        docs = _distinct_ids(docs, report.problems)
        if not docs:
            reasons = "; ".join(str(p) for p in report.problems[:3]) or "no .txt, .md, .pdf, .docx, .html or .jsonl files there"
            raise NoDocuments(f"no documents to index in {', '.join(map(str, paths))} ({reasons}); the existing index is unchanged")
        expect = expected_manifest(embedder, chunker)
        # Whole-file hashes: a JSONL file holds many records, and a change in any of them changes the file's hash.
        files = {path: sha256_of(Path(path)) for path in dict.fromkeys(d.path for d in docs)}
        current = where.manifest() or {}
        if all(current.get(k) == v for k, v in expect.items()) and current.get("files") == files:
            try:
                where.load(expect)  # the files are the same: up to date, if the index itself loads
                report.documents, report.chunks, report.up_to_date = current.get("documents", 0), current.get("chunks", 0), True
                report.seconds = time.perf_counter() - started
                return report
            except RuntimeError:
                pass

        chunks = [c for d in docs for c in chunker.split(d)]
        texts = [embedding_text(c) for c in chunks]
        hashes = [_text_hash(t) for t in texts]
        sentences = chunk_sentences(chunks, vocabulary)
        sentence_hashes = [_text_hash(s.text) for s in sentences]
        settings = vector_manifest(embedder)
        journal = EmbeddingJournal(where.journal)
        journaled = journal.load(settings)
        reusable = {**journaled, **where.reusable_vectors(settings)}
        for other in vectors_from:
            reusable = {**other.reusable_vectors(settings), **reusable}
        # Identical passages (common in minutes) are embedded once.
        first: dict[str, str] = {}
        for h, text in zip([*hashes, *sentence_hashes], [*texts, *(s.text for s in sentences)]):
            if h not in reusable:
                first.setdefault(h, text)
        # Alike in length, a slice's passages batch with little padding (the embedder sorts within a call).
        todo = sorted(first, key=lambda h: len(first[h]))
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if progress:
                progress(done, len(todo))

        if progress:
            progress(0, len(todo))
        fresh: dict[str, np.ndarray] = {}
        for start in range(0, len(todo), JOURNAL_SLICE):
            part = todo[start : start + JOURNAL_SLICE]
            embedded = embedder.embed_passages([first[h] for h in part], progress=step)
            journal.append(settings, part, embedded)
            fresh.update(zip(part, embedded))
        vectors, sentence_vectors = (
            np.stack([reusable[h] if h in reusable else fresh[h] for h in which]) if which else np.zeros((0, embedder.dimension), np.float32)
            for which in (hashes, sentence_hashes)
        )  # fmt: skip
        passage_hashes = set(hashes)
        report.embedded, report.reused = sum(h in passage_hashes for h in todo), sum(h in reusable for h in hashes)
        report.sentences, report.embedded_sentences = len(sentences), sum(h not in passage_hashes for h in todo)
        report.resumed = len({*hashes, *sentence_hashes} & journaled.keys())

        sources = [str(p.resolve()) for p in paths]
        named = {str(p.resolve()): name for p, name in (municipalities or {}).items()}
        manifest = {
            **expect, "dimension": embedder.dimension, "sources": sources, "municipalities": named, "files": files, "documents": len(docs),
            "chunks": len(chunks), "sentences": len(sentences),
        }  # fmt: skip
        words = [" ".join(terms(t, vocabulary=vocabulary)) for t in texts]
        where.write(IndexBuild(docs, chunks, texts, words, hashes, vectors.astype(np.float32, copy=False), manifest, sentences, sentence_hashes, sentence_vectors.astype(np.float32, copy=False)))
        journal.clear()
        report.documents, report.chunks = len(docs), len(chunks)
        report.seconds = time.perf_counter() - started
        return report


def index_paths(
    settings: Settings, paths: Sequence[Path], embedder: Embedder, progress: Callable[[int, int], None] | None = None,
    vectors_from: Path | None = None, municipalities: dict[Path, str] | None = None,
) -> BuildReport:  # fmt: skip
    """Index ``paths`` (default: the bundled seeds) where the settings put the index; ``vectors_from`` names a FAISS
    index folder whose vectors may be reused; ``municipalities`` names the council of some of the paths."""
    others = [FaissFolder(vectors_from)] if vectors_from else []
    where, chunker = location(settings), Chunker.from_settings(settings)
    vocabulary = load_vocabulary(settings.danish_words_path)
    return build_index(
        paths or [settings.seeds_dir], where, embedder, chunker, progress, settings.max_document_bytes, others, vocabulary, municipalities
    )  # fmt: skip


def add_uploads(
    settings: Settings, files: Sequence[tuple[Path, str]], embedder: Embedder, progress: Callable[[int, int], None] | None = None
) -> tuple[BuildReport, list[Problem]]:
    """Store uploaded ``(path, original name)`` files in the data folder and index them with what is indexed already
    (only new passages are embedded); a loaded Assistant searches the new index from its next question on.

    Returns the build report and the uploads refused before indexing (bad names or kinds).
    """
    refused: list[Problem] = []
    for path, name in files:
        try:
            store_upload(path, name, settings.data_dir)
        except (OSError, ValueError) as exc:
            refused.append(Problem(name, str(exc)))
    where = location(settings)
    sources = indexed_sources(where) or ([settings.seeds_dir] if settings.seeds_dir.exists() else [])
    data = settings.data_dir.resolve()
    if data.exists() and not any(p.resolve() == data for p in sources):
        sources.append(data)
    chunker = Chunker.from_settings(settings)
    vocabulary = load_vocabulary(settings.danish_words_path)
    report = build_index(sources, where, embedder, chunker, progress, settings.max_document_bytes, (), vocabulary, indexed_municipalities(where))
    return report, refused

