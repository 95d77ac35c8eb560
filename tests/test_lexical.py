from __future__ import annotations

import sqlite3

from assistant import lexical


def test_bm25_search_ranks_matching_rows_first() -> None:
    db = sqlite3.connect(":memory:")
    db.executescript(lexical.SCHEMA)
    lexical.add(db, [(0, "Budgettet blev vedtaget."), (1, "Medarbejdersiden gnsker en starre afklaring pa arbejdsgangene."), (2, "Intet.")])
    hits = lexical.search(db, "Hvad ønsker medarbejdersiden afklaret om arbejdsgange?", 3)
    assert hits[0][0] == 1 and all(score > 0 for _, score in hits)
    assert lexical.search(db, "og det", 3) == []
