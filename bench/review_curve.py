"""Learning curve of the review loop: does reviewing suggestions and retraining make coding better?

    nice uv run python bench/review_curve.py                 # both settings, 3 random seeds (~5 CPU-minutes)
    nice uv run python bench/review_curve.py --seeds 1 --settings beispiel-umfrage --steps 25,50
    uv run python bench/review_curve.py --replot             # table and figure again from the last run's rounds

A simulated reviewer works through the suggestions of a run exactly as ``qda review export``
orders them and decides each with the gold: ``accept`` where the gold has the code, ``reject``
where it has not. Nothing else of the gold reaches the training: a reviewer decides only the
suggestions shown (a partly reviewed unit says nothing about other codes) — except in the
variant where the reviewer also adds the codes the run missed on the units reviewed.

Protocol per setting (train part → test part):

1. ``qda code`` the train answers with the rules only (codebook v3).
2. Rounds at N = 25, 50, 100, 200 reviewed units: take the next units in review order (units
   reviewed earlier are skipped), decide all their suggestions, ``qda review import`` the
   decisions into the run folder, then ``qda code --train RUN1/reviewed.csv,RUN2/reviewed.csv,…``
   (the verifier learns from all decisions so far, the runs' clear "no"s and the codebook's
   anchor examples; no embedding) and code the test part with the new model. The new run's
   ``candidates.csv`` gives the uncertainty order of the next round; the first round, on a
   rules-only run, falls back to the code order.
3. Orders: ``uncertainty`` (the export's default) and ``random`` (the units of the same export
   shuffled; mean over seeds), same protocol otherwise. Ablation: the uncertainty reviewer with
   the verifier trained on the decided pairs only (no clear "no"s of the runs). Variant: the
   reviewer who also adds, on every unit reviewed, the codes the run missed (the page's ``E``;
   an ``accept`` of that unit and code), in both orders.
4. References: rules only; retrained on the anchors and the rules run's clear "no"s without a
   decision; every suggestion of the rules run decided in one round; the whole train part
   coded by hand (its gold, every code of every unit).

Settings: ``dev-umfrage`` = ``../shared/dev/survey_dev.csv`` (train: ``part=train``, 200
answers; test: ``part=test``, 100), ``beispiel-umfrage`` = the example corpus's survey answers
(train: development split, test: test split of ``corpora/beispiel/gold/split.csv``).
The test parts are only scored; only aggregate precision, recall and micro-F1 are printed.
Writes the table to ``bench/results/review_curve.md``, the raw rounds to
``bench/results/review_curve.json`` and the figure to ``docs/lernkurve.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import DIMENSIONS, shared_dev, survey_part  # noqa: E402

from pipeline.cli import cli  # noqa: E402
from pipeline.codebook import load_codebook  # noqa: E402
from pipeline.coding import code_segments  # noqa: E402
from pipeline.coding.modelfile import MODEL_NAME, load_model  # noqa: E402
from pipeline.coding.verifier import gold_labels, train_verifier  # noqa: E402
from pipeline.evaluate import evaluate, predictions_from_codings, read_gold  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.outputs import write_parquet  # noqa: E402
from pipeline.review import build_suggestions, load_review_run  # noqa: E402
from pipeline.review.training import run_negatives  # noqa: E402

STEPS = (25, 50, 100, 200)
CODEBOOK = ROOT / "codebooks" / "innovationsnetzwerke-v3.yaml"
TITLES = {"dev-umfrage": "Dev-Umfrage", "beispiel-umfrage": "Umfrage des Beispielkorpus"}


@dataclass
class Setting:
    """Train units (as a folder ``qda code`` reads), their gold (used only to decide the
    suggestions shown), and the test units with their gold (only scored)."""

    name: str
    train_dir: Path
    train_gold: dict[str, set[str]]
    test_segments: pd.DataFrame
    test_gold: dict[str, set[str]]


def _source_folder(segments: pd.DataFrame, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet(segments.reset_index(drop=True), folder / "segments.parquet")
    return folder


def dev_survey(dev: Path, tmp: Path) -> Setting:
    s_train, g_train = survey_part(dev, "train", tmp)
    s_test, g_test = survey_part(dev, "test", tmp)
    return Setting("dev-umfrage", _source_folder(s_train, tmp / "dev-train"), g_train, s_test, g_test)


def beispiel_survey(tmp: Path) -> Setting:
    seg = ingest([str(ROOT / "corpora" / "beispiel")]).segments
    gold_file = str(ROOT / "corpora" / "beispiel" / "gold" / "umfrage_gold.csv")
    dev, test = read_gold(gold_file, part="dev"), read_gold(gold_file, part="test")
    ids = seg["segment_id"].astype(str)
    return Setting("beispiel-umfrage", _source_folder(seg[ids.isin(dev)], tmp / "beispiel-train"), dev, seg[ids.isin(test)], test)


# --- one simulated reviewer ----------------------------------------------------------------------

def _invoke(*args) -> None:
    r = CliRunner().invoke(cli, [str(a) for a in args])
    if r.exit_code != 0:
        raise RuntimeError(f"qda {' '.join(map(str, args))} failed:\n{r.output}")


def next_units(table: pd.DataFrame, done: set[str], size: int, order: str, rng: np.random.Generator) -> list[str]:
    """The next ``size`` units of the review table not reviewed yet: in the table's order, or
    shuffled (``random``)."""
    units = [u for u in dict.fromkeys(table["segment_id"].astype(str)) if u not in done]
    if order == "random":
        units = [units[i] for i in rng.permutation(len(units))]
    return units[:size]


def decide(table: pd.DataFrame, units: list[str], gold: dict[str, set[str]], *, add_missed: bool = False) -> pd.DataFrame:
    """The reviewer's decisions on every suggestion of ``units``: accept if the gold has the code;
    ``add_missed``: also an accept for every gold code of a unit that was not suggested there."""
    rows = table[table["segment_id"].astype(str).isin(set(units))]
    sids = rows["segment_id"].astype(str).tolist()
    decision = ["accept" if c in gold.get(s, set()) else "reject" for s, c in zip(sids, rows["code"])]
    out = pd.DataFrame({"segment_id": sids, "code": rows["code"].tolist(), "decision": decision})
    if add_missed:
        shown = set(zip(sids, rows["code"]))
        extra = [(u, c, "accept") for u in units for c in sorted(gold.get(u, set())) if (u, c) not in shown]
        out = pd.concat([out, pd.DataFrame(extra, columns=out.columns)], ignore_index=True)
    return out


def score_test(setting: Setting, cb, model=None) -> dict:
    """Micro precision/recall/F1 of coding the test units (aggregate only)."""
    codes = [c.id for c in cb.codable() if c.dimension in DIMENSIONS]
    result = code_segments(setting.test_segments, cb, model=model)
    _, summary, _ = evaluate(setting.test_gold, predictions_from_codings(result.codings), codes)
    return summary["micro"]


def simulate(setting: Setting, rules_run: Path, order: str, seed: int, cb, work: Path, *, labels: str = "run",
             steps: tuple[int, ...] = STEPS) -> list[dict]:
    """One reviewer through the rounds (``steps``: reviewed units after each); a row per round
    with units, decisions and test scores.

    ``labels``: ``run`` trains on the decisions plus the run's clear "no"s (what ``qda code
    --train RUN/reviewed.csv`` does); ``decided`` on the decided pairs only (each reviewed.csv
    copied out of its run folder); ``added`` as ``run``, the reviewer also adding missed codes."""
    rng = np.random.default_rng(seed)
    run, done, reviewed, rows, accepted, decided = rules_run, set(), [], [], 0, 0
    for n in steps:
        table = build_suggestions(load_review_run(run), "uncertainty").table
        units = next_units(table, done, n - len(done), order, rng)
        if not units:
            break
        dec = decide(table, units, setting.train_gold, add_missed=labels == "added")
        done |= set(units)
        accepted, decided = accepted + int((dec["decision"] == "accept").sum()), decided + len(dec)
        dec_file = work / f"{labels}-{order}-{seed}-{len(done)}.csv"
        dec.to_csv(dec_file, index=False)
        _invoke("review", "import", run, dec_file)
        if labels == "decided":
            alone = work / "decided" / f"{order}-{seed}-{len(done)}" / "reviewed.csv"
            alone.parent.mkdir(parents=True)
            alone.write_bytes((run / "reviewed.csv").read_bytes())
            reviewed.append(str(alone))
        else:
            reviewed.append(str(run / "reviewed.csv"))
        run = work / f"{labels}-{order}-{seed}-{len(done)}"
        _invoke("code", setting.train_dir, "--codebook", CODEBOOK, "--train", ",".join(reviewed), "--out", run)
        model = load_model(run / MODEL_NAME, cb)
        micro = score_test(setting, cb, model)
        rows.append({"labels": labels, "order": order, "seed": seed, "step": n, "units": len(done), "decisions": decided, "accepted": accepted,
                     "learned": sum(m == "model" for m in model.modes_), "f1": micro["f1"], "precision": micro["precision"],
                     "recall": micro["recall"]})
    return rows


def run_setting(setting: Setting, seeds: int, work: Path, steps: tuple[int, ...] = STEPS) -> tuple[dict, pd.DataFrame]:
    """References (rules only; retrained without a decision, on the anchors and the rules run's
    clear "no"s; every suggestion of the rules run decided at once; the train part fully coded)
    and every simulated reviewer of one setting."""
    cb, _ = load_codebook(CODEBOOK)
    rules_run = work / "rules"
    _invoke("code", setting.train_dir, "--codebook", CODEBOOK, "--out", rules_run, "--rules-only")  # the start: no companion
    codes = [c.id for c in cb.codable()]
    seg = pd.read_parquet(setting.train_dir / "segments.parquet")
    everything = simulate(setting, rules_run, "all", 0, cb, work, steps=(len(seg),))[0]
    refs = {"rules": score_test(setting, cb), "all": {k: everything[k] for k in ("f1", "precision", "recall", "units", "decisions")},
            "gold": score_test(setting, cb, train_verifier(seg, gold_labels(setting.train_gold, codes), cb)),
            "none": score_test(setting, cb, train_verifier(seg, run_negatives(load_review_run(rules_run)), cb)),
            "train_units": len(setting.train_gold), "test_units": len(setting.test_gold)}
    rows = simulate(setting, rules_run, "uncertainty", 0, cb, work, steps=steps)
    for seed in range(seeds):
        rows += simulate(setting, rules_run, "random", seed, cb, work, steps=steps)
    rows += simulate(setting, rules_run, "uncertainty", 0, cb, work, labels="decided", steps=steps)
    rows += simulate(setting, rules_run, "uncertainty", 0, cb, work, labels="added", steps=steps)
    for seed in range(seeds):
        rows += simulate(setting, rules_run, "random", seed, cb, work, labels="added", steps=steps)
    return refs, pd.DataFrame(rows)


# --- table and figure --------------------------------------------------------------------------

def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per step: the uncertainty reviewer (units, decisions, F1, P, R), random order (F1 mean,
    min, max over seeds), the decided-pairs-only ablation and the reviewer adding misses."""
    main = rows[rows["labels"] == "run"]
    unc = main[main["order"] == "uncertainty"].set_index("step")
    rnd = main[main["order"] == "random"].groupby("step")
    dec = rows[rows["labels"] == "decided"].set_index("step")
    added = rows[rows["labels"] == "added"]
    add = added[added["order"] == "uncertainty"].set_index("step") if len(added) else None
    add_rnd = added[added["order"] == "random"].groupby("step") if (added["order"] == "random").any() else None
    out = pd.DataFrame({"units": unc["units"], "decisions": unc["decisions"], "accepted": unc["accepted"], "uncertainty": unc["f1"],
                        "precision": unc["precision"], "recall": unc["recall"],
                        "random": rnd["f1"].mean(), "random_min": rnd["f1"].min(), "random_max": rnd["f1"].max(),
                        "random_decisions": rnd["decisions"].mean(), "decided_only": dec["f1"],
                        "added": add["f1"] if add is not None else np.nan, "added_decisions": add["decisions"] if add is not None else np.nan,
                        "added_random": add_rnd["f1"].mean() if add_rnd is not None else np.nan,
                        "added_random_min": add_rnd["f1"].min() if add_rnd is not None else np.nan,
                        "added_random_max": add_rnd["f1"].max() if add_rnd is not None else np.nan})
    return out.reset_index()


