"""Index build throughput: passages/s and words/s for a corpus, into a fresh index folder.

    python -m bench.index_throughput seeds/
    python -m bench.index_throughput ../shared/corpora/greve/agenda_items.jsonl --index-dir /tmp/greve-index
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from assistant.chunking import Chunker
from assistant.embedding import BACKENDS, Embedder
from assistant.index import FaissFolder
from assistant.indexing import build_index
from assistant.ingest import load_documents
from assistant.settings import Settings
from bench._common import dir_size, save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--index-dir", type=Path, help="where to build (default: a temporary folder, removed after)")
    parser.add_argument("--backend", choices=BACKENDS, help="embedding backend (default: the setting, ASSISTANT_EMBEDDING_BACKEND)")
    parser.add_argument("--threads", type=int, help="embedding threads (default: the setting)")
    args = parser.parse_args()
    if not all(p.exists() for p in args.paths):
        sys.exit(f"not found: {[str(p) for p in args.paths if not p.exists()]} (the shared corpora live in ../shared/corpora)")
    s = Settings(**{k: v for k, v in {"embedding_backend": args.backend, "embedding_threads": args.threads}.items() if v})
    docs, _ = load_documents(args.paths)
    words = sum(len(d.text.split()) for d in docs)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index_dir or Path(tmp) / "index"
        embedder = Embedder.from_settings(s)
        embedder.warm_up()  # model loading is not indexing
        report = build_index(args.paths, FaissFolder(index_dir), embedder, Chunker.from_settings(s))
        again = build_index(args.paths, FaissFolder(index_dir), embedder, Chunker.from_settings(s))
        size = dir_size(index_dir)
    result = {
        "corpus": [str(p) for p in args.paths],
        "documents": report.documents,
        "words": words,
        "passages": report.chunks,
        "passages_embedded": report.embedded,
        "seconds": round(report.seconds, 1),
        "passages_per_s": round(report.chunks / report.seconds, 1),
        "embedded_per_s": round(report.embedded / report.seconds, 1),
        "words_per_s": round(words / report.seconds),
        "index_bytes": size,
        "reindex_unchanged_seconds": round(again.seconds, 2),
    }
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    print(f"saved {save('index_throughput', result, s)}")


if __name__ == "__main__":
    main()
