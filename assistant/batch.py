"""Batch runs: read a file of questions, answer each, write one JSON object a line."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ingest import decode, jsonl_objects
from .qa import Assistant
from .records import Answer, Case, Citation, Hit


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
        for lineno, obj in jsonl_objects(path, QuestionFileError):
            if not str(obj.get("question", "")).strip():
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


@dataclass(frozen=True)
class BatchResult:
    """One question's outcome in a batch: its passages, its answer (None for retrieval-only runs), or its error."""

    question: Question
    passages: list[Hit]
    answer: Answer | None = None
    error: str = ""

    def to_record(self) -> dict[str, Any]:
        """The result as one line of JSONL output."""
        q = self.question
        answer = self.answer.to_record() if self.answer else {"evidence": [], "answer": None, "abstained": None, "citations": [], "unsupported": []}
        record = {"id": q.id, "question": q.question, **q.extra, **answer, "passages": [h.to_record() for h in self.passages]}
        return {**record, "error": self.error} if self.error else record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> BatchResult:
        """A result read back from its JSONL line (a journal being resumed, or turned into a report)."""
        fixed = {"id", "question", "evidence", "answer", "abstained", "citations", "unsupported", "case", "passages", "error"}
        question = Question(str(record.get("id")), str(record.get("question", "")), {k: v for k, v in record.items() if k not in fixed})
        passages = [Hit.from_record(p) for p in record.get("passages", [])]
        answer = Answer.from_record(question.question, record, passages) if record.get("answer") is not None else None
        return cls(question, passages, answer, str(record.get("error", "")))


OUTPUT_FORMATS = {".jsonl": "JSON lines", ".csv": "CSV", ".md": "Markdown report"}


def journal_path(output: Path) -> Path:
    """Where records are appended as they are done: the output itself for JSONL, else a ``.jsonl`` beside it."""
    return output if output.suffix.lower() == ".jsonl" else output.with_name(output.name + ".jsonl")


def read_journal(journal: Path) -> list[BatchResult]:
    """The results of a journal, the last one per question id (a retried question replaces its failure)."""
    by_id: dict[str, BatchResult] = {}
    if journal.exists():
        for line in journal.read_text("utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption
            if isinstance(record, dict):
                result = BatchResult.from_record(record)
                by_id[result.question.id] = result
    return list(by_id.values())


def run_batch(
    assistant: Assistant,
    questions: list[Question],
    output: Path,
    retrieve_only: bool = False,
    top_k: int | None = None,
    progress: Callable[[Question], None] | None = None,
) -> Iterator[BatchResult]:
    """Answer each question not answered by an earlier run of the same output, appending its record as soon as it
    is done; yields the new results. A question that fails gets a record with ``error`` and the run goes on.
    Once all are done, a CSV or Markdown output is written from the records."""
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise QuestionFileError(f"{output}: unsupported output; use {', '.join(OUTPUT_FORMATS)}")
    # No index, or one built otherwise, fails every question alike: stop at once rather than write it on each row.
    assistant.warm_up(generation=False)
    output.parent.mkdir(parents=True, exist_ok=True)
    journal = journal_path(output)
    done = {r.question.id for r in read_journal(journal) if not r.error}  # failed ones are tried again
    with journal.open("a", encoding="utf-8") as out:
        for q in questions:
            if q.id in done:
                continue
            try:
                if retrieve_only:
                    result = BatchResult(q, assistant.retrieve(q.question, top_k, translate=False))
                else:
                    answer = assistant.ask(q.question, top_k)
                    result = BatchResult(q, answer.passages, answer)
            except Exception as exc:  # noqa: BLE001 - one failing question is reported, the run goes on
                result = BatchResult(q, [], error=f"{type(exc).__name__}: {exc}")
            out.write(json.dumps(result.to_record(), ensure_ascii=False) + "\n")
            out.flush()
            if progress:
                progress(q)
            yield result
    if journal != output:
        write_report(read_journal(journal), output)


def case_line(case: Case | None) -> str:
    """A case's timeline on one line (a CSV cell): its number, then each meeting newest first."""
    return f"{case.number}: " + " | ".join(m.line for m in case.meetings) if case is not None else ""


def write_report(results: list[BatchResult], output: Path) -> None:
    """Write results as CSV (one row a question, citations flattened) or as a Markdown report quoting the sources."""
    if output.suffix.lower() == ".csv":
        with output.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "question", "evidence", "answer", "abstained", "citations", "sources", "quotes", "case", "error"])
            for r in results:
                cited = r.answer.citations if r.answer else []
                writer.writerow([
                    r.question.id, r.question.question, " | ".join(e.line for e in r.answer.evidence) if r.answer else "",
                    r.answer.text if r.answer else "", r.answer.abstained if r.answer else None,
                    " ".join(f"[{c.n}]" for c in cited), " | ".join(c.line for c in cited),
                    " | ".join(f"[{c.n}] " + " ".join(c.quotes) for c in cited if c.quotes), case_line(r.answer.case if r.answer else None), r.error,
                ])  # fmt: skip
        return
    lines = ["# Batch answers", ""]
    for r in results:
        lines += [f"## {r.question.id}. {r.question.question}", ""]
        if r.error:
            lines += [f"**Failed:** {r.error}", ""]
            continue
        evidence = [f"> {e.line}" for e in r.answer.evidence] if r.answer else []
        lines += [*evidence, *([""] if evidence else []), r.answer.text if r.answer else "_(retrieval only: no answer written)_", ""]
        if r.answer and r.answer.case:
            lines += [f"**Case {r.answer.case.number}, newest meeting first:**", "", *(f"- {m.line} ({m.doc_id})" for m in r.answer.case.meetings), ""]
        shown = r.answer.citations if r.answer and r.answer.citations else [Citation(h.rank, h) for h in r.passages]
        for c in shown:
            # The sentences that support the answer first, so a claim can be checked at a glance; then the passage.
            support = [f"Supports the answer: {' '.join(f'“{q}”' for q in c.quotes)}", ""] if c.quotes else []
            quoted = "\n".join("> " + line for line in c.hit.chunk.text.splitlines() if line.strip())
            lines += [f"**{c.line}**", "", *support, quoted, ""]
    output.write_text("\n".join(lines), "utf-8")
