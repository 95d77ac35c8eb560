from __future__ import annotations

from pathlib import Path

import pytest

from assistant.generation import Generator, ModelFileMissing


def test_missing_model_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelFileMissing, match="assistant setup-models"):
        Generator(tmp_path / "absent.gguf").warm_up()


def test_real_gguf_streams_through_the_chat_template(small_generator: Generator) -> None:
    pieces = list(small_generator.stream([{"role": "user", "content": "Count from 1 to 10, separated by commas."}]))
    assert len(pieces) > 1 and "".join(pieces).strip()
