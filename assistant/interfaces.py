"""The interfaces the question→answer path is built on: a store of passages, an embedder, an answer generator.

Each has one implementation here (FAISS + SQLite, multilingual-e5 on ONNX Runtime, llama.cpp in process) and can have
others (a vector engine, a model server); tests pass small fakes. Typing only: nothing here runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from .records import Candidate, Case, Filter, Hit, Sentence

#: A chat message as models take it: {"role": "system" | "user" | "assistant", "content": "…"}.
Message = dict[str, str]


class Embedder(Protocol):
    """Turns questions and passages into L2-normalised vectors."""

    name: str
    passage_prompt: str

    @property
    def dimension(self) -> int: ...

    def check(self) -> bool: ...

    def warm_up(self) -> None: ...

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray: ...


class Store(Protocol):
    """A loaded index: passages with their vectors and words, searched by either; rows are the passages' ids."""

    manifest: dict[str, Any]

    def __len__(self) -> int: ...

    def dense(self, vector: np.ndarray, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` passages nearest to a normalised vector, best first, among those
        of the documents ``narrow`` admits."""
        ...

    def lexical(self, query: str, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and BM25 scores (higher is better) of the ``k`` best passages by words, best first."""
        ...

    def dense_sentences(self, vector: np.ndarray, k: int, narrow: Filter | None = None) -> list[tuple[int, float]]:
        """Rows and cosine similarities of the ``k`` passages whose evidence sentences are nearest to a normalised
        vector, each passage once at its nearest sentence, best first, among those of the documents ``narrow`` admits."""
        ...

    def hits(self, rows: list[int], vector: np.ndarray) -> list[Hit]:
        """The passages of ``rows`` in that order (rank 1 first) with their stored vectors, scored by cosine to ``vector``."""
        ...

    def candidates(self, rows: list[int]) -> list[Candidate]:
        """What fusion needs of each row, in that order: its text's hash (equal hashes are the same passage, a case
        repeated at several meetings), its document, agenda item and section, and the meeting's body, date and case."""
        ...

    def sentences(self, doc_ids: list[str]) -> list[Sentence]:
        """The evidence sentences of these documents, with their vectors and the rows of their passages, each
        document's in reading order and the documents in the order given."""
        ...

    def meetings(self, doc_id: str) -> list[str]:
        """The documents of the case ``doc_id`` belongs to, itself included, newest meeting first ([doc_id] without a
        case number, or for a standing item such as the agenda's approval)."""
        ...

    def case(self, doc_id: str) -> Case | None:
        """The case ``doc_id`` is an item of, with every meeting that handled it, newest first (None: no case)."""
        ...

    def numbered(self, number: str) -> Case | None:
        """The case with this number, None when the index has none."""
        ...

    def document_text(self, doc_id: str) -> str:
        """A document's whole text, for showing a passage in its place."""
        ...

    def facets(self) -> dict[str, list[str]]:
        """What retrieval can be narrowed by: "files", "bodies", and "dates" (the earliest and latest)."""
        ...


class Generator(Protocol):
    """Writes a reply to chat messages, streamed."""

    def warm_up(self) -> None: ...

    def stream(self, messages: list[Message], passages: int = 0) -> Iterator[str]:
        """The reply piece by piece; with ``passages`` given, its markers name only passages 1 to ``passages``."""
        ...

    def choose(self, messages: list[Message], options: int) -> list[float]:
        """The probabilities of replying "0", "1", … ``options``: a choice among numbered options, 0 for none."""
        ...


class Reranker(Protocol):
    """Scores passages against a question (a cross-encoder behind a server); raises RuntimeError when it cannot."""

    def scores(self, query: str, documents: list[str]) -> list[float]:
        """Each document's relevance to ``query``, in the documents' order (higher is more relevant)."""
        ...
