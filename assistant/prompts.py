"""What the answer model is asked: the numbered, delimited passages of the context and the question."""

from __future__ import annotations

from .danish import compact
from .interfaces import Message
from .records import Context, Hit, Query
from .settings import Settings
from .templates import LANGUAGES, Templates


class AnswerPrompt:
    """Builds the answer's chat messages from a Context."""

    def __init__(self, templates: Templates, passage_chars: int, best_last: bool = False) -> None:
        self.templates = templates
        self.passage_chars = passage_chars
        self.best_last = best_last  #: the passages in reverse order of rank, the best nearest the question

    @classmethod
    def from_settings(cls, settings: Settings, templates: Templates) -> AnswerPrompt:
        """The prompt builder the settings describe."""
        return cls(templates, settings.passage_chars, settings.prompt_best_last)

    def passage_block(self, n: int, hit: Hit, text: str | None = None) -> str:
        """One numbered passage as the model sees it, with its document, date and agenda item; ``text`` (default: the
        whole passage) may be a selection of its sentences."""
        c = hit.chunk
        date = c.metadata.get("date", "")
        parts = (c.doc_title, "" if date in c.doc_title else date, c.heading)
        source = " | ".join(p for p in parts if p).replace('"', "'")
        text = compact(c.text) if text is None else text
        limit = self.passage_chars
        text = text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"
        # Passage text is data: neutralise anything that could close the delimiter early.
        text = text.replace("</passage", "</ passage").replace("<passage", "< passage")
        return self.templates.render("passage.txt", n=n, source=source, text=text)

    def system_message(self, language: str) -> Message:
        """The answer prompt's fixed part for questions in ``language``."""
        return {"role": "system", "content": self.templates.render("answer_system.txt", not_found=self.templates.not_found[language])}

    def messages(self, query: Query, context: Context) -> list[Message]:
        """Chat messages asking the model to answer the query from the context's passages, numbered from 1."""
        blocks = [self.passage_block(i, h, t) for i, (h, t) in enumerate(zip(context.passages, context.texts), 1)]
        passages = "\n\n".join(reversed(blocks) if self.best_last else blocks)
        user = self.templates.render("answer_user.txt", passages=passages, question=query.question.strip(), language=LANGUAGES[query.language])
        return [self.system_message(query.language), {"role": "user", "content": user}]
