"""Write the figures in README.md and bench/README.md from the saved results in bench/results/, so that no figure
in either can drift from what a benchmark measured.

    python -m bench.report           # rewrite the generated sections
    python -m bench.report --check   # exit 1 if a generated section differs from the results (a test runs this)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench._common import RESULTS, ROOT

Results = dict[str, dict[str, Any]]
GREVE = "../shared/corpora/greve/agenda_items.jsonl"


def load(folder: Path = RESULTS) -> Results:
    """Every saved result, by benchmark file name (without .json)."""
    return {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))}


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"


def _retrieval(r: dict[str, Any]) -> str:
    h = r["hybrid"]
    return f"R@5 {h['all']['recall@5']:.3f} (Danish {h['da']['recall@5']:.3f}, English {h['en']['recall@5']:.3f})"


def _answers(r: dict[str, Any]) -> str:
    f, by = r["figures"]["all"], r["figures"]
    per = lambda key: " / ".join(f"{by[lang][key]:.3f}" for lang in ("da", "en") if lang in by)  # noqa: E731
    line = f", in the model's line alone {f['facts_in_text']:.3f}" if "facts_in_text" in f else ""
    return (
        f"facts {f['facts']:.3f} (Danish / English {per('facts')}{line}), false abstentions {f['false_abstentions']:.3f} ({per('false_abstentions')}), "
        f"abstains on unanswerable {f['abstained_unanswerable']:.3f} ({per('abstained_unanswerable')}), invalid [n] {f['invalid_markers']}, "
        f"{f['seconds_per_answer']} s/answer"
    )


def _items(r: dict[str, Any]) -> str:
    """Where the answer's agenda item and its fact's sentence stand: the item among the first five (Danish, English),
    and the sentence among the candidates the evidence is chosen from."""
    h = r["hybrid"]
    cell = lambda group: f"{h[group]['recall@5']:.3f}" if group in h else "—"  # noqa: E731
    return (
        f"item in the first 5 {cell('item:all')} (Danish {cell('item:da')}, English {cell('item:en')}); the fact's sentence among the candidates "
        f"{cell('candidates:all')}; its passage in the first 5 {h['all']['recall@5']:.3f}"
    )


def _index(r: dict[str, Any]) -> str:
    return f"{_minutes(r['seconds'])} ({r['passages']:,} passages, {r['passages_embedded']:,} embedded); unchanged again {r['reindex_unchanged_seconds']} s"


def _scale(r: dict[str, Any]) -> str:
    """Hybrid p50 / p95 by size and store: "100k" is the default store, "100k Milvus Lite" the other."""
    shown = []
    for key, value in r.items():
        size, _, store = key.partition(".")
        if size.isdigit() and "hybrid" in value:
            name = {"": "FAISS", "milvus": "Milvus Lite"}.get(store, store)
            shown.append(f"{int(size) // 1000:,}k {name}: {value['hybrid']['p50_ms']} / {value['hybrid']['p95_ms']} ms")
    return ", ".join(shown)


def _crosslingual(r: dict[str, Any]) -> str:
    """English R@5 of the question alone, with the model's translation alone, and with the default forms."""
    en = {name: r[name]["en"]["recall@5"] for name in ("question only", "+ translation", "+ translation + dictionary (default)") if name in r}
    return ", ".join(f"{name.removeprefix('+ ')} {value:.3f}" for name, value in en.items()) + " (English R@5)"


def _load(r: dict[str, Any]) -> str:
    names = {"process": "in-process model", "server": "llama.cpp server"}
    return "; ".join(
        f"{names[b]}: alone {r[b]['baseline_s']} s, {r['users']} at once median {r[b]['median_s']} s, slowest {r[b]['max_s']} s, {r[b]['errors']} errors"
        for b in names
        if b in r
    )


def _latency(r: dict[str, Any]) -> str:
    evidence = f"{r['first_evidence_s_median']} s / " if "first_evidence_s_median" in r else ""
    rate = f"; machine {r['machine_prompt_tokens_per_s']} prompt tok/s" if r.get("machine_prompt_tokens_per_s") else ""
    return f"{evidence}{r['first_token_s_median']} s / {r['full_answer_s_median']} s (cold {r['cold_first_token_s']} / {r['cold_full_answer_s']} s{rate})"


def _memory(r: dict[str, Any]) -> str:
    return f"{r['rss_after_start_gb']} GB after start, {r['peak_rss_gb']} GB peak"


def _ocr(r: dict[str, Any]) -> str:
    d = r["greve_degraded"]
    return f"Greve OCR-degraded copy, lexical R@5 {d['plain_stems']['recall@5']:.3f} → {d['ocr_robust']['recall@5']:.3f}"


