"""Answer writing with a local GGUF model through llama-cpp-python."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import Settings


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
        prompt_cache_mb: int = 0,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.context = context
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.repeat_penalty = repeat_penalty
        self.prompt_cache_mb = prompt_cache_mb
        self._llm: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Generator:
        """The generator the settings describe."""
        s = settings
        return cls(s.llm_model_path, s.llm_threads, s.llm_context, s.llm_max_tokens, s.llm_temperature, s.llm_repeat_penalty, s.llm_prompt_cache_mb)

    def warm_up(self) -> None:
        """Load the model (once)."""
        if self._llm is not None:
            return
        if not self.model_path.is_file():
            raise ModelFileMissing(
                f"GGUF model not found at {self.model_path}; run `assistant setup-models` (or `make run`), "
                "or set ASSISTANT_LLM_MODEL to a GGUF file"
            )
        from llama_cpp import Llama, LlamaRAMCache

        self._llm = Llama(
            model_path=str(self.model_path),
            n_ctx=self.context,
            n_threads=self.threads,
            n_threads_batch=self.threads,
            n_batch=512,
            # Read, not mapped: llama.cpp repacks the weights for the CPU anyway, and a mapped file stays resident
            # beside the repacked copy (1.98 GB resident for the 1.5B model mapped, 1.38 GB read).
            use_mmap=False,
            verbose=False,
        )
        if self.prompt_cache_mb:
            # A call with another prompt (the question's translation) evicts llama.cpp's evaluated prefix; the cache
            # keeps past states so the next answer resumes after the fixed system prompt it shares with the last.
            self._llm.set_cache(LlamaRAMCache(capacity_bytes=self.prompt_cache_mb << 20))

    def clear_cache(self) -> None:
        """Forget the stored prompt states (a benchmark does, to time a question the model has not seen)."""
        if self._llm is not None and self._llm.cache is not None:
            with self._lock:
                self._llm.set_cache(type(self._llm.cache)(capacity_bytes=self._llm.cache.capacity_bytes))

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
