"""Shared helpers for the benchmarks: machine description and result files."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "python": platform.python_version()}


def save(name: str, result: dict[str, Any]) -> Path:
    """Write ``result`` (with the machine and time) to bench/results/<name>.json and return the path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), **result}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path


def dir_size(path: Path) -> int:
    """Bytes on disk under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
