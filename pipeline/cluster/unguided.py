"""Unguided clustering: discover categories with BERTopic, offline.

``TopicMap`` follows scikit-learn's estimator contract. The steps of ``fit``:

1. **Embed** and **remove the theme** as in guided mode (:mod:`pipeline.cluster.theme`).
2. **Reduce** with UMAP (``random_state`` and ``init="random"``, so repeated short answers
   cannot make the spectral start random); skipped below 10 texts.
3. **Choose k** when ``n_clusters`` is not given: k-means for every k from 2 to
   ``max_clusters`` on the reduced embeddings; the k with the highest silhouette (on a seeded
   sample of 2,000 texts when there are more) among those whose smallest cluster has at least
   ``min_cluster_size`` texts wins (ties: the smaller k).
4. **Cluster** with BERTopic (no embedding model, so nothing is downloaded; the reduction of
   step 2, k-means with k clusters). Clusters are numbered by size, largest first.
5. An example is **uncertain** when its nearest cluster centre in the theme-removed embedding
   space is not its own cluster's; ``margin`` is the cosine distance between the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from pipeline.cluster.guided import _TextMap, as_texts
from pipeline.cluster.theme import ThemeRemover, normalise_rows
from pipeline.errors import QdaError

UMAP_FROM = 10  # fewer texts: cluster the embeddings themselves
SILHOUETTE_SAMPLE = 2000  # silhouette costs n² distances: above this, a seeded sample


def _umap_params(n: int, seed) -> dict:
    """UMAP's parameters for ``n`` texts (also what run.json records)."""
    return {"n_neighbors": min(15, n - 1), "n_components": min(5, n - 2), "min_dist": 0.0, "metric": "cosine",
            "init": "random", "random_state": seed}


def _choose_k(R: np.ndarray, max_k: int, min_size: int, seed) -> tuple[int, dict[int, float]]:
    """The k with the best silhouette whose smallest k-means cluster has ``min_size`` texts."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    scores: dict[int, float] = {}
    for k in range(2, max_k + 1):
        lab = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(R)
        if np.bincount(lab).min() >= min_size and len(set(lab.tolist())) > 1:
            scores[k] = round(float(silhouette_score(R, lab, sample_size=min(len(R), SILHOUETTE_SAMPLE), random_state=seed)), 4)
    if not scores:
        return 2, scores
    best = max(scores.values())
    return min(k for k, s in scores.items() if s == best), scores


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Renumbers clusters by size (largest first, ties by first appearance)."""
    ids = sorted(set(labels.tolist()))
    first = {c: int(np.nonzero(labels == c)[0][0]) for c in ids}
    order = sorted(ids, key=lambda c: (-int((labels == c).sum()), first[c]))
    renum = {c: i for i, c in enumerate(order)}
    return np.array([renum[c] for c in labels.tolist()], dtype=np.int64)


