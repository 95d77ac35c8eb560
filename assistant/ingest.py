"""Read documents from disk: plain text, Markdown, PDF, DOCX, HTML and JSONL records.

A folder may hold a ``metadata.json`` mapping file names to facts about them (title, municipality, body, date,
kind); those facts travel with every chunk so that citations can name them. A file that cannot be read becomes a
Problem naming the file and what to do; it never stops the run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chunking import record_decision
from .records import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
HTML_SUFFIXES = {".html", ".htm"}
RECORD_SUFFIXES = {".jsonl"}
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES | HTML_SUFFIXES
SUPPORTED = DOCUMENT_SUFFIXES | RECORD_SUFFIXES
METADATA_FILE = "metadata.json"
#: Files in a folder that describe the corpus rather than belong to it.
NOT_DOCUMENTS = {METADATA_FILE, "SOURCES.md"}
#: Fewer extracted characters than this per page means the PDF has no usable text layer (a scan).
MIN_PDF_CHARS_PER_PAGE = 20

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


@dataclass(frozen=True)
class Extracted:
    """Text taken out of a file, before it becomes a Document."""

    text: str
    title: str = ""
    pages: tuple[int, ...] = ()


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode(data: bytes) -> str:
    """Decode bytes as text: a BOM decides (UTF-8/UTF-16); else UTF-8, and lines that are not UTF-8 as cp1252.

    Deciding line by line keeps a file that mixes encodings (a cp1252 paragraph pasted into a UTF-8 file) readable:
    each part comes out with its æ/ø/å intact instead of the whole file being mis-decoded.
    """
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    parts = []
    for line in data.splitlines(keepends=True):
        try:
            parts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(line.decode("cp1252", errors="replace"))
    return "".join(parts)


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
    """Every file under the given files and folders, in a stable order (hidden folders, system dot files and corpus
    notes left out)."""
    for path in paths:
        if path.is_dir() and not os.access(path, os.R_OK | os.X_OK):
            yield path  # reported by load_documents as unreadable
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                parts = child.relative_to(path).parts
                if not child.is_file() or child.name in NOT_DOCUMENTS or any(p.startswith(".") for p in parts[:-1]):
                    continue
                # Dot files (.DS_Store, .gitignore) are the system's, unless they are documents by their suffix.
                if not child.name.startswith(".") or child.suffix.lower() in SUPPORTED:
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


def extract_text(data: bytes) -> Extracted:
    """A plain-text or Markdown file's text; binary files are refused."""
    if b"\x00" in data[:4096] and not data.startswith(_UTF16_BOMS):
        raise ValueError("looks binary (NUL bytes), not text; remove it or convert it to text")
    return Extracted(decode(data))


def extract_pdf(data: bytes) -> Extracted:
    """A PDF's text layer, page by page (pypdf); a PDF without one is refused as needing OCR."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception:  # noqa: BLE001 - any failure means the same to the user
            raise ValueError("is password-protected; save an unprotected copy and index that") from None
    texts = [(page.extract_text() or "").strip() for page in reader.pages]
    if not texts:
        raise ValueError("has no pages; nothing to index")
    if sum(len(t) for t in texts) < MIN_PDF_CHARS_PER_PAGE * len(texts):
        raise ValueError(
            f"has no text layer ({len(texts)} page(s) of images, a scan?); it needs OCR first, "
            "e.g. `ocrmypdf -l dan in.pdf out.pdf`, then index the OCR'd copy"
        )
    starts, parts, offset = [], [], 0
    for t in texts:
        starts.append(offset)
        parts.append(t)
        offset += len(t) + 2
    title = ((reader.metadata.title if reader.metadata else None) or "").strip()
    if not title or title.startswith("Microsoft Word"):
        # Word's export writes "Microsoft Word - <file name>": no title. A short first line usually is one.
        first = " ".join(parts[0].splitlines()[0].split()) if parts[0] else ""
        title = first if 10 <= len(first) <= 80 else ""
    return Extracted("\n\n".join(parts), title, tuple(starts))


def extract_docx(data: bytes) -> Extracted:
    """A Word document's paragraphs and tables in reading order (python-docx); table rows become "a | b" lines."""
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = " ".join(cell.text.split())
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    lines.append(" | ".join(cells))
            lines.append("")
        else:
            lines.append(block.text)
    return Extracted("\n".join(lines).strip(), (document.core_properties.title or "").strip())


