"""Faults during indexing: a second indexer, a crash between the two renames, and kill -9 mid-build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.chunking import Chunker
from assistant.index import Index, IndexLocked, _lock, build_index
from assistant.settings import PROJECT_ROOT


def test_second_indexer_is_refused_with_a_clear_message(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    with _lock(index_dir):
        with pytest.raises(IndexLocked, match=f"another `assistant index` is writing {index_dir}"):
            build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    assert build_index([tiny_corpus], index_dir, fake_embedder, Chunker()).documents == 2  # free again


def test_crash_between_the_renames_leaves_the_old_index_loadable(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    index_dir.rename(tmp_path / "index.old")  # the state right after the old index was moved aside
    assert len(Index.load(index_dir)) > 0
    report = build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    assert report.reused == report.chunks and (index_dir / "manifest.json").exists() and not (tmp_path / "index.old").exists()


_SLOW_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.conftest import FakeEmbedder
    from assistant.chunking import Chunker
    from assistant.index import build_index

    class Slow(FakeEmbedder):
        def embed_passages(self, texts, progress=None):
            Path({marker!r}).touch()  # embedding has begun: the test may kill us now
            time.sleep(60)
            return super().embed_passages(texts, progress)

    build_index([Path({corpus!r})], Path({index!r}), Slow(), Chunker())
    """
)


def test_kill_9_during_indexing_leaves_the_previous_index_usable(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    before = {h.chunk.id for h in Index.load(index_dir).search(fake_embedder.embed_queries(["vold"])[0], 10)}
    (tiny_corpus / "c.txt").write_text("1. Nyt punkt\nEt nyt dokument om skoler.\n", "utf-8")
    marker = tmp_path / "embedding-started"
    script = _SLOW_BUILD.format(root=str(PROJECT_ROOT), marker=str(marker), corpus=str(tiny_corpus), index=str(index_dir))
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the indexer never reached embedding"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    index = Index.load(index_dir)
    assert {h.chunk.id for h in index.search(fake_embedder.embed_queries(["vold"])[0], 10)} == before
    assert str(tiny_corpus / "c.txt") not in index.manifest["files"] and index.document_text("a.txt")
    assert not index.document_text("c.txt")
    report = build_index([tiny_corpus], index_dir, fake_embedder, Chunker())  # the lock died with the process
    assert report.documents == 3


@pytest.mark.parametrize("where", ["missing-folder", "empty-folder"])
def test_nothing_to_index_keeps_the_existing_index(tmp_path: Path, tiny_corpus: Path, fake_embedder, where: str) -> None:  # noqa: ANN001
    from assistant.index import NoDocuments

    index_dir = tmp_path / "index"
    build_index([tiny_corpus], index_dir, fake_embedder, Chunker())
    target = tmp_path / where
    if where == "empty-folder":
        target.mkdir()
    with pytest.raises(NoDocuments, match="the existing index is unchanged"):
        build_index([target], index_dir, fake_embedder, Chunker())
    assert Index.load(index_dir).manifest["documents"] == 2
