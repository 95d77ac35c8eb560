from __future__ import annotations

import math

import pytest

from assistant.context import ContextBuilder
from assistant.records import Chunk, Hit, Query, QueryForm
from assistant.retrieval import reciprocal_rank_fusion


@pytest.mark.parametrize(
    ("rankings", "weights", "expected"),
    [
        ([[1, 2, 3], [3, 2, 1]], None, [1, 3, 2]),  # 1 and 3 tie (1/11 + 1/13) above 2 (2/12); ties keep first appearance
        ([[1, 2], [3, 2]], [1.0, 0.0], [1, 2, 3]),  # a zero weight follows the first ranking
        ([[1], [2]], [1.0, 2.0], [2, 1]),
        ([[], [5, 6]], None, [5, 6]),
    ],
)
def test_reciprocal_rank_fusion(rankings: list[list[int]], weights: list[float] | None, expected: list[int]) -> None:
    assert reciprocal_rank_fusion(rankings, k=10, weights=weights) == expected


def _builder(embedder: object, sentences: int, chars: int = 0, min_score: float = 0.0) -> ContextBuilder:
    return ContextBuilder(embedder, min_score=min_score, sentences=sentences, chars=chars)  # type: ignore[arg-type]


def test_best_sentences_keeps_the_relevant_ones_in_order(fake_embedder) -> None:  # noqa: ANN001
    text = (
        "Ad. 10 Meddelelser. Anette orienterede om mødet. Aftalen forventes at træde i kraft pr. 1. januar 2016. "
        "Kantinen holder lukket. Referatet blev godkendt."
    )
    hit = Hit(Chunk("d#1", "d", "D", text, 0, len(text), 1, 1), 0.9, 1)
    (kept,) = _builder(fake_embedder, 2).best_sentences("Hvornår træder aftalen i kraft?", [hit])
    assert "træde i kraft pr. 1. januar 2016." in kept  # not cut at "pr." or "1."
    assert "Kantinen" not in kept and len(kept) < len(text)
    assert _builder(fake_embedder, 0).best_sentences("x", [hit]) == [" ".join(text.split())]


def test_passages_under_the_relevance_floor_are_left_out(fake_embedder) -> None:  # noqa: ANN001
    query = Query("q", "da", (QueryForm("q", 1.0, 1.0),))
    hits = [Hit(Chunk("d#1", "d", "D", "Relevant.", 0, 9, 1, 1), 0.8, 1), Hit(Chunk("d#2", "d", "D", "Ikke.", 0, 5, 1, 1), 0.5, 2)]
    context = _builder(fake_embedder, 3, min_score=0.7).run(query, hits)
    assert context.passages == hits[:1] and context.texts == ["Relevant."]
    assert _builder(fake_embedder, 3, min_score=0.9).run(query, hits).passages == []


def _hit(text: str, n: int) -> Hit:
    return Hit(Chunk(f"d#{n}", "d", "D", text, 0, len(text), 1, 1), 0.9, n)


A = "Vold og trusler skal politianmeldes inden for 72 timer efter hændelsen."
B = "Retningslinjerne for politianmeldelse gennemgås til næste møde i december."
C = "Kantinen holder lukket i uge 42 på grund af ombygning af køkkenet."
D = "Referatet blev godkendt uden bemærkninger af alle fremmødte medlemmer."


