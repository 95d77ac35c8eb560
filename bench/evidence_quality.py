"""The evidence ranking on gold files with facts, as an answer is written: retrieval's best items and their
sentences (``Assistant.search``), ranked by the context builder. Does the best-ranked sentence (the one quoted at
once) state the answer, or one of the best two, of the candidates offered to the model, of the best eight; is it
among the sentences ranked at all; and how do the best scores of answerable and unanswerable questions compare
(where an abstention threshold can stand). No answer model is run, but for the English questions' translation
(kept in the sweep's cache).

    python -m bench.evidence_quality tests/eval/{seeds,aarhus,greve,greve-answers}.jsonl --index-dir DIR \\
        --vary "" --vary "evidence_overlap_weight=0.2,evidence_kind_weight=0.05"

Saved as bench/results/evidence_quality.json.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

from assistant.context import ContextBuilder
from assistant.evaluation import candidate_rank, fact_present, read_gold
from bench._common import save
from bench.retrieval_sweep import parse_variant, sweep_setup

#: How deep the sentences are ranked: beyond the candidates the model is offered, to see what a deeper offer would hold.
DEEPEST = 8


def main() -> None:
    args, base, assistant = sweep_setup(__doc__)
    gold = [q for g in args.gold for q in read_gold(g) if q.facts or not q.answerable]
    variants = {v: base.model_copy(update=parse_variant(v)) for v in args.vary or [""]}
    deepest = max(s.top_k for s in variants.values())
    retrieved = {}
    for q in gold:  # retrieval is the same in every variant, its passages cut to each variant's top_k
        query = assistant.rewriter.run(q.question, bodies=assistant.bodies)
        retrieved[q.id] = (query, assistant.retriever().search(query, deepest))
    answerable = [q for q in gold if q.answerable]
    in_items = round(sum(candidate_rank(q, retrieved[q.id][1]) is not None for q in answerable) / len(answerable), 3)
    result: dict[str, Any] = {"gold": [g.name for g in args.gold], "questions": len(gold), "variants": {}}
    for variant, settings in variants.items():
        builder = ContextBuilder.from_settings(settings, assistant.embedder)
        builder.evidence = max(DEEPEST, settings.evidence_candidates)  # ranked this deep; the figures cut it
        found = {1: 0, 2: 0, settings.evidence_candidates: 0, builder.evidence: 0}
        best: dict[str, list[float]] = {"answerable": [], "unanswerable": []}
        seconds = []
        for q in gold:
            query, all_found = retrieved[q.id]
            start = time.perf_counter()
            evidence = builder.run(query, dataclasses.replace(all_found, passages=all_found.passages[: settings.top_k])).evidence
            seconds.append(time.perf_counter() - start)
            best["answerable" if q.answerable else "unanswerable"].append(evidence[0].similarity if evidence else 0.0)
            if not q.answerable:
                continue
            for n in found:
                found[n] += any(all(fact_present(f, e.sentence) for f in q.facts) for e in evidence[:n])
        figures = {
            **{f"facts_in_top{n}": round(v / len(answerable), 3) for n, v in found.items()},
            "facts_in_items_sentences": in_items,
            "best_similarity_median": {k: round(statistics.median(v), 3) if v else None for k, v in best.items()},
            "ranking_ms_median": round(statistics.median(seconds) * 1000, 1),
        }
        result["variants"][variant or "(settings)"] = figures
        print(variant or "(settings)")
        print("   ", "  ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
    print(f"saved {save('evidence_quality', result, base)}")


if __name__ == "__main__":
    main()
