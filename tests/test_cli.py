"""The CLI through the real path: real embedding model, real FAISS index, real GGUF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.settings import Settings

runner = CliRunner()


@pytest.mark.parametrize("command", ["index", "ask", "batch", "serve", "serve-model", "serve-embeddings", "setup-models", "settings"])
def test_every_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_index_then_retrieve_only_batch(tmp_path: Path, tiny_corpus: Path, real_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    result = runner.invoke(app, ["index", str(tiny_corpus), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "indexed 2 documents" in result.output and (index_dir / "vectors.faiss").exists()
    again = runner.invoke(app, ["index", str(tiny_corpus), "--index-dir", str(index_dir)])
    assert "up to date" in again.output

    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "v", "question": "Hvornår skal vold politianmeldes?"}\n', "utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(questions), "--output", str(out), "--retrieve-only", "--top-k", "2", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert record["id"] == "v" and record["answer"] is None
    assert "72 timer" in record["passages"][0]["text"] and record["passages"][0]["location"]["heading"] == "Ad. 2 Vold og trusler"


def test_case_prints_a_matter_s_meetings_newest_first(tmp_path: Path, case_corpus: Path, real_embedder) -> None:  # noqa: ANN001
    index_dir = tmp_path / "index"
    assert runner.invoke(app, ["index", str(case_corpus), "--index-dir", str(index_dir)]).exit_code == 0
    result = runner.invoke(app, ["case", "24-000123", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Case 24-000123, newest meeting first:",
        "  2024-03-21 · Byrådet · Byrådet godkendte Økonomiudvalgets indstilling. (items.jsonl:3)",
        "  2024-03-12 · Økonomiudvalget · Økonomiudvalget anbefaler overfor Byrådet, at indstillingen godkendes. (items.jsonl:2)",
        "  2024-03-04 · Skole-, Børne- og Ungeudvalget · Anbefales. (items.jsonl:1)",
    ]
    as_json = json.loads(runner.invoke(app, ["case", "24-000123", "--json", "--index-dir", str(index_dir)]).output)
    assert [m["kind"] for m in as_json["meetings"]] == ["approved", "recommended", "recommended"]
    standing = runner.invoke(app, ["case", "21-000009", "--index-dir", str(index_dir)])
    assert standing.exit_code == 1 and "no case 21-000009 in the index" in standing.output


def test_batch_without_a_usable_index_stops_at_once(tmp_path: Path) -> None:
    questions = tmp_path / "q.txt"
    questions.write_text("Hvad?\nHvornår?\n", "utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["batch", str(questions), "--output", str(out), "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and not out.exists()
    assert result.output.strip().count("\n") == 0 and "assistant index --index-dir" in result.output


def test_errors_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "Hvad?", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "assistant index --index-dir" in result.output


def test_example_question_cites_the_72_hour_passage(seeds_index, seeds_settings: Settings) -> None:  # noqa: ANN001
    """The skeleton's acceptance test, with the default 1.5B model."""
    result = runner.invoke(app, ["ask", "What was decided about police reporting of violence?", "--json", "--index-dir", str(seeds_settings.index_dir)])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert not record["abstained"] and record["answer"]
    cited = {c["passage_id"] for c in record["citations"]}
    cited_passages = [p for p in record["passages"] if p["id"] in cited]
    assert any(p["doc"] == "koebenhavn-sof-hovedmed-2015-referat.txt" and "72 timer" in p["text"] for p in cited_passages), record
    assert "72" in record["answer"]


def test_errors_a_user_can_act_on_are_one_line_naming_the_fix(tmp_path: Path, tiny_corpus: Path, seeds_settings: Settings, seeds_index, fake_embedder) -> None:  # noqa: ANN001
    """Missing model file, stale index, index of another embedding model, unreadable input: one line each, with the fix."""
    from tests.conftest import build

    other = tmp_path / "other-model-index"
    build([tiny_corpus], other, fake_embedder)
    seeds = str(seeds_settings.index_dir)
    cases = [
        (["ask", "Hvornår skal vold politianmeldes?", "--index-dir", seeds], {"ASSISTANT_LLM_MODEL": str(tmp_path / "missing.gguf")}, "setup-models"),
        (["ask", "Hvad?", "--index-dir", seeds], {"ASSISTANT_EMBEDDING_MODEL": str(tmp_path / "no-model")}, "ASSISTANT_EMBEDDING_MODEL"),
        (["ask", "Hvad?", "--index-dir", seeds], {"ASSISTANT_CHUNK_SIZE": "700"}, f"rebuild it with: assistant index --index-dir {seeds}"),
        (["ask", "Hvad?", "--index-dir", str(other)], {}, "embedding_model='fake-hashing'"),
        (["index", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "i")], {}, "does not exist; check the path"),
    ]
    for args, env, fix in cases:
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("Loading weights")]
        assert len(lines) == 1 and lines[0].startswith("error: ") and fix in lines[0], (args, result.output)
