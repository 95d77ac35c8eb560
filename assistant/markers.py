"""The citation-marker grammar: how an answer names the passages it rests on, "[1]", "[2, 3]", "[1][4]", "[1-2]".

The one definition of a marker, used to read markers out of answers (citations), to steer the model while it writes
them (generation), and to tell a model server which markers it may write (a GBNF grammar).
"""

from __future__ import annotations

import re

#: A whole marker; group 1 holds its numbers (a list or a range). The numbers refer to the passages given to the model.
MARKER = re.compile(r"\[(\d+(?:\s*[-,;]\s*\d+)*)\]")
#: A marker's start as far as it is written: "[", then the numbers of a list or range so far ("[1, ", "[1-").
MARKER_START = r"\[(?:\d+\s*[-,;]\s*)*"
#: A marker still being written, or finished: "[1", "[1, 2", "[1]".
PARTIAL_MARKER = re.compile(MARKER_START + r"\d*\]?")
#: The number being written inside a marker still open at the end of a text (group 1, possibly empty).
OPEN_MARKER = re.compile(MARKER_START + r"(\d*)$")
#: A marker standing first in a text, as when the model writes markers in front of its sentences.
LEADING_MARKER = re.compile(r"\s*\[\d+\]")
#: The longest range that is read as a range; "[2015-2025]" names two numbers, not eleven passages.
_MAX_RANGE = 20


def marker_numbers(group: str) -> list[int]:
    """The passage numbers one marker's inside names: "1, 3" → [1, 3]; "1-3" → [1, 2, 3]."""
    nums: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group):
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            nums.extend(range(lo, hi + 1) if 0 < hi - lo < _MAX_RANGE else [lo, hi])
        else:
            nums.append(int(part))
    return nums


def cited_numbers(text: str) -> list[int]:
    """Every passage number the markers in ``text`` name, in order (repeats kept)."""
    return [n for group in MARKER.findall(text) for n in marker_numbers(group)]


def without_markers(text: str) -> str:
    """``text`` with its markers taken out."""
    return MARKER.sub("", text)


def render(numbers: list[int]) -> str:
    """Markers for passage numbers, one each: [1, 3] → "[1][3]"."""
    return "".join(f"[{n}]" for n in numbers)


_CLOSING = re.compile(r"\s*([.!?:;]*)\s*$")


def at_end(sentence: str, numbers: list[int]) -> str:
    """A sentence (without markers) with the markers of its passages at its end, before its closing punctuation:
    ("Fristen er 72 timer.", [1]) → "Fristen er 72 timer [1]."."""
    if not numbers:
        return sentence.strip()
    m = _CLOSING.search(sentence)
    assert m is not None  # the pattern matches every text
    return f"{sentence[: m.start()].rstrip()} {render(numbers)}{m.group(1)}"



def gbnf(count: int) -> str:
    """A GBNF grammar (llama.cpp's ``grammar`` field, vLLM's structured outputs) for a reply whose markers name only
    passages 1 to ``count`` and which has a word before it may end: the two rules the in-process generator's logits
    processors keep (``generation.MarkersWithin``, ``generation.WordsBeforeEnd``), for a model behind a server.

    At most one marker may open the reply; then something that is neither a marker nor punctuation; then free text,
    where "[" always opens a marker of passage numbers (a list "1, 3" or a range "1-3").
    """
    numbers = " | ".join(f'"{n}"' for n in range(max(count, 1), 0, -1))
    return "\n".join(
        (
            "root ::= lead first rest",
            'lead ::= (marker " "?)?',
            r'first ::= [^\[\] \t\n.,;:!?()"-]',
            r"rest ::= ([^\[] | marker)*",
            'marker ::= "[" num (("," " "? | "-") num)* "]"',
            f"num ::= {numbers}",
        )
    )
