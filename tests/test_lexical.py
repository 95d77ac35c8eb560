from __future__ import annotations

import sqlite3

from assistant import lexical
from assistant.danish import terms


def test_bm25_search_ranks_matching_rows_first() -> None:
    db = sqlite3.connect(":memory:")
    db.executescript(lexical.SCHEMA)
    texts = ["Budgettet blev vedtaget.", "Medarbejdersiden gnsker en starre afklaring pa arbejdsgangene.", "Intet."]
    lexical.add(db, [(i, " ".join(terms(t))) for i, t in enumerate(texts)])
    hits = lexical.search(db, "Hvad ønsker medarbejdersiden afklaret om arbejdsgange?", 3)
    assert hits[0][0] == 1 and all(score > 0 for _, score in hits)
    assert lexical.search(db, "og det", 3) == []
