"""Gold files and coding quality: precision, recall, F1 and Cohen's kappa per code.

A gold file is CSV (or XLSX) with ``segment_id,codes``, codes separated by ``;``; an empty
``codes`` cell means "coded, and no code applies". Only units listed in the gold are scored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError, ValidationError


def read_gold(path: Path | str, *, part: str | None = None, split: Path | str | None = None) -> dict[str, set[str]]:
    """Reads a gold file into ``{segment_id: {codes}}``.

    Args:
        path: CSV or XLSX with columns ``segment_id`` and ``codes``; several files may be
            given joined with ``,`` (they are merged).
        part: keep only units of this part (``dev`` or ``test``) of ``split``.
        split: CSV ``segment_id,part``; default: ``split.csv`` next to the gold file.

    Raises:
        InputError: a missing, empty or damaged file (an .xlsx is checked against the archive
            limits before it is opened), missing columns, a unit listed twice.
    """
    from pipeline.tablefiles import read_table_file

    paths = [Path(p) for p in str(path).split(",") if p.strip()]
    gold: dict[str, set[str]] = {}
    fix = "write the gold as segment_id,codes with codes separated by ';'"
    for p in paths:
        frame = read_table_file(p, what="gold file", fix=fix)
        frame.columns = [c.lower() for c in frame.columns]
        if "segment_id" not in frame or "codes" not in frame:
            raise InputError(p, f"needs the columns segment_id and codes (has {', '.join(frame.columns)})", fix)
        for sid, codes in zip(frame["segment_id"].str.strip(), frame["codes"].fillna("")):
            if not sid:
                continue
            if sid in gold:
                raise InputError(p, f"segment {sid!r} is listed twice", "give each unit one row with all its codes separated by ';'")
            gold[sid] = {c.strip() for c in str(codes).replace(",", ";").split(";") if c.strip()}
    if part:
        split_path = Path(split) if split else paths[0].parent / "split.csv"
        if not split_path.is_file():
            raise InputError(split_path, "split file not found", "pass --split FILE (segment_id,part) or drop --part")
        sp = read_table_file(split_path, what="split file", fix="write the split as segment_id,part (e.g. dev or test)", required=("segment_id", "part"))
        keep = set(sp.loc[sp["part"] == part, "segment_id"])
        if not keep:
            raise InputError(split_path, f"no unit is in part {part!r}", f"parts there: {', '.join(sorted(set(sp['part'])))}")
        gold = {k: v for k, v in gold.items() if k in keep}
    return gold


def check_gold(gold: dict[str, set[str]], segment_ids: set[str], code_ids: set[str], source: str) -> None:
    """Raises ValidationError listing unknown segments and unknown codes."""
    problems = []
    unknown_units = sorted(set(gold) - segment_ids)
    if unknown_units:
        more = f" (and {len(unknown_units) - 10} more)" if len(unknown_units) > 10 else ""
        problems.append(("segment_id", f"{len(unknown_units)} unit(s) not in the coded data: {', '.join(unknown_units[:10])}{more}"))
    unknown_codes = sorted({c for cs in gold.values() for c in cs} - code_ids)
    if unknown_codes:
        problems.append(("codes", f"code(s) not in the codebook: {', '.join(unknown_codes)}"))
    if problems:
        raise ValidationError(source, problems, title="does not fit the coded data")


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's kappa of two 0/1 vectors; 1.0 when both are constant and equal (no variation to miss)."""
    a = np.asarray(a, dtype=int)
    b = np.asarray(b, dtype=int)
    n = len(a)
    if n == 0:
        return float("nan")
    po = float((a == b).mean())
    pa, pb = a.mean(), b.mean()
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe == 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def evaluate(gold: dict[str, set[str]], predicted: dict[str, set[str]], codes: list[str], texts: dict[str, str] | None = None):
    """Scores predictions against gold on the gold's units.

    Returns:
        ``(scores, summary, confusions)``: a per-code table, micro/macro averages, and the false
        positives and negatives with their text.
    """
    units = sorted(gold)
    rows = []
    conf = []
    tp_all = fp_all = fn_all = 0
    for code in codes:
        g = np.array([code in gold[u] for u in units], dtype=int)
        p = np.array([code in predicted.get(u, set()) for u in units], dtype=int)
        tp = int(((g == 1) & (p == 1)).sum())
        fp = int(((g == 0) & (p == 1)).sum())
        fn = int(((g == 1) & (p == 0)).sum())
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * prec * rec / (prec + rec) if tp and (prec + rec) else (0.0 if (tp + fp + fn) else float("nan"))
        rows.append({"code": code, "support": int(g.sum()), "predicted": int(p.sum()), "tp": tp, "fp": fp, "fn": fn,
                     "precision": prec, "recall": rec, "f1": f1, "kappa": cohen_kappa(g, p)})
        for u, gi, pi in zip(units, g, p):
            if gi != pi:
                conf.append({"segment_id": u, "code": code, "error": "false_negative" if gi else "false_positive",
                             "text": (texts or {}).get(u, "")})
    scores = pd.DataFrame(rows)
    micro_p = tp_all / (tp_all + fp_all) if tp_all + fp_all else float("nan")
    micro_r = tp_all / (tp_all + fn_all) if tp_all + fn_all else float("nan")
    micro_f = 2 * micro_p * micro_r / (micro_p + micro_r) if tp_all else 0.0
    present = scores[scores["support"] > 0]
    summary = {
        "units": len(units),
        "codes_scored": int(len(present)),
        "micro": {"precision": micro_p, "recall": micro_r, "f1": micro_f},
        "macro": {k: float(present[k].fillna(0).mean()) if len(present) else float("nan") for k in ("precision", "recall", "f1", "kappa")},
        "exact_match": float(np.mean([gold[u] & set(codes) == predicted.get(u, set()) & set(codes) for u in units])) if units else float("nan"),
    }
    return scores, summary, pd.DataFrame(conf, columns=["segment_id", "code", "error", "text"])


