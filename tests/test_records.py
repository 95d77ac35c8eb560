"""The records' own behaviour: how a citation reads, and batch records that read back into the same records."""

from __future__ import annotations

import pytest

from assistant.records import Answer, Chunk, Citation, Hit


def _chunk(heading: str = "", meta: dict[str, str] | None = None, title: str = "Referat", lines: tuple[int, int] = (3, 9), pages: tuple[int, int] = (0, 0)) -> Chunk:
    return Chunk("d#1", "d.txt", title, "Tekst.", 10, 16, *lines, heading, meta or {}, *pages)


@pytest.mark.parametrize(
    ("chunk", "attached", "line"),
    [
        (_chunk("Ad. 2 Vold", {"date": "2015"}), False, "[1] Referat, 2015 — Ad. 2 Vold, lines 3-9 (d.txt)"),
        (_chunk("Ad. 2 Vold", {"date": "2015"}, title="Referat 2015"), False, "[1] Referat 2015 — Ad. 2 Vold, lines 3-9 (d.txt)"),
        (_chunk("Punkt 9: Bro", pages=(16, 16)), False, "[1] Referat — Punkt 9: Bro, page 16 (d.txt)"),
        (_chunk(pages=(4, 5)), True, "[1] Referat — pages 4-5 (d.txt) (attached by similarity)"),
        (_chunk(lines=(7, 7)), False, "[1] Referat — line 7 (d.txt)"),
    ],
)
def test_citation_line(chunk: Chunk, attached: bool, line: str) -> None:
    assert Citation(1, Hit(chunk, 0.9, 1), attached).line == line


def test_hit_and_answer_records_read_back() -> None:
    hits = [Hit(_chunk("Ad. 2 Vold", {"date": "2015", "body": "HovedMED"}, pages=(2, 3)), 0.91234, 1)]
    answer = Answer("Hvornår?", "Inden 72 timer [1].", [Citation(1, hits[0], attached=True)], hits, abstained=False, unsupported=["B."])
    back = [Hit.from_record(h.to_record()) for h in hits]
    assert back[0].chunk == hits[0].chunk and back[0].score == 0.9123 and back[0].rank == 1
    again = Answer.from_record("Hvornår?", answer.to_record(), back)
    assert again.to_record() == answer.to_record() and again.citations[0].hit is back[0]
