"""Many users at once: concurrent chat users against the real app on 127.0.0.1, through gradio_client.

    python -m bench.load                          # 8 users, the in-process model, then a llama.cpp server
    python -m bench.load --users 4 --backends server

For each backend the app is started as `assistant serve` (and, for "server", the model as `assistant serve-model`,
with ASSISTANT_LLM_URL pointing at it); one user asks alone first (the baseline), then all users ask different
questions at once. Prints each user's latency and error, and saves them. Bounded: every request has a time limit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from assistant.settings import Settings
from bench._common import free_port, save

QUESTIONS = [
    "Hvornår træder den nye MED-aftale i kraft?",
    "What was decided about police reporting of violence?",
    "Hvem er ny konstitueret centerchef?",
    "Hvad handlede høringssvaret fra LMU rådgivning og vejledning om?",
    "Hvornår skal APV'erne for de administrative flytninger udarbejdes?",
    "Who chairs Beskæftigelsesudvalget?",
    "Hvilke niveauer findes der i overgangsperioden i MED?",
    "What did the committee decide about the budget?",
]


def _wait(url: str, process: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{process.args[0]} exited early")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    sys.exit(f"{url} did not come up within {seconds:.0f} s")


def _ask(url: str, question: str, limit: float) -> dict[str, Any]:
    from gradio_client import Client

    start = time.perf_counter()
    try:
        job = Client(url, verbose=False).submit(question, [], [], [], "", "", api_name="/respond")
        history = job.result(timeout=limit)[0]
        content = history[-1]["content"]
        text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)
        error = text if text.startswith("Error") else ""
    except Exception as exc:  # noqa: BLE001 - a failed user is a figure of the run
        text, error = "", f"{type(exc).__name__}: {exc}"
    return {"question": question, "seconds": round(time.perf_counter() - start, 1), "error": error, "answer": text[:200]}


def run(backend: str, users: int, limit: float, settings: Settings) -> dict[str, Any]:
    """The baseline and the concurrent run for one backend ("process" or "server")."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    helpers: list[subprocess.Popen[bytes]] = []
    exe = str(Path(sys.executable).with_name("assistant"))
    try:
        if backend == "server":
            model_port = free_port()
            helpers.append(subprocess.Popen([exe, "serve-model", "--port", str(model_port)], env=env, stderr=subprocess.DEVNULL))
            _wait(f"http://127.0.0.1:{model_port}/v1/models", helpers[-1])
            env["ASSISTANT_LLM_URL"] = f"http://127.0.0.1:{model_port}/v1"
        port = free_port()
        helpers.append(subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{port}/"
        _wait(url, helpers[-1])
        _ask(url, "Hvem er formand for Beskæftigelsesudvalget?", limit)  # warm: models loaded, prompt state kept
        baseline = _ask(url, QUESTIONS[0], limit)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=users) as pool:
            together = list(pool.map(lambda q: _ask(url, q, limit), (QUESTIONS * 2)[:users]))
        wall = time.perf_counter() - start
    finally:
        for process in reversed(helpers):
            process.terminate()
            process.wait(timeout=60)
    seconds = [r["seconds"] for r in together if not r["error"]]
    return {
        "baseline_s": baseline["seconds"],
        "users": together,
        "errors": sum(bool(r["error"]) for r in together),
        "median_s": round(statistics.median(seconds), 1) if seconds else None,
        "max_s": max(seconds) if seconds else None,
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--backends", nargs="+", choices=["process", "server"], default=["process", "server"])
    parser.add_argument("--limit", type=float, default=900, help="seconds one user waits at most")
    args = parser.parse_args()
    settings = Settings()
    result: dict[str, Any] = {"users": args.users}
    for backend in args.backends:
        result[backend] = run(backend, args.users, args.limit, settings)
        r = result[backend]
        print(f"{backend}: alone {r['baseline_s']} s; {args.users} at once: median {r['median_s']} s, slowest {r['max_s']} s, {r['errors']} errors")
        for u in r["users"]:
            print(f"    {u['seconds']:>6} s  {u['question'][:60]!r} {u['error'][:80]}")
    print(f"saved {save('load', result, settings)}")


if __name__ == "__main__":
    main()
