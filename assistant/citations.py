"""Citation markers in answers: find them, drop the ones that match no passage, list the cited passages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .records import Citation, Hit

# "[1]", "[2, 3]", "[1][4]", "[1-2]" (a range); the numbers refer to the passages given to the model.
_MARKER = re.compile(r"\[(\d+(?:\s*[-,;]\s*\d+)*)\]")


@dataclass(frozen=True)
class CheckedCitations:
    """An answer text with only valid markers, the cited passages in order of first mention, and how many were dropped."""

    text: str
    citations: list[Citation]
    dropped: int


def _numbers(group: str) -> list[int]:
    nums: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            nums.extend(range(lo, hi + 1) if 0 < hi - lo < 20 else [lo, hi])
        else:
            nums.append(int(part))
    return nums


def check_citations(text: str, passages: list[Hit]) -> CheckedCitations:
    """Keep the markers that name one of ``passages`` (numbered from 1), remove the rest, and collect citations."""
    valid = range(1, len(passages) + 1)
    cited: list[int] = []
    dropped = 0

    def rewrite(m: re.Match[str]) -> str:
        nonlocal dropped
        kept = []
        for n in _numbers(m.group(1)):
            if n in valid:
                kept.append(n)
                if n not in cited:
                    cited.append(n)
            else:
                dropped += 1
        return "".join(f"[{n}]" for n in dict.fromkeys(kept))

    cleaned = _MARKER.sub(rewrite, text)
    cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)  # where a removed marker stood between two spaces
    cleaned = re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip()
    return CheckedCitations(cleaned, [Citation(n, passages[n - 1]) for n in cited], dropped)


# A sentence ends at . ! or ? after a word of 4+ characters or a marker (not "pr. 1. januar", "kl.", "Pga."), before a
# capital letter or a marker.
_SENTENCE_END = re.compile(r"(?:(?<=\w{4}[.!?])|(?<=\][.!?]))((?:\s*\[\d+\])*)\s+(?=[A-ZÆØÅ\[\"(])")
_LEADING_MARKER = re.compile(r"\s*\[\d+\]")


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer with their markers. Markers after a full stop belong to the sentence before it
    ("… timer. [1] Next" → "… timer. [1]"), unless the answer opens with a marker: then the model writes them in
    front of each sentence ("[1] The decision … [3] The …")."""
    leading = bool(_LEADING_MARKER.match(text))
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        cut = m.start(1) if leading else m.end(1)
        parts.append(text[start:cut].strip())
        start = cut if leading else m.end()
    parts.append(text[start:].strip())
    return [p for p in parts if p]


@dataclass(frozen=True)
class Supported:
    """An answer after every sentence was given a source or flagged."""

    text: str
    citations: list[Citation]
    unsupported: list[str]
    unverified: int = 0  #: markers the model wrote whose passage does not support the sentence (removed)


_DIGITS = re.compile(r"\d+")
# Number words, Danish and English (cardinals and ordinals), as the digits an answer may write for them. "en"/"et"
# and "one" are left out: as articles and pronouns they would credit nearly every passage with a 1 (Danish "to",
# 2, stays, though English text then holds a 2 wherever it says "to": a looser check, not a wrong one).
_NUMBER_WORDS = {
    word: str(n)
    for n, words in {
        1: "første first",
        2: "to anden andet two second",
        3: "tre tredje three third",
        4: "fire fjerde four fourth",
        5: "fem femte five fifth",
        6: "seks sjette six sixth",
        7: "syv syvende seven seventh",
        8: "otte ottende eight eighth",
        9: "ni niende nine ninth",
        10: "ti tiende ten tenth",
        11: "elleve ellevte eleven eleventh",
        12: "tolv tolvte twelve twelfth",
        13: "tretten thirteen",
        14: "fjorten fourteen",
        15: "femten fifteen",
        16: "seksten sixteen",
        17: "sytten seventeen",
        18: "atten eighteen",
        19: "nitten nineteen",
        20: "tyve twenty",
        30: "tredive thirty",
        40: "fyrre forty",
        50: "halvtreds fifty",
        60: "tres sixty",
        70: "halvfjerds seventy",
        80: "firs eighty",
        90: "halvfems ninety",
        100: "hundrede hundred",
        1000: "tusind thousand",
    }.items()
    for word in words.split()
}
_WORDS = re.compile(r"[^\W_]+")
# Words that carry no claim of their own, in the two languages answers are written in.
_FILLER = frozenset(
    "the a an is are was were be been will would shall should can could has have had of in on at for to from by with as "
    "and or not no that this these those it its there their they which who whom what when where why how do does did "
    "about into than then also only new name named og i at det en den til er som på de med af for ikke der var har om "
    "vi blev kan skal vil være bliver hvad hvem hvornår hvor hvordan hvilke hvilken et fra efter under over ved nye ny"
    .split()
)


