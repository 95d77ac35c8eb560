from __future__ import annotations

from pathlib import Path

import pytest

from assistant.index import FaissStore
from assistant.qa import Assistant
from assistant.settings import Settings
from tests.conftest import CASE, FakeEmbedder, FakeGenerator, build


def _assistant(
    tmp_path: Path, corpus: Path, reply: str, min_score: float = 0.1, choice: int = 1, **overrides: object
) -> tuple[Assistant, FakeGenerator]:
    """An Assistant over ``corpus`` with fakes; the model writes freely unless ``evidence_candidates`` is given."""
    embedder, generator = FakeEmbedder(), FakeGenerator(reply, choice)
    # The hashing fake's cosines are not e5's: the similarity check is left to the real-model tests.
    values = dict(index_dir=tmp_path / "index", min_score=min_score, top_k=3, translate_questions=False, verify_threshold=0.0, evidence_candidates=0)
    settings = Settings(**{**values, **overrides})  # type: ignore[arg-type]
    build([corpus], settings.index_dir, embedder)
    return Assistant(settings, embedder=embedder, generator=generator, store=FaissStore.load(settings.index_dir)), generator  # type: ignore[arg-type]


def test_answer_keeps_valid_citations_and_drops_invalid(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "Vold skal politianmeldes inden 72 timer [1]. Se også [9].")
    answer = assistant.ask("Hvornår skal vold og trusler politianmeldes?")
    assert answer.text == "Vold skal politianmeldes inden 72 timer [1]. Se også."
    assert [c.n for c in answer.citations] == [1] and answer.dropped_citations == 1
    assert answer.citations[0].hit is answer.passages[0]
    assert "72 timer" in answer.citations[0].hit.chunk.text
    assert not answer.abstained
    assert "Answer in Danish" in generator.calls[0][1]["content"]


def test_stream_yields_growing_text_then_the_answer(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "Budgettet blev vedtaget [1].")
    steps = list(assistant.stream("What about the budget?"))
    texts = [s.text for s in steps[:-1]]
    assert len(texts) > 1 and all(a != b for a, b in zip(texts, texts[1:]))
    assert all(s.answer is None for s in steps[:-1]) and steps[-1].answer is not None


def test_no_relevant_passage_abstains_without_calling_the_model(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "Paris [1].", min_score=0.99)
    answer = assistant.ask("What is the capital of France?")
    assert answer.abstained and answer.text == "The documents do not say." and answer.citations == []
    assert generator.calls == []


def test_model_saying_not_found_is_an_abstention(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, "Det fremgår ikke af dokumenterne [2].")
    answer = assistant.ask("Hvad koster en ny skole?")
    assert answer.abstained and answer.text == "Det fremgår ikke af dokumenterne." and answer.citations == []


def test_translation_feeds_english_questions_to_the_lexical_channel(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "Hvornår skal vold politianmeldes?\n")
    hits = assistant.retrieve("When must violence be reported to the police?", k=1, translate=True)
    assert "72 timer" in hits[0].chunk.text
    assert "Translate this question into Danish" in generator.calls[0][0]["content"]
    assert assistant.retrieve("When must violence be reported?", k=1, translate=False) and len(generator.calls) == 1


@pytest.mark.parametrize("reply", ["[1] [2][3]", "  [2]. ", "The capital of France is Paris."])
def test_answer_without_words_or_without_any_source_abstains(tmp_path: Path, tiny_corpus: Path, reply: str) -> None:
    assistant, _ = _assistant(tmp_path, tiny_corpus, reply)
    assistant.citations.attach_threshold = 1.01  # nothing can be attached: the reply has no source at all
    answer = assistant.ask("What is the capital of France?")
    assert answer.abstained and answer.text == "The documents do not say." and answer.citations == []


