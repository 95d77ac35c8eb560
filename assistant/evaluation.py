"""Retrieval evaluation against a gold file: recall@k and MRR@10, overall and by question language.

A gold file is JSONL, one question a line::

    {"id": "s01", "question": "…", "answers": ["a verbatim phrase from the passage", …], "doc": "optional doc id", "lang": "da"}

A retrieved passage answers the question when it contains one of the phrases (case and whitespace ignored) and,
where ``doc`` is given, belongs to that document. Phrases rather than passage ids keep the gold valid when the
chunking changes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import jsonl_objects
from .language import question_language
from .records import Hit
from .retrieval import Retriever

KS = (1, 5, 10)


class GoldFileError(ValueError):
    """The gold file cannot be used; the message names the line and the fix."""


@dataclass(frozen=True)
class GoldQuestion:
    """One question of a gold file and what counts as its answer."""

    id: str
    question: str
    answers: tuple[str, ...]
    doc: str = ""
    lang: str = ""


@dataclass
class Scores:
    """Recall@k and MRR@10 over a group of questions."""

    n: int = 0
    hits_at: dict[int, int] = field(default_factory=lambda: dict.fromkeys(KS, 0))
    rr_sum: float = 0.0

    def add(self, rank: int | None) -> None:
        self.n += 1
        for k in KS:
            self.hits_at[k] += rank is not None and rank <= k
        if rank is not None and rank <= 10:
            self.rr_sum += 1.0 / rank

    def recall(self, k: int) -> float:
        return self.hits_at[k] / self.n if self.n else 0.0

    @property
    def mrr(self) -> float:
        return self.rr_sum / self.n if self.n else 0.0


@dataclass
class EvalReport:
    """Scores overall and per language, and the questions not answered in the top 10."""

    overall: Scores
    by_language: dict[str, Scores]
    misses: list[GoldQuestion]

    def table(self, title: str = "") -> str:
        """A plain-text table of the figures."""
        head = f"{title:<10} {'n':>4} " + " ".join(f"{'R@' + str(k):>6}" for k in KS) + f" {'MRR@10':>7}"
        rows = [head]
        for name, s in [("all", self.overall), *sorted(self.by_language.items())]:
            rows.append(f"{name:<10} {s.n:>4} " + " ".join(f"{s.recall(k):>6.3f}" for k in KS) + f" {s.mrr:>7.3f}")
        return "\n".join(rows)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text).lower().split())


def read_gold(path: Path) -> list[GoldQuestion]:
    """Parse a gold file; raises GoldFileError naming the line at fault."""
    gold = []
    for lineno, obj in jsonl_objects(path, GoldFileError):
        answers = obj.get("answers")
        if not obj.get("question") or not isinstance(answers, list) or not answers:
            raise GoldFileError(f"{path}:{lineno}: needs \"question\" and a non-empty \"answers\" list of phrases")
        gold.append(GoldQuestion(str(obj.get("id", lineno)), obj["question"], tuple(answers), obj.get("doc", ""), obj.get("lang", "")))
    if not gold:
        raise GoldFileError(f"{path}: no questions")
    return gold


def first_relevant_rank(q: GoldQuestion, hits: list[Hit]) -> int | None:
    """Rank of the first passage that contains an answer phrase (in the right document), or None."""
    phrases = [_norm(a) for a in q.answers]
    for hit in hits:
        if q.doc and hit.chunk.doc_id != q.doc:
            continue
        text = _norm(hit.chunk.text)
        if any(p in text for p in phrases):
            return hit.rank
    return None


def evaluate(retriever: Retriever, gold: list[GoldQuestion]) -> EvalReport:
    """Retrieve the top 10 for each gold question and score them."""
    overall, by_language, misses = Scores(), defaultdict(Scores), []
    for q in gold:
        rank = first_relevant_rank(q, retriever.search(q.question, max(KS)))
        overall.add(rank)
        by_language[q.lang or question_language(q.question)].add(rank)
        if rank is None:
            misses.append(q)
    return EvalReport(overall, dict(by_language), misses)