def _digits(text: str) -> set[str]:
    """The numbers written in digits in a text, leading zeros dropped ("1. januar 2016" → {"1", "2016"};
    "14,8" → {"14", "8"}; "2025-07-01" → {"2025", "7", "1"})."""
    return {run.lstrip("0") or "0" for run in _DIGITS.findall(text)}


def _passage_numbers(hit: Hit) -> set[str]:
    """The numbers a passage states, in digits or in words: minutes write "seks anbefalinger" where an answer
    writes "6 anbefalinger"."""
    c = hit.chunk
    text = " ".join((c.text, c.doc_title, c.heading, c.metadata.get("date", "")))
    return _digits(text) | {_NUMBER_WORDS[w] for w in _WORDS.findall(text.lower()) if w in _NUMBER_WORDS}


def makes_a_claim(sentence: str, question: str) -> bool:
    """Whether a sentence says something the question did not: a word or number beyond the question's own words.
    "The company that won the tender is [1]." only restates the question."""
    asked = {w.lower() for w in _WORDS.findall(question)}
    return any(w.lower() not in asked and w.lower() not in _FILLER for w in _WORDS.findall(_MARKER.sub("", sentence)))


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
        if sentences and not _MARKER.sub("", sentence).strip():
            sentences[-1] += " " + sentence  # markers standing alone belong to the sentence before them
        else:
            sentences.append(sentence)
    if not sentences:
        return Supported(checked.text, [], [])
    plain = [re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", s)).strip() for s in sentences]
    sims = similarity(plain) if passages else np.zeros((len(sentences), 0))
    numbers = [_passage_numbers(h) for h in passages]
    out: list[str] = []
    order: list[int] = []  #: passages cited in the final text, in order of first mention
    verified: set[int] = set()  #: … of which the model's own marker was confirmed
    unsupported: list[str] = []
    unverified = 0
    for i, sentence in enumerate(sentences):
        needed = _digits(plain[i])
        written = list(dict.fromkeys(n for n in _cited_in(sentence) if 0 < n <= len(passages)))
        claims = makes_a_claim(plain[i], question) if question else bool(plain[i])
        kept = [n for n in written if claims and needed <= numbers[n - 1] and sims[i, n - 1] >= verify_threshold]
        unverified += len(written) - len(kept)
        verified.update(kept)
        if not kept and claims:
            holding = [n for n in range(1, len(passages) + 1) if needed <= numbers[n - 1]]
            best = max(holding, key=lambda n: sims[i, n - 1], default=None)
            if best is not None and sims[i, best - 1] >= threshold:
                kept = [best]
        if not kept:
            unsupported.append(plain[i])
            out.append(plain[i])
            continue
        out.append(sentence if kept == written else plain[i].rstrip() + " " + "".join(f"[{n}]" for n in kept))
        order.extend(n for n in kept if n not in order)
    citations = [Citation(n, passages[n - 1], attached=n not in verified) for n in order]
    return Supported(" ".join(out), citations, unsupported, unverified)


def _cited_in(sentence: str) -> list[int]:
    """The passage numbers a sentence's markers name, in order."""
    return [n for g in _MARKER.findall(sentence) for n in _numbers(g)]
