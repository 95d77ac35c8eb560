from __future__ import annotations

import numpy as np
import pytest

from assistant.citations import CitationChecker, Supported, before_loop, check_citations, support_sentences
from assistant.records import Chunk, Hit


def _hits(n: int) -> list[Hit]:
    return [Hit(Chunk(f"c{i}", "d", "D", f"t{i}", 0, 1, 1, 1), 0.9, i) for i in range(1, n + 1)]


@pytest.mark.parametrize(
    ("text", "n_passages", "expected_text", "cited", "dropped"),
    [
        ("Svaret er 72 timer [1].", 3, "Svaret er 72 timer [1].", [1], 0),
        ("A [2]. B [1][2].", 3, "A [2]. B [1][2].", [2, 1], 0),
        ("A [1, 3].", 3, "A [1][3].", [1, 3], 0),
        ("A [1-3].", 3, "A [1][2][3].", [1, 2, 3], 0),
        ("A [7].", 3, "A.", [], 1),
        ("A [0] and [2].", 3, "A and [2].", [2], 1),
        ("A [2, 9].", 2, "A [2].", [2], 1),
        ("No markers at all.", 2, "No markers at all.", [], 0),
        ("Year [2015] is not a passage.", 3, "Year is not a passage.", [], 1),
    ],
)
def test_check_citations(text: str, n_passages: int, expected_text: str, cited: list[int], dropped: int) -> None:
    hits = _hits(n_passages)
    result = check_citations(text, hits)
    assert result.text == expected_text
    assert [c.n for c in result.citations] == cited
    assert [c.hit for c in result.citations] == [hits[n - 1] for n in cited]
    assert result.dropped == dropped


def _passages(*texts: str) -> list[Hit]:
    return [Hit(Chunk(f"c{i}", "d", "D", t, 0, 1, 1, 1), 0.9, i) for i, t in enumerate(texts, 1)]


def test_uncited_sentences_get_the_best_passage_or_are_flagged() -> None:
    import numpy as np

    from assistant.citations import support_sentences

    hits = _passages("Anmeldelse inden 72 timer.", "Retningslinjerne skærpes.", "Budget.")
    checked = check_citations("Fristen er 72 timer [1]. Retningslinjerne skærpes. Paris er hovedstad.", hits)
    asked: list[list[str]] = []

    def similarity(sentences: list[str]) -> np.ndarray:
        asked.append(sentences)
        return np.array([[0.90, 0.70, 0.60], [0.70, 0.91, 0.60], [0.50, 0.55, 0.52]])

    result = support_sentences(checked, hits, similarity, threshold=0.8, verify_threshold=0.78)
    assert asked == [["Fristen er 72 timer.", "Retningslinjerne skærpes.", "Paris er hovedstad."]]
    assert result.text == "Fristen er 72 timer [1]. Retningslinjerne skærpes [2]. Paris er hovedstad."
    assert [(c.n, c.attached) for c in result.citations] == [(1, False), (2, True)]
    assert result.unsupported == ["Paris er hovedstad."] and result.unverified == 0


def _supported(answer: str, hits: list[Hit], sims: list[list[float]]) -> Supported:
    """The answer checked against ``hits`` with fixed similarities, at the thresholds the settings default to."""
    return support_sentences(check_citations(answer, hits), hits, lambda s: np.array(sims), threshold=0.8, verify_threshold=0.78)


@pytest.mark.parametrize(
    ("answer", "sims", "text", "cited", "unsupported", "unverified"),
    [
        # the model's marker is confirmed: similar enough, and the passage holds the sentence's numbers
        ("Inden 72 timer [1].", [[0.85, 0.70]], "Inden 72 timer [1].", [(1, False)], [], 0),
        # a figure the cited passage does not hold: the marker goes, the passage that holds it is attached
        ("Der er 58 mio. i underskud [1].", [[0.85, 0.83]], "Der er 58 mio. i underskud [2].", [(2, True)], [], 1),
        # cited, but about something else (low similarity) and nothing else fits: flagged, shown without a marker
        ("The capital of France is Paris [1].", [[0.74, 0.70]], "The capital of France is Paris.", [], ["The capital of France is Paris."], 1),
        # two markers, one holds
        ("Inden 72 timer [1][2].", [[0.85, 0.80]], "Inden 72 timer [1].", [(1, False)], [], 1),
    ],
)
def test_cited_sentences_are_verified_against_their_passage(
    answer: str, sims: list[list[float]], text: str, cited: list[tuple[int, bool]], unsupported: list[str], unverified: int
) -> None:
    result = _supported(answer, _passages("Politianmeldelse inden 72 timer.", "Underskuddet er 58 mio. kr."), sims)
    assert result.text == text
    assert [(c.n, c.attached) for c in result.citations] == cited
    assert result.unsupported == unsupported and result.unverified == unverified


