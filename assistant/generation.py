"""Answer writing with a local GGUF model through llama-cpp-python."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class ModelFileMissing(RuntimeError):
    """The GGUF file is not where the settings say."""


class Generator:
    """Streams a chat completion from a GGUF model; loads it on first use, one call at a time.

    llama.cpp contexts are not thread-safe, so concurrent callers (chat users) are served in turn.
    """

    def __init__(
        self,
        model_path: Path,
        threads: int = 2,
        context: int = 4096,
        max_tokens: int = 320,
        temperature: float = 0.1,
        repeat_penalty: float = 1.1,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.context = context
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.repeat_penalty = repeat_penalty
        self._llm: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model (once)."""
        if self._llm is not None:
            return
        if not self.model_path.is_file():
            raise ModelFileMissing(
                f"GGUF model not found at {self.model_path}; run `assistant setup-models` (or `make run`), "
                "or set ASSISTANT_LLM_MODEL to a GGUF file"
            )
        from llama_cpp import Llama

        self._llm = Llama(
            model_path=str(self.model_path),
            n_ctx=self.context,
            n_threads=self.threads,
            n_threads_batch=self.threads,
            n_batch=512,
            verbose=False,
        )

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Yield the answer's text piece by piece."""
        self.warm_up()
        with self._lock:
            for part in self._llm.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                repeat_penalty=self.repeat_penalty,
                seed=0,
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta
