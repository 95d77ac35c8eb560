"""The benchmarks' shared result writer: every result names the machine and the settings it was measured under."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.settings import Settings
from bench import _common


def test_a_result_records_machine_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_common, "RESULTS", tmp_path / "results")
    (tmp_path / "models" / "multilingual-e5-small").mkdir(parents=True)
    settings = Settings(llm_threads=1, top_k=3, models_dir=tmp_path / "models")
    path = _common.save("example", {"p50_ms": 12.5, "settings": {"batch_size": 4}}, settings)
    saved = json.loads(path.read_text())
    assert path == tmp_path / "results" / "example.json"
    assert saved["benchmark"] == "example" and saved["p50_ms"] == 12.5
    assert saved["machine"]["cores"] >= 1
    noted = saved["settings"]
    assert noted["llm_threads"] == 1 and noted["top_k"] == 3 and noted["batch_size"] == 4
    assert noted["embedding_backend"] == settings.embedding_backend
    # model files by name, not by where they happen to lie on the measuring machine
    assert noted["llm_model"] == settings.llm_model_path.name != ""
    assert noted["embedding_model"] == "multilingual-e5-small"


def test_a_hub_id_is_recorded_whole() -> None:
    assert _common.noted(Settings(embedding_model="intfloat/multilingual-e5-base"))["embedding_model"] == "intfloat/multilingual-e5-base"


def test_the_readmes_figures_are_the_saved_results() -> None:
    """README.md's and bench/README.md's generated sections say exactly what bench/results/ holds."""
    from bench import report

    for path, text in report.rendered(report.load()).items():
        assert path.read_text("utf-8") == text, f"{path} is out of date with bench/results/; run `python -m bench.report`"


def test_the_readme_is_a_short_guide_naming_every_module() -> None:
    from bench._common import ROOT

    readme = (ROOT / "README.md").read_text("utf-8")
    assert len(readme.splitlines()) <= 150
    for module in (ROOT / "assistant").rglob("*.py"):
        name = "setup_models/" if module.parent.name == "setup_models" else module.name
        assert module.name == "__init__.py" and module.parent.name == "assistant" or name in readme, name