@pytest.mark.parametrize(
    ("passages", "keep", "budget", "expected"),
    [
        # no budget: each passage's `keep` best, in their own order
        ([f"{C} {A} {D}", B], 2, 0, [f"{A} {D}", B]),
        # a budget keeps each passage's best sentence, then the best of the rest while they fit
        ([f"{A} {C} {D}", f"{B} {D}"], 3, len(A) + len(B) + 5, [A, B]),
        ([f"{A} {C}", B], 3, 1, [A, B]),  # the best sentence of each passage always stays
        # a sentence shown in an earlier passage (chunk overlap), whole or cut at the edge, is not repeated
        ([f"{C} {A}", f"{B} {A[:50]}"], 3, 0, [f"{C} {A}", B]),
        ([A, A], 3, 0, [A, A]),  # ...unless it is all the later passage has
        # a full stop before a paragraph break ends a sentence even after a short word ("… sig om."), so the cut-off
        # repeat after it is found
        ([A, f"{B} Det drejer sig om.\n\n{A[:50]}"], 3, 0, [A, f"{B} Det drejer sig om."]),
        # ...but a paragraph break without a full stop (PDF text with a blank line after every line) joins
        ([f"{B[:30]}\n\n{B[30:]}", A], 1, 0, [f"{B[:30]}\n{B[30:]}", A]),
    ],
)
def test_best_sentences_budget_and_repeats(fake_embedder, passages: list[str], keep: int, budget: int, expected: list[str]) -> None:  # noqa: ANN001
    question = "Hvornår skal vold og trusler politianmeldes, og hvornår gennemgås retningslinjerne for politianmeldelse?"
    assert _builder(fake_embedder, keep, budget).best_sentences(question, [_hit(p, n) for n, p in enumerate(passages, 1)]) == expected


class _Rows:
    """A store that knows only what fusion asks of rows: their Candidates."""

    def __init__(self, candidates: list[object]) -> None:
        self.by_row = {c.row: c for c in candidates}  # type: ignore[attr-defined]

    def candidates(self, rows: list[int]) -> list[object]:
        return [self.by_row[r] for r in rows]


def _candidate(row: int, doc: str, section: str = "", text: str = "", body: str = "", date: str = "") -> object:
    from assistant.records import Candidate

    return Candidate(row, text or f"text{row}", doc, f"Titel › {section}" if section else "Titel", body, date)


def _arranged(candidates: list[object], scores: list[float], k: int = 3, prefer: object = None, **settings: object) -> list[int]:
    from assistant.records import Filter
    from assistant.retrieval import Retriever

    retriever = Retriever(_Rows(candidates), None, top_k=k, mode="hybrid", depth=10, rrf_k=10, **settings)  # type: ignore[arg-type]
    return retriever.arrange(dict(zip(range(len(scores)), scores)), prefer or Filter(), k)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rows", "scores", "settings", "expected"),
    [
        # as fused, a repeated text once
        ([("a", "", "x"), ("b", "", "x"), ("c", "", "")], [3, 2, 1], {}, [0, 2]),
        # a section's weight lifts its passage, other sections keep theirs
        ([("a", "Bilag", ""), ("b", "Beslutning", "")], [1.0, 0.9], {"section_weights": {"Beslutning": 1.2}}, [1, 0]),
        ([("a", "Bilag", ""), ("b", "Beslutning", "")], [1.0, 0.9], {"section_weights": {"Resume": 1.2}}, [0, 1]),
        # an item's decision scores at least half its best passage: above another item's middling passage
        ([("a", "Resume", ""), ("b", "Resume", ""), ("a", "Beslutning", "")], [1.0, 0.4, 0.1], {"decision_support": 0.5}, [0, 2, 1]),
        ([("a", "Resume", ""), ("b", "Resume", ""), ("a", "Beslutning", "")], [1.0, 0.4, 0.1], {}, [0, 1, 2]),
        # … but never above what it already scores, and another item's passage lifts no decision
        ([("a", "Resume", ""), ("a", "Beslutning", ""), ("b", "Resume", "")], [1.0, 0.9, 0.6], {"decision_support": 0.5}, [0, 1, 2]),
        ([("a", "Resume", ""), ("b", "Resume", ""), ("c", "Beslutning", "")], [1.0, 0.4, 0.1], {"decision_support": 0.5}, [0, 1, 2]),
    ],
)
def test_arrange(rows: list[tuple[str, str, str]], scores: list[float], settings: dict, expected: list[int]) -> None:  # type: ignore[type-arg]
    candidates = [_candidate(i, doc, section, text) for i, (doc, section, text) in enumerate(rows)]
    assert _arranged(candidates, scores, **settings) == expected


