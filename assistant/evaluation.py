"""Evaluation against a gold file: retrieval (recall@k, MRR@10) and answers (facts, citations, abstention).

A gold file is JSONL, one question a line::

    {"id": "s01", "question": "…", "answers": ["a verbatim phrase from the passage", …], "doc": "optional doc id",
     "lang": "da", "facts": ["72 timer|72 hours", …]}
    {"id": "t001", "question": "…", "answers": ["…"], "doc": "agenda_items.jsonl:<item id>", "case": "22-013352",
     "kinds": ["committee", "year"]}
    {"id": "u01", "question": "…", "answerable": false, "lang": "en"}

A retrieved passage answers the question when it contains one of the phrases (case and whitespace ignored) and,
where ``doc`` is given, belongs to that document — or, where ``case`` is given, to another agenda item of the same
case (minutes repeat a case's text at every meeting that handles it). The item is found (item-level recall) when any
passage of the ``doc`` is retrieved, or a passage of the same case holding a phrase. ``kinds`` name what the
question is like ("committee", "year", "place": it names one; "multi": its case was handled at several meetings),
and the figures are given by kind too. Phrases rather than passage ids keep the gold valid when the
chunking changes. ``facts`` are what a correct answer must say: each fact is a regular expression, its alternatives
separated by "|" (the answer may be Danish or English, a number written "1.500" or "1,500"), searched case-insensitively
in the answer with its white space folded. Unanswerable questions (``"answerable":
false``) count only for answers: the assistant should say that the documents do not answer them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .danish import normalise, question_language
from .ingest import jsonl_objects
from .records import Answer, Found, Hit, Item

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
    facts: tuple[str, ...] = ()
    answerable: bool = True
    case: str = ""  #: the case number of ``doc``: a passage of another item of the case counts when it holds a phrase
    kinds: tuple[str, ...] = ()  #: what the question is like: "committee", "year", "place", "multi", "plain"
    section: str = ""  #: the record section its answer stands in ("Sagsbeskrivelse", "Beslutning", …), where the gold says


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

    def figures(self) -> dict[str, float]:
        """The scores as numbers, rounded as the tables show them."""
        return {"n": self.n, **{f"recall@{k}": round(self.recall(k), 3) for k in KS}, "mrr@10": round(self.mrr, 3)}


@dataclass
class EvalReport:
    """Scores overall, per language and per kind of question, item-level scores where the gold names items, and the
    questions not answered in the top 10."""

    overall: Scores
    by_language: dict[str, Scores]
    misses: list[GoldQuestion]
    by_kind: dict[str, Scores] = field(default_factory=dict)
    items: Scores | None = None  #: item-level: the right agenda item among the passages (questions with a ``doc``)
    items_by_language: dict[str, Scores] = field(default_factory=dict)
    candidates: Scores | None = None  #: the facts among the evidence candidates, by the rank of the item they stand in
    candidates_by_language: dict[str, Scores] = field(default_factory=dict)

    def _groups(self) -> list[tuple[str, Scores]]:
        groups = [("all", self.overall), *sorted(self.by_language.items()), *((f"kind:{k}", s) for k, s in sorted(self.by_kind.items()))]
        if self.items is not None:
            groups += [("item:all", self.items), *((f"item:{k}", s) for k, s in sorted(self.items_by_language.items()))]
        if self.candidates is not None:
            groups += [("candidates:all", self.candidates), *((f"candidates:{k}", s) for k, s in sorted(self.candidates_by_language.items()))]
        return groups

    def table(self, title: str = "") -> str:
        """A plain-text table of the figures."""
        head = f"{title:<14} {'n':>4} " + " ".join(f"{'R@' + str(k):>6}" for k in KS) + f" {'MRR@10':>7}"
        rows = [head]
        for name, s in self._groups():
            rows.append(f"{name:<14} {s.n:>4} " + " ".join(f"{s.recall(k):>6.3f}" for k in KS) + f" {s.mrr:>7.3f}")
        return "\n".join(rows)

    def figures(self) -> dict[str, dict[str, float]]:
        """The scores overall ("all"), by language ("da", "en"), by kind ("kind:year", …) and, where the gold names
        items, item-level ("item:all", "item:da", …), as numbers."""
        return {name: s.figures() for name, s in self._groups()}


def read_gold(path: Path) -> list[GoldQuestion]:
    """Parse a gold file; raises GoldFileError naming the line at fault."""
    gold = []
    for lineno, obj in jsonl_objects(path, GoldFileError):
        answers, facts = obj.get("answers", []), obj.get("facts", [])
        answerable = obj.get("answerable", True) is not False
        if not obj.get("question") or not isinstance(answers, list) or (answerable and not answers):
            raise GoldFileError(f"{path}:{lineno}: needs \"question\" and a non-empty \"answers\" list of phrases (or \"answerable\": false)")
        if not isinstance(facts, list) or not all(isinstance(f, str) and f.strip() for f in facts):
            raise GoldFileError(f"{path}:{lineno}: \"facts\" must be a list of non-empty strings")
        for fact in facts:
            try:
                re.compile(fact)
            except re.error as exc:
                raise GoldFileError(f"{path}:{lineno}: the fact {fact!r} is no regular expression ({exc}); escape its . ( ) [ ] with a backslash") from None
        kinds = obj.get("kinds", [])
        if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
            raise GoldFileError(f"{path}:{lineno}: \"kinds\" must be a list of names")
        gold.append(
            GoldQuestion(
                str(obj.get("id", lineno)), obj["question"], tuple(answers), obj.get("doc", ""), obj.get("lang", ""), tuple(facts), answerable,
                str(obj.get("case", "")), tuple(kinds), str(obj.get("section", "")),
            )
        )  # fmt: skip
    if not gold:
        raise GoldFileError(f"{path}: no questions")
    return gold


def _own_document(q: GoldQuestion, hit: Hit) -> bool:
    """Whether ``hit`` is of the gold document: its id, or its id under a municipality's name (an index of several
    councils, ``assistant index NAME=PATH``, prefixes the ids of a named source's documents)."""
    return hit.chunk.doc_id == q.doc or hit.chunk.doc_id.endswith("/" + q.doc)


