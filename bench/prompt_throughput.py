"""Prompt evaluation speed of the answer model (prompt tokens/s), the figure that bounds time to first token.

    python -m bench.prompt_throughput                              # the configured GGUF, 800 tokens, 2 rounds
    python -m bench.prompt_throughput --requantize q4_0,q4_k_s,q8_0 --flash-attn

Evaluates the first ``--tokens`` tokens of a seed document from an empty context, as an answer's prompt is. With
``--requantize`` it also writes the model in other formats with llama.cpp's own quantiser (into a temporary folder,
removed after) and measures those, to show whether a file format would evaluate prompts faster on this CPU.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics
import sys
import tempfile
import time
from pathlib import Path

from assistant.settings import Settings
from bench._common import ROOT, save

# llama.cpp's file types (llama.h, enum llama_ftype)
FTYPES = {"q4_0": 2, "q8_0": 7, "q4_k_s": 14, "q4_k_m": 15, "q5_k_m": 17, "q6_k": 18}
TEXT = ROOT / "seeds" / "koebenhavn-sof-hovedmed-2015-referat.txt"


def requantize(source: Path, target: Path, kind: str, threads: int) -> None:
    """Write ``source`` as ``kind`` with llama.cpp's quantiser (requantising an already quantised file)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[kind]
    params.allow_requantize = True
    params.nthread = threads
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params)) != 0:
        raise RuntimeError(f"llama.cpp could not quantise {source} to {kind}")


def measure(path: Path, threads: int, context: int, tokens: int, rounds: int, flash_attn: bool) -> dict[str, object]:
    """Prompt tokens/s for ``path``: ``rounds`` evaluations of the same ``tokens`` tokens from an empty context."""
    from llama_cpp import Llama

    llm = Llama(str(path), n_ctx=context, n_threads=threads, n_threads_batch=threads, n_batch=512, use_mmap=False, flash_attn=flash_attn, verbose=False)
    ids = llm.tokenize(TEXT.read_text("utf-8").encode())[:tokens]
    rates = []
    for _ in range(rounds):
        llm.reset()
        start = time.perf_counter()
        llm.eval(ids)
        rates.append(len(ids) / (time.perf_counter() - start))
    return {"model": path.name, "flash_attn": flash_attn, "tokens": len(ids), "tokens_per_s": [round(r, 1) for r in rates], "median": round(statistics.median(rates), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=800)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requantize", default="", help=f"comma-separated formats also to measure: {', '.join(FTYPES)}")
    parser.add_argument("--flash-attn", action="store_true", help="also measure the configured model with flash attention")
    args = parser.parse_args()
    s = Settings()
    model = s.llm_model_path
    if not model.exists():
        sys.exit(f"no model at {model}: run `make models` (or set ASSISTANT_LLM_MODEL)")
    kinds = [k for k in args.requantize.split(",") if k]
    unknown = [k for k in kinds if k not in FTYPES]
    if unknown:
        sys.exit(f"unknown format(s) {unknown}; choose from {', '.join(FTYPES)}")
    runs = [measure(model, s.llm_threads, s.llm_context, args.tokens, args.rounds, False)]
    if args.flash_attn:
        runs.append(measure(model, s.llm_threads, s.llm_context, args.tokens, args.rounds, True))
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            target = Path(tmp) / f"{model.stem}.{kind}.gguf"
            requantize(model, target, kind, s.llm_threads)
            runs.append(measure(target, s.llm_threads, s.llm_context, args.tokens, args.rounds, False))
            target.unlink()
    for run in runs:
        print(f"{run['model']:>60} flash_attn={run['flash_attn']!s:5}: {run['median']} prompt tokens/s {run['tokens_per_s']}")
    print(f"saved {save('prompt_throughput', {'runs': runs}, s)}")


if __name__ == "__main__":
    main()
