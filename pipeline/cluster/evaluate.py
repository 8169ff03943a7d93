"""Scores of a clustering: against the researchers' categories, across seeds, silhouette."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.errors import QdaError


def compare_with_gold(found: list[int], gold: list[str]) -> tuple[dict, pd.DataFrame]:
    """ARI, NMI and the contingency table of found clusters against given categories.

    Raises:
        QdaError: fewer than two units carry a gold category.
    """
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    pairs = [(f, g) for f, g in zip(found, gold) if g and f >= 0]
    if len(pairs) < 2:
        raise QdaError("fewer than two units carry a gold category; check --gold-column")
    f, g = zip(*pairs)
    scores = {"units": len(pairs), "ari": round(float(adjusted_rand_score(g, f)), 4), "nmi": round(float(normalized_mutual_info_score(g, f)), 4),
              "gold_categories": len(set(g)), "clusters": len(set(f))}
    table = pd.crosstab(pd.Series(g, name="gold"), pd.Series(f, name="cluster"))
    return scores, table


def silhouette(emb: np.ndarray, clusters: np.ndarray, seed: int = 0, sample: int = 2000) -> float | None:
    """Mean cosine silhouette of the clusters, on a seeded sample of ``sample`` units when there
    are more (it costs n² distances); None with fewer than 2 clusters or as many as units."""
    from sklearn.metrics import silhouette_score

    k = len(set(clusters.tolist()))
    if k < 2 or k >= len(clusters):
        return None
    return round(float(silhouette_score(emb, clusters, metric="cosine", sample_size=min(len(clusters), sample), random_state=seed)), 4)


def _matched_changes(base: np.ndarray, other: np.ndarray) -> np.ndarray:
    """1 where ``other`` disagrees with ``base`` after matching its clusters to base's
    (Hungarian on the overlap)."""
    from scipy.optimize import linear_sum_assignment

    a_ids, b_ids = sorted(set(base.tolist())), sorted(set(other.tolist()))
    overlap = np.array([[np.sum((base == a) & (other == b)) for b in b_ids] for a in a_ids])
    r, c = linear_sum_assignment(-overlap)
    mapping = {b_ids[j]: a_ids[i] for i, j in zip(r, c)}
    mapped = np.array([mapping.get(x, -2) for x in other.tolist()])
    return (mapped != base).astype(int)


def stability(texts, *, runs: int, seed: int, **kwargs) -> tuple[dict, pd.DataFrame]:
    """Reruns with ``runs`` seeds: pairwise ARI and how often each unit changes category."""
    from itertools import combinations

    from sklearn.metrics import adjusted_rand_score

    from pipeline.cluster.api import cluster_units

    results = [cluster_units(texts, seed=seed + r, **kwargs).assignments["cluster"].to_numpy() for r in range(runs)]
    aris = [adjusted_rand_score(a, b) for a, b in combinations(results, 2)]
    changed = np.zeros(len(results[0]), dtype=int)
    for other in results[1:]:
        changed += _matched_changes(results[0], other)
    summary = {"runs": runs, "seeds": [seed + r for r in range(runs)], "ari_mean": round(float(np.mean(aris)), 4) if aris else 1.0,
               "ari_min": round(float(np.min(aris)), 4) if aris else 1.0, "units_changing": int((changed > 0).sum())}
    return summary, pd.DataFrame({"changes": changed, "share_of_reruns": np.round(changed / max(1, runs - 1), 3)})