def _prompt(r: dict[str, Any]) -> str:
    return f"{r['runs'][0]['median']} prompt tokens/s"


#: The README's headline rows: what, the result file, how it is shown, the command that measures it.
HEADLINES: list[tuple[str, str, Callable[[dict[str, Any]], str], str]] = [
    ("retrieval, `seeds/` dev set (hybrid + translate)", "retrieval_quality.seeds", _retrieval, "python -m bench.retrieval_quality tests/eval/seeds.jsonl --translate"),
    ("retrieval, Greve held-out test set (hybrid + translate)", "retrieval_quality.greve-test", _retrieval, "python -m bench.retrieval_quality tests/heldout/greve-test.jsonl --translate --index-dir DIR"),
    ("retrieval, `seeds/` dev set, Milvus Lite", "retrieval_quality.seeds.milvus", _retrieval, "ASSISTANT_STORE=milvus python -m bench.retrieval_quality tests/eval/seeds.jsonl --translate"),
    ("answers, Greve fact test set (222 + 28 unanswerable, held out; whole Greve index)", "answer_quality.greve-facts-test", _answers, "python -m bench.answer_quality tests/heldout/greve-facts-test.jsonl --index-dir DIR"),
    ("retrieval, Greve fact test set (hybrid + translate)", "retrieval_quality.greve-facts-test", _items, "python -m bench.retrieval_quality tests/heldout/greve-facts-test.jsonl --translate --index-dir DIR"),
    ("answers, `seeds/` dev set (seeds index)", "answer_quality.seeds", _answers, "python -m bench.answer_quality tests/eval/seeds.jsonl"),
    ("answers, dev set of 114 (seeds, Aarhus, Greve; one index of all)", "answer_quality.dev", _answers, "python -m bench.answer_quality tests/eval/{seeds,aarhus,greve,greve-answers}.jsonl --index-dir DIR --name dev"),
    ("index the Greve corpus (5,549 agenda items)", "index_throughput", _index, f"python -m bench.index_throughput {GREVE} --index-dir DIR"),
    ("index 500 Greve items in process", "index_throughput.greve-500.in-process", _index, f"python -m bench.index_throughput {GREVE} --subset 500 --name greve-500.in-process"),
    ("… through `assistant serve-embeddings` (same 2 cores)", "index_throughput.greve-500.server", _index, f"ASSISTANT_EMBEDDING_URL=… python -m bench.index_throughput {GREVE} --subset 500 --name greve-500.server"),
    ("retrieval p50 / p95 at scale (hybrid)", "scale_latency", _scale, "python -m bench.scale_latency --sizes 100000 1000000 --stores faiss milvus"),
    ("8 chat users at once", "load", _load, "python -m bench.load"),
    ("example question: first evidence / first model token / full answer", "answer_latency", _latency, "python -m bench.answer_latency"),
    ("`serve` memory", "serve_memory", _memory, "python -m bench.serve_memory"),
    ("OCR robustness of the lexical channel", "ocr_robustness", _ocr, "python -m bench.ocr_robustness"),
    ("answer model's prompt speed (2 threads)", "prompt_throughput", _prompt, "python -m bench.prompt_throughput"),
]


def headline(results: Results) -> str:
    """The README's table of headline figures."""
    rows = ["| what | measured (2 cores) | command |", "| --- | --- | --- |"]
    for what, name, show, command in HEADLINES:
        rows.append(f"| {what} | {show(results[name]) if name in results else 'not measured yet'} | `{command}` |")
    return "\n".join(rows)


def details(results: Results) -> str:
    """bench/README.md's list of every saved result: when, on what, and the settings that differ from the defaults."""
    lines = ["| result | measured at | machine | figures |", "| --- | --- | --- | --- |"]
    shown: dict[str, Callable[[dict[str, Any]], str]] = {name: show for _, name, show, _ in HEADLINES}
    shown["crosslingual.seeds"] = shown["crosslingual.greve"] = _crosslingual
    shown["answer_quality.greve-facts-dev"] = _answers
    shown["answer_latency.greve"] = _latency
    shown["retrieval_quality.greve"] = shown["retrieval_quality.greve.milvus"] = _retrieval  # the first Greve dev set
    shown["retrieval_quality.greve-facts-dev"] = _items
    shown["case_decisions"] = lambda r: (
        f"latest decision with its body and date {r['all']['all']} (da {r['da']['all']}, en {r['en']['all']}), {r['seconds_per_answer']} s/answer"
    )
    shown["example_answers"] = lambda r: "; ".join(f"{a['question']!r} in {a['seconds']} s" for a in r["answers"])
    for name, r in results.items():
        machine = f"{r['machine']['cores']} cores, {r['machine']['cpu']}"
        figures = shown[name](r) if name in shown else ", ".join(f"{k} {v}" for k, v in r.items() if isinstance(v, int | float) and not isinstance(v, bool))
        lines.append(f"| `{name}.json` | {r['measured_at']} | {machine} | {figures} |")
    return "\n".join(lines)