@pytest.mark.parametrize(
    ("passage", "answer", "confirmed"),
    [
        ("Opgaveudvalget kom med seks anbefalinger.", "Udvalget kom med 6 anbefalinger [1].", True),
        ("The committee made twelve recommendations.", "It made 12 recommendations [1].", True),
        ("Det tredje møde holdes i marts.", "The 3rd meeting is in March [1].", True),
        ("Opgaveudvalget kom med seks anbefalinger.", "Udvalget kom med 7 anbefalinger [1].", False),
        ("Ordningen gælder fra 1/7 2025.", "It applies from 2025-07-01 [1].", True),
        ("Ordningen gælder fra 1/7 2025.", "It applies from 17 June 2025 [1].", False),
        # "en" is an article far more often than a number: it gives a passage no 1
        ("Der er en ny leder.", "There is 1 new leader [1].", False),
    ],
)
def test_numbers_are_found_in_words_and_digits(passage: str, answer: str, confirmed: bool) -> None:
    result = _supported(answer, _passages(passage), [[0.9]])
    assert [(c.n, c.attached) for c in result.citations] == ([(1, False)] if confirmed else [])


@pytest.mark.parametrize(
    ("sentence", "question", "claims"),
    [
        ("The company that won the tender for school meals in Roskilde is [1].", "Which company won the tender for school meals in Roskilde?", False),
        ("Det koster et månedskort til bussen i Odense [1].", "Hvad koster et månedskort til bussen i Odense?", False),
        ("21 members.", "How many members did the task committee have?", True),
        ("Katrine Nissen.", "Who is the new acting head of the centre?", True),
        ("Inden 72 timer [1].", "Hvornår skal vold anmeldes til politiet?", True),
    ],
)
def test_makes_a_claim(sentence: str, question: str, claims: bool) -> None:
    from assistant.citations import makes_a_claim

    assert makes_a_claim(sentence, question) is claims


def test_a_restated_question_is_no_answer() -> None:
    import numpy as np

    from assistant.citations import support_sentences

    hits = _passages("Udbuddet af skolemad.", "Andet.")
    question = "Which company won the tender for school meals in Roskilde?"
    checked = check_citations("The company that won the tender for school meals in Roskilde is [1].", hits)
    result = support_sentences(checked, hits, lambda s: np.array([[0.9, 0.7]]), 0.8, 0.8, question)
    assert result.citations == [] and result.unsupported == ["The company that won the tender for school meals in Roskilde is."]


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        # markers in front of sentences move to the end of the claim they support
        ("[1] Vold skal anmeldes inden 72 timer. [2] Reglerne skærpes.", "Vold skal anmeldes inden 72 timer [1]. Reglerne skærpes [2]."),
        # a marker after the full stop goes before it
        ("Vold skal anmeldes inden 72 timer. [1]", "Vold skal anmeldes inden 72 timer [1]."),
        # talk about the passage goes; the claim stays, with its marker at its end
        ("The passage states that violence must be reported within 72 hours [1].", "Violence must be reported within 72 hours [1]."),
        ("According to passage 2, the rules are tightened.", "The rules are tightened [2]."),
        ("The rules are tightened, as stated in [2].", "The rules are tightened [2]."),
        ("[2] The passage states that the rules are tightened.", "The rules are tightened [2]."),
        ("The rules are tightened, as discussed in [1] and [2].", "The rules are tightened [2]."),
        # a sentence only about where the answer stands goes; its marker joins the claim before it
        ("The rules are tightened. This is stated in passage [2].", "The rules are tightened [2]."),
    ],
)
def test_markers_follow_their_claim(answer: str, text: str) -> None:
    hits = _passages("Vold skal anmeldes til politiet inden 72 timer.", "Reglerne skærpes.")
    sims = [[0.9, 0.6], [0.6, 0.9]][: len(answer.split(". ")) if answer.startswith("[1]") else 1]
    if "tightened" in answer:
        sims = [[0.6, 0.9]]
    assert _supported(answer, hits, sims).text == text


