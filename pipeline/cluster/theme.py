"""Theme removal, shared by guided and unguided clustering.

Answers from one network share its topic words (procurement, AI, UX), so plain similarity
groups them by network. Subtracting each group's mean embedding keeps what an example *does*
(a tool, a new role, a changed procedure) and drops what it is *about*. Without groups the
corpus mean is subtracted, which removes the theme all examples share. Category texts carry
no network theme, so they are centred on the corpus mean only.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return x / n


def remove_group_means(emb: np.ndarray, groups: list[str]) -> np.ndarray:
    """Subtracts each group's mean embedding (then re-normalises, rounded to 6 decimals)."""
    return np.round(ThemeRemover().fit(emb, groups).transform(emb, groups), 6).astype(np.float32)


class ThemeRemover(TransformerMixin, BaseEstimator):
    """Subtracts the mean embedding of each example's group (or of the corpus).

    Args:
        by_group: subtract group means when groups are given (else the corpus mean only).

    Fitted attributes:
        mean_: the corpus mean embedding.
        group_means_: group → its mean (groups with one member use the corpus mean).
    """

    def __init__(self, by_group: bool = True):
        self.by_group = by_group

    def fit(self, X, groups=None):
        """Learns the corpus mean and the group means; returns self."""
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)
        self.group_means_ = {}
        if self.by_group and groups is not None:
            g = np.asarray([str(v) for v in groups], dtype=object)
            for value in sorted(set(g.tolist())):
                mask = g == value
                self.group_means_[value] = X[mask].mean(axis=0) if mask.sum() >= 2 else self.mean_
        return self

    def transform(self, X, groups=None) -> np.ndarray:
        """Centred, unit-length rows; a group not seen in ``fit`` gets the corpus mean."""
        X = np.asarray(X, dtype=np.float64)
        if groups is None or not self.group_means_:
            return normalise_rows(X - self.mean_)
        means = np.vstack([self.group_means_.get(str(v), self.mean_) for v in groups])
        return normalise_rows(X - means)

    def fit_transform(self, X, y=None, groups=None):
        return self.fit(X, groups).transform(X, groups)

    def transform_categories(self, C) -> np.ndarray:
        """Category vectors centred on the corpus mean, unit length."""
        return normalise_rows(np.asarray(C, dtype=np.float64) - self.mean_)
