"""Questions about what was finally decided on a Greve case that went through several meetings, and whether the
answer a user is shown states the latest decision with its body and date (#31).

    python -m bench.case_decisions --build            # writes tests/eval/greve-case-dev.jsonl (seed 31)
    python -m bench.case_decisions [--index-dir DIR]  # answers each question as `assistant batch` does, and scores it

The set: cases whose answer depends on a later meeting than the first (decided by another body than the one that
first handled it, or postponed, passed on, resumed), drawn at random with a fixed seed from the Greve JSONL, none a
case the fact sets ask about; standing items are never drawn. The questions are templates on the item's title (what
was decided, the final decision, is it approved; Danish and English in turn): a user asking about a matter by its
name. The gold is read off the JSONL here: the newest meeting whose decision says what was done (not only noted).

An answer counts when it is no refusal, names the latest decision's body and date (ISO or Danish "21. marts 2024"),
and states that decision: it cites that meeting's item, or quotes its decision's sentence.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

from assistant.danish import MONTHS
from bench._common import ROOT, SHARED, save

GREVE = SHARED / "corpora" / "greve" / "agenda_items.jsonl"
DEV = ROOT / "tests" / "eval" / "greve-case-dev.jsonl"
FACT_SETS = (ROOT / "tests" / "eval" / "greve-facts-dev.jsonl", ROOT / "tests" / "heldout" / "greve-facts-test.jsonl")
QUESTIONS = {
    "da": ("Hvad blev der besluttet om {title}?", "Hvad blev den endelige beslutning om {title}?", "Er {title} blevet godkendt?"),
    "en": ("What was decided about {title}?", "What was the final decision on {title}?", "Has {title} been approved?"),
}
_DECISION = re.compile(r"^Beslutning\s+(.*?)(?:\s+(?:Fremstilling|Resume|Indstilling|Sagsbeskrivelse|Sagsfremstilling)\s+(?=[A-ZÆØÅ0-9§])|$)", re.DOTALL)


def decision(text: str) -> str:
    """The first sentence of an item's decision that says what was done (who was away is no decision)."""
    from assistant.danish import outcome_kind, split_sentences

    m = _DECISION.match(text)
    said = [s for s in split_sentences(" ".join(m.group(1).split())) if not s.startswith(("Afbud", "Fravær"))] if m else []
    return next((s for s in said if outcome_kind(s)), said[0] if said else "")


def build(seed: int, count: int) -> list[dict[str, object]]:
    """The drawn questions with their gold: the latest decision's item, body, date and sentence."""
    from assistant.danish import is_standing_item, outcome_kind

    asked = {json.loads(line).get("case") for path in FACT_SETS if path.exists() for line in path.read_text("utf-8").splitlines()}
    cases: dict[str, list[dict[str, str]]] = {}
    for line in GREVE.read_text("utf-8").splitlines():
        r = json.loads(line)
        cases.setdefault(r["case_number"], []).append(r)
    drawn = []
    for number in sorted(cases):
        items = sorted(cases[number], key=lambda r: r["meeting_date"], reverse=True)
        if len(items) < 2 or number in asked or is_standing_item([r["title"] for r in items]):
            continue
        decided = [(r, decision(r["text"])) for r in items]
        latest = next(((r, d) for r, d in decided if outcome_kind(d) not in ("", "noted")), None)
        if latest is None:
            continue
        moved = any(outcome_kind(d) in ("postponed", "referred") for _, d in decided)
        if latest[0]["committee"] == items[-1]["committee"] and not moved:
            continue  # one body alone, never postponed: the first meeting answers as well
        drawn.append((number, latest))
    random.Random(seed).shuffle(drawn)
    out = []
    for i, (number, (item, said)) in enumerate(drawn[:count]):
        lang = "da" if i % 2 == 0 else "en"
        title = item["title"].rstrip(" .")
        out.append({
            "id": f"c{i:03d}", "question": QUESTIONS[lang][(i // 2) % 3].format(title=title), "lang": lang, "case": number,
            "doc": f"agenda_items.jsonl:{item['_id']}", "body": item["committee"], "date": item["meeting_date"][:10], "decision": said,
        })  # fmt: skip
    return out


def _dates(day: str) -> list[str]:
    """A date as the answer may write it: 2024-03-21, 21. marts 2024, 21 March 2024."""
    y, m, d = day.split("-")
    danish = list(MONTHS)[int(m) - 1]
    english = ("January February March April May June July August September October November December").split()[int(m) - 1]
    return [day, f"{int(d)}. {danish} {y}", f"{int(d)} {english} {y}", f"{int(d)}.{int(m)}.{y}"]


def score(gold: dict[str, str], text: str, cited_docs: set[str], abstained: bool) -> dict[str, bool]:
    """Whether what is shown states the latest decision, its body and its date."""
    lowered = text.lower()
    named = gold["body"].lower() in lowered or gold["body"].split()[0].lower() in lowered  # "Byråd 2022-2025" as "Byrådet"
    dated = any(d.lower() in lowered for d in _dates(gold["date"]))
    stated = gold["doc"] in cited_docs or gold["decision"][:40].lower() in lowered
    return {"answered": not abstained, "body": named, "date": dated, "decision": stated, "all": not abstained and named and dated and stated}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="store_true", help=f"draw the set into {DEV}")
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--index-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.build:
        rows = build(args.seed, args.count)
        DEV.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
        print(f"wrote {len(rows)} questions to {DEV}")
        return
    from assistant.qa import Assistant
    from assistant.settings import Settings

    assistant = Assistant(Settings(**({"index_dir": args.index_dir} if args.index_dir else {})))
    gold = [json.loads(line) for line in DEV.read_text("utf-8").splitlines()]
    totals: dict[str, dict[str, int]] = {}
    started = time.perf_counter()
    for g in gold:
        answer = assistant.ask(g["question"])
        shown = " ".join([answer.text, *(e.line for e in answer.evidence), *(c.line for c in answer.citations)])
        cited = {c.hit.chunk.doc_id for c in answer.citations} | {e.hit.chunk.doc_id for e in answer.evidence}
        result = score(g, shown, cited, answer.abstained)
        for group in ("all", g["lang"]):
            t = totals.setdefault(group, {"n": 0})
            t["n"] += 1
            for k, v in result.items():
                t[k] = t.get(k, 0) + int(v)
        print(g["id"], g["lang"], "".join("x" if result[k] else "." for k in ("answered", "body", "date", "decision")), answer.text[:120], file=sys.stderr, flush=True)
    seconds = (time.perf_counter() - started) / max(len(gold), 1)
    for group, t in totals.items():
        figures = " ".join(f"{k} {t[k] / t['n']:.3f}" for k in ("all", "answered", "body", "date", "decision"))
        print(f"{group} (n={t['n']}): {figures}")
    print(f"{seconds:.1f} s/answer")
    figures = {group: {k: round(v / t["n"], 3) if k != "n" else v for k, v in t.items()} for group, t in totals.items()}
    saved = save("case_decisions", {"set": str(DEV.relative_to(ROOT)), **figures, "seconds_per_answer": round(seconds, 1)}, assistant.settings)
    print(f"saved {saved}")


if __name__ == "__main__":
    main()
