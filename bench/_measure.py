"""Runs one benchmark step in this (fresh) process and prints JSON: seconds and peak RSS.

    python bench/_measure.py qda code ...            # the CLI, in-process (seconds include imports)
    python bench/_measure.py tokenize FILE.csv        # spaCy's blank German tokenizer over the answers
    python bench/_measure.py parse FILE.csv CACHE     # qda's parse (pipeline.tokens.parse_texts) alone
    python bench/_measure.py naive FILE.csv CODEBOOK  # pandas str.contains, one regex per code
    python bench/_measure.py embed FILE.csv NAME      # pipeline.embed.embed of the answers (model loading included)

``seconds`` is the step itself; ``process_seconds`` counts from the start of this script
(imports, reading the file), as a user waiting for a command sees it.
"""

import time

START = time.perf_counter()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def peak_mb() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024


def answers(path: str) -> list[str]:
    import pandas as pd

    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)["antwort"].tolist()


def main() -> None:
    what = sys.argv[1]
    t0 = START
    extra = {}
    if what == "qda":
        from pipeline.cli import cli

        try:
            # standalone_mode=False returns the exit status instead of raising it: a step that
            # failed must fail the benchmark, not be timed
            status = cli.main(args=sys.argv[2:], prog_name="qda", standalone_mode=False)
        except SystemExit as exc:
            status = exc.code
        if status:
            sys.exit(status)
    elif what == "tokenize":
        import spacy

        texts = answers(sys.argv[2])
        tokenizer = spacy.blank("de").tokenizer
        t0 = time.perf_counter()  # reading and loading are not tokenizing
        extra["tokens"] = sum(len(doc) for doc in tokenizer.pipe(texts))
    elif what == "parse":
        from pipeline.tokens import parse_texts

        texts = answers(sys.argv[2])
        t0 = time.perf_counter()
        table, stats = parse_texts(texts, cache_dir=sys.argv[3])
        extra.update(tokens=table.n_tokens, parsed=stats.parsed, cached=stats.cached)
    elif what == "embed":
        from pipeline.embed import embed

        texts = answers(sys.argv[2])
        t0 = time.perf_counter()  # loading the model is part of it, as in every qda command
        extra["rows"] = int(embed(texts, sys.argv[3]).shape[0])
    elif what == "naive":
        import re

        import pandas as pd

        from pipeline.codebook import load_codebook

        texts = pd.Series(answers(sys.argv[2]))
        cb, _ = load_codebook(sys.argv[3])
        hits = 0
        for code in cb.codable():
            words = [p.value for p in code.include if p.kind in ("term", "phrase")]
            rx = "|".join(re.escape(w) for w in words) or "(?!)"
            hits += int(texts.str.contains(rx, case=False, regex=True).sum())
        extra["hits"] = hits
    end = time.perf_counter()
    print(json.dumps({"seconds": end - t0, "process_seconds": end - START, "peak_mb": peak_mb(), **extra}))


if __name__ == "__main__":
    main()
