"""Quality of `qda cluster` against researchers' categories (issue 12); prints aggregate
scores only.

    uv run python bench/cluster_quality.py [--embeddings use e5] [--no-determinism]

Data sets:
* ``dev``: ../shared/dev/innovation_examples_dev.csv with the analyst's category file
  ../shared/dev/categories_dev.yaml (skipped with a reason when absent);
* ``beispiel``: the survey's innovation examples in corpora/beispiel with
  gold/innovationsbeispiele_kategorien.csv and kategorien.yaml.

Per data set and embedding: unguided ARI (k chosen by silhouette, and k = number of gold
categories), guided by the category file alone (ARI, accuracy), guided with 5 examples per
category taken from the set with a fixed seed (written into the categories as ``examples:``
and left out of the score; also the mean over five draws, since which five are drawn matters),
the share flagged uncertain (uncertain or "other") and the accuracy of the rest (also for
other flag rules), and
whether two CLI runs with the same seed write byte-identical clusters.csv.
"""

from __future__ import annotations

import argparse
import dataclasses
import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV = ROOT.parent / "shared" / "dev"
SHOTS, SHOT_SEED, DRAWS = 5, 0, 5


@dataclasses.dataclass
class DataSet:
    name: str
    texts: list[str]
    groups: list[str]
    gold: list[str]
    categories: list  # pipeline.cluster.Category
    cli_args: list[str]  # qda cluster SOURCES ... for the determinism check


def load_dev() -> DataSet | None:
    from pipeline.cluster import read_categories

    csv, cats = DEV / "innovation_examples_dev.csv", DEV / "categories_dev.yaml"
    if not csv.is_file() or not cats.is_file():
        return None
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    args = [str(csv), "--text-column", "text", "--id-column", "id", "--meta-column", "network", "--categories", str(cats)]
    return DataSet("dev examples", df["text"].tolist(), df["network"].tolist(), df["category"].tolist(), read_categories(cats), args)


def load_beispiel() -> DataSet:
    from pipeline.cluster import apply_where, read_categories
    from pipeline.ingest import IngestOptions, ingest

    corpus = ROOT / "corpora" / "beispiel"
    seg = ingest([str(corpus)], IngestOptions()).segments
    seg = apply_where(seg, [("question", "innovationsbeispiel")], None)
    seg = seg[seg["flag"].fillna("") == ""]
    gold = pd.read_csv(corpus / "gold" / "innovationsbeispiele_kategorien.csv", dtype=str, keep_default_na=False)
    seg = seg.merge(gold, on="segment_id", how="left").fillna({"kategorie": ""})
    args = [str(corpus), "--where", "question=innovationsbeispiel", "--categories", str(corpus / "kategorien.yaml")]
    return DataSet("corpora/beispiel", seg["text"].tolist(), seg["network"].tolist(), seg["kategorie"].tolist(),
                   read_categories(corpus / "kategorien.yaml"), args)


def few_shot(ds: DataSet, draw: int = SHOT_SEED) -> tuple[list, np.ndarray]:
    """Categories with 5 examples each drawn from the set (seed ``draw``), and the mask of the
    examples left for scoring."""
    rng = np.random.default_rng(draw)
    gold = np.array(ds.gold)
    scored = gold != ""
    cats = []
    for c in ds.categories:
        idx = np.nonzero(gold == c.label)[0]
        pick = np.sort(rng.choice(idx, size=min(SHOTS, len(idx)), replace=False)) if len(idx) else np.array([], dtype=int)
        scored[pick] = False
        cats.append(dataclasses.replace(c, examples=tuple(ds.texts[i] for i in pick)))
    return cats, scored


def guided_scores(a: pd.DataFrame, gold: np.ndarray, scored: np.ndarray) -> dict:
    lab = a["cluster_label"].to_numpy()
    unsure = a["uncertain"].to_numpy() | a["other"].to_numpy()
    rest = scored & ~unsure
    return {"ari": adjusted_rand_score(gold[scored], lab[scored]), "acc": float(np.mean(lab[scored] == gold[scored])),
            "flagged": float(np.mean(unsure[scored])), "acc_rest": float(np.mean(lab[rest] == gold[rest])) if rest.any() else float("nan"),
            "other": int(a["other"].to_numpy()[scored].sum()), "n": int(scored.sum())}


