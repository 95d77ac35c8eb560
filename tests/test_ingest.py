from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.ingest import decode, load_documents, safe_name, store_upload
from assistant.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
AARHUS = SHARED / "corpora" / "aarhus-byraad"
needs_aarhus = pytest.mark.skipif(not AARHUS.is_dir(), reason=f"{AARHUS} is absent (the real Aarhus PDFs and HTML live there)")


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Møde på rådhuset".encode("utf-8"), "Møde på rådhuset"),
        ("Møde på rådhuset".encode("cp1252"), "Møde på rådhuset"),
        ("\ufeffÆble".encode("utf-8"), "Æble"),
        ("Referat for mødet".encode("utf-16"), "Referat for mødet"),
        # a cp1252 line pasted into a UTF-8 file: each line keeps its æ/ø/å
        ("Første linje på dansk\n".encode("utf-8") + "Anden linje: særlig høring\n".encode("cp1252"), "Første linje på dansk\nAnden linje: særlig høring\n"),
        ("Ærø, Ølstykke og Åbenrå".encode("latin-1"), "Ærø, Ølstykke og Åbenrå"),
    ],
)
def test_decode(data: bytes, text: str) -> None:
    assert decode(data) == text


def test_folder_with_metadata(tiny_corpus: Path) -> None:
    docs, problems = load_documents([tiny_corpus])
    assert not problems
    by_id = {d.id: d for d in docs}
    assert set(by_id) == {"a.txt", "b.txt"}
    assert by_id["a.txt"].title == "HovedMED referat" and by_id["a.txt"].metadata == {"date": "2015"}
    assert by_id["b.txt"].title == "b"


