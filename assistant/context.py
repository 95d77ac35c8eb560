"""Which passages, and which of their sentences, the answer is written from.

The prompt is most of the waiting time (≈ 60 prompt tokens/s on 2 cores) and small models answer better from a short
context: passages under the relevance floor are left out, and each passage is cut to its sentences most similar to
the question. The same sentences are ranked as the answer itself (evidence): by similarity to the question (or to
its Danish translation, whichever is closer), by the share they hold, with their agenda item's title, of the words
of its closest wording (a word counted by how few of the candidates hold it: the matter they all treat tells them
apart less than the word only the answer holds), by the rank of their passage (retrieval has weighed the whole
passage's words, its section and the committee and date the question names), and by whether they hold the kind of
answer it asks for (a sum for "what does it cost", an amount for "how many", a date for "when", a person's name for
"who", a decision's verb for "what was decided"). A sentence that restates a better one is left out. The best are
offered to the model to choose from; those scoring near the best of all are quoted before the model has read
anything.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cached_property
from pathlib import Path

import numpy as np

from .danish import (
    MIN_EVIDENCE_CHARS, answer_kind, holds_answer_kind, is_furniture, kind_terms, passage_sentences, repeats, terms, without_heading,
)  # fmt: skip
from .danish import first_names as read_first_names
from .interfaces import Embedder
from .records import Context, Evidence, Found, Hit, Query, Sentence
from .settings import Settings
#: Share of a sentence's words that a better-ranked sentence holding them all (or nearly) leaves it nothing new to say.
_RESTATED = 0.8


class ContextBuilder:
    """Chooses the passages and sentences of a question's Context, and ranks its sentences as evidence."""

    def __init__(
        self, embedder: Embedder, *, min_score: float, sentences: int, chars: int, evidence: int = 0, overlap_weight: float = 0.0,
        kind_weight: float = 0.0, passage_weight: float = 0.0, margin: float = 0.0, focus_weight: float = 0.0,
        words_path: Path | None = None,
    ) -> None:  # fmt: skip
        self.embedder = embedder
        self.min_score = min_score  #: cosine similarity below which a passage is irrelevant
        self.sentences = sentences  #: sentences shown of each passage (0: all)
        self.chars = chars  #: characters shown in all (0: no limit)
        self.evidence = evidence  #: sentences ranked as evidence (0: none)
        self.overlap_weight = overlap_weight  #: weight of the share a sentence (with its item's title) holds of the question's words
        self.kind_weight = kind_weight  #: added to a sentence holding the kind of answer the question asks for
        self.passage_weight = passage_weight  #: times the reciprocal of its passage's rank, added to a sentence's score
        self.margin = margin  #: how far under the best sentence's score another may score and still be quoted
        self.focus_weight = focus_weight  #: share of a sentence's similarity to the question without its items' titles
        self.words_path = words_path  #: the Danish word list the first names are taken from (None: any name is a person)

    @cached_property
    def first_names(self) -> frozenset[str]:
        """What tells a person's name from a place's or a body's (``danish.first_names``), read on first use."""
        return read_first_names(self.words_path) if self.words_path else frozenset()

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> ContextBuilder:
        """The context builder the settings describe."""
        s = settings
        return cls(
            embedder, min_score=s.min_score, sentences=s.context_sentences, chars=s.context_chars, evidence=s.evidence_candidates,
            overlap_weight=s.evidence_overlap_weight, kind_weight=s.evidence_kind_weight, passage_weight=s.evidence_passage_weight,
            margin=s.evidence_margin, focus_weight=s.evidence_focus_weight, words_path=s.danish_words_path,
        )  # fmt: skip

    def run(self, query: Query, found: Found | list[Hit]) -> Context:
        """The Context for ``query`` from what retrieval found (or its passages alone): empty when no passage reaches
        the relevance floor. The evidence is ranked among every sentence of the best items where retrieval handed them
        on, else among the passages' sentences."""
        found = found if isinstance(found, Found) else Found(list(found))
        relevant = [h for h in found.passages if h.score >= self.min_score]
        if relevant and found.sentences and self.evidence:
            return self._from_items(query, relevant, found)
        splits = [passage_sentences(h.chunk.text) for h in relevant]
        sims = self._similarities(_wordings(query), splits, always=self.evidence > 0)
        evidence = self._evidence(query, relevant, splits, sims)
        return Context(relevant, self._shown(splits, sims), evidence, self._quotes(evidence))

    def _quotes(self, evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
        # A sentence far under the best shares the question's words more than its matter: quoting it misleads more
        # than leaving it out.
        return tuple(e for e in evidence if e.score >= evidence[0].score - self.margin) if evidence else ()

    def _from_items(self, query: Query, relevant: list[Hit], found: Found) -> Context:
        """The Context whose evidence is ranked among the best items' sentences: the passages are the relevant ones
        retrieved, then those the offered evidence stands in."""
        ranked = self._rank_sentences(query, found)
        passages = list(relevant)
        by_item: dict[str, list[Hit]] = {}
        for hit in found.hits.values():
            by_item.setdefault(hit.chunk.doc_id, []).append(hit)
        items = {doc_id: tuple(hits) for doc_id, hits in by_item.items()}  # one tuple per item, shared by its sentences
        evidence = []
        for sentence, hit, score, similarity in ranked:
            n = next((i for i, h in enumerate(passages, 1) if h.row == hit.row and h.chunk.id == hit.chunk.id), 0)
            if not n:
                passages.append(hit)
                n = len(passages)
            evidence.append(Evidence(n, sentence, passages[n - 1], score, similarity, items.get(hit.chunk.doc_id, ())))
        texts = [" ".join(passage_sentences(h.chunk.text)) for h in passages]
        return Context(passages, texts, tuple(evidence), self._quotes(tuple(evidence)))

    def _rank_sentences(self, query: Query, found: Found) -> list[tuple[str, Hit, float, float]]:
        """The best items' sentences ranked as the answer, best first, at most ``evidence``: (sentence, its passage,
        score, similarity). A sentence scores its similarity to the question (or its Danish translation), in part
        without the words of the items' titles (which item is asked about is settled; what the question asks of it is
        not), the share of the question's words it holds with its item's title, the kind of answer asked for, and its
        item's rank."""
        # Furniture is checked again: an index built before a rule was added still holds what the rule leaves out.
        pairs = [(s, rank) for s, rank in found.sentences if s.row in found.hits and s.vector is not None and not is_furniture(s.text)]
        if not pairs:
            return []
        wordings = _wordings(query)
        topics = {row: set(terms(h.chunk.heading.partition(" › ")[0])) for row, h in found.hits.items()}
        titles = set().union(*topics.values())
        focus = [_without_words(w, titles) for w in wordings]
        vectors = self.embedder.embed_queries([*wordings, *focus])
        matrix = np.stack([s.vector for s, _ in pairs])
        sims = matrix @ vectors[: len(wordings)].T
        focused = matrix @ vectors[len(wordings) :].T
        kind = answer_kind(query.question)
        asked = _asked(query, kind)
        held = [(set(s.terms.split()) if s.terms else set(terms(s.text)), topics[s.row]) for s, _ in pairs]
        weighed = _weighed(asked, [words | topic for words, topic in held])
        ranked: list[tuple[tuple[str, Hit, float, float], set[str]]] = []
        for (sentence, rank), sim, focus_sim, (words, topic) in zip(pairs, sims, focused, held):
            hit = found.hits[sentence.row]
            overlap = _rare_share(weighed, words | topic)
            similarity = float(sim.max())
            blended = (1.0 - self.focus_weight) * similarity + self.focus_weight * float(focus_sim.max())
            holds = bool(kind) and holds_answer_kind(sentence.text, kind, self.first_names)
            score = blended + self.overlap_weight * overlap + self.kind_weight * holds + self.passage_weight / rank
            ranked.append(((sentence.text, hit, score, similarity), words))
        ranked.sort(key=lambda pair: -pair[0][2])
        kept: list[tuple[tuple[str, Hit, float, float], set[str]]] = []
        for entry, words in ranked:
            if not any(_restates(words, better) for _, better in kept):
                kept.append((entry, words))
                if len(kept) == self.evidence:
                    break
        return [entry for entry, _ in kept]

    def best_sentences(self, question: str, hits: list[Hit]) -> list[str]:
        """What the model is shown of each passage: at most ``sentences`` sentences, those most similar to the question,
        in their original order, and ``chars`` characters in all.

        Every passage keeps its best sentence; the budget then goes to the next best sentences wherever they are. A
        sentence already shown in an earlier passage (chunks overlap) is not shown twice.
        """
        splits = [passage_sentences(h.chunk.text) for h in hits]
        return self._shown(splits, self._similarities([question], splits))

    def _fresh(self, splits: list[list[str]]) -> list[list[int]]:
        """Per passage, its sentences that no earlier passage showed, in order."""
        seen: list[str] = []
        fresh: list[list[int]] = []
        for sentences in splits:
            fresh.append([i for i, sentence in enumerate(sentences) if not repeats(sentence, seen)])
            seen.extend(sentences)
        return fresh

    def _needs_choice(self, splits: list[list[str]]) -> bool:
        keep, budget = self.sentences, self.chars
        if keep <= 0 and budget <= 0:
            return False
        return budget > 0 or not all(len(f) <= keep and (f or len(s) <= 1) for f, s in zip(self._fresh(splits), splits))

    def _similarities(self, wordings: list[str], splits: list[list[str]], always: bool = False) -> list[list[float]] | None:
        """Each sentence's cosine similarity to the question, the best over its ``wordings`` (None when neither the
        choice nor the evidence needs it)."""
        flat = [s for sentences in splits for s in sentences]
        if not flat or not (always or self._needs_choice(splits)):
            return None
        queries = self.embedder.embed_queries(wordings)
        scores = iter((self.embedder.embed_passages(flat) @ queries.T).max(axis=1))
        return [[float(next(scores)) for _ in sentences] for sentences in splits]

    def _shown(self, splits: list[list[str]], sims: list[list[float]] | None) -> list[str]:
        keep, budget = self.sentences, self.chars
        if keep <= 0 and budget <= 0:
            return [" ".join(s) for s in splits]
        fresh = self._fresh(splits)
        if sims is None or not self._needs_choice(splits):
            # Nothing to choose between: no need to embed the sentences.
            return [" ".join(s[i] for i in (f or range(len(s)))) for f, s in zip(fresh, splits)]
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

    def _evidence(self, query: Query, hits: list[Hit], splits: list[list[str]], sims: list[list[float]] | None) -> tuple[Evidence, ...]:
        """The passages' sentences ranked as the answer, best first, at most ``evidence`` of them."""
        if not self.evidence or sims is None:
            return ()
        # Per wording of the question, its words: an English question's own words are never in a Danish sentence, so
        # a sentence counts the share it holds of its best-matching wording, not of all wordings' words together.
        kind = answer_kind(query.question)
        asked = _asked(query, kind)
        candidates: list[tuple[int, Hit, str, set[str], set[str], float]] = []  # passage, hit, sentence, words, topic, similarity
        for p, (hit, sentences, fresh) in enumerate(zip(hits, splits, self._fresh(splits))):
            # A sentence stands in its agenda item: "Der er indkommet 5 høringssvar." answers "Hvor mange høringssvar kom
            # der til lokalplanen for plejecentret i Lunden?" under the item "Lokalplan 15.24 - Plejecenter i Lunden".
            topic = set(terms(hit.chunk.heading.partition(" › ")[0]))
            for fresh_index in fresh:
                sentence = without_heading(sentences[fresh_index], hit.chunk.heading)
                if len(sentence) >= MIN_EVIDENCE_CHARS and not is_furniture(sentence):
                    candidates.append((p, hit, sentence, set(terms(sentence)), topic, sims[p][fresh_index]))
        weighed = _weighed(asked, [words | topic for _, _, _, words, topic, _ in candidates])
        ranked: list[tuple[Evidence, set[str]]] = []  # each sentence with its words
        for p, hit, sentence, words, topic, similarity in candidates:
            overlap = _rare_share(weighed, words | topic)
            holds = bool(kind) and holds_answer_kind(sentence, kind, self.first_names)
            score = similarity + self.overlap_weight * overlap + self.kind_weight * holds + self.passage_weight / (p + 1)
            ranked.append((Evidence(p + 1, sentence, hit, score, similarity), words))
        ranked.sort(key=lambda pair: -pair[0].score)
        kept: list[tuple[Evidence, set[str]]] = []
        for evidence, words in ranked:
            # Minutes repeat themselves (a case's text at every meeting, a sentence cut at a chunk's edge): a sentence
            # that says nearly nothing a better one did not would take an offered place from another that might.
            if not any(_restates(words, better) for _, better in kept):
                kept.append((evidence, words))
                if len(kept) == self.evidence:
                    break
        return tuple(evidence for evidence, _ in kept)


def _wordings(query: Query) -> list[str]:
    """The question as asked and, for an English question, the answer model's Danish translation: a Danish sentence is
    as similar to the question as to its closer wording (cross-lingual similarity runs lower than Danish to Danish)."""
    return [query.question, *(form.text for form in query.forms if form.kind == "translation")]


def _asked(query: Query, kind: str) -> list[set[str]]:
    """Per wording of the question, its words but those that ask for the kind of answer ("besluttet", "decided" in
    "what was decided about …"): the kind is weighed on its own, and a sentence saying only that something was
    decided must not outrank the one on the matter asked about."""
    asked = [{*terms(form.text)} - (kind_terms(form.text, kind) if kind == "decision" else set()) for form in query.forms]
    return [words for words in asked if words]


def _without_words(text: str, words: set[str]) -> str:
    """``text`` without its words whose index terms are among ``words`` (the question without the items' titles); the
    text itself when nothing would be left."""
    kept = [w for w in text.split() if not set(terms(w)) & words]
    return " ".join(kept) if kept else text


def _weighed(asked: list[set[str]], held: list[set[str]]) -> list[tuple[dict[str, float], float]]:
    """Per wording of the question, each of its words' weight among the candidate sentences' words ``held``, and their
    sum: log((n + 1) / (sentences holding it + ½)). A word most of the candidates hold (the item's title, the matter
    they all treat) tells them apart less than one only a few do."""
    counts = Counter(word for words in held for word in words)
    n = len(held)
    weighed = []
    for wording in asked:
        weights = {word: math.log((n + 1) / (counts[word] + 0.5)) for word in wording}
        weighed.append((weights, sum(weights.values())))
    return weighed


def _rare_share(weighed: list[tuple[dict[str, float], float]], held: set[str]) -> float:
    """The share of the question's words ``held``, each counted by its weight (``_weighed``), for the wording (as
    asked, or a Danish form) that shares most."""
    return max((sum(w for word, w in weights.items() if word in held) / total for weights, total in weighed if total > 0), default=0.0)


def _restates(words: set[str], better: set[str]) -> bool:
    """True when a sentence of these ``words`` says hardly anything that one of the ``better`` words does not, and no
    number it does not ("a guarantee of 50 million" is news beside "a guarantee of 120.9 million")."""
    numbers = {w for w in words if w[0].isdigit()}
    return bool(words) and numbers <= better and len(words & better) >= _RESTATED * len(words)
