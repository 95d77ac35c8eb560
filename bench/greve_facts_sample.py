"""The Greve agenda items, and in each the one sentence, that the fact question sets are written from: drawn at random
with a fixed seed, before any question is written, by rules fixed here.

    python -m bench.greve_facts_sample --set test      # tests/heldout/greve-facts-test.jsonl's draws
    python -m bench.greve_facts_sample --set dev       # tests/eval/greve-facts-dev.jsonl's draws
    python -m bench.greve_facts_sample --check tests/heldout/greve-facts-test.jsonl

Items come from all committees and 2022-2025 in the proportion the minutes have them (a plain shuffle of every
substantive item, ``--seed``); procedural items (agenda approval, signatures, notices, closed items, calendars) are
never drawn, nor items of a case that an earlier, tuned-on dev set asks about. The test set takes the first items of
the shuffle, the dev set the next ones; a case is drawn once across both (its text recurs at its other meetings).

In each item one sentence is drawn at random from the whole text, every section, among those that state a checkable
fact: a number, an amount, a date, a count, a name or place, a condition ("hvis", "forudsat"), or what was recommended
or decided. The writer sees the item's title, committee, date and case, the sentence (with the one before it, for its
pronouns) and the section it stands in, and writes one question in other words than the sentence, as a resident or
case worker would ask without having read it: even positions Danish, odd English; every third names the committee or
the year.

``--check`` validates a written set: each question's item and sentence are those drawn for its id, its answer phrase
stands in the sentence, no question copies four words running from it, and every fact (a regular expression) matches
the item's text or the sentence.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

from assistant.chunking import find_record_sections
from assistant.danish import WORD, holds_answer_kind, is_furniture, normalise, passage_sentences
from assistant.evaluation import fact_present, read_gold
from assistant.records import Document
from bench._common import ROOT, SHARED
from bench.greve_sample import PROCEDURAL

CORPUS = SHARED / "corpora" / "greve" / "agenda_items.jsonl"
#: The dev sets tuned on before these sets were drawn: their cases are never drawn.
TUNED = [ROOT / "tests" / "eval" / name for name in ("greve.jsonl", "greve-answers.jsonl", "greve-dev2.jsonl", "greve-en-in-danish.jsonl")]
SIZES = {"test": 230, "dev": 100}  #: items drawn per set (a few more than the questions kept: a sentence may be unaskable)
_CONDITION = re.compile(r"\b(hvis|såfremt|forudsat|forudsætning|betingelse|betinget|under forudsætning)\b", re.IGNORECASE)
_OWN_NAME = re.compile(r"\bGreve Kommunes?\b")
_NOT_A_FACT = re.compile(r"^(Fraværende|Sagsprocedure|Bilag|Godkendelse af dagsorden)|\bSagens forløb\b|^\W*$", re.IGNORECASE)


def load_items() -> list[dict]:
    """Every Greve agenda item (the shared corpus)."""
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def states_a_fact(sentence: str) -> bool:
    """Whether a sentence states something a question can check: a number, sum, date, name, condition or decision."""
    if not 40 <= len(sentence) <= 400 or is_furniture(sentence) or _NOT_A_FACT.search(sentence):
        return False
    if re.search(r"\d", sentence) or _CONDITION.search(sentence):
        return True
    # The municipality's own name is in nearly every sentence and names nothing a question could check.
    return any(holds_answer_kind(_OWN_NAME.sub("kommunen", sentence), kind) for kind in ("name", "decision"))


def fact_sentences(item: dict) -> list[tuple[str, str, str]]:
    """An item's sentences that state a fact, in order, each as (section, sentence, the sentence before it)."""
    doc = Document(item["_id"], "agenda_items.jsonl", item["title"], item["text"], "", record=True)
    found = []
    for section in find_record_sections(doc):
        label = section.heading.rpartition(" › ")[2] if " › " in section.heading else "(opening)"
        sentences = passage_sentences(item["text"][section.start : section.end])
        if sentences and sentences[0].startswith(label):
            sentences[0] = sentences[0][len(label) :].strip()
        for i, sentence in enumerate(sentences):
            if states_a_fact(sentence):
                found.append((label, sentence, sentences[i - 1] if i else ""))
    return found


