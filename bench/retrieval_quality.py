"""Retrieval quality on a gold file: recall@1/5/10 and MRR@10 per channel, overall and by question language.

    python -m bench.retrieval_quality tests/eval/seeds.jsonl --translate
    python -m bench.retrieval_quality tests/eval/greve.jsonl --translate --index-dir /tmp/greve-index
    ASSISTANT_STORE=milvus ASSISTANT_MILVUS_URI=/tmp/greve-milvus/milvus.db python -m bench.retrieval_quality tests/eval/greve.jsonl --translate

The same figures as ``assistant eval GOLD [--translate]``, saved as bench/results/retrieval_quality.<gold>[.<store>].json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.evaluation import evaluate, read_gold
from assistant.qa import Assistant
from assistant.retrieval import MODES
from assistant.settings import Settings
from bench._common import save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--translate", action="store_true", help="put English questions into Danish with the answer model (hybrid)")
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    assistant = Assistant(settings)
    gold = read_gold(args.gold)
    result: dict[str, object] = {"gold": args.gold.name, "questions": len(gold), "translate": args.translate, "passages": len(assistant.store)}
    for mode in MODES:
        use = args.translate and mode == "hybrid"
        report = evaluate(lambda q, k: assistant.search(q, k, translate=use, mode=mode), gold)  # noqa: B023
        result[mode] = report.figures()
        print(report.table(mode) + "\n")
    name = f"retrieval_quality.{args.gold.stem}" + ("" if settings.store == "faiss" else f".{settings.store}")
    print(f"saved {save(name, result, settings)}")


if __name__ == "__main__":
    main()
