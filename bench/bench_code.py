"""Benchmark of the coding stage (issue 4): throughput and peak memory, median of N runs.

    uv run python bench/bench_code.py [--answers 100000] [--runs 3]

Generates a large survey (default 100,000 answers, > 2 million tokens) by recombining the
sentences of the example corpus, then measures in one run, each step in a fresh process:

  (a) bare ``nlp.pipe`` of the same NLP pipeline over the answers (the baseline);
  (b) ``qda code`` end to end with an empty parse cache;
  (c) ``qda code`` again with a changed codebook (parse cache hit);
  (d) the naive alternative: pandas ``str.contains`` with one regex per code;
  (e) ``qda code --workers 2`` end to end with an empty parse cache.

Writes bench/results/code.md and prints the table.
"""

from __future__ import annotations

import argparse
import csv
import os
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"


def make_survey(path: Path, n: int, seed: int = 7) -> None:
    sys.path.insert(0, str(ROOT))
    from pipeline.ingest import ingest

    seg = ingest([str(ROOT / "corpora" / "beispiel")]).segments
    texts = [t for t, f in zip(seg["text"], seg["flag"]) if not f]
    sentences = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+|\n", t) if len(s.split()) >= 2]
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["id", "netzwerk", "antwort"])
        nets = ["DVNW", "NExT-WM", "KGSt-Agilitaet", "KI-Campus-Polizei", "KERN"]
        for i in range(n):
            k = rng.choice([1, 2, 2, 3, 3, 3])
            w.writerow([i + 1, rng.choice(nets), " ".join(rng.sample(sentences, k))])


def run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_measure.py"), *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"step failed: {' '.join(args)}\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qda-bench-"))
    try:
        survey = work / "umfrage.csv"
        make_survey(survey, a.answers)
        changed = work / "v2-geaendert.yaml"
        changed.write_text(V2.read_text(encoding="utf-8").replace("          - Zeitmangel\n", "          - Zeitmangel\n          - Zeitnot\n", 1), encoding="utf-8")
        base = ["--text-column", "antwort", "--id-column", "id", "--meta-column", "netzwerk"]
        rows: dict[str, list[dict]] = {k: [] for k in "abcde"}
        tokens = None
        for r in range(a.runs):
            cache = work / f"cache-{r}"
            res = run(["pipe", str(survey)])
            tokens = res["tokens"]
            rows["a"].append(res)
            os.environ["QDA_CACHE_DIR"] = str(cache)
            rows["b"].append(run(["qda", "code", str(survey), "--codebook", str(V2), "--out", str(work / f"b{r}"), *base]))
            rows["c"].append(run(["qda", "code", str(survey), "--codebook", str(changed), "--out", str(work / f"c{r}"), *base]))
            rows["d"].append(run(["naive", str(survey), str(V2)]))
            os.environ["QDA_CACHE_DIR"] = str(work / f"cache-w{r}")
            rows["e"].append(run(["qda", "code", str(survey), "--codebook", str(V2), "--out", str(work / f"e{r}"), "--workers", "2", *base]))
            shutil.rmtree(cache, ignore_errors=True)
            shutil.rmtree(work / f"cache-w{r}", ignore_errors=True)
        med = {k: statistics.median(x["seconds"] for x in v) for k, v in rows.items()}
        mem = {k: max(x["peak_mb"] for x in v) for k, v in rows.items()}
        names = {
            "a": "(a) bare nlp.pipe (baseline)",
            "b": "(b) qda code, cold cache",
            "c": "(c) qda code, changed codebook, cache hit",
            "d": "(d) naive pandas str.contains, one regex per code",
            "e": "(e) qda code --workers 2, cold cache",
        }
        lines = [
            f"{a.answers:,} answers, {tokens:,} tokens; median of {a.runs} runs; {Path('/proc/cpuinfo').read_text().count('processor')} cores",
            "",
            "| step | seconds (median) | tokens/s | vs. baseline | peak memory |",
            "|---|---:|---:|---:|---:|",
        ]
        for k in "abcde":
            lines.append(f"| {names[k]} | {med[k]:.1f} | {tokens / med[k]:,.0f} | {med['a'] / med[k]:.2f}× | {mem[k]:,.0f} MB |")
        lines += [
            "",
            f"(b)/(a) throughput: {med['a'] / med['b']:.2f} (target ≥ 0.7); (b)/(c) speed-up from the cache: {med['b'] / med['c']:.1f}× (target ≥ 10×); "
            f"--workers 2 speed-up: {med['b'] / med['e']:.2f}×.",
            "Note: (d) finds substrings only: no lemmas, compounds, negation or exclusions, so its hits are not comparable codings.",
        ]
        text = "\n".join(lines) + "\n"
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "code.md").write_text(text, encoding="utf-8")
        print(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