def predictions_from_codings(codings: pd.DataFrame, methods: set[str] | None = None) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for sid, code, method in zip(codings["segment_id"].astype(str), codings["code"], codings["method"]):
        if methods is None or method in methods:
            out.setdefault(sid, set()).add(code)
    return out


def evaluate_reviewed(labels: pd.DataFrame, predicted: dict[str, set[str]], codes: list[str]) -> tuple[pd.DataFrame, dict]:
    """Scores predictions on the (unit, code) pairs reviewers decided, and on no other pair.

    Args:
        labels: ``segment_id, code, label`` from :func:`pipeline.review.training_labels`.
        predicted: ``{segment_id: {codes}}`` of the codings to score.
        codes: the codes to report, in order (codes of ``labels`` outside it are added).

    Returns:
        ``(scores, summary)``. Per code: ``reviewed`` decided pairs, ``predicted`` of them coded,
        ``accepted`` (coded, label 1), ``rejected`` (coded, label 0), ``missed`` (not coded,
        label 1), ``precision`` = accepted ÷ predicted — for the run the reviewers saw, the
        accepted share of its suggestions (reviewed precision) — and ``recall_reviewed`` =
        accepted ÷ (accepted + missed), which only counts misses a reviewer happened to name.
    """
    hit = np.array([c in predicted.get(s, set()) for s, c in zip(labels["segment_id"].astype(str), labels["code"])], dtype=bool)
    pos = labels["label"].astype(int).to_numpy() == 1
    rows = []
    for code in list(codes) + sorted(set(labels["code"]) - set(codes)):
        m = labels["code"].to_numpy() == code
        tp, fp, fn = int((m & hit & pos).sum()), int((m & hit & ~pos).sum()), int((m & ~hit & pos).sum())
        rows.append({"code": code, "reviewed": int(m.sum()), "predicted": tp + fp, "accepted": tp, "rejected": fp, "missed": fn,
                     "precision": tp / (tp + fp) if tp + fp else float("nan"), "recall_reviewed": tp / (tp + fn) if tp + fn else float("nan")})
    scores = pd.DataFrame(rows, columns=["code", "reviewed", "predicted", "accepted", "rejected", "missed", "precision", "recall_reviewed"])
    tp, fp, fn = int((hit & pos).sum()), int((hit & ~pos).sum()), int((~hit & pos).sum())
    summary = {"units": int(labels["segment_id"].nunique()), "decisions": int(len(labels)), "predicted": tp + fp, "accepted": tp,
               "rejected": fp, "missed": fn, "precision": tp / (tp + fp) if tp + fp else float("nan"),
               "recall_reviewed": tp / (tp + fn) if tp + fn else float("nan")}
    return scores, summary
