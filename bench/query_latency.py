"""Retrieval latency p50/p95 per channel on a built index, with the questions of a gold file (repeated).

    python -m bench.query_latency --index-dir /tmp/greve-index --gold tests/eval/greve.jsonl
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from assistant.danish import question_language
from assistant.evaluation import read_gold
from assistant.qa import Assistant
from assistant.retrieval import MODES
from assistant.settings import Settings
from bench._common import save


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def search_times_ms(search: Callable[[str, int], object], questions: list[str], rounds: int) -> list[float]:
    """Milliseconds each ``search(question, k)`` took, every question ``rounds`` times (top 10)."""
    times = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            search(q, 10)
            times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    assistant = Assistant(Settings(index_dir=args.index_dir))
    questions = [q.question for q in read_gold(args.gold)]
    assistant.retrieve(questions[0])  # load models and index first: latency is per question, not start-up
    result: dict[str, object] = {"index_dir": str(args.index_dir), "chunks": len(assistant.store), "questions": len(questions), "rounds": args.rounds}
    english = [q for q in questions if question_language(q) == "en"]
    runs = [(mode, mode, False, questions, args.rounds) for mode in MODES]
    # With translation an English question costs one short generation by the answer model on top of retrieval.
    runs.append(("hybrid+translate (English questions)", "hybrid", True, english, 1))
    for name, mode, translate, qs, rounds in runs:
        times = search_times_ms(lambda q, k: assistant.retrieve(q, k, translate=translate, mode=mode), qs, rounds)  # type: ignore[arg-type]  # noqa: B023
        result[name] = {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1), "mean_ms": round(statistics.mean(times), 1)}
        print(f"{name:>8}: p50 {result[name]['p50_ms']} ms, p95 {result[name]['p95_ms']} ms over {len(times)} queries")  # type: ignore[index]
    print(f"saved {save('query_latency', result, assistant.settings)}")


if __name__ == "__main__":
    main()
