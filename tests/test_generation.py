from __future__ import annotations

from pathlib import Path

import pytest

from assistant.generation import Generator, ModelFileMissing
from tests.conftest import MODELS, require_models


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelFileMissing, match="assistant setup-models"):
        Generator(tmp_path / "absent.gguf").warm_up()


def test_real_gguf_streams_through_the_chat_template(small_generator: Generator) -> None:
    pieces = list(small_generator.stream([{"role": "user", "content": "Count from 1 to 10, separated by commas."}]))
    assert len(pieces) > 1 and "".join(pieces).strip()


SYSTEM = {"role": "system", "content": "You answer questions about Danish municipal minutes. " * 8}


def _conversation(generator: Generator) -> str:
    """An answer, an unrelated call (like a question's translation), then a second answer sharing the system prompt."""
    list(generator.stream([SYSTEM, {"role": "user", "content": "Name the capital of Denmark."}]))
    list(generator.stream([{"role": "user", "content": "Translate into Danish: When does the agreement take effect?"}]))
    return "".join(generator.stream([SYSTEM, {"role": "user", "content": "Count from 1 to 5."}]))


@pytest.mark.real
def test_prompt_cache_keeps_states_and_changes_no_answer() -> None:
    """The cache resumes from a stored state; the answer must be the one an uncached model writes."""
    require_models("qwen2.5-coder-0.5b-instruct-q5_0.gguf")
    path = MODELS / "qwen2.5-coder-0.5b-instruct-q5_0.gguf"
    cached = Generator(path, threads=2, max_tokens=24, prompt_cache_mb=64)
    plain = Generator(path, threads=2, max_tokens=24, prompt_cache_mb=0)
    assert _conversation(cached) == _conversation(plain)
    assert cached._llm.cache is not None and cached._llm.cache.cache_size > 0  # noqa: SLF001
    assert plain._llm.cache is None  # noqa: SLF001
