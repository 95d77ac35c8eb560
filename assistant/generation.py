"""Answer writing with a local GGUF model through llama-cpp-python."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .settings import Settings


class ModelFileMissing(RuntimeError):
    """The GGUF file is not where the settings say."""


#: A marker's start as far as it is written: "[", then the numbers of a list or range so far ("[1, ", "[1-").
_MARKER_START = r"\[(?:\d+\s*[-,;]\s*)*"


class WordsBeforeEnd:
    """A llama.cpp logits processor that rules out ending a reply before it has a word.

    The small models sometimes write only the passage markers ("[1] [2][3]") and stop, even beside a passage that
    states the answer (the example question in Danish did); such a reply is neither an answer nor an abstention.
    Until the reply has a letter or digit outside its markers, control tokens (end of turn) are not allowed, and once a
    marker is complete, neither is opening another one: the model has to write what the passages say.
    """

    _MARKERS = re.compile(_MARKER_START + r"\d*\]?")  # also a marker still being written, "[1", "[1, 2"

    def __init__(self, end_tokens: list[int], marker_tokens: list[int], detokenize: Callable[[list[int]], bytes]) -> None:
        self.end_tokens = end_tokens
        self.marker_tokens = marker_tokens
        self.detokenize = detokenize
        self.calls = 0
        self.has_words = False

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        written, self.calls = self.calls, self.calls + 1
        if self.has_words:
            return scores
        text = self.detokenize(list(input_ids[len(input_ids) - written :])).decode("utf-8", "ignore") if written else ""
        if any(ch.isalnum() for ch in self._MARKERS.sub("", text)):
            self.has_words = True
            return scores
        scores = scores.copy()
        scores[self.end_tokens] = -np.inf
        if text.rstrip().endswith("]"):
            scores[self.marker_tokens] = -np.inf
        return scores


class MarkersWithin:
    """A llama.cpp logits processor that rules out a marker naming no passage: after "[" (or after a number and a
    separator of a list or range, "[1, " "[1-"), only digits that can still make a number from 1 to ``count``, so every
    marker the model writes points at passages it was given."""

    _OPEN = re.compile(_MARKER_START + r"(\d*)$")  # the number being written inside a marker still open

    def __init__(self, count: int, digit_tokens: dict[int, str], detokenize: Callable[[list[int]], bytes]) -> None:
        valid = [str(n) for n in range(1, count + 1)]
        self.prefixes = {v[:k] for v in valid for k in range(1, len(v) + 1)}
        self.digit_tokens = digit_tokens  #: token → its digits, for the tokens that are digits only
        self.detokenize = detokenize
        self.calls = 0

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        written, self.calls = self.calls, self.calls + 1
        if not written:
            return scores
        tail = self.detokenize(list(input_ids[len(input_ids) - min(written, 4) :])).decode("utf-8", "ignore")
        opened = self._OPEN.search(tail)
        if opened is None:
            return scores
        banned = [t for t, digits in self.digit_tokens.items() if opened.group(1) + digits not in self.prefixes]
        scores = scores.copy()
        scores[banned] = -np.inf
        return scores


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
        keep_system_state: bool = True,
    ) -> None:
        self.model_path = Path(model_path)
        self.threads = threads
        self.context = context
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.repeat_penalty = repeat_penalty
        self.keep_system_state = keep_system_state
        self._llm: Any = None
        self._lock = threading.Lock()
        self._formatter: Any = None
        self._special: tuple[list[int], list[int], dict[int, str]] | None = None
        self._system_tokens: dict[str, list[int]] = {}  # system message → its tokens at the start of a prompt
        self._system_states: dict[str, bytes] = {}  # system message → llama.cpp's KV state after those tokens

    @classmethod
    def from_settings(cls, settings: Settings) -> Generator:
        """The generator the settings describe."""
        s = settings
        return cls(s.llm_model_path, s.llm_threads, s.llm_context, s.llm_max_tokens, s.llm_temperature, s.llm_repeat_penalty, s.llm_keep_system_state)

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
            # Read, not mapped: llama.cpp repacks the weights for the CPU anyway, and a mapped file stays resident
            # beside the repacked copy (1.98 GB resident for the 1.5B model mapped, 1.38 GB read).
            use_mmap=False,
            verbose=False,
        )
        self._special_tokens()  # a scan of the vocabulary (≈ 0.6 s): at start rather than in the first answer
        template = self._llm.metadata.get("tokenizer.chat_template")
        if template and self.keep_system_state:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = self._llm._model
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=model.token_get_text(self._llm.token_eos()),
                bos_token=model.token_get_text(self._llm.token_bos()) if self._llm.token_bos() != -1 else "",
            )

    def _special_tokens(self) -> tuple[list[int], list[int], dict[int, str]]:
        """The vocabulary's control tokens (end of turn, start of a turn, …), the tokens that open a "[n]" marker, and
        the tokens that are digits only."""
        if self._special is None:
            import llama_cpp

            llm = self._llm
            vocab = llm._model.vocab
            control = [t for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_control(vocab, t) or llama_cpp.llama_vocab_is_eog(vocab, t)]
            texts = [llm.detokenize([t]) for t in range(llm.n_vocab())]
            markers = [t for t, text in enumerate(texts) if text.lstrip().startswith(b"[")]
            digits = {t: text.decode() for t, text in enumerate(texts) if text.isdigit()}
            self._special = (control, markers, digits)
        return self._special

    def _prefix(self, system: str) -> list[int]:
        """The tokens every prompt that opens with this system message starts with (chat template included)."""
        if system not in self._system_tokens:
            tokens: list[list[int]] = []
            for user in ("a", "b"):
                prompt = self._formatter(messages=[{"role": "system", "content": system}, {"role": "user", "content": user}])
                tokens.append(self._llm.tokenize(prompt.prompt.encode("utf-8"), add_bos=not prompt.added_special, special=True))
            self._system_tokens[system] = tokens[0][: self._llm.longest_token_prefix(*tokens)]
        return self._system_tokens[system]

    def _resume_after(self, system: str) -> None:
        """Make llama.cpp's evaluated tokens start with this system message's, so the answer evaluates only the rest.

        llama-cpp-python reuses the longest common start of the last prompt by itself, but a call in between with
        another prompt (the question's translation) evicts it. So the KV state after the system message is kept
        (≈ 5 MB for the 1.5B model; the answer's fixed ≈ 160 tokens are ≈ 3 s of prompt on 2 cores) and put back.
        """
        if self._formatter is None:
            return
        import ctypes

        import llama_cpp

        llm, prefix = self._llm, self._prefix(system)
        n = len(prefix)
        if not n or (llm.n_tokens >= n and list(llm.input_ids[:n]) == prefix):
            return
        ctx = llm._ctx.ctx
        state = self._system_states.get(system)
        if state is None:
            llm.reset()
            llm.eval(prefix)
            size = llama_cpp.llama_state_seq_get_size(ctx, 0)
            buffer = (ctypes.c_uint8 * size)()
            written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
            if len(self._system_states) >= 4:  # one a language is the use; bound it for other callers
                self._system_states.pop(next(iter(self._system_states)))
            self._system_states[system] = bytes(buffer[:written])
            return
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if not llama_cpp.llama_state_seq_set_data(ctx, buffer, len(state), 0):
            llm.reset()  # could not restore: evaluate the whole prompt as usual
            return
        llm.input_ids[:n] = prefix
        llm.n_tokens = n
        llm._requires_eval = True

    def stream(self, messages: list[dict[str, str]], passages: int = 0) -> Iterator[str]:
        """Yield the answer's text piece by piece; it has at least one word (see WordsBeforeEnd), and with
        ``passages`` given, its markers name only passages 1 to ``passages`` (see MarkersWithin)."""
        self.warm_up()
        from llama_cpp import LogitsProcessorList

        llm = self._llm
        control, markers, digits = self._special_tokens()
        detokenize = llm.detokenize
        processors = LogitsProcessorList([WordsBeforeEnd(control, markers, detokenize)])
        if passages:
            processors.append(MarkersWithin(passages, digits, detokenize))
        with self._lock:
            if messages and messages[0]["role"] == "system":
                self._resume_after(messages[0]["content"])
            for part in self._llm.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                repeat_penalty=self.repeat_penalty,
                seed=0,
                logits_processor=processors,
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta
