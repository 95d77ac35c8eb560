"""Side by side with what a user would build instead: the same corpus, embedding model and GGUF through LlamaIndex.

LlamaIndex is installed for this benchmark only, in its own environment that reuses the project's packages:

    python3.11 -m venv bench/.venv-llamaindex
    echo "$PWD/.venv/lib/python3.11/site-packages" > bench/.venv-llamaindex/lib/python3.11/site-packages/main-venv.pth
    bench/.venv-llamaindex/bin/pip install llama-index-core==0.14.25 llama-index-embeddings-huggingface \\
        llama-index-llms-llama-cpp llama-index-vector-stores-faiss
    bench/.venv-llamaindex/bin/python -m bench.llamaindex_compare

The LlamaIndex pipeline is the one its documentation describes: SimpleDirectoryReader, SentenceSplitter (300 tokens,
overlap 40, counted with the e5 tokenizer, since its default tokenizer would be downloaded), HuggingFaceEmbedding
with e5's "query: "/"passage: " prefixes, a flat inner-product FAISS store, and LlamaCPP with the Qwen chat format,
2 threads, the same context and answer length, answering with the top 4 passages in one call ("compact").
Both sides load their models before timing; each round after the first asks another question first (untimed), so
that neither side answers a prompt it has just evaluated (llama.cpp would reuse all of it: a repeated question). Measured: index build time, retrieval p50 and recall@5 on the gold
file's questions, and time to the first token and to the full answer for the example question.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from assistant.evaluation import Scores, first_relevant_rank, read_gold
from assistant.indexing import index_paths
from assistant.qa import Assistant
from assistant.records import Chunk, Hit
from assistant.settings import Settings
from bench._common import ROOT, save
from bench.query_latency import percentile

EXAMPLE = "What was decided about police reporting of violence?"
BETWEEN = "Hvem er formand for Beskæftigelsesudvalget?"


def first_token_and_total(pieces: object) -> tuple[float, float, str]:
    """Seconds to the first non-empty piece and to the last, and the text, of an iterator of strings."""
    start = time.perf_counter()
    first, text = None, ""
    for piece in pieces:  # type: ignore[attr-defined]
        if piece and first is None:
            first = time.perf_counter() - start
        text += piece
    total = time.perf_counter() - start
    return first if first is not None else total, total, text


def ours(settings: Settings, corpus: Path, gold: list, rounds: int) -> dict[str, object]:  # type: ignore[type-arg]
    assistant = Assistant(settings)
    assistant.embedder.warm_up()
    start = time.perf_counter()
    report = index_paths(settings, [corpus], assistant.embedder)
    index_s = time.perf_counter() - start
    out: dict[str, object] = {"index_s": round(index_s, 2), "passages": report.chunks}
    for name, mode, translate in (("dense", "dense", False), ("hybrid", "hybrid", False), ("hybrid+translate", "hybrid", True)):
        scores, times = Scores(), []
        for q in gold:
            t = time.perf_counter()
            hits = assistant.retrieve(q.question, 10, translate=translate, mode=mode)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t)
            scores.add(first_relevant_rank(q, hits))
        out[name] = {"recall_at_5": round(scores.recall(5), 3), "p50_ms": round(percentile(times, 50) * 1000, 1)}
    assistant.generator.warm_up()
    runs, text = [], ""
    for n in range(rounds):
        if n:
            assistant.ask(BETWEEN)
        start, first = time.perf_counter(), None
        for partial in assistant.stream(EXAMPLE):
            if first is None and partial.text and partial.answer is None:
                first = time.perf_counter() - start
            if partial.answer is not None:
                text = partial.answer.text
        total = time.perf_counter() - start
        runs.append((first if first is not None else total, total))
    out["answer"] = text
    out["first_token_s"] = round(statistics.median(r[0] for r in runs), 2)
    out["full_answer_s"] = round(statistics.median(r[1] for r in runs), 2)
    del assistant
    return out


def llamaindex(settings: Settings, corpus: Path, gold: list, rounds: int) -> dict[str, object]:  # type: ignore[type-arg]
    import faiss
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.llms.llama_cpp import LlamaCPP
    from llama_index.vector_stores.faiss import FaissVectorStore
    from tokenizers import Tokenizer

    model_dir = settings.embedding_model_path
    tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
    LlamaSettings.tokenizer = lambda text: tokenizer.encode(text, add_special_tokens=False).ids
    embed = HuggingFaceEmbedding(model_name=model_dir, query_instruction="query: ", text_instruction="passage: ", device="cpu", embed_batch_size=16)
    embed.get_text_embedding("warm up")
    LlamaSettings.embed_model = embed

    def chatml(messages) -> str:  # type: ignore[no-untyped-def]
        body = "".join(f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>\n" for m in messages)
        return body + "<|im_start|>assistant\n"

    def completion(prompt: str) -> str:
        return f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"

    files = sorted(p for p in corpus.iterdir() if p.suffix == ".txt")
    start = time.perf_counter()
    docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
    splitter = SentenceSplitter(chunk_size=300, chunk_overlap=40)
    store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(384))
    index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=store), transformations=[splitter])
    index_s = time.perf_counter() - start
    out: dict[str, object] = {"index_s": round(index_s, 2), "passages": len(index.docstore.docs)}

    retriever = index.as_retriever(similarity_top_k=10)
    scores, times = Scores(), []
    for q in gold:
        t = time.perf_counter()
        nodes = retriever.retrieve(q.question)
        times.append(time.perf_counter() - t)
        hits = [
            Hit(Chunk(n.node.node_id, n.node.metadata.get("file_name", ""), "", n.node.get_content(), 0, 0, 0, 0), float(n.score or 0), rank)
            for rank, n in enumerate(nodes, 1)
        ]
        scores.add(first_relevant_rank(q, hits))
    out["dense"] = {"recall_at_5": round(scores.recall(5), 3), "p50_ms": round(percentile(times, 50) * 1000, 1)}

    llm = LlamaCPP(
        model_path=str(settings.llm_model_path), temperature=settings.llm_temperature, max_new_tokens=settings.llm_max_tokens,
        context_window=settings.llm_context, model_kwargs={"n_threads": settings.llm_threads, "n_batch": 512},
        messages_to_prompt=chatml, completion_to_prompt=completion, verbose=False,
    )  # fmt: skip
    llm.complete("Hej")
    engine = index.as_query_engine(llm=llm, similarity_top_k=4, response_mode="compact", streaming=True)
    runs = []
    for n in range(rounds):
        if n:
            "".join(engine.query(BETWEEN).response_gen)
        first, total, text = first_token_and_total(engine.query(EXAMPLE).response_gen)
        runs.append((first, total))
    out["answer"] = text
    out["first_token_s"] = round(statistics.median(r[0] for r in runs), 2)
    out["full_answer_s"] = round(statistics.median(r[1] for r in runs), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "seeds")
    parser.add_argument("--gold", type=Path, default=ROOT / "tests" / "eval" / "seeds.jsonl")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    gold = [q for q in read_gold(args.gold) if q.answerable]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index")
        mine = ours(settings, args.corpus, gold, args.rounds)
        gc.collect()
        theirs = llamaindex(settings, args.corpus, gold, args.rounds)
    ratios = {
        "index_time": round(theirs["index_s"] / mine["index_s"], 2),  # type: ignore[operator]
        "retrieval_p50_dense": round(theirs["dense"]["p50_ms"] / mine["dense"]["p50_ms"], 2),  # type: ignore[index]
        "retrieval_p50_vs_our_hybrid": round(theirs["dense"]["p50_ms"] / mine["hybrid"]["p50_ms"], 2),  # type: ignore[index]
        "first_token": round(theirs["first_token_s"] / mine["first_token_s"], 2),  # type: ignore[operator]
        "full_answer": round(theirs["full_answer_s"] / mine["full_answer_s"], 2),  # type: ignore[operator]
    }
    result = {"corpus": str(args.corpus), "questions": len(gold), "ours": mine, "llamaindex": theirs, "llamaindex_over_ours": ratios}
    for side, r in (("ours", mine), ("llamaindex", theirs)):
        print(f"{side:>10}: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "answer"))
        print(f"{'':>10}  answer: {str(r['answer'])[:200]!r}")
    print(f"LlamaIndex / ours (higher = ours faster): {ratios}")
    print(f"saved {save('llamaindex_compare', result, settings)}")


if __name__ == "__main__":
    main()