def _same_case(q: GoldQuestion, hit: Hit) -> bool:
    return bool(q.case) and hit.chunk.metadata.get("case_number") == q.case


def first_relevant_rank(q: GoldQuestion, hits: list[Hit]) -> int | None:
    """Rank of the first passage that contains an answer phrase (in the right document, or its case), or None."""
    phrases = [normalise(a) for a in q.answers]
    for hit in hits:
        if q.doc and not _own_document(q, hit) and not _same_case(q, hit):
            continue
        text = normalise(hit.chunk.text)
        if any(p in text for p in phrases):
            return hit.rank
    return None


def first_item_rank(q: GoldQuestion, hits: list[Hit]) -> int | None:
    """Rank of the first passage of the gold item (any passage), or of its case holding a phrase; None if neither."""
    answered = first_relevant_rank(q, hits)
    own = next((h.rank for h in hits if _own_document(q, h)), None)
    ranks = [r for r in (answered, own) if r is not None]
    return min(ranks) if ranks else None


def found_item_rank(q: GoldQuestion, items: list[Item]) -> int | None:
    """Rank of the first item retrieval ranked that is the gold item, another meeting's item of its case, or its case."""
    for item in items:
        if any(d == q.doc or d.endswith("/" + q.doc) for d in (item.doc_id, *item.meetings)) or (q.case and item.case == q.case):
            return item.rank
    return None


def candidate_rank(q: GoldQuestion, found: Found) -> int | None:
    """The rank of the best item whose evidence candidates hold a sentence stating every fact of ``q``, or None: the
    evidence can only be as good as the sentences it is chosen from."""
    ranks = [rank for sentence, rank in found.sentences if all(fact_present(f, sentence.text) for f in q.facts)]
    return min(ranks) if q.facts and ranks else None


def evaluate(search: Callable[[str, int], list[Hit] | Found], gold: list[GoldQuestion]) -> EvalReport:
    """Retrieve the top 10 for each gold question with ``search(question, k)`` and score them. Where ``search`` finds
    items and their sentences too (``Retriever.search``), the items are scored as it ranked them, and the sentences
    the evidence is chosen from ("candidates", by the rank of the item a fact's sentence stands in)."""
    overall, by_language, by_kind, misses = Scores(), defaultdict(Scores), defaultdict(Scores), []
    items, items_by_language = Scores(), defaultdict(Scores)
    candidates, candidates_by_language = Scores(), defaultdict(Scores)
    for q in (q for q in gold if q.answerable):
        found = search(q.question, max(KS))
        hits = found.passages if isinstance(found, Found) else found
        rank = first_relevant_rank(q, hits)
        language = q.lang or question_language(q.question)
        overall.add(rank)
        by_language[language].add(rank)
        for kind in (*q.kinds, *([f"section:{q.section}"] if q.section else [])):
            by_kind[kind].add(rank)
        if q.doc:
            item_rank = found_item_rank(q, found.items) if isinstance(found, Found) else first_item_rank(q, hits)
            items.add(item_rank)
            items_by_language[language].add(item_rank)
        if isinstance(found, Found) and q.facts:
            held = candidate_rank(q, found)
            candidates.add(held)
            candidates_by_language[language].add(held)
        if rank is None:
            misses.append(q)
    return EvalReport(
        overall, dict(by_language), misses, dict(by_kind), items if items.n else None, dict(items_by_language), candidates if candidates.n else None,
        dict(candidates_by_language),
    )  # fmt: skip


def fact_present(fact: str, answer: str) -> bool:
    """Whether ``answer`` states ``fact`` (a regular expression: any of its alternatives, case and spacing ignored)."""
    return re.search(fact, normalise(answer), re.IGNORECASE) is not None


