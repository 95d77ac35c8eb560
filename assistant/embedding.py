"""Multilingual sentence embeddings (sentence-transformers), loaded on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


class EmbeddingModelMissing(RuntimeError):
    """The embedding model is not where the settings say."""


class Embedder:
    """Embeds questions and passages with the model's own prefixes; vectors are L2-normalised float32."""

    def __init__(self, model: str, threads: int = 2, batch_size: int = 16, query_prompt: str = "query: ", passage_prompt: str = "passage: ") -> None:
        self.model = model
        self.threads = threads
        self.batch_size = batch_size
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self._st: Any = None

    @property
    def name(self) -> str:
        """The model's identity as the manifest records it: a folder's name or the hub id."""
        path = Path(self.model)
        return path.name if path.is_dir() else self.model

    def check(self) -> bool:
        """Refuse, naming the fix, a local model folder that is not there (without loading anything); returns whether
        the model is local (else it is a hub id)."""
        path = Path(self.model)
        looks_local = path.is_absolute() or self.model.startswith(".") or path.exists()
        if looks_local and not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise EmbeddingModelMissing(
                f"embedding model not found at {path}; run `assistant setup-models` (or `make run`), "
                "or set ASSISTANT_EMBEDDING_MODEL to a sentence-transformers folder"
            )
        return looks_local

    def warm_up(self) -> None:
        """Load the model (once)."""
        if self._st is not None:
            return
        looks_local = self.check()
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        self._st = SentenceTransformer(self.model, device="cpu", local_files_only=looks_local)

    @property
    def dimension(self) -> int:
        """Length of the vectors."""
        self.warm_up()
        get_dim = getattr(self._st, "get_embedding_dimension", None) or self._st.get_sentence_embedding_dimension
        return int(get_dim())

    def _encode(self, texts: list[str], prompt: str, progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Sorting by length keeps padding (wasted work) small inside each batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            vecs = self._st.encode([texts[i] for i in idx], prompt=prompt, batch_size=len(idx), normalize_embeddings=True, convert_to_numpy=True)
            out[idx] = vecs
            if progress:
                progress(len(idx))
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors for questions."""
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Vectors for passages; ``progress`` is called with the number done after each batch."""
        return self._encode(texts, self.passage_prompt, progress)
