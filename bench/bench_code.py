"""Benchmark of the coding stage (issue 16): tokenizer floor, cold and cached coding, a million answers.

    uv run python bench/bench_code.py [--answers 60000] [--runs 3] [--million 1000000]

Generates a survey (default 60,000 answers) by recombining the sentences of the example corpus,
then measures, each step in a fresh process, ``--runs`` times side by side (median):

  (a) the tokenizer floor: spaCy's blank German tokenizer over the same answers;
  (b) ``qda code --rules-only`` end to end with an empty parse cache (cold);
  (c) ``qda code`` again with a changed codebook (one code gains a term; the parse and the other
      codes' rule hits come from the cache), on the export and (c2) on the run folder of (b), the
      usual way to re-code; (c3) the same with the hit cache emptied (every code matched again);
  (d) qda's parse alone (``parse_texts``), cold, and (e) from the cache;
  (g) ``qda code`` as shipped: the rules and the codebook's companion verifier
      (``codebooks/innovationsnetzwerke-v3.verifier.npz``), the parse from the cache: (g) − (c)
      is what verifying costs;

and once ``qda code`` on ``--million`` generated answers (read in parts): wall time and peak RSS.
``--million 0`` skips that. ``--baseline CHECKOUT`` (an earlier version, ``uv sync`` run in it)
times its (b), (c) and (c2) in the same runs, alternating. Writes bench/results/code.md and
prints the table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V3 = ROOT / "codebooks" / "innovationsnetzwerke-v3.yaml"
NAMES = {
    "a": "(a) tokenizer floor: spaCy blank German tokenizer",
    "b": "(b) qda code --rules-only, cold (empty parse cache)",
    "c": "(c) qda code, changed codebook, parse from the cache",
    "f": "(c2) the same re-code on the run folder of (b) (its segments.parquet)",
    "h": "(c3) as (c2), hit cache emptied first: every code matched again",
    "d": "(d) qda parse alone, cold",
    "e": "(e) qda parse alone, from the cache",
    "g": "(g) qda code as shipped (rules + the companion verifier), parse from the cache",
}


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


def run(args: list[str], env: dict | None = None, checkout: Path = ROOT) -> dict:
    """One step in a fresh process (of ``checkout``'s own environment, for a baseline); adds
    ``wall`` (the whole process, as seen from outside)."""
    python = sys.executable if checkout == ROOT else str(checkout / ".venv" / "bin" / "python")
    t0 = time.perf_counter()
    # this checkout's _measure.py for both (an older one timed failed steps); it imports the
    # pipeline of the environment it runs in
    out = subprocess.run([python, str(ROOT / "bench" / "_measure.py"), *args], capture_output=True, text=True, cwd=checkout,
                         env={**os.environ, **(env or {})})
    wall = time.perf_counter() - t0
    if out.returncode:
        raise SystemExit(f"step failed: {' '.join(args)}\n{out.stderr[-2000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "wall": wall}


def save_result(name: str, text: str) -> None:
    """Writes a benchmark's table to ``bench/results/NAME`` and prints it."""
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / name).write_text(text, encoding="utf-8")
    print(text)


def load_note() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


BASELINE_STEPS = ("b", "c", "f")  # timed for --baseline too, alternating with this checkout


