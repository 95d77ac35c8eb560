"""Retrieval latency p50/p95 at 10k and 100k passages (or 1M) in each store, and which FAISS index type pays at which
size.

    python -m bench.scale_latency                                  # 10k and 100k from the Greve corpus, FAISS
    python -m bench.scale_latency --sizes 100000 1000000 --stores faiss milvus
    python -m bench.scale_latency --sizes 10000 --corpus seeds/

Real Danish passages (the corpus chunked by the real chunker, repeated with new ids until the size is reached) are
written in the real index format, so the lexical channel (SQLite FTS5 over Danish stems) sees real word statistics.
The vectors are random unit vectors: embedding 100k passages takes hours on 2 cores, and for the exact (flat) FAISS
index the search time does not depend on the values. So these are latency figures, not recall. Questions are those of
a gold file, embedded by the real model; each is timed through the real Retriever (query embedding included).

For the FAISS type it also times a single query against a flat index and an HNSW graph of the same vectors, and
HNSW's recall@10 of the flat index's answers (on the real seeds vectors repeated with noise: a graph's recall on random
vectors says little).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np

from assistant.chunking import Chunker, embedding_text
from assistant.danish import terms
from assistant.evaluation import read_gold
from assistant.indexing import _text_hash, expected_manifest, location
from assistant.ingest import load_documents
from assistant.qa import Assistant
from assistant.records import Chunk, Document, IndexBuild
from assistant.retrieval import MODES
from assistant.settings import Settings
from bench._common import RESULTS, ROOT, SHARED, save
from bench.query_latency import percentile, search_times_ms

GREVE = SHARED / "corpora" / "greve" / "agenda_items.jsonl"


def synthetic_index(corpus: Path, size: int, settings: Settings) -> float:
    """Write an index of ``size`` real passages (repeated as needed) with random vectors where the settings put it
    (either store); returns seconds taken."""
    start = time.perf_counter()
    docs, _ = load_documents([corpus])
    chunker = Chunker.from_settings(settings)
    base = [(d, c) for d in docs for c in chunker.split(d)]
    out_docs: list[Document] = []
    chunks: list[Chunk] = []
    copy = 0
    while len(chunks) < size:
        for d in docs:
            out_docs.append(replace(d, id=f"{d.id}~{copy}", text="") if copy else d)
        for d, c in base:
            if len(chunks) == size:
                break
            chunks.append(replace(c, id=f"{c.id}~{copy}", doc_id=f"{d.id}~{copy}") if copy else c)
        copy += 1
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((len(chunks), 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    texts = [embedding_text(c) for c in chunks]
    hashes = [_text_hash(t) for t in texts]
    words = [" ".join(terms(t)) for t in texts]
    from assistant.embedding import Embedder

    manifest = {**expected_manifest(Embedder.from_settings(settings), chunker), "dimension": 384, "synthetic": True}
    location(settings).write(IndexBuild(out_docs, chunks, texts, words, hashes, matrix, manifest))
    return time.perf_counter() - start


def time_retrieval(settings: Settings, questions: list[str], rounds: int) -> dict[str, dict[str, float]]:
    """p50/p95 per retrieval mode, in ms, without translation (a translation is one model call on top)."""
    assistant = Assistant(settings)
    assistant.retrieve(questions[0], translate=False)  # models and index loaded first
    out = {}
    for mode in MODES:
        times = search_times_ms(lambda q, k: assistant.retrieve(q, k, translate=False, mode=mode), questions, rounds)  # noqa: B023
        out[mode] = {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}
    times = []
    for q in questions:
        t = time.perf_counter()
        assistant.embedder.embed_queries([q])
        times.append((time.perf_counter() - t) * 1000)
    out["query_embedding_only"] = {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}
    return out


def faiss_types(base: np.ndarray, size: int, queries: np.ndarray) -> dict[str, float]:
    """Single-query search time of flat and HNSW indexes over ``size`` noisy copies of ``base``, and HNSW recall@10."""
    rng = np.random.default_rng(1)
    reps = -(-size // len(base))
    data = np.repeat(base, reps, axis=0)[:size] + rng.normal(0, 0.03, (size, base.shape[1])).astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    flat = faiss.IndexFlatIP(data.shape[1])
    flat.add(data)
    start = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(data.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efSearch = 64
    hnsw.add(data)
    build_s = time.perf_counter() - start

    def per_query(index: faiss.Index) -> tuple[float, list[set[int]]]:
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = index.search(q[None, :], 10)
            times.append((time.perf_counter() - t) * 1000)
            found.append(set(ids[0].tolist()))
        return percentile(times, 50), found

    default_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    flat2_ms, _ = per_query(flat)
    faiss.omp_set_num_threads(1)
    flat_ms, truth = per_query(flat)
    hnsw_ms, got = per_query(hnsw)
    faiss.omp_set_num_threads(default_threads)
    recall = float(np.mean([len(a & b) / 10 for a, b in zip(truth, got)]))
    return {"flat_p50_ms": round(flat_ms, 2), "flat_2_threads_p50_ms": round(flat2_ms, 2), "hnsw_p50_ms": round(hnsw_ms, 2), "hnsw_recall_at_10": round(recall, 3), "hnsw_build_s": round(build_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--corpus", type=Path, default=GREVE)
    parser.add_argument("--gold", type=Path, default=ROOT / "tests" / "eval" / "greve.jsonl")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stores", nargs="+", choices=["faiss", "milvus"], default=["faiss"])
    parser.add_argument("--no-faiss-types", action="store_true", help="skip the flat-against-HNSW comparison")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"corpus not found: {args.corpus} (the shared corpora live in ../shared/corpora)")
    questions = [g.question for g in read_gold(args.gold)]
    result: dict[str, object] = {"corpus": str(args.corpus), "questions": len(questions), "vectors": "random unit (latency only)"}
    saved = RESULTS / "scale_latency.json"
    if saved.exists():  # sizes measured in an earlier run stay (1M takes long enough to be run alone)
        earlier = json.loads(saved.read_text("utf-8"))
        result.update({k: v for k, v in earlier.items() if k.partition(".")[0].isdigit() and int(k.partition(".")[0]) not in args.sizes})
    seeds = Assistant(Settings())
    real = seeds.store.vectors.reconstruct_n(0, len(seeds.store))  # type: ignore[attr-defined]
    queries = seeds.embedder.embed_queries(questions[:50])
    for size in args.sizes:
        for store in args.stores:
            with tempfile.TemporaryDirectory() as tmp:
                settings = Settings(store=store, index_dir=Path(tmp) / "index", milvus_uri=str(Path(tmp) / "milvus.db"))
                build_s = synthetic_index(args.corpus, size, settings)
                timings = time_retrieval(settings, questions, args.rounds)
            # the default store's figures stay where earlier results put them; another store's go under its name
            key = str(size) if store == "faiss" else f"{size}.{store}"
            result[key] = {"write_s": round(build_s, 1), **timings}
            line = ", ".join(f"{m} p50 {t['p50_ms']} / p95 {t['p95_ms']} ms" for m, t in timings.items())
            print(f"{size:>7} passages, {store}: {line} (written in {build_s:.0f} s)")
        if not args.no_faiss_types:
            types = faiss_types(real, size, queries)
            result.setdefault(str(size), {})["faiss"] = types
            print(f"{'':>7} FAISS one query: flat {types['flat_p50_ms']} ms (2 threads {types['flat_2_threads_p50_ms']} ms), HNSW {types['hnsw_p50_ms']} ms (recall@10 {types['hnsw_recall_at_10']})")
    print(f"saved {save('scale_latency', result, seeds.settings)}")


if __name__ == "__main__":
    main()
