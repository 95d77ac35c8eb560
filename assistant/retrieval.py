"""From a Query to the passages most likely to answer it: dense and lexical channels, fused by weighted rank."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

from .interfaces import Embedder, Store
from .records import Filter, Hit, Query
from .settings import Settings

# Shared by all retrievers: each query hands its lexical searches to these threads.
_CHANNELS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")


def reciprocal_rank_fusion(rankings: list[list[int]], k: int, weights: list[float] | None = None) -> list[int]:
    """Fuse ranked lists of ids: each id scores Σ weight / (k + rank); best first, ties by first appearance."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


class Retriever:
    """Retrieval over a Store: dense (embeddings), lexical (BM25) or both, fused by weighted reciprocal rank.

    Every Hit's score is the cosine similarity of its passage to the question as asked, whatever the channel, so
    that the relevance floor means the same in every mode.
    """

    def __init__(self, store: Store, embedder: Embedder, *, top_k: int, mode: Mode, depth: int, rrf_k: int) -> None:
        self.store = store
        self.embedder = embedder
        self.top_k = top_k
        self.mode = mode
        self.depth = depth  #: candidates each channel contributes to the fusion
        self.rrf_k = rrf_k

    @classmethod
    def from_settings(cls, settings: Settings, store: Store, embedder: Embedder, mode: Mode | None = None) -> Retriever:
        """The retriever the settings describe (``mode`` overrides theirs)."""
        s = settings
        return cls(store, embedder, top_k=s.top_k, mode=mode or s.retrieval_mode, depth=s.retrieval_depth, rrf_k=s.rrf_k)

    def run(self, query: Query, k: int | None = None, narrow: Filter | None = None) -> list[Hit]:
        """The best ``k`` passages for ``query`` (``top_k`` by default), best first, ranks from 1; ``narrow`` keeps only
        passages of the documents it admits. In "dense" or "lexical" mode only the question as asked is searched."""
        k = k or self.top_k
        depth = max(self.depth, k)
        forms = query.forms if self.mode == "hybrid" else query.forms[:1]
        dense = self.mode != "lexical"
        lexical = self.mode != "dense"
        # The lexical channel (SQLite) runs on other threads while the question is embedded and searched densely
        # (ONNX Runtime, FAISS): all three release the GIL, so on 2 cores the two channels cost about the slower one.
        words: list[Future[list[tuple[int, float]]] | None] = [
            _CHANNELS.submit(self.store.lexical, f.text, depth, narrow) if lexical and (f.lexical_weight > 0 or self.mode == "lexical") else None
            for f in forms
        ]
        vector = self.embedder.embed_queries([query.question])[0]
        rankings: list[list[int]] = []
        weights: list[float] = []
        for form, found in zip(forms, words):
            if dense and form.dense_weight > 0:
                form_vector = vector if form.text == query.question else self.embedder.embed_queries([form.text])[0]
                rankings.append([r for r, _ in self.store.dense(form_vector, depth, narrow)])
                weights.append(form.dense_weight)
            if found is not None:
                rankings.append([r for r, _ in found.result()])
                weights.append(form.lexical_weight)
        rows = rankings[0] if len(rankings) == 1 else reciprocal_rank_fusion(rankings, self.rrf_k, weights)
        return self.store.hits(self._distinct(rows, k), vector)

    def _distinct(self, rows: list[int], k: int) -> list[int]:
        """The first ``k`` rows whose passages differ: minutes repeat a case's text at every meeting that handles it."""
        seen: set[str] = set()
        kept = []
        for row, text_hash in zip(rows, self.store.text_hashes(rows)):
            if text_hash not in seen:
                seen.add(text_hash)
                kept.append(row)
                if len(kept) == k:
                    break
        return kept
