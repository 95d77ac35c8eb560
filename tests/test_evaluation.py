from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.chunking import Chunker
from assistant.evaluation import GoldFileError, evaluate, read_gold
from assistant.index import Index, build_index
from assistant.retrieval import Retriever
from assistant.settings import Settings


def test_recall_and_mrr_by_language(tmp_path: Path, tiny_corpus: Path, fake_embedder) -> None:  # noqa: ANN001
    build_index([tiny_corpus], tmp_path / "index", fake_embedder, Chunker())
    gold = tmp_path / "gold.jsonl"
    rows = [
        {"id": "1", "question": "politianmeldes vold trusler timer", "answers": ["inden 72\ntimer"], "lang": "da"},
        {"id": "2", "question": "budgettet 2025 vedtaget", "answers": ["vedtaget uden ændringer"], "doc": "b.txt"},
        {"id": "3", "question": "budget", "answers": ["a phrase that is nowhere"], "lang": "en"},
    ]
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    report = evaluate(Retriever(Index.load(tmp_path / "index"), fake_embedder, mode="dense"), read_gold(gold))
    assert report.overall.n == 3 and report.overall.recall(1) == pytest.approx(2 / 3)
    assert report.by_language["da"].n == 2 and report.by_language["en"].recall(10) == 0
    assert [q.id for q in report.misses] == ["3"]
    assert "R@5" in report.table("dense")


def test_project_gold_files_parse_and_their_phrases_exist() -> None:
    from assistant.ingest import load_documents

    docs = {d.id: d for d in load_documents([Settings().seeds_dir])[0]}
    gold = read_gold(Path(__file__).parent / "eval" / "seeds.jsonl")
    assert len(gold) >= 40 and {q.lang for q in gold} == {"da", "en"}
    for q in gold:
        text = " ".join(docs[q.doc].text.replace("-\n", "").lower().split())
        assert any(" ".join(a.lower().split()) in text for a in q.answers), q.id


@pytest.mark.parametrize(("line", "message"), [('{"question": "x"}', "answers"), ("{oops", "not valid JSON")])
def test_bad_gold_lines(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(line, "utf-8")
    with pytest.raises(GoldFileError, match=message):
        read_gold(path)
