"""Answer writing: a local GGUF model through llama-cpp-python in this process, or any OpenAI-compatible server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import llama_adapter
from .danish import repetition_start
from .interfaces import Message
from .markers import OPEN_MARKER, PARTIAL_MARKER, gbnf

if TYPE_CHECKING:
    from .settings import Settings


class ModelFileMissing(RuntimeError):
    """The GGUF file is not where the settings say."""


class WordsBeforeEnd:
    """A llama.cpp logits processor that rules out ending a reply before it has a word.

    The small models sometimes write only the passage markers ("[1] [2][3]") and stop, even beside a passage that
    states the answer (the example question in Danish did); such a reply is neither an answer nor an abstention.
    Until the reply has a letter or digit outside its markers, control tokens (end of turn) are not allowed, and once a
    marker is complete, neither is opening another one: the model has to write what the passages say.
    """

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
        if any(ch.isalnum() for ch in PARTIAL_MARKER.sub("", text)):
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
        opened = OPEN_MARKER.search(tail)
        if opened is None:
            return scores
        banned = [t for t, digits in self.digit_tokens.items() if opened.group(1) + digits not in self.prefixes]
        scores = scores.copy()
        scores[banned] = -np.inf
        return scores


class ChoiceProbe:
    """A llama.cpp logits processor for a one-token choice: it records the model's distribution over the allowed
    tokens (the digits "0" … "n") and rules out every other token, so the reply is one of them."""

    def __init__(self, allowed: list[int]) -> None:
        self.allowed = allowed
        self.probabilities: list[float] = []

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        logits = scores[self.allowed].astype(np.float64)
        weights = np.exp(logits - logits.max())
        self.probabilities = (weights / weights.sum()).tolist()
        masked = np.full_like(scores, -np.inf)
        masked[self.allowed] = scores[self.allowed]
        return masked


def choice_grammar(options: int) -> str:
    """A GBNF grammar for one digit from 0 to ``options`` (at most 9)."""
    return f"root ::= [0-{min(options, 9)}]"


class LlamaGenerator:
    """Streams a chat completion from a GGUF model in this process; loads it on first use, one call at a time.

    llama.cpp contexts are not thread-safe, so concurrent callers (chat users) are served in turn.
    """

    def __init__(
        self, model_path: Path, *, threads: int, context: int, max_tokens: int, temperature: float, repeat_penalty: float,
        keep_system_state: bool,
    ) -> None:  # fmt: skip
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
    def from_settings(cls, settings: Settings, **overrides: Any) -> LlamaGenerator:
        """The generator the settings describe (``overrides``: constructor arguments to set otherwise)."""
        s = settings
        values = dict(
            threads=s.llm_threads, context=s.llm_context, max_tokens=s.llm_max_tokens, temperature=s.llm_temperature,
            repeat_penalty=s.llm_repeat_penalty, keep_system_state=s.llm_keep_system_state,
        )  # fmt: skip
        return cls(overrides.pop("model_path", s.llm_model_path), **{**values, **overrides})

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
        if self.keep_system_state:
            self._formatter = llama_adapter.chat_formatter(self._llm)

    def _special_tokens(self) -> tuple[list[int], list[int], dict[int, str]]:
        """The vocabulary's control tokens (end of turn, start of a turn, …), the tokens that open a "[n]" marker, and
        the tokens that are digits only."""
        if self._special is None:
            llm = self._llm
            texts = [llm.detokenize([t]) for t in range(llm.n_vocab())]
            markers = [t for t, text in enumerate(texts) if text.lstrip().startswith(b"[")]
            digits = {t: text.decode() for t, text in enumerate(texts) if text.isdigit()}
            self._special = (llama_adapter.control_tokens(llm), markers, digits)
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
        llm, prefix = self._llm, self._prefix(system)
        n = len(prefix)
        if not n or (llm.n_tokens >= n and list(llm.input_ids[:n]) == prefix):
            return
        state = self._system_states.get(system)
        if state is None:
            if len(self._system_states) >= 4:  # one a language is the use; bound it for other callers
                self._system_states.pop(next(iter(self._system_states)))
            self._system_states[system] = llama_adapter.evaluate_prefix(llm, prefix)
            return
        llama_adapter.restore_prefix(llm, prefix, state)  # if refused, the whole prompt is evaluated as usual

    def choose(self, messages: list[Message], options: int) -> list[float]:
        """The model's probabilities of replying "0", "1", … ``options`` (a choice among numbered options, 0 for
        none), read off its next-token distribution in one step; the reply itself is the likeliest digit."""
        self.warm_up()
        from llama_cpp import LogitsProcessorList

        llm = self._llm
        digits = {text: token for token, text in self._special_tokens()[2].items()}
        allowed = [digits[str(n)] for n in range(min(options, 9) + 1)]
        probe = ChoiceProbe(allowed)
        with self._lock:
            if messages and messages[0]["role"] == "system":
                self._resume_after(messages[0]["content"])
            llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, seed=0, logits_processor=LogitsProcessorList([probe]))
        return probe.probabilities

    def stream(self, messages: list[Message], passages: int = 0) -> Iterator[str]:
        """Yield the answer's text piece by piece; it has at least one word (see WordsBeforeEnd), and with
        ``passages`` given, its markers name only passages 1 to ``passages`` (see MarkersWithin). A reply that starts
        repeating itself is stopped there (``danish.repetition_start``)."""
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
            reply = self._llm.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=self.max_tokens,
                temperature=self.temperature,
                repeat_penalty=self.repeat_penalty,
                seed=0,
                logits_processor=processors,
            )
            with closing(reply):  # stopping early (a loop) ends llama.cpp's generation there
                text = ""
                for part in reply:
                    delta = part["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield delta
                        text += delta
                        if repetition_start(text) is not None:
                            break


class ModelServerError(RuntimeError):
    """The answer model's server could not give a reply; the message names the URL and what to do."""


