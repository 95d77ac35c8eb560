"""Batch runs: read a file of questions, answer each, write one JSON object a line."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ingest import decode
from .qa import Assistant
from .records import Answer, Hit


class QuestionFileError(ValueError):
    """The questions file cannot be read; the message names the file and the fix."""


@dataclass(frozen=True)
class Question:
    """One question of a batch, with its id and any other fields its file gave (kept in the output)."""

    id: str
    question: str
    extra: dict[str, Any] = field(default_factory=dict)


def read_questions(path: Path) -> list[Question]:
    """Questions from ``.txt`` (one a line), ``.jsonl`` (``question`` and optional ``id``) or ``.csv`` (a ``question`` column)."""
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise QuestionFileError(f"{path}: cannot read ({exc.strerror})") from exc
    suffix = path.suffix.lower()
    questions: list[Question] = []
    if suffix == ".txt":
        lines = [line.strip() for line in text.splitlines()]
        questions = [Question(str(i), q) for i, q in enumerate((q for q in lines if q and not q.startswith("#")), 1)]
    elif suffix == ".jsonl":
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise QuestionFileError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or not str(obj.get("question", "")).strip():
                raise QuestionFileError(f"{path}:{lineno}: needs a non-empty \"question\" field")
            extra = {k: v for k, v in obj.items() if k not in ("id", "question")}
            questions.append(Question(str(obj.get("id", lineno)), str(obj["question"]).strip(), extra))
    elif suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise QuestionFileError(f"{path}: needs a header row with a 'question' column")
        for i, row in enumerate(reader, 1):
            if (row.get("question") or "").strip():
                extra = {k: v for k, v in row.items() if k not in ("id", "question") and k}
                questions.append(Question(str(row.get("id") or i), row["question"].strip(), extra))
    else:
        raise QuestionFileError(f"{path}: unsupported questions file; use .txt, .jsonl or .csv")
    if not questions:
        raise QuestionFileError(f"{path}: contains no questions")
    return questions


def passage_record(hit: Hit) -> dict[str, Any]:
    """A retrieved passage as written in batch output."""
    c = hit.chunk
    return {
        "rank": hit.rank,
        "id": c.id,
        "doc": c.doc_id,
        "title": c.doc_title,
        "text": c.text,
        "score": round(hit.score, 4),
        "location": {"heading": c.heading, "line_start": c.line_start, "line_end": c.line_end, "start": c.start, "end": c.end, **c.metadata},
    }


def result_record(q: Question, hits: list[Hit], answer: Answer | None) -> dict[str, Any]:
    """One line of batch output (``answer`` is None for retrieval-only runs)."""
    return {
        "id": q.id,
        "question": q.question,
        **q.extra,
        "answer": answer.text if answer else None,
        "abstained": answer.abstained if answer else None,
        "citations": [{"n": c.n, "passage_id": c.hit.chunk.id} for c in answer.citations] if answer else [],
        "passages": [passage_record(h) for h in hits],
    }


def run_batch(
    assistant: Assistant,
    questions: list[Question],
    output: Path,
    retrieve_only: bool = False,
    top_k: int | None = None,
    progress: Callable[[Question], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Answer each question and append its record to ``output`` (JSONL) as soon as it is done; yields the records."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        for q in questions:
            if retrieve_only:
                record = result_record(q, assistant.retrieve(q.question, top_k, translate=False), None)
            else:
                answer = assistant.ask(q.question, top_k)
                record = result_record(q, answer.passages, answer)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            if progress:
                progress(q)
            yield record
