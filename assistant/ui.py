"""The Gradio chat: streamed answers with their cited passages beside them. Thin: it calls ``Assistant.stream``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from .indexing import BuildReport, add_uploads
from .ingest import SUPPORTED, Problem
from .qa import Assistant
from .records import Answer, Case, Citation, Evidence, Filter, Hit, Meeting
from .settings import Settings

_CSS = """
.source { border-left: 3px solid #4a78c2; padding: 4px 10px; margin: 8px 0; }
.source .where { color: #555; font-size: 0.9em; }
.source blockquote { white-space: pre-wrap; margin: 6px 0; font-size: 0.92em; }
#document .doc-text { white-space: pre-wrap; max-height: 520px; overflow-y: auto; font-size: 0.92em; border: 1px solid #ddd; padding: 8px; }
#document mark { background: #ffe27a; }
mark.quote, #document mark .quote { background: #ffc94a; font-weight: 600; }
"""


def marked(text: str, quotes: tuple[str, ...] = ()) -> str:
    """``text`` as HTML, escaped, with the quoted sentences in it marked (quotes are compacted: any white space in the
    text between their words)."""
    spans = []
    for quote in quotes:
        words = quote.split()
        m = re.search(r"\s+".join(map(re.escape, words)), text) if words else None
        if m:
            spans.append((m.start(), m.end()))
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [html.escape(text[at:start]), f'<mark class="quote">{html.escape(text[start:end])}</mark>']
        at = end
    return "".join(out) + html.escape(text[at:])


def sources_html(passages: list[Hit], answer: Answer | None) -> str:
    """The cited passages (or, while writing, the retrieved ones) as HTML; all document text is escaped."""
    if answer is not None and answer.abstained:
        return '<div class="sources-final"><p><em>No passage in the documents answers this.</em></p></div>'

    attached = {c.n for c in answer.citations if c.attached} if answer is not None else set()
    quotes = {c.n: c.quotes for c in answer.citations} if answer is not None else {}
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
            f"<blockquote>{marked(c.text, quotes.get(n, ()))}</blockquote></div>"
        )
    # The class marks a finished answer, so that readers (and tests) can tell it from the streaming view.
    return f'<div class="{"sources-final" if answer is not None else "sources-streaming"}">' + "\n".join(parts) + "</div>"


def evidence_markdown(evidence: tuple[Evidence, ...]) -> str:
    """The sentences of the minutes that answer, quoted, each with its citation and where it stands."""
    return "\n".join(f"> {e.line}" for e in evidence)


def chat_text(text: str, answer: Answer | None, evidence: tuple[Evidence, ...] = ()) -> str:
    """The chat message: the evidence quoted first (found before the model has read anything), then the answer so
    far; once done, the sentences of each cited passage that support it (those not quoted already), and the answer's
    unsupported sentences named as such."""
    if answer is None:
        return "\n\n".join(p for p in (evidence_markdown(evidence), text or "…") if p)
    quotes = {e.sentence for e in answer.evidence}
    parts = [p for p in (evidence_markdown(answer.evidence), answer.text) if p]
    quoted = [f"> [{c.n}] " + " ".join(f"“{q}”" for q in c.quotes) for c in answer.citations if c.quotes and not set(c.quotes) <= quotes]
    if quoted:
        parts.append("\n".join(quoted))
    if answer.unsupported:
        parts.append("⚠ Not supported by the documents:\n" + "\n".join(f"- {s}" for s in answer.unsupported))
    if answer.case is not None:
        parts.append(case_markdown(answer.case))
    return "\n\n".join(parts)


def case_markdown(case: Case) -> str:
    """The cited item's case as a short timeline, newest meeting first: date · body · what it decided."""
    return f"**Case {case.number}, newest meeting first:**\n" + "\n".join(f"- {m.line}" for m in case.meetings)


def meeting_label(meeting: Meeting) -> str:
    """A timeline entry as the picker lists it (the item's id keeps two entries of one day apart)."""
    return f"{meeting.line} ({meeting.doc_id})"


def meeting_html(document_text: str, meeting: Meeting) -> str:
    """One meeting's agenda item in full, its decision marked, under a line saying which meeting it is."""
    where = " · ".join(html.escape(p) for p in (meeting.doc_id, meeting.body, meeting.day) if p)
    quotes = (meeting.outcome.removesuffix(" …"),) if meeting.outcome else ()
    return (
        f'<div class="document meeting"><div class="where"><strong>{html.escape(meeting.title)}</strong> · {where}</div>'
        f'<div class="doc-text">{marked(document_text, quotes)}</div></div>'
    )


def document_html(document_text: str, hit: Hit, quotes: tuple[str, ...] = ()) -> str:
    """The whole document with the cited passage highlighted, and in it the sentences that support the answer,
    under a line saying where it is."""
    c = hit.chunk
    where = " · ".join(
        html.escape(p) for p in (c.doc_id, c.metadata.get("body", ""), c.metadata.get("date", ""), c.location) if p
    )
    before, cited, after = document_text[: c.start], document_text[c.start : c.end], document_text[c.end :]
    return (
        f'<div class="document"><div class="where"><strong>{html.escape(c.doc_title)}</strong> · {where}</div>'
        f'<div class="doc-text">{html.escape(before)}<mark id="cited-span">{marked(cited, quotes)}</mark>{html.escape(after)}</div></div>'
    )


def upload_report(report: BuildReport, refused: list[Problem]) -> str:
    """What adding documents did, as Markdown: counts, then every file skipped and why."""
    done = (
        f"Index up to date: {report.documents} documents, {report.chunks} passages."
        if report.up_to_date
        else f"Indexed {report.documents} documents, {report.chunks} passages ({report.embedded} embedded now) in {report.seconds:.0f} s. "
        "New documents are searched from the next question on."
    )
    skipped = [*refused, *report.problems]
    lines = [done] + ([f"\n**Skipped {len(skipped)}:**"] + [f"- `{html.escape(p.path)}`: {html.escape(p.reason)}" for p in skipped] if skipped else [])
    return "\n".join(lines)


_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def make_filter(files: list[str] | None, bodies: list[str] | None, date_from: str, date_to: str) -> Filter | None:
    """The chosen filters as a Filter (None when nothing is chosen); a malformed date is refused with the format."""
    date_from, date_to = (date_from or "").strip(), (date_to or "").strip()
    for d in (date_from, date_to):
        if d and not _DATE.fullmatch(d):
            raise ValueError(f"'{d}' is not a date; write it as YYYY, YYYY-MM or YYYY-MM-DD")
    narrow = Filter(tuple(files or ()), tuple(bodies or ()), date_from, date_to)
    return None if narrow.empty else narrow


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page for ``assistant``."""

    def respond(
        message: str, history: list[dict[str, Any]], files: list[str] | None, bodies: list[str] | None, date_from: str, date_to: str
    ) -> Iterator[tuple[list[dict[str, Any]], str, str, Any, list[Citation], Any, list[Meeting]]]:
        message = (message or "").strip()
        if not message:
            yield history, "", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        history = [*history, {"role": "user", "content": message}, {"role": "assistant", "content": "…"}]
        hidden = gr.update(choices=[], value=None, visible=False)
        yield history, "", "", hidden, [], hidden, []
        try:
            narrow = make_filter(files, bodies, date_from, date_to)
            for partial in assistant.stream(message, narrow=narrow):
                history[-1] = {"role": "assistant", "content": chat_text(partial.text, partial.answer, partial.evidence)}
                if partial.answer is None or not partial.answer.citations:
                    yield history, "", sources_html(partial.passages, partial.answer), hidden, [], hidden, []
                else:
                    cited = partial.answer.citations
                    picker = gr.update(choices=[c.line for c in cited], value=None, visible=True)
                    meetings = list(partial.answer.case.meetings) if partial.answer.case else []
                    timeline = gr.update(choices=[meeting_label(m) for m in meetings], value=None, visible=True) if meetings else hidden
                    yield history, "", sources_html(partial.passages, partial.answer), picker, cited, timeline, meetings
        except Exception as exc:  # noqa: BLE001 - shown to the user as one line, the chat stays usable
            history[-1] = {"role": "assistant", "content": f"Error: {exc}"}
            yield history, "", "", hidden, [], hidden, []

    def open_source(label: str | None, cited: list[Citation]) -> str:
        chosen = next((c for c in cited if c.line == label), None)
        return document_html(assistant.store.document_text(chosen.hit.chunk.doc_id), chosen.hit, chosen.quotes) if chosen else ""

    def open_meeting(label: str | None, meetings: list[Meeting]) -> str:
        chosen = next((m for m in meetings if meeting_label(m) == label), None)
        return meeting_html(assistant.store.document_text(chosen.doc_id), chosen) if chosen else ""

    def add_files(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, Any, Any]:  # noqa: B008 - Gradio's idiom
        if not files:
            return "Choose one or more files first.", gr.skip(), gr.skip()
        try:
            report, refused = add_uploads(
                assistant.settings, [(Path(f), Path(f).name) for f in files], assistant.embedder,
                progress=lambda done, total: progress((done, max(total, 1)), desc="Embedding passages"),
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - one line for the user; the previous index stays in use
            return f"Error: {exc}", gr.skip(), gr.skip()
        facets = assistant.store.facets()
        return upload_report(report, refused), gr.update(choices=facets["files"]), gr.update(choices=facets["bodies"])

    facets = assistant.store.facets()
    dates = " to ".join(facets["dates"]) if facets["dates"] else "none"

    with gr.Blocks(title="Municipal documents assistant") as app:
        gr.Markdown("### Ask the municipal documents\nAnswers come only from the indexed documents, with numbered sources.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=480, elem_id="chat")
                box = gr.Textbox(placeholder="Spørg på dansk eller engelsk …", show_label=False, elem_id="question", submit_btn=True)
                gr.Examples(["What was decided about police reporting of violence?", "Hvornår træder den nye MED-aftale i kraft?"], inputs=box)
            with gr.Column(scale=2):
                sources = gr.HTML(elem_id="sources")
        with gr.Accordion("Add documents", open=False, elem_id="add-documents"):
            files = gr.File(label=f"Files ({', '.join(sorted(SUPPORTED))})", file_count="multiple", file_types=sorted(SUPPORTED), elem_id="upload")
            add = gr.Button("Add to the index", elem_id="add-button")
            added = gr.Markdown(elem_id="upload-status")
        with gr.Accordion("Narrow the search", open=False, elem_id="filters"):
            with gr.Row():
                file_filter = gr.Dropdown(facets["files"], multiselect=True, label="Documents", elem_id="filter-files")
                body_filter = gr.Dropdown(facets["bodies"], multiselect=True, label="Committee / body", elem_id="filter-bodies")
                date_from = gr.Textbox(label="From date", placeholder="YYYY[-MM[-DD]]", elem_id="filter-from")
                date_to = gr.Textbox(label="To date", placeholder="YYYY[-MM[-DD]]", elem_id="filter-to")
            gr.Markdown(f"Documents are dated {dates}.")
        cited = gr.State([])
        meetings = gr.State([])
        picker = gr.Radio(label="Open a cited passage in its document", elem_id="citation-picker", visible=False)
        timeline = gr.Radio(label="The case's meetings, newest first: open one's agenda item", elem_id="case-picker", visible=False)
        document = gr.HTML(elem_id="document")
        # As many answers at once as the answer model can write (one llama.cpp context in process, several behind a
        # server); the others wait in Gradio's queue, which shows each its place.
        at_once = assistant.settings.answers_at_once
        box.submit(
            respond, [box, chat, file_filter, body_filter, date_from, date_to], [chat, box, sources, picker, cited, timeline, meetings],
            concurrency_limit=at_once,
        )  # fmt: skip
        add.click(add_files, files, [added, file_filter, body_filter], concurrency_limit=1, concurrency_id="indexing")
        picker.change(open_source, [picker, cited], document).then(
            None, js="() => document.getElementById('cited-span')?.scrollIntoView({block: 'center'})"
        )
        timeline.change(open_meeting, [timeline, meetings], document)
    return app


def serve(settings: Settings, assistant: Assistant | None = None, block: bool = True) -> gr.Blocks:
    """Load the models and serve the chat on ``settings.host``:``settings.port``."""
    assistant = assistant or Assistant(settings)
    assistant.warm_up()
    app = build_app(assistant)
    app.queue(default_concurrency_limit=settings.answers_at_once)
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        prevent_thread_lock=not block,
        show_error=False,
        css=_CSS,
        footer_links=[],
        auth=settings.credentials or None,
    )
    return app
