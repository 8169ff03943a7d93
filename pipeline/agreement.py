"""Agreement between coders (or codebook versions): percent agreement, Cohen's kappa (pairs),
Fleiss' kappa and Krippendorff's alpha (all coders), per code and overall.

The units are coding units; per code each coder makes a yes/no decision per unit. "Overall"
pools the decisions of every code (unit × code), as reliability reports for a whole codebook do.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from pipeline.evaluate import cohen_kappa


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from an ``(units, categories)`` table of how many coders chose each category
    (every unit rated by the same number of coders)."""
    counts = np.asarray(counts, dtype=float)
    n_units, _ = counts.shape
    raters = counts.sum(axis=1)
    if n_units == 0 or not np.allclose(raters, raters[0]) or raters[0] < 2:
        return float("nan")
    m = raters[0]
    p_j = counts.sum(axis=0) / (n_units * m)
    p_i = ((counts * counts).sum(axis=1) - m) / (m * (m - 1))
    p_bar, p_e = p_i.mean(), (p_j ** 2).sum()
    if p_e == 1:
        return 1.0
    return float((p_bar - p_e) / (1 - p_e))


def krippendorff_alpha_nominal(data: np.ndarray) -> float:
    """Krippendorff's alpha for nominal data; ``data`` is ``(coders, units)`` with np.nan for
    missing values. Units with fewer than two values are not pairable and are left out."""
    data = np.asarray(data, dtype=float)
    values = np.unique(data[~np.isnan(data)])
    if len(values) == 0:
        return float("nan")
    index = {v: i for i, v in enumerate(values)}
    k = len(values)
    o = np.zeros((k, k))
    for u in range(data.shape[1]):
        col = data[:, u]
        col = col[~np.isnan(col)]
        m_u = len(col)
        if m_u < 2:
            continue
        for a in range(m_u):
            for b in range(m_u):
                if a != b:
                    o[index[col[a]], index[col[b]]] += 1.0 / (m_u - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    d_o = o.sum() - np.trace(o)
    d_e = (n * n - (n_c ** 2).sum()) / (n - 1)
    if d_e == 0:
        return 1.0
    return float(1 - d_o / d_e)


def agreement_table(decisions: dict[str, dict[str, set[str]]], units: list[str], codes: list[str]) -> tuple[pd.DataFrame, dict]:
    """Agreement statistics per code and overall.

    Args:
        decisions: coder name → {unit: set of codes}.
        units: the units every coder coded.
        codes: the codes to compare.

    Returns:
        ``(per_code table, overall dict)``; pairwise Cohen's kappa columns are named
        ``kappa_<a>_vs_<b>``.
    """
    coders = list(decisions)
    pairs = list(combinations(coders, 2))
    rows = []
    pooled = {c: [] for c in coders}
    for code in codes:
        mat = np.array([[int(code in decisions[c].get(u, set())) for u in units] for c in coders])  # coders × units
        for c, row in zip(coders, mat):
            pooled[c].extend(row.tolist())
        rows.append(_stats(code, mat, coders, pairs))
    overall_mat = np.array([pooled[c] for c in coders])
    overall = _stats("(alle Codes)", overall_mat, coders, pairs)
    overall["units"] = len(units)
    overall["coders"] = coders
    return pd.DataFrame(rows), overall


def _stats(code: str, mat: np.ndarray, coders: list[str], pairs) -> dict:
    n_units = mat.shape[1]
    agree = (mat == mat[0]).all(axis=0).mean() if n_units else float("nan")
    row = {"code": code, "units": n_units, "positives": {c: int(r.sum()) for c, r in zip(coders, mat)}, "percent_agreement": round(float(agree), 4)}
    for a, b in pairs:
        row[f"kappa_{a}_vs_{b}"] = round(cohen_kappa(mat[coders.index(a)], mat[coders.index(b)]), 4)
    counts = np.stack([(mat == 0).sum(axis=0), (mat == 1).sum(axis=0)], axis=1)
    row["fleiss_kappa"] = round(fleiss_kappa(counts), 4)
    row["krippendorff_alpha"] = round(krippendorff_alpha_nominal(mat.astype(float)), 4)
    row["positives"] = "; ".join(f"{c}: {v}" for c, v in row["positives"].items())
    return row
