"""What ``llama_adapter`` relies on in llama-cpp-python, pinned against the installed version and the real 0.5B model."""

from __future__ import annotations

from importlib.metadata import version

import numpy as np
import pytest

from assistant import llama_adapter
from tests.conftest import small_model

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def llm():  # noqa: ANN201
    generator = small_model()
    generator.warm_up()
    return generator._llm  # noqa: SLF001 - the adapter's subject


def test_the_version_the_adapter_was_written_for() -> None:
    # A new llama-cpp-python may rename what the adapter reaches into: these tests say what to re-check.
    assert version("llama-cpp-python") == "0.3.36"


def test_private_attributes_the_adapter_uses_exist(llm) -> None:  # noqa: ANN001
    assert llm._model.vocab is not None and llm._ctx.ctx is not None  # noqa: SLF001
    assert isinstance(llm._requires_eval, bool)  # noqa: SLF001


def test_control_tokens_include_the_end_of_turn(llm) -> None:  # noqa: ANN001
    tokens = llama_adapter.control_tokens(llm)
    assert llm.token_eos() in tokens and len(tokens) < llm.n_vocab() // 10
    end_of_turn = llm.tokenize(b"<|im_end|>", add_bos=False, special=True)
    assert len(end_of_turn) == 1 and end_of_turn[0] in tokens


def test_the_chat_formatter_renders_the_models_template(llm) -> None:  # noqa: ANN001
    prompt = llama_adapter.chat_formatter(llm)(messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "U"}])
    assert prompt.prompt.startswith("<|im_start|>system\nS<|im_end|>") and "<|im_start|>user\nU" in prompt.prompt


def test_a_restored_prefix_continues_as_a_fresh_evaluation_does(llm) -> None:  # noqa: ANN001
    prefix = llm.tokenize(b"You answer questions about Danish municipal minutes.", add_bos=False)
    rest = llm.tokenize(b" The capital of Denmark is", add_bos=False)
    state = llama_adapter.evaluate_prefix(llm, prefix)
    assert isinstance(state, bytes) and len(state) > 0
    llm.reset()
    llm.eval(llm.tokenize(b"Something else entirely, to overwrite the context.", add_bos=False))
    assert llama_adapter.restore_prefix(llm, prefix, state)
    assert llm.n_tokens == len(prefix) and list(llm.input_ids[: len(prefix)]) == prefix
    llm.eval(rest)
    resumed = np.array(llm.scores[llm.n_tokens - 1])
    llm.reset()
    llm.eval(prefix + rest)
    fresh = np.array(llm.scores[llm.n_tokens - 1])
    assert int(resumed.argmax()) == int(fresh.argmax())
    np.testing.assert_allclose(resumed, fresh, atol=0.05)
