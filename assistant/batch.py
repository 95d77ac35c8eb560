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
        "location": {
            "heading": c.heading,
            "line_start": c.line_start,
            "line_end": c.line_end,
            **({"page_start": c.page_start, "page_end": c.page_end} if c.page_start else {}),
            "start": c.start,
            "end": c.end,
            **c.metadata,
        },
    }


def result_record(q: Question, hits: list[Hit], answer: Answer | None) -> dict[str, Any]:
    """One line of batch output (``answer`` is None for retrieval-only runs)."""
    return {
        "id": q.id,
        "question": q.question,
        **q.extra,
        "answer": answer.text if answer else None,
        "abstained": answer.abstained if answer else None,
        "citations": [{"n": c.n, "passage_id": c.hit.chunk.id, "attached": c.attached} for c in answer.citations] if answer else [],
        "unsupported": answer.unsupported if answer else [],
        "passages": [passage_record(h) for h in hits],
    }


OUTPUT_FORMATS = {".jsonl": "JSON lines", ".csv": "CSV", ".md": "Markdown report"}


def journal_path(output: Path) -> Path:
    """Where records are appended as they are done: the output itself for JSONL, else a ``.jsonl`` beside it."""
    return output if output.suffix.lower() == ".jsonl" else output.with_name(output.name + ".jsonl")


def read_records(journal: Path) -> list[dict[str, Any]]:
    """The records of a journal, the last one per id (a retried question replaces its failure)."""
    by_id: dict[str, dict[str, Any]] = {}
    if journal.exists():
        for line in journal.read_text("utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interruption
            if isinstance(record, dict):
                by_id[str(record.get("id"))] = record
    return list(by_id.values())


def run_batch(
    assistant: Assistant,
    questions: list[Question],
    output: Path,
    retrieve_only: bool = False,
    top_k: int | None = None,
    progress: Callable[[Question], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Answer each question not answered by an earlier run of the same output, appending its record as soon as it
    is done; yields the new records. A question that fails gets a record with ``error`` and the run goes on.
    Once all are done, a CSV or Markdown output is written from the records."""
    if output.suffix.lower() not in OUTPUT_FORMATS:
        raise QuestionFileError(f"{output}: unsupported output; use {', '.join(OUTPUT_FORMATS)}")
    output.parent.mkdir(parents=True, exist_ok=True)
    journal = journal_path(output)
    done = {str(r["id"]) for r in read_records(journal) if not r.get("error")}  # failed ones are tried again
    with journal.open("a", encoding="utf-8") as out:
        for q in questions:
            if q.id in done:
                continue
            try:
                if retrieve_only:
                    record = result_record(q, assistant.retrieve(q.question, top_k, translate=False), None)
                else:
                    answer = assistant.ask(q.question, top_k)
                    record = result_record(q, answer.passages, answer)
            except Exception as exc:  # noqa: BLE001 - one failing question is reported, the run goes on
                record = {**result_record(q, [], None), "error": f"{type(exc).__name__}: {exc}"}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            if progress:
                progress(q)
            yield record
    if journal != output:
        write_report(read_records(journal), output)


def write_report(records: list[dict[str, Any]], output: Path) -> None:
    """Write records as CSV (one row a question, citations flattened) or as a Markdown report quoting the sources."""
    if output.suffix.lower() == ".csv":
        with output.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "question", "answer", "abstained", "citations", "sources", "error"])
            for r in records:
                cited = _cited_passages(r)
                writer.writerow([
                    r["id"], r["question"], r.get("answer") or "", r.get("abstained"),
                    " ".join(f"[{n}]" for n, _ in cited),
                    " | ".join(f"[{n}] {p['title']} ({p['doc']}, {_where(p)})" for n, p in cited),
                    r.get("error", ""),
                ])  # fmt: skip
        return
    lines = ["# Batch answers", ""]
    for r in records:
        lines += [f"## {r['id']}. {r['question']}", ""]
        if r.get("error"):
            lines += [f"**Failed:** {r['error']}", ""]
            continue
        lines += [r.get("answer") or "_(retrieval only: no answer written)_", ""]
        for n, p in _cited_passages(r) or [(p["rank"], p) for p in r["passages"]]:
            quoted = "\n".join("> " + line for line in p["text"].splitlines() if line.strip())
            lines += [f"**[{n}] {p['title']}** — {p['doc']}, {_where(p)}", "", quoted, ""]
    output.write_text("\n".join(lines), "utf-8")


def _cited_passages(record: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    by_id = {p["id"]: p for p in record.get("passages", [])}
    return [(c["n"], by_id[c["passage_id"]]) for c in record.get("citations", []) if c["passage_id"] in by_id]


def _where(passage: dict[str, Any]) -> str:
    loc = passage["location"]
    if loc.get("page_start"):
        lines = f"page {loc['page_start']}" if loc["page_start"] == loc["page_end"] else f"pages {loc['page_start']}-{loc['page_end']}"
    else:
        lines = f"lines {loc['line_start']}-{loc['line_end']}"
    return ", ".join(p for p in (loc.get("date", ""), loc.get("heading", ""), lines) if p)
