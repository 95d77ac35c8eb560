"""Index build throughput: passages/s and words/s for a corpus, into a fresh index folder.

    python -m bench.index_throughput seeds/
    python -m bench.index_throughput ../shared/corpora/greve/agenda_items.jsonl --index-dir /tmp/greve-index
    python -m bench.index_throughput ../shared/corpora/greve/agenda_items.jsonl --subset 500 --name greve-500
    ASSISTANT_EMBEDDING_URL=http://127.0.0.1:8081/v1 python -m bench.index_throughput seeds --name seeds.server

``--subset N`` indexes N agenda records drawn at random (seed 0) from each JSONL file; ``--name`` saves the result as
bench/results/index_throughput.<name>.json, so that runs (in process, through an embedding server) stand side by side.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

from assistant.chunking import Chunker
from assistant.embedding import BACKENDS, embedder_from_settings
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
    parser.add_argument("--subset", type=int, help="index this many records drawn at random from each JSONL file")
    parser.add_argument("--name", help="save as index_throughput.<name>.json")
    args = parser.parse_args()
    if not all(p.exists() for p in args.paths):
        sys.exit(f"not found: {[str(p) for p in args.paths if not p.exists()]} (the shared corpora live in ../shared/corpora)")
    s = Settings(**{k: v for k, v in {"embedding_backend": args.backend, "embedding_threads": args.threads}.items() if v})
    with tempfile.TemporaryDirectory() as tmp:
        if args.subset:
            args.paths = [_subset(p, args.subset, Path(tmp)) if p.suffix == ".jsonl" else p for p in args.paths]
        docs, _ = load_documents(args.paths)
        words = sum(len(d.text.split()) for d in docs)
        index_dir = args.index_dir or Path(tmp) / "index"
        embedder = embedder_from_settings(s)
        embedder.warm_up()  # model loading is not indexing
        report = build_index(args.paths, FaissFolder(index_dir), embedder, Chunker.from_settings(s))
        again = build_index(args.paths, FaissFolder(index_dir), embedder, Chunker.from_settings(s))
        size = dir_size(index_dir)
    result = {
        "corpus": [str(p) for p in args.paths],
        "subset": args.subset or 0,
        "embedder": getattr(embedder, "url", "in process"),
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
    print(f"saved {save('index_throughput' + (f'.{args.name}' if args.name else ''), result, s)}")


def _subset(path: Path, n: int, folder: Path) -> Path:
    """``n`` lines of a JSONL file drawn at random (seed 0), in their order, as a file of the same name in ``folder``."""
    lines = path.read_text("utf-8").splitlines()
    keep = sorted(random.Random(0).sample(range(len(lines)), min(n, len(lines))))
    out = folder / path.name
    out.write_text("\n".join(lines[i] for i in keep) + "\n", "utf-8")
    return out


if __name__ == "__main__":
    main()
