"""The one place that reaches into llama-cpp-python's internals (``Llama._model``, ``Llama._ctx``,
``Llama._requires_eval``), for what its public API does not offer: the vocabulary's control tokens, the chat
template's formatter, and saving and restoring the evaluated state of one prompt prefix.

``tests/test_llama_adapter.py`` pins what this relies on, against the installed version.
"""

from __future__ import annotations

import ctypes
from typing import Any


def control_tokens(llm: Any) -> list[int]:
    """The vocabulary's control and end-of-generation tokens (end of turn, start of a turn, …)."""
    import llama_cpp

    vocab = llm._model.vocab
    return [t for t in range(llm.n_vocab()) if llama_cpp.llama_vocab_is_control(vocab, t) or llama_cpp.llama_vocab_is_eog(vocab, t)]


def chat_formatter(llm: Any) -> Any | None:
    """The model's own chat template as llama-cpp-python renders it (None when the GGUF has none): it tells which
    tokens every prompt with a given system message starts with."""
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    model = llm._model
    bos = model.token_get_text(llm.token_bos()) if llm.token_bos() != -1 else ""
    return Jinja2ChatFormatter(template=template, eos_token=model.token_get_text(llm.token_eos()), bos_token=bos)


def evaluate_prefix(llm: Any, prefix: list[int]) -> bytes:
    """Evaluate ``prefix`` from an empty context and return llama.cpp's state of sequence 0 after it."""
    import llama_cpp

    llm.reset()
    llm.eval(prefix)
    ctx = llm._ctx.ctx
    size = llama_cpp.llama_state_seq_get_size(ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, 0)
    return bytes(buffer[:written])


def restore_prefix(llm: Any, prefix: list[int], state: bytes) -> bool:
    """Put back the state ``evaluate_prefix`` returned for ``prefix``, so that the next completion evaluates only what
    follows it; False (and an empty context) when llama.cpp refuses the state."""
    import llama_cpp

    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if not llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, buffer, len(state), 0):
        llm.reset()
        return False
    n = len(prefix)
    llm.input_ids[:n] = prefix
    llm.n_tokens = n
    llm._requires_eval = True
    return True