def tuned_cases(items: list[dict]) -> set[str]:
    """The case numbers (or item ids, for items without one) the tuned-on dev sets ask about."""
    by_id = {i["_id"]: i for i in items}
    cases = set()
    for path in TUNED:
        if path.exists():
            for q in read_gold(path):
                item = by_id.get(q.doc.split(":", 1)[-1]) if q.doc else None
                if item is not None:
                    cases.add(item["case_number"] or item["_id"])
                elif q.case:
                    cases.add(q.case)
    return cases


def draws(items: list[dict], seed: int) -> dict[str, list[dict]]:
    """Each set's draws, in order: the item and its drawn sentence."""
    rng = random.Random(seed)
    skip = tuned_cases(items)
    pool = [
        i for i in items
        if i["meeting_date"][:4] in {"2022", "2023", "2024", "2025"} and not PROCEDURAL.search(i["title"]) and len(i["text"]) >= 400
    ]  # fmt: skip
    rng.shuffle(pool)
    taken: set[str] = set()
    out: dict[str, list[dict]] = {name: [] for name in SIZES}
    names = iter(SIZES)
    name = next(names)
    for item in pool:
        case = item["case_number"] or item["_id"]
        if case in skip or case in taken:
            continue
        sentences = fact_sentences(item)
        if not sentences:
            continue
        section, sentence, before = rng.choice(sentences)
        taken.add(case)
        n = len(out[name])
        out[name].append({
            "id": f"{'f' if name == 'test' else 'd'}{n:03d}", "lang": "da" if n % 2 == 0 else "en", "names": n % 3 == 0,
            "item": item["_id"], "title": item["title"], "committee": item["committee"], "date": item["meeting_date"][:10],
            "case": item["case_number"], "section": section, "sentence": sentence, "before": before,
        })  # fmt: skip
        if len(out[name]) == SIZES[name]:
            name = next(names, "")
            if not name:
                break
    return out


def check(path: Path, items: list[dict], drawn: list[dict]) -> list[str]:
    """What is wrong with a written set (empty: nothing)."""
    by_id = {i["_id"]: i for i in items}
    by_draw = {d["id"]: d for d in drawn}
    faults = []
    for q in read_gold(path):
        if not q.answerable:
            continue
        d = by_draw.get(q.id)
        if d is None or q.doc.split(":", 1)[-1] != d["item"]:
            faults.append(f"{q.id}: not drawn for this id")
            continue
        if not any(normalise(a) in normalise(d["sentence"]) for a in q.answers):
            faults.append(f"{q.id}: no answer phrase in the drawn sentence")
        words = [w.lower() for w in WORD.findall(q.question)]
        text = " ".join(w.lower() for w in WORD.findall(d["sentence"]))
        copied = [" ".join(words[i : i + 4]) for i in range(len(words) - 3) if f" {' '.join(words[i : i + 4])} " in f" {text} "]
        if copied:
            faults.append(f"{q.id}: copies {copied[0]!r} from its sentence")
        for fact in q.facts:
            if not fact_present(fact, d["sentence"]) and not fact_present(fact, by_id[d["item"]]["text"]):
                faults.append(f"{q.id}: fact {fact!r} matches neither the sentence nor the item")
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=3030)
    parser.add_argument("--set", choices=list(SIZES), default="test")
    parser.add_argument("--json", action="store_true", help="the draws as JSON lines")
    parser.add_argument("--check", type=Path, help="validate a written question file instead (its set: --set)")
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is absent: this needs the shared Greve corpus")
    items = load_items()
    drawn = draws(items, args.seed)[args.set]
    if args.check:
        faults = check(args.check, items, drawn)
        print("\n".join(faults) or f"{args.check}: ok")
        sys.exit(1 if faults else 0)
    mix = Counter(d["section"] for d in drawn)
    print(f"# {args.set}: {len(drawn)} items; sections: " + ", ".join(f"{s} {n}" for s, n in mix.most_common()), file=sys.stderr)
    for d in drawn:
        if args.json:
            print(json.dumps(d, ensure_ascii=False))
            continue
        print(f"### {d['id']} {d['lang']}{' NAME committee/year' if d['names'] else ''} | {d['committee']} | {d['date']} | case {d['case']} | {d['item']}")
        print(f"TITLE: {d['title']}\nSECTION: {d['section']}\nBEFORE: {d['before'][:300]}\nSENTENCE: {d['sentence']}\n")


if __name__ == "__main__":
    main()
