"""Citation markers in answers: find them, drop the ones that match no passage, list the cited passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
