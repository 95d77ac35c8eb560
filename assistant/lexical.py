"""The lexical channel of the default store: BM25 (SQLite FTS5) over the index terms ``danish.terms`` gives a text.

Each word is indexed twice: its Snowball Danish stem after folding æ/ø/å (so "på" and OCR's "pa" meet), and its
consonant skeleton — the word without vowels, æ/ø/å and "g" — because OCR reads ø as g, a, e or @ ("gnsker",
"draftelse", "efterfelgende" for "ønsker", "drøftelse", "efterfølgende"): the skeleton of both spellings is the
same ("nskr", "drftls", "ftrflnd").
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from .danish import terms

SCHEMA = "CREATE VIRTUAL TABLE lexical USING fts5(terms, tokenize = 'unicode61 remove_diacritics 0');"


def add(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index ``(row, terms)`` pairs: ``row`` is the chunk's row (the FAISS id), ``terms`` its space-separated index
    terms (``danish.terms`` of its text)."""
    db.executemany("INSERT INTO lexical(rowid, terms) VALUES (?, ?)", rows)


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