class ServerGenerator:
    """Streams a chat completion from an OpenAI-compatible server (llama.cpp's server, vLLM, Ollama, …) through the
    ``openai`` client: no model is loaded in this process, and many callers can wait on the server at once.

    Where the server takes a grammar (llama.cpp's ``grammar`` field, vLLM's structured outputs), the reply is held to
    the same rules the in-process model's logits processors keep: markers name given passages only, and a word comes
    before the end. The client retries, with backoff, a connection refused, a timeout or a 5xx before the reply
    begins; a reply cut off midway is not resumed but reported, so nothing half-written becomes an answer.
    """

    def __init__(
        self, url: str, *, model: str, api_key: str, flavor: str, timeout: float, retries: int, max_tokens: int, temperature: float,
        repeat_penalty: float,
    ) -> None:  # fmt: skip
        self.url = url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.flavor = flavor
        self.timeout = timeout
        self.retries = retries
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.repeat_penalty = repeat_penalty
        self._client: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerGenerator:
        """The server generator the settings describe."""
        s = settings
        return cls(
            s.llm_url, model=s.llm_api_model, api_key=s.llm_api_key.get_secret_value(), flavor=s.llm_api_flavor, timeout=s.llm_timeout,
            retries=s.llm_retries, max_tokens=s.llm_max_tokens, temperature=s.llm_temperature, repeat_penalty=s.llm_repeat_penalty,
        )  # fmt: skip

    def warm_up(self) -> None:
        """Make the client (it connects on the first reply)."""
        if self._client is None:
            from openai import OpenAI

            # A local server wants no key, but the client insists on one.
            self._client = OpenAI(base_url=self.url, api_key=self.api_key or "none", timeout=self.timeout, max_retries=self.retries)

    def _extra(self, passages: int) -> dict[str, Any]:
        """What this kind of server takes beyond the OpenAI fields: repeat penalty and, with passages, the grammar."""
        if self.flavor == "llama.cpp":
            return {"repeat_penalty": self.repeat_penalty, **({"grammar": gbnf(passages)} if passages else {})}
        if self.flavor == "vllm":
            return {"repetition_penalty": self.repeat_penalty, **({"structured_outputs": {"grammar": gbnf(passages)}} if passages else {})}
        return {}

    def choose(self, messages: list[Message], options: int) -> list[float]:
        """The probabilities of replying "0" … ``options`` (0: none), from the server's log-probabilities of the first
        token where it gives them (else the one digit it replied, certain); held to the digits by a grammar where the
        server takes one."""
        import httpx
        import openai

        self.warm_up()
        top = min(options, 9)
        extra: dict[str, Any] = {}
        if self.flavor == "llama.cpp":
            extra = {"grammar": choice_grammar(top)}
        elif self.flavor == "vllm":
            extra = {"structured_outputs": {"grammar": choice_grammar(top)}}
        try:
            reply = self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=1, temperature=0.0, seed=0, logprobs=True, top_logprobs=top + 1, extra_body=extra,
            )  # fmt: skip
        except (openai.APIError, httpx.HTTPError) as exc:
            raise ModelServerError(self._explain(exc, False)) from None
        choice = reply.choices[0]
        weights = [0.0] * (top + 1)
        content = choice.logprobs.content if choice.logprobs and choice.logprobs.content else []
        for candidate in content[0].top_logprobs if content else []:
            token = candidate.token.strip()
            if token.isdigit() and int(token) <= top:
                weights[int(token)] += float(np.exp(candidate.logprob))
        said = (choice.message.content or "").strip()[:1]
        if not any(weights) and said.isdigit() and int(said) <= top:
            weights[int(said)] = 1.0
        total = sum(weights)
        return [w / total for w in weights] if total else [1.0] + [0.0] * top

    def stream(self, messages: list[Message], passages: int = 0) -> Iterator[str]:
        """Yield the reply's text piece by piece; with ``passages`` given (and a server that takes a grammar), its
        markers name only passages 1 to ``passages``. Raises ModelServerError, one line naming the URL and the fix."""
        import httpx
        import openai

        self.warm_up()
        began = False
        try:
            reply = self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True, max_tokens=self.max_tokens, temperature=self.temperature, seed=0,
                extra_body=self._extra(passages),
            )  # fmt: skip
            finished, text = False, ""
            for chunk in reply:
                if not chunk.choices:
                    continue
                finished = finished or chunk.choices[0].finish_reason is not None
                delta = chunk.choices[0].delta.content
                if delta:
                    began = True
                    yield delta
                    text += delta
                    if repetition_start(text) is not None:
                        finished = True  # a loop: stop asking for more
                        reply.close()
                        break
        except (openai.APIError, httpx.HTTPError) as exc:
            raise ModelServerError(self._explain(exc, began)) from None
        if not finished:  # the stream closed without saying why it ended: the server went away
            raise ModelServerError(self._explain(ConnectionError("stream closed early"), began))

    def _explain(self, exc: Exception, began: bool) -> str:
        import openai

        fix = f"check that the model server runs (`assistant serve-model` starts one) and that ASSISTANT_LLM_URL={self.url} is right"
        if began:
            return f"the answer model at {self.url} stopped in the middle of a reply ({type(exc).__name__}); ask again once it runs ({fix})"
        if isinstance(exc, openai.APITimeoutError):
            return f"the answer model at {self.url} did not reply within {self.timeout:.0f} s; raise ASSISTANT_LLM_TIMEOUT or {fix}"
        if isinstance(exc, openai.APIStatusError):
            return f"the answer model at {self.url} answered HTTP {exc.status_code} ({str(exc.message)[:160]}); {fix}"
        return f"the answer model at {self.url} cannot be reached ({type(exc).__name__}) after {self.retries} retries; {fix}"


def generator_from_settings(settings: Settings) -> LlamaGenerator | ServerGenerator:
    """The answer model the settings name: a server when ``llm_url`` is set, else the GGUF in this process."""
    return ServerGenerator.from_settings(settings) if settings.llm_url else LlamaGenerator.from_settings(settings)


def model_server_command(settings: Settings, port: int | None = None, model: Path | None = None) -> list[str]:
    """The command that serves a GGUF (default: the settings' model) with llama-cpp-python's OpenAI-compatible server
    on 127.0.0.1, with the settings' threads and context; several app processes can then share one model process."""
    import sys

    threads = str(settings.llm_threads)
    return [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model or settings.llm_model_path),
        "--host", "127.0.0.1", "--port", str(port or settings.serve_model_port), "--n_ctx", str(settings.llm_context),
        "--n_threads", threads, "--n_threads_batch", threads, "--n_batch", "512", "--use_mmap", "False",
        # By default the server drops a streaming reply when another request arrives: with several users, none would finish.
        "--interrupt_requests", "False",
    ]  # fmt: skip
