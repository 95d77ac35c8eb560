"""Split documents into passages along the agenda items of minutes.

Agenda items are the natural unit of minutes, so a document is first cut at item headings ("Ad. 3 …",
"Sag nr. 48", "4. Arbejdspladsvurdering …": the table ``HEADING_STYLES``), an agenda-item record at its sections
(``RECORD_SECTIONS``); an item longer than ``chunk_size`` is then split with langchain-text-splitters. Every chunk
keeps its character offsets and line numbers in the source.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .danish import outcome_kind, split_sentences
from .records import Chunk, Document
from .settings import Settings


@dataclass(frozen=True)
class HeadingStyle:
    """One way minutes mark their agenda items: a pattern for the heading line, with lines it must and must not take
    (the tests check every style against its own rows)."""

    name: str
    pattern: re.Pattern[str]
    examples: tuple[str, ...]  #: heading lines of this style
    not_headings: tuple[str, ...] = ()  #: lines that look alike but are no items
    title_above: bool = False  #: the item's title stands on the line above ("Meddelelser" / "Sag nr. 47")
    by_level: bool = False  #: Markdown: items are the headings of the highest level used more than once


def _line(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


#: The heading styles, in order of precedence: a document uses one, the first found, so that a numbered list inside
#: "Sag nr." items is not taken for items.
HEADING_STYLES: tuple[HeadingStyle, ...] = (
    HeadingStyle("ad", _line(r"^[ \t]*Ad\.[ \t]*\d+[ \t]+\S.*$"), ("Ad. 3 Halvårsstatus", " Ad. 4 Orientering vedr. tilbud"), ("Ad. hoc-udvalget",)),
    HeadingStyle("sag-nr", _line(r"^[ \t]*Sag nr\.[ \t]*\d+.*$"), ("Sag nr. 48",), ("Sagen er behandlet",), title_above=True),
    # Aarhus' minutes (PDF): "Punkt 3: Bro mellem …"
    HeadingStyle("punkt", _line(r"^[ \t]*Punkt[ \t]+\d+:[ \t]*\S.*$"), ("Punkt 3: Bro mellem by og land",), ("Punkt 3 blev udsat",)),
    # Markdown, and HTML headings as ingest writes them
    HeadingStyle("markdown", _line(r"^#{1,6}[ \t]+\S.*$"), ("## Punkt 2 Budget", "# Referat"), ("#hashtag",), by_level=True),
    # A number, then a capitalised word: "2. december" and list items like "1. at …" are not items.
    HeadingStyle(
        "numbered", _line(r"^[ \t]*\d{1,2}\.[ \t]+[A-ZÆØÅ][^\n]{3,}$"), ("4. Arbejdspladsvurdering efter flytninger", "1. Godkendelse af dagsorden"),
        ("2. december 2015 blev aflyst", "  1. at udvalget tager til efterretning", "2015. Budget"),
    ),  # fmt: skip
)
#: The section labels of an agenda-item record (Greve's agenda system writes them inline: "Beslutning … Resume …").
RECORD_SECTIONS = (
    "Beslutning", "Fremstilling", "Resume", "Indstilling", "Sagsbeskrivelse", "Sagsfremstilling", "Økonomiske konsekvenser",
    "Lovgrundlag", "Kommunikation", "Høring", "Baggrund", "Bilag",
)  # fmt: skip
#: Item labels that end in a colon or full stop but are no end of the heading: "Punkt 3: Bro …", "Ad. 2 …".
HEADING_LABELS = (r"Punkt\s+\d+:", r"Ad\.\s*\d+")
_LABEL = re.compile(rf"({'|'.join(HEADING_LABELS)})\s*")
_RECORD_SECTION = re.compile(rf"(?<![\w-])({'|'.join(RECORD_SECTIONS)})\s+(?=[A-ZÆØÅ0-9§])")
_HEADING_MAX = 90
_MIN_PREAMBLE = 200
#: Bumped whenever splitting changes, so that indexes built by an older splitter are rebuilt.
CHUNKER_VERSION = 5  # 5: a record's long title is shortened, its section labels kept


@dataclass(frozen=True)
class Section:
    """A stretch of a document under one heading (the first may have none)."""

    heading: str
    start: int
    end: int


def _short(line: str, most: int = _HEADING_MAX) -> str:
    """A heading as shown to people: one line, cut at a sentence end or ``most`` characters."""
    line = " ".join(line.split())
    # Cut at a colon or a sentence end (". " before a capital), not at abbreviations like "inkl." or "v.".
    # "Punkt 3: Bro …" keeps its title: the search starts after such a label.
    label = _LABEL.match(line)
    skip = label.end() if label else 6
    cut = re.search(r":(\s|$)|(?<=[^\W\d]{5})\.\s+(?=[A-ZÆØÅ])", line[skip:])
    if cut:
        line = line[: cut.start() + skip]
    return line if len(line) <= most else line[: most - 1].rstrip() + "…"


def find_sections(text: str) -> list[Section]:
    """Cut ``text`` at agenda-item headings; returns sections covering the whole text in order."""
    starts: list[tuple[int, str]] = []
    style = next((s for s in HEADING_STYLES if s.pattern.search(text)), HEADING_STYLES[0])
    pattern = _markdown_items(text, style.pattern) if style.by_level else style.pattern
    for m in pattern.finditer(text):
        heading = m.group(0).strip().lstrip("#").strip()
        start = m.start()
        if style.title_above:
            # The item's title stands on the line above its number ("Meddelelser" / "Sag nr. 47"): it starts there.
            before = text[:start].rstrip("\n")
            title_start = before.rfind("\n") + 1
            title = before[title_start:].strip()
            if title and not any(s.pattern.match(title) for s in HEADING_STYLES):
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


def _markdown_items(text: str, headings: re.Pattern[str]) -> re.Pattern[str]:
    """The Markdown heading level that marks agenda items: the highest level used more than once (a page has one
    "# Referat …" title, its items under "## …", and their sections under "### …")."""
    levels = [len(m.group(0)) - len(m.group(0).lstrip("#")) for m in headings.finditer(text)]
    level = next((n for n in range(1, 7) if levels.count(n) > 1), min(levels))
    return re.compile(rf"^#{{{level}}}[ \t]+\S.*$", re.MULTILINE)


def find_record_sections(record: Document) -> list[Section]:
    """Cut an agenda-item record at its section labels; each section's heading is "item title › label"."""
    text = record.text
    starts = [(m.start(), m.group(1)) for m in _RECORD_SECTION.finditer(text)]
    if not starts or starts[0][0] > 0:
        starts.insert(0, (0, ""))
    # A long title is shortened, the section label kept: "title › label" names the item and the section apart.
    longest = max((len(label) for _, label in starts), default=0)
    title = record.title if len(record.title) + len(" › ") + longest <= _HEADING_MAX else _short(record.title, _HEADING_MAX - longest - 3)
    sections = []
    for i, (start, label) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        sections.append(Section(f"{title} › {label}" if label else title, start, end))
    return sections


