"""Coding quality on material the codebook was not written against, rules alone and with the verifier.

    uv run python bench/quality.py                      # v3 against the v2 baseline, verifier without embeddings
    uv run python bench/quality.py --embedding use      # the verifier also sees sentence embeddings

Test sets (nothing was tuned on them, except the ``a`` halves named below):

* ``beispiel-test``: the example corpus's test split (``corpora/beispiel/gold/split.csv``);
* ``dev-umfrage-test``: ``../shared/dev/survey_dev.csv`` rows with ``part=test``;
* ``dev-interviews``: the three transcripts in ``../shared/dev/interviews`` with their gold;
* ``own-a``/``-b``, ``own-interviews-a``/``-b`` and ``own-survey-a``/``-b``: the halves of
  ``tests/data/generalisation_de.tsv`` (274 answers and turns),
  ``tests/data/generalisation_interviews_de.tsv`` (165, mostly long interview turns) and
  ``tests/data/generalisation_survey_de.tsv`` (230 survey answers), each written from the coding
  guideline alone by a writer who never saw a codebook. The ``a`` halves were used to revise
  the codebook (3.1); the ``b`` halves were not looked at;
* ``own-transcripts-a``/``-b``: six whole transcripts in ``tests/data/generalisation_transcripts``
  (three files per half, every turn in the gold), written and coded the same way (3.2);
* ``own-answers-2``: ``tests/data/training_answers_de.tsv`` (220 survey answers, 90 interview
  turns), written and coded the same way after codebook 3.2, as training material for the
  companion verifier and then not used for it: nothing was tuned on it;
* ``own-transcripts-2``: six whole transcripts in ``tests/data/training_transcripts_2`` (197
  turns, a sixth writer), the same story;
* ``own-transcripts-3-a``/``-b``: six whole transcripts in ``tests/data/training_transcripts_3``
  (235 turns, a seventh writer, after codebook 3.3): the ``a`` half (three files) was used for
  one revision of 3.3, the ``b`` half was not looked at; neither trains the companion (the
  adoption rule did not take it).
* ``own-probes-a``/``-b``: ``tests/data/probes_phenomena_de.tsv`` (240 answers and turns probing
  paraphrases, compounds, typos, denials, wishes, foils and traps, an eighth writer, after
  codebook 3.3 revisions): the ``a`` half was used for one revision of 3.4, the ``b`` half was not
  looked at; neither trains the companion (the adoption rule did not take the ``a`` half).
* ``own-probes-2-a``/``-b`` and ``own-probes-3-a``/``-b``: ``tests/data/probes_2_de.tsv`` (120 survey
  answers: background, denials, foils, traps, compounds, a ninth writer) and
  ``tests/data/probes_3_de.tsv`` (90 long interview turns, many by coordinators, a tenth writer),
  both after codebook 3.6: the ``a`` halves were used for 3.7, and ``probes_2``'s ``a`` half
  trains the companion; the ``b`` halves were not looked at.
* ``own-probes-4-a``/``-b`` and ``own-probes-5-a``/``-b``: ``tests/data/probes_4_de.tsv`` (90 long
  interview turns, many things mentioned and only some codable, an eleventh writer) and
  ``tests/data/probes_5_de.tsv`` (120 survey answers written for precision: tempting mentions
  that must not be coded, a twelfth writer), both after codebook 3.7: the ``a`` halves were used
  for 3.8, the ``b`` halves were not looked at.

Each test set's verifier is trained on development material coded under the same rules: for
``beispiel-test`` the example corpus's development split (coded with the v2 definitions), for
the dev sets the dev survey's ``part=train`` rows (coded with ``CODING_RULES.md``); both with
the codebook's anchor examples. The last column is the companion verifier that ships next to
the codebook and that ``qda code`` uses by default (``scripts/train_companion.py``: trained on
the dev survey's train part, the ``a`` halves and six training transcripts). Only aggregate scores are printed (micro
and macro precision/recall/F1, and per code); no test unit is shown. The table is also written
to ``bench/results/quality.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.codebook import load_codebook  # noqa: E402
from pipeline.coding import code_segments  # noqa: E402
from pipeline.coding.verifier import gold_labels, train_verifier  # noqa: E402
from pipeline.evaluate import evaluate, predictions_from_codings, read_gold  # noqa: E402
from pipeline.ingest import IngestOptions, ingest  # noqa: E402

DIMENSIONS = ("innovationsform", "huerde", "methode")


def shared_dev() -> Path | None:
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "dev" / "survey_dev.csv").is_file():
            return base / "shared" / "dev"
    return None


def survey_part(dev: Path, part: str, tmp: Path) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Segments and gold of one part of the dev survey (the gold never enters the segments)."""
    d = pd.read_csv(dev / "survey_dev.csv", dtype=str, keep_default_na=False)
    d = d[d["part"] == part]
    path = tmp / f"umfrage_{part}.csv"
    d[["id", "network", "question", "answer"]].to_csv(path, index=False)
    seg = ingest([str(path)], IngestOptions(text_columns=["answer"], id_column="id", question_column="question", meta_columns=["network"])).segments
    gold = {f"{i}:{q}": {c for c in codes.split(";") if c} for i, q, codes in zip(d["id"], d["question"], d["codes"])}
    return seg, gold


