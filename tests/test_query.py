"""The query rewrite: the forms a question is searched in, with a small fake lexicon (no model, no dictionaries)."""

from __future__ import annotations

from assistant.lexicon import TranslatedTerm
from assistant.query import QueryRewriter
from assistant.settings import Settings
from assistant.templates import Templates


class _Glossary:
    """A lexicon that knows two English terms."""

    KNOWN = {"decided": ("besluttet",), "budget": ("budget", "budgettet")}

    def translate(self, question: str) -> list[TranslatedTerm]:
        return [TranslatedTerm(w, self.KNOWN[w.lower()]) for w in question.rstrip("?").split() if w.lower() in self.KNOWN]


def _rewriter(lexicon: object | None) -> QueryRewriter:
    settings = Settings(translate_questions=False)
    return QueryRewriter.from_settings(settings, Templates.load(settings.prompts_dir), None, lexicon)  # type: ignore[arg-type]


def test_a_danish_question_is_searched_as_asked() -> None:
    query = _rewriter(_Glossary()).run("Hvad blev besluttet om budgettet?")
    assert query.language == "da" and [(f.kind, f.text) for f in query.forms] == [("question", "Hvad blev besluttet om budgettet?")]
    assert query.forms[0].lexical_weight == Settings().lexical_weight_da


def test_an_english_question_is_searched_by_its_danish_words() -> None:
    query = _rewriter(_Glossary()).run("What was decided about the budget?")
    assert query.language == "en"
    assert [(f.kind, f.lexical_weight > 0) for f in query.forms] == [("question", False), ("dictionary", True)]
    assert query.forms[1].text == "besluttet budget budgettet"


def test_a_quoted_danish_title_is_searched_by_its_own_words() -> None:
    """The dictionaries know few words of a Danish title; the title's words are the minutes' own."""
    query = _rewriter(_Glossary()).run("What was decided about Frigivelse af midler til affaldssortering?")
    assert query.language == "en"
    assert query.forms[-1].kind == "dictionary"
    assert query.forms[-1].text == "besluttet Frigivelse af midler til affaldssortering"


def test_without_a_lexicon_an_english_question_keeps_its_own_words() -> None:
    query = _rewriter(None).run("What was decided about the budget?")
    assert [(f.kind, f.lexical_weight) for f in query.forms] == [("question", Settings().lexical_weight_en)]
