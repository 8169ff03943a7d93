"""How fast the sentence embeddings of the clustering are: ``e5`` (the default) and ``use``,
each run in a fresh process with an empty cache (model loading included), median over runs, on
answers that are all different (answers of the example corpus's survey joined in pairs).

    uv run python bench/bench_embed.py [--sizes 1000 5000] [--runs 3] [--embeddings e5 use]

The table goes to ``bench/results/embed.md``.
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
from bench_code import load_note, run, save_result  # noqa: E402  (the same fresh-process step runner)


def distinct_answers(path: Path, n: int, seed: int = 5) -> None:
    """``n`` different answers: two answers of the example corpus's survey joined, in a fixed order."""
    import pandas as pd

    rows = pd.read_csv(ROOT / "corpora" / "beispiel" / "umfrage" / "limesurvey_export.csv", sep=";", dtype=str).fillna("")
    sentences = sorted({v.strip() for col in ("hindernisse", "ideen", "innovationsbeispiel") for v in rows[col] if len(v.split()) >= 3})
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(f"{rng.choice(sentences)}; {rng.choice(sentences)}")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["antwort"])
        w.writerows([t] for t in sorted(seen))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--embeddings", nargs="+", default=["e5", "use"])
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qda-bench-embed-"))
    lines = ["| distinct answers | embedding | seconds (median) | texts per second | peak memory | runs |", "|---:|---|---:|---:|---:|---:|"]
    try:
        for n in a.sizes:
            data = work / f"a{n}.csv"
            distinct_answers(data, n)
            res: dict[str, list] = {e: [] for e in a.embeddings}
            for r in range(a.runs):  # alternating, so a busy moment hits every embedding
                for e in a.embeddings:
                    res[e].append(run(["embed", str(data), e], {"QDA_CACHE_DIR": str(work / f"cache-{n}-{e}-{r}")}))
            for e, rs in res.items():
                sec = statistics.median(x["seconds"] for x in rs)
                lines.append(f"| {n:,} | {e} | {sec:.1f} | {n / sec:,.0f} | {max(x['peak_mb'] for x in rs):,.0f} MB | {a.runs} |")
        text = "\n".join(lines + ["", f"Measured with {load_note()}."]) + "\n"
        save_result("embed.md", text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
