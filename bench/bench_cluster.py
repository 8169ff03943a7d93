"""Benchmark of `qda cluster` (issue 5): time and peak memory for 1,000, 10,000 and 50,000
short answers, each run in a fresh process with an empty cache (so numba's JIT compilation
and every embedding are included, as a user sees them the first time), median over runs, for
each embedding side by side (default: ``e5``, the default, and ``use``, the fast one).

    uv run python bench/bench_cluster.py [--sizes 1000 10000 50000] [--runs 3] [--embeddings e5 use]

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
from bench_code import run as measure, save_result  # noqa: E402  (the same fresh-process step runner)


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
    ap.add_argument("--embeddings", nargs="+", default=["e5", "use"])
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qda-bench-cluster-"))
    lines = ["| answers | distinct texts | embedding | seconds (median) | peak memory | runs |", "|---:|---:|---|---:|---:|---:|"]

    def cold(args: list[str], tag: str) -> dict:
        return measure(args, {"QDA_CACHE_DIR": str(work / f"cache-{tag}")})  # a fresh cache: every text embedded

    try:
        tiny = work / "tiny.csv"
        make_answers(tiny, 50)
        jit = cold(["qda", "cluster", str(tiny), "--text-column", "beispiel", "--id-column", "id", "--out", str(work / "tiny"), "--n-clusters", "3",
                    "--embedding", "use"], "tiny")
        for n in a.sizes:
            data = work / f"a{n}.csv"
            make_answers(data, n)
            distinct = len({row[2] for row in csv.reader(data.open(encoding="utf-8"), delimiter=";")}) - 1
            res: dict[str, list] = {e: [] for e in a.embeddings}
            for r in range(a.runs):  # the embeddings alternate, so a busy moment hits both
                for e in a.embeddings:
                    res[e].append(cold(["qda", "cluster", str(data), "--text-column", "beispiel", "--id-column", "id", "--meta-column", "network",
                                        "--embedding", e, "--out", str(work / f"o{n}-{e}-{r}")], f"{n}-{e}-{r}"))
            for e, rs in res.items():
                lines.append(f"| {n:,} | {distinct:,} | {e} | {statistics.median(x['seconds'] for x in rs):.1f} | "
                             f"{max(x['peak_mb'] for x in rs):,.0f} MB | {a.runs} |")
        lines += ["", f"A new process's first clustering of 50 answers takes {jit['seconds']:.1f} s (imports and numba's JIT "
                  "compilation of UMAP/HDBSCAN); `qda ingest`, `code` and `evaluate` never import BERTopic."]
        text = "\n".join(lines) + "\n"
        save_result("cluster.md", text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
