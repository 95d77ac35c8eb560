"""The last stage: the model's reply becomes an Answer whose every marker names a passage that supports its sentence.

Markers that name no passage are dropped; each sentence is checked against the passage its marker names (similar
enough, holding its numbers, saying more than the question); a sentence left without a source gets the most similar
passage that holds its numbers, or is flagged as unsupported; a reply with no supported sentence, or one that only says
"not in the documents", becomes the fixed abstention.

With evidence, the model first chooses the sentence that answers (``pick``: its choice weighed with the ranking, and
an abstention only where no sentence matches well), then phrases the answer from it (``phrased``): the marker is the
chosen sentence's, set by the assistant, and the same checks hold the line to its passage.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .danish import (
    FILLER, REQUIRED_KINDS, WORD, answer_kind, digits, holds_answer_kind, holds_name, mentioned_dates, names, numbers, passage_sentences,
    question_language, repetition_start, split_sentences, without_source_talk,
)  # fmt: skip
from .interfaces import Embedder
from .lexicon import Lexicon
from .markers import MARKER, at_end, cited_numbers, marker_numbers, render, without_markers
from .records import Answer, Case, Citation, Context, Evidence, Hit, Meeting, Query
from .settings import Settings
from .templates import Templates


@dataclass(frozen=True)
class CheckedCitations:
    """An answer text with only valid markers, the cited passages in order of first mention, and how many were dropped."""

    text: str
    citations: list[Citation]
    dropped: int


def before_loop(reply: str) -> str:
    """A reply the generator stopped because it looped, without its repeated words. A reply that opens with a marker
    puts its markers before its sentences: a marker left at the cut opened the repeat and goes with it ("[1] A. B.
    [2] A." → "[1] A. B.")."""
    loop = repetition_start(reply)
    if loop is None:
        return reply
    kept = reply[:loop]
    if re.match(rf"\s*{MARKER.pattern}", reply):
        kept = re.sub(rf"(?:\s*{MARKER.pattern})+\s*$", "", kept)
    return kept


def check_citations(text: str, passages: list[Hit]) -> CheckedCitations:
    """Keep the markers that name one of ``passages`` (numbered from 1), remove the rest, and collect citations."""
    valid = range(1, len(passages) + 1)
    cited: list[int] = []
    dropped = 0

    def rewrite(m: re.Match[str]) -> str:
        nonlocal dropped
        kept = []
        for n in marker_numbers(m.group(1)):
            if n in valid:
                kept.append(n)
                if n not in cited:
                    cited.append(n)
            else:
                dropped += 1
        return render(list(dict.fromkeys(kept)))

    cleaned = MARKER.sub(rewrite, text)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)  # where a removed marker stood between two spaces
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip()
    return CheckedCitations(cleaned, [Citation(n, passages[n - 1]) for n in cited], dropped)


@dataclass(frozen=True)
class Supported:
    """An answer after every sentence was given a source or flagged."""

    text: str
    citations: list[Citation]
    unsupported: list[str]
    unverified: int = 0  #: markers the model wrote whose passage does not support the sentence (removed)
    claims: tuple[tuple[str, tuple[int, ...]], ...] = ()  #: each sourced sentence (no markers) and its passage numbers


def _passage_numbers(hit: Hit) -> set[str]:
    """The numbers a passage states, with its document's title, agenda item and date."""
    c = hit.chunk
    return numbers(" ".join((c.text, c.doc_title, c.heading, c.metadata.get("date", ""))))


def makes_a_claim(sentence: str, question: str) -> bool:
    """Whether a sentence says something the question did not: a word or number beyond the question's own words.
    "The company that won the tender is [1]." only restates the question."""
    asked = {w.lower() for w in WORD.findall(question)}
    return any(w.lower() not in asked and w.lower() not in FILLER for w in WORD.findall(without_markers(sentence)))


