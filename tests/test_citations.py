from __future__ import annotations

import pytest

from assistant.citations import check_citations
from assistant.records import Chunk, Hit


def _hits(n: int) -> list[Hit]:
    return [Hit(Chunk(f"c{i}", "d", "D", f"t{i}", 0, 1, 1, 1), 0.9, i) for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("text", "n_passages", "expected_text", "cited", "dropped"),
    [
        ("Svaret er 72 timer [1].", 3, "Svaret er 72 timer [1].", [1], 0),
        ("A [2]. B [1][2].", 3, "A [2]. B [1][2].", [2, 1], 0),
        ("A [1, 3].", 3, "A [1][3].", [1, 3], 0),
        ("A [1-3].", 3, "A [1][2][3].", [1, 2, 3], 0),
        ("A [7].", 3, "A.", [], 1),
        ("A [0] and [2].", 3, "A and [2].", [2], 1),
        ("A [2, 9].", 2, "A [2].", [2], 1),
        ("No markers at all.", 2, "No markers at all.", [], 0),
        ("Year [2015] is not a passage.", 3, "Year is not a passage.", [], 1),
    ],
)
def test_check_citations(text: str, n_passages: int, expected_text: str, cited: list[int], dropped: int) -> None:
    hits = _hits(n_passages)
    result = check_citations(text, hits)
    assert result.text == expected_text
    assert [c.n for c in result.citations] == cited
    assert [c.hit for c in result.citations] == [hits[n - 1] for n in cited]
    assert result.dropped == dropped


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Fristen er fastsat. [1] Den er også kort [2]. Resten uden kilde.", ["Fristen er fastsat. [1]", "Den er også kort [2].", "Resten uden kilde."]),
        ("[1] The decision was taken. [3] The rules change. Later.", ["[1] The decision was taken.", "[3] The rules change.", "Later."]),
        ("Aftalen gælder. [1][2] Derefter.", ["Aftalen gælder. [1][2]", "Derefter."]),
        ("Den træder i kraft pr. 1. januar 2016 [1]. Godt.", ["Den træder i kraft pr. 1. januar 2016 [1].", "Godt."]),
        ("Pga. OvergangsMED behandles sagen kl. 13 i HovedMED.", ["Pga. OvergangsMED behandles sagen kl. 13 i HovedMED."]),
        ("Kun én sætning", ["Kun én sætning"]),
    ],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    from assistant.citations import split_sentences

    assert split_sentences(text) == sentences


def test_uncited_sentences_get_the_best_passage_or_are_flagged() -> None:
    import numpy as np

    from assistant.citations import support_sentences

    hits = _hits(3)
    checked = check_citations("Fristen er 72 timer [1]. Retningslinjerne skærpes. Paris er hovedstad.", hits)
    asked: list[list[str]] = []

    def similarity(sentences: list[str]) -> np.ndarray:
        asked.append(sentences)
        return np.array([[0.70, 0.91, 0.60], [0.50, 0.55, 0.52]])

    result = support_sentences(checked, hits, similarity, threshold=0.8)
    assert asked == [["Retningslinjerne skærpes.", "Paris er hovedstad."]]
    assert result.text == "Fristen er 72 timer [1]. Retningslinjerne skærpes. [2] Paris er hovedstad."
    assert [(c.n, c.attached) for c in result.citations] == [(1, False), (2, True)]
    assert result.unsupported == ["Paris er hovedstad."]