class TopicMap(_TextMap, ClusterMixin, BaseEstimator):
    """Finds categories in texts without guidance (see the module docstring for the method).

    Args:
        n_clusters: the number of categories; None chooses it by silhouette.
        embedding: embedder name (``use``, ``e5``, ``tfidf`` or ``st:PATH``).
        remove_theme: subtract each group's mean embedding (else only the corpus mean).
        min_cluster_size: smallest category allowed when k is chosen (default ~2 % of the
            texts, at least 3).
        max_clusters: largest k tried when k is chosen.
        random_state: seed of UMAP and k-means.

    Fitted attributes:
        labels_: cluster per training text (0 = largest).
        centres_: unit-length cluster centres in the theme-removed embedding space.
        k_: the number of clusters; k_scores_: silhouette per k tried (empty when given).
        assignments_: DataFrame per training text (cluster, score, margin, uncertain, other).
        umap_params_: the UMAP parameters used (None when UMAP was skipped).
    """

    _fitted_attribute = "centres_"

    def __init__(self, n_clusters=None, *, embedding: str = "e5", remove_theme: bool = True, min_cluster_size=None,
                 max_clusters: int = 12, random_state=None):
        self.n_clusters = n_clusters
        self.embedding = embedding
        self.remove_theme = remove_theme
        self.min_cluster_size = min_cluster_size
        self.max_clusters = max_clusters
        self.random_state = random_state

    def _reduce(self, Z: np.ndarray) -> np.ndarray:
        n = len(Z)
        if n < UMAP_FROM:
            self.umap_params_ = None
            return Z
        from umap import UMAP

        self.umap_params_ = _umap_params(n, self.random_state)
        # float32 rows rounded like every embedding: on 10,000 texts CPU time 149 s → 111 s (one run each)
        return UMAP(**self.umap_params_, n_jobs=1, low_memory=True).fit_transform(np.round(Z, 6).astype(np.float32))

    def _cluster(self, texts: list[str], R: np.ndarray, k: int) -> np.ndarray:
        from bertopic import BERTopic
        from bertopic.dimensionality import BaseDimensionalityReduction
        from sklearn.cluster import KMeans

        model = BERTopic(embedding_model=None, umap_model=BaseDimensionalityReduction(),
                         hdbscan_model=KMeans(n_clusters=k, random_state=self.random_state, n_init=10),
                         language="multilingual", calculate_probabilities=False, verbose=False, low_memory=True)
        topics, _ = model.fit_transform(texts, embeddings=R)
        return np.asarray(topics, dtype=np.int64)

    def fit(self, X, y=None, groups=None, on_event=None):
        """Fits the map to texts ``X`` (``y`` is ignored; ``groups`` per text, or None).

        Returns:
            self

        Raises:
            QdaError: fewer than three texts, or ``n_clusters`` not below the number of texts.
        """
        from pipeline.embed import fitted_embedder

        texts = as_texts(X)
        n = len(texts)
        if n < 3:
            raise QdaError(f"only {n} non-empty unit(s) selected; clustering needs at least 3")
        if self.n_clusters is not None and self.n_clusters >= n:
            raise QdaError(f"{n} unit(s) cannot form {self.n_clusters} clusters; ask for fewer with --n-clusters")
        if on_event:
            on_event(f"embedding {n} text(s) ({self.embedding})")
        self.embedder_ = fitted_embedder(self.embedding, texts, random_state=self.random_state or 0)
        self.theme_ = ThemeRemover(by_group=self.remove_theme).fit(self.embedder_(texts), groups)
        Z = self.theme_.transform(self.embedder_(texts), groups)
        R = self._reduce(Z)
        self.min_cluster_size_ = self.min_cluster_size or max(3, round(n * 0.02))
        # one thread for k-means: on a busy machine OpenMP's threads wait for each other (30×
        # slower measured with 2 cores shared), and one thread gives the same result everywhere
        with threadpool_limits(1):
            if self.n_clusters is None:
                if on_event:
                    on_event(f"choosing k from 2 to {min(self.max_clusters, n - 1)} by silhouette")
                self.k_, self.k_scores_ = _choose_k(R, min(self.max_clusters, n - 1), self.min_cluster_size_, self.random_state)
            else:
                self.k_, self.k_scores_ = int(self.n_clusters), {}
            self.labels_ = _by_size(self._cluster(texts, R, self.k_))
        self.k_ = int(self.labels_.max()) + 1  # k-means on repeated texts may leave fewer distinct clusters
        self.centres_ = normalise_rows(np.vstack([Z[self.labels_ == c].mean(axis=0) for c in range(self.k_)]))
        self.classes_ = np.arange(self.k_)
        self.assignments_ = self._decide(Z, self.labels_)
        return self

    def _decide(self, Z: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
        sims = Z @ self.centres_.T
        own = sims[np.arange(len(Z)), labels]
        others = np.where(np.eye(self.k_, dtype=bool)[labels], -np.inf, sims).max(axis=1) if self.k_ > 1 else own
        return pd.DataFrame({"cluster": labels.astype(np.int64), "score": np.round(own, 4), "margin": np.round(own - others, 4),
                             "uncertain": own < others, "other": np.zeros(len(Z), dtype=bool)})

    def assign(self, X, groups=None) -> pd.DataFrame:
        """New texts go to the nearest cluster centre (columns as in ``assignments_``).

        Raises:
            NotFittedError: before ``fit``.
        """
        check_is_fitted(self, "centres_")
        Z = self.theme_.transform(self.embedder_(as_texts(X, minimum=1)), groups)
        return self._decide(Z, (Z @ self.centres_.T).argmax(axis=1))

    def record(self) -> dict:
        """The parameters used, for run.json."""
        return {"method": "unguided", **self.get_params(), "k": int(self.k_), "k_criterion": "silhouette of k-means on the UMAP embedding"
                if self.n_clusters is None else "given", "k_scores": {str(k): s for k, s in self.k_scores_.items()},
                "min_cluster_size_used": int(self.min_cluster_size_), "umap": self.umap_params_}
