"""Peak resident memory of `assistant serve` after a few questions (models loaded, index in memory).

    python -m bench.serve_memory            # starts the server on a free port, asks 3 questions, stops it

Reads VmHWM (peak resident set) and VmRSS of the server process from /proc; the target is ≤ 2.5 GB.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from assistant.settings import Settings
from bench._common import save

QUESTIONS = [
    "What was decided about police reporting of violence?",
    "Hvornår træder den nye MED-aftale i kraft?",
    "Hvem er formand for Beskæftigelsesudvalget?",
]


def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("assistant")
    server = subprocess.Popen([str(exe), "serve", "--port", str(port)], env={**os.environ, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                time.sleep(1)
        after_start = _status(server.pid)
        client = Client(url, verbose=False)
        timings = []
        for q in QUESTIONS[: args.questions]:
            start = time.perf_counter()
            client.predict(q, [], [], [], "", "", api_name="/respond")
            timings.append(round(time.perf_counter() - start, 1))
            print(f"{q!r}: {timings[-1]} s, RSS {_status(server.pid)['VmRSS'] / 1e6:.2f} GB")
        after = _status(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    s = Settings()
    result = {
        "model": s.llm_model_path.name,
        "embedding_model": s.embedding_model_path,
        "llm_context": s.llm_context,
        "rss_after_start_gb": round(after_start["VmRSS"] / 1e6, 2),
        "rss_after_questions_gb": round(after["VmRSS"] / 1e6, 2),
        "peak_rss_gb": round(after["VmHWM"] / 1e6, 2),
        "seconds_per_question": timings,
        "target_peak_rss_gb": 2.5,
    }
    print(f"serve: {result['rss_after_start_gb']} GB after start, peak {result['peak_rss_gb']} GB after {len(timings)} questions")
    print(f"wrote {save('serve_memory', result, s)}")


if __name__ == "__main__":
    main()
