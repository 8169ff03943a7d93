"""The suggestions to review, one row per (unit, code), in review order.

A suggestion is a coding of the run (``suggestion = coded``) or, when the verifier wrote
``candidates.csv``, a (unit, code) pair it scored near its threshold without coding it
(``suggestion = missed?``). Orders:

* ``uncertainty``: the distance of score and threshold in log-odds, ``|logit(score) −
  logit(threshold)|``, ascending: the closest to the decision first. Log-odds, the scale the
  verifier's logistic regressions decide on, because codes have different thresholds: 0.00
  against a threshold of 0.15 is a clear "no", 0.30 against 0.45 is a close call, though both
  lie 0.15 away;
* ``code``: by code (codebook order), then document and position;
* ``document``: by document and position, then code.

A rules-only run has no uncertainty (every score is 1.0): ``uncertainty`` then falls back to
the ``code`` order and says so in ``Suggestions.note``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.review.run import ReviewRun, _from_record

ORDERS = ("uncertainty", "code", "document")
CONTEXT_CHARS = 600
SCORE_FLOOR = 1e-4

ORDER_NOTES = {
    "uncertainty": "Reihenfolge: unsicherste zuerst – Abstand von Score und Schwelle (in Log-Odds) aufsteigend, die Vorschläge nächst an der "
                   "Entscheidungsschwelle oben.",
    "code": "Reihenfolge: nach Code (wie im Kodierleitfaden), dann Dokument, dann Position im Dokument.",
    "document": "Reihenfolge: nach Dokument und Position im Dokument, dann Code.",
    "fallback": ("Reihenfolge: nach Code (wie im Kodierleitfaden), dann Dokument, dann Position im Dokument. Dieser Lauf hat nur "
                 "Regel-Kodierungen (Score überall 1,0, keine candidates.csv des Verifiers): es gibt keine Unsicherheit, nach der "
                 "sortiert werden könnte."),
}


@dataclass
class Suggestions:
    """The review table and how it was ordered.

    Attributes:
        table: one row per suggestion with ``nr, segment_id, document, speaker, context, text,
            spans`` (evidence as ``[(start, end)]`` in the unit's text, code points), ``code,
            label, suggestion (coded | missed?), score, threshold, method``.
        order: the order asked for; ``order_used``: the one applied (``code`` when
            ``uncertainty`` had no scores to sort by); ``note``: the order in words (German, for
            the sheet and the page).
    """

    table: pd.DataFrame
    order: str
    order_used: str
    note: str


def _pairs(run: ReviewRun) -> pd.DataFrame:
    """Every (unit, code) to review with score, threshold, evidence and whether it was coded."""
    cod = run.codings[["segment_id", "code", "evidence", "method", "pattern", "score"]].copy()
    cod["score"] = pd.to_numeric(cod["score"], errors="coerce").fillna(1.0)
    cod["accepted"] = 1
    model = _from_record(run.record, "model") or {}
    cod["threshold"] = float(model["threshold"]) if isinstance(model, dict) and model.get("threshold") is not None else np.nan
    if run.candidates is None:
        return cod
    cand = run.candidates.copy()
    cand["method"] = np.where(cand["pattern"].astype(str) != "", "rule", "model")
    coded = cand.merge(cod[["segment_id", "code", "evidence", "method", "pattern"]], on=["segment_id", "code"], how="left", suffixes=("", "_coded"))
    for col in ("evidence", "method", "pattern"):
        has = coded[f"{col}_coded"].notna() & (coded[f"{col}_coded"] != "")
        coded[col] = coded[col].where(~has, coded[f"{col}_coded"])
    coded = coded[["segment_id", "code", "evidence", "method", "pattern", "score", "threshold", "accepted"]]
    # a coding the verifier did not list (it should list every one) is still a suggestion
    seen = set(zip(coded["segment_id"], coded["code"]))
    rest = cod[[(s, c) not in seen for s, c in zip(cod["segment_id"], cod["code"])]]
    return pd.concat([coded, rest], ignore_index=True)


def _spans(run: ReviewRun, pairs: pd.DataFrame, texts: list[str], starts: list[int]) -> list[list[tuple[int, int]]]:
    """Evidence spans in each unit's text: every rule hit of the code (evidence.csv), else the
    coding's evidence found in the text; none for a model coding (its evidence is the unit)."""
    hits: dict[tuple[str, str], list[tuple[int, int]]] = {}
    if run.evidence is not None and len(run.evidence):
        ev = run.evidence
        for sid, code, s, e in zip(ev["segment_id"], ev["code"], pd.to_numeric(ev["start_char"], errors="coerce"),
                                   pd.to_numeric(ev["end_char"], errors="coerce")):
            if not (np.isnan(s) or np.isnan(e)):
                hits.setdefault((sid, code), []).append((int(s), int(e)))
    out = []
    for sid, code, evidence, method, text, base in zip(pairs["segment_id"], pairs["code"], pairs["evidence"].fillna(""), pairs["method"],
                                                       texts, starts):
        spans = [(max(0, s - base), min(len(text), e - base)) for s, e in hits.get((sid, code), [])]
        spans = [(s, e) for s, e in spans if e > s]
        if not spans and evidence and method != "model" and evidence in text:
            at = text.index(evidence)
            spans = [(at, at + len(evidence))]
        out.append(_merge(spans))
    return out


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _contexts(segments: pd.DataFrame) -> list[str]:
    """Per unit: the previous turn of its interview, or the question a survey answer replies to."""
    seg = segments.reset_index(drop=True)
    doc = seg["doc_id"].tolist() if "doc_id" in seg else [""] * len(seg)
    kind = seg["kind"].tolist() if "kind" in seg else [""] * len(seg)
    question = seg["question"].tolist() if "question" in seg else [""] * len(seg)
    speaker = seg["speaker"].tolist() if "speaker" in seg else [""] * len(seg)
    texts = seg["text"].tolist()
    out = []
    for i in range(len(seg)):
        if kind[i] != "interview" and question[i]:
            out.append(f"Frage: {question[i]}")
        elif i > 0 and doc[i - 1] == doc[i]:
            prev = texts[i - 1] if len(texts[i - 1]) <= CONTEXT_CHARS else "…" + texts[i - 1][-CONTEXT_CHARS:]
            out.append(f"{speaker[i - 1]}: {prev}" if speaker[i - 1] else prev)
        else:
            out.append("")
    return out


def _logit(p: pd.Series) -> np.ndarray:
    p = np.clip(p.astype(float).to_numpy(), SCORE_FLOOR, 1 - SCORE_FLOOR)
    return np.log(p / (1 - p))


def margin(score: pd.Series, threshold: pd.Series) -> np.ndarray:
    """``|logit(score) − logit(threshold)|``; infinite where there is no threshold (rule codings
    of a rules-only run). Scores are clipped to [SCORE_FLOOR, 1 − SCORE_FLOOR] (they are written
    with four decimals), so 0.0 and 1.0 count as very sure, not infinitely."""
    out = np.abs(_logit(score) - _logit(threshold.fillna(0.5)))
    return np.where(threshold.isna().to_numpy(), np.inf, out)


def build_suggestions(run: ReviewRun, order: str = "uncertainty", *, limit: int | None = None) -> Suggestions:
    """The rows to review, in ``order`` (see the module docstring).

    Raises:
        ValueError: an unknown order.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    seg = run.segments.reset_index(drop=True)
    pos = {sid: i for i, sid in enumerate(seg["segment_id"])}
    contexts = _contexts(seg)
    pairs = _pairs(run)
    pairs = pairs[pairs["segment_id"].isin(pos)].reset_index(drop=True)
    at = pairs["segment_id"].map(pos).astype(int).to_numpy()
    texts = seg["text"].to_numpy()[at].tolist()
    starts = pd.to_numeric(seg["start_char"], errors="coerce").fillna(0).astype(int).to_numpy()[at].tolist()
    code_rank = {c: i for i, c in enumerate(run.code_ids)}
    labels = {c.id: c.label for c in run.codes}
    table = pd.DataFrame({
        "segment_id": pairs["segment_id"],
        "document": seg["doc_id"].to_numpy()[at] if "doc_id" in seg else "",
        "speaker": seg["speaker"].to_numpy()[at] if "speaker" in seg else "",
        "context": [contexts[i] for i in at],
        "text": texts,
        "spans": _spans(run, pairs, texts, starts),
        "code": pairs["code"],
        "label": pairs["code"].map(lambda c: labels.get(c, "")),
        "suggestion": np.where(pairs["accepted"].astype(int) == 1, "coded", "missed?"),
        "score": pairs["score"].astype(float).round(4),
        "threshold": pairs["threshold"].astype(float),
        "method": pairs["method"],
        "_pos": at,
        "_code": pairs["code"].map(lambda c: code_rank.get(c, len(code_rank))),
    })
    table["_uncertainty"] = margin(table["score"], table["threshold"])
    used = order
    if order == "uncertainty" and not np.isfinite(table["_uncertainty"]).any():
        used = "fallback"
    keys = {"uncertainty": ["_uncertainty", "_pos", "_code"], "document": ["_pos", "_code"]}.get(used, ["_code", "_pos"])
    table = table.sort_values(keys + ["code"], kind="mergesort").reset_index(drop=True)
    if limit is not None:
        table = table.head(limit)
    table.insert(0, "nr", np.arange(1, len(table) + 1))
    table = table.drop(columns=["_pos", "_code", "_uncertainty"])
    return Suggestions(table, order, "code" if used == "fallback" else used, ORDER_NOTES[used])
