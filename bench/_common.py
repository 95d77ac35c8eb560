"""Shared helpers for the benchmarks: machine description and result files."""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent  #: the source checkout
SHARED = ROOT.parent / "shared"  #: the shared corpora and models notes
RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "python": platform.python_version()}


#: The settings that change speed, memory or recall: every result records them (model files by name).
_NOTED = (
    "embedding_model", "embedding_backend", "embedding_threads", "embedding_batch_size", "chunk_size", "chunk_overlap",
    "retrieval_mode", "retrieval_depth", "rrf_k", "top_k", "translate_questions", "llm_model", "llm_threads",
    "llm_context", "llm_max_tokens", "llm_keep_system_state", "context_sentences", "context_chars", "store", "llm_url",
    "chat_concurrency", "embedding_url", "embedding_server_batch", "embedding_concurrency", "section_weights", "prefer_weight",
    "evidence_candidates", "evidence_rank_weight", "evidence_decline_score", "evidence_strong_similarity", "rerank_url",
)  # fmt: skip


def noted(settings: Settings) -> dict[str, Any]:
    """The speed-relevant settings a result was measured under, as JSON values."""
    values = settings.model_dump(include=set(_NOTED))
    # The models actually loaded (the settings leave them empty for the packaged defaults), by name: a hub id stays whole.
    values["llm_model"] = settings.llm_model_path.name
    embedding = settings.embedding_model_path
    values["embedding_model"] = Path(embedding).name if Path(embedding).exists() else embedding
    return dict(sorted(values.items()))


def save(name: str, result: dict[str, Any], settings: Settings) -> Path:
    """Write ``result`` (with the machine, the time and ``settings``) to bench/results/<name>.json and return the path.

    A result's own "settings" entry (what the benchmark overrode or adds) is kept over the recorded ones.
    """
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    result = {**result, "settings": {**noted(settings), **result.get("settings", {})}}
    payload = {"benchmark": name, "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), **result}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path


def free_port() -> int:
    """A port nobody listens on, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dir_size(path: Path) -> int:
    """Bytes on disk under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
