from __future__ import annotations

import pytest

from assistant.chunking import HEADING_STYLES, RECORD_SECTIONS, Chunker, HeadingStyle, embedding_text, find_record_sections, find_sections, record_decision
from assistant.records import Document
from tests.conftest import CHUNKER


def _doc(text: str, **meta: str) -> Document:
    return Document(id="d.txt", path="d.txt", title="Doc", text=text, sha256="x", metadata=meta)


@pytest.mark.parametrize(
    ("style", "line", "heading"),
    [(s, line, True) for s in HEADING_STYLES for line in s.examples] + [(s, line, False) for s in HEADING_STYLES for line in s.not_headings],
    ids=lambda v: v.name if isinstance(v, HeadingStyle) else None,
)
def test_every_heading_style_takes_its_examples_and_not_its_look_alikes(style: HeadingStyle, line: str, heading: bool) -> None:
    assert bool(style.pattern.fullmatch(line)) is heading


@pytest.mark.parametrize("label", RECORD_SECTIONS)
def test_every_record_section_label_cuts_a_record(label: str) -> None:
    record = Document("g.jsonl:1", "g.jsonl", "Budget 2026", f"Indledning. {label} Udvalget godkendte budgettet.", "x", record=True)
    assert [s.heading for s in find_record_sections(record)] == ["Budget 2026", f"Budget 2026 › {label}"]


@pytest.mark.parametrize(
    ("text", "headings"),
    [
        ("Ad. 1 Godkendelse af dagsorden\nOK\nAd. 2 Arbejdsmiljø – fast punkt\nTekst", ["Ad. 1 Godkendelse af dagsorden", "Ad. 2 Arbejdsmiljø – fast punkt"]),
        (" Ad. 4 Orientering vedr. tilbud\nTekst", ["Ad. 4 Orientering vedr. tilbud"]),
        ("Meddelelser\nSag nr. 47\n\nIngen\nPejlemærker\nSag nr. 49\nTekst", ["Meddelelser (Sag nr. 47)", "Pejlemærker (Sag nr. 49)"]),
        ("1. Godkendelse af dagsorden\nGodkendt\n4. Arbejdspladsvurdering efter flytninger\nTekst", ["1. Godkendelse af dagsorden", "4. Arbejdspladsvurdering efter flytninger"]),
        # dates and lower-case list items are not agenda items
        ("1. Budget\nMødet den\n2. december 2015 blev aflyst\n  1. at udvalget tager til efterretning", ["1. Budget"]),
        # a numbered list inside a "Sag nr." item is not an item of its own
        ("Sagen\nSag nr. 48\n1. Vi møder borgerne med tillid\n2. Vi tror på uddannelse", ["Sagen (Sag nr. 48)"]),
        # headings are cut at a sentence end, not at abbreviations
        ("5. Orientering v. Katrine Nissen (15 min.): Sammenlægning af centre", ["5. Orientering v. Katrine Nissen (15 min.)"]),
        ("Ingen overskrifter her.\nKun tekst.", [""]),
    ],
)
def test_find_sections_headings(text: str, headings: list[str]) -> None:
    assert [s.heading for s in find_sections(text)] == headings


def test_sections_cover_the_text_in_order() -> None:
    text = "Referat\n\nAd. 1 A\nx\nAd. 2 B\ny\n"
    sections = find_sections(text)
    assert sections[0].start == 0 and sections[-1].end == len(text)
    assert all(a.end == b.start for a, b in zip(sections, sections[1:]))


def test_short_preamble_joins_first_item() -> None:
    assert find_sections("Referat\n\nAd. 1 Godkendelse\nOK")[0].heading == "Ad. 1 Godkendelse"


def test_chunks_keep_offsets_lines_and_context() -> None:
    body = " ".join(f"Sætning nummer {i} om budgettet." for i in range(200))
    text = "Referat\n\nAd. 1 Godkendelse\nGodkendt.\n\nAd. 2 Budget\n" + body + "\n"
    chunks = Chunker(400, 50).split(_doc(text, date="2015"))
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.line_start == text.count("\n", 0, c.start) + 1
        assert len(c.text) <= 400
    assert chunks[0].heading == "Ad. 1 Godkendelse" and chunks[-1].heading == "Ad. 2 Budget"
    assert [c.id for c in chunks] == [f"d.txt#{i}" for i in range(1, len(chunks) + 1)]
    assert embedding_text(chunks[-1]).startswith("Doc | Ad. 2 Budget\n")


def test_every_seed_passage_is_found_in_its_document(tiny_corpus) -> None:  # noqa: ANN001
    from assistant.ingest import load_documents
    from assistant.settings import Settings

    docs, problems = load_documents([Settings().seeds_dir])
    assert len(docs) == 5 and not problems
    chunker = CHUNKER
    for doc in docs:
        for c in chunker.split(doc):
            assert doc.text[c.start : c.end] == c.text


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("Beslutning Godkendt. Resume Der bygges en skole.", "Godkendt."),
        ("Beslutning Afbud: Ole Hansen. Byrådet godkendte indstillingen. Fremstilling Sagsprocedure Byrådet.", "Byrådet godkendte indstillingen."),
        ("Beslutning Bjarke Abel deltog som stedfortræder. Anbefales. Resume …", "Anbefales."),
        ("Beslutning Afbud: Ole Hansen Resume Der bygges en skole.", ""),  # who was away is no decision
        ("Resume Der bygges en skole. Indstilling Administrationen indstiller, at det godkendes.", ""),  # not decided yet
    ],
)
def test_record_decision(text: str, decision: str) -> None:
    assert record_decision(Document("x", "x.jsonl", "Skole", text, "0", record=True)) == decision