def evaluate(ds: DataSet, embedding: str) -> list[dict]:
    from pipeline.cluster import cluster_units

    gold = np.array(ds.gold)
    scored = gold != ""
    k_gold = len({g for g in ds.gold if g})
    rows = []
    for what, k in (("unguided, k by silhouette", None), (f"unguided, k = {k_gold}", k_gold)):
        res = cluster_units(ds.texts, groups=ds.groups, embedding=embedding, n_clusters=k)
        found = res.assignments["cluster"].to_numpy()
        rows.append({"set": ds.name, "embedding": embedding, "setting": what, "ari": adjusted_rand_score(gold[scored], found[scored]),
                     "k": res.params["k"], "silhouette": res.params["silhouette"]})
    res = cluster_units(ds.texts, groups=ds.groups, embedding=embedding, categories=ds.categories)
    rows.append({"set": ds.name, "embedding": embedding, "setting": "guided, category file", **guided_scores(res.assignments, gold, scored),
                 "margins": res.assignments["margin"].to_numpy()[scored], "agree": res.assignments["agree"].to_numpy()[scored],
                 "correct": (res.assignments["cluster_label"].to_numpy() == gold)[scored]})
    draws = []
    for draw in range(DRAWS):
        cats, scored5 = few_shot(ds, draw)
        res = cluster_units(ds.texts, groups=ds.groups, embedding=embedding, categories=cats)
        draws.append(guided_scores(res.assignments, gold, scored5))
    rows.append({"set": ds.name, "embedding": embedding, "setting": f"guided, + {SHOTS} examples per category (draw {SHOT_SEED})", **draws[0]})
    mean = {key: float(np.mean([d[key] for d in draws])) for key in ("ari", "acc", "flagged", "acc_rest")}
    rows.append({"set": ds.name, "embedding": embedding, "setting": f"guided, + {SHOTS} examples, mean of draws 0–{DRAWS - 1} "
                 f"(ARI {min(d['ari'] for d in draws):.2f}–{max(d['ari'] for d in draws):.2f})", **mean})
    return rows


def deterministic(ds: DataSet, embedding: str, work: Path) -> bool:
    """Two `qda cluster` runs with the same seed, the first with an empty embedding cache, the
    second reading what the first saved: byte-identical clusters.csv?"""
    import os

    outs = []
    env = {**os.environ, "QDA_CACHE_DIR": str(work / f"cache-{embedding}-{ds.name.replace('/', '_')}")}
    for r in range(2):
        out = work / f"{ds.name.replace('/', '_')}-{embedding}-{r}"
        subprocess.run(["qda", "cluster", *ds.cli_args, "--embedding", embedding, "--seed", "42", "--out", str(out)], check=True,
                       capture_output=True, cwd=ROOT, env=env)
        outs.append(out / "clusters.csv")
    return filecmp.cmp(outs[0], outs[1], shallow=False)


def _fmt(x, digits=2) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def table(rows: list[dict], det: dict) -> str:
    lines = ["| data | embedding | setting | ARI | accuracy | flagged uncertain | accuracy of the rest | k | silhouette | byte-identical |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for r in rows:
        same = det.get((r["set"], r["embedding"])) if r["setting"] == "guided, category file" else None
        lines.append(f"| {r['set']} | {r['embedding']} | {r['setting']} | {_fmt(r['ari'])} | {_fmt(r.get('acc'))} | "
                     f"{_fmt(r.get('flagged'))} | {_fmt(r.get('acc_rest'))} | {_fmt(r.get('k'))} | {_fmt(r.get('silhouette'))} | "
                     f"{'' if same is None else ('yes' if same else 'NO')} |")
    return "\n".join(lines)


def tradeoff(rows: list[dict]) -> str:
    """Share flagged and accuracy of the rest for other flag rules (category file alone): no
    second opinion agrees (the default), the margin alone (the rule without second opinions,
    --second-opinions none, at three --uncertain-margin values), and both."""
    rules = {"no second opinion agrees (default)": lambda r: r["agree"] == 0,
             "margin < 0.1": lambda r: r["margins"] < 0.1, "margin < 0.25": lambda r: r["margins"] < 0.25,
             "margin < 0.4": lambda r: r["margins"] < 0.4, "either, margin < 0.25": lambda r: (r["agree"] == 0) | (r["margins"] < 0.25)}
    lines = ["| data | embedding | " + " | ".join(rules) + " |", "|---|---|" + "---|" * len(rules)]
    for r in rows:
        if "margins" not in r:
            continue
        cells = []
        for rule in rules.values():
            unsure = rule(r)
            rest = r["correct"][~unsure]
            cells.append(f"{unsure.mean():.0%} flagged, rest {rest.mean():.2f}" if len(rest) else f"{unsure.mean():.0%} flagged")
        lines.append(f"| {r['set']} | {r['embedding']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--embeddings", nargs="+", default=["use", "e5"])
    ap.add_argument("--no-determinism", action="store_true")
    a = ap.parse_args()
    sets = [ds for ds in (load_dev(), load_beispiel()) if ds is not None]
    if len(sets) == 1:
        print(f"dev examples not found in {DEV}: only corpora/beispiel is measured", file=sys.stderr)
    rows, det = [], {}
    with tempfile.TemporaryDirectory(prefix="qda-cluster-quality-") as tmp:
        for ds in sets:
            for emb in a.embeddings:
                print(f"{ds.name}: {emb} …", file=sys.stderr)
                rows += evaluate(ds, emb)
                if not a.no_determinism:
                    det[(ds.name, emb)] = deterministic(ds, emb, Path(tmp))
    text = (table(rows, det) + "\n\nUncertain flag, category file alone: share flagged and accuracy of the other examples, by flag rule\n\n"
            + tradeoff(rows) + "\n")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "cluster_quality.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
