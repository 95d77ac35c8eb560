"""Index build throughput: passages/s and words/s for a corpus, into a fresh index folder.

    python bench/index_throughput.py seeds/
    python bench/index_throughput.py ../shared/corpora/greve/agenda_items.jsonl --index-dir /tmp/greve-index
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _common import dir_size, save  # noqa: E402

from assistant.chunking import Chunker  # noqa: E402
from assistant.embedding import BACKENDS, Embedder  # noqa: E402
from assistant.index import build_index  # noqa: E402
from assistant.ingest import load_documents  # noqa: E402
from assistant.settings import Settings  # noqa: E402


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
        report = build_index(args.paths, index_dir, embedder, Chunker(s.chunk_size, s.chunk_overlap))
        again = build_index(args.paths, index_dir, embedder, Chunker(s.chunk_size, s.chunk_overlap))
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