def support_sentences(
    checked: CheckedCitations,
    passages: list[Hit],
    similarity: Callable[[list[str]], np.ndarray],
    threshold: float,
    verify_threshold: float = 0.0,
    question: str = "",
) -> Supported:
    """Check every sentence of an answer against the passages.

    A marker the model wrote stays only if its passage supports the sentence: cosine similarity at least
    ``verify_threshold`` and every number of the sentence found in the passage (small models cite [1] and then
    write a figure or a fact from nowhere). A sentence left without a marker gets the most similar passage that
    holds its numbers, when at least ``threshold`` similar, marked as attached; otherwise it is listed as
    unsupported and shown without any marker. A sentence that only restates ``question`` makes no claim and is
    flagged too. ``similarity(sentences)`` returns a sentences × passages matrix.
    """
    sentences: list[str] = []
    for sentence in split_sentences(checked.text):
        if sentences and not without_markers(without_source_talk(sentence)).strip():
            # markers standing alone, or a sentence saying only where the answer stands ("This is stated in passage
            # [1]."), belong to the sentence before them: its markers go there, its words go
            sentences[-1] = f"{sentences[-1]} {render(cited_numbers(sentence))}".rstrip()
        else:
            sentences.append(sentence)
    if not sentences:
        return Supported(checked.text, [], [])
    plain = [re.sub(r"\s+([.,;:!?])", r"\1", without_markers(without_source_talk(s))).strip() for s in sentences]
    sims = similarity(plain) if passages else np.zeros((len(sentences), 0))
    held = [_passage_numbers(h) for h in passages]
    out: list[str] = []
    sourced: list[tuple[str, tuple[int, ...]]] = []
    order: list[int] = []  #: passages cited in the final text, in order of first mention
    verified: set[int] = set()  #: … of which the model's own marker was confirmed
    unsupported: list[str] = []
    unverified = 0
    for i, sentence in enumerate(sentences):
        if not plain[i]:
            continue  # it said only where the answer stands
        needed = digits(plain[i])
        written = list(dict.fromkeys(n for n in cited_numbers(sentence) if 0 < n <= len(passages)))
        claims = makes_a_claim(plain[i], question) if question else bool(plain[i])
        kept = [n for n in written if claims and needed <= held[n - 1] and sims[i, n - 1] >= verify_threshold]
        unverified += len(written) - len(kept)
        verified.update(kept)
        if not kept and claims:
            holding = [n for n in range(1, len(passages) + 1) if needed <= held[n - 1]]
            best = max(holding, key=lambda n: sims[i, n - 1], default=None)
            if best is not None and sims[i, best - 1] >= threshold:
                kept = [best]
        if not kept:
            unsupported.append(plain[i])
            out.append(plain[i])
            continue
        # Markers follow the claim, at the end of its sentence, whatever place the model gave them.
        out.append(at_end(plain[i], kept))
        sourced.append((plain[i], tuple(kept)))
        order.extend(n for n in kept if n not in order)
    citations = [Citation(n, passages[n - 1], attached=n not in verified) for n in order]
    return Supported(" ".join(out), citations, unsupported, unverified, tuple(sourced))


def _past(heading: str, sentence: str) -> str:
    """A passage's sentence without the agenda item's heading the passage opens with ("Ad. 2 Vold og trusler …")."""
    rest = sentence.removeprefix(" ".join(heading.split())).strip() if heading else sentence
    return rest if any(ch.isalnum() for ch in rest) else sentence


def weigh_choice(
    probabilities: list[float], scores: list[float], similarities: list[float], eligible: list[bool], rank_weight: float,
    decline_score: float, strong_similarity: float,
) -> int | None:  # fmt: skip
    """The index of the evidence sentence to answer from, or None to decline. Option k (1 = the best-ranked sentence,
    0 = none; ``probabilities`` are the model's, in that order) weighs p_k × exp(rank_weight × score_k), "none" its
    probability × exp(rank_weight × decline_score); a sentence not ``eligible`` weighs nothing. When "none" weighs
    most, the best eligible sentence is answered from all the same if it is at least ``strong_similarity`` similar."""
    if not scores:
        return None
    weights = [p * math.exp(rank_weight * score) for p, score in zip(probabilities, [decline_score, *scores])]
    weights = [w if k == 0 or eligible[k - 1] else 0.0 for k, w in enumerate(weights)]
    best = max(range(len(weights)), key=lambda k: weights[k])
    if best:
        return best - 1
    first = next((i for i, ok in enumerate(eligible) if ok), None)
    return first if first is not None and similarities[first] >= strong_similarity else None