def measure_60k(work: Path, survey: Path, runs: int, baseline: Path | None = None) -> tuple[dict, int, bool]:
    def edited(codebook: Path, target: Path) -> Path:  # one term added to one code: a re-code after a small edit
        target.write_text(codebook.read_text(encoding="utf-8").replace("          - Zeitmangel\n", "          - Zeitmangel\n          - Zeitknappheit\n", 1),
                          encoding="utf-8")
        return target

    changed = edited(V3, work / "v3-geaendert.yaml")
    # the baseline codes with its own version of the codebook (an older qda may not read the newer file)
    base_v3 = baseline / "codebooks" / V3.name if baseline is not None else V3
    base_changed = edited(base_v3, work / "v3-geaendert-baseline.yaml") if baseline is not None else changed
    base = ["--text-column", "antwort", "--id-column", "id", "--meta-column", "netzwerk", "-q"]
    rows: dict[str, list[dict]] = {k: [] for k in (*NAMES, *(f"base-{k}" for k in BASELINE_STEPS))}
    tokens = 0
    for r in range(runs):
        if baseline is not None:
            env = {"QDA_CACHE_DIR": str(work / f"cache-base-{r}")}
            rows["base-b"].append(run(["qda", "code", str(survey), "--codebook", str(base_v3), "--out", str(work / f"Bb{r}"), *base], env, baseline))
            rows["base-c"].append(run(["qda", "code", str(survey), "--codebook", str(base_changed), "--out", str(work / f"Bc{r}"), *base], env,
                                      baseline))
            rows["base-f"].append(run(["qda", "code", str(work / f"Bb{r}"), "--codebook", str(base_changed), "--out", str(work / f"Bf{r}"), "-q"],
                                      env, baseline))
            shutil.rmtree(work / f"cache-base-{r}", ignore_errors=True)
        cache, pcache = work / f"cache-{r}", work / f"pcache-{r}"
        env = {"QDA_CACHE_DIR": str(cache)}
        res = run(["tokenize", str(survey)])
        tokens = res["tokens"]
        rows["a"].append(res)
        # rules only, as the baseline and the re-codes (c, c2, c3) with the changed codebook, which has no companion
        rows["b"].append(run(["qda", "code", str(survey), "--codebook", str(V3), "--out", str(work / f"b{r}"), *base, "--rules-only"], env))
        rows["c"].append(run(["qda", "code", str(survey), "--codebook", str(changed), "--out", str(work / f"c{r}"), *base], env))
        rows["f"].append(run(["qda", "code", str(work / f"b{r}"), "--codebook", str(changed), "--out", str(work / f"f{r}"), "-q"], env))
        for hits in cache.glob("*/hits"):
            shutil.rmtree(hits)
        rows["h"].append(run(["qda", "code", str(work / f"b{r}"), "--codebook", str(changed), "--out", str(work / f"h{r}"), "-q"], env))
        rows["g"].append(run(["qda", "code", str(survey), "--codebook", str(V3), "--out", str(work / f"g{r}"), *base], env))
        rows["d"].append(run(["parse", str(survey), str(pcache)]))
        rows["e"].append(run(["parse", str(survey), str(pcache)]))
        for d in (cache, pcache):
            shutil.rmtree(d, ignore_errors=True)
    same = (work / "b0" / "codings.csv").read_bytes() == (work / f"b{runs - 1}" / "codings.csv").read_bytes()
    if not same:
        raise SystemExit("two cold runs wrote different codings.csv")
    for name in ("codings.csv", "evidence.csv"):
        if len({(work / f"{k}0" / name).read_bytes() for k in ("c", "f", "h")}) != 1:
            raise SystemExit(f"re-codes with and without cached rule hits wrote different {name}")
    # the baseline codes the same answers alike unless matching changed on purpose in between
    same = not baseline or all((work / f"B{k}0" / n).read_bytes() == (work / f"{k}0" / n).read_bytes()
                               for k in ("c", "f") for n in ("codings.csv", "evidence.csv"))
    return rows, tokens, same


def measure_million(work: Path, n: int) -> dict:
    survey = work / "million.csv"
    make_survey(survey, n, seed=11)
    size = survey.stat().st_size
    res = run(["qda", "code", str(survey), "--codebook", str(V3), "--out", str(work / "m"), "--text-column", "antwort",
               "--id-column", "id", "--meta-column", "netzwerk", "-q"], {"QDA_CACHE_DIR": str(work / "cache-m")})
    codings = sum(1 for _ in open(work / "m" / "codings.csv", encoding="utf-8")) - 1
    sys.path.insert(0, str(ROOT))
    from pipeline.ingest.survey import STREAM_BYTES

    return {**res, "answers": n, "mb": size / 2**20, "codings": codings, "parts": size >= STREAM_BYTES}


