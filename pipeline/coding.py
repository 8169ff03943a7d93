"""Coding units with a codebook: rule hits, optional learned coder, the codings tables.

``code_segments(segments, codebook, ...)`` returns

* ``codings``: one row per code per unit (``segment_id, code, start_char, end_char, evidence,
  method, pattern, score``); offsets are into the document's normalised full text;
* ``evidence``: every rule hit (a code can fire several times in one unit);
* ``wide``: one row per unit, one 0/1 column per codable code.

Which units are coded: not interviewer turns (unless ``code_interviewer``), not empty or
placeholder answers, and, where a unit carries a ``code_scope`` (the dimensions its question
asks about, from ``corpus.yaml``), only codes of those dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.errors import QdaError
from pipeline.matching import RuleMatcher
from pipeline.tokens import ParseStats, parse_texts, save_words

CODING_COLUMNS = ["segment_id", "code", "start_char", "end_char", "evidence", "method", "pattern", "score"]
EVIDENCE_COLUMNS = ["segment_id", "code", "start_char", "end_char", "evidence", "pattern"]


@dataclass
class CodingResult:
    codings: pd.DataFrame
    evidence: pd.DataFrame
    wide: pd.DataFrame
    coded_mask: np.ndarray  # which units were eligible for coding
    parse: ParseStats
    model_info: dict | None = None


def eligible_units(segments: pd.DataFrame, *, code_interviewer: bool) -> np.ndarray:
    """Boolean mask of units the coder looks at."""
    ok = np.ones(len(segments), dtype=bool)
    if not code_interviewer and "is_interviewer" in segments:
        ok &= ~segments["is_interviewer"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    if "flag" in segments:
        ok &= segments["flag"].fillna("").astype(str).eq("").to_numpy()
    ok &= segments["text"].fillna("").astype(str).str.strip().ne("").to_numpy()
    return ok


def scope_of(segments: pd.DataFrame) -> list[set[str] | None]:
    """Per unit the dimensions it may be coded with (None = all)."""
    if "code_scope" not in segments:
        return [None] * len(segments)
    out = []
    for v in segments["code_scope"].fillna("").astype(str):
        dims = {d.strip() for d in v.replace(",", ";").split(";") if d.strip()}
        out.append(dims or None)
    return out


def code_segments(
    segments: pd.DataFrame,
    codebook: Codebook,
    *,
    nlp_name: str | None = None,
    code_interviewer: bool | None = None,
    model=None,
    threshold: float | None = None,
    cache_dir=None,
    use_cache: bool = True,
    workers: int = 1,
    progress=None,
) -> CodingResult:
    """Codes every eligible unit of ``segments`` with ``codebook``.

    Args:
        segments: the segments table of :func:`pipeline.ingest.ingest`.
        codebook: a validated codebook.
        nlp_name: German pipeline (see :func:`pipeline.nlp.load_nlp`).
        code_interviewer: code interviewer turns too; default: the codebook's
            ``skip_interviewer`` setting decides.
        model: a fitted :class:`pipeline.learned.LearnedCoder` or None (rules alone).
        threshold: the model's decision threshold (default: the model's own).
        cache_dir, use_cache, workers, progress: see :func:`pipeline.tokens.parse_texts`.

    Raises:
        QdaError: the segments table lacks the columns of the segments contract.
    """
    missing = [c for c in ("segment_id", "text", "start_char") if c not in segments.columns]
    if missing:
        raise QdaError(f"the segments table lacks the column(s) {', '.join(missing)}; run 'qda ingest' to make one")
    if code_interviewer is None:
        code_interviewer = not codebook.matching.skip_interviewer
    segments = segments.reset_index(drop=True)
    mask = eligible_units(segments, code_interviewer=code_interviewer)
    texts = segments["text"].fillna("").astype(str).tolist()
    idx = np.nonzero(mask)[0]
    table, stats = parse_texts([texts[i] for i in idx], nlp_name=nlp_name, cache_dir=cache_dir, use_cache=use_cache, workers=workers, progress=progress)
    matcher = RuleMatcher(codebook)
    hits = matcher.match_table(table)
    save_words(table)
    scopes = scope_of(segments)
    codable = [c.id for c in codebook.codable()]
    dim_of = {c: codebook.codes[c].dimension for c in codable}
    seg_ids = segments["segment_id"].astype(str).tolist()
    starts = pd.to_numeric(segments["start_char"], errors="coerce").fillna(0).astype(int).tolist()

    def allowed(unit_row: int, code: str) -> bool:
        sc = scopes[unit_row]
        return sc is None or dim_of[code] in sc

    ev_cols: dict[str, list] = {c: [] for c in EVIDENCE_COLUMNS}
    first: dict[tuple[int, str], dict] = {}
    idx_l = idx.tolist()
    any_scope = any(sc is not None for sc in scopes)
    for h in hits:
        row = idx_l[h.unit]
        if any_scope and not allowed(row, h.code):
            continue
        base = starts[row]
        sid = seg_ids[row]
        ev_cols["segment_id"].append(sid)
        ev_cols["code"].append(h.code)
        ev_cols["start_char"].append(base + h.start)
        ev_cols["end_char"].append(base + h.end)
        ev_cols["evidence"].append(h.text)
        ev_cols["pattern"].append(h.pattern)
        if (row, h.code) not in first:
            first[(row, h.code)] = {"segment_id": sid, "code": h.code, "start_char": base + h.start, "end_char": base + h.end,
                                    "evidence": h.text, "pattern": h.pattern, "method": "rule", "score": 1.0}
    model_info = None
    if model is not None:
        thr = model.threshold if threshold is None else threshold
        probs = model.predict_proba([texts[i] for i in idx])
        model_info = {"threshold": thr, **model.describe()}
        for j, code in enumerate(model.codes_):
            if code not in dim_of:
                continue
            for k in np.nonzero(probs[:, j] >= thr)[0].tolist():
                row = int(idx[k])
                if (row, code) in first or not allowed(row, code):
                    continue
                text = texts[row]
                first[(row, code)] = {
                    "segment_id": seg_ids[row], "code": code, "start_char": starts[row], "end_char": starts[row] + len(text),
                    "evidence": text if len(text) <= 300 else text[:297] + "...", "pattern": "", "method": "model",
                    "score": round(float(probs[k, j]), 4),
                }
    order = {c: i for i, c in enumerate(codable)}
    records = [first[k] for k in sorted(first, key=lambda k: (k[0], order[k[1]]))]
    codings = pd.DataFrame({c: [r[c] for r in records] for c in CODING_COLUMNS}, columns=CODING_COLUMNS)
    evidence = pd.DataFrame(ev_cols, columns=EVIDENCE_COLUMNS)
    matrix = np.zeros((len(segments), len(codable)), dtype=np.int8)
    for (row, code) in first:
        matrix[row, order[code]] = 1
    wide = pd.DataFrame(matrix, columns=codable)
    wide.insert(0, "segment_id", seg_ids)
    return CodingResult(codings, evidence, wide, mask, stats, model_info)


def summarise(result: CodingResult, codebook: Codebook) -> dict:
    """Counts for the command's summary line: units, coded units, codes per dimension."""
    coded_units = result.codings["segment_id"].nunique()
    per_dim: dict[str, int] = {}
    for code in result.codings["code"]:
        d = codebook.codes[code].dimension
        per_dim[d] = per_dim.get(d, 0) + 1
    return {
        "units": int(len(result.wide)),
        "eligible_units": int(result.coded_mask.sum()),
        "coded_units": int(coded_units),
        "codings": int(len(result.codings)),
        "by_method": result.codings["method"].value_counts().to_dict(),
        "per_dimension": per_dim,
        "parsed": result.parse.parsed,
        "from_cache": result.parse.cached,
    }
