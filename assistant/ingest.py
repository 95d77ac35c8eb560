"""Read documents from disk: plain text, Markdown and JSONL records.

A folder may hold a ``metadata.json`` mapping file names to facts about them (title, municipality, body, date,
kind); those facts travel with every chunk so that citations can name them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
RECORD_SUFFIXES = {".jsonl"}
METADATA_FILE = "metadata.json"

#: How JSONL record fields map onto a document: the text field, the title field, and fields kept as metadata.
JSONL_TEXT_FIELD = "text"
JSONL_TITLE_FIELD = "title"
JSONL_ID_FIELDS = ("_id", "id")
JSONL_METADATA_FIELDS = {"committee": "body", "meeting_date": "date", "case_number": "case_number", "municipality": "municipality"}


@dataclass(frozen=True)
class Problem:
    """A file (or record) that could not be read, and what to do about it."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def decode(data: bytes) -> str:
    """Decode bytes as UTF-8, falling back to cp1252 (older Danish Windows files); drop a BOM."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return text.removeprefix("\ufeff")


def jsonl_objects(path: Path, error: type[ValueError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSONL file; ``error`` names the line that is not a JSON object."""
    for lineno, line in enumerate(decode(path.read_bytes()).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise error(f"{path}:{lineno}: expected a JSON object")
        yield lineno, obj


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Every readable document file under the given files and folders, in a stable order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in TEXT_SUFFIXES | RECORD_SUFFIXES and child.name != "SOURCES.md":
                    yield child
        else:
            yield path


def _folder_metadata(folder: Path, cache: dict[Path, dict[str, dict[str, str]]]) -> dict[str, dict[str, str]]:
    if folder not in cache:
        meta_file = folder / METADATA_FILE
        try:
            cache[folder] = json.loads(meta_file.read_text("utf-8")) if meta_file.is_file() else {}
        except (OSError, json.JSONDecodeError):
            cache[folder] = {}
    return cache[folder]


def read_text_file(path: Path, metadata: dict[str, str]) -> Document:
    """One plain-text or Markdown file as a Document."""
    data = path.read_bytes()
    text = decode(data)
    if b"\x00" in data[:4096]:
        raise ValueError("looks binary (NUL bytes), not text; remove it or convert it to text")
    if not text.strip():
        raise ValueError("is empty; nothing to index")
    meta = {k: str(v) for k, v in metadata.items()}
    title = meta.pop("title", "") or path.stem.replace("-", " ").replace("_", " ")
    return Document(id=path.name, path=str(path), title=title, text=text, sha256=hashlib.sha256(data).hexdigest(), metadata=meta)


def read_jsonl_file(path: Path) -> tuple[list[Document], list[Problem]]:
    """Each line of a JSONL file as a Document (field mapping: see the module's ``JSONL_*`` constants)."""
    docs: list[Document] = []
    problems: list[Problem] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = json.loads(decode(raw))
            except json.JSONDecodeError as exc:
                problems.append(Problem(where, f"not valid JSON ({exc.msg}); fix or remove the line"))
                continue
            text = record.get(JSONL_TEXT_FIELD) if isinstance(record, dict) else None
            if not isinstance(text, str) or not text.strip():
                problems.append(Problem(where, f"has no '{JSONL_TEXT_FIELD}' field with text; skipped"))
                continue
            rid = next((str(record[f]) for f in JSONL_ID_FIELDS if record.get(f)), str(lineno))
            meta = {dest: str(record[src]) for src, dest in JSONL_METADATA_FIELDS.items() if record.get(src)}
            docs.append(
                Document(
                    id=f"{path.name}:{rid}",
                    path=str(path),
                    title=str(record.get(JSONL_TITLE_FIELD) or rid),
                    text=text,
                    sha256=hashlib.sha256(raw).hexdigest(),
                    metadata=meta,
                    record=True,
                )
            )
    return docs, problems


def load_documents(paths: list[Path]) -> tuple[list[Document], list[Problem]]:
    """Read every document under ``paths``. A file that cannot be read becomes a Problem; it never stops the run."""
    docs: list[Document] = []
    problems: list[Problem] = []
    meta_cache: dict[Path, dict[str, dict[str, str]]] = {}
    for path in iter_files(paths):
        try:
            if not path.exists():
                problems.append(Problem(str(path), "does not exist; check the path"))
            elif path.suffix.lower() in RECORD_SUFFIXES:
                found, bad = read_jsonl_file(path)
                docs.extend(found)
                problems.extend(bad)
            elif path.suffix.lower() in TEXT_SUFFIXES:
                docs.append(read_text_file(path, _folder_metadata(path.parent, meta_cache).get(path.name, {})))
            else:
                problems.append(Problem(str(path), f"unsupported file type '{path.suffix}'; use .txt, .md or .jsonl"))
        except (OSError, ValueError) as exc:
            problems.append(Problem(str(path), str(exc)))
    return docs, problems
