from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.ingest import decode, load_documents


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Møde på rådhuset".encode("utf-8"), "Møde på rådhuset"),
        ("Møde på rådhuset".encode("cp1252"), "Møde på rådhuset"),
        ("\ufeffÆble".encode("utf-8"), "Æble"),
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
    chunks = Chunker().split(doc)
    headings = [c.heading for c in chunks]
    assert headings[0] == f"{doc.title} › Beslutning" and any(h.endswith("› Indstilling") for h in headings)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
