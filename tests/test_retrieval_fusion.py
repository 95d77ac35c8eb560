from __future__ import annotations

import pytest

from assistant.retrieval import reciprocal_rank_fusion


@pytest.mark.parametrize(
    ("rankings", "weights", "expected"),
    [
        ([[1, 2, 3], [3, 2, 1]], None, [1, 3, 2]),  # 1 and 3 tie (1/11 + 1/13) above 2 (2/12); ties keep first appearance
        ([[1, 2], [3, 2]], [1.0, 0.0], [1, 2, 3]),  # a zero weight follows the first ranking
        ([[1], [2]], [1.0, 2.0], [2, 1]),
        ([[], [5, 6]], None, [5, 6]),
    ],
)
def test_reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float] | None, expected: list[int]) -> None:
    assert reciprocal_rank_fusion(rankings, k=10, weights=weights) == expected


def test_best_sentences_keeps_the_relevant_ones_in_order(fake_embedder) -> None:  # noqa: ANN001
    from assistant.records import Chunk, Hit
    from assistant.retrieval import best_sentences

    text = (
        "Ad. 10 Meddelelser. Anette orienterede om mødet. Aftalen forventes at træde i kraft pr. 1. januar 2016. "
        "Kantinen holder lukket. Referatet blev godkendt."
    )
    hit = Hit(Chunk("d#1", "d", "D", text, 0, len(text), 1, 1), 0.9, 1)
    (kept,) = best_sentences("Hvornår træder aftalen i kraft?", [hit], fake_embedder, keep=2)
    assert "træde i kraft pr. 1. januar 2016." in kept  # not cut at "pr." or "1."
    assert "Kantinen" not in kept and len(kept) < len(text)
    assert best_sentences("x", [hit], fake_embedder, keep=0) == [" ".join(text.split())]