def _first_reaching(steps: pd.Series, f1: pd.Series, level: float) -> int | None:
    reach = steps[f1.to_numpy() >= level - 1e-9]
    return int(reach.iloc[0]) if len(reach) else None


def _race(t: pd.DataFrame, mine: str, theirs: str) -> tuple[float, int | None, int | None]:
    """``theirs``'s F1 after the last step, and the first step at which ``mine`` and ``theirs``
    reach it (None: never)."""
    level = t.iloc[-1][theirs]
    return level, _first_reaching(t["step"], t[mine], level), _first_reaching(t["step"], t[theirs], level)


def _gain_at_100(refs: dict, t: pd.DataFrame, column: str) -> float | None:
    """``column``'s F1 after 100 reviewed units minus the rules alone (None: no such round)."""
    at100 = t.loc[t["step"] == 100, column]
    if not len(at100) or at100.isna().all():
        return None
    return float(at100.iloc[0]) - refs["rules"]["f1"]


def verdicts(refs: dict, t: pd.DataFrame) -> list[str]:
    """The issue's two targets, checked on the measured curve."""
    steps = int(t.iloc[-1]["step"])
    level, first, own = _race(t, "uncertainty", "random")
    gain = _gain_at_100(refs, t, "uncertainty")
    met = first is not None and first < steps
    reached = "not reached" if first is None else f"reached with {first} units"
    verdict = "met" if met else "not met"
    if met and own is not None and own <= first:
        verdict = "met on paper only: random order gets there with as few units, the curve is flat"
    added = _gain_at_100(refs, t, "added")
    return [f"- Target 1, uncertainty order reaches random order's {steps}-unit F1 ({level:.3f}) with fewer units: "
            f"{reached} (random order itself with {own}) → {verdict}",
            "- Target 2, 100 reviewed units raise test micro-F1 by ≥ 0.05 over rules only: "
            + (f"{gain:+.3f} → {'met' if gain >= 0.05 else 'not met'}" if gain is not None else "no round with 100 units")
            + ("" if added is None else f"; with the reviewer also adding the missed codes {added:+.3f}"), *_added_order(t)]


