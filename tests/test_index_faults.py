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

from assistant.index import FaissFolder, FaissStore, IndexLocked
from tests.conftest import ROOT, build, nearest


def test_second_indexer_is_refused_with_a_clear_message(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    with FaissFolder(index_dir).lock():
        with pytest.raises(IndexLocked, match=f"another `assistant index` is writing {index_dir}"):
            build([tiny_corpus], index_dir, fake_embedder)
    assert build([tiny_corpus], index_dir, fake_embedder).documents == 2  # free again


def test_crash_between_the_renames_leaves_the_old_index_loadable(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build([tiny_corpus], index_dir, fake_embedder)
    index_dir.rename(tmp_path / "index.old")  # the state right after the old index was moved aside
    assert len(FaissStore.load(index_dir)) > 0
    report = build([tiny_corpus], index_dir, fake_embedder)
    assert report.reused == report.chunks and (index_dir / "manifest.json").exists() and not (tmp_path / "index.old").exists()


_SLOW_BUILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.conftest import FakeEmbedder
    from tests.conftest import build

    class Slow(FakeEmbedder):
        def embed_passages(self, texts, progress=None):
            Path({marker!r}).touch()  # embedding has begun: the test may kill us now
            time.sleep(60)
            return super().embed_passages(texts, progress)

    build([Path({corpus!r})], Path({index!r}), Slow())
    """
)


def test_kill_9_during_indexing_leaves_the_previous_index_usable(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    build([tiny_corpus], index_dir, fake_embedder)
    before = {h.chunk.id for h in nearest(FaissStore.load(index_dir), fake_embedder.embed_queries(["vold"])[0], 10)}
    (tiny_corpus / "c.txt").write_text("1. Nyt punkt\nEt nyt dokument om skoler.\n", "utf-8")
    marker = tmp_path / "embedding-started"
    script = _SLOW_BUILD.format(root=str(ROOT), marker=str(marker), corpus=str(tiny_corpus), index=str(index_dir))
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "the indexer never reached embedding"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    index = FaissStore.load(index_dir)
    assert {h.chunk.id for h in nearest(index, fake_embedder.embed_queries(["vold"])[0], 10)} == before
    assert str(tiny_corpus / "c.txt") not in index.manifest["files"] and index.document_text("a.txt")
    assert not index.document_text("c.txt")
    report = build([tiny_corpus], index_dir, fake_embedder)  # the lock died with the process
    assert report.documents == 3


@pytest.mark.parametrize("where", ["missing-folder", "empty-folder"])
def test_nothing_to_index_keeps_the_existing_index(tmp_path: Path, tiny_corpus: Path, fake_embedder, where: str) -> None:  # noqa: ANN001
    from assistant.indexing import NoDocuments

    index_dir = tmp_path / "index"
    build([tiny_corpus], index_dir, fake_embedder)
    target = tmp_path / where
    if where == "empty-folder":
        target.mkdir()
    with pytest.raises(NoDocuments, match="the existing index is unchanged"):
        build([target], index_dir, fake_embedder)
    assert FaissStore.load(index_dir).manifest["documents"] == 2


def test_an_interrupted_build_resumes_from_its_journal(tmp_path: Path, tiny_corpus: Path, fake_embedder, monkeypatch) -> None:  # noqa: ANN001
    """The embedder fails after one slice (a server that went away): the previous index stays usable, the slice's
    vectors stay in the journal, and the next run embeds only the rest."""
    from assistant import indexing
    from tests.conftest import FakeEmbedder

    index_dir = tmp_path / "index"
    build([tiny_corpus], index_dir, fake_embedder)
    before = fake_embedder.embedded
    for n in range(3):
        (tiny_corpus / f"new{n}.txt").write_text(f"1. Punkt {n}\nEt nyt dokument nummer {n} om skoler og veje.\n", "utf-8")
    monkeypatch.setattr(indexing, "JOURNAL_SLICE", 1)

    class Failing(FakeEmbedder):
        calls = 0

        def embed_passages(self, texts, progress=None):  # noqa: ANN001, ANN201
            Failing.calls += 1
            if Failing.calls > 1:
                raise ConnectionError("the embedding server went away")
            return super().embed_passages(texts, progress)

    with pytest.raises(ConnectionError):
        build([tiny_corpus], index_dir, Failing())
    assert FaissStore.load(index_dir).manifest["documents"] == 2  # the previous index, whole
    assert len(list((tmp_path / "index.partial").glob("hashes-*.json"))) == 1
    counting = FakeEmbedder()
    report = build([tiny_corpus], index_dir, counting)
    # One slice (a passage's or a sentence's vector) came from the journal; only the rest was embedded again.
    assert report.documents == 5 and report.resumed == 1 and counting.embedded == report.embedded + report.embedded_sentences
    everything = FakeEmbedder()
    build([tiny_corpus], tmp_path / "fresh", everything)
    assert report.embedded + report.embedded_sentences + report.resumed == everything.embedded - before
    assert not (tmp_path / "index.partial").exists()  # in the index now
