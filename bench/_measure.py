"""Runs one benchmark step in this (fresh) process and prints JSON: seconds and peak RSS.

    python bench/_measure.py qda code ...        # the CLI, in-process
    python bench/_measure.py pipe FILE.csv        # bare nlp.pipe over the texts
    python bench/_measure.py naive FILE.csv CODEBOOK   # pandas str.contains, one regex per code
"""

import json
import resource
import sys
import time


def peak_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def main() -> None:
    what = sys.argv[1]
    t0 = time.perf_counter()
    extra = {}
    if what == "qda":
        from pipeline.cli import cli

        try:
            cli.main(args=sys.argv[2:], prog_name="qda", standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                raise
    elif what == "pipe":
        import pandas as pd

        from pipeline.nlp import load_nlp

        texts = pd.read_csv(sys.argv[2], sep=";", dtype=str, keep_default_na=False)["antwort"].tolist()
        nlp = load_nlp("qda-de")
        t0 = time.perf_counter()  # loading is not parsing
        n = sum(len(doc) for doc in nlp.pipe(texts, batch_size=512))
        extra["tokens"] = n
    elif what == "naive":
        import re

        import pandas as pd

        from pipeline.codebook import load_codebook

        texts = pd.read_csv(sys.argv[2], sep=";", dtype=str, keep_default_na=False)["antwort"]
        cb, _ = load_codebook(sys.argv[3])
        hits = 0
        for code in cb.codable():
            words = [p.value for p in code.include if p.kind in ("term", "phrase")]
            rx = "|".join(re.escape(w) for w in words) or "(?!)"
            hits += int(texts.str.contains(rx, case=False, regex=True).sum())
        extra["hits"] = hits
    print(json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": peak_mb(), **extra}))


if __name__ == "__main__":
    main()