def test_each_citation_quotes_the_sentences_that_support_the_answer() -> None:
    from assistant.citations import CitationChecker
    from assistant.records import Context, Query, QueryForm
    from assistant.templates import Templates
    from tests.conftest import ROOT, FakeEmbedder

    passage = "Ad. 2 Vold og trusler. Vold og trusler skal politianmeldes inden 72 timer. Mødet sluttede kl. 16."
    hit = Hit(Chunk("c1", "d", "D", passage, 0, 1, 1, 1, heading="Ad. 2 Vold og trusler"), 0.9, 1, vector=FakeEmbedder().embed_passages([passage])[0])
    checker = CitationChecker(FakeEmbedder(), Templates.load(ROOT / "prompts"), attach_threshold=0.0, verify_threshold=0.0)
    query = Query("Hvornår skal vold politianmeldes?", "da", (QueryForm("Hvornår skal vold politianmeldes?", 1.0, 1.0),))
    answer = checker.run(query, Context([hit], [passage]), "Vold og trusler skal politianmeldes inden 72 timer [1].")
    assert [(c.n, c.quotes) for c in answer.citations] == [(1, ("Vold og trusler skal politianmeldes inden 72 timer.",))]


@pytest.mark.parametrize(
    ("question", "reply", "abstained"),
    [
        # the passage is about Greve's buses: a figure it holds is no answer about Odense's
        ("Hvad koster et månedskort til bussen i Odense?", "Et månedskort koster 762.000 kr [1].", True),
        ("Hvad koster et månedskort til bussen i Greve?", "Et månedskort koster 762.000 kr [1].", False),
        ("How much is a monthly bus pass in Greve?", "A monthly pass costs 762.000 kr [1].", False),
    ],
)
def test_an_answer_about_another_place_than_the_question_names_is_declined(question: str, reply: str, abstained: bool) -> None:
    from assistant.citations import CitationChecker
    from assistant.records import Context, Query, QueryForm
    from assistant.templates import Templates
    from tests.conftest import ROOT, FakeEmbedder

    passage = "Greve Kommune: busdrift. Udgiften til busdriften er 762.000 kr. om året."
    hit = Hit(Chunk("c1", "d", "Greve Byråd", passage, 0, 1, 1, 1), 0.9, 1, vector=FakeEmbedder().embed_passages([passage])[0])
    checker = CitationChecker(FakeEmbedder(), Templates.load(ROOT / "prompts"), attach_threshold=0.0, verify_threshold=0.0)
    query = Query(question, "en" if question.startswith("How") else "da", (QueryForm(question, 1.0, 1.0),))
    assert checker.run(query, Context([hit], [passage]), reply).abstained is abstained


_LOOP = "det kommer til at være de faglige organisationer der udpeger medarbejderrepræsentanter til de kommende udvalg"


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        ("Fristen er 72 timer [1].", "Fristen er 72 timer [1]."),
        # the repeated words go; a marker that opened the repeat goes with it when the reply puts markers first
        (f"[1] {_LOOP.capitalize()}. Processen er i gang. [2] {_LOOP.capitalize()}", f"[1] {_LOOP.capitalize()}. Processen er i gang."),
        # a reply that puts markers after its sentences keeps the marker before the repeat
        (f"{_LOOP.capitalize()}. [1] {_LOOP}", f"{_LOOP.capitalize()}. [1]"),
    ],
)
def test_a_looping_reply_is_cut_before_its_repeat(reply: str, kept: str) -> None:
    assert before_loop(reply).strip() == kept


