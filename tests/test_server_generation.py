"""The answer model behind an OpenAI-compatible server: a real llama_cpp.server subprocess started by the tests.

Ask, stream, batch and the chat through it; the marker grammar it is sent; a server killed mid-answer, and the next
answer once it is back; a server that is not there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.batch import read_questions, run_batch
from assistant.cli import app
from assistant.generation import ModelServerError, ServerGenerator
from assistant.markers import gbnf
from assistant.qa import Assistant
from assistant.settings import Settings
from tests.conftest import MODELS, ModelServer, require_models

pytestmark = pytest.mark.real
runner = CliRunner()


def _generator(url: str, **overrides: object) -> ServerGenerator:
    return ServerGenerator.from_settings(Settings(llm_url=url, **{"llm_max_tokens": 48, **overrides}))  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [1, 4, 12])
def test_the_marker_grammar_is_one_llama_cpp_accepts(count: int) -> None:
    from llama_cpp import LlamaGrammar

    grammar = gbnf(count)
    assert LlamaGrammar.from_string(grammar, verbose=False) is not None
    assert f'"{count}"' in grammar and f'"{count + 1}"' not in grammar


def test_a_reply_streams_from_the_server(small_model_server: ModelServer) -> None:
    pieces = list(_generator(small_model_server.url).stream([{"role": "user", "content": "Count from 1 to 10, separated by commas."}]))
    assert len(pieces) > 1 and "".join(pieces).strip()


def test_the_server_is_held_to_the_given_passages_and_to_a_word_before_the_end(small_model_server: ModelServer) -> None:
    generator = _generator(small_model_server.url)
    copy = [{"role": "user", "content": "Copy this sentence exactly, with its citation marker: The deadline is 72 hours [7]."}]
    assert "[7]" in "".join(generator.stream(copy))  # free to, it copies the marker
    text = "".join(generator.stream(copy, passages=2))
    assert "[7]" not in text and set(re.findall(r"\[(\d+)\]", text)) <= {"1", "2"}, text
    bare = [{"role": "user", "content": "Reply with exactly this and nothing else: [1] [2][3]"}]
    assert any(ch.isalnum() for ch in re.sub(r"\[\d+\]", "", "".join(generator.stream(bare, passages=3))))


def test_ask_stream_batch_and_the_chat_through_the_server(small_model_server: ModelServer, seeds_index, seeds_settings: Settings, tmp_path: Path, real_embedder) -> None:  # noqa: ANN001
    settings = seeds_settings.model_copy(update={"llm_url": small_model_server.url, "llm_max_tokens": 48, "translate_questions": False})
    assistant = Assistant(settings, embedder=real_embedder, store=seeds_index)
    assert isinstance(assistant.generator, ServerGenerator)
    steps = list(assistant.stream("Hvornår træder den nye MED-aftale i kraft?"))
    assert len(steps) > 2 and steps[-1].answer is not None
    questions = tmp_path / "q.txt"
    questions.write_text("Hvornår skal vold og trusler anmeldes til politiet?\nHvem er formand for Beskæftigelsesudvalget?\n", "utf-8")
    results = list(run_batch(assistant, read_questions(questions), tmp_path / "out.jsonl"))
    assert [r.error for r in results] == ["", ""] and all(r.answer is not None and r.passages for r in results)

    from gradio_client import Client

    from tests.test_ui import _served

    with _served(settings, assistant) as url:
        history = Client(url, verbose=False).predict("Hvornår træder den nye MED-aftale i kraft?", [], [], [], "", "", api_name="/respond")[0]
    assert history[-1]["role"] == "assistant" and not str(history[-1]["content"]).startswith("Error")


def test_a_server_killed_mid_answer_is_reported_and_the_next_answer_works(small_model_server: ModelServer) -> None:
    generator = _generator(small_model_server.url, llm_max_tokens=200, llm_retries=1)
    long = [{"role": "user", "content": "Write a long story about a Danish municipality, at least ten sentences."}]
    pieces = generator.stream(long)
    assert next(pieces)
    small_model_server.kill()
    with pytest.raises(ModelServerError, match=f"{re.escape(small_model_server.url)} stopped in the middle of a reply"):
        list(pieces)
    with pytest.raises(ModelServerError, match=f"{re.escape(small_model_server.url)} cannot be reached .*assistant serve-model"):
        list(generator.stream(long))
    small_model_server.start()
    assert "".join(generator.stream([{"role": "user", "content": "Say hello."}])).strip()


def test_a_missing_server_is_one_line_naming_the_url(tmp_path: Path, seeds_index, seeds_settings: Settings) -> None:  # noqa: ANN001
    url = "http://127.0.0.1:9/v1"  # the discard port: nothing listens
    env = {"ASSISTANT_LLM_URL": url, "ASSISTANT_LLM_RETRIES": "1", "ASSISTANT_TRANSLATE_QUESTIONS": "false"}
    result = runner.invoke(app, ["ask", "Hvornår træder den nye MED-aftale i kraft?", "--index-dir", str(seeds_settings.index_dir)], env=env)
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("Loading weights")]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith("error: the answer model at http://127.0.0.1:9/v1 cannot be reached") and "ASSISTANT_LLM_URL" in lines[0]


def test_ask_json_through_a_server_with_the_default_model(tmp_path: Path, seeds_index, seeds_settings: Settings) -> None:  # noqa: ANN001
    """The issue's acceptance: ASSISTANT_LLM_URL at a llama_cpp.server, `assistant ask --json` answers with valid citations."""
    require_models("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    server = ModelServer(MODELS / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", tmp_path / "server.log")
    server.start()
    try:
        args = ["ask", "What was decided about police reporting of violence?", "--json", "--index-dir", str(seeds_settings.index_dir)]
        result = runner.invoke(app, args, env={"ASSISTANT_LLM_URL": server.url})
    finally:
        server.kill()
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert not record["abstained"] and "72" in record["answer"]
    ids = {p["id"] for p in record["passages"]}
    assert record["citations"] and all(c["passage_id"] in ids for c in record["citations"])
    assert all(1 <= int(n) <= len(record["passages"]) for n in re.findall(r"\[(\d+)\]", record["answer"]))


def test_a_choice_goes_through_the_server_as_one_digit(small_model_server: ModelServer) -> None:
    """Select, then phrase, through the server: the choice is one digit held by the grammar, with probabilities."""
    generator = _generator(small_model_server.url)
    messages = [{"role": "user", "content": "Options: (1) Paris (2) Copenhagen (3) Oslo. Which is the capital of Denmark? Reply with its number only, 0 if none."}]
    probabilities = generator.choose(messages, 3)
    assert len(probabilities) == 4 and abs(sum(probabilities) - 1.0) < 1e-6 and max(probabilities) > 0
