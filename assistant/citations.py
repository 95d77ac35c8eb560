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


def support_sentences(
    checked: CheckedCitations,
    passages: list[Hit],
    similarity: Callable[[list[str]], np.ndarray],
    threshold: float,
) -> Supported:
    """Give each sentence without a marker the passage most similar to it, when similar enough, marked as attached;
    otherwise list it as unsupported. ``similarity(sentences)`` returns a sentences × passages matrix of cosines."""
    sentences = split_sentences(checked.text)
    bare = [i for i, s in enumerate(sentences) if not _MARKER.search(s)]
    citations = list(checked.citations)
    unsupported: list[str] = []
    if bare and passages:
        sims = similarity([_MARKER.sub("", sentences[i]).strip() for i in bare])
        cited = {c.n for c in citations}
        for row, i in enumerate(bare):
            best = int(np.argmax(sims[row]))
            if sims[row, best] >= threshold:
                n = best + 1
                sentences[i] = f"{sentences[i]} [{n}]"
                if n not in cited:
                    citations.append(Citation(n, passages[best], attached=True))
                    cited.add(n)
            else:
                unsupported.append(sentences[i])
    elif bare:
        unsupported = [sentences[i] for i in bare]
    return Supported(" ".join(sentences), citations, unsupported)