@pytest.mark.parametrize(
    ("probabilities", "scores", "similarities", "eligible", "chosen"),
    [
        ([0.1, 0.6, 0.3], [1.3, 1.2], [0.85, 0.84], [True, True], 0),  # the model's choice, the ranking agreeing
        ([0.1, 0.2, 0.7], [1.3, 1.2], [0.85, 0.84], [True, True], 1),  # the model's choice over the ranking
        ([0.9, 0.05, 0.05], [1.3, 1.2], [0.85, 0.84], [True, True], None),  # "none" weighs most: declined
        ([0.9, 0.05, 0.05], [1.3, 1.2], [0.90, 0.84], [True, True], 0),  # … unless the best sentence is strongly similar
        ([0.1, 0.6, 0.3], [1.3, 1.2], [0.85, 0.84], [False, True], 1),  # a sentence that cannot answer weighs nothing
        ([0.9, 0.05, 0.05], [1.3, 1.2], [0.90, 0.89], [False, True], 1),  # the strong fallback is the best that can answer
        ([0.1, 0.8, 0.1], [1.3, 1.2], [0.90, 0.84], [False, False], None),  # none can answer
        ([1.0], [], [], [], None),  # no evidence
    ],
)
def test_weigh_choice(probabilities: list[float], scores: list[float], similarities: list[float], eligible: list[bool], chosen: int | None) -> None:
    from assistant.citations import weigh_choice

    assert weigh_choice(probabilities, scores, similarities, eligible, 1.0, 1.2, 0.88) == chosen


def _chooser() -> CitationChecker:
    """A checker that weighs the model's choice as the settings do (rank weight 1.0, "none" at 1.2, strong at 0.88)."""
    from assistant.templates import Templates
    from tests.conftest import ROOT, FakeEmbedder

    return CitationChecker(
        FakeEmbedder(), Templates.load(ROOT / "prompts"), attach_threshold=0.0, verify_threshold=0.0, rank_weight=1.0, decline_score=1.2,
        strong_similarity=0.88,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        # the model chose the sentence about the bridge's length, but a price is asked for: only the price answers
        ("Hvor meget koster broen?", "Broen koster 42 mio. kr. at bygge."),
        ("Hvor lang bliver broen?", "Broen bliver 51 meter lang og 9 meter bred."),
        # a year the passage does not hold: declined, however well a sentence matches
        ("Hvor lang bliver broen i 2031?", None),
        ("Hvor lang bliver broen i 2025?", "Broen bliver 51 meter lang og 9 meter bred."),
        # "when", and neither sentence names a date or a time: nothing here says when
        ("Hvornår står broen færdig?", None),
    ],
)
def test_pick_answers_only_from_a_sentence_that_can_answer(question: str, chosen: str | None) -> None:
    from assistant.records import Evidence, Query, QueryForm

    passage = "Broen bliver 51 meter lang og 9 meter bred. Broen koster 42 mio. kr. at bygge."
    hit = Hit(Chunk("c1", "d", "Byrådet", passage, 0, 1, 1, 1, metadata={"date": "2025-08-27"}), 0.9, 1)
    evidence = (Evidence(1, "Broen bliver 51 meter lang og 9 meter bred.", hit, 1.4, 0.86), Evidence(1, "Broen koster 42 mio. kr. at bygge.", hit, 1.3, 0.85))
    picked = _chooser().pick(Query(question, "da", (QueryForm(question, 1.0, 1.0),)), evidence, [0.1, 0.8, 0.1])
    assert (picked.sentence if picked else None) == chosen


def test_pick_weighs_only_the_sentences_whose_passage_holds_the_names_asked_about() -> None:
    """The model's favourite sentence comes from a passage without the name the question asks about: the question is
    answered from the sentence that can answer, not declined."""
    from assistant.records import Evidence, Query, QueryForm

    other = Hit(Chunk("c1", "d1", "Beskæftigelsesudvalget", "Initiativet træder i kraft 1. januar 2024.", 0, 1, 1, 1), 0.9, 1)
    med = Hit(Chunk("c2", "d2", "HovedMED", "Den nye MED-aftale forventes at træde i kraft pr. 1. januar 2016.", 0, 1, 1, 1), 0.9, 2)
    evidence = (Evidence(1, other.chunk.text, other, 1.34, 0.85), Evidence(2, med.chunk.text, med, 1.31, 0.89))
    question = "Hvornår træder den nye MED-aftale i kraft?"
    picked = _chooser().pick(Query(question, "da", (QueryForm(question, 1.0, 1.0),)), evidence, [0.05, 0.6, 0.35])
    assert picked is not None and picked.hit is med


