from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.chunking import Chunker
from assistant.index import FaissStore, IndexNotUsable
from assistant.indexing import expected_manifest
from tests.conftest import CASE, CHUNKER, build, nearest


def test_build_search_and_manifest(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    report = build([tiny_corpus], index_dir, fake_embedder)
    assert (report.documents, report.embedded, report.reused) == (2, report.chunks, 0)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["embedding_model"] == "fake-hashing" and manifest["dimension"] == 256
    assert manifest["chunking"]["chunk_size"] == 1200
    assert set(manifest["files"]) == {str(tiny_corpus / "a.txt"), str(tiny_corpus / "b.txt")}
    assert not list(index_dir.rglob("*.pkl")) and not list(index_dir.rglob("*.pickle"))

    index = FaissStore.load(index_dir, expected_manifest(fake_embedder, CHUNKER))
    hits = nearest(index, fake_embedder.embed_queries(["politianmeldes inden 72 timer"])[0], 2)
    assert hits[0].chunk.heading == "Ad. 2 Vold og trusler" and hits[0].rank == 1
    assert hits[0].chunk.doc_title == "HovedMED referat" and hits[0].chunk.metadata["date"] == "2015"
    assert hits[0].score >= hits[1].score
    doc_text = index.document_text("a.txt")
    assert doc_text[hits[0].chunk.start : hits[0].chunk.end] == hits[0].chunk.text


def test_unchanged_folder_embeds_nothing_and_changed_file_only_its_passages(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    first = build([tiny_corpus], index_dir, fake_embedder)
    again = build([tiny_corpus], index_dir, fake_embedder)
    assert again.up_to_date and fake_embedder.embedded == first.embedded + first.embedded_sentences
    (tiny_corpus / "b.txt").write_text("1. Budget\nBudgettet blev ændret.\n", "utf-8")
    changed = build([tiny_corpus], index_dir, fake_embedder)
    assert not changed.up_to_date and changed.embedded == 1 and changed.reused == first.chunks - 1


def test_index_built_under_other_settings_is_refused_with_rebuild_command(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build([tiny_corpus], index_dir, fake_embedder)
    with pytest.raises(IndexNotUsable, match=f"rebuild it with: assistant index --index-dir {index_dir}"):
        FaissStore.load(index_dir, expected_manifest(fake_embedder, Chunker(500, 150)))
    fake_embedder.name = "another-model"
    with pytest.raises(IndexNotUsable, match="embedding_model"):
        FaissStore.load(index_dir, expected_manifest(fake_embedder, CHUNKER))


def test_missing_index_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(IndexNotUsable, match="assistant index --index-dir"):
        FaissStore.load(tmp_path / "nothing")


def test_failed_build_leaves_previous_index_usable(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build([tiny_corpus], index_dir, fake_embedder)
    (tiny_corpus / "c.txt").write_text("1. Nyt punkt\nNoget helt nyt.\n", "utf-8")

    def boom(texts, progress=None):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    fake_embedder.embed_passages = boom
    with pytest.raises(KeyboardInterrupt):
        build([tiny_corpus], index_dir, fake_embedder)
    index = FaissStore.load(index_dir)
    assert len(index) > 0 and index.document_text("a.txt")
    assert np.isfinite(index.vectors.reconstruct(0)).all()


def test_deleted_file_leaves_the_index_and_a_changed_jsonl_record_is_seen(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    records = tiny_corpus / "items.jsonl"
    lines = [json.dumps({"_id": str(i), "title": f"Punkt {i}", "text": f"Beslutning nummer {i} blev vedtaget."}) for i in range(3)]
    records.write_text("\n".join(lines) + "\n", "utf-8")
    build([tiny_corpus], index_dir, fake_embedder)
    # a change in a record that is not the file's last line is still a change of the file
    lines[1] = json.dumps({"_id": "1", "title": "Punkt 1", "text": "Beslutning nummer 1 blev udsat."})
    records.write_text("\n".join(lines) + "\n", "utf-8")
    changed = build([tiny_corpus], index_dir, fake_embedder)
    assert not changed.up_to_date and changed.embedded == 1
    (tiny_corpus / "b.txt").unlink()
    build([tiny_corpus], index_dir, fake_embedder)
    index = FaissStore.load(index_dir)
    doc_ids = {row[0] for row in index.db.execute("SELECT DISTINCT doc_id FROM chunks")}
    assert "b.txt" not in doc_ids and "a.txt" in doc_ids
    assert len(index) == index.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]  # nothing duplicated or orphaned
    assert "udsat" in index.db.execute("SELECT text FROM chunks WHERE doc_id = 'items.jsonl:1'").fetchone()[0]


def _awkward_corpus(folder: Path) -> dict[str, str]:
    """A folder of files that go wrong in practice; returns, for each file that must be skipped, a word of its reason."""
    import docx
    from pypdf import PdfWriter

    folder.mkdir()
    (folder / "good.txt").write_text("Ad. 1 Budget\nBudgettet for 2026 blev vedtaget.\n", "utf-8")
    d = docx.Document()
    d.add_paragraph("Ad. 1 Trivsel\nTrivselsmålingen viste fremgang.")
    d.save(str(folder / "good.docx"))
    (folder / "good.html").write_text("<html><body><h1>Referat</h1><p>Skolebussen kører fra august.</p><script>alert(1)</script></body></html>", "utf-8")
    (folder / "mixed.txt").write_bytes("Ad. 2 Høring\nHøringen er afsluttet.\n".encode("utf-8") + "Særlige bemærkninger fra Ældrerådet.\n".encode("cp1252"))
    (folder / "..\\..\\odd name.txt").write_text("Ad. 3 Parkering\nParkeringsnormen blev ændret.\n", "utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n", "utf-8")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    with (folder / "big.txt").open("wb") as fh:  # 50 MB of real words: over the per-document cap
        line = "Ad. 9 Referat\nDette er en meget lang tekst om ingenting.\n".encode()
        fh.write(line * (50_000_000 // len(line) + 1))
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with (folder / "scan.pdf").open("wb") as fh:
        writer.write(fh)
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage without objects")
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return {"empty.txt": "empty", "blank.md": "empty", "binary.txt": "binary", "big.txt": "MB", "scan.pdf": "OCR",
            "broken.docx": "could not be read", "broken.pdf": "PDF", "picture.png": "unsupported"}


def test_awkward_files_are_reported_one_by_one_and_the_good_ones_indexed(tmp_path: Path, fake_embedder) -> None:  # noqa: ANN001
    folder = tmp_path / "awkward"
    skipped = _awkward_corpus(folder)
    index_dir = tmp_path / "index"
    report = build([folder], index_dir, fake_embedder, max_bytes=20_000_000)
    reasons = {Path(p.path).name: p.reason for p in report.problems}
    assert set(reasons) == set(skipped), reasons
    for name, word in skipped.items():
        assert word in reasons[name], (name, reasons[name])
    index = FaissStore.load(index_dir)
    docs = {row[0]: row[1] for row in index.db.execute("SELECT id, text FROM documents")}
    assert set(docs) == {"good.txt", "good.docx", "good.html", "mixed.txt", "..\\..\\odd name.txt"}
    assert "Særlige bemærkninger fra Ældrerådet" in docs["mixed.txt"] and "Høringen" in docs["mixed.txt"]
    assert "alert" not in docs["good.html"]


def test_several_councils_in_one_index_keep_their_names_apart(tmp_path: Path, fake_embedder) -> None:  # noqa: ANN001
    for council in ("greve", "aarhus"):
        (tmp_path / council).mkdir()
        (tmp_path / council / "referat.txt").write_text(f"1. Budget\nBudgettet i {council} blev vedtaget.\n", "utf-8")
    plain = build([tmp_path / "greve", tmp_path / "aarhus"], tmp_path / "one", fake_embedder)
    assert plain.documents == 1 and "has the same name as" in str(plain.problems[0])  # reported, the run goes on
    named = {tmp_path / "greve": "Greve", tmp_path / "aarhus": "Aarhus"}
    report = build([tmp_path / "greve", tmp_path / "aarhus"], tmp_path / "two", fake_embedder, municipalities=named)
    assert report.documents == 2 and not report.problems
    store = FaissStore.load(tmp_path / "two")
    assert {d: m["municipality"] for d, (_, m) in store._docs.items()} == {"Greve/referat.txt": "Greve", "Aarhus/referat.txt": "Aarhus"}  # noqa: SLF001
    assert store.manifest["municipalities"] == {str((tmp_path / "greve").resolve()): "Greve", str((tmp_path / "aarhus").resolve()): "Aarhus"}


@pytest.mark.parametrize(
    ("arguments", "paths", "named"),
    [
        (["seeds"], ["seeds"], {}),
        (["Greve=../greve.jsonl", "seeds"], ["../greve.jsonl", "seeds"], {"../greve.jsonl": "Greve"}),
        (["a/b=c"], ["a/b=c"], {}),  # a path with "=" in it stays a path
    ],
)
def test_index_sources_on_the_command_line(arguments: list[str], paths: list[str], named: dict[str, str]) -> None:
    from assistant.cli import _sources

    got_paths, got_named = _sources(arguments)
    assert got_paths == [Path(p) for p in paths] and got_named == {Path(p): n for p, n in named.items()}


def test_a_case_is_its_meetings_newest_first_and_a_standing_item_is_none(tmp_path: Path, case_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    build([case_corpus], tmp_path / "idx", fake_embedder)
    store = FaissStore.load(tmp_path / "idx")
    case = store.numbered(CASE)
    assert case is not None
    assert [(m.day, m.body, m.kind) for m in case.meetings] == [
        ("2024-03-21", "Byrådet", "approved"), ("2024-03-12", "Økonomiudvalget", "recommended"), ("2024-03-04", "Skole-, Børne- og Ungeudvalget", "recommended"),
    ]  # fmt: skip
    assert case.meetings[0].outcome == "Byrådet godkendte Økonomiudvalgets indstilling." and case.meetings[2].outcome == "Anbefales."
    assert store.case("items.jsonl:1") == case and case.latest_decision == case.meetings[0]
    assert store.numbered("21-000009") is None and store.case("items.jsonl:4") is None  # the agenda's approval is no matter
    assert store.numbered("99-999999") is None
    assert store.meetings("items.jsonl:6") == ["items.jsonl:6"]
