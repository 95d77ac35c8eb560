"""The language a question is asked in: it decides the answer's language and how retrieval channels are weighted."""

from __future__ import annotations

import re

_DANISH_WORDS = set(
    "hvad hvem hvor hvornår hvordan hvorfor hvilke hvilken hvilket blev er og det der den til af på med skal kan har "
    "om som ikke var ved for fra efter hos vores deres også eller mellem besluttet træder kraft mange meget bliver "
    "blive vil kommer nogen noget sin sit sine hans hendes de vi jeg må får få næste sidste et en i".split()
)
_ENGLISH_WORDS = set(
    "what who where when how why which was were is are the of about did does do and to in on for with from by "
    "decided said say has have will many much there their it its be been being any this that these those than into "
    "an a can could would should must may not next last".split()
)
_WORD = re.compile(r"[^\W\d_]+")
# Danish names of committees join their parts with "og": "Børne- og Ungeudvalget", "Kultur- og Fritidsudvalget".
_JOINED_NAME = re.compile(r"\b[A-ZÆØÅ][^\W\d_]*-\s+(?:og|eller)\s+[^\W\d_]+")


def question_language(question: str) -> str:
    """"da" or "en": the language to answer in, judged from the question's words. Danish letters count for Danish,
    except in names: "How many pupils attend Rødovre Gymnasium?" is asked in English."""
    da = en = 0
    for i, word in enumerate(_WORD.findall(_JOINED_NAME.sub(" ", question))):
        low = word.lower()
        da += low in _DANISH_WORDS
        en += low in _ENGLISH_WORDS
        if i == 0 or not word[0].isupper():  # a capital inside the question starts a name, whatever its language
            da += 2 * sum(low.count(ch) for ch in "æøå")
    return "en" if en > da else "da"
