"""Split documents into passages along the agenda items of minutes.

Agenda items are the natural unit of minutes, so a document is first cut at item headings ("Ad. 3 …",
"Sag nr. 48", "4. Arbejdspladsvurdering …"); an item longer than ``chunk_size`` is then split with
langchain-text-splitters. Every chunk keeps its character offsets and line numbers in the source.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .records import Chunk, Document

# A heading line: "Ad. 3 Halvårsstatus", "Sag nr. 48", or "4. Arbejdspladsvurdering" (a number, then a capitalised
# word, so that "2. december" and list items like "1. at …" are not taken for items).
# Documents use one style; the first style found (in this order) is the one used, so that numbered lists inside
# "Sag nr." items are not taken for items.
_HEADING_STYLES = (
    re.compile(r"^[ \t]*Ad\.[ \t]*\d+[ \t]+\S.*$", re.MULTILINE),
    re.compile(r"^[ \t]*Sag nr\.[ \t]*\d+.*$", re.MULTILINE),
    re.compile(r"^[ \t]*Punkt[ \t]+\d+:[ \t]*\S.*$", re.MULTILINE),  # Aarhus' minutes (PDF): "Punkt 3: Bro mellem …"
    re.compile(r"^#{1,6}[ \t]+\S.*$", re.MULTILINE),  # Markdown, and HTML headings as ingest writes them
    re.compile(r"^[ \t]*\d{1,2}\.[ \t]+[A-ZÆØÅ][^\n]{3,}$", re.MULTILINE),
)
_MARKDOWN = _HEADING_STYLES[3]
# Sections of an agenda-item record (Greve's agenda system writes them inline: "Beslutning … Resume … Indstilling …").
_RECORD_SECTION = re.compile(
    r"(?<![\w-])(Beslutning|Fremstilling|Resume|Indstilling|Sagsbeskrivelse|Sagsfremstilling|Økonomiske konsekvenser|"
    r"Lovgrundlag|Kommunikation|Høring|Baggrund|Bilag)\s+(?=[A-ZÆØÅ0-9§])"
)
_SAG_NR = re.compile(r"^[ \t]*Sag nr\.", re.IGNORECASE)
_HEADING_MAX = 90
_MIN_PREAMBLE = 200
#: Bumped whenever splitting changes, so that indexes built by an older splitter are rebuilt.
CHUNKER_VERSION = 4


@dataclass(frozen=True)
class Section:
    """A stretch of a document under one heading (the first may have none)."""

    heading: str
    start: int
    end: int


def _short(line: str) -> str:
    """A heading as shown to people: one line, cut at a sentence end or ``_HEADING_MAX`` characters."""
    line = " ".join(line.split())
    # Cut at a colon or a sentence end (". " before a capital), not at abbreviations like "inkl." or "v.".
    # "Punkt 3: Bro …" keeps its title: the search starts after such a label.
    label = re.match(r"(Punkt\s+\d+:|Ad\.\s*\d+)\s*", line)
    skip = label.end() if label else 6
    cut = re.search(r":(\s|$)|(?<=[^\W\d]{5})\.\s+(?=[A-ZÆØÅ])", line[skip:])
    if cut:
        line = line[: cut.start() + skip]
    return line if len(line) <= _HEADING_MAX else line[: _HEADING_MAX - 1].rstrip() + "…"


def find_sections(text: str) -> list[Section]:
    """Cut ``text`` at agenda-item headings; returns sections covering the whole text in order."""
    starts: list[tuple[int, str]] = []
    style = next((p for p in _HEADING_STYLES if p.search(text)), _HEADING_STYLES[0])
    if style is _MARKDOWN:
        style = _markdown_items(text)
    for m in style.finditer(text):
        heading = m.group(0).strip().lstrip("#").strip()
        start = m.start()
        if _SAG_NR.match(heading):
            # Committee minutes put the item's title on the line(s) above "Sag nr. N": the item starts there.
            before = text[:start].rstrip("\n")
            title_start = before.rfind("\n") + 1
            title = before[title_start:].strip()
            if title and not any(p.match(title) for p in _HEADING_STYLES):
                heading, start = f"{title} ({heading})", title_start
        starts.append((start, _short(heading)))
    sections: list[Section] = []
    if starts and len(text[: starts[0][0]].strip()) < _MIN_PREAMBLE:
        # A bare preamble ("Referat", a date) is no passage of its own: it opens the first item.
        starts[0] = (0, starts[0][1])
    if not starts or starts[0][0] > 0:
        sections.append(Section("", 0, starts[0][0] if starts else len(text)))
    for i, (start, heading) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        if end > start:
            sections.append(Section(heading, start, end))
    return sections


def _markdown_items(text: str) -> re.Pattern[str]:
    """The Markdown heading level that marks agenda items: the highest level used more than once (a page has one
    "# Referat …" title, its items under "## …", and their sections under "### …")."""
    levels = [len(m.group(0)) - len(m.group(0).lstrip("#")) for m in _MARKDOWN.finditer(text)]
    level = next((n for n in range(1, 7) if levels.count(n) > 1), min(levels))
    return re.compile(rf"^#{{{level}}}[ \t]+\S.*$", re.MULTILINE)


def find_record_sections(record: Document) -> list[Section]:
    """Cut an agenda-item record at its section labels; each section's heading is "item title › label"."""
    text = record.text
    starts = [(m.start(), m.group(1)) for m in _RECORD_SECTION.finditer(text)]
    if not starts or starts[0][0] > 0:
        starts.insert(0, (0, ""))
    sections = []
    for i, (start, label) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        heading = f"{record.title} › {label}" if label else record.title
        sections.append(Section(_short(heading) if len(heading) > _HEADING_MAX else heading, start, end))
    return sections


