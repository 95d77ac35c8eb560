"""What the answer model is asked: the numbered, delimited passages of the context and the question (writing
freely), or the context's evidence sentences to choose from, then to phrase the answer from the one chosen."""

from __future__ import annotations

from .danish import compact
from .interfaces import Message
from .records import Context, Evidence, Hit, Query
from .settings import Settings
from .templates import LANGUAGES, Templates


class AnswerPrompt:
    """Builds the answer's chat messages from a Context."""

    def __init__(self, templates: Templates, passage_chars: int, best_last: bool = False, sentence_chars: int = 200) -> None:
        self.templates = templates
        self.passage_chars = passage_chars
        self.best_last = best_last  #: the passages in reverse order of rank, the best nearest the question
        self.sentence_chars = sentence_chars  #: most characters of an evidence sentence shown to choose from

    @classmethod
    def from_settings(cls, settings: Settings, templates: Templates) -> AnswerPrompt:
        """The prompt builder the settings describe."""
        return cls(templates, settings.passage_chars, settings.prompt_best_last, settings.evidence_chars)

    def passage_block(self, n: int, hit: Hit, text: str | None = None) -> str:
        """One numbered passage as the model sees it, with its document, date and agenda item; ``text`` (default: the
        whole passage) may be a selection of its sentences."""
        text = compact(hit.chunk.text) if text is None else text
        limit = self.passage_chars
        text = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
        text = _as_data(text, "passage")  # passage text is data: nothing in it may close the delimiter early
        return self.templates.render("passage.txt", n=n, source=source_line(hit), text=text)

    def system_message(self, language: str) -> Message:
        """The answer prompt's fixed part for questions in ``language``."""
        return {"role": "system", "content": self.templates.render("answer_system.txt", not_found=self.templates.not_found[language])}

    def messages(self, query: Query, context: Context) -> list[Message]:
        """Chat messages asking the model to answer the query from the context's passages, numbered from 1."""
        blocks = [self.passage_block(i, h, t) for i, (h, t) in enumerate(zip(context.passages, context.texts), 1)]
        passages = "\n\n".join(reversed(blocks) if self.best_last else blocks)
        user = self.templates.render("answer_user.txt", passages=passages, question=query.question.strip(), language=LANGUAGES[query.language])
        return [self.system_message(query.language), {"role": "user", "content": user}]

    def choice_messages(self, query: Query, evidence: tuple[Evidence, ...]) -> list[Message]:
        """Chat messages asking the model which of the evidence sentences (numbered from 1) answers the query; 0: none."""
        # The prompt is the wait (≈ 60 tokens/s): each sentence with its meeting's date only, cut where minutes run long.
        blocks = [
            self.templates.render("evidence_sentence.txt", n=i, date=meeting_date(e.hit), text=_as_data(_cut(e.sentence, self.sentence_chars), "sentence"))
            for i, e in enumerate(evidence, 1)
        ]
        user = self.templates.render("evidence_user.txt", sentences="\n".join(blocks), question=query.question.strip())
        return [{"role": "system", "content": self.templates.render("evidence_system.txt")}, {"role": "user", "content": user}]

    def phrase_messages(self, choice: list[Message], chosen: int, language: str) -> list[Message]:
        """The choice's messages followed by the model's choice and the request to phrase the answer from sentence
        ``chosen``: the model has read the sentences already, so only these few tokens are new to it."""
        ask = self.templates.render("evidence_phrase.txt", language=LANGUAGES[language], n=chosen)
        return [*choice, {"role": "assistant", "content": str(chosen)}, {"role": "user", "content": ask}]


def meeting_date(hit: Hit) -> str:
    """The date of the meeting a passage is from (what tells two meetings of a case apart), or its document's title."""
    c = hit.chunk
    return (c.metadata.get("date", "")[:10] or c.doc_title).replace('"', "'")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def source_line(hit: Hit) -> str:
    """Where a passage stands, as the model is told: document, date (where the title lacks it), agenda item."""
    c = hit.chunk
    date = c.metadata.get("date", "")[:10]
    parts = (c.doc_title, "" if date in c.doc_title else date, c.heading)
    return " | ".join(p for p in parts if p).replace('"', "'")


def _as_data(text: str, tag: str) -> str:
    """Quoted text that cannot close (or open) its delimiter early."""
    return text.replace(f"</{tag}", f"</ {tag}").replace(f"<{tag}", f"< {tag}")