def test_arrange_prefers_the_named_body_and_date() -> None:
    from assistant.records import Filter

    candidates = [
        _candidate(0, "a", body="Økonomiudvalget", date="2023-05-01"),
        _candidate(1, "b", body="Byråd 2022-2025", date="2024-02-01"),
        _candidate(2, "c", body="Byråd 2022-2025", date="2023-06-01"),
    ]
    prefer = Filter(bodies=("Byråd 2022-2025",), date_from="2024", date_to="2024")
    assert _arranged(candidates, [1.0, 0.8, 0.9], prefer=prefer, prefer_weight=0.5) == [1, 2, 0]  # 0.8 × 2 > 0.9 × 1.5 > 1.0 × 1
    assert _arranged(candidates, [1.0, 0.8, 0.9], prefer=prefer) == [0, 2, 1]  # no weight: as fused


@pytest.mark.parametrize(
    ("question", "bodies", "date_from", "date_to"),
    [
        ("Hvad besluttede Økonomiudvalget i marts 2024?", ("Økonomiudvalget",), "2024-03", "2024-03"),
        ("Hvad besluttede byrådet i 2022 og 2023?", ("Byråd 2022-2025",), "2022", "2023"),
        ("Hvad koster det?", (), "", ""),
    ],
)
def test_the_query_names_bodies_and_dates(question: str, bodies: tuple[str, ...], date_from: str, date_to: str) -> None:
    from assistant.query import QueryRewriter
    from assistant.records import Filter
    from assistant.settings import Settings
    from assistant.templates import Templates

    settings = Settings()
    rewriter = QueryRewriter.from_settings(settings, Templates.load(settings.prompts_dir), None)
    query = rewriter.run(question, bodies=["Økonomiudvalget", "Byråd 2022-2025", "Plan- og Tryghedsudvalget"])
    assert query.prefer == Filter(bodies=bodies, date_from=date_from, date_to=date_to)


def test_an_english_questions_evidence_is_scored_by_its_closer_danish_wording(fake_embedder) -> None:  # noqa: ANN001
    """A Danish sentence is as similar to an English question as to its Danish translation, and holds the share of the
    words of its best-matching wording: the English words, which no Danish sentence holds, do not dilute it."""
    from assistant.danish import terms

    question, translation = "When must violence be reported to the police?", "Hvornår skal vold politianmeldes inden for 72 timer?"
    query = Query(question, "en", (QueryForm(question, 1.0, 0.0), QueryForm(translation, 1.0, 1.0, "translation")))
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=2, overlap_weight=0.5)
    best = builder.run(query, [_hit(A + " " + C, 1)]).evidence[0]
    assert best.sentence == A
    to = {text: float(fake_embedder.embed_passages([A])[0] @ fake_embedder.embed_queries([text])[0]) for text in (question, translation)}
    assert best.similarity == pytest.approx(to[translation]) and to[translation] > to[question]
    held, other = set(terms(A)), set(terms(C))

    def weight(word: str) -> float:  # two candidate sentences: a word both hold counts less than one only A holds
        return math.log(3 / ((word in held) + (word in other) + 0.5))

    def share(words: set[str]) -> float:
        return sum(weight(w) for w in words & held) / sum(weight(w) for w in words)

    own, pooled = share(set(terms(translation))), share(set(terms(question)) | set(terms(translation)))
    assert best.score - best.similarity == pytest.approx(0.5 * own) and own > pooled


def test_a_word_few_candidates_hold_counts_more_in_the_evidence_ranking(fake_embedder) -> None:  # noqa: ANN001
    """Every sentence of an item treats its matter: the question's word for the matter tells them apart less than the
    word only the answer holds ("deltager" for "who attends"), however many of the question's words each holds."""
    question = "Hvem deltager ved punktet om kantinens ombygning?"
    query = Query(question, "da", (QueryForm(question, 1.0, 1.0),))
    matter = ["Kantinens ombygning koster 2 mio. kr.", "Kantinens ombygning sker efter sommerferien.", "Kantinens ombygning er udbudt."]
    answer = "Centerchef Gitte Lind deltager."
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=4, overlap_weight=5.0)
    evidence = builder.run(query, [_hit(" ".join([*matter, answer]), 1)]).evidence
    assert evidence[0].sentence == answer


