from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.batch import QuestionFileError, read_questions, run_batch
from tests.test_qa import _assistant


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("q.txt", "Hvad blev besluttet?\n\n# a comment\nWhen?\n", [("1", "Hvad blev besluttet?", {}), ("2", "When?", {})]),
        ("q.jsonl", '{"id": "a", "question": "Hvad?", "expected": "x"}\n\n{"question": "When?"}\n', [("a", "Hvad?", {"expected": "x"}), ("3", "When?", {})]),
        ("q.csv", "id,question,topic\nq1,Hvad?,budget\n,When?,\n", [("q1", "Hvad?", {"topic": "budget"}), ("2", "When?", {"topic": ""})]),
    ],
)
def test_read_questions(tmp_path: Path, name: str, content: str, expected: list) -> None:  # noqa: ANN001
    path = tmp_path / name
    path.write_text(content, "utf-8")
    assert [(q.id, q.question, q.extra) for q in read_questions(path)] == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.jsonl", '{"text": "no question"}\n', 'needs a non-empty "question"'),
        ("q.jsonl", "{broken\n", "not valid JSON"),
        ("q.csv", "text\nHvad?\n", "'question' column"),
        ("q.txt", "\n\n", "contains no questions"),
        ("q.pdf", "x", "unsupported"),
    ],
)
def test_bad_question_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, "utf-8")
    with pytest.raises(QuestionFileError, match=message):
        read_questions(path)


def test_run_batch_writes_schema(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "Inden 72 timer [1].")
    qfile = tmp_path / "q.txt"
    qfile.write_text("Hvornår skal vold politianmeldes?\nHvad med budgettet?\n", "utf-8")
    out = tmp_path / "out" / "results.jsonl"
    records = list(run_batch(assistant, read_questions(qfile), out))
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert lines == records and len(lines) == 2
    first = lines[0]
    assert set(first) == {"id", "question", "answer", "abstained", "citations", "passages"}
    assert first["answer"] == "Inden 72 timer [1]." and first["abstained"] is False
    assert first["citations"] == [{"n": 1, "passage_id": first["passages"][0]["id"]}]
    p = first["passages"][0]
    assert set(p) == {"rank", "id", "doc", "title", "text", "score", "location"} and p["rank"] == 1
    assert p["location"]["line_start"] >= 1


def test_retrieve_only_loads_no_model(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "unused")
    qfile = tmp_path / "q.txt"
    qfile.write_text("budget\n", "utf-8")
    (record,) = run_batch(assistant, read_questions(qfile), tmp_path / "r.jsonl", retrieve_only=True, top_k=2)
    assert record["answer"] is None and record["citations"] == [] and len(record["passages"]) == 2
    assert generator.calls == []
