"""The reranker client and its place in retrieval. No reranking engine can run here (no cross-encoder is carried by
any registry package, and llama-cpp-python's server has no /rerank), so the client is tested against a small HTTP
server in the test that speaks the two APIs the engines use (Cohere/Jina's and TEI's), scoring by shared words."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.index import FaissStore
from assistant.records import Query, QueryForm
from assistant.rerank import RerankerError, ServerReranker
from assistant.retrieval import Retriever
from bench._common import free_port
from tests.conftest import build


class _Rerank(BaseHTTPRequestHandler):
    seen: list[dict] = []  # type: ignore[type-arg]

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Rerank.seen.append({"path": self.path, **body})
        words = set(body["query"].lower().split())
        texts = body.get("documents") or body.get("texts")
        scores = [len(words & set(t.lower().split())) for t in texts]
        tei = "texts" in body
        results = [{"index": i, "score" if tei else "relevance_score": float(s)} for i, s in enumerate(scores)]
        data = json.dumps(results if tei else {"results": sorted(results, key=lambda r: -r["relevance_score"])}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def rerank_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Rerank)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.mark.parametrize("flavor", ["cohere", "tei"])
def test_scores_come_back_in_the_documents_order(rerank_server: str, flavor: str) -> None:
    reranker = ServerReranker(rerank_server, model="bge-reranker-v2-m3", api_key="", flavor=flavor, timeout=5)  # type: ignore[arg-type]
    assert reranker.scores("vold og trusler", ["budget", "vold og trusler anmeldes", "trusler"]) == [0.0, 3.0, 1.0]
    sent = _Rerank.seen[-1]
    assert sent["path"] == "/rerank" and (sent.get("model") == "bge-reranker-v2-m3") == (flavor == "cohere")


def test_a_reranker_that_is_down_raises_one_line() -> None:
    reranker = ServerReranker(f"http://127.0.0.1:{free_port()}", model="m", api_key="", flavor="cohere", timeout=2)
    with pytest.raises(RerankerError, match="the reranker at http://127.0.0.1:"):
        reranker.scores("q", ["a"])


def test_retrieval_reorders_by_the_reranker_and_falls_back_when_it_fails(
    rerank_server: str, tmp_path: Path, tiny_corpus: Path, fake_embedder, caplog  # noqa: ANN001
) -> None:
    build([tiny_corpus], tmp_path / "index", fake_embedder)
    store = FaissStore.load(tmp_path / "index")
    query = Query("budget 2025 vedtaget", "da", (QueryForm("budget 2025 vedtaget", 1.0, 1.0),))
    plain = Retriever(store, fake_embedder, top_k=3, mode="hybrid", depth=10, rrf_k=10)
    reranker = ServerReranker(rerank_server, model="m", api_key="", flavor="cohere", timeout=5)
    reranked = Retriever(store, fake_embedder, top_k=3, mode="hybrid", depth=10, rrf_k=10, reranker=reranker, rerank_depth=10)
    hits = reranked.run(query, 2)
    assert [h.rank for h in hits] == [1, 2] and "vedtaget" in hits[0].chunk.text
    assert len(_Rerank.seen[-1]["documents"]) > 2  # the first stage's deeper list, cut after reranking
    down = Retriever(store, fake_embedder, top_k=3, mode="hybrid", depth=10, rrf_k=10, reranker=ServerReranker(
        f"http://127.0.0.1:{free_port()}", model="m", api_key="", flavor="cohere", timeout=2), rerank_depth=10)  # fmt: skip
    with caplog.at_level(logging.WARNING):
        fallback = down.run(query, 2)
    assert [h.chunk.id for h in fallback] == [h.chunk.id for h in plain.run(query, 2)]
    assert "the passages keep their fused order" in caplog.text and caplog.text.count("\n") == 1
