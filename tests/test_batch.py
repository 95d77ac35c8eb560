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
    records = [r.to_record() for r in run_batch(assistant, read_questions(qfile), out)]
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert lines == records and len(lines) == 2
    first = lines[0]
    assert set(first) == {"id", "question", "evidence", "answer", "abstained", "citations", "unsupported", "case", "passages"}
    assert first["answer"] == "Inden 72 timer [1]." and first["abstained"] is False
    quote = "Vold og trusler skal politianmeldes inden 72 timer."
    assert first["citations"] == [{"n": 1, "passage_id": first["passages"][0]["id"], "attached": False, "quotes": [quote]}]
    p = first["passages"][0]
    assert set(p) == {"rank", "id", "doc", "title", "text", "score", "location"} and p["rank"] == 1
    assert p["location"]["line_start"] >= 1


def test_batch_output_quotes_the_evidence_first(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "Vold skal anmeldes inden 72 timer.", evidence_candidates=4)
    qfile = tmp_path / "q.txt"
    qfile.write_text("Hvornår skal vold og trusler politianmeldes?\n", "utf-8")
    out = tmp_path / "results.md"
    (result,) = run_batch(assistant, read_questions(qfile), out)
    record = result.to_record()
    quote = "Vold og trusler skal politianmeldes inden 72 timer."
    assert record["evidence"][0] == {"n": 1, "sentence": quote, "passage_id": record["passages"][0]["id"], "score": record["evidence"][0]["score"]}
    report = out.read_text("utf-8")
    assert report.index(f"> “{quote}” [1]") < report.index("Vold skal anmeldes inden 72 timer [1].")


def test_retrieve_only_loads_no_model(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "unused")
    qfile = tmp_path / "q.txt"
    qfile.write_text("budget\n", "utf-8")
    (result,) = run_batch(assistant, read_questions(qfile), tmp_path / "r.jsonl", retrieve_only=True, top_k=2)
    record = result.to_record()
    assert record["answer"] is None and record["citations"] == [] and len(record["passages"]) == 2
    assert generator.calls == []


def _questions(tmp_path: Path, text: str) -> list:  # noqa: ANN001
    qfile = tmp_path / "q.txt"
    qfile.write_text(text, "utf-8")
    return read_questions(qfile)


def test_interrupted_run_resumes_where_it_stopped(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "Inden 72 timer [1].")
    questions = _questions(tmp_path, "Hvornår skal vold politianmeldes?\nHvad med budgettet?\nHvem godkendte dagsordenen?\n")
    out = tmp_path / "r.jsonl"
    run = run_batch(assistant, questions, out)
    next(run)  # the run is interrupted after its first question
    run.close()
    resumed = list(run_batch(assistant, questions, out))
    assert [r.question.id for r in resumed] == ["2", "3"] and len(generator.calls) == 3
    assert [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()] == ["1", "2", "3"]
    assert list(run_batch(assistant, questions, out)) == []  # nothing left to do


def test_a_failing_question_is_recorded_and_retried(tmp_path: Path, tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "Inden 72 timer [1].")
    questions = _questions(tmp_path, "Hvornår skal vold politianmeldes?\nHvad med budgettet?\n")
    real_ask = assistant.ask

    def flaky(question: str, k=None):  # noqa: ANN001, ANN202
        if "budget" in question:
            raise RuntimeError("model crashed")
        return real_ask(question, k)

    monkeypatch.setattr(assistant, "ask", flaky)
    out = tmp_path / "r.jsonl"
    records = [r.to_record() for r in run_batch(assistant, questions, out)]
    assert records[0]["answer"] and records[1]["error"] == "RuntimeError: model crashed" and records[1]["answer"] is None
    monkeypatch.setattr(assistant, "ask", real_ask)
    assert [r.question.id for r in run_batch(assistant, questions, out)] == ["2"]


@pytest.mark.parametrize("suffix", [".csv", ".md"])
def test_csv_and_markdown_reports(tmp_path: Path, tiny_corpus: Path, suffix: str) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "Inden 72 timer [1].")
    out = tmp_path / f"report{suffix}"
    list(run_batch(assistant, _questions(tmp_path, "Hvornår skal vold politianmeldes?\n"), out))
    text = out.read_text("utf-8")
    if suffix == ".csv":
        import csv

        (row,) = list(csv.DictReader(text.splitlines()))
        assert row["answer"] == "Inden 72 timer [1]." and row["citations"] == "[1]"
        assert row["quotes"] == "[1] Vold og trusler skal politianmeldes inden 72 timer."
        assert "[1] HovedMED referat, 2015 — Ad. 2 Vold og trusler, lines" in row["sources"] and "(a.txt)" in row["sources"]
    else:
        assert "## 1. Hvornår skal vold politianmeldes?" in text and "**[1] HovedMED referat, 2015 — Ad. 2 Vold og trusler, lines" in text
        assert "> Vold og trusler skal politianmeldes inden 72 timer." in text
        assert "Supports the answer: “Vold og trusler skal politianmeldes inden 72 timer.”" in text


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".md"])
def test_every_output_carries_the_case_history(tmp_path: Path, case_corpus: Path, suffix: str) -> None:
    assistant, _ = _assistant(tmp_path, case_corpus, "Anlægsbevillingen blev godkendt [1].")
    out = tmp_path / f"report{suffix}"
    list(run_batch(assistant, _questions(tmp_path, "Hvad blev besluttet om daginstitutionen i Tune?\n"), out))
    text = out.read_text("utf-8")
    newest = "2024-03-21 · Byrådet · Byrådet godkendte Økonomiudvalgets indstilling."
    if suffix == ".jsonl":
        (record,) = [json.loads(line) for line in text.splitlines()]
        assert record["case"]["number"] == "24-000123" and [m["body"] for m in record["case"]["meetings"]][::2] == ["Byrådet", "Skole-, Børne- og Ungeudvalget"]
        assert record["case"]["meetings"][1] | {"doc": ""} == {
            "doc": "", "date": "2024-03-12T16:00:00+01:00", "body": "Økonomiudvalget", "title": "Ny daginstitution i Tune",
            "outcome": "Økonomiudvalget anbefaler overfor Byrådet, at indstillingen godkendes.", "kind": "recommended",
        }  # fmt: skip
    elif suffix == ".csv":
        import csv

        (row,) = list(csv.DictReader(text.splitlines()))
        assert row["case"].startswith(f"24-000123: {newest} | 2024-03-12 · Økonomiudvalget")
    else:
        assert "**Case 24-000123, newest meeting first:**" in text and f"- {newest} (items.jsonl:3)" in text


def test_unknown_output_format_is_refused(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "x")
    with pytest.raises(QuestionFileError, match="use .jsonl, .csv, .md"):
        list(run_batch(assistant, _questions(tmp_path, "q\n"), tmp_path / "out.xlsx"))


def test_a_journal_reads_back_into_the_same_records(tmp_path: Path, tiny_corpus: Path) -> None:
    """Reports are written from typed results read back from the journal: the round trip loses nothing."""
    from assistant.batch import BatchResult, read_journal

    assistant, _ = _assistant(tmp_path, tiny_corpus, "Inden 72 timer [1]. Budgettet blev vedtaget.")
    questions = _questions(tmp_path, "Hvornår skal vold politianmeldes?\nBudget?\n")
    out = tmp_path / "r.jsonl"
    written = [r.to_record() for r in run_batch(assistant, questions, out)]
    assert [r.to_record() for r in read_journal(out)] == written
    again = BatchResult.from_record(written[0])
    assert again.answer is not None and again.answer.citations[0].hit is again.passages[0]
