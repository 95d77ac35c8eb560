"""The model's choice among the evidence sentences, and how to weigh it with the ranking, on gold files with facts
and unanswerable questions. Each question goes once through the real path up to the choice (retrieval with the
English questions' translation, the best items' sentences ranked as evidence, the model's one-token choice); each
sentence is marked for whether it states the gold facts. Then every weighing in the grid is scored without running
the model again:

    python -m bench.evidence_choice tests/eval/{seeds,aarhus,greve,greve-answers}.jsonl --index-dir DIR

Per weighing: answerable questions answered from a sentence that states the facts, false abstentions, unanswerable
questions declined; and the same for the model's choice alone and the ranking alone. The per-question choices are
kept in bench/.cache/evidence_choice.json (--grid-only scores them again); saved as bench/results/evidence_choice.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from pathlib import Path
from typing import Any

from assistant.citations import weigh_choice
from assistant.evaluation import fact_present, read_gold
from assistant.qa import Assistant
from assistant.settings import Settings
from bench._common import save
from bench.retrieval_sweep import CACHE, cached_translations

DETAILS = CACHE / "evidence_choice.json"
RANK_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 5.0)
DECLINE_SCORES = (0.9, 1.0, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4)
STRONG = (0.85, 0.88, 0.9, 0.92, 1.0)


def collect(gold_files: list[Path], settings: Settings) -> list[dict[str, Any]]:
    """Each question through the real path up to the model's choice."""
    assistant = Assistant(settings)
    cached_translations(assistant, CACHE / f"translations.{settings.llm_model_path.stem}.json")
    rows = []
    for q in (q for g in gold_files for q in read_gold(g) if q.facts or not q.answerable):
        query = assistant.rewriter.run(q.question, bodies=assistant.bodies)
        context = assistant.context.run(query, assistant.retriever().search(query))
        evidence = context.evidence
        start = time.perf_counter()
        probabilities = assistant.generator.choose(assistant.prompt.choice_messages(query, evidence), len(evidence)) if evidence else [1.0]
        rows.append({
            "id": q.id, "lang": q.lang, "answerable": q.answerable, "seconds": round(time.perf_counter() - start, 2), "p": probabilities,
            "score": [e.score for e in evidence], "similarity": [e.similarity for e in evidence],
            "states": [q.answerable and all(fact_present(f, e.sentence) for f in q.facts) for e in evidence],
            # what CitationChecker.pick checks before the weighing: the unit asked for, the names and years asked about
            "eligible": [assistant.citations.can_answer(q.question, e) for e in evidence],
            "question": q.question, "sentences": [e.sentence for e in evidence],
        })  # fmt: skip
        print(".", end="", flush=True)
    print()
    return rows


def chosen(row: dict[str, Any], rank_weight: float, decline: float, strong: float, checks: bool = True) -> int | None:
    """The index of the sentence answered from (None: declined), as ``CitationChecker.pick`` weighs it; ``checks``:
    only among the sentences that can answer (the unit asked for, the names and years the question mentions)."""
    n = len(row["score"])
    return weigh_choice(row["p"], row["score"], row["similarity"], row["eligible"] if checks else [True] * n, rank_weight, decline, strong)


def outcome(rows: list[dict[str, Any]], pick: Any) -> dict[str, float]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    picks = {r["id"]: pick(r) for r in rows}
    right = sum(picks[r["id"]] is not None and r["states"][picks[r["id"]]] for r in answerable)
    declined = sum(picks[r["id"]] is None for r in answerable)
    return {
        "states_facts": round(right / len(answerable), 3),
        "false_abstentions": round(declined / len(answerable), 3),
        "abstained_unanswerable": round(sum(picks[r["id"]] is None for r in unanswerable) / len(unanswerable), 3) if unanswerable else 0.0,
        "facts_in_candidates": round(sum(any(r["states"]) for r in answerable) / len(answerable), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, nargs="*")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--grid-only", action="store_true", help="score the kept choices again, without the model")
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    if args.grid_only:
        rows = json.loads(DETAILS.read_text("utf-8"))
    else:
        rows = collect(args.gold, settings)
        DETAILS.parent.mkdir(exist_ok=True)
        DETAILS.write_text(json.dumps(rows), "utf-8")
    result: dict[str, Any] = {"questions": len(rows), "choice_seconds_median": statistics.median(r["seconds"] for r in rows)}
    result["model alone"] = outcome(rows, lambda r: chosen(r, 0.0, 0.0, 1.1, False))
    result["ranking alone (best sentence)"] = outcome(rows, lambda r: 0 if r["score"] else None)
    def as_set(r: dict[str, Any]) -> int | None:
        return chosen(r, settings.evidence_rank_weight, settings.evidence_decline_score, settings.evidence_strong_similarity)

    result["the settings' weighing"] = outcome(rows, as_set)
    result["the settings' weighing, no unit, name or year check"] = outcome(
        rows, lambda r: chosen(r, settings.evidence_rank_weight, settings.evidence_decline_score, settings.evidence_strong_similarity, False)
    )
    languages = sorted({r["lang"] for r in rows})
    result["by language, the settings' weighing"] = {lang: outcome([r for r in rows if r["lang"] == lang], as_set) for lang in languages}
    grid = []
    for lam, tau, sigma in itertools.product(RANK_WEIGHTS, DECLINE_SCORES, STRONG):
        o = outcome(rows, lambda r, lam=lam, tau=tau, sigma=sigma: chosen(r, lam, tau, sigma))
        grid.append({"rank_weight": lam, "decline_score": tau, "strong_similarity": sigma, **o})
    # The weighing that answers most questions from the right sentence while declining as many unanswerable ones.
    grid.sort(key=lambda g: -(g["states_facts"] + g["abstained_unanswerable"] * 0.5 - g["false_abstentions"] * 0.5))
    result["best weighings"] = grid[:10]
    names = ("model alone", "ranking alone (best sentence)", "the settings' weighing", "the settings' weighing, no unit, name or year check")
    for name in (*names, "by language, the settings' weighing"):
        print(f"{name:<32} {result[name]}")
    for g in grid[:10]:
        print(g)
    print(f"saved {save('evidence_choice', result, settings)}")


if __name__ == "__main__":
    main()
