from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import GoldFileError, evaluate, read_gold
from assistant.index import FaissStore
from assistant.records import Query, QueryForm
from assistant.retrieval import Retriever
from assistant.settings import Settings
from tests.conftest import build


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


def test_unanswerable_questions_are_left_out_of_retrieval_scores(tmp_path: Path) -> None:
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text('{"question": "Hvem vandt?", "answerable": false}\n{"question": "Hvad?", "answers": ["x"], "facts": [""]}\n', "utf-8")
    with pytest.raises(GoldFileError, match=":2:.*facts"):
        read_gold(gold_file)
