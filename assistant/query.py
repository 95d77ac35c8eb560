"""Query rewrite: the question's language, and for an English question its Danish translation by the answer model,
so that both retrieval channels can match the Danish words of the minutes."""

from __future__ import annotations

from .danish import question_language
from .interfaces import Generator
from .records import Query, QueryForm
from .settings import Settings
from .templates import Templates


class QueryRewriter:
    """Turns a question into the Query that retrieval searches with."""

    def __init__(
        self, templates: Templates, generator: Generator | None, *, translate: bool, lexical_weight_da: float, lexical_weight_en: float,
        translated_weight: float,
    ) -> None:  # fmt: skip
        self.templates = templates
        self.generator = generator  #: the answer model, for translation; None: never translate
        self.translate_by_default = translate
        self.lexical_weight_da = lexical_weight_da  #: weight of the lexical channel for a question asked in Danish
        self.lexical_weight_en = lexical_weight_en  #: … in English
        self.translated_weight = translated_weight  #: weight of both channels for a question's Danish translation

    @classmethod
    def from_settings(cls, settings: Settings, templates: Templates, generator: Generator | None) -> QueryRewriter:
        """The rewriter the settings describe."""
        s = settings
        return cls(
            templates, generator, translate=s.translate_questions, lexical_weight_da=s.lexical_weight_da,
            lexical_weight_en=s.lexical_weight_en, translated_weight=s.lexical_weight_translated,
        )  # fmt: skip

    def run(self, question: str, translate: bool | None = None) -> Query:
        """The question's Query; ``translate`` (default: the setting) lets the answer model put an English question into
        Danish, searched beside the question (``translate=False`` guarantees no model is used)."""
        language = question_language(question)
        use = self.translate_by_default if translate is None else translate
        if language == "en" and use and self.generator is not None:
            danish = self.translation(question)
            # Words of an English question rarely occur in Danish text: its words are searched in Danish only, and the
            # small model's translations are rough, so the translation counts less in both channels.
            forms = (QueryForm(question, 1.0, 0.0), QueryForm(danish, self.translated_weight, self.translated_weight, "translation"))
        else:
            forms = (QueryForm(question, 1.0, self.lexical_weight_en if language == "en" else self.lexical_weight_da),)
        return Query(question, language, forms)

    def translation(self, question: str) -> str:
        """The question in Danish, written by the answer model (one short generation); the question itself when the
        model gives nothing usable."""
        assert self.generator is not None
        messages = [{"role": "user", "content": self.templates.render("translate_question.txt", question=question.strip())}]
        text = "".join(self.generator.stream(messages)).strip()
        first = text.splitlines()[0].strip() if text else ""
        return question if not first or self.templates.says_not_found(first) else first
