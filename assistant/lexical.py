"""The lexical channel: BM25 (SQLite FTS5) over Danish-stemmed words, made robust to OCR misreadings.

Each word is indexed twice: its Snowball Danish stem after folding æ/ø/å (so "på" and OCR's "pa" meet), and its
consonant skeleton — the word without vowels, æ/ø/å and "g" — because OCR reads ø as g, a, e or @ ("gnsker",
"draftelse", "efterfelgende" for "ønsker", "drøftelse", "efterfølgende"): the skeleton of both spellings is the
same ("nskr", "drftls", "ftrflnd"). Words split by line-end hyphens are joined first.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
_HYPHEN_BREAK = re.compile(r"(\w)-[ \t]*\n[ \t]*(\w)")
_FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "@": "o"})
_NOT_SKELETON = re.compile(r"[aeiouyæøåg@]")
_SKELETON_PREFIX = "zq"  # keeps skeletons apart from real words in the one FTS column
_MIN_SKELETON = 3
_STOPWORDS = frozenset(
    "og i at det en den til er som på de med han af for ikke der var mig sig men et har om vi min havde ham hun nu "
    "over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev kunne ind når være dog noget "
    "ville jo deres efter ned skulle denne end dette mit også under have dig anden hende mine alt meget sit sine vor "
    "mod disse hvis din nogle hos blive mange ad bliver hendes været thi jer sådan pa the of and to in is was what who "
    "when how which about did does do for on at by with from that this are were be".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("danish")


@lru_cache(maxsize=200_000)
def _forms(word: str, ocr_robust: bool = True) -> tuple[str, ...]:
    stem = _stemmer().stemWord(word)
    if not ocr_robust:
        return (stem,)
    folded = stem.translate(_FOLD) or word.translate(_FOLD)
    forms = [folded]
    # The skeleton of the stem unifies inflections; that of the whole word survives OCR forms the stemmer misses.
    for skeleton in dict.fromkeys((_NOT_SKELETON.sub("", stem), _NOT_SKELETON.sub("", word))):
        if len(skeleton) >= _MIN_SKELETON:
            forms.append(_SKELETON_PREFIX + skeleton)
    return tuple(forms)


def terms(text: str, ocr_robust: bool = True) -> list[str]:
    """The index terms of a text: folded stems and consonant skeletons of its non-stopwords.

    ``ocr_robust=False`` gives plain Snowball stems, the baseline the OCR benchmark compares against.
    """
    if ocr_robust:
        text = _HYPHEN_BREAK.sub(r"\1\2", text)
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or len(word) < 2:
            continue
        out.extend(_forms(word, ocr_robust))
    return out


SCHEMA = "CREATE VIRTUAL TABLE lexical USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');"


def add(db: sqlite3.Connection, rows: Iterable[tuple[int, str]], ocr_robust: bool = True) -> None:
    """Index ``(row, text)`` pairs; ``row`` is the chunk's row (the FAISS id)."""
    db.executemany("INSERT INTO lexical(rowid, terms) VALUES (?, ?)", ((row, " ".join(terms(text, ocr_robust))) for row, text in rows))


def search(db: sqlite3.Connection, query: str, k: int, ocr_robust: bool = True, within: list[int] | None = None) -> list[tuple[int, float]]:
    """Rows and BM25 scores (higher is better) of the ``k`` best chunks for ``query``; ``within`` restricts the rows."""
    unique = list(dict.fromkeys(terms(query, ocr_robust)))
    if not unique or (within is not None and not within):
        return []
    match = " OR ".join(f'"{t}"' for t in unique)
    # FTS5's bm25() is lower-is-better; negate so that all channels rank higher-is-better.
    if within is None:
        rows = db.execute("SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ? ORDER BY bm25(lexical) LIMIT ?", (match, k))
    else:
        rows = db.execute(
            "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ? AND rowid IN (SELECT value FROM json_each(?)) "
            "ORDER BY bm25(lexical) LIMIT ?",
            (match, json.dumps(within), k),
        )
    return [(int(r), float(s)) for r, s in rows]