@pytest.mark.parametrize("with_item", [True, False])
def test_a_sentence_can_answer_for_the_names_its_agenda_item_holds(with_item: bool) -> None:
    """The school and the year stand in another passage of the sentence's agenda item: the sentence answers for them
    (it stands in its item); on its own passage alone it would not."""
    from assistant.records import Evidence

    def part(i: int, text: str) -> Hit:
        return Hit(Chunk(f"c{i}", "d1", "Aftale med gymnasiet", text, 0, 1, 1, 1, heading="Aftale med gymnasiet › Sagsbeskrivelse"), 0.9, i)

    first = part(1, "Greve Gymnasium og Kultur- og Fritidsudvalget har indgået en aftale for 2025 om hallen.")
    money = part(2, "Der er afsat 0,3 mio. kr. til formålet.")
    evidence = Evidence(2, money.chunk.text, money, 1.2, 0.9, (first, money) if with_item else ())
    assert _chooser().can_answer("Hvor mange penge er der afsat til aftalen med Greve Gymnasium i 2025?", evidence) is with_item


@pytest.mark.parametrize(
    ("question", "held"),
    [
        # the minutes write the body's name in Danish: its English words are not looked for
        ("What must an institution do after an inspection by the Danish Patient Safety Authority?", True),
        # "Tune" is a place (and a Danish word): still asked for
        ("What must an institution in Tune do after an inspection by the Danish Patient Safety Authority?", False),
        # a Danish question's names are all asked for
        ("Hvad skal institutionen gøre efter et tilsyn fra Safety Authority?", False),
    ],
)
def test_an_english_questions_english_words_are_no_names_the_minutes_hold(tmp_path, question: str, held: bool) -> None:
    from assistant.lexicon import Lexicon
    from assistant.templates import Templates
    from tests.conftest import ROOT, FakeEmbedder

    (tmp_path / "english").write_text("authority\ndanish\nsafety\npatient\ntune\ninstitution\n", "utf-8")
    (tmp_path / "glossary.tsv").write_text("", "utf-8")
    (tmp_path / "danish").write_text("patient\nTune\ninstitution\n", "utf-8")
    lexicon = Lexicon(tmp_path / "glossary.tsv", tmp_path, tmp_path / "english", tmp_path / "danish")
    checker = CitationChecker(FakeEmbedder(), Templates.load(ROOT / "prompts"), lexicon, attach_threshold=0.0, verify_threshold=0.0)
    passage = Hit(Chunk("c1", "d1", "Tilsyn", "Når Styrelsen for Patientsikkerhed gennemfører et tilsyn, skal institutionen lave en handleplan.", 0, 1, 1, 1), 0.9, 1)
    assert checker.names_held(question, [passage]) is held


@pytest.mark.parametrize(
    ("chosen", "quotes", "quoted"),
    [
        # the model's pick first, then the best of the context's quotes, two in all
        (0, [0, 1], [0, 1]),
        (1, [0, 1], [1, 0]),
        (2, [0, 1], [2, 0]),
        # a sentence far under the best is no quote: the pick alone, or the pick and the best
        (0, [0], [0]),
        (2, [0], [2, 0]),
    ],
)
def test_the_answer_quotes_its_pick_then_the_best_of_the_contexts_quotes(chosen: int, quotes: list[int], quoted: list[int]) -> None:
    from assistant.records import Context, Evidence, Query, QueryForm

    from tests.conftest import FakeEmbedder

    text = "Broen koster 42 mio. kr. Den åbner i 2026. Den er 51 meter lang."
    hit = Hit(Chunk("c1", "d", "Byrådet", text, 0, 1, 1, 1), 0.9, 1, vector=FakeEmbedder().embed_passages([text])[0])
    evidence = tuple(Evidence(1, sentence, hit, score, 0.85) for sentence, score in zip(hit.chunk.text.split(". "), (1.4, 1.3, 1.2)))
    context = Context([hit], [hit.chunk.text], evidence, tuple(evidence[i] for i in quotes))
    question = "Hvad koster broen?"
    answer = _chooser().phrased(Query(question, "da", (QueryForm(question, 1.0, 1.0),)), context, evidence[chosen], "Broen koster 42 mio. kr.", 2)
    assert [evidence.index(e) for e in answer.evidence] == quoted
