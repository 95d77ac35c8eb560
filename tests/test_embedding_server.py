"""Embeddings through a real OpenAI-compatible server: llama-cpp-python's server with multilingual-e5-small as GGUF,
started by the tests, as `assistant serve-embeddings` starts it. The vectors, an index built through it and its
retrieval figures against the in-process model's; a server that dies in the middle of a build."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.embedding import EmbeddingServerError, ServerEmbedder
from assistant.evaluation import evaluate, read_gold
from assistant.index import FaissStore
from assistant.settings import Settings
from tests.conftest import ModelServer, build
from tests.test_retrieval import _search

pytestmark = pytest.mark.real


def _embedder(url: str, **overrides: object) -> ServerEmbedder:
    return ServerEmbedder.from_settings(Settings(embedding_url=url, **overrides))  # type: ignore[arg-type]


def test_the_server_gives_the_in_process_vectors(embedding_server: ModelServer, real_embedder) -> None:  # noqa: ANN001
    server = _embedder(embedding_server.url)
    passages = ["Vold og trusler skal politianmeldes inden 72 timer.", "Budgettet for 2025 blev vedtaget uden ændringer."]
    assert server.dimension == real_embedder.dimension == 384 and server.name == real_embedder.name
    np.testing.assert_allclose((server.embed_passages(passages) * real_embedder.embed_passages(passages)).sum(1), 1.0, atol=1e-4)
    question = ["What was decided about police reporting of violence?"]
    assert float(server.embed_queries(question)[0] @ real_embedder.embed_queries(question)[0]) > 0.9999


def test_an_index_built_through_the_server_retrieves_as_the_in_process_one(
    embedding_server: ModelServer, seeds_index, seeds_settings: Settings, real_embedder, tmp_path: Path  # noqa: ANN001
) -> None:
    server = _embedder(embedding_server.url, embedding_server_batch=8, embedding_concurrency=3)
    report = build([seeds_settings.seeds_dir], tmp_path / "index", server)
    assert report.embedded == report.chunks == len(seeds_index)
    through_server = FaissStore.load(tmp_path / "index")
    gold = read_gold(Path(__file__).parent / "eval" / "seeds.jsonl")
    ours, theirs = evaluate(_search(seeds_index, real_embedder), gold), evaluate(_search(through_server, server), gold)
    assert theirs.figures() == ours.figures()


def test_a_server_that_dies_mid_build_leaves_the_index_usable_and_the_next_run_resumes(
    embedding_server: ModelServer, tiny_corpus: Path, tmp_path: Path, monkeypatch  # noqa: ANN001
) -> None:
    from assistant import indexing

    index_dir = tmp_path / "index"
    server = _embedder(embedding_server.url, embedding_server_batch=1, embedding_concurrency=1)
    build([tiny_corpus], index_dir, server)
    for n in range(4):
        (tiny_corpus / f"new{n}.txt").write_text(f"1. Punkt {n}\nEt nyt dokument nummer {n} om skoler og veje i kommunen.\n", "utf-8")
    monkeypatch.setattr(indexing, "JOURNAL_SLICE", 2)
    seen = []
    totals = []

    def kill_after_the_first_slice(done: int, total: int) -> None:
        seen.append(done)
        totals.append(total)
        if done >= 2:
            embedding_server.kill()

    with pytest.raises(EmbeddingServerError, match=f"the embedding server at {embedding_server.url}"):
        build([tiny_corpus], index_dir, server, progress=kill_after_the_first_slice)
    assert FaissStore.load(index_dir).manifest["documents"] == 2  # the previous index, whole and loadable
    embedding_server.start()
    report = build([tiny_corpus], index_dir, _embedder(embedding_server.url))
    # The first slice (two texts: passages' or sentences') came from the journal; only the rest went to the server.
    assert report.documents == 6 and report.resumed == 2 and report.embedded + report.embedded_sentences == totals[0] - 2