# HTML elements that are page furniture, not the document: scripts, menus, forms, dialogs.
_HTML_DROP_TAGS = ["script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form", "input", "select", "textarea", "iframe", "button"]
_HTML_DROP_CLASS = re.compile(r"(^|[-_])(modal|dropdown-menu|spinner|navbar|cookie|breadcrumb|sr-only|visually-hidden)($|[-_])|^btn$")
_HTML_BLOCKS = {"p", "div", "section", "article", "li", "tr", "table", "ul", "ol", "br", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt", "blockquote", "pre"}


def extract_html(data: bytes) -> Extracted:
    """An HTML page's readable text (BeautifulSoup + lxml), without scripts, menus, buttons or dialogs.

    Headings become Markdown-style lines ("## Title") so that agenda items are found; table cells of a row join
    on one line.
    """
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(data, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    root = soup.body or soup
    for tag in root.find_all(["button"]):
        # Collapsible agenda items put their heading inside a button: keep the heading, drop the button.
        if tag.find(re.compile(r"^h[1-6]$")):
            tag.unwrap()
    for tag in root.find_all(_HTML_DROP_TAGS):
        tag.decompose()
    for tag in root.find_all(True):
        if tag.decomposed:
            continue
        classes = tag.get("class") or []
        hidden = tag.get("aria-hidden") == "true" or tag.has_attr("hidden") or tag.get("role") in {"dialog", "menu", "navigation", "button"}
        if hidden or any(_HTML_DROP_CLASS.search(c) for c in classes):
            tag.decompose()

    out: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if child.__class__.__name__ in {"Comment", "Doctype", "Declaration", "ProcessingInstruction"}:
                    continue
                out.append(str(child))
            elif isinstance(child, Tag):
                name = child.name
                if name and re.fullmatch(r"h[1-6]", name):
                    heading = " ".join(child.get_text(" ").split())
                    if heading:
                        out.append(f"\n\n{'#' * int(name[1])} {heading}\n\n")
                    continue
                if name in {"td", "th"}:
                    out.append(" ")
                walk(child)
                if name in _HTML_BLOCKS:
                    out.append("\n")

    walk(root)
    lines = [" ".join(line.split()) for line in "".join(out).splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return Extracted(text, title)


#: The reader of each kind of file, by suffix.
EXTRACTORS: dict[str, Callable[[bytes], Extracted]] = {
    **{s: extract_text for s in TEXT_SUFFIXES},
    **{s: extract_pdf for s in PDF_SUFFIXES},
    **{s: extract_docx for s in DOCX_SUFFIXES},
    **{s: extract_html for s in HTML_SUFFIXES},
}
_KIND = {".pdf": "PDF", ".docx": "Word (.docx) document", ".html": "HTML", ".htm": "HTML"}


def read_document(path: Path, metadata: dict[str, str], max_bytes: int | None = None) -> Document:
    """One document file (text, Markdown, PDF, DOCX, HTML) as a Document; raises ValueError saying what to do."""
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ValueError(
            f"is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit for one document; split it, "
            "or raise ASSISTANT_MAX_DOCUMENT_MB"
        )
    data = path.read_bytes()
    suffix = path.suffix.lower()
    try:
        extracted = EXTRACTORS[suffix](data)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - parsers raise many kinds; each becomes one line for the user
        kind = _KIND.get(suffix, "text")
        raise ValueError(f"could not be read as {kind} ({type(exc).__name__}: {exc}); check that it opens, or re-save it") from None
    if not extracted.text.strip():
        raise ValueError("is empty (no text in it); nothing to index")
    meta = {k: str(v) for k, v in metadata.items()}
    title = meta.pop("title", "") or extracted.title or path.stem.replace("-", " ").replace("_", " ")
    return Document(
        id=path.name,
        path=str(path),
        title=title,
        text=extracted.text,
        sha256=hashlib.sha256(data).hexdigest(),
        metadata=meta,
        pages=extracted.pages,
    )


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
            doc = Document(f"{path.name}:{rid}", str(path), str(record.get(JSONL_TITLE_FIELD) or rid), text, hashlib.sha256(raw).hexdigest(), meta, record=True)
            # What the meeting decided, kept with the item: a case's history lists it for each meeting.
            if outcome := record_decision(doc):
                meta["outcome"] = outcome
            docs.append(doc)
    return docs, problems


_UNSAFE_NAME = re.compile(r"[^\w.() -]+")


def safe_name(name: str) -> str:
    """A file name that is safe to create in one folder: no folders ("../", "C:\\"), no control or shell characters,
    no leading dot, at most 120 characters, suffix kept. Raises ValueError when nothing usable is left."""
    base = re.split(r"[\\/]", name)[-1]
    base = _UNSAFE_NAME.sub("_", base).strip(" ._")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[: 120 - len(suffix) - 1].strip(" ._")
    if not stem:
        raise ValueError(f"'{name}' is not a usable file name; rename the file")
    return f"{stem}.{suffix.lower()}" if suffix else stem


def store_upload(source: Path, name: str, data_dir: Path) -> Path:
    """Copy an uploaded file into ``data_dir`` under a sanitised form of ``name``; only supported kinds are taken.

    A file with the same name but other content is kept beside it as "name (2).ext"; the same content is stored once.
    """
    target_name = safe_name(name)
    suffix = Path(target_name).suffix.lower()
    if suffix not in SUPPORTED:
        raise ValueError(f"'{name}': unsupported file type '{suffix or target_name}'; upload {', '.join(sorted(SUPPORTED))}")
    data_dir.mkdir(parents=True, exist_ok=True)
    data = source.read_bytes()
    target = data_dir / target_name
    n = 2
    while target.exists() and target.read_bytes() != data:
        target = data_dir / f"{Path(target_name).stem} ({n}){suffix}"
        n += 1
    if not target.resolve().is_relative_to(data_dir.resolve()):
        raise ValueError(f"'{name}' would be stored outside {data_dir}; rename the file")
    partial = target.with_name(f".{target.name}.part")
    partial.write_bytes(data)
    partial.replace(target)  # whole files only: an indexer never sees half an upload
    return target


def load_documents(paths: list[Path], max_bytes: int | None = None) -> tuple[list[Document], list[Problem]]:
    """Read every document under ``paths``. A file that cannot be read becomes a Problem; it never stops the run.

    ``max_bytes`` caps the size of one document file (JSONL record files are read record by record, uncapped).
    """
    docs: list[Document] = []
    problems: list[Problem] = []
    meta_cache: dict[Path, dict[str, dict[str, str]]] = {}
    for path in iter_files(paths):
        suffix = path.suffix.lower()
        try:
            if not path.exists():
                problems.append(Problem(str(path), "does not exist; check the path"))
            elif path.is_dir():
                problems.append(Problem(str(path), "folder cannot be read (permission denied); give your user read access to it"))
            elif suffix in RECORD_SUFFIXES:
                found, bad = read_jsonl_file(path)
                docs.extend(found)
                problems.extend(bad)
            elif suffix in DOCUMENT_SUFFIXES:
                docs.append(read_document(path, _folder_metadata(path.parent, meta_cache).get(path.name, {}), max_bytes))
            else:
                kinds = ", ".join(sorted(SUPPORTED))
                problems.append(Problem(str(path), f"unsupported file type '{suffix or path.name}'; convert it to one of {kinds}"))
        except PermissionError:
            problems.append(Problem(str(path), "cannot be read (permission denied); give your user read access to it"))
        except (OSError, ValueError) as exc:
            problems.append(Problem(str(path), str(exc)))
    return docs, problems