class CitationChecker:
    """Turns the model's reply to a Context into the Answer."""

    def __init__(
        self, embedder: Embedder, templates: Templates, lexicon: Lexicon | None = None, *, attach_threshold: float, verify_threshold: float,
        rank_weight: float = 0.0, decline_score: float = 0.0, strong_similarity: float = 1.0,
    ) -> None:  # fmt: skip
        self.embedder = embedder
        self.templates = templates
        self.lexicon = lexicon  #: glosses the Danish words of an English answer; None: left as written
        self.attach_threshold = attach_threshold
        self.verify_threshold = verify_threshold
        self.rank_weight = rank_weight  #: how much the evidence ranking counts beside the model's choice
        self.decline_score = decline_score  #: the evidence score "none of them" stands for in that weighing
        self.strong_similarity = strong_similarity  #: a best sentence this similar is answered from, whatever the model chose

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder, templates: Templates, lexicon: Lexicon | None = None) -> CitationChecker:
        """The checker the settings describe."""
        s = settings
        return cls(
            embedder, templates, lexicon, attach_threshold=s.attach_threshold, verify_threshold=s.verify_threshold,
            rank_weight=s.evidence_rank_weight, decline_score=s.evidence_decline_score, strong_similarity=s.evidence_strong_similarity,
        )  # fmt: skip

    def pick(self, query: Query, evidence: tuple[Evidence, ...], probabilities: list[float]) -> Evidence | None:
        """The sentence to answer from: the model's choice weighed with the ranking (``weigh_choice``), among the
        sentences that can answer; None (decline) when "none" weighs most and no sentence that can answer is
        ``strong_similarity`` similar to the question: the model's refusal alone does not decline a question the
        minutes clearly answer. A sentence can answer when it states an amount of the unit asked for (a price, a
        length) or, for "when", a date or time, and its passage holds every place, body, person and year the question
        names."""
        eligible = [self.can_answer(query.question, e) for e in evidence]
        best = weigh_choice(
            probabilities, [e.score for e in evidence], [e.similarity for e in evidence], eligible, self.rank_weight, self.decline_score,
            self.strong_similarity,
        )  # fmt: skip
        return None if best is None else evidence[best]

    def can_answer(self, question: str, evidence: Evidence) -> bool:
        """Whether an evidence sentence can answer ``question``: it states an amount of the unit asked for, if one is
        (a length is no price), or a date or time for "when", and its agenda item holds the names and years the
        question mentions (a sentence stands in its item: "Der er afsat 0,3 mio. kr." answers for the school the item
        names in another passage)."""
        kind = answer_kind(question)
        held = list(evidence.item) or [evidence.hit]
        return (kind not in REQUIRED_KINDS or holds_answer_kind(evidence.sentence, kind)) and self.names_held(question, held)

    def phrased(self, query: Query, context: Context, chosen: Evidence, reply: str, shown: int = 1) -> Answer:
        """The Answer built on ``chosen``: the model's line (or, when it gave none, the sentence itself) citing the
        sentence's passage, checked as any answer is (its numbers in the passage, similar to it); the sentence is
        quoted first, and after it the best-ranked of the context's quotes, ``shown`` in all, each citing its passage."""
        line = " ".join(without_markers(before_loop(reply)).split())
        if not line or self.templates.says_not_found(line):
            line = chosen.sentence
        checked = CheckedCitations(at_end(line, [chosen.n]), [Citation(chosen.n, chosen.hit)], 0)
        supported = support_sentences(checked, context.passages, self._similarity(context.passages), self.attach_threshold, self.verify_threshold)
        text = self.lexicon.glossed(supported.text) if self.lexicon is not None and query.language == "en" else supported.text
        evidence = (chosen, *[e for e in context.quotes if e is not chosen])[: max(shown, 1)]
        citations = list(supported.citations or [Citation(chosen.n, chosen.hit, attached=True)])
        for e in evidence:
            if all(c.n != e.n for c in citations):
                citations.append(Citation(e.n, e.hit))
        quoted = [dataclasses.replace(c, quotes=tuple(e.sentence for e in evidence if e.n == c.n) or c.quotes) for c in citations]
        return Answer(
            query.question, text, quoted, context.passages, abstained=False, unsupported=supported.unsupported,
            unverified_citations=supported.unverified, evidence=evidence,
        )  # fmt: skip

    def with_case(self, query: Query, answer: Answer, case: Case | None) -> Answer:
        """The answer with its cited item's case history (where more than one meeting handled it) and, for a question
        about a decision, which body decided what and when: the meeting it quotes and, where a later meeting of the case
        decided again (changed, postponed, passed it on), that one too."""
        history = case if case is not None and len(case.meetings) > 1 else None
        if answer.abstained or not answer.citations or answer_kind(query.question) != "decision":
            return dataclasses.replace(answer, case=history)
        cited = answer.citations[0].hit.chunk
        quoted = Meeting.of(cited.doc_id, cited.doc_title, cited.metadata)
        latest = history.latest_decision if history is not None else None
        notes = [self._meeting_note("decision", quoted, query.language)] if quoted.outcome else []
        if latest is not None and latest.day > quoted.day:  # a later meeting than the one quoted
            notes.append(self._meeting_note("later_meeting", latest, query.language))
        return dataclasses.replace(answer, text=" ".join([answer.text, *notes]), case=history)

    def _meeting_note(self, template: str, meeting: Meeting, language: str) -> str:
        note = self.templates.render(f"{template}.{language}.txt", body=meeting.body, date=meeting.day, outcome=meeting.outcome)
        return self.lexicon.glossed(note) if self.lexicon is not None and language == "en" else note

    def declined(self, query: Query, hits: list[Hit]) -> Answer:
        """The fixed "not in the documents" answer, in the question's language, with the passages that were looked at."""
        return Answer(query.question, self.templates.not_found[query.language], [], hits, abstained=True)

    def run(self, query: Query, context: Context, reply: str) -> Answer:
        """The Answer that ``reply`` gives to ``query`` from ``context``: only supported sentences carry markers."""
        passages = context.passages
        checked = check_citations(before_loop(reply), passages)
        words = without_markers(checked.text).strip()
        if not words or self.templates.says_not_found(words):
            return Answer(query.question, self.templates.not_found[query.language], [], passages, abstained=True, dropped_citations=checked.dropped)
        supported = support_sentences(checked, passages, self._similarity(passages), self.attach_threshold, self.verify_threshold, query.question)
        if not supported.citations or not self.names_held(query.question, [c.hit for c in supported.citations]):
            # Not one sentence has a source, or the sources are about another place, body, person or year than the question
            # names (a passage on Greve's buses does not answer for Odense's): nothing here may be shown as an answer.
            return Answer(query.question, self.templates.not_found[query.language], [], passages, abstained=True, dropped_citations=checked.dropped)
        # An English answer the model wrote with Danish words in it: each followed by its English where one is known.
        text = self.lexicon.glossed(supported.text) if self.lexicon is not None and query.language == "en" else supported.text
        return Answer(
            query.question, text, self._quoted(supported, context), passages, abstained=False, dropped_citations=checked.dropped,
            unsupported=supported.unsupported, unverified_citations=supported.unverified,
        )  # fmt: skip

    def names_held(self, question: str, cited: list[Hit]) -> bool:
        """Whether every name and year the question mentions is in one of the cited passages (their text, title, agenda
        item, body, municipality or meeting date); an English name also counts in its Danish form ("Copenhagen" as
        "København"), and an English question's capitalised English words that are no Danish word are not asked for.
        A passage on budget 2026 does not answer for budget 2027."""
        held = [" ".join((h.chunk.text, h.chunk.doc_title, h.chunk.heading, *h.chunk.metadata.values())) for h in cited]
        for year in {d[:4] for d in mentioned_dates(question)}:
            if not any(year in digits(text) for text in held):
                return False
        english = question_language(question) == "en"
        for name in names(question):
            if english and self.lexicon is not None and self.lexicon.english_only(name):
                # "the Danish Patient Safety Authority" is "Styrelsen for Patientsikkerhed" in the minutes: its English
                # words are no name they can hold, while "Patient" (a Danish word too) and "Tune" still must be held.
                continue
            forms = [name, *(self.lexicon.lookup([name]) if self.lexicon is not None else [])]
            if not any(holds_name(text, form) for text in held for form in forms):
                return False
        return True

    def _quoted(self, supported: Supported, context: Context) -> list[Citation]:
        """The citations, each with the sentences of its passage (of those the model was shown) most similar to the
        answer's sentences that cite it: what a reader can check a claim against without opening the document."""
        claims: dict[int, list[str]] = {}
        for sentence, cited in supported.claims:
            for n in cited:
                claims.setdefault(n, []).append(sentence)
        shown = {c.n: [_past(c.hit.chunk.heading, s) for s in passage_sentences(context.texts[c.n - 1])] for c in supported.citations}
        asked = [(n, s) for n, sentences in claims.items() if len(shown.get(n, [])) > 1 for s in sentences]
        offered = [(n, i) for n, sentences in shown.items() if len(sentences) > 1 for i in range(len(sentences))]
        best: dict[int, set[int]] = {n: {0} for n, sentences in shown.items() if len(sentences) == 1}
        if asked and offered:
            sims = self.embedder.embed_queries([s for _, s in asked]) @ self.embedder.embed_passages([shown[n][i] for n, i in offered]).T
            for row, (n, _) in enumerate(asked):
                columns = [col for col, (m, _) in enumerate(offered) if m == n]
                best.setdefault(n, set()).add(offered[max(columns, key=lambda col: sims[row, col])][1])
        return [dataclasses.replace(c, quotes=tuple(shown[c.n][i] for i in sorted(best.get(c.n, ())))) for c in supported.citations]

    def _similarity(self, passages: list[Hit]) -> Callable[[list[str]], np.ndarray]:
        """Cosine similarity of answer sentences to the passages' stored vectors."""

        def similarity(sentences: list[str]) -> np.ndarray:
            matrix = np.stack([h.vector for h in passages if h.vector is not None])
            return self.embedder.embed_queries(sentences) @ matrix.T

        return similarity
