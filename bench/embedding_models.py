"""The default embedding model against an opt-in one: recall and index time on the same passages.

    python -m bench.embedding_models                                  # e5-small against EmbeddingGemma-300m
    python -m bench.embedding_models --others 500 --threads 2
    python -m bench.embedding_models --corpora seeds                 # seeds only (EmbeddingGemma is slow on 2 cores)

For each model an index is built (in a temporary folder) over `seeds/` and over a Greve subset: the agenda items that
hold the Greve dev set's answers plus ``--others`` items drawn at random (seeded), so the subset has real distractors
while a slow model embeds it in reasonable time. Then the dev sets are searched (dense, and hybrid with the
question's Danish forms, as `assistant eval --translate`). Prints and saves recall, index time and passages per
second as bench/results/embedding_models.json. EmbeddingGemma comes from `assistant setup-models --model embeddinggemma`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.danish import normalise
from assistant.evaluation import evaluate, read_gold
from assistant.indexing import index_paths
from assistant.embedding import Embedder
from assistant.qa import Assistant
from assistant.settings import Settings
from assistant.setup_models.gemma import FOLDER, PASSAGE_PROMPT, QUERY_PROMPT
from bench._common import ROOT, SHARED, save

GREVE = SHARED / "corpora" / "greve" / "agenda_items.jsonl"


def greve_subset(gold: Path, others: int, out: Path) -> int:
    """Write the Greve items holding a dev answer plus ``others`` random ones to ``out``; returns the item count."""
    phrases = [normalise(a) for q in read_gold(gold) for a in q.answers]
    lines = GREVE.read_text("utf-8").splitlines()
    keep = [i for i, line in enumerate(lines) if any(p in normalise(json.loads(line).get("text", "")) for p in phrases)]
    rest = sorted(set(range(len(lines))) - set(keep))
    chosen = sorted(set(keep) | set(random.Random(0).sample(rest, min(others, len(rest)))))
    out.write_text("\n".join(lines[i] for i in chosen) + "\n", "utf-8")
    return len(chosen)


def measure(settings: Settings, corpus: list[Path], gold: Path) -> dict[str, Any]:
    """Index ``corpus`` under ``settings`` and score ``gold`` (dense; hybrid with Danish forms)."""
    embedder = Embedder.from_settings(settings)
    embedder.warm_up()
    start = time.perf_counter()
    report = index_paths(settings, corpus, embedder)
    seconds = time.perf_counter() - start
    assistant = Assistant(settings, embedder=embedder)
    figures = {}
    for mode, translate in (("dense", False), ("hybrid", True)):
        figures[mode] = evaluate(lambda q, k: assistant.retrieve(q, k, translate=translate, mode=mode), read_gold(gold)).figures()  # noqa: B023
    return {"passages": report.chunks, "embedded": report.embedded, "index_s": round(seconds, 1), "embedded_per_s": round(report.embedded / seconds, 2), **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--others", type=int, default=500, help="random Greve items besides those holding a dev answer")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--corpora", nargs="+", choices=["seeds", "greve-subset"], default=["seeds", "greve-subset"], help="which indexes to build")
    args = parser.parse_args()
    base = Settings()
    models = {
        "multilingual-e5-small": {},
        FOLDER: {"embedding_model": str(base.models_dir / FOLDER), "embedding_backend": "torch", "query_prompt": QUERY_PROMPT, "passage_prompt": PASSAGE_PROMPT},
    }
    result: dict[str, Any] = {"greve_others": args.others}
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "greve-subset.jsonl"
        if "greve-subset" in args.corpora:
            result["greve_items"] = greve_subset(ROOT / "tests" / "eval" / "greve.jsonl", args.others, subset)
        for name, overrides in models.items():
            for corpus, gold in (("seeds", ROOT / "tests" / "eval" / "seeds.jsonl"), ("greve-subset", ROOT / "tests" / "eval" / "greve.jsonl")):
                if corpus not in args.corpora:
                    continue
                paths = [base.seeds_dir] if corpus == "seeds" else [subset]
                settings = Settings(index_dir=Path(tmp) / f"{name}-{corpus}", embedding_threads=args.threads, **overrides)
                r = measure(settings, paths, gold)
                result.setdefault(name, {})[corpus] = r
                print(
                    f"{name:<24} {corpus:<13} {r['passages']:>6} passages, {r['index_s']:>7} s ({r['embedded_per_s']} /s); "
                    f"dense R@5 {r['dense']['all']['recall@5']:.3f} (en {r['dense']['en']['recall@5']:.3f}), "
                    f"hybrid R@5 {r['hybrid']['all']['recall@5']:.3f} (en {r['hybrid']['en']['recall@5']:.3f})",
                    flush=True,
                )
    print(f"saved {save('embedding_models', result, base)}")


if __name__ == "__main__":
    main()