@dataclass
class AnswerScores:
    """Answer quality over a group of questions."""

    answerable: int = 0  #: answerable questions with facts
    correct: int = 0  #: … whose answer as shown (the evidence quoted, then the text) states every fact
    correct_text: int = 0  #: … whose text alone (the model's line) states every fact
    false_abstentions: int = 0  #: answerable questions the assistant declined
    cited_answer: int = 0  #: answered questions where a cited passage holds a gold answer phrase
    answered: int = 0
    unanswerable: int = 0
    abstained: int = 0  #: unanswerable questions declined, as they should be
    invalid_citations: int = 0  #: [n] markers that named no passage (removed from the answer)
    mixed: int = 0  #: answers to English questions left with Danish words no English follows
    seconds: list[float] = field(default_factory=list)

    def rate(self, part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    def figures(self) -> dict[str, float]:
        """The scores as numbers, rounded as the tables show them."""
        return {
            "answerable": self.answerable,
            "facts": round(self.rate(self.correct, self.answerable), 3),
            "facts_in_text": round(self.rate(self.correct_text, self.answerable), 3),
            "cited_ok": round(self.rate(self.cited_answer, self.answered), 3),
            "false_abstentions": round(self.rate(self.false_abstentions, self.answerable), 3),
            "unanswerable": self.unanswerable,
            "abstained_unanswerable": round(self.rate(self.abstained, self.unanswerable), 3),
            "invalid_markers": self.invalid_citations,
            "mixed_language": self.mixed,
            "seconds_per_answer": round(sum(self.seconds) / len(self.seconds), 1) if self.seconds else 0.0,
        }


@dataclass
class AnswerReport:
    """Answer scores overall and per language, with each question's outcome."""

    overall: AnswerScores
    by_language: dict[str, AnswerScores]
    outcomes: list[tuple[GoldQuestion, Answer, bool]]  #: question, answer, facts correct
    by_section: dict[str, AnswerScores] = field(default_factory=dict)  #: by the record section the answer stands in

    def _groups(self) -> list[tuple[str, AnswerScores]]:
        return [("all", self.overall), *sorted(self.by_language.items()), *((f"section:{k}", s) for k, s in sorted(self.by_section.items()))]

    def table(self) -> str:
        """A plain-text table of the figures."""
        head = f"{'':<28} {'n':>4} {'facts':>6} {'text':>6} {'cited✓':>7} {'false-abst':>10} {'unans':>6} {'abstain':>8} {'invalid[n]':>10} {'mixed':>6} {'s/answer':>9}"
        rows = [head]
        for name, s in self._groups():
            mean = sum(s.seconds) / len(s.seconds) if s.seconds else 0.0
            rows.append(
                f"{name:<28} {s.answerable:>4} {s.rate(s.correct, s.answerable):>6.3f} {s.rate(s.correct_text, s.answerable):>6.3f} "
                f"{s.rate(s.cited_answer, s.answered):>7.3f} "
                f"{s.rate(s.false_abstentions, s.answerable):>10.3f} {s.unanswerable:>6} {s.rate(s.abstained, s.unanswerable):>8.3f} "
                f"{s.invalid_citations:>10} {s.mixed:>6} {mean:>9.1f}"
            )
        return "\n".join(rows)

    def figures(self) -> dict[str, dict[str, float]]:
        """The scores overall ("all"), by language and, where the gold names them, by section ("section:Resume"), as
        numbers."""
        return {name: s.figures() for name, s in self._groups()}


def evaluate_answers(
    ask: Callable[[str], Answer], gold: list[GoldQuestion], progress: Callable[[], None] | None = None, unglossed: Callable[[str], list[str]] | None = None
) -> AnswerReport:
    """Answer each gold question that has facts or is unanswerable, and score the answers: a fact counts when the
    answer as shown states it (the evidence quoted before the text, or the text), and apart when the text alone does;
    ``unglossed(text)`` tells the Danish words left in an English answer (``Lexicon.unglossed``), to count mixed
    answers."""
    overall, by_language, by_section = AnswerScores(), defaultdict(AnswerScores), defaultdict(AnswerScores)
    outcomes = []
    for q in gold:
        if q.answerable and not q.facts:
            continue
        answer = ask(q.question)
        correct = False
        for s in (overall, by_language[q.lang or question_language(q.question)], *([by_section[q.section]] if q.section else [])):
            s.seconds.append(answer.seconds)
            s.invalid_citations += answer.dropped_citations
            if not q.answerable:
                s.unanswerable += 1
                s.abstained += answer.abstained
                continue
            s.answerable += 1
            if answer.abstained:
                s.false_abstentions += 1
                continue
            s.answered += 1
            s.mixed += bool(unglossed and question_language(q.question) == "en" and unglossed(answer.text))
            shown = " ".join([*(e.sentence for e in answer.evidence), answer.text])
            correct = all(fact_present(f, shown) for f in q.facts)
            s.correct += correct
            s.correct_text += all(fact_present(f, answer.text) for f in q.facts)
            s.cited_answer += first_relevant_rank(q, [c.hit for c in answer.citations]) is not None
        outcomes.append((q, answer, correct))
        if progress:
            progress()
    return AnswerReport(overall, dict(by_language), outcomes, dict(by_section))