def test_bad_files_are_reported_and_good_ones_kept(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Et referat.", "utf-8")
    (tmp_path / "empty.txt").write_text("", "utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    docs, problems = load_documents([tmp_path, tmp_path / "missing.txt"])
    assert [d.id for d in docs] == ["good.txt"]
    reasons = {Path(p.path).name: p.reason for p in problems}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert reasons["missing.txt"] == "does not exist; check the path"


def test_jsonl_records(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    rows = [
        {"_id": "x1", "title": "Budget 2024", "committee": "Økonomiudvalget", "meeting_date": "2023-05-02", "case_number": "7", "text": "Beslutning: godkendt."},
        {"_id": "x2", "title": "Tom", "text": ""},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n", "utf-8")
    docs, problems = load_documents([path])
    assert [d.id for d in docs] == ["items.jsonl:x1"]
    assert docs[0].title == "Budget 2024"
    assert docs[0].metadata == {"body": "Økonomiudvalget", "date": "2023-05-02", "case_number": "7"}
    assert len(problems) == 2 and {p.path for p in problems} == {f"{path}:2", f"{path}:3"}


GREVE = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "greve" / "agenda_items.jsonl"


@pytest.mark.skipif(not GREVE.exists(), reason=f"the Greve corpus is not at {GREVE} (../shared is absent)")
def test_real_greve_records_ingest_and_chunk_by_section() -> None:
    from assistant.chunking import Chunker

    docs, problems = load_documents([GREVE])
    assert len(docs) == 5549 and not problems
    doc = next(d for d in docs if d.title.startswith("Opfølgning på energibesparelser"))
    assert doc.record and doc.metadata["body"] == "Økonomiudvalget" and doc.metadata["date"].startswith("2023-11-16")
    assert doc.metadata["case_number"] == "22-011409"
    chunks = Chunker.from_settings(Settings()).split(doc)
    headings = [c.heading for c in chunks]
    assert headings[0] == f"{doc.title} › Beslutning" and any(h.endswith("› Indstilling") for h in headings)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)


@pytest.mark.skipif(not GREVE.exists(), reason=f"the Greve corpus is not at {GREVE} (../shared is absent)")
def test_thirty_random_greve_cases_read_as_their_meetings_in_the_jsonl() -> None:
    """Each case's history (dates, bodies, decisions, newest first) against the JSONL read here on its own; the agenda's
    approval, at many meetings under one number, is no case."""
    import random
    import re

    from assistant.index import case_index, case_record

    docs, _ = load_documents([GREVE])
    cases = case_index({d.id: (d.title, d.metadata) for d in docs})
    raw: dict[str, list[dict[str, str]]] = {}
    for line in GREVE.read_text("utf-8").splitlines():
        record = json.loads(line)
        raw.setdefault(record["case_number"], []).append(record)
    several = sorted(number for number in cases if len(raw[number]) > 1)
    assert len(several) > 700
    for number in random.Random(31).sample(several, 30):
        case = case_record(number, cases[number], {d.id: (d.title, d.metadata) for d in docs if d.metadata.get("case_number") == number})
        records = sorted(raw[number], key=lambda r: r["meeting_date"], reverse=True)
        assert [(m.date, m.body) for m in case.meetings] == [(r["meeting_date"], r["committee"]) for r in records], number
        for meeting, record in zip(case.meetings, records):
            decided = re.search(r"Beslutning\s+(.*?)(?:\s+(?:Fremstilling|Resume|Indstilling|Sagsbeskrivelse)\s|$)", record["text"], re.DOTALL)
            if meeting.outcome:  # the first sentence saying what the meeting did, taken from its decision
                assert decided and meeting.outcome.removesuffix(" …") in " ".join(decided.group(1).split()), (number, meeting.outcome)
            else:
                assert not decided or decided.group(1).startswith(("Afbud", "Fravær")), (number, record["text"][:200])
    agenda = next(d for d in docs if d.title == "Godkendelse af dagsorden")
    assert agenda.metadata["case_number"] not in cases


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("referat.pdf", "referat.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\Windows\\evil.docx", "evil.docx"),
        ("/abs/path/Møde 3 (udkast).PDF", "Møde 3 (udkast).pdf"),
        (".hidden.html", "hidden.html"),
        ("rm -rf $(x);.txt", "rm -rf _(x).txt"),
        ("a\x00b\nc.md", "a_b_c.md"),
    ],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


@pytest.mark.parametrize("name", ["..", "../", "...", "/"])
def test_safe_name_refuses_names_with_nothing_left(name: str) -> None:
    with pytest.raises(ValueError, match="rename"):
        safe_name(name)


def test_store_upload_stays_in_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    src = tmp_path / "upload.txt"
    src.write_text("Referat", "utf-8")
    stored = store_upload(src, "../../outside.txt", data)
    assert stored == data / "outside.txt" and not (tmp_path / "outside.txt").exists()
    assert store_upload(src, "outside.txt", data) == stored  # same content: stored once
    other = tmp_path / "other.txt"
    other.write_text("Andet referat", "utf-8")
    assert store_upload(other, "outside.txt", data).name == "outside (2).txt"  # nothing overwritten
    with pytest.raises(ValueError, match="unsupported file type"):
        store_upload(src, "program.exe", data)
    assert sorted(p.name for p in data.iterdir()) == ["outside (2).txt", "outside.txt"]


@needs_aarhus
def test_real_pdf_keeps_its_pages() -> None:
    from assistant.chunking import Chunker

    [doc], problems = load_documents([AARHUS / "byraad_2025-08-27.pdf"])
    assert not problems
    assert doc.title == "REFERAT Aarhus Byråd d. 27-08-2025" and len(doc.pages) == 28
    chunks = Chunker.from_settings(Settings()).split(doc)
    bridge = [c for c in chunks if c.heading.startswith("Punkt 9: Bro mellem Dokk1 og Balticagade")]
    assert bridge and {c.page_start for c in bridge} == {16}
    assert bridge[0].location.endswith("page 16")
    # every chunk's page is the page its text was extracted from
    for c in chunks:
        page_text = doc.text[doc.pages[c.page_start - 1] : doc.pages[c.page_start] if c.page_start < len(doc.pages) else None]
        assert c.text[:40] in page_text


@needs_aarhus
def test_real_pdf_whose_text_layer_misreads_paa_still_reads() -> None:
    [doc], problems = load_documents([AARHUS / "dagsbil.pdf"])
    assert not problems and "Sager pa" in doc.text and len(doc.pages) == 4


def test_pdf_without_text_layer_is_reported_as_needing_ocr(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    with (tmp_path / "scan.pdf").open("wb") as fh:
        writer.write(fh)
    docs, problems = load_documents([tmp_path])
    assert not docs
    assert "scan.pdf" in problems[0].path and "no text layer" in problems[0].reason and "OCR" in problems[0].reason


def test_docx_paragraphs_headings_and_tables_in_order(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "Referat LMU 12. marts"
    d.add_heading("Ad. 1 Godkendelse af dagsorden", level=1)
    d.add_paragraph("Dagsordenen blev godkendt.")
    d.add_heading("Ad. 2 Sygefravær", level=1)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Kvartal", "Fravær"
    table.cell(1, 0).text, table.cell(1, 1).text = "Q1", "4,2 %"
    d.add_paragraph("Fraværet er faldet.")
    d.save(str(tmp_path / "lmu.docx"))
    [doc], problems = load_documents([tmp_path])
    assert not problems and doc.title == "Referat LMU 12. marts"
    assert doc.text.index("Ad. 2 Sygefravær") < doc.text.index("Q1 | 4,2 %") < doc.text.index("Fraværet er faldet.")


@needs_aarhus
def test_real_html_minutes_extract_as_clean_text() -> None:
    from assistant.chunking import Chunker

    [doc], problems = load_documents([AARHUS / "example_minutes.html"])
    assert not problems and doc.title == "Teknisk Udvalg - Udvalgsværelse 398"
    assert "Der er indkommet i alt 1149 høringssvar" in doc.text
    for furniture in ("Hent som PDF", "Kopier link", "Tip en ven", "Tilbage til forsiden", "window.localizationKeys", "Der opstod en fejl"):
        assert furniture not in doc.text
    headings = {c.heading for c in Chunker.from_settings(Settings()).split(doc)}
    assert {"Udviklingsplan Aarhus Ø - endelig vedtagelse", "Måltal for busfremkommelighed, jf. budgetforlig 2023"} <= headings


def test_unreadable_folder_is_reported_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text("Referat", "utf-8")
    # Tests may run as root, which reads everything: deny access the way the OS would report it.
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked)
    docs, problems = load_documents([locked])
    assert not docs and problems[0].path == str(locked) and "permission denied" in problems[0].reason