def _added_order(t: pd.DataFrame) -> list[str]:
    """Target 1 for the reviewer who adds misses too (when both orders were simulated)."""
    if t["added"].isna().any() or t["added_random"].isna().any():
        return []
    level, first, own = _race(t, "added", "added_random")
    reached = "not reached" if first is None else f"reached with {first} units"
    return [f"- With the missed codes added: uncertainty order reaches random order's {int(t.iloc[-1]['step'])}-unit F1 "
            f"({level:.3f}): {reached} (random order itself with {own}); uncertainty order ahead or level at "
            f"{int((t['added'] >= t['added_random'] - 1e-9).sum())} of {len(t)} steps"]


def _prf(m: dict) -> str:
    return f"{m['f1']:.3f} ({m['precision']:.2f} / {m['recall']:.2f})"


def markdown(results: dict[str, tuple[dict, pd.DataFrame]], seeds: int, seconds: float) -> str:
    lines = [f"Test micro-F1 (precision / recall) after a simulated reviewer decided the suggestions of N train units and the "
             f"verifier was retrained (codebook v3, verifier without embedding). Random order: mean over {seeds} seeds "
             f"[min–max]. Written by `bench/review_curve.py` in {seconds:.0f} s.", ""]
    for name, (refs, t) in results.items():
        lines += [f"### {name} (train {refs['train_units']} units, test {refs['test_units']} units)", "",
                  "| reviewed units N | uncertainty order: decisions | F1 (P / R) | random order: decisions | F1 [min–max] "
                  "| decided pairs only: F1 | misses added too: decisions | F1 | … in random order: F1 [min–max] |",
                  "|---:|---:|---|---:|---|---:|---:|---:|---|",
                  f"| 0 (rules only) | 0 | {_prf(refs['rules'])} | 0 | {refs['rules']['f1']:.3f} | {refs['rules']['f1']:.3f} | 0 | "
                  f"{refs['rules']['f1']:.3f} | {refs['rules']['f1']:.3f} |"]
        for r in t.itertuples():
            lines.append(f"| {r.step}" + (f" ({r.units})" if r.units != r.step else "") + f" | {r.decisions} | "
                         f"{r.uncertainty:.3f} ({r.precision:.2f} / {r.recall:.2f}) | {r.random_decisions:.0f} | "
                         f"{r.random:.3f} [{r.random_min:.3f}–{r.random_max:.3f}] | {r.decided_only:.3f} | "
                         f"{r.added_decisions:.0f} | {r.added:.3f} | {r.added_random:.3f} [{r.added_random_min:.3f}–{r.added_random_max:.3f}] |")
        a = refs["all"]
        lines += ["", f"References: retrained without any decision (anchor examples + the rules run's clear \"no\"s): {_prf(refs['none'])}; "
                  f"every suggestion of the rules run decided at once ({a['units']} units, {a['decisions']} decisions): {_prf(a)}; "
                  f"the whole train part coded by hand (gold, every code of every unit): {_prf(refs['gold'])}.", "",
                  *verdicts(refs, t), ""]
    return "\n".join(lines)