class Chunker:
    """Turns Documents into Chunks; settings are stored, the splitter is built once."""

    def __init__(self, chunk_size: int = 1200, chunk_overlap: int = 150) -> None:
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=["\n\n", "\n", ". ", " ", ""],
            add_start_index=True,
            strip_whitespace=True,
        )

    def split(self, doc: Document) -> list[Chunk]:
        """The chunks of one document, in reading order."""
        text = doc.text
        newlines = [i for i, ch in enumerate(text) if ch == "\n"]

        def line_of(offset: int) -> int:
            return bisect.bisect_right(newlines, offset - 1) + 1

        def page_of(offset: int) -> int:
            return bisect.bisect_right(doc.pages, offset) if doc.pages else 0

        chunks: list[Chunk] = []
        for section in find_record_sections(doc) if doc.record else find_sections(text):
            body = text[section.start : section.end]
            if not body.strip():
                continue
            if len(body) <= self.chunk_size:
                lead = len(body) - len(body.lstrip())
                pieces = [(body.strip(), lead)]
            else:
                pieces = [(d.page_content, d.metadata["start_index"]) for d in self._splitter.create_documents([body])]
            for piece, offset in pieces:
                if not any(ch.isalpha() for ch in piece):
                    continue  # page furniture (numbers, dots) is no passage
                start = section.start + offset
                end = start + len(piece)
                chunks.append(
                    Chunk(
                        id=f"{doc.id}#{len(chunks) + 1}",
                        doc_id=doc.id,
                        doc_title=doc.title,
                        text=piece,
                        start=start,
                        end=end,
                        line_start=line_of(start),
                        line_end=line_of(max(start, end - 1)),
                        heading=section.heading,
                        metadata=doc.metadata,
                        page_start=page_of(start),
                        page_end=page_of(max(start, end - 1)),
                    )
                )
        return chunks

    def settings(self) -> dict[str, object]:
        """What the manifest records, so an index built otherwise is refused."""
        return {"chunker": "agenda-items+recursive", "version": CHUNKER_VERSION, "chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap}


def embedding_text(chunk: Chunk) -> str:
    """What is embedded (and indexed for words) for a chunk: its document's title and agenda item give the passage
    its context. The meeting date and committee are left out so that a case described alike at several meetings is
    embedded once."""
    head = chunk.heading if chunk.heading.startswith(chunk.doc_title) else " | ".join(p for p in (chunk.doc_title, chunk.heading) if p)
    return f"{head}\n{chunk.text}"