#: The retrieval sets side by side: the held-out test set first, then the dev sets tuned on.
RETRIEVAL_SETS = [
    ("Greve test (160, held out)", "retrieval_quality.greve-test"),
    ("Greve test, Milvus Lite", "retrieval_quality.greve-test.milvus"),
    ("Greve dev (60)", "retrieval_quality.greve"),
    ("Greve dev, Milvus Lite", "retrieval_quality.greve.milvus"),
    ("Greve dev 2 (53)", "retrieval_quality.greve-dev2"),
    ("seeds dev (44)", "retrieval_quality.seeds"),
    ("seeds dev, Milvus Lite", "retrieval_quality.seeds.milvus"),
]


def _cell(figures: dict[str, Any], group: str, key: str) -> str:
    return f"{figures[group][key]:.3f}" if group in figures else "—"


def retrieval_sets(results: Results) -> str:
    """bench/README.md's table of hybrid + translate retrieval on every set: by language, item-level, and by kind."""
    rows = [
        "| set | R@5 | Danish | English | R@10 | MRR@10 | item R@5 | item R@10 | names a committee | a year | a place | handled at several meetings |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in RETRIEVAL_SETS:
        if result not in results:
            continue
        f = results[result]["hybrid"]
        kinds = " | ".join(_cell(f, f"kind:{k}", "recall@5") for k in ("committee", "year", "place", "multi"))
        rows.append(
            f"| {name} | **{f['all']['recall@5']:.3f}** | {_cell(f, 'da', 'recall@5')} | {_cell(f, 'en', 'recall@5')} | {f['all']['recall@10']:.3f} | "
            f"{f['all']['mrr@10']:.3f} | {_cell(f, 'item:all', 'recall@5')} | {_cell(f, 'item:all', 'recall@10')} | {kinds} |"
        )
    return "\n".join(rows)


#: The answer sets whose figures bench/README.md shows by the record section the fact stands in.
ANSWER_SETS = [("Greve fact test (held out)", "answer_quality.greve-facts-test"), ("Greve fact dev", "answer_quality.greve-facts-dev")]


def answer_sections(results: Results) -> str:
    """bench/README.md's table of the fact sets' answers by language and by the section the fact stands in."""
    rows = ["| set | group | questions | facts shown | in the model's line | false abstentions |", "| --- | --- | --- | --- | --- | --- |"]
    for name, result in ANSWER_SETS:
        if result not in results:
            continue
        figures = results[result]["figures"]
        groups = ["all", "da", "en", *sorted(g for g in figures if g.startswith("section:"))]
        for group in (g for g in groups if g in figures and figures[g]["answerable"]):
            f = figures[group]
            rows.append(f"| {name} | {group.removeprefix('section:')} | {f['answerable']} | {f['facts']:.3f} | {f['facts_in_text']:.3f} | {f['false_abstentions']:.3f} |")
    return "\n".join(rows)


def example(results: Results) -> str:
    """The README's example answer (the mission's first question), as `assistant ask` printed it."""
    if "example_answers" not in results:
        return "(not measured yet: python -m bench.example_answers)"
    a = results["example_answers"]["answers"][0]
    return f'$ assistant ask "{a["question"]}"\n{a["printed"]}'


def _replace(text: str, marker: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {marker}:begin[^>]*-->\n)(?:.*?\n)?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"no '<!-- {marker}:begin -->' … '<!-- {marker}:end -->' section to write into")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def rendered(results: Results) -> dict[Path, str]:
    """README.md and bench/README.md as they should read with these results."""
    readme, bench = ROOT / "README.md", ROOT / "bench" / "README.md"
    return {
        readme: _replace(_replace(readme.read_text("utf-8"), "figures", headline(results)), "example", example(results)),
        bench: _replace(
            _replace(_replace(bench.read_text("utf-8"), "results", details(results)), "retrieval-sets", retrieval_sets(results)),
            "answer-sections",
            answer_sections(results),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only check that the generated sections are up to date")
    args = parser.parse_args()
    stale = []
    for path, text in rendered(load()).items():
        if path.read_text("utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, "utf-8")
    if args.check and stale:
        sys.exit(f"out of date with bench/results/: {', '.join(map(str, stale))}; run `python -m bench.report`")
    print("up to date" if not stale else f"rewrote {', '.join(map(str, stale))}")


if __name__ == "__main__":
    main()
