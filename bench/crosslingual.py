"""English questions over Danish minutes: each way of giving an English question Danish words, alone and combined.

    python -m bench.crosslingual tests/eval/seeds.jsonl
    python -m bench.crosslingual tests/eval/greve.jsonl --index-dir DIR

The question's Danish forms are made once per question (the answer model's translation, its two-sentence Danish
passage (HyDE), the glossary-and-dictionary translation), timed, and then combined in every variant through the real
Retriever over the real index; Danish questions are searched as they are in every variant. Prints recall@5/10 and
MRR@10 per variant, overall and by language, and the seconds each form costs; saved as
bench/results/crosslingual.<gold>.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from assistant.evaluation import evaluate, read_gold
from assistant.qa import Assistant
from assistant.records import Query, QueryForm
from assistant.retrieval import Retriever
from assistant.settings import Settings
from bench._common import save

#: Variants: which Danish forms an English question is searched with, beside the question itself (dense).
VARIANTS = {
    "question only": (),
    "+ translation": ("plain translation",),
    "+ translation given the dictionary's words": ("translation",),
    "+ dictionary": ("dictionary",),
    "+ dictionary, structured": ("structured dictionary",),
    "+ hypothetical passage": ("hypothetical",),
    "+ translation + dictionary (default)": ("translation", "dictionary"),
    "+ translation + structured dictionary": ("translation", "structured dictionary"),
    "+ translation + dictionary + hypothetical": ("translation", "dictionary", "hypothetical"),
}


class StructuredStore:
    """A store whose lexical search takes "|"-separated groups: each group is searched alone and a passage's BM25
    scores are added over the groups, so that a term with many renderings counts once (structured query translation,
    Pirkola 1998). Only the dictionary form of the structured variants is written with "|"."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __len__(self) -> int:
        return len(self.store)

    def lexical(self, query: str, k: int, narrow: Any = None) -> list[tuple[int, float]]:
        if "|" not in query:
            return self.store.lexical(query, k, narrow)
        scores: dict[int, float] = {}
        for group in query.split("|"):
            for row, score in self.store.lexical(group, k * 4, narrow):
                scores[row] = scores.get(row, 0.0) + score
        return sorted(scores.items(), key=lambda item: -item[1])[:k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path)
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--hypothetical-weight", type=float, default=1.0, help="weight of the HyDE form where a variant uses it")
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    assistant = Assistant(settings)
    rewriter, gold = assistant.rewriter, read_gold(args.gold)
    weight_t, weight_d = settings.lexical_weight_translated, settings.lexical_weight_dictionary
    seconds: dict[str, list[float]] = {"translation": [], "dictionary": [], "hypothetical": []}
    forms: dict[str, dict[str, QueryForm]] = {}
    for q in gold:
        if not q.answerable or rewriter.run(q.question, translate=False).language != "en":
            continue
        made: dict[str, QueryForm] = {}
        start = time.perf_counter()
        terms = assistant.lexicon.translate(q.question)
        made["dictionary"] = QueryForm(" ".join(d for t in terms for d in t.danish), 0.0, weight_d, "dictionary")
        seconds["dictionary"].append(time.perf_counter() - start)
        made["structured dictionary"] = QueryForm("|".join(" ".join(t.danish) for t in terms), 0.0, weight_d, "dictionary")
        start = time.perf_counter()
        made["translation"] = QueryForm(rewriter.translation(q.question, terms), weight_t, weight_t, "translation")
        seconds["translation"].append(time.perf_counter() - start)
        made["plain translation"] = QueryForm(rewriter.translation(q.question), weight_t, weight_t, "translation")
        start = time.perf_counter()
        made["hypothetical"] = QueryForm(rewriter.hypothetical(q.question), args.hypothetical_weight, 0.0, "hypothetical")
        seconds["hypothetical"].append(time.perf_counter() - start)
        forms[q.question] = made
        print(".", end="", flush=True)
    print()
    retriever = Retriever.from_settings(settings, StructuredStore(assistant.store), assistant.embedder, "hybrid")  # type: ignore[arg-type]
    result: dict[str, Any] = {"gold": args.gold.name, "passages": len(assistant.store), "hypothetical_weight": args.hypothetical_weight}
    for name, used in VARIANTS.items():

        def search(question: str, k: int, used: tuple[str, ...] = used) -> list:  # type: ignore[type-arg]
            base = rewriter.run(question, translate=False)
            if question not in forms:
                return retriever.run(base, k)
            extra = tuple(forms[question][u] for u in used)
            own = QueryForm(question, 1.0, 0.0 if extra else settings.lexical_weight_en)
            return retriever.run(Query(question, "en", (own, *extra)), k)

        report = evaluate(search, gold)
        result[name] = report.figures()
        f = report.figures()
        print(f"{name:<44} R@5 {f['all']['recall@5']:.3f} (da {f['da']['recall@5']:.3f}, en {f['en']['recall@5']:.3f})  R@10 {f['all']['recall@10']:.3f}  MRR@10 {f['all']['mrr@10']:.3f}")
    result["seconds_per_question"] = {k: round(statistics.median(v), 3) if v else None for k, v in seconds.items()}
    print("median seconds per English question: " + ", ".join(f"{k} {v}" for k, v in result["seconds_per_question"].items()))
    print(f"saved {save(f'crosslingual.{args.gold.stem}', result, settings)}")


if __name__ == "__main__":
    main()