def dev_interviews(dev: Path) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    seg = ingest([str(dev / "interviews")]).segments
    g = pd.read_csv(dev / "interviews_dev_gold.csv", dtype=str, keep_default_na=False)
    gold = {f"{Path(f).stem}:{t}": {c for c in codes.split(";") if c} for f, t, codes in zip(g["file"], g["turn"], g["codes"])}
    return seg, gold


OWN = ROOT / "tests" / "data" / "generalisation_de.tsv"
OWN_INTERVIEWS = ROOT / "tests" / "data" / "generalisation_interviews_de.tsv"
OWN_SURVEY = ROOT / "tests" / "data" / "generalisation_survey_de.tsv"
OWN_SETS = {"own": OWN, "own-interviews": OWN_INTERVIEWS, "own-survey": OWN_SURVEY}  # name in the table: file
# written as training material for the companion verifier, then left out of it (see scripts/train_companion.py): held out
OWN_ANSWERS_2 = ROOT / "tests" / "data" / "training_answers_de.tsv"
OWN_TRANSCRIPTS_2 = ROOT / "tests" / "data" / "training_transcripts_2"  # the same: written for training, left out, held out
OWN_TRANSCRIPTS_3 = ROOT / "tests" / "data" / "training_transcripts_3"  # a half used for 3.3, b half held out
PROBES = ROOT / "tests" / "data" / "probes_phenomena_de.tsv"  # a half used for 3.4, b half held out
# a half used for 3.7 (and, for probes_2, as companion training), b half held out
PROBES_2 = ROOT / "tests" / "data" / "probes_2_de.tsv"
PROBES_3 = ROOT / "tests" / "data" / "probes_3_de.tsv"
# a half used for 3.8, b half held out
PROBES_4 = ROOT / "tests" / "data" / "probes_4_de.tsv"
PROBES_5 = ROOT / "tests" / "data" / "probes_5_de.tsv"
OWN_TRANSCRIPTS = ROOT / "tests" / "data" / "generalisation_transcripts"


