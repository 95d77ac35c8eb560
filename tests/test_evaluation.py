from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import GoldFileError, evaluate, read_gold
from assistant.index import FaissStore
from assistant.records import Query, QueryForm
from assistant.retrieval import Retriever
from assistant.settings import Settings
from tests.conftest import SHARED, build


def test_recall_and_mrr_by_language(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    build([tiny_corpus], tmp_path / "index", fake_embedder)
    gold = tmp_path / "gold.jsonl"
    rows = [
        {"id": "1", "question": "politianmeldes vold trusler timer", "answers": ["inden 72\ntimer"], "lang": "da"},
        {"id": "2", "question": "budgettet 2025 vedtaget", "answers": ["vedtaget uden ændringer"], "doc": "b.txt"},
        {"id": "3", "question": "budget", "answers": ["a phrase that is nowhere"], "lang": "en"},
    ]
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    retriever = Retriever.from_settings(Settings(), FaissStore.load(tmp_path / "index"), fake_embedder, mode="dense")
    report = evaluate(lambda q, k: retriever.run(Query(q, "da", (QueryForm(q, 1.0, 1.0),)), k), read_gold(gold))
    assert report.overall.n == 3 and report.overall.recall(1) == pytest.approx(2 / 3)
    assert report.by_language["da"].n == 2 and report.by_language["en"].recall(10) == 0
    assert [q.id for q in report.misses] == ["3"]
    assert "R@5" in report.table("dense")


def test_project_gold_files_parse_and_their_phrases_exist() -> None:
    from assistant.ingest import load_documents

    docs = {d.id: d for d in load_documents([Settings().seeds_dir])[0]}
    gold = read_gold(Path(__file__).parent / "eval" / "seeds.jsonl")
    answerable = [q for q in gold if q.answerable]
    assert len(answerable) >= 40 and {q.lang for q in gold} == {"da", "en"}
    assert sum(1 for q in gold if q.facts) >= 20 and sum(1 for q in gold if not q.answerable) >= 10
    for q in answerable:
        text = " ".join(docs[q.doc].text.replace("-\n", "").lower().split())
        assert any(" ".join(a.lower().split()) in text for a in q.answers), q.id


@pytest.mark.parametrize(("line", "message"), [('{"question": "x"}', "answers"), ("{oops", "not valid JSON")])
def test_bad_gold_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(line, "utf-8")
    with pytest.raises(GoldFileError, match=message):
        read_gold(path)


@pytest.mark.parametrize(
    ("fact", "answer", "present"),
    [
        ("72", "Vold skal anmeldes inden 72 timer [1].", True),
        ("1. januar 2016|january 1, 2016", "The agreement takes effect on January 1, 2016 [1].", True),
        ("1. januar 2016|january 1, 2016", "Den træder i kraft 1.  januar\n2016.", True),
        ("Susanne Skov", "Det fremgår ikke af dokumenterne.", False),
        ("hovedlov|main act", "A new principal law.", False),
        # regular expressions: a number guarded against longer numbers and citation markers, a number's two formats
        (r"(?<![\d.,\[])3(?![\d\]]|[.,]\d)", "Der holdes 3 årlige møder [1].", True),
        (r"(?<![\d.,\[])3(?![\d\]]|[.,]\d)", "Der holdes 13 møder [3].", False),
        (r"4,3|4\.3", "The store is 4.3 m by 13.1 m.", True),
        (r"4,3|4\.3", "It costs 453 kr.", False),
    ],
)
def test_fact_present(fact: str, answer: str, present: bool) -> None:
    from assistant.evaluation import fact_present

    assert fact_present(fact, answer) is present


def test_answer_metrics_count_facts_citations_and_abstention(tmp_path: Path) -> None:
    from assistant.evaluation import evaluate_answers
    from assistant.records import Answer, Chunk, Citation, Hit

    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text(
        "\n".join(
            json.dumps(o, ensure_ascii=False)
            for o in [
                {"id": "a", "question": "Hvornår skal vold anmeldes?", "answers": ["72 timer"], "facts": ["72"], "lang": "da"},
                {"id": "b", "question": "Who is the secretary?", "answers": ["Susanne Skov"], "facts": ["Susanne Skov"], "lang": "en"},
                {"id": "c", "question": "What is the capital of France?", "answerable": False, "lang": "en"},
                {"id": "d", "question": "Hvem er borgmester i Aalborg?", "answerable": False, "lang": "da"},
                {"id": "e", "question": "No facts: retrieval only", "answers": ["x"]},
            ]
        ),
        "utf-8",
    )
    gold = read_gold(gold_file)
    hit = Hit(Chunk("d#1", "d", "D", "Vold anmeldes inden 72 timer.", 0, 1, 1, 1), 0.9, 1)
    replies = {
        "a": Answer("", "Inden 72 timer [1].", [Citation(1, hit)], [hit], abstained=False, dropped_citations=1, seconds=2.0),
        "b": Answer("", "The documents do not say.", [], [hit], abstained=True, seconds=1.0),
        "c": Answer("", "Paris [1].", [Citation(1, hit)], [hit], abstained=False, seconds=3.0),
        "d": Answer("", "Det fremgår ikke af dokumenterne.", [], [hit], abstained=True, seconds=1.0),
    }
    by_question = {q.question: replies[q.id] for q in gold if q.id in replies}
    report = evaluate_answers(lambda question: by_question[question], gold)
    s = report.overall
    assert (s.answerable, s.correct, s.false_abstentions, s.answered, s.cited_answer) == (2, 1, 1, 1, 1)
    assert (s.unanswerable, s.abstained, s.invalid_citations) == (2, 1, 1)
    assert report.by_language["en"].false_abstentions == 1 and report.by_language["da"].correct == 1
    assert [q.id for q, _, _ in report.outcomes] == ["a", "b", "c", "d"]
    assert "facts" in report.table() and "0.500" in report.table()


def test_a_fact_that_is_no_regular_expression_is_refused(tmp_path: Path) -> None:
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text('{"question": "Hvad?", "answers": ["x"], "facts": ["7,5 (mio"]}\n', "utf-8")
    with pytest.raises(GoldFileError, match=":1:.*regular expression"):
        read_gold(gold_file)


def test_unanswerable_questions_are_left_out_of_retrieval_scores(tmp_path: Path) -> None:
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text('{"question": "Hvem vandt?", "answerable": false}\n{"question": "Hvad?", "answers": ["x"], "facts": [""]}\n', "utf-8")
    with pytest.raises(GoldFileError, match=":2:.*facts"):
        read_gold(gold_file)


def _hit(rank: int, doc: str, text: str, case: str = "") -> object:
    from assistant.records import Chunk, Hit

    return Hit(Chunk(f"{doc}#1", doc, "t", text, 0, len(text), 1, 1, metadata={"case_number": case} if case else {}), 0.9, rank)


@pytest.mark.parametrize(
    ("hits", "passage_rank", "item_rank"),
    [
        ([("g", "ja, vedtaget i dag", "c1")], 1, 1),  # the gold item, its phrase
        ([("other", "ja, vedtaget i dag", "c1")], 1, 1),  # another meeting of the same case, the phrase: found
        ([("other", "ja, vedtaget i dag", "c2")], None, None),  # the phrase in another case: not found
        ([("x", "intet", ""), ("g", "et andet afsnit", "c1")], None, 2),  # the item, not the passage with the phrase
        ([("other", "et andet afsnit", "c1")], None, None),  # the same case without the phrase: not the item
        ([("Greve/g", "ja, vedtaget i dag", "")], 1, 1),  # the gold item under its municipality's name (NAME=PATH)
        ([("Greve/xg", "ja, vedtaget i dag", "")], None, None),  # another document whose name ends alike
    ],
)
def test_gold_item_and_same_case_rules(hits: list[tuple[str, str, str]], passage_rank: int | None, item_rank: int | None) -> None:
    from assistant.evaluation import GoldQuestion, first_item_rank, first_relevant_rank

    q = GoldQuestion("t1", "?", ("vedtaget i dag",), doc="g", case="c1", kinds=("year",))
    found = [_hit(i, d, t, c) for i, (d, t, c) in enumerate(hits, 1)]
    assert first_relevant_rank(q, found) == passage_rank  # type: ignore[arg-type]
    assert first_item_rank(q, found) == item_rank  # type: ignore[arg-type]


def test_report_by_kind_and_item_level() -> None:
    from assistant.evaluation import GoldQuestion

    gold = [
        GoldQuestion("1", "a", ("ja",), doc="g1", case="c1", lang="da", kinds=("year", "multi")),
        GoldQuestion("2", "b", ("nej",), doc="g2", lang="en", kinds=("committee",)),
    ]
    results = {"a": [_hit(1, "g1", "ja")], "b": [_hit(1, "x", "nej"), _hit(2, "g2", "noget")]}
    report = evaluate(lambda q, k: results[q], gold)  # type: ignore[arg-type, return-value]
    figures = report.figures()
    assert figures["all"]["recall@5"] == 0.5 and figures["kind:year"]["recall@1"] == 1.0 and figures["kind:committee"]["recall@10"] == 0.0
    assert figures["item:all"]["recall@5"] == 1.0 and figures["item:en"]["mrr@10"] == 0.5
    assert "kind:multi" in report.table()


def test_items_and_candidates_are_scored_as_search_ranked_them() -> None:
    """With what ``Retriever.search`` finds, an item counts where it stands among the items (another meeting of its
    case too), and the fact where its sentence stands among the evidence candidates."""
    from assistant.evaluation import GoldQuestion
    from assistant.records import Found, Item, Sentence

    gold = [
        GoldQuestion("1", "a", ("ja",), doc="g1", case="c1", lang="da", facts=("42 mio",)),
        GoldQuestion("2", "b", ("nej",), doc="g2", lang="en", facts=("120 børn",)),
    ]
    found = {
        "a": Found([_hit(1, "x", "ja")], [Item("x", 2.0, 1), Item("g9", 1.0, 2, ("g9",), "c1")], [(Sentence(1, "g9", "Det koster 42 mio. kr."), 2)]),
        "b": Found([_hit(1, "g2", "nej")], [Item("y", 2.0, 1, ("y", "g2"))], [(Sentence(1, "y", "Plads til 100 børn."), 1)]),
    }
    figures = evaluate(lambda q, k: found[q], gold).figures()
    assert figures["item:da"]["recall@1"] == 0.0 and figures["item:da"]["recall@5"] == 1.0  # its case's other meeting, second
    assert figures["item:en"]["recall@1"] == 1.0  # another meeting of its case found it first
    assert figures["candidates:da"]["recall@1"] == 0.0 and figures["candidates:da"]["recall@5"] == 1.0
    assert figures["candidates:en"]["recall@10"] == 0.0


@pytest.mark.parametrize("name", ["heldout/greve-test.jsonl", "eval/greve-dev2.jsonl"])
def test_greve_question_sets_follow_their_rules(name: str) -> None:
    """Each phrase stands in its item (or its case), no Danish question copies four words of it, both languages are
    there in halves, and the test set and the dev sets share no case."""
    corpus = SHARED / "corpora" / "greve" / "agenda_items.jsonl"
    if not corpus.exists():
        pytest.skip(f"{corpus} is absent (the shared Greve corpus)")
    from bench.greve_sample import check, load_items

    path = Path(__file__).parent / name
    assert check(path, load_items()) == []
    gold = read_gold(path)
    languages = [q.lang for q in gold]
    assert abs(languages.count("da") - languages.count("en")) <= 0.1 * len(gold)
    assert all(q.doc and q.kinds for q in gold)
    test_cases = {q.case for q in read_gold(Path(__file__).parent / "heldout" / "greve-test.jsonl")}
    if name.startswith("eval/"):
        assert not test_cases & {q.case for q in gold}
    else:
        assert len(gold) >= 150
