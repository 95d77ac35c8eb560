"""The Gradio chat: streamed answers with their cited passages beside them. Thin: it calls ``Assistant.stream``."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import gradio as gr

from .qa import Assistant
from .records import Answer, Hit
from .settings import Settings

_CSS = """
.source { border-left: 3px solid #4a78c2; padding: 4px 10px; margin: 8px 0; }
.source .where { color: #555; font-size: 0.9em; }
.source blockquote { white-space: pre-wrap; margin: 6px 0; font-size: 0.92em; }
"""


def sources_html(passages: list[Hit], answer: Answer | None) -> str:
    """The cited passages (or, while writing, the retrieved ones) as HTML; all document text is escaped."""
    if answer is not None and answer.abstained:
        return '<div class="sources-final"><p><em>No passage in the documents answers this.</em></p></div>'

    attached = {c.n for c in answer.citations if c.attached} if answer is not None else set()
    if answer is not None:
        numbered = [(c.n, c.hit) for c in answer.citations]
        heading = "Cited sources" if numbered else "No passage was cited; retrieved passages"
        if not numbered:
            numbered = list(enumerate(passages, 1))
    else:
        numbered, heading = list(enumerate(passages, 1)), "Retrieved passages"
    parts = [f"<h3>{heading}</h3>"]
    for n, hit in numbered:
        c = hit.chunk
        meta = " · ".join(html.escape(v) for v in (c.metadata.get("municipality", ""), c.metadata.get("date", "")) if v)
        parts.append(
            f'<div class="source" id="source-{n}"><strong>[{n}] {html.escape(c.doc_title)}</strong>'
            f'{" <em>(attached by similarity)</em>" if n in attached else ""}'
            f'<div class="where">{meta}{" · " if meta else ""}{html.escape(c.location)} · {html.escape(c.doc_id)}</div>'
            f"<blockquote>{html.escape(c.text)}</blockquote></div>"
        )
    # The class marks a finished answer, so that readers (and tests) can tell it from the streaming view.
    return f'<div class="{"sources-final" if answer is not None else "sources-streaming"}">' + "\n".join(parts) + "</div>"


def chat_text(text: str, answer: Answer | None) -> str:
    """The chat message: the answer so far, and once done, its unsupported sentences named as such."""
    if answer is None or not answer.unsupported:
        return text or "…"
    flagged = "\n".join(f"- {s}" for s in answer.unsupported)
    return f"{answer.text}\n\n⚠ Not supported by the documents:\n{flagged}"


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page for ``assistant``."""

    def respond(message: str, history: list[dict[str, Any]]) -> Iterator[tuple[list[dict[str, Any]], str, str]]:
        message = (message or "").strip()
        if not message:
            yield history, "", gr.skip()
            return
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
        yield history, "", ""
        try:
            for partial in assistant.stream(message):
                history[-1] = {"role": "assistant", "content": chat_text(partial.text, partial.answer)}
                yield history, "", sources_html(partial.passages, partial.answer)
        except Exception as exc:  # noqa: BLE001 - shown to the user as one line, the chat stays usable
            history[-1] = {"role": "assistant", "content": f"Error: {exc}"}
            yield history, "", ""

    with gr.Blocks(title="Municipal documents assistant") as app:
        gr.Markdown("### Ask the municipal documents\nAnswers come only from the indexed documents, with numbered sources.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=480, elem_id="chat")
                box = gr.Textbox(placeholder="Spørg på dansk eller engelsk …", show_label=False, elem_id="question", submit_btn=True)
                gr.Examples(["What was decided about police reporting of violence?", "Hvornår træder den nye MED-aftale i kraft?"], inputs=box)
            with gr.Column(scale=2):
                sources = gr.HTML(elem_id="sources")
        # One answer at a time: llama.cpp serves one call at a time; others wait in Gradio's queue.
        box.submit(respond, [box, chat], [chat, box, sources], concurrency_limit=1)
    return app


def serve(settings: Settings, assistant: Assistant | None = None, block: bool = True) -> gr.Blocks:
    """Load the models and serve the chat on ``settings.host``:``settings.port``."""
    assistant = assistant or Assistant(settings)
    assistant.warm_up()
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)
    app.launch(server_name=settings.host, server_port=settings.port, prevent_thread_lock=not block, show_error=False, css=_CSS, footer_links=[])
    return app
