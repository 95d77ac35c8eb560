"""From a question to the passages most likely to answer it: dense and lexical channels, fused by rank."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from .citations import split_sentences
from .embedding import Embedder
from .index import Index
from .language import question_language
from .prompts import compact
from .records import Filter, Hit

# Shared by all retrievers: each query hands its lexical search to one of these threads.
_CHANNELS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")

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
        depth = max(self.depth, k)
        language = question_language(question)
        translated = self.mode == "hybrid" and language == "en" and self.translate is not None
        # The lexical channel (SQLite) runs on another thread while the question is embedded and searched densely
        # (ONNX Runtime, FAISS): all three release the GIL, so on 2 cores the two channels cost about the slower one.
        words = _CHANNELS.submit(self.index.lexical, question, depth, within) if self.mode != "dense" and not translated else None
        vector = self.embedder.embed_queries([question])[0]
        if self.mode == "dense":
            rows = [r for r, _ in self.index.dense(vector, depth, within)]
        elif self.mode == "lexical":
            assert words is not None
            rows = [r for r, _ in words.result()]
        else:
            dense = [r for r, _ in self.index.dense(vector, depth, within)]
            rankings, weights = [dense], [1.0]
            if translated:
                assert self.translate is not None
                danish = self.translate(question)
                danish_words = _CHANNELS.submit(self.index.lexical, danish, depth, within)
                rankings.append([r for r, _ in self.index.dense(self.embedder.embed_queries([danish])[0], depth, within)])
                rankings.append([r for r, _ in danish_words.result()])
                # The small model's translations are rough: the translated question counts half in both channels.
                translated_weight = self.lexical_weights.get("translated", 0.5)
                weights += [translated_weight, translated_weight]
            else:
                assert words is not None
                rankings.append([r for r, _ in words.result()])
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


def best_sentences(question: str, hits: list[Hit], embedder: Embedder, keep: int, budget: int = 0) -> list[str]:
    """What the model is shown of each passage: at most ``keep`` sentences, those most similar to the question, in
    their original order, and ``budget`` characters in all (0: no limit).

    The prompt is most of the waiting time (≈ 55 prompt tokens/s here) and small models answer better from a short
    context. Every passage keeps its best sentence; the budget then goes to the next best sentences wherever they
    are. A sentence already shown in an earlier passage (chunks overlap) is not shown twice.
    """
    splits = [_passage_sentences(h.chunk.text) for h in hits]
    if keep <= 0 and budget <= 0:
        return [" ".join(s) for s in splits]
    seen: list[str] = []
    fresh: list[list[int]] = []  # per passage: its sentences that no earlier passage showed, in order
    for sentences in splits:
        fresh.append([i for i, sentence in enumerate(sentences) if not _repeats(sentence, seen)])
        seen.extend(sentences)
    if budget <= 0 and all(len(f) <= keep and (f or len(s) <= 1) for f, s in zip(fresh, splits)):
        # Nothing to choose between: no need to embed the sentences.
        return [" ".join(s[i] for i in (f or range(len(s)))) for f, s in zip(fresh, splits)]
    query = embedder.embed_queries([question])[0]
    flat = [s for sentences in splits for s in sentences]
    scores = iter(embedder.embed_passages(flat) @ query if flat else [])
    sims = [[float(next(scores)) for _ in sentences] for sentences in splits]
    candidates: list[list[int]] = []  # per passage: its fresh sentences, best first (its best one if none is fresh)
    for f, sim in zip(fresh, sims):
        candidates.append(sorted(f, key=lambda i: -sim[i]) or sorted(range(len(sim)), key=lambda i: -sim[i])[:1])
    chosen: list[list[int]] = [c[:1] for c in candidates]
    used = sum(len(splits[p][c[0]]) for p, c in enumerate(chosen) if c)
    rest = sorted(((sims[p][i], p, i) for p, c in enumerate(candidates) for i in c[1:]), reverse=True)
    for _, p, i in rest:
        if keep > 0 and len(chosen[p]) >= keep:
            continue
        if budget > 0 and used + len(splits[p][i]) > budget:
            continue
        chosen[p].append(i)
        used += len(splits[p][i])
    return [" ".join(splits[p][i] for i in sorted(c)) for p, c in enumerate(chosen)]


def _passage_sentences(text: str) -> list[str]:
    """A passage's sentences. A full stop before a paragraph break ends one too: minutes often end a sentence on a
    short word ("… sig om.") that the answer splitter leaves joined, to spare abbreviations ("jf.", "nr."). A bare
    paragraph break does not: text from some PDFs has a blank line after every line."""
    return [s for paragraph in _PARAGRAPH_END.split(compact(text)) for s in split_sentences(paragraph)]


_PARAGRAPH_END = re.compile(r"(?<=[.!?])\n")


def _repeats(sentence: str, earlier: list[str]) -> bool:
    """True when ``sentence`` was shown before, whole or cut off at a chunk's edge (a long enough prefix of one)."""
    if len(sentence) < 30:
        return sentence in earlier
    return any(e.startswith(sentence) or sentence.startswith(e) for e in earlier if len(e) >= 30)