@pytest.mark.parametrize(("passage_weight", "first"), [(0.0, C), (5.0, D)])
def test_a_sentences_passage_rank_counts_in_the_evidence_ranking(fake_embedder, passage_weight: float, first: str) -> None:  # noqa: ANN001
    """Retrieval has weighed the whole passage (its section, its words, the committee named): a sentence of its first
    passage gains passage_weight, of its second half that, and so on."""
    query = Query("Hvornår holder kantinen lukket?", "da", (QueryForm("Hvornår holder kantinen lukket?", 1.0, 1.0),))
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=2, passage_weight=passage_weight)
    evidence = builder.run(query, [_hit(D, 1), _hit(C, 2)]).evidence
    assert evidence[0].sentence == first


def test_a_records_furniture_is_no_evidence(fake_embedder) -> None:  # noqa: ANN001
    """A list of attachments holds dates too, and a question's words: it is never offered as the answer."""
    question = "Hvornår blev notatet om kantinen skrevet?"
    query = Query(question, "da", (QueryForm(question, 1.0, 1.0),))
    attachments = "Bilag 1: Notat om kantinen 19.08.2025 Bilag 2: Kort over kantinen."
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=3)
    evidence = builder.run(query, [_hit(attachments + " " + C, 1)]).evidence
    assert [e.sentence for e in evidence] == [C]


@pytest.mark.parametrize(("heading", "first"), [("", 1), ("Lokalplan for plejecentret i Lunden › Beslutning", 0)])
def test_a_sentence_stands_in_its_agenda_item(fake_embedder, heading: str, first: int) -> None:  # noqa: ANN001
    """A sentence holds its agenda item's title words too: the count of hearing responses answers a question about the
    item's local plan, above a sentence that only repeats the plan's name."""
    answer, topic = "Der er indkommet 5 høringssvar.", "Lokalplanen blev drøftet på mødet i Lunden."
    question = "Hvor mange høringssvar kom der til lokalplanen for plejecentret i Lunden?"
    query = Query(question, "da", (QueryForm(question, 1.0, 1.0),))
    text = f"{answer} {topic}"
    hit = Hit(Chunk("d#1", "d", "D", text, 0, len(text), 1, 1, heading), 0.9, 1)
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=2, overlap_weight=0.5, kind_weight=0.1)
    assert builder.run(query, [hit]).evidence[0].sentence == [answer, topic][first]


@pytest.mark.parametrize(
    ("second", "offered"),
    [
        (C.replace("42 på", "42, på"), 2),  # the same sentence in a later meeting's minutes
        (C.replace("uge 42", "uge 43"), 3),  # another week is news
        ("på grund af ombygning af køkkenet.", 2),  # the tail of it, cut at a chunk's edge
    ],
)
def test_a_sentence_repeated_by_a_later_passage_is_offered_once(fake_embedder, second: str, offered: int) -> None:  # noqa: ANN001
    question = "Hvornår holder kantinen lukket på grund af ombygning?"
    query = Query(question, "da", (QueryForm(question, 1.0, 1.0),))
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=4)
    evidence = builder.run(query, [_hit(C, 1), _hit(f"{second} {D}", 2)]).evidence
    assert len(evidence) == offered and evidence[0].sentence == C



@pytest.mark.parametrize(("margin", "quoted"), [(9.0, 2), (0.0, 1)])
def test_only_sentences_scoring_near_the_best_are_quotes(fake_embedder, margin: float, quoted: int) -> None:  # noqa: ANN001
    """A sentence far under the best shares the question's words more than its matter: it is offered to the model but
    not quoted."""
    question = "Hvornår holder kantinen lukket på grund af ombygning?"
    query = Query(question, "da", (QueryForm(question, 1.0, 1.0),))
    builder = ContextBuilder(fake_embedder, min_score=0.0, sentences=0, chars=0, evidence=4, margin=margin)
    context = builder.run(query, [_hit(C, 1), _hit(D, 2)])
    assert len(context.evidence) == 2 and context.evidence[0].score > context.evidence[1].score
    assert context.quotes == context.evidence[:quoted]
