"""Answer quality on a gold file through the whole path: facts correct, cited passages, false abstentions, abstention
on unanswerable questions, invalid markers, seconds per answer; overall and by question language.

    python -m bench.answer_quality tests/eval/seeds.jsonl
    python -m bench.answer_quality tests/eval/seeds.jsonl tests/eval/aarhus.jsonl tests/eval/greve.jsonl --index-dir DIR --name dev

The same figures as ``assistant eval GOLD… --answers``, saved as bench/results/answer_quality.<name>.json (name: the
gold file's, or --name) with each question's outcome.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.evaluation import evaluate_answers, first_item_rank, first_relevant_rank, read_gold
from assistant.qa import Assistant
from assistant.settings import Settings
from bench._common import save


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gold", type=Path, nargs="+")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--name", help="the result's name (default: the gold file's)")
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    assistant = Assistant(settings)
    gold = [q for path in args.gold for q in read_gold(path)]
    report = evaluate_answers(assistant.ask, gold, progress=lambda: print(".", end="", flush=True), unglossed=assistant.lexicon.unglossed)
    print("\n" + report.table())
    # Where each answer was lost: the item and the fact's passage among those the answer was written from, and what
    # was quoted.
    outcomes = [
        {
            "id": q.id, "lang": q.lang, "answerable": q.answerable, "abstained": a.abstained, "correct": ok, "answer": a.text,
            "evidence": [e.sentence for e in a.evidence], **({"section": q.section} if q.section else {}),
            **({"item_rank": first_item_rank(q, a.passages), "passage_rank": first_relevant_rank(q, a.passages)} if q.answerable and q.doc else {}),
        }
        for q, a, ok in report.outcomes
    ]  # fmt: skip
    result = {"gold": [p.name for p in args.gold], "figures": report.figures(), "outcomes": outcomes}
    print(f"saved {save(f'answer_quality.{args.name or args.gold[0].stem}', result, settings)}")


if __name__ == "__main__":
    main()
