from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import Settings


def test_every_setting_is_described() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_THREADS", "1")
    monkeypatch.setenv("ASSISTANT_LLM_MODEL", str(tmp_path / "my.gguf"))
    s = Settings()
    assert s.llm_threads == 1 and s.llm_model_path == tmp_path / "my.gguf"


def test_defaults_are_local_and_safe() -> None:
    s = Settings()
    assert s.host == "127.0.0.1"
    assert s.llm_model_path.name == "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert Path(s.embedding_model_path).name == "multilingual-e5-small"
