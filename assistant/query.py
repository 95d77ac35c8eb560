"""Query rewrite: the question's language, for an English question its Danish forms, so that retrieval can match
the Danish words of the minutes (a translation by the answer model, both channels, and a word-by-word translation by
the glossary and dictionaries, the lexical channel), and the committee and meeting dates it names, which retrieval
prefers."""

from __future__ import annotations

from collections.abc import Sequence

from .danish import mentioned_dates, name_words, named_bodies, question_language
from .interfaces import Generator
from .lexicon import Lexicon, TranslatedTerm
from .records import Filter, Query, QueryForm
from .settings import Settings
from .templates import Templates


class QueryRewriter:
    """Turns a question into the Query that retrieval searches with."""

    def __init__(
        self, templates: Templates, generator: Generator | None, lexicon: Lexicon | None, *, translate: bool, lexical_weight_da: float,
        lexical_weight_en: float, translated_weight: float, dictionary_weight: float, hypothetical_weight: float = 0.0,
        dictionary_dense_weight: float = 0.0,
    ) -> None:  # fmt: skip
        self.templates = templates
        self.generator = generator  #: the answer model, for translation; None: never translate
        self.lexicon = lexicon  #: the glossary and dictionaries, for word-by-word translation; None: none
        self.translate_by_default = translate
        self.lexical_weight_da = lexical_weight_da  #: weight of the lexical channel for a question asked in Danish
        self.lexical_weight_en = lexical_weight_en  #: … in English
        self.translated_weight = translated_weight  #: weight of both channels for a question's Danish translation
        self.dictionary_weight = dictionary_weight  #: weight of the lexical channel for its word-by-word translation
        self.dictionary_dense_weight = dictionary_dense_weight  #: … of the dense channel (0: not embedded)
        self.hypothetical_weight = hypothetical_weight  #: weight of the dense channel for a written Danish passage (0: none)

    @classmethod
    def from_settings(cls, settings: Settings, templates: Templates, generator: Generator | None, lexicon: Lexicon | None = None) -> QueryRewriter:
        """The rewriter the settings describe (``lexicon``: for word-by-word translation, unless its weight is 0)."""
        s = settings
        lexicon = lexicon if s.lexical_weight_dictionary > 0 else None
        return cls(
            templates, generator, lexicon, translate=s.translate_questions, lexical_weight_da=s.lexical_weight_da,
            lexical_weight_en=s.lexical_weight_en, translated_weight=s.lexical_weight_translated,
            dictionary_weight=s.lexical_weight_dictionary, hypothetical_weight=s.hypothetical_weight,
            dictionary_dense_weight=s.dense_weight_dictionary,
        )  # fmt: skip

    def run(self, question: str, translate: bool | None = None, bodies: Sequence[str] = ()) -> Query:
        """The question's Query; ``translate`` (default: the setting) lets the answer model put an English question into
        Danish, searched beside the question (``translate=False`` guarantees no model is used); ``bodies``: the
        committees and councils of the index, those the question names are preferred."""
        language = question_language(question)
        if language == "da":
            return Query(question, language, (QueryForm(question, 1.0, self.lexical_weight_da),), self.named(question, bodies))
        use = (self.translate_by_default if translate is None else translate) and self.generator is not None
        # Words of an English question rarely occur in Danish text: once it has a Danish form, its own words are not
        # searched; the small model's translations are rough, so its translation counts less in both channels.
        forms = [QueryForm(question, 1.0, 0.0 if use or self.lexicon else self.lexical_weight_en)]
        terms = self.lexicon.translate(question) if self.lexicon is not None else []
        if use:
            forms.append(QueryForm(self.translation(question, terms), self.translated_weight, self.translated_weight, "translation"))
        if use and self.hypothetical_weight > 0:
            forms.append(QueryForm(self.hypothetical(question), self.hypothetical_weight, 0.0, "hypothetical"))
        # A Danish title the question quotes is searched by its own words: the dictionaries know few of them.
        rendered = {d.lower() for t in terms for d in t.danish}
        quoted = [w for w in name_words(question) if w.lower() not in rendered]
        if terms or quoted:
            # Every rendering of every term in one search by words: measured as good as searching each term's renderings
            # apart and adding their scores (structured query translation), and simpler (bench/README.md).
            words = " ".join([d for t in terms for d in t.danish] + quoted)
            forms.append(QueryForm(words, self.dictionary_dense_weight, self.dictionary_weight, "dictionary"))
        # A committee named in English is found by its Danish words: the question's translations name it.
        return Query(question, language, tuple(forms), self.named(" ".join(f.text for f in forms), bodies))

    @staticmethod
    def named(text: str, bodies: Sequence[str]) -> Filter:
        """The bodies (of ``bodies``) and meeting dates that ``text`` (the question, and its Danish forms) names."""
        dates = sorted(mentioned_dates(text))
        return Filter(bodies=tuple(named_bodies(text, list(bodies))), date_from=dates[0] if dates else "", date_to=dates[-1] if dates else "")

    def will_translate(self, query: Query, translate: bool | None = None) -> bool:
        """Whether ``run`` with ``translate`` (default: the setting) would add the answer model's translation to this
        query, made without it: an English question, a model to translate with, translation on."""
        use = self.translate_by_default if translate is None else translate
        return use and self.generator is not None and query.language == "en" and not any(f.kind == "translation" for f in query.forms)

    def hypothetical(self, question: str) -> str:
        """Two sentences of Danish minutes that would answer the question, written by the answer model (invented
        details and all): searched by meaning, they resemble the passage sought more than any question does (HyDE)."""
        assert self.generator is not None
        messages = [{"role": "user", "content": self.templates.render("hypothetical_passage.txt", question=question.strip())}]
        text = " ".join("".join(self.generator.stream(messages)).split())
        return text or question

    def translation(self, question: str, terms: list[TranslatedTerm] | None = None) -> str:
        """The question in Danish, written by the answer model (one short generation); the question itself when the
        model gives nothing usable. ``terms``: the question's terms with their Danish words (the lexicon's), given to
        the model as help: without them a small model invents Danish words for the ones it does not know."""
        assert self.generator is not None
        known = "; ".join(f"{t.english} = {t.danish[0]}" for t in terms or [] if t.danish[0] != t.english) or "-"
        messages = [{"role": "user", "content": self.templates.render("translate_question.txt", question=question.strip(), words=known)}]
        text = "".join(self.generator.stream(messages)).strip()
        first = text.splitlines()[0].strip() if text else ""
        return question if not first or self.templates.says_not_found(first) else first
