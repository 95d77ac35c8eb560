"""The language a question is asked in: it decides the answer's language and how retrieval channels are weighted."""

from __future__ import annotations

import re

_DANISH_WORDS = set(
    "hvad hvem hvor hvornår hvordan hvorfor hvilke hvilken hvilket blev er og det der den til af på med skal kan har "
    "om som ikke var ved for fra efter hos vores deres også eller mellem besluttet træder kraft".split()
)
_ENGLISH_WORDS = set(
    "what who where when how why which was were is are the of about did does do and to in on for with from by "
    "decided said say has have will".split()
)


def question_language(question: str) -> str:
    """"da" or "en": the language to answer in, judged from the question's words (Danish letters count for Danish)."""
    words = re.findall(r"[a-zæøå]+", question.lower())
    da = sum(w in _DANISH_WORDS for w in words) + 2 * len(re.findall(r"[æøå]", question.lower()))
    en = sum(w in _ENGLISH_WORDS for w in words)
    return "en" if en > da else "da"
