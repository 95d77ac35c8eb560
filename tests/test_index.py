from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.chunking import Chunker
from assistant.index import Index, IndexNotUsable, build_index, expected_manifest


def test_build_search_and_manifest(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    report = build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    assert (report.documents, report.embedded, report.reused) == (2, report.chunks, 0)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    assert manifest["embedding_model"] == "fake-hashing" and manifest["dimension"] == 256
    assert manifest["chunking"]["chunk_size"] == 1200
    assert set(manifest["files"]) == {str(tiny_corpus / "a.txt"), str(tiny_corpus / "b.txt")}
    assert not list(index_dir.rglob("*.pkl")) and not list(index_dir.rglob("*.pickle"))

    index = Index.load(index_dir, expected_manifest(fake_embedder, Chunker()))
    hits = index.search(fake_embedder.embed_queries(["politianmeldes inden 72 timer"])[0], 2)
    assert hits[0].chunk.heading == "Ad. 2 Vold og trusler" and hits[0].rank == 1
    assert hits[0].chunk.doc_title == "HovedMED referat" and hits[0].chunk.metadata["date"] == "2015"
    assert hits[0].score >= hits[1].score
    doc_text = index.document_text("a.txt")
    assert doc_text[hits[0].chunk.start : hits[0].chunk.end] == hits[0].chunk.text


def test_unchanged_folder_embeds_nothing_and_changed_file_only_its_passages(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    first = build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    again = build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    assert again.up_to_date and fake_embedder.embedded == first.embedded
    (tiny_corpus / "b.txt").write_text("1. Budget\nBudgettet blev ændret.\n", "utf-8")
    changed = build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    assert not changed.up_to_date and changed.embedded == 1 and changed.reused == first.chunks - 1


def test_index_built_under_other_settings_is_refused_with_rebuild_command(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    with pytest.raises(IndexNotUsable, match=f"rebuild it with: assistant index --index-dir {index_dir}"):
        Index.load(index_dir, expected_manifest(fake_embedder, Chunker(chunk_size=500)))
    fake_embedder.name = "another-model"
    with pytest.raises(IndexNotUsable, match="embedding_model"):
        Index.load(index_dir, expected_manifest(fake_embedder, Chunker()))


def test_missing_index_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(IndexNotUsable, match="assistant index --index-dir"):
        Index.load(tmp_path / "nothing")


def test_failed_build_leaves_previous_index_usable(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    (tiny_corpus / "c.txt").write_text("1. Nyt punkt\nNoget helt nyt.\n", "utf-8")

    def boom(texts, progress=None):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    fake_embedder.embed_passages = boom
    with pytest.raises(KeyboardInterrupt):
        build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    index = Index.load(index_dir)
    assert len(index) > 0 and index.document_text("a.txt")
    assert np.isfinite(index.vectors.reconstruct(0)).all()
