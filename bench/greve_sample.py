"""The Greve agenda items a held-out question set is written from: drawn at random with a fixed seed, before any
question is written, by rules fixed here.

    python -m bench.greve_sample --seed 2026 --per-year 40            # the test set's items (tests/heldout/)
    python -m bench.greve_sample --seed 7 --per-year 15 --skip-test   # the second dev set's items (tests/eval/)
    python -m bench.greve_sample --check tests/heldout/greve-test.jsonl

Each year 2022-2025 gives ``--per-year`` items, taken from the committees in turn (each committee's items
shuffled), so that every committee and year is present. Procedural items (agenda approval, signatures, the chair's
and the administration's notices, closed items, meeting calendars) and items whose Resume and Beslutning together
say less than 200 characters are never drawn, nor items holding a phrase of the dev set's gold; with
``--skip-test`` the test set's items are never drawn, and a drawn item of a case the test set asks about is shown as
dropped (its text recurs at the case's other meetings). The writer sees each
item's title, committee, date, case number, Resume and Beslutning, and writes one question from them in other words
than the item uses; the language alternates (even position Danish, odd English).

``--check`` validates a written set: every gold phrase stands in its item (or an item of the same case), every
question's id is drawn by these rules, and no Danish question copies four words running from its item.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from assistant.danish import WORD, normalise
from assistant.evaluation import read_gold
from bench._common import ROOT, SHARED

CORPUS = SHARED / "corpora" / "greve" / "agenda_items.jsonl"
DEV = [ROOT / "tests" / "eval" / "greve.jsonl", ROOT / "tests" / "eval" / "greve-answers.jsonl"]
TEST = ROOT / "tests" / "heldout" / "greve-test.jsonl"
PROCEDURAL = re.compile(
    r"dagsorden|underskrift|orientering|huskeliste|henvendelser|spørgetid|program for|kalender|lukket|meddelelser|eventuelt",
    re.IGNORECASE,
)
_SECTION = re.compile(r"(?<![\w-])(Beslutning|Fremstilling|Resume|Indstilling|Sagsbeskrivelse|Økonomiske konsekvenser|Lovgrundlag)\s+(?=[A-ZÆØÅ0-9§])")


def sections(text: str) -> dict[str, str]:
    """An item's text by section label (the first occurrence of each)."""
    marks = list(_SECTION.finditer(text))
    found: dict[str, str] = {}
    for m, nxt in zip(marks, [*marks[1:], None]):
        found.setdefault(m.group(1), text[m.end() : nxt.start() if nxt else len(text)].strip())
    return found


def load_items() -> list[dict]:
    """Every Greve agenda item (the shared corpus)."""
    with CORPUS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def eligible(item: dict, dev_phrases: list[str]) -> bool:
    """Whether an item may be drawn: substantive, 2022-2025, not the dev set's."""
    if PROCEDURAL.search(item["title"]) or item["meeting_date"][:4] not in {"2022", "2023", "2024", "2025"}:
        return False
    s = sections(item["text"])
    if len(s.get("Resume", "")) + len(s.get("Beslutning", "")) < 200:
        return False
    text = normalise(item["text"])
    return not any(p in text for p in dev_phrases)


def draw(items: list[dict], seed: int, per_year: int, exclude: set[str]) -> list[dict]:
    """``per_year`` items of each year, the committees in turn, at random with ``seed``."""
    dev_phrases = [normalise(a) for path in DEV for q in read_gold(path) for a in q.answers]
    rng = random.Random(seed)
    by_year: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for item in items:
        if item["_id"] not in exclude and eligible(item, dev_phrases):
            by_year[item["meeting_date"][:4]][item["committee"]].append(item)
    drawn = []
    for year in sorted(by_year):
        pools = [by_year[year][c] for c in sorted(by_year[year])]
        for pool in pools:
            rng.shuffle(pool)
        rng.shuffle(pools)
        taken = 0
        while taken < per_year and any(pools):
            for pool in pools:
                if pool and taken < per_year:
                    drawn.append(pool.pop())
                    taken += 1
    return drawn


def check(path: Path, items: list[dict]) -> list[str]:
    """What is wrong with a written set (empty: nothing)."""
    by_id = {i["_id"]: i for i in items}
    by_case: dict[str, list[dict]] = defaultdict(list)
    for i in items:
        by_case[i["case_number"]].append(i)
    faults = []
    for q in read_gold(path):
        item_id = q.doc.split(":", 1)[-1]
        item = by_id.get(item_id)
        if item is None:
            faults.append(f"{q.id}: no item {q.doc}")
            continue
        same_case = by_case[item["case_number"]] if item["case_number"] else [item]
        if not any(normalise(a) in normalise(i["text"]) for a in q.answers for i in same_case):
            faults.append(f"{q.id}: no answer phrase in {item_id}")
        if q.lang == "da":
            words = [w.lower() for w in WORD.findall(q.question)]
            text = " ".join(w.lower() for w in WORD.findall(item["text"] + " " + item["title"]))
            copied = [" ".join(words[i : i + 4]) for i in range(len(words) - 3) if f" {' '.join(words[i : i + 4])} " in f" {text} "]
            if copied:
                faults.append(f"{q.id}: copies {copied[0]!r} from its item")
    return faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--per-year", type=int, default=40)
    parser.add_argument("--skip-test", action="store_true", help="never draw the test set's items")
    parser.add_argument("--check", type=Path, help="validate a written question file instead")
    args = parser.parse_args()
    if not CORPUS.exists():
        sys.exit(f"{CORPUS} is absent: this needs the shared Greve corpus")
    items = load_items()
    if args.check:
        faults = check(args.check, items)
        print("\n".join(faults) or f"{args.check}: ok")
        sys.exit(1 if faults else 0)
    exclude = {q.doc.split(":", 1)[-1] for q in read_gold(TEST)} if args.skip_test and TEST.exists() else set()
    if args.skip_test:
        exclude |= {i["_id"] for i in draw(items, 2026, 40, set())}
    by_id = {i["_id"]: i for i in items}
    test_cases = {by_id[i]["case_number"] for i in exclude if by_id[i]["case_number"]} if args.skip_test else set()
    for n, item in enumerate(draw(items, args.seed, args.per_year, exclude)):
        if item["case_number"] in test_cases:
            print(f"### {n} dropped: case {item['case_number']} is the test set's\n")
            continue
        s = sections(item["text"])
        multi = sum(i["case_number"] == item["case_number"] for i in items) if item["case_number"] else 1
        print(f"### {n} {'da' if n % 2 == 0 else 'en'} | {item['_id']} | {item['committee']} | {item['meeting_date'][:10]} | case {item['case_number']} ×{multi}")
        print(f"TITLE: {item['title']}")
        print(f"RESUME: {s.get('Resume', '')[:700]}")
        print(f"BESLUTNING: {s.get('Beslutning', '')[:400]}\n")


if __name__ == "__main__":
    main()
