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
