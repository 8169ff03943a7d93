"""``cluster_units``: one call from texts to assignments, cluster table, map coordinates and
the record of the parameters used. Picks :class:`CategoryMap` when categories or labels are
given (guided), else :class:`TopicMap` (unguided)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.cluster.categories import Category, categories_from_labels
from pipeline.cluster.evaluate import silhouette
from pipeline.cluster.guided import CategoryMap
from pipeline.cluster.layout import map_coords
from pipeline.cluster.unguided import TopicMap
from pipeline.cluster.words import topic_words
from pipeline.errors import QdaError


@dataclass
class ClusterResult:
    """What ``cluster_units`` returns.

    Attributes:
        assignments: input row order: cluster, cluster_label, score, margin, agree, alternative,
            uncertain, other, guided (cluster -1 for empty texts; agree -1 in unguided runs).
        clusters: one row per cluster: cluster, label, top_terms, size, uncertain, guided.
        coords: 2-D map coordinates per input row (NaN for empty texts).
        params: the parameters used (for run.json).
    """

    assignments: pd.DataFrame
    clusters: pd.DataFrame
    coords: np.ndarray
    params: dict


def _guided_categories(categories, labels) -> list[Category]:
    """The categories, plus one per hand-made label that is not among them."""
    cats = list(categories or [])
    known = {c.label for c in cats}
    return cats + [c for c in categories_from_labels(labels or []) if c.label not in known]


def make_estimator(*, guided: bool, categories, embedding: str, seed: int, n_clusters, min_cluster_size, max_clusters: int,
                   remove_theme: bool, uncertain_margin: float | None, second_opinions="auto"):
    """The guided or the unguided estimator with the given options.

    Raises:
        QdaError: ``n_clusters`` in guided mode (the categories fix their number).
    """
    if guided:
        if n_clusters is not None:
            raise QdaError(f"n_clusters has no meaning in guided clustering: the {len(categories)} categories fix the number; "
                           "drop n_clusters, or drop the categories for unguided clustering")
        return CategoryMap(categories, embedding=embedding, remove_theme=remove_theme, uncertain_margin=uncertain_margin,
                           second_opinions=second_opinions, random_state=seed)
    return TopicMap(n_clusters, embedding=embedding, remove_theme=remove_theme, min_cluster_size=min_cluster_size,
                    max_clusters=max_clusters, random_state=seed)


def _cluster_table(est, texts: list[str], a: pd.DataFrame, guided: bool) -> pd.DataFrame:
    """One row per cluster: label (category or top words), top terms, size, uncertain count."""
    words = topic_words(texts, a["cluster"].to_numpy())
    ids = list(range(len(est.classes_))) if guided else sorted(set(a["cluster"].tolist()))
    rows = []
    for c in ids:
        members = a["cluster"] == c
        if guided and c == len(est.classes_) - 1 and not members.any():
            continue  # no example is far from every category: no "other" row
        tw = words.get(c, [])
        single = [w for w in tw if " " not in w]
        label = str(est.classes_[c]) if guided else (" · ".join(single[:3]) if single else f"Cluster {c}")
        rows.append({"cluster": c, "label": label, "top_terms": ", ".join(tw), "size": int(members.sum()),
                     "uncertain": int(a.loc[members, "uncertain"].sum()), "guided": guided})
    return pd.DataFrame(rows)


def cluster_units(texts: list[str], *, groups: list[str] | None = None, embedding: str = "e5", seed: int = 42, n_clusters: int | None = None,
                  min_cluster_size: int | None = None, max_clusters: int = 12, categories: list[Category] | None = None,
                  labels: list[str] | None = None, remove_theme: bool = True, uncertain_margin: float | None = None,
                  second_opinions="auto", on_event=None) -> ClusterResult:
    """Clusters unit texts: guided by ``categories``/``labels`` when given, else unguided.

    Args:
        texts: the units (empty ones are left out and get cluster -1).
        groups: per unit its theme group (e.g. the network), or None.
        embedding: embedder name (``use``, ``e5``, ``tfidf``, ``st:PATH``).
        seed: every random choice derives from it.
        n_clusters: unguided only: the number of clusters (default: chosen by silhouette).
        min_cluster_size: unguided only: smallest cluster allowed when k is chosen.
        max_clusters: unguided only: largest k tried.
        categories: the analyst's categories (guided).
        labels: per unit a hand-made category or "" (guided; kept as given).
        remove_theme: subtract each group's mean embedding.
        uncertain_margin: guided only: probability margin below which an example is uncertain
            (None: see :class:`CategoryMap`).
        second_opinions: guided only: embedder names of the second opinions, "auto" or ().
        on_event: optional callback receiving progress messages.

    Raises:
        QdaError: all texts empty, too few units, n_clusters in guided mode or too large.
    """
    texts = [t if isinstance(t, str) else "" for t in texts]
    keep = [i for i, t in enumerate(texts) if t.strip()]
    if not keep:
        raise QdaError("all selected texts are empty; check the column or the --where filter")
    if len(keep) < 3:
        raise QdaError(f"only {len(keep)} non-empty unit(s) selected; clustering needs at least 3")
    texts_k = [texts[i] for i in keep]
    gk = [str(groups[i]) for i in keep] if groups is not None else None
    lk = [str(labels[i] or "").strip() for i in keep] if labels is not None else None
    guided = bool(categories) or bool(lk and any(lk))
    cats = _guided_categories(categories, lk) if guided else []
    est = make_estimator(guided=guided, categories=cats, embedding=embedding, seed=seed, n_clusters=n_clusters, min_cluster_size=min_cluster_size,
                         max_clusters=max_clusters, remove_theme=remove_theme, uncertain_margin=uncertain_margin,
                         second_opinions=second_opinions)
    est.fit(texts_k, lk if guided else None, groups=gk, on_event=on_event)
    a = est.assignments_.reset_index(drop=True)
    table = _cluster_table(est, texts_k, a, guided)
    label_of = dict(zip(table["cluster"], table["label"]))
    Z = est.transform(texts_k, gk)
    full = pd.DataFrame({"cluster": -1, "cluster_label": "", "score": np.nan, "margin": np.nan, "agree": -1, "alternative": "",
                         "uncertain": False, "other": False, "guided": guided}, index=range(len(texts)))
    full.loc[keep, "cluster"] = a["cluster"].to_numpy()
    full.loc[keep, "cluster_label"] = [label_of[c] for c in a["cluster"].tolist()]
    for col in ("score", "margin", "agree", "alternative", "uncertain", "other"):
        if col in a:
            full.loc[keep, col] = a[col].to_numpy()
    full = full.astype({"cluster": np.int64, "score": float, "margin": float, "agree": np.int64, "uncertain": bool, "other": bool})
    xy = np.full((len(texts), 2), np.nan)
    xy[keep] = map_coords(Z, a["cluster"].to_numpy())
    params = {**est.record(), "seed": seed, "theme_removed": bool(remove_theme and gk is not None and len(set(gk)) > 1),
              "labelled": int(sum(1 for x in lk or [] if x)), "silhouette": silhouette(Z, a["cluster"].to_numpy(), seed=seed)}
    params.pop("random_state", None)
    return ClusterResult(full, table, xy, params)
