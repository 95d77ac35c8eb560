"""Which passages, and which of their sentences, the answer model is shown.

The prompt is most of the waiting time (≈ 60 prompt tokens/s on 2 cores) and small models answer better from a short
context: passages under the relevance floor are left out, and each passage is cut to its sentences most similar to
the question.
"""

from __future__ import annotations

from .danish import passage_sentences
from .interfaces import Embedder
from .records import Context, Hit, Query
from .settings import Settings


class ContextBuilder:
    """Chooses the passages and sentences of a question's Context."""

    def __init__(self, embedder: Embedder, *, min_score: float, sentences: int, chars: int) -> None:
        self.embedder = embedder
        self.min_score = min_score  #: cosine similarity below which a passage is irrelevant
        self.sentences = sentences  #: sentences shown of each passage (0: all)
        self.chars = chars  #: characters shown in all (0: no limit)

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder) -> ContextBuilder:
        """The context builder the settings describe."""
        return cls(embedder, min_score=settings.min_score, sentences=settings.context_sentences, chars=settings.context_chars)

    def run(self, query: Query, hits: list[Hit]) -> Context:
        """The Context for ``query`` from its retrieved ``hits``: empty when no passage reaches the relevance floor."""
        relevant = [h for h in hits if h.score >= self.min_score]
        return Context(relevant, self.best_sentences(query.question, relevant))

    def best_sentences(self, question: str, hits: list[Hit]) -> list[str]:
        """What the model is shown of each passage: at most ``sentences`` sentences, those most similar to the question,
        in their original order, and ``chars`` characters in all.

        Every passage keeps its best sentence; the budget then goes to the next best sentences wherever they are. A
        sentence already shown in an earlier passage (chunks overlap) is not shown twice.
        """
        keep, budget = self.sentences, self.chars
        splits = [passage_sentences(h.chunk.text) for h in hits]
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
        query = self.embedder.embed_queries([question])[0]
        flat = [s for sentences in splits for s in sentences]
        scores = iter(self.embedder.embed_passages(flat) @ query if flat else [])
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


def _repeats(sentence: str, earlier: list[str]) -> bool:
    """True when ``sentence`` was shown before, whole or cut off at a chunk's edge (a long enough prefix of one)."""
    if len(sentence) < 30:
        return sentence in earlier
    return any(e.startswith(sentence) or sentence.startswith(e) for e in earlier if len(e) >= 30)
