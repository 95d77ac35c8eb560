"""Retrieval variants side by side on dev sets: each variant is a set of settings, every question is rewritten once
(the answer model's translations are kept in a cache file, so variants differ only in retrieval), and each variant
is scored through the real Retriever over the real index. For tuning on dev sets only: the held-out test set is
scored by ``bench.retrieval_quality``, once per change.

    python -m bench.retrieval_sweep tests/eval/greve.jsonl tests/eval/greve-dev2.jsonl --index-dir DIR \\
        --vary "" --vary "retrieval_depth=100" --vary "per_item=1,item_support=0.3"

A variant is comma-separated ``setting=value`` pairs (values as JSON where they parse: 100, 0.3, true,
{"Beslutning": 1.2}); "" is the settings as they are. Prints R@5 overall, Danish, English, R@10, MRR@10 and
item-level R@5/R@10 per variant; saved as bench/results/retrieval_sweep.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path
from typing import Any

from assistant.evaluation import evaluate, read_gold
from assistant.qa import Assistant
from assistant.retrieval import Retriever
from assistant.settings import Settings
from bench._common import save

CACHE = Path(__file__).parent / ".cache"


def parse_variant(text: str) -> dict[str, Any]:
    """ "a=1,b={"x": 2}" → {"a": 1, "b": {"x": 2}} (a JSON value may hold commas inside braces)."""
    out: dict[str, Any] = {}
    for part in re.split(r",(?![^{]*})", text):
        if not part.strip():
            continue
        key, _, value = part.partition("=")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value.strip()
    return out


def cached_translations(assistant: Assistant, path: Path) -> None:
    """Make the rewriter's model translations come from (and go to) a cache file: the same question, the same
    Danish, whatever the variant."""
    cache: dict[str, str] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    rewriter = assistant.rewriter
    translate = rewriter.translation

    def translation(question: str, terms: Any = None) -> str:
        key = hashlib.sha1(f"{question}|{[(t.english, t.danish) for t in terms or []]}".encode()).hexdigest()
        if key not in cache:
            cache[key] = translate(question, terms)
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(cache, ensure_ascii=False, indent=0), "utf-8")
        return cache[key]

    rewriter.translation = translation  # type: ignore[method-assign]


def sweep_setup(description: str | None) -> tuple[argparse.Namespace, Settings, Assistant]:
    """A sweep's command line (gold files, --index-dir, --vary), its settings, and an Assistant whose model
    translations come from the cache."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, nargs="+")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--vary", action="append", default=[], help="a variant: setting=value pairs, comma-separated")
    args = parser.parse_args()
    base = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    assistant = Assistant(base)
    cached_translations(assistant, CACHE / f"translations.{base.llm_model_path.stem}.json")
    return args, base, assistant


def main() -> None:
    args, base, assistant = sweep_setup(__doc__)
    golds = {g.stem: read_gold(g) for g in args.gold}
    for gold in golds.values():  # the translations, made once (or read from the cache)
        for q in gold:
            assistant.rewriter.run(q.question, bodies=assistant.bodies)
    result: dict[str, Any] = {"gold": list(golds), "passages": len(assistant.store), "variants": {}}
    for variant in args.vary or [""]:
        settings = base.model_copy(update=parse_variant(variant))
        retriever = Retriever.from_settings(settings, assistant.store, assistant.embedder)
        rewriter = type(assistant.rewriter).from_settings(settings, assistant.templates, assistant.generator, assistant.lexicon)
        rewriter.translation = assistant.rewriter.translation  # type: ignore[method-assign]
        figures = {}
        print(variant or "(settings)")
        for name, gold in golds.items():
            report = evaluate(lambda q, k: retriever.run(rewriter.run(q, bodies=assistant.bodies), k), gold)  # noqa: B023
            f = report.figures()
            figures[name] = f
            item = f.get("item:all", {})
            print(
                f"    {name:<16} R@5 {f['all']['recall@5']:.3f} da {f.get('da', {}).get('recall@5', 0):.3f} "
                f"en {f.get('en', {}).get('recall@5', 0):.3f} R@10 {f['all']['recall@10']:.3f} MRR {f['all']['mrr@10']:.3f}"
                + (f" item@5 {item['recall@5']:.3f} item@10 {item['recall@10']:.3f}" if item else ""),
                flush=True,
            )
        result["variants"][variant or "(settings)"] = figures
    print(f"saved {save('retrieval_sweep', result, base)}")


if __name__ == "__main__":
    main()
