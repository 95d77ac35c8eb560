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
