"""From a question to the passages most likely to answer it: dense and lexical channels, fused by rank."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from .citations import split_sentences
from .embedding import Embedder
from .index import Index
from .language import question_language
from .prompts import compact
from .records import Filter, Hit

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = 60, weights: list[float] | None = None) -> list[int]:
    """Fuse ranked lists of ids: each id scores Σ weight / (k + rank); best first, ties by first appearance."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


class Retriever:
    """Retrieval over an Index: dense (embeddings), lexical (BM25) or both fused by reciprocal rank.

    Every Hit's score is the cosine similarity of its passage to the question, whatever the channel, so that the
    relevance floor means the same in every mode.
    """

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        top_k: int = 5,
        mode: Mode = "hybrid",
        depth: int = 50,
        rrf_k: int = 10,
        lexical_weights: dict[str, float] | None = None,
        translate: Callable[[str], str] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.top_k = top_k
        self.mode = mode
        self.depth = depth
        self.rrf_k = rrf_k
        # Words of an English question rarely occur in Danish text, so its lexical ranking is mostly noise.
        self.lexical_weights = lexical_weights or {"da": 1.0, "en": 0.2, "translated": 0.5}
        # Optional: English question -> Danish, so that the lexical channel can match Danish words.
        self.translate = translate

    def search(self, question: str, k: int | None = None, narrow: Filter | None = None) -> list[Hit]:
        """The best ``k`` passages for ``question`` (``top_k`` by default), best first, ranks from 1; ``narrow``
        keeps only passages of the documents it admits."""
        k = k or self.top_k
        within = self.index.rows_within(narrow) if narrow is not None else None
        vector = self.embedder.embed_queries([question])[0]
        depth = max(self.depth, k)
        if self.mode == "dense":
            rows = [r for r, _ in self.index.dense(vector, depth, within)]
        elif self.mode == "lexical":
            rows = [r for r, _ in self.index.lexical(question, depth, within)]
        else:
            language = question_language(question)
            dense = [r for r, _ in self.index.dense(vector, depth, within)]
            rankings, weights = [dense], [1.0]
            if language == "en" and self.translate is not None:
                danish = self.translate(question)
                rankings.append([r for r, _ in self.index.dense(self.embedder.embed_queries([danish])[0], depth, within)])
                rankings.append([r for r, _ in self.index.lexical(danish, depth, within)])
                # The small model's translations are rough: the translated question counts half in both channels.
                translated = self.lexical_weights.get("translated", 0.5)
                weights += [translated, translated]
            else:
                rankings.append([r for r, _ in self.index.lexical(question, depth, within)])
                weights.append(self.lexical_weights.get(language, 1.0))
            rows = reciprocal_rank_fusion(rankings, self.rrf_k, weights)
        return self.index.hits(self._distinct(rows, k), vector)

    def _distinct(self, rows: list[int], k: int) -> list[int]:
        """The first ``k`` rows whose passages differ: minutes repeat a case's text at every meeting that handles it."""
        seen: set[str] = set()
        kept = []
        for row, text_hash in zip(rows, self.index.text_hashes(rows)):
            if text_hash not in seen:
                seen.add(text_hash)
                kept.append(row)
                if len(kept) == k:
                    break
        return kept


def best_sentences(question: str, hits: list[Hit], embedder: Embedder, keep: int) -> list[str]:
    """Each passage cut to its ``keep`` sentences most similar to the question, in their original order.

    Small models answer better from a short context, and the prompt is most of the waiting time."""
    splits = [split_sentences(compact(h.chunk.text)) for h in hits]
    if keep <= 0 or all(len(s) <= keep for s in splits):
        return [" ".join(s) for s in splits]
    query = embedder.embed_queries([question])[0]
    flat = [s for sentences in splits for s in sentences]
    scores = iter(embedder.embed_passages(flat) @ query)
    out = []
    for sentences in splits:
        sims = [next(scores) for _ in sentences]
        chosen = sorted(sorted(range(len(sentences)), key=lambda i: -sims[i])[:keep])
        out.append(" ".join(sentences[i] for i in chosen))
    return out
