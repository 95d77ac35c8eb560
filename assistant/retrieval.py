"""From a Query to the passages most likely to answer it: dense and lexical channels fused by weighted rank, then
arranged as minutes call for: a text repeated at several meetings once, an agenda item's decision and summary over
its case description and attachments, the decision of an item found beside it, and the committee and meeting date the
question names preferred.

``search`` goes on as a reader of minutes does: it ranks the agenda items on all their passages found (the meetings of
one case as one item), and hands on every sentence of the best items that can be evidence, whichever section it
stands in: a fact asked about often stands in the case description, whose passages rank under the item's summary."""

from __future__ import annotations

import dataclasses
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

import numpy as np

from .interfaces import Embedder, Reranker, Store
from .records import Candidate, Filter, Found, Hit, Item, Query, Sentence, date_span
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
        item_decay: float = 0.5, item_section_power: float = 0.5, evidence_items: int = 3, sentence_weight: float = 0.0,
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
        self.item_decay = item_decay  #: an item's score: its passages' scores, best first, each this times the one before
        self.item_section_power = item_section_power  #: the section weights' power in an item's score (0: sections alike)
        self.evidence_items = evidence_items  #: items whose sentences ``search`` hands on as evidence
        self.sentence_weight = sentence_weight  #: the sentence channel's weight, times a form's dense weight (0: none)

    @classmethod
    def from_settings(
        cls, settings: Settings, store: Store, embedder: Embedder, mode: Mode | None = None, reranker: Reranker | None = None
    ) -> Retriever:
        """The retriever the settings describe (``mode`` overrides theirs; ``reranker``: a reranking server's client)."""
        s = settings
        return cls(
            store, embedder, top_k=s.top_k, mode=mode or s.retrieval_mode, depth=s.retrieval_depth, rrf_k=s.rrf_k,
            section_weights=s.section_weights, prefer_weight=s.prefer_weight, decision_support=s.decision_support, reranker=reranker,
            rerank_depth=s.rerank_depth, item_decay=s.item_decay, item_section_power=s.item_section_power, evidence_items=s.evidence_items,
            sentence_weight=s.sentence_weight,
        )  # fmt: skip

    def run(self, query: Query, k: int | None = None, narrow: Filter | None = None) -> list[Hit]:
        """The best ``k`` passages for ``query`` (``top_k`` by default), best first, ranks from 1; ``narrow`` keeps only
        passages of the documents it admits. In "dense" or "lexical" mode only the question as asked is searched."""
        k = k or self.top_k
        scores, vector = self.fused(query, max(self.depth, k), narrow)
        return self.passages(query, scores, self.store.candidates(list(scores)), vector, k)

    def search(self, query: Query, k: int | None = None, narrow: Filter | None = None) -> Found:
        """The best ``k`` passages (as ``run``), the agenda items ranked on all their passages found, and every evidence
        sentence of the best ``evidence_items`` items, each with the passage it stands in."""
        k = k or self.top_k
        scores, vector = self.fused(query, max(self.depth, k), narrow)
        candidates = self.store.candidates(list(scores))
        items = self.items(scores, candidates, query.prefer)
        sentences: list[tuple[Sentence, int]] = []
        seen: set[str] = set()
        for item in items[: self.evidence_items]:
            # The meetings of a case repeat its text: a sentence is taken once, from the item found first (the one the
            # question names, else the newest).
            for sentence in self.store.sentences(list(item.meetings)):
                if sentence.text not in seen:
                    seen.add(sentence.text)
                    sentences.append((sentence, item.rank))
        rows = sorted({sentence.row for sentence, _ in sentences})
        hits = {h.row: h for h in self.store.hits(rows, vector)}
        return Found(self.passages(query, scores, candidates, vector, k), items, sentences, hits)

    def items(self, scores: dict[int, float], candidates: list[Candidate], prefer: Filter) -> list[Item]:
        """The agenda items (documents) of the fused ``candidates``, best first: an item scores its passages' scores,
        best first, each ``item_decay`` times the one before (an item found by several passages is more surely the one
        asked about), sections weighted by ``item_section_power`` of their weights and the committee and date the question
        names preferred. The items of one case's meetings count as one, represented by the meeting the question names,
        else the newest."""
        group_of: dict[str, str] = {}
        found: dict[str, list[float]] = {}
        members: dict[str, list[Candidate]] = {}
        seen: set[tuple[str, str]] = set()
        for c in candidates:
            if c.doc_id not in group_of:
                meetings = self.store.meetings(c.doc_id)
                group_of[c.doc_id] = meetings[0] if len(meetings) > 1 else c.doc_id
            group = group_of[c.doc_id]
            if (group, c.text_hash) in seen:
                continue
            seen.add((group, c.text_hash))
            weight = self.section_weights.get(c.section, 1.0) ** self.item_section_power
            found.setdefault(group, []).append(scores[c.row] * weight * (1.0 + self.prefer_weight * preferred(c, prefer)))
            if all(m.doc_id != c.doc_id for m in members.get(group, [])):
                members.setdefault(group, []).append(c)
        total = {g: sum(s * self.item_decay**i for i, s in enumerate(sorted(v, reverse=True))) for g, v in found.items()}
        ranked = sorted(total, key=lambda g: -total[g])
        items = []
        for rank, group in enumerate(ranked, 1):
            meetings = sorted(members[group], key=lambda c: (-preferred(c, prefer), _newest(c.date)))
            items.append(Item(meetings[0].doc_id, total[group], rank, tuple(c.doc_id for c in meetings), meetings[0].case))
        return items

    def fused(self, query: Query, depth: int, narrow: Filter | None = None) -> tuple[dict[int, float], np.ndarray]:
        """Each candidate passage's fused score, best first, and the question's vector."""
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
                if self.sentence_weight > 0:
                    # A fact is one sentence of a long passage: the passage's vector blurs it, the sentence's does not.
                    rankings.append([r for r, _ in self.store.dense_sentences(form_vector, depth, narrow)])
                    weights.append(form.dense_weight * self.sentence_weight)
            if found is not None:
                rankings.append([r for r, _ in found.result()])
                weights.append(form.lexical_weight)
        return fused_scores(rankings, self.rrf_k, weights if len(rankings) > 1 else [1.0]), vector

    def passages(self, query: Query, scores: dict[int, float], candidates: list[Candidate], vector: np.ndarray, k: int) -> list[Hit]:
        """The best ``k`` passages of the fused ``scores``, arranged (and reranked, with a reranker)."""
        if self.reranker is None:
            return self.store.hits(self.arrange(scores, query.prefer, k, candidates), vector)
        return self.reranked(query, self.store.hits(self.arrange(scores, query.prefer, max(k, self.rerank_depth), candidates), vector), k)

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

    def arrange(self, scores: dict[int, float], prefer: Filter, k: int, candidates: list[Candidate] | None = None) -> list[int]:
        """The ``k`` rows to show, best first, from fused ``scores``: one row of each text (minutes repeat a case's text
        at every meeting that handles it), scores weighted by the passage's section and by what the question names, and an
        agenda item's decision scored at least ``decision_support`` of its best passage."""
        seen: set[str] = set()
        score: dict[int, float] = {}
        best: dict[str, float] = {}  # each agenda item's best passage
        decisions: list[Candidate] = []
        for c in self.store.candidates(list(scores)) if candidates is None else candidates:
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


def _newest(date: str) -> str:
    """A sort key that puts later dates first (ISO dates, compared character by character)."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in date)
