"""What the OCR-robust lexical channel gains: recall of BM25 with plain Snowball stems against folded stems plus
consonant skeletons, on (1) the OCR seed and (2) an OCR-degraded copy of the whole Greve corpus, with the Danish
questions of the development sets.

The degradation imitates the OCR seed: å→a; æ→ae/ee; ø→g/a/e/@/o; long words split by a line-end hyphen. It is
deterministic per word, so a gold phrase degrades exactly as the text around it does.

    python -m bench.ocr_robustness
"""

from __future__ import annotations

import hashlib
import re
import sqlite3

from assistant import lexical
from assistant.chunking import Chunker, embedding_text
from assistant.danish import terms
from assistant.evaluation import GoldQuestion, Scores, first_relevant_rank, read_gold
from assistant.ingest import load_documents
from assistant.records import Chunk, Document, Hit
from assistant.settings import Settings
from bench._common import ROOT, SHARED, save

GREVE = SHARED / "corpora" / "greve" / "agenda_items.jsonl"
OCR_SEED = "koebenhavn-sof-hovedmed-2025-referat-ocr.txt"


def _h(word: str) -> int:
    return int(hashlib.md5(word.encode()).hexdigest()[:8], 16)


def degrade_word(word: str) -> str:
    """One word as a careless OCR engine reads it (the same word always comes out the same)."""
    h = _h(word)
    out = word.replace("å", "a").replace("Å", "A")
    out = out.replace("æ", ("ae", "ee")[h % 2]).replace("Æ", "Ae")
    out = out.replace("ø", ("g", "a", "e", "@", "o")[h % 5]).replace("Ø", "O")
    if len(out) > 9 and h % 4 == 0:
        mid = len(out) // 2
        out = out[:mid] + "-\n" + out[mid:]
    return out


def degrade(text: str) -> str:
    """A text with every word degraded."""
    return re.sub(r"[^\W\d_]+", lambda m: degrade_word(m.group(0)), text)


def lexical_scores(chunks: list[Chunk], gold: list[GoldQuestion], ocr_robust: bool) -> Scores:
    """Recall@k / MRR@10 of the lexical channel alone over ``chunks``."""
    db = sqlite3.connect(":memory:")
    db.executescript(lexical.SCHEMA)
    lexical.add(db, ((i, " ".join(terms(embedding_text(c), ocr_robust))) for i, c in enumerate(chunks)))
    scores = Scores()
    for q in gold:
        rows = lexical.search(db, q.question, 10, ocr_robust)
        hits = [Hit(chunks[r], s, rank) for rank, (r, s) in enumerate(rows, 1)]
        scores.add(first_relevant_rank(q, hits))
    return scores


def _row(name: str, s: Scores) -> dict[str, float]:
    print(f"  {name:<34} n={s.n:<3} R@1 {s.recall(1):.3f}  R@5 {s.recall(5):.3f}  R@10 {s.recall(10):.3f}  MRR@10 {s.mrr:.3f}")
    return {"n": s.n, "recall@1": round(s.recall(1), 3), "recall@5": round(s.recall(5), 3), "recall@10": round(s.recall(10), 3), "mrr@10": round(s.mrr, 3)}


def main() -> None:
    result: dict[str, object] = {"settings": {"channel": "lexical only"}}
    settings = Settings()
    chunker = Chunker.from_settings(settings)

    seed_docs, _ = load_documents([ROOT / "seeds"])
    seed_chunks = [c for d in seed_docs for c in chunker.split(d)]
    seed_gold = [q for q in read_gold(ROOT / "tests" / "eval" / "seeds.jsonl") if q.lang == "da"]
    ocr_gold = [q for q in seed_gold if q.doc == OCR_SEED]
    print(f"OCR seed: {len(ocr_gold)} Danish questions on {OCR_SEED}")
    result["ocr_seed"] = {
        "plain_stems": _row("lexical, plain stems", lexical_scores(seed_chunks, ocr_gold, False)),
        "ocr_robust": _row("lexical, OCR-robust", lexical_scores(seed_chunks, ocr_gold, True)),
    }

    if not GREVE.exists():
        print(f"skipping the Greve part: {GREVE} not found (../shared is absent)")
    else:
        docs, _ = load_documents([GREVE])
        greve_gold = [q for q in read_gold(ROOT / "tests" / "eval" / "greve.jsonl") if q.lang == "da"]
        clean = [c for d in docs for c in chunker.split(d)]
        noisy_docs = [Document(d.id, d.path, d.title, degrade(d.text), d.sha256, d.metadata, d.record) for d in docs]
        noisy = [c for d in noisy_docs for c in chunker.split(d)]
        noisy_gold = [GoldQuestion(q.id, q.question, tuple(degrade(a) for a in q.answers), q.doc, q.lang) for q in greve_gold]
        print(f"Greve: {len(greve_gold)} Danish questions, {len(clean)} passages")
        result["greve_clean"] = {
            "plain_stems": _row("clean text, plain stems", lexical_scores(clean, greve_gold, False)),
            "ocr_robust": _row("clean text, OCR-robust", lexical_scores(clean, greve_gold, True)),
        }
        result["greve_degraded"] = {
            "plain_stems": _row("OCR-degraded text, plain stems", lexical_scores(noisy, noisy_gold, False)),
            "ocr_robust": _row("OCR-degraded text, OCR-robust", lexical_scores(noisy, noisy_gold, True)),
        }
    print(f"saved {save('ocr_robustness', result, settings)}")


if __name__ == "__main__":
    main()