def _span(values: list[float], least: float = 0.12) -> tuple[float, float]:
    """A y range around ``values`` at least ``least`` wide, so that noise does not look like a trend."""
    lo, hi = min(values) - 0.02, max(values) + 0.02
    if hi - lo < least:
        mid = (lo + hi) / 2
        lo, hi = mid - least / 2, mid + least / 2
    return lo, hi


def draw(results: dict[str, tuple[dict, pd.DataFrame]], path: Path) -> None:
    """One panel per setting: test micro-F1 over reviewed units, uncertainty against random
    order (and the reviewer adding misses), with rules only and the fully hand-coded train part as lines (Okabe–Ito colours,
    German labels and decimal commas). The decided-pairs-only ablation is far below and only in
    the table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, axes = plt.subplots(1, len(results), figsize=(5.2 * len(results), 4.0), squeeze=False)
    for ax, (name, (refs, t)) in zip(axes[0], results.items()):
        x, base = [0, *t["step"]], refs["rules"]["f1"]
        ax.axhline(base, color="#000000", ls=":", lw=1, label="nur Regeln")
        ax.axhline(refs["gold"]["f1"], color="#009E73", ls="--", lw=1, label="Trainingsteil vollständig handkodiert")
        ax.fill_between(x, [base, *t["random_min"]], [base, *t["random_max"]], color="#E69F00", alpha=0.25, lw=0)
        ax.plot(x, [base, *t["random"]], color="#E69F00", marker="s", label="zufällige Reihenfolge (Mittel, Spanne)")
        ax.plot(x, [base, *t["uncertainty"]], color="#0072B2", marker="o", label="unsicherste zuerst (qda review export)")
        if t["added"].notna().all():
            ax.plot(x, [base, *t["added"]], color="#CC79A7", marker="^", ls="-.", label="unsicherste zuerst, Übersehenes ergänzt (E)")
        if t["added_random"].notna().all():
            ax.plot(x, [base, *t["added_random"]], color="#56B4E9", marker="v", ls="-.", label="zufällig, Übersehenes ergänzt (Mittel)")
        ax.set_title(f"{TITLES.get(name, name)}: {refs['train_units']} Trainings-, {refs['test_units']} Testantworten", fontsize=10)
        ax.set_xlabel("durchgesehene Einheiten")
        ax.set_ylabel("Mikro-F1 auf dem Testteil")
        ax.set_xticks(x)
        ax.set_ylim(*_span([base, refs["gold"]["f1"], *t["uncertainty"], *t["random_min"], *t["random_max"], *t["added"].dropna(),
                                 *t["added_random"].dropna()]))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.2f}".replace(".", ",")))
        ax.grid(alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def measure(names: list[str], seeds: int, steps: tuple[int, ...] = STEPS) -> dict:
    """Every setting's references and raw rounds (one row per reviewer and round)."""
    dev = shared_dev()
    t0 = time.perf_counter()
    out = {"seeds": seeds, "settings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in names:
            if name == "dev-umfrage" and dev is None:
                print("../shared/dev is not here: dev-umfrage skipped", file=sys.stderr)
                continue
            setting = dev_survey(dev, tmp) if name == "dev-umfrage" else beispiel_survey(tmp)
            refs, rows = run_setting(setting, seeds, tmp / name, steps)
            out["settings"][name] = {"refs": refs, "rows": rows.to_dict("records")}
            print(f"{name}: done after {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    out["seconds"] = round(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3, help="random-order reviewers (mean reported)")
    ap.add_argument("--settings", default="dev-umfrage,beispiel-umfrage")
    ap.add_argument("--steps", default=",".join(map(str, STEPS)), help="reviewed units after each round")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "review_curve.md"), help="the table; the raw rounds go next to it (.json)")
    ap.add_argument("--figure", default=str(ROOT / "docs" / "lernkurve.png"))
    ap.add_argument("--replot", action="store_true", help="redraw table and figure from the raw rounds of the last run")
    args = ap.parse_args()
    raw = Path(args.out).with_suffix(".json")
    if args.replot:
        measured = json.loads(raw.read_text(encoding="utf-8"))
    else:
        measured = measure(args.settings.split(","), args.seeds, tuple(int(n) for n in args.steps.split(",")))
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(measured, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    results = {name: (m["refs"], summarise(pd.DataFrame(m["rows"]))) for name, m in measured["settings"].items()}
    text = markdown(results, measured["seeds"], measured["seconds"])
    print(text)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    draw(results, Path(args.figure))


if __name__ == "__main__":
    main()
