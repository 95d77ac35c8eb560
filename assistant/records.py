"""The typed records passed along the question→answer path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .danish import outcome_kind


@dataclass(frozen=True)
class Document:
    """One source document as read from disk, with what is known about it."""

    id: str  #: stable id: the file name (or record id for JSONL records)
    path: str  #: where it was read from
    title: str
    text: str
    sha256: str  #: hash of the source bytes, recorded in the manifest
    metadata: dict[str, str] = field(default_factory=dict)  #: municipality, body, date, kind, …
    record: bool = False  #: one agenda item from a structured source (JSONL), rather than a whole document
    pages: tuple[int, ...] = ()  #: for paged sources (PDF): the offset in ``text`` where each page starts, page 1 first


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: what is embedded, retrieved and cited."""

    id: str  #: "<doc id>#<ordinal>"
    doc_id: str
    doc_title: str
    text: str
    start: int  #: character offset of the passage in the document text
    end: int
    line_start: int  #: 1-based line numbers in the document
    line_end: int
    heading: str = ""  #: the agenda item the passage belongs to, if detected
    metadata: dict[str, str] = field(default_factory=dict)
    page_start: int = 0  #: 1-based pages of a paged source (PDF); 0 when the source has no pages
    page_end: int = 0

    @property
    def dated_title(self) -> str:
        """The document's title, with the meeting date where the title does not give it."""
        date = self.metadata.get("date", "")
        return self.doc_title if not date or date in self.doc_title else f"{self.doc_title}, {date}"

    @property
    def location(self) -> str:
        """Human-readable place of the passage: agenda item, and pages (PDF) or lines."""
        if self.page_start:
            where = f"pages {self.page_start}-{self.page_end}" if self.page_end != self.page_start else f"page {self.page_start}"
        else:
            where = f"lines {self.line_start}-{self.line_end}" if self.line_end != self.line_start else f"line {self.line_start}"
        return f"{self.heading}, {where}" if self.heading else where


    def to_record(self) -> dict[str, Any]:
        """Where the passage is, as written in batch output and read back by ``Chunk.from_record``."""
        return {
            "heading": self.heading,
            "line_start": self.line_start,
            "line_end": self.line_end,
            **({"page_start": self.page_start, "page_end": self.page_end} if self.page_start else {}),
            "start": self.start,
            "end": self.end,
            **self.metadata,
        }


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its similarity score and rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int
    row: int = -1  #: the passage's row in the index (its vector's id), -1 when unknown
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  #: the passage's stored vector

    def to_record(self) -> dict[str, Any]:
        """The passage as written in batch output."""
        c = self.chunk
        return {"rank": self.rank, "id": c.id, "doc": c.doc_id, "title": c.doc_title, "text": c.text, "score": round(self.score, 4), "location": c.to_record()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Hit:
        """A passage read back from batch output (what ``to_record`` wrote)."""
        loc = dict(record["location"])
        fields = {k: loc.pop(k, 0) for k in ("line_start", "line_end", "page_start", "page_end", "start", "end")}
        heading = str(loc.pop("heading", ""))
        chunk = Chunk(
            record["id"], record["doc"], record["title"], record["text"], fields["start"], fields["end"], fields["line_start"],
            fields["line_end"], heading, {k: str(v) for k, v in loc.items()}, fields["page_start"], fields["page_end"],
        )  # fmt: skip
        return cls(chunk, float(record.get("score", 0.0)), int(record["rank"]))


@dataclass(frozen=True)
class Citation:
    """A source the answer cites: number ``n`` as written in the answer text, and the passage it points to."""

    n: int
    hit: Hit
    attached: bool = False  #: added by the assistant (by similarity) where the model cited nothing
    quotes: tuple[str, ...] = ()  #: the passage's sentences that support the answer's sentences citing it, in order

    @property
    def line(self) -> str:
        """The citation as one line: number, document, place, file, and how it was attached."""
        c = self.hit.chunk
        return f"[{self.n}] {c.dated_title} — {c.location} ({c.doc_id})" + (" (attached by similarity)" if self.attached else "")


@dataclass
class Answer:
    """The result of asking one question."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[Hit]  #: every passage given to the model, numbered 1.. in this order
    abstained: bool
    dropped_citations: int = 0  #: [n] markers removed because they matched no passage
    unsupported: list[str] = field(default_factory=list)  #: sentences no passage supports (shown as such, never as sourced)
    unverified_citations: int = 0  #: [n] markers removed because passage n did not support their sentence
    seconds: float = 0.0
    evidence: tuple[Evidence, ...] = ()  #: the sentences of the minutes the answer is built on, quoted before it
    case: Case | None = None  #: the history of the first cited item's case, where it was handled at more than one meeting

    def to_record(self) -> dict[str, Any]:
        """The answer's part of a batch record: the evidence quoted, text, abstention, citations by passage id,
        unsupported sentences."""
        return {
            "evidence": [e.to_record() for e in self.evidence],
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [{"n": c.n, "passage_id": c.hit.chunk.id, "attached": c.attached, "quotes": list(c.quotes)} for c in self.citations],
            "unsupported": self.unsupported,
            "case": self.case.to_record() if self.case is not None else None,
        }

    def render(self) -> str:
        """The answer as plain text: the evidence quoted with its source, the text, the sentences no passage supports,
        then the sources, one a line, each with the sentences of it that support the answer."""
        lines = [e.line for e in self.evidence] + ([""] if self.evidence else [])
        lines += [self.text, *(f"  unsupported by the documents: {s}" for s in self.unsupported)]
        if self.citations:
            lines += ["", "Sources:"]
            quoted = {e.sentence for e in self.evidence}  # the evidence stands quoted above already
            for c in self.citations:
                lines += [c.line, *(f'    "{q}"' for q in c.quotes if q not in quoted)]
        if self.case is not None:
            lines += ["", *self.case.render()]
        return "\n".join(lines)

    @classmethod
    def from_record(cls, question: str, record: dict[str, Any], passages: list[Hit]) -> Answer:
        """An answer read back from a batch record, its citations pointing at ``passages`` (by passage id)."""
        by_id = {h.chunk.id: h for h in passages}
        evidence = tuple(
            Evidence(e["n"], e["sentence"], by_id[e["passage_id"]], float(e.get("score", 0.0))) for e in record.get("evidence", []) if e["passage_id"] in by_id
        )
        citations = [
            Citation(c["n"], by_id[c["passage_id"]], bool(c.get("attached")), tuple(c.get("quotes", ())))
            for c in record.get("citations", [])
            if c["passage_id"] in by_id
        ]
        return cls(
            question, record.get("answer") or "", citations, passages, bool(record.get("abstained")), unsupported=list(record.get("unsupported", [])),
            evidence=evidence, case=Case.from_record(record["case"]) if record.get("case") else None,
        )  # fmt: skip


@dataclass(frozen=True)
class QueryForm:
    """One wording of a question that retrieval searches with, and the weight of each channel's ranking for it."""

    text: str
    dense_weight: float  #: 0: not searched by embedding
    lexical_weight: float  #: 0: not searched by words
    kind: str = "question"  #: "question" (as asked), "translation" (by the answer model), "dictionary" (word by word), "hypothetical" (HyDE)


@dataclass(frozen=True)
class Query:
    """A question ready for retrieval: the language it is asked (and to be answered) in, the forms it is searched
    in (the question as asked first), and the bodies and meeting dates it names, which retrieval prefers."""

    question: str
    language: str  #: "da" or "en"
    forms: tuple[QueryForm, ...]
    prefer: Filter = field(default_factory=lambda: Filter())  #: what the question names: preferred, never required


@dataclass(frozen=True)
class Candidate:
    """What fusion knows of a retrieved passage before it is read: enough to tell repeats, agenda items, cases and
    sections apart, and the meeting's body and date."""

    row: int
    text_hash: str  #: equal hashes are the same text (a case repeated at several meetings)
    doc_id: str
    heading: str  #: "item title › Section" for an agenda-item record, the agenda item for a document
    body: str = ""
    date: str = ""
    case: str = ""  #: the case number, where the source gives one

    @property
    def section(self) -> str:
        """The section of an agenda-item record ("Beslutning", "Resume", …); "" for other passages."""
        _, sep, section = self.heading.rpartition(" › ")
        return section if sep else ""


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage that can answer a question on its own, as the index keeps it for the evidence ranking:
    its passage's row, its words (the lexical channel's terms) and its vector."""

    row: int  #: the row of the passage it stands in
    doc_id: str
    text: str
    terms: str = ""  #: space-separated index terms (``danish.terms`` of the text)
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Item:
    """An agenda item (or a whole document) retrieval found, scored on all its passages found, and the items of other
    meetings of its case it stands for (a case's text repeats at each meeting that handles it)."""

    doc_id: str
    score: float
    rank: int  #: 1 = best
    meetings: tuple[str, ...] = ()  #: the case's items found, this one first, then the others newest first
    case: str = ""  #: its case number, where the source gives one


@dataclass(frozen=True)
class Meeting:
    """One meeting's handling of a case: its agenda item, when, which body, and what it decided."""

    doc_id: str  #: the agenda item (document) at that meeting
    date: str  #: the meeting's date as the source gives it
    body: str  #: the committee or council
    title: str  #: the item's title at that meeting
    outcome: str = ""  #: the decision's first sentence ("Byrådet godkendte Økonomiudvalgets indstilling."), "" if none

    @classmethod
    def of(cls, doc_id: str, title: str, metadata: dict[str, str]) -> Meeting:
        """The meeting an item was handled at, from the item's metadata (its date, body and decision)."""
        return cls(doc_id, metadata.get("date", ""), metadata.get("body", ""), title, metadata.get("outcome", ""))

    @property
    def kind(self) -> str:
        """What was done: approved, recommended, referred, postponed, rejected, noted (``danish.outcome_kind``), or ""."""
        return outcome_kind(self.outcome)

    @property
    def day(self) -> str:
        """The meeting's calendar day, YYYY-MM-DD (the source's date without its time)."""
        return self.date[:10]

    @property
    def line(self) -> str:
        """The meeting as one line of a case's timeline: date · body · what it decided."""
        return " · ".join(part for part in (self.day, self.body, self.outcome or "(no decision recorded)") if part)

    def to_record(self) -> dict[str, str]:
        """The meeting as written in batch output and ``ask --json`` (read back by ``Case.from_record``)."""
        return {"doc": self.doc_id, "date": self.date, "body": self.body, "title": self.title, "outcome": self.outcome, "kind": self.kind}


@dataclass(frozen=True)
class Case:
    """A matter followed from meeting to meeting under one case number: every meeting that handled it, newest first."""

    number: str
    meetings: tuple[Meeting, ...]

    @property
    def latest_decision(self) -> Meeting | None:
        """The newest meeting that decided something on the case (a postponement counts: it is what stands now); where
        every meeting only took it for information, the newest of those."""
        decided = (m for m in self.meetings if m.kind and m.kind != "noted")
        return next(decided, next((m for m in self.meetings if m.outcome), None))

    def to_record(self) -> dict[str, Any]:
        """The case as written in batch output and ``ask --json``: its number and its meetings, newest first."""
        return {"number": self.number, "meetings": [m.to_record() for m in self.meetings]}

    def render(self) -> list[str]:
        """The case as plain-text lines: a heading, then one line a meeting, newest first, each naming its item."""
        return [f"Case {self.number}, newest meeting first:", *(f"  {m.line} ({m.doc_id})" for m in self.meetings)]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Case:
        """A case read back from what ``to_record`` wrote."""
        meetings = (Meeting(m["doc"], m.get("date", ""), m.get("body", ""), m.get("title", ""), m.get("outcome", "")) for m in record.get("meetings", []))
        return cls(str(record["number"]), tuple(meetings))


@dataclass(frozen=True)
class Found:
    """What retrieval hands on: the best passages (what is shown and cited), the best items, and every sentence of
    those items that can be evidence, each with the passage it stands in (``hits``, by row) and its item's rank."""

    passages: list[Hit]
    items: list[Item] = field(default_factory=list)
    sentences: list[tuple[Sentence, int]] = field(default_factory=list)  #: each sentence with its item's rank
    hits: dict[int, Hit] = field(default_factory=dict)  #: the passages the sentences stand in, by row


@dataclass(frozen=True)
class Evidence:
    """A sentence of a passage the answer is written from, ranked as the answer to the question: quoted first, before
    the model has read anything, then offered to the model to choose from."""

    n: int  #: the number of its passage in the Context (from 1), the citation it is shown with
    sentence: str
    hit: Hit
    score: float  #: the ranking: similarity to the question, words shared with it, the kind of answer it asks for
    similarity: float = 0.0  #: cosine similarity of the sentence to the question
    #: every passage of its agenda item that retrieval handed on (where the names and years asked about are looked
    #: for); empty: its own passage alone
    item: tuple[Hit, ...] = field(default=(), compare=False, repr=False)

    @property
    def line(self) -> str:
        """The quote as one line: the sentence, its citation, and the meeting, date and agenda item it stands in."""
        c = self.hit.chunk
        return f"“{self.sentence}” [{self.n}] — {c.dated_title}, {c.location}"

    def to_record(self) -> dict[str, Any]:
        """The evidence as written in batch output."""
        return {"n": self.n, "sentence": self.sentence, "passage_id": self.hit.chunk.id, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Context:
    """What the model is shown: the relevant passages (numbered from 1 in this order), the text shown of each, and
    their sentences ranked as the answer (best first), of which those scoring near the best may be quoted."""

    passages: list[Hit]
    texts: list[str]
    evidence: tuple[Evidence, ...] = ()
    quotes: tuple[Evidence, ...] = ()  #: the evidence scoring near the best (best first): a sentence far under it is on another matter


@dataclass(frozen=True)
class Filter:
    """What retrieval is narrowed to; an empty field does not narrow. Dates are ISO prefixes ("2024", "2024-06-25");
    a document dated only by year counts for every day of that year."""

    files: tuple[str, ...] = ()  #: source file names (a JSONL file counts as one)
    bodies: tuple[str, ...] = ()  #: committees / bodies, as in the documents' metadata
    date_from: str = ""
    date_to: str = ""

    @property
    def empty(self) -> bool:
        """True when nothing is narrowed."""
        return not (self.files or self.bodies or self.date_from or self.date_to)

    def admits(self, file: str, body: str, date: str) -> bool:
        """Whether a document with this file name, body and date passes."""
        if self.files and file not in self.files:
            return False
        if self.bodies and body not in self.bodies:
            return False
        if self.date_from or self.date_to:
            if not date:
                return False
            first, last = date_span(date)
            if self.date_from and last < date_span(self.date_from)[0]:
                return False
            if self.date_to and first > date_span(self.date_to)[1]:
                return False
        return True


def date_span(date: str) -> tuple[str, str]:
    """First and last day an ISO date prefix covers: "2024" → 2024-01-01..2024-12-31, "2024-06" → the month."""
    day = date[:10]
    if len(day) == 4:
        return f"{day}-01-01", f"{day}-12-31"
    if len(day) == 7:
        return f"{day}-01", f"{day}-31"
    return day, day


@dataclass(frozen=True)
class IndexBuild:
    """A complete index as an indexer hands it to a store to write: every document, its chunks, what was embedded of
    each (``texts``), the words the lexical channel indexes of each (``terms``), their hashes and vectors, and the
    manifest."""

    documents: list[Document]
    chunks: list[Chunk]
    texts: list[str]
    terms: list[str]  #: each chunk's lexical index terms, space-separated (``danish.terms`` of its text)
    hashes: list[str]
    vectors: np.ndarray  #: one row a chunk, float32, L2-normalised
    manifest: dict[str, Any]
    sentences: list[Sentence] = field(default_factory=list)  #: the chunks' evidence sentences, ``row`` their chunk's index
    sentence_hashes: list[str] = field(default_factory=list)
    sentence_vectors: np.ndarray | None = None  #: one row a sentence, float32, L2-normalised
