"""Time to first token and to a full cited answer, with the default model, on the built index.

    python -m bench.answer_latency                       # the example question, 3 rounds
    python -m bench.answer_latency --question "Hvornår træder den nye MED-aftale i kraft?" --rounds 2
    python -m bench.answer_latency --index-dir DIR --name answer_latency.greve --question "How are the members of a citizens' assembly chosen?" --between "Hvad koster den nye daginstitution i Tune?"

Round 1 asks the question first thing after the models load ("cold": the whole prompt is evaluated); each later
round first asks another question (untimed), as a chat user before would, then the timed one: that shows what the
prompt cache saves across different questions (the shared system prompt), not what repeating one question saves.
Model loading is timed apart. Also prints the prompt's size in tokens, and how much of it is the fixed system part.

Last, it measures how fast this machine evaluates a prompt at that moment (``bench.prompt_throughput``'s figure, on
a fresh copy of the model): on a shared 2-core machine that rate read 32 and 48 tokens/s a minute apart with the same
build (64 when the targets were set), so a latency compares with an earlier one only next to its machine rate.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from assistant.qa import Assistant
from assistant.settings import Settings
from bench._common import save
from bench.prompt_throughput import measure

EXAMPLE = "What was decided about police reporting of violence?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--question", default=EXAMPLE)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--between", default="Hvem er formand for Beskæftigelsesudvalget?", help="asked (untimed) before each round after the first")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--name", default="answer_latency", help="the result's name (e.g. answer_latency.greve on the Greve index)")
    args = parser.parse_args()
    settings = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    assistant = Assistant(settings)
    start = time.perf_counter()
    assistant.warm_up()
    load_s = time.perf_counter() - start

    rounds = []
    for n in range(args.rounds):
        if n:
            assistant.ask(args.between)
        start = time.perf_counter()
        first = evidence = None
        final = None
        for partial in assistant.stream(args.question):
            now = time.perf_counter() - start
            if evidence is None and partial.evidence:
                evidence = now
            if first is None and partial.text and partial.answer is None:
                first = now
            final = partial.answer
        total = time.perf_counter() - start
        assert final is not None
        rounds.append(
            {
                "first_evidence_s": round(evidence if evidence is not None else total, 2),
                "first_token_s": round(first if first is not None else total, 2),
                "full_answer_s": round(total, 2),
                "abstained": final.abstained,
                "cited": [c.hit.chunk.doc_id + " " + c.hit.chunk.location for c in final.citations],
                "answer": final.text,
            }
        )
        print(
            f"round {len(rounds)}: first evidence {rounds[-1]['first_evidence_s']} s, first token {rounds[-1]['first_token_s']} s, "
            f"full answer {total:.1f} s: {final.text[:100]!r}"
        )

    start = time.perf_counter()
    assistant.retrieve(args.question)
    retrieval_s = time.perf_counter() - start  # for an English question this includes its translation by the model
    query = assistant.rewriter.run(args.question, bodies=assistant.bodies)
    context = assistant.context.run(query, final.passages)
    if context.evidence:
        choice = assistant.prompt.choice_messages(query, context.evidence)
        messages = assistant.prompt.phrase_messages(choice, 1, query.language)
    else:
        messages = assistant.prompt.messages(query, context) if context.passages else []
    llm = assistant.generator._llm  # noqa: SLF001 - the benchmark looks inside on purpose
    # The chat template adds a few tokens a message; the contents are nearly all of the prompt.
    sizes = [len(llm.tokenize(m["content"].encode(), add_bos=False)) + 5 for m in messages] if llm is not None else [0]
    prompt_tokens, system_tokens = sum(sizes), sizes[0]
    local = not settings.llm_url and settings.llm_model_path.exists()  # a server's machine is not this one
    rate = measure(settings.llm_model_path, settings.llm_threads, settings.llm_context, 400, 2, flash_attn=False)["median"] if local else None
    result = {
        "question": args.question,
        "model": settings.llm_model_path.name,
        "model_load_s": round(load_s, 2),
        "retrieval_s": round(retrieval_s, 2),
        "approx_prompt_tokens": prompt_tokens,
        "kept_system_state_bytes": sum(len(v) for v in assistant.generator._system_states.values()),  # noqa: SLF001
        "system_prompt_tokens": system_tokens,
        "rounds": rounds,
        "cold_first_evidence_s": rounds[0]["first_evidence_s"],
        "first_evidence_s_median": round(statistics.median(r["first_evidence_s"] for r in rounds[1:] or rounds), 2),
        "cold_first_token_s": rounds[0]["first_token_s"],
        "cold_full_answer_s": rounds[0]["full_answer_s"],
        "first_token_s_median": round(statistics.median(r["first_token_s"] for r in rounds[1:] or rounds), 2),
        "full_answer_s_median": round(statistics.median(r["full_answer_s"] for r in rounds[1:] or rounds), 2),
        "machine_prompt_tokens_per_s": rate,  # to compare latencies across runs on a shared machine
        "targets": {"first_evidence_s": 1.5, "first_token_s": 8, "full_answer_s": 12},
    }
    print(
        f"model load {load_s:.1f} s; retrieval {retrieval_s:.2f} s; ≈{prompt_tokens} prompt tokens ({system_tokens} system); "
        f"cold: first token {result['cold_first_token_s']} s, full {result['cold_full_answer_s']} s; "
        f"after another question (median): first token {result['first_token_s_median']} s, full answer {result['full_answer_s_median']} s"
        + (f"; this machine then evaluated prompts at {rate} tokens/s" if rate is not None else "")
    )
    print(f"wrote {save(args.name, result, settings)}")


if __name__ == "__main__":
    main()