def table(rows: dict, tokens: int, answers: int, runs: int, baseline: str | None = None, same: bool = True) -> list[str]:
    rows = {k: v for k, v in rows.items() if v}
    med = {k: statistics.median(x["seconds"] for x in v) for k, v in rows.items()}
    wall = {k: statistics.median(x["wall"] for x in v) for k, v in rows.items()}
    mem = {k: max(x["peak_mb"] for x in v) for k, v in rows.items()}
    lines = [
        f"{answers:,} answers, {tokens:,} tokens; median of {runs} fresh-process runs, side by side; {load_note()}",
        "",
        "| step | seconds (median) | process wall (median) | tokens/s | peak memory |",
        "|---|---:|---:|---:|---:|",
    ]
    for k in NAMES:
        lines.append(f"| {NAMES[k]} | {med[k]:.2f} | {wall[k]:.2f} | {tokens / med[k]:,.0f} | {mem[k]:,.0f} MB |")
    lines += [
        "",
        "seconds: (a) tokenizing only, (d)/(e) parsing only, (b)/(c) the whole command in its process (imports, reading the",
        "export, parsing, matching, writing the run folder); process wall adds interpreter start-up (and, for (a), reading the file).",
        "",
        f"- cold `qda code` vs. tokenizer floor (throughput): {med['a'] / med['b']:.2f} on seconds, {wall['a'] / wall['b']:.2f} on process wall (goal ≥ 0.5)",
        f"- `qda code` cold vs. cached: {med['b'] / med['c']:.1f}× re-reading the export, {med['b'] / med['f']:.1f}× on the run folder (goal ≥ 10×); "
        f"{med['b'] / med['h']:.1f}× on the run folder with every code matched again",
        f"- parse alone vs. tokenizer floor: {med['a'] / med['d']:.2f}; parse cold vs. from the cache: {med['d'] / med['e']:.1f}×",
        f"- the verifier (no embeddings) adds {med['g'] - med['c']:.1f} s to a cached re-code ((g) − (c))",
    ]
    if baseline:
        lines += ["", f"Baseline {baseline}, timed in the same runs, alternating with the steps above (same answers; the codebook "
                      "as that version ships it, with the same edit for (c); "
                      + ("it wrote byte-identical codings.csv and evidence.csv):" if same else
                         "its codings.csv and evidence.csv differ: codebook and matching changed on purpose in between):"), "",
                  "| step | baseline seconds (median) | this checkout | faster |", "|---|---:|---:|---:|"]
        lines += [f"| {NAMES[k]} | {med['base-' + k]:.2f} | {med[k]:.2f} | {med['base-' + k] / med[k]:.1f}× |" for k in BASELINE_STEPS]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--answers", type=int, default=60_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--million", type=int, default=1_000_000, help="answers for the large run (0: skip)")
    ap.add_argument("--baseline", type=Path, help="a checkout of an earlier version (with its .venv, from `uv sync`) timed side by side")
    a = ap.parse_args()
    label = None
    if a.baseline:
        a.baseline = a.baseline.resolve()
        label = subprocess.run(["git", "-C", str(a.baseline), "log", "-1", "--format=%h of %cs"], capture_output=True, text=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="qda-bench-"))
    try:
        survey = work / "umfrage.csv"
        make_survey(survey, a.answers)
        rows, tokens, same = measure_60k(work, survey, a.runs, a.baseline)
        lines = table(rows, tokens, a.answers, a.runs, label, same)
        if a.million:
            m = measure_million(work, a.million)
            lines += [
                "",
                f"{m['answers']:,} answers ({m['mb']:.0f} MB CSV{', read in parts' if m['parts'] else ''}): `qda code` cold {m['seconds']:.0f} s "
                f"({m['wall']:.0f} s process wall), peak RSS {m['peak_mb']:,.0f} MB (goal < 2 GB), {m['codings']:,} codings; {load_note()}",
            ]
        save_result("code.md", "\n".join(lines) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