#: The record section whose first sentence is the meeting's outcome for the item.
DECISION_SECTION = "Beslutning"
_DECISION_MAX = 300
_ABSENT = re.compile(r"\s*(Afbud|Fraværende|Fravær)\s*:", re.IGNORECASE)  # who was away: no decision


def record_decision(record: Document) -> str:
    """What the meeting decided on an agenda-item record: the first sentence of its Beslutning section that says what was
    done ("Byrådet godkendte Økonomiudvalgets indstilling.", not who stood in for whom), else its first sentence that
    is no list of who was away; "" when there is none (an item not yet decided, a document that is no record). A long
    sentence is cut at a word."""
    for section in find_record_sections(record):
        if section.heading.endswith(f" › {DECISION_SECTION}"):
            body = record.text[section.start : section.end].strip().removeprefix(DECISION_SECTION).strip()
            sentences = split_sentences(body) if body else []
            said = [t for t in sentences if not _ABSENT.match(t)]
            first = next((t for t in said if outcome_kind(t)), said[0] if said else "")
            return first if len(first) <= _DECISION_MAX else first[:_DECISION_MAX].rsplit(" ", 1)[0] + " …"
    return ""


class Chunker:
    """Turns Documents into Chunks; settings are stored, the splitter is built once."""

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size,
            chunk_overlap=chunk_overlap,
            separators=["\n\n", "\n", ". ", " ", ""],
            add_start_index=True,
            strip_whitespace=True,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Chunker:
        """The chunker the settings describe."""
        return cls(settings.chunk_size, settings.chunk_overlap)

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
