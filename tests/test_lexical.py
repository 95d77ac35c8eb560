from __future__ import annotations

import sqlite3

import pytest

from assistant import lexical


@pytest.mark.parametrize(
    ("clean", "ocr"),
    [
        ("ønsker", "gnsker"),  # ø read as g
        ("drøftelse", "draftelse"),  # ø read as a
        ("efterfølgende", "efterfelgende"),  # ø read as e
        ("afsættes", "afsaettes"),  # æ read as ae
        ("spørger", "spgrger"),
        ("undersøgelser", "undersggelser"),
        ("arbejdsmiljø", "arbejdsmiljg"),
        ("behandlet", "be-\nhandlet"),  # a line-end hyphen
    ],
)
def test_ocr_misreadings_share_a_term(clean: str, ocr: str) -> None:
    assert set(lexical.terms(clean)) & set(lexical.terms(ocr))


@pytest.mark.parametrize(("a", "b"), [("politianmeldelse", "politianmeldelser"), ("retningslinjer", "retningslinjerne")])
def test_inflections_share_a_stem(a: str, b: str) -> None:
    assert lexical.terms(a)[0] == lexical.terms(b)[0]


def test_stopwords_and_ocr_pa_are_dropped() -> None:
    assert lexical.terms("på pa og det") == []


def test_bm25_search_ranks_matching_rows_first() -> None:
    db = sqlite3.connect(":memory:")
    db.executescript(lexical.SCHEMA)
    lexical.add(db, [(0, "Budgettet blev vedtaget."), (1, "Medarbejdersiden gnsker en starre afklaring pa arbejdsgangene."), (2, "Intet.")])
    hits = lexical.search(db, "Hvad ønsker medarbejdersiden afklaret om arbejdsgange?", 3)
    assert hits[0][0] == 1 and all(score > 0 for _, score in hits)
    assert lexical.search(db, "og det", 3) == []
