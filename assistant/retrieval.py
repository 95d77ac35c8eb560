"""From a Query to the passages most likely to answer it: dense and lexical channels fused by weighted rank, then
arranged as minutes call for: a text repeated at several meetings once, an agenda item's decision and summary over
its case description and attachments, the decision of an item found beside it, and the committee and meeting date the
question names preferred."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

from .interfaces import Embedder, Reranker, Store
from .records import Candidate, Filter, Hit, Query, date_span
from .settings import Settings

log = logging.getLogger(__name__)

# Shared by all retrievers: each query hands its lexical searches to these threads.
_CHANNELS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")

DECISION = "Beslutning"  #: the section of an agenda-item record that says what was decided

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")


def fused_scores(rankings: list[list[int]], k: int, weights: list[float] | None = None) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: each id scores Σ weight / (k + rank); best first, ties by first appearance."""
    weights = weights or [1.0] * len(rankings)
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return dict(sorted(scores.items(), key=lambda pair: -pair[1]))


def reciprocal_rank_fusion(rankings: list[list[int]], k: int, weights: list[float] | None = None) -> list[int]:
    """The ids of ``fused_scores``, best first."""
    return list(fused_scores(rankings, k, weights))


def preferred(candidate: Candidate, prefer: Filter) -> int:
    """How many of the things a question names the passage's meeting has: its body, its date (0, 1 or 2)."""
    named = int(bool(prefer.bodies) and candidate.body in prefer.bodies)
    if (prefer.date_from or prefer.date_to) and candidate.date:
        first, last = date_span(candidate.date)
        named += (not prefer.date_from or last >= date_span(prefer.date_from)[0]) and (not prefer.date_to or first <= date_span(prefer.date_to)[1])
    return named


class Retriever:
    """Retrieval over a Store: dense (embeddings), lexical (BM25) or both, fused by weighted reciprocal rank, then
    arranged (``arrange``).

    Every Hit's score is the cosine similarity of its passage to the question as asked, whatever the channel, so
    that the relevance floor means the same in every mode.
    """

    def __init__(
        self, store: Store, embedder: Embedder, *, top_k: int, mode: Mode, depth: int, rrf_k: int, section_weights: dict[str, float] | None = None,
        prefer_weight: float = 0.0, decision_support: float = 0.0, reranker: Reranker | None = None, rerank_depth: int = 0,
    ) -> None:  # fmt: skip
        self.store = store
        self.embedder = embedder
        self.top_k = top_k
        self.mode = mode
        self.depth = depth  #: candidates each channel contributes to the fusion
        self.rrf_k = rrf_k
        self.section_weights = section_weights or {}  #: a record section's factor on its passages' fused score
        self.prefer_weight = prefer_weight  #: added factor for each of the body and date the question names
        self.decision_support = decision_support  #: an item's decision scores at least this share of its best passage
        self.reranker = reranker  #: reorders the first ``rerank_depth`` passages before the cut; None: none
        self.rerank_depth = rerank_depth

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, embedder: Embedder, mode: Mode | None = None, reranker: Reranker | None = None
    ) -> Retriever:
        """The retriever the settings describe (``mode`` overrides theirs; ``reranker``: a reranking server's client)."""
        s = settings
        return cls(
            store, embedder, top_k=s.top_k, mode=mode or s.retrieval_mode, depth=s.retrieval_depth, rrf_k=s.rrf_k,
            section_weights=s.section_weights, prefer_weight=s.prefer_weight, decision_support=s.decision_support, reranker=reranker,
            rerank_depth=s.rerank_depth,
        )  # fmt: skip

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
        scores = fused_scores(rankings, self.rrf_k, weights if len(rankings) > 1 else [1.0])
        if self.reranker is None:
            return self.store.hits(self.arrange(scores, query.prefer, k), vector)
        return self.reranked(query, self.store.hits(self.arrange(scores, query.prefer, max(k, self.rerank_depth)), vector), k)

    def reranked(self, query: Query, hits: list[Hit], k: int) -> list[Hit]:
        """The best ``k`` of ``hits`` as the reranker orders them, ranks from 1; in their fused order, with a one-line
        warning, when the reranker fails."""
        assert self.reranker is not None
        try:
            relevance = self.reranker.scores(query.question, [h.chunk.text for h in hits])
        except RuntimeError as exc:
            log.warning("%s; the passages keep their fused order", exc)
            return hits[:k]
        order = sorted(range(len(hits)), key=lambda i: -relevance[i])[:k]
        return [dataclasses.replace(hits[i], rank=rank) for rank, i in enumerate(order, 1)]

    def arrange(self, scores: dict[int, float], prefer: Filter, k: int) -> list[int]:
        """The ``k`` rows to show, best first, from fused ``scores``: one row of each text (minutes repeat a case's text
        at every meeting that handles it), scores weighted by the passage's section and by what the question names, and an
        agenda item's decision scored at least ``decision_support`` of its best passage."""
        seen: set[str] = set()
        score: dict[int, float] = {}
        best: dict[str, float] = {}  # each agenda item's best passage
        decisions: list[Candidate] = []
        for c in self.store.candidates(list(scores)):
            if c.text_hash in seen:
                continue
            seen.add(c.text_hash)
            score[c.row] = scores[c.row] * self.section_weights.get(c.section, 1.0) * (1.0 + self.prefer_weight * preferred(c, prefer))
            best[c.doc_id] = max(best.get(c.doc_id, 0.0), score[c.row])
            if c.section == DECISION:
                decisions.append(c)
        # The decision often shares few words with the question ("Udvalget godkendte indstillingen"), yet it is what
        # the question about the item asks for.
        for c in decisions:
            score[c.row] = max(score[c.row], self.decision_support * best[c.doc_id])
        return sorted(score, key=lambda row: -score[row])[:k]