def own_set(part: str | None, tmp: Path, file: Path = OWN) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Units and gold of one part of an own set (``file``, one of :data:`OWN_SETS`): answers and
    interview turns written from CODING_RULES.md alone by someone who never saw the codebooks. Survey rows
    become a CSV export with their question; an interview row becomes a two-turn transcript (the
    interviewer's question, then the turn), so it is read and coded as any interview.
    ``part`` None: every row (a file without parts)."""
    d = pd.read_csv(file, sep="\t", dtype=str, keep_default_na=False)
    if part is not None:
        d = d[d["part"] == part]
    folder = tmp / f"{file.stem}_{part or 'alle'}"
    folder.mkdir()
    survey = d[~d["question"].str.startswith("I: ")]
    if len(survey):  # a file of interview turns only has no survey export
        survey[["id", "question", "text"]].to_csv(folder / "umfrage.csv", index=False)
    for i, q, t in d.loc[d["question"].str.startswith("I: "), ["id", "question", "text"]].itertuples(index=False):
        (folder / f"{i}.txt").write_text(f"{q}\n\nB: {t}\n", encoding="utf-8")
    seg = ingest([str(folder)], IngestOptions(text_columns=["text"], id_column="id", question_column="question")).segments
    gold = {(f"{i}:{q}" if not q.startswith("I: ") else f"{i}:2"): {c for c in codes.split(";") if c}
            for i, q, codes in zip(d["id"], d["question"], d["codes"])}
    return seg, gold


def own_transcripts(part: str | None, folder: Path = OWN_TRANSCRIPTS) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """Units and gold of one part of the own whole transcripts (three files per part: every
    turn, interviewer turns included, is in the gold); ``part`` None: every file of ``folder``."""
    g = pd.read_csv(folder / "gold.csv", dtype=str, keep_default_na=False)
    if part is not None:
        g = g[g["part"] == part]
    files = sorted(set(g["file"]))
    seg = ingest([str(folder / "transkripte" / f) for f in files]).segments
    gold = {f"{Path(f).stem}:{t}": {c for c in codes.split(";") if c} for f, t, codes in zip(g["file"], g["turn"], g["codes"])}
    return seg, gold


def beispiel() -> tuple[pd.DataFrame, dict[str, set[str]], dict[str, set[str]]]:
    seg = ingest([str(ROOT / "corpora" / "beispiel")]).segments
    files = ",".join(str(ROOT / "corpora" / "beispiel" / "gold" / f) for f in ("interviews_gold.csv", "umfrage_gold.csv"))
    return seg, read_gold(files, part="dev"), read_gold(files, part="test")


def gold_documents(segments: pd.DataFrame, gold: dict[str, set[str]]) -> pd.DataFrame:
    """The units of the documents that hold gold units, whole: an interview turn is read with the
    interviewer's question before it, as qda code on the transcript reads it."""
    docs = set(segments.loc[segments["segment_id"].astype(str).isin(gold), "doc_id"])
    return segments[segments["doc_id"].isin(docs)]


def score(cb, segments: pd.DataFrame, gold: dict[str, set[str]], model=None, favour: str = "balanced") -> tuple[dict, pd.DataFrame, float]:
    codes = [c.id for c in cb.codable() if c.dimension in DIMENSIONS]
    units = gold_documents(segments, gold)
    t0 = time.perf_counter()
    result = code_segments(units, cb, model=model, favour=favour)
    seconds = time.perf_counter() - t0
    scores, summary, _ = evaluate(gold, predictions_from_codings(result.codings), codes)
    return summary, scores, seconds


def by_phenomenon(cb, companion, halves: dict[str, tuple[pd.DataFrame, dict[str, set[str]]]]) -> list[str]:
    """Micro-F1 per phenomenon label of the probe set (``case`` column), per half (``halves``:
    part → units and gold), for the rules and the companion: which kinds of text the coder gets
    wrong (aggregates only)."""
    probes = pd.read_csv(PROBES, sep="\t", dtype=str, keep_default_na=False)
    label_of = {(f"{i}:{q}" if not q.startswith("I: ") else f"{i}:2"): [c.strip() for c in case.split(";") if c.strip()]
                for i, q, case in zip(probes["id"], probes["question"], probes["case"])}
    counts: dict = {}  # (label, part, who) -> [tp, fp, fn]
    rows: dict = {}  # (label, part) -> units carrying the label
    for part, (seg, gold) in halves.items():
        for sid in gold:
            for label in label_of[sid]:
                rows[(label, part)] = rows.get((label, part), 0) + 1
        units = gold_documents(seg, gold)
        for who, model in (("rules", None), ("companion", companion)):
            pred = predictions_from_codings(code_segments(units, cb, model=model).codings)
            for sid, truth in gold.items():
                got = pred.get(sid, set())
                for label in label_of[sid]:
                    c = counts.setdefault((label, part, who), [0, 0, 0])
                    c[0] += len(truth & got)
                    c[1] += len(got - truth)
                    c[2] += len(truth - got)

    def f1(label, part, who):
        tp, fp, fn = counts.get((label, part, who), [0, 0, 0])
        return f"{2 * tp / (2 * tp + fp + fn):.2f}" if tp else "0.00" if fp + fn else "–"

    labels = sorted({label for label, _ in rows}, key=lambda label: (-rows.get((label, "b"), 0), label))  # set order varies between runs
    lines = ["Per phenomenon, the probe set (`a` half used for 3.4, `b` half held out; micro-F1, a row counts under each of its labels):", "",
             "| phenomenon | rows a / b | rules a | rules b | companion a | companion b |", "|---|---:|---:|---:|---:|---:|"]
    for label in labels:
        lines.append(f"| {label} | {rows.get((label, 'a'), 0)} / {rows.get((label, 'b'), 0)} | {f1(label, 'a', 'rules')} | {f1(label, 'b', 'rules')} | "
                     f"{f1(label, 'a', 'companion')} | {f1(label, 'b', 'companion')} |")
    return lines + [""]


def shipped_companion(codebook: str, cb):
    """The verifier shipped next to ``codebook`` if it was trained for exactly this codebook."""
    from pipeline.stages import load_companion

    return load_companion(codebook, cb)


def fmt(summary: dict) -> str:
    m, a = summary["micro"], summary["macro"]
    return f"{m['f1']:.3f} ({m['precision']:.2f} / {m['recall']:.2f}) \\| {a['f1']:.3f}"  # escaped: micro and macro in one table cell


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--codebook", default=str(ROOT / "codebooks" / "innovationsnetzwerke-v3.yaml"))
    ap.add_argument("--baseline", default=str(ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"))
    ap.add_argument("--embedding", default="none", help="verifier embedding: none, use, e5 …")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "quality.md"))
    args = ap.parse_args()
    dev = shared_dev()
    if dev is None:
        sys.exit("../shared/dev is not here: the dev set is needed for this benchmark")
    cb, _ = load_codebook(args.codebook)
    base, _ = load_codebook(args.baseline)
    with tempfile.TemporaryDirectory() as tmp:
        b_seg, b_dev, b_test = beispiel()
        s_train, g_train = survey_part(dev, "train", Path(tmp))
        s_test, g_test = survey_part(dev, "test", Path(tmp))
        i_seg, i_gold = dev_interviews(dev)
        own = {f"{name}-{part}": own_set(part, Path(tmp), file) for name, file in OWN_SETS.items() for part in ("a", "b")}
        own.update({f"own-transcripts-{part}": own_transcripts(part) for part in ("a", "b")})
        own["own-answers-2"] = own_set(None, Path(tmp), OWN_ANSWERS_2)
        own["own-transcripts-2"] = own_transcripts(None, OWN_TRANSCRIPTS_2)
        own.update({f"own-transcripts-3-{part}": own_transcripts(part, OWN_TRANSCRIPTS_3) for part in ("a", "b")})
        own.update({f"own-probes-{part}": own_set(part, Path(tmp), PROBES) for part in ("a", "b")})
        own.update({f"own-probes-2-{part}": own_set(part, Path(tmp), PROBES_2) for part in ("a", "b")})
        own.update({f"own-probes-3-{part}": own_set(part, Path(tmp), PROBES_3) for part in ("a", "b")})
        own.update({f"own-probes-{n}-{part}": own_set(part, Path(tmp), f) for n, f in ((4, PROBES_4), (5, PROBES_5)) for part in ("a", "b")})
    codes = [c.id for c in cb.codable()]
    t0 = time.perf_counter()
    m_beispiel = train_verifier(b_seg, gold_labels(b_dev, codes), cb, embedding=args.embedding)
    m_dev = train_verifier(s_train, gold_labels(g_train, codes), cb, embedding=args.embedding)
    train_s = time.perf_counter() - t0
    sets = {"beispiel-test": (b_seg, b_test, m_beispiel), "dev-umfrage-test": (s_test, g_test, m_dev), "dev-interviews": (i_seg, i_gold, m_dev),
            **{name: (seg, gold, m_dev) for name, (seg, gold) in own.items()}}
    companion = shipped_companion(args.codebook, cb)
    trained_on = {s["name"].replace(", part=", "-") for s in companion.provenance_["training"]["sets"]} if companion else set()
    lines = ["| test set | units | rules v2: micro-F1 (P / R) \\| macro-F1 | rules v3 | rules v3 + verifier | rules v3 + shipped companion "
             "| companion, `--favour precision` |", "|---|---:|---|---|---|---|---|"]
    per_code = {}
    for name, (seg, gold, model) in sets.items():
        s2, _, _ = score(base, seg, gold)
        s3, c3, _ = score(cb, seg, gold)
        sv, cv, _ = score(cb, seg, gold, model)
        sc = fmt(score(cb, seg, gold, companion)[0]) if companion else "–"
        sp = fmt(score(cb, seg, gold, companion, "precision")[0]) if companion else "–"
        if name in trained_on:
            sc, sp = sc + " (trained on)", sp + " (trained on)"
        lines.append(f"| {name} | {s3['units']} | {fmt(s2)} | {fmt(s3)} | {fmt(sv)} | {sc} | {sp} |")
        per_code[name] = (c3, cv)
    lines += ["", f"Verifiers (embedding `{args.embedding}`, {train_s:.0f} s to train both): for beispiel-test trained on the example's "
              f"development split ({m_beispiel.n_train_} units with the anchor examples, {sum(m == 'model' for m in m_beispiel.modes_)} codes learned), "
              f"for the dev sets on the dev survey's train part ({m_dev.n_train_} units, {sum(m == 'model' for m in m_dev.modes_)} codes learned; "
              "the others keep the rules). The shipped companion (`codebooks/innovationsnetzwerke-v3.verifier.npz`, what `qda code` uses by "
              "default, see `scripts/train_companion.py`) was trained on the dev survey's train part, the `a` halves of the own sets "
              "and six training transcripts (`tests/data/training_transcripts`) "
              "(\"trained on\": not a quality figure), never on the example corpus. The last column codes with the companion's "
              "thresholds for F0.5 instead of F1 (`qda code --favour precision`).", ""]
    lines += by_phenomenon(cb, companion, {part: own[f"own-probes-{part}"] for part in ("a", "b")})
    for name in ("dev-umfrage-test", "dev-interviews"):
        c3, cv = per_code[name]
        lines += [f"Per code, {name} (support, rules v3 F1, with verifier F1):", "", "| code | support | rules v3 P / R / F1 | + verifier P / R / F1 |", "|---|---:|---|---|"]
        for r3, rv in zip(c3.to_dict("records"), cv.to_dict("records")):
            if r3["support"] or r3["predicted"] or rv["predicted"]:
                lines.append(f"| {r3['code']} | {r3['support']} | {r3['precision']:.2f} / {r3['recall']:.2f} / {r3['f1']:.2f} | "
                             f"{rv['precision']:.2f} / {rv['recall']:.2f} / {rv['f1']:.2f} |")
        lines.append("")
    text = "\n".join(lines).replace("nan", "–")
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
