"""Retrieval in two steps, on a small index built with the fake embedder: the agenda items ranked on all their
passages (the meetings of one case as one item, the newest first unless the question names a meeting), then every
evidence sentence of the best items, in whatever section it stands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.context import ContextBuilder
from assistant.index import FaissStore
from assistant.records import Filter, Query, QueryForm
from assistant.retrieval import Retriever
from tests.conftest import build

#: A case's text, repeated at each meeting that handles it; only the decision differs.
TUNE = (
    "Resume Der skal bygges en ny daginstitution i Tune. Sagsbeskrivelse Institutionen får plads til 120 børn og "
    "forventes at koste 42 mio. kr. Byggeriet starter i august 2025. Beslutning {}"
)
ITEMS = [
    # One case at three meetings: committee, Økonomiudvalget, Byrådet.
    *(
        (f"k{n}", "Ny daginstitution i Tune", body, date, "24-000101", TUNE.format(decision))
        for n, (body, date, decision) in enumerate(
            [
                ("Børne- og Skoleudvalget", "2024-03-04", "Udvalget anbefaler indstillingen."),
                ("Økonomiudvalget", "2024-03-14", "Økonomiudvalget anbefaler indstillingen."),
                ("Byrådet", "2024-03-26", "Byrådet godkendte indstillingen."),
            ],
            1,
        )
    ),
    ("v1", "Vejbelysning på Strandvejen", "Teknik- og Miljøudvalget", "2024-05-02", "24-000202",
     "Resume Belysningen på Strandvejen skiftes til LED. Sagsbeskrivelse Der opsættes 300 nye master langs vejen. "
     "Beslutning Godkendt."),
    ("d1", "Godkendelse af dagsorden", "Byrådet", "2024-03-26", "21-000001", "Beslutning Dagsorden blev godkendt."),
    ("d2", "Godkendelse af dagsorden", "Byrådet", "2024-05-30", "21-000001", "Beslutning Dagsorden blev godkendt."),
]


@pytest.fixture
def store(tmp_path: Path, fake_embedder) -> FaissStore:  # noqa: ANN001
    path = tmp_path / "items.jsonl"
    rows = [{"_id": i, "title": t, "committee": b, "meeting_date": d, "case_number": c, "text": x} for i, t, b, d, c, x in ITEMS]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    build([path], tmp_path / "index", fake_embedder)
    return FaissStore.load(tmp_path / "index")


def _query(text: str) -> Query:
    return Query(text, "da", (QueryForm(text, 1.0, 1.0),))


def _retriever(store: FaissStore, embedder) -> Retriever:  # noqa: ANN001
    return Retriever(store, embedder, top_k=4, mode="hybrid", depth=50, rrf_k=60, evidence_items=1)


def test_a_cases_meetings_are_one_item_newest_first_and_a_standing_item_is_no_case(store: FaissStore) -> None:
    assert store.meetings("items.jsonl:k1") == ["items.jsonl:k3", "items.jsonl:k2", "items.jsonl:k1"]
    assert store.meetings("items.jsonl:d1") == ["items.jsonl:d1"]  # the agenda of every meeting is no one matter


def test_the_best_item_hands_on_every_sentence_of_its_newest_meeting_once(store: FaissStore, fake_embedder) -> None:  # noqa: ANN001
    found = _retriever(store, fake_embedder).search(_query("Hvad koster den nye daginstitution i Tune?"))
    first = found.items[0]
    assert first.doc_id == "items.jsonl:k3" and set(first.meetings) == {"items.jsonl:k1", "items.jsonl:k2", "items.jsonl:k3"}
    assert [i.doc_id for i in found.items].count("items.jsonl:k1") == 0  # the older meetings do not take other slots
    texts = [s.text for s, _ in found.sentences]
    assert len(texts) == len(set(texts)) and all(rank == 1 for _, rank in found.sentences)
    # the case description's sentences are candidates as well as the summary's, and each stands in a passage found
    assert any("42 mio. kr." in t for t in texts) and any("bygges en ny daginstitution" in t for t in texts)
    assert all(s.row in found.hits and s.vector is not None for s, _ in found.sentences)


def test_the_sentence_of_the_asked_kind_is_the_evidence(store: FaissStore, fake_embedder) -> None:  # noqa: ANN001
    """Asked how much it costs, the case description's sum beats the summary that restates the question's words."""
    query = _query("Hvad koster den nye daginstitution i Tune?")
    found = _retriever(store, fake_embedder).search(query)
    builder = ContextBuilder(fake_embedder, min_score=-1.0, sentences=0, chars=0, evidence=3, kind_weight=1.0)
    context = builder.run(query, found)
    assert "42 mio. kr." in context.evidence[0].sentence
    cited = context.passages[context.evidence[0].n - 1]
    assert cited == context.evidence[0].hit and "42 mio. kr." in cited.chunk.text  # the citation opens its passage
    # the names asked about are looked for in the whole agenda item the sentence stands in: every passage of it found
    item = context.evidence[0].item
    assert cited in item and {h.chunk.doc_id for h in item} == {cited.chunk.doc_id}
    assert {h.row for h in item} == {h.row for h in found.hits.values() if h.chunk.doc_id == cited.chunk.doc_id}


def test_the_sentence_channel_finds_the_passage_of_the_sentence_nearest_the_question(store: FaissStore, fake_embedder) -> None:  # noqa: ANN001
    """A fact is one sentence of a passage: searched by sentence, its passage comes first, at that sentence's
    similarity, each passage once."""
    vector = fake_embedder.embed_queries(["Der opsættes 300 nye master langs vejen."])[0]
    found = store.dense_sentences(vector, 3)
    rows = [r for r, _ in found]
    assert len(rows) == len(set(rows)) and [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert "300 nye master" in store.hits(rows[:1], vector)[0].chunk.text
    only_tune = Filter(bodies=("Byrådet",))  # narrowed, only the admitted documents' sentences count
    narrowed = [store.hits([r], vector)[0].chunk.metadata["body"] for r, _ in store.dense_sentences(vector, 3, only_tune)]
    assert narrowed and set(narrowed) == {"Byrådet"}
    retriever = _retriever(store, fake_embedder)
    without = retriever.fused(_query("Der opsættes 300 nye master langs vejen."), 50)[0]
    retriever.sentence_weight = 1.0
    with_sentences = retriever.fused(_query("Der opsættes 300 nye master langs vejen."), 50)[0]
    assert with_sentences[rows[0]] > without[rows[0]]