def test_evidence_comes_first_then_the_chosen_sentence_is_phrased(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "Vold skal anmeldes inden 72 timer.", evidence_candidates=4)
    assistant.context.margin = 9.0  # the next best-ranked sentence is quoted however far under the best it scores
    steps = list(assistant.stream("Hvornår skal vold og trusler politianmeldes?"))
    first = steps[0]
    assert first.text == "" and first.evidence and "72 timer" in first.evidence[0].sentence  # before the model
    answer = steps[-1].answer
    assert answer is not None and not answer.abstained
    assert answer.text == "Vold skal anmeldes inden 72 timer [1]." and answer.dropped_citations == 0
    # the chosen sentence first, then the next best-ranked one; each cites its passage, quoted there
    assert answer.evidence[0] == first.evidence[0] and len(answer.evidence) == 2 and first.evidence[0].sentence in answer.citations[0].quotes
    assert {e.n for e in answer.evidence} == {c.n for c in answer.citations}
    choice, phrase = generator.calls
    assert "Which sentence answers the question?" in choice[1]["content"] and "72 timer" in choice[1]["content"]
    assert phrase[: len(choice)] == choice and phrase[-2] == {"role": "assistant", "content": "1"}  # the same context, a few tokens more
    assert answer.render().startswith("“Vold og trusler skal politianmeldes inden 72 timer.” [1] — HovedMED referat, 2015, Ad. 2")
    # with no margin only sentences scoring as the best are quoted, before the model and with the answer
    assistant.context.margin = 0.0
    steps = list(assistant.stream("Hvornår skal vold og trusler politianmeldes?"))
    assert len(steps[0].evidence) == 1 and steps[-1].answer is not None and len(steps[-1].answer.evidence) == 1


def test_the_model_choosing_none_declines_unless_a_sentence_matches_strongly(tmp_path: Path, tiny_corpus: Path) -> None:
    assistant, generator = _assistant(tmp_path, tiny_corpus, "unused", choice=0, evidence_candidates=4)
    answer = assistant.ask("Hvornår skal vold og trusler politianmeldes?")
    assert answer.abstained and answer.text == "Det fremgår ikke af dokumenterne." and len(generator.calls) == 1  # no phrase asked
    assistant.citations.strong_similarity = 0.0  # every best sentence matches strongly: answered from it
    answer = assistant.ask("Hvornår skal vold og trusler politianmeldes?")
    assert not answer.abstained and "72 timer" in answer.evidence[0].sentence


def test_an_answer_about_a_decision_names_the_body_and_date_and_carries_the_case(tmp_path: Path, case_corpus: Path) -> None:
    assistant, _ = _assistant(tmp_path, case_corpus, "Anlægsbevillingen på 45 mio. kr. blev godkendt.", evidence_candidates=4)
    answer = assistant.ask("Hvad blev der besluttet om anlægsbevillingen til den nye daginstitution i Tune?")
    assert not answer.abstained and answer.case is not None and answer.case.number == CASE
    assert [m.body for m in answer.case.meetings] == ["Byrådet", "Økonomiudvalget", "Skole-, Børne- og Ungeudvalget"]
    # the newest meeting's item is the one quoted, and the answer says who decided what, and when
    assert answer.citations[0].hit.chunk.doc_id == "items.jsonl:3"
    assert answer.text.endswith("Beslutningen (Byrådet, 2024-03-21): Byrådet godkendte Økonomiudvalgets indstilling.")
    assert "Case 24-000123, newest meeting first:" in answer.render() and "2024-03-04 · Skole-, Børne- og Ungeudvalget · Anbefales." in answer.render()
    # a question naming a body is answered from that body's meeting, and says what a later meeting did
    named = assistant.ask("Hvad besluttede Økonomiudvalget om anlægsbevillingen til daginstitutionen i Tune?")
    assert named.citations[0].hit.chunk.doc_id == "items.jsonl:2", named.render()
    assert "Beslutningen (Økonomiudvalget, 2024-03-12): Økonomiudvalget anbefaler" in named.text
    assert named.text.endswith("Sagen blev behandlet igen senere (Byrådet, 2024-03-21): Byrådet godkendte Økonomiudvalgets indstilling.")
    # a question about something else than a decision gets the history, not the note
    other = assistant.ask("Hvor mange børn får den nye daginstitution i Tune plads til?")
    assert other.case is not None and "Beslutningen (" not in other.text
