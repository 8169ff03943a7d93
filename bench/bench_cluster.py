"""Benchmark of `qda cluster` (issue 5): time and peak memory for 1,000, 10,000 and 50,000
short answers, each run in a fresh process (so numba's JIT compilation is included, as a
user sees it), median over runs.

    uv run python bench/bench_cluster.py [--sizes 1000 10000 50000] [--runs 3]

Also measures, once, what the first BERTopic fit costs in a new process on 50 answers (the
numba JIT), which commands that do not cluster never pay.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_code import run as measure  # noqa: E402  (the same fresh-process step runner)


def make_answers(path: Path, n: int, seed: int = 11) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from umfrage_bausteine import BEISPIELE

    rng = random.Random(seed)
    pool = [(net, t) for net, items in BEISPIELE.items() for t, _, _ in items]
    fillers = ["", "", "z.B. ", "Bei uns: ", "Konkret: "]
    tails = ["", "", " (Pilot)", " - läuft", " seit 2023", " in zwei Ämtern"]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["id", "network", "beispiel"])
        for i in range(n):
            net, t = rng.choice(pool)
            w.writerow([i + 1, net, rng.choice(fillers) + t + rng.choice(tails)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qda-bench-cluster-"))
    lines = ["| answers | seconds (median) | peak memory | runs |", "|---:|---:|---:|---:|"]
    try:
        tiny = work / "tiny.csv"
        make_answers(tiny, 50)
        jit = measure(["qda", "cluster", str(tiny), "--text-column", "beispiel", "--id-column", "id", "--out", str(work / "tiny"), "--n-clusters", "3"])
        for n in a.sizes:
            data = work / f"a{n}.csv"
            make_answers(data, n)
            res = [measure(["qda", "cluster", str(data), "--text-column", "beispiel", "--id-column", "id", "--meta-column", "network",
                            "--out", str(work / f"o{n}-{r}")]) for r in range(a.runs)]
            lines.append(f"| {n:,} | {statistics.median(x['seconds'] for x in res):.1f} | {max(x['peak_mb'] for x in res):,.0f} MB | {a.runs} |")
        lines += ["", f"A new process's first clustering of 50 answers takes {jit['seconds']:.1f} s (imports and numba's JIT "
                  "compilation of UMAP/HDBSCAN); `qda ingest`, `code` and `evaluate` never import BERTopic."]
        text = "\n".join(lines) + "\n"
        (ROOT / "bench" / "results").mkdir(exist_ok=True)
        (ROOT / "bench" / "results" / "cluster.md").write_text(text, encoding="utf-8")
        print(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
