"""Clustering innovation examples into overarching categories, reproducibly and offline.

* :class:`CategoryMap` (``guided``): closed-set assignment to the analyst's categories with a
  score, a margin, an ``uncertain`` flag and "Sonstige / nicht zugeordnet" for examples far
  from every category.
* :class:`TopicMap` (``unguided``): categories discovered with BERTopic (seeded UMAP, k-means,
  k chosen by silhouette), described by c-TF-IDF over lemmas.
* :func:`cluster_units`: texts in, assignments + cluster table + map coordinates + the
  record of the parameters used out.

Both estimators follow scikit-learn's contract and share the embedding registry
(:mod:`pipeline.embed`) and the theme removal (:mod:`pipeline.cluster.theme`).
"""

from pipeline.cluster.api import ClusterResult, cluster_units, make_estimator
from pipeline.cluster.categories import (
    Category,
    categories_from_codebook,
    categories_from_labels,
    read_categories,
)
from pipeline.cluster.evaluate import compare_with_gold, silhouette, stability
from pipeline.cluster.guided import OTHER, CategoryMap
from pipeline.cluster.select import apply_where, parse_where
from pipeline.cluster.theme import ThemeRemover, remove_group_means
from pipeline.cluster.unguided import TopicMap

__all__ = [
    "OTHER", "Category", "CategoryMap", "ClusterResult", "ThemeRemover", "TopicMap", "apply_where", "categories_from_codebook",
    "categories_from_labels", "cluster_units", "compare_with_gold", "make_estimator", "parse_where", "read_categories",
    "remove_group_means", "silhouette", "stability",
]
