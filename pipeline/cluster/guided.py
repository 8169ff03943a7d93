"""Guided clustering: closed-set assignment of examples to the analyst's categories.

``CategoryMap`` follows scikit-learn's estimator contract. The steps of ``fit``:

1. **Embed** the examples and the categories (each category's card — label, description and
   seed terms as one text —, each seed term, each typical example) with one embedder.
2. **Remove the theme**: each example minus its group's mean (the network), categories minus
   the corpus mean (:mod:`pipeline.cluster.theme`).
3. **Prior**: cosine similarity of each example to the card, to the seed terms (mean) and to
   the nearest typical example, each z-scored per category over the corpus and averaged;
   plus ``lexical_weight`` for every seed term that occurs in the example (lemmas and compound
   parts, at most two counted).
4. **Self-training**: a logistic regression is trained on the most confident examples of each
   category (30 % in the first round, 90 % in the last, ``rounds`` rounds), on the analyst's
   labelled and typical examples and on the cards; after each round an example's score is the
   classifier's log-probability plus ``prior_weight`` × prior.
5. **Second opinions**: the same method, fitted again on other representations of the texts
   (``second_opinions``, by default the two of ``e5``, ``use`` and lemma ``tfidf`` that are
   not ``embedding``). They are not voted in: they only say how sure the assignment is.
6. **Decide**: the category with the highest score; ``score`` is its softmax probability,
   ``margin`` the distance to the second, ``agree`` the number of second opinions that chose
   the same category, ``alternative`` what they chose instead. ``uncertain`` when no second
   opinion agrees, or when the margin is below ``uncertain_margin`` (default: 0.25 without
   second opinions, off with them). Why second opinions rather than the margin: on the dev
   examples, flagging the 26 % that no second opinion confirms left 76 % of the rest right;
   flagging 28 % by margin left 73 % (one model's margin is overconfident where the model is
   wrong: its errors are systematic, a different representation makes other ones).
   An example goes to ``other_label`` only when it is far from every category: no seed term
   occurs in it, and for every category its prior lies more than ``-other_threshold`` standard
   deviations below the mean prior of the examples assigned to that category with confidence
   (margin ≥ 0.25).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from pipeline.cluster.categories import Category
from pipeline.cluster.seeds import seed_hits
from pipeline.cluster.theme import ThemeRemover
from pipeline.errors import QdaError

OTHER = "Sonstige / nicht zugeordnet"
AUTO = "auto"
VIEWS = ("e5", "use", "tfidf")  # what ``second_opinions="auto"`` picks from
SURE_MARGIN = 0.25  # members with at least this margin define a category's typical prior ("other")


def as_texts(X, minimum: int = 2) -> list[str]:
    """``X`` (a list, Series or array of texts) as a list of non-empty strings.

    Args:
        minimum: how many texts are needed (2 to fit; a fitted map assigns a single one).

    Raises:
        QdaError: a text is empty or not a string, or there are fewer than ``minimum``.
    """
    texts = [x if isinstance(x, str) else "" for x in (X.tolist() if hasattr(X, "tolist") else list(X))]
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise QdaError(f"text {empty[0]} of {len(texts)} is empty or not a string; drop empty texts before clustering")
    if len(texts) < minimum:
        raise QdaError(f"{len(texts)} text(s) given; {'clustering' if minimum > 1 else 'assigning'} needs at least {minimum}")
    return texts


def _zscore(raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(raw - mean) / std``, leaving values unscaled where ``std`` is 0."""
    return (raw - mean) / np.where(std > 0, std, 1.0)


def _column_stats(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the texts (axis 1), ignoring NaN; 0 and 1 where a
    category has no value at all (no seed terms, no examples)."""
    ok = ~np.isnan(raw)
    count = ok.sum(axis=1, keepdims=True)
    filled = np.where(ok, raw, 0.0)
    mean = filled.sum(axis=1, keepdims=True) / np.maximum(count, 1)
    var = (np.where(ok, raw - mean, 0.0) ** 2).sum(axis=1, keepdims=True) / np.maximum(count, 1)
    return mean, np.where(count > 0, np.sqrt(var), 1.0)


def _softmax(t: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    e = np.exp(t - t.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _top_two(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: index of the best column, its value, and its distance to the second best."""
    best = p.argmax(axis=1)
    s = np.sort(p, axis=1)
    second = s[:, -2] if p.shape[1] > 1 else np.zeros(len(p))
    return best, s[:, -1], s[:, -1] - second


def _confident(scores: np.ndarray, share: float) -> np.ndarray:
    """Per category, the ``share`` of its current members with the largest margin."""
    lab, _, margin = _top_two(scores)
    keep = np.zeros(len(scores), dtype=bool)
    for j in range(scores.shape[1]):
        idx = np.nonzero(lab == j)[0]
        if len(idx):
            keep[idx[margin[idx] >= np.quantile(margin[idx], 1 - share)]] = True
    return keep


def _alternative(cluster: np.ndarray, votes: list[np.ndarray], classes: np.ndarray) -> np.ndarray:
    """Per text the category the second opinions chose instead ("" when all agree): the one
    chosen most often, on a tie the first opinion's."""
    out = np.full(len(cluster), "", dtype=object)
    for i in range(len(cluster)):
        other = [int(v[i]) for v in votes if v[i] != cluster[i]]
        if other:
            out[i] = classes[max(other, key=lambda c: (other.count(c), -other.index(c)))]
    return out


class _TextMap:
    """What :class:`CategoryMap` and :class:`~pipeline.cluster.unguided.TopicMap` share once
    fitted: both embed texts, remove the theme (``theme_``) and ``assign`` them to a cluster."""

    _fitted_attribute: str  # an attribute ``fit`` sets: without it, the map is not fitted

    def predict(self, X, groups=None) -> np.ndarray:
        """The cluster per text (index into ``classes_`` for a CategoryMap)."""
        return self.assign(X, groups)["cluster"].to_numpy()

    def fit_predict(self, X, y=None, groups=None, on_event=None) -> np.ndarray:
        """``fit`` and the training texts' clusters (labelled texts keep their label)."""
        return self.fit(X, y, groups=groups, on_event=on_event).labels_

    def transform(self, X, groups=None) -> np.ndarray:
        """The theme-removed embeddings of ``X`` (what the map is drawn from)."""
        check_is_fitted(self, self._fitted_attribute)
        return self.theme_.transform(self.embedder_(as_texts(X, minimum=1)), groups)


class CategoryMap(_TextMap, ClusterMixin, BaseEstimator):
    """Assigns texts to given categories (see the module docstring for the method).

    Args:
        categories: the :class:`Category` list (at least two, unique labels).
        embedding: embedder name (``use``, ``e5``, ``tfidf`` or ``st:PATH``).
        remove_theme: subtract each group's mean embedding (else only the corpus mean).
        lexical_weight: prior added per occurring seed term (at most two counted).
        prior_weight: weight of the prior next to the classifier's log-probability.
        example_weight: weight of the analyst's labelled and typical examples (and of the
            category cards) in the classifier, next to 1 for each self-labelled example.
        rounds: self-training rounds.
        C: inverse regularisation of the logistic regression.
        uncertain_margin: probability margin below which an assignment is flagged uncertain
            (None: 0.25 without second opinions, 0 — only their disagreement — with them).
        second_opinions: embedder names of the second opinions, ``"auto"`` (the two of e5, use,
            tfidf that are not ``embedding``) or ``()`` for none.
        other_threshold: how far (in standard deviations of the confident members' prior) an
            example must lie below every category's members to count as "other".
        other_label: the label of examples far from every category.
        random_state: seed of the solver (the method has no other random step).

    Fitted attributes:
        classes_: category labels, then ``other_label``.
        labels_: index into ``classes_`` per training text.
        assignments_: DataFrame per training text (cluster, label, score, margin, agree,
            alternative, uncertain, other).
        second_opinions_: the fitted CategoryMaps of the second opinions.
        classifier_, theme_, embedder_: the fitted parts.
    """

    _fitted_attribute = "classifier_"

    def __init__(self, categories=(), *, embedding: str = "e5", remove_theme: bool = True, lexical_weight: float = 1.0,
                 prior_weight: float = 0.5, example_weight: float = 1.0, rounds: int = 5, C: float = 1.0, uncertain_margin: float | None = None,
                 second_opinions=AUTO, other_threshold: float = -2.0, other_label: str = OTHER, random_state=None):
        self.categories = categories
        self.embedding = embedding
        self.remove_theme = remove_theme
        self.lexical_weight = lexical_weight
        self.prior_weight = prior_weight
        self.example_weight = example_weight
        self.rounds = rounds
        self.C = C
        self.uncertain_margin = uncertain_margin
        self.second_opinions = second_opinions
        self.other_threshold = other_threshold
        self.other_label = other_label
        self.random_state = random_state

    # --- fitting ------------------------------------------------------------------------------

    def _check_categories(self) -> list[Category]:
        cats = [c if isinstance(c, Category) else Category(str(c)) for c in self.categories]
        labels = [c.label for c in cats]
        if len(cats) < 2:
            raise QdaError(f"guided clustering needs at least two categories, got {len(cats)}")
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise QdaError(f"category label(s) given twice: {', '.join(dup)}")
        if self.other_label in labels:
            raise QdaError(f"'{self.other_label}' is reserved for examples far from every category; rename that category")
        return cats

    def _views(self) -> list[str]:
        """The embedder names of the second opinions (never ``embedding`` itself).

        Raises:
            QdaError: ``second_opinions`` is a single string other than "auto", or names the
                embedding the map itself uses (a second opinion would repeat the first).
        """
        if self.second_opinions == AUTO:
            return [v for v in VIEWS if v != self.embedding][:2]
        views = self.second_opinions or ()
        if isinstance(views, str):
            raise QdaError(f"second_opinions must be 'auto' or a list of embedder names, not {views!r}")
        if self.embedding in views:
            raise QdaError(f"the second opinions name '{self.embedding}', the embedding the assignment itself uses; "
                           "name other embedders (e5, use, tfidf) or 'auto'")
        return list(dict.fromkeys(views))

    def _margin(self) -> float:
        """The margin below which an example is uncertain, resolved (see ``uncertain_margin``)."""
        if self.uncertain_margin is not None:
            return float(self.uncertain_margin)
        return 0.0 if self._views() else SURE_MARGIN

    def _fit_second_opinions(self, texts: list[str], y, groups, on_event=None) -> list:
        maps = []
        for view in self._views():
            if on_event:
                on_event(f"second opinion: the same categories on {view} embeddings")
            maps.append(clone(self).set_params(embedding=view, second_opinions=()).fit(texts, y, groups=groups))
        return maps

    def _fixed_labels(self, y, n: int, labels: list[str]) -> np.ndarray:
        """Index of the analyst's label per text, -1 where there is none."""
        fixed = np.full(n, -1, dtype=np.int64)
        if y is None:
            return fixed
        y = list(y)
        if len(y) != n:
            raise QdaError(f"{len(y)} labels for {n} texts")
        for i, v in enumerate(y):
            v = "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
            if v and v not in labels:
                raise QdaError(f"label '{v}' of text {i} is not a category; categories: {', '.join(labels)}")
            if v:
                fixed[i] = labels.index(v)
        return fixed

    def _fit_category_space(self, cats: list[Category], texts: list[str], groups) -> np.ndarray:
        """Embeds texts and category texts; sets ``embedder_``, ``theme_``, the category vectors."""
        from pipeline.embed import fitted_embedder

        extra = [c.card() for c in cats] + [t for c in cats for t in (*c.seed_terms, *c.examples)]
        self.embedder_ = fitted_embedder(self.embedding, texts + extra, random_state=self.random_state or 0)
        self.embedder_(texts + extra)  # one batch: model embedders keep every row in their cache
        self.theme_ = ThemeRemover(by_group=self.remove_theme).fit(self.embedder_(texts), groups)
        self.card_vectors_ = self.theme_.transform_categories(self.embedder_([c.card() for c in cats]))
        self.seed_vectors_ = [self.theme_.transform_categories(self.embedder_(list(c.seed_terms))) if c.seed_terms else None for c in cats]
        self.example_vectors_ = [self.theme_.transform_categories(self.embedder_(list(c.examples))) if c.examples else None for c in cats]
        return self.theme_.transform(self.embedder_(texts), groups)

    def _raw_parts(self, Z: np.ndarray) -> np.ndarray:
        """``(3, n, k)`` cosine similarities to card, seed terms (mean), typical examples (the
        nearest); NaN where a category has no seed terms or no examples."""
        k = len(self.card_vectors_)
        parts = np.full((3, len(Z), k), np.nan)
        parts[0] = Z @ self.card_vectors_.T
        for j in range(k):
            if self.seed_vectors_[j] is not None:
                parts[1, :, j] = (Z @ self.seed_vectors_[j].T).mean(axis=1)
            if self.example_vectors_[j] is not None:
                # the nearest typical example: a category may gather quite different examples
                parts[2, :, j] = (Z @ self.example_vectors_[j].T).max(axis=1)
        return parts

    def _prior(self, Z: np.ndarray) -> np.ndarray:
        z = _zscore(self._raw_parts(Z), self.part_mean_, self.part_std_)
        return np.nanmean(z, axis=0)

    def _hits(self, texts: list[str]) -> np.ndarray:
        return np.minimum(seed_hits(texts, [list(c.seed_terms) for c in self.categories_]), 2).astype(float)

    def _train_rows(self, cats: list[Category]) -> tuple[np.ndarray, np.ndarray]:
        """Cards and typical examples as labelled rows (every category has at least its card)."""
        rows, ys = [self.card_vectors_], list(range(len(cats)))
        for j, v in enumerate(self.example_vectors_):
            if v is not None:
                rows.append(v)
                ys += [j] * len(v)
        return np.vstack(rows), np.array(ys, dtype=np.int64)

    def _self_train(self, Z: np.ndarray, S0: np.ndarray, fixed: np.ndarray, on_event=None) -> np.ndarray:
        extra_X, extra_y = self._train_rows(self.categories_)
        k = S0.shape[1]
        scores = S0.copy()
        for r in range(self.rounds):
            share = 0.3 + 0.6 * r / max(1, self.rounds - 1)
            scores[fixed >= 0] = np.eye(k)[fixed[fixed >= 0]] * 1e3
            keep = _confident(scores, share) | (fixed >= 0)
            X = np.vstack([Z[keep], extra_X])
            y = np.concatenate([scores[keep].argmax(axis=1), extra_y])
            w = np.concatenate([np.where(fixed[keep] >= 0, self.example_weight, 1.0), np.full(len(extra_y), self.example_weight)])
            self.classifier_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000,
                                                  random_state=self.random_state).fit(X, y, sample_weight=w)
            scores = self._scores(Z, S0)
            if on_event:
                on_event(f"self-training round {r + 1}/{self.rounds}: {int(keep.sum())} example(s) as training data")
        return scores

    def _scores(self, Z: np.ndarray, S0: np.ndarray) -> np.ndarray:
        p = np.full((len(Z), S0.shape[1]), 1e-6)
        p[:, self.classifier_.classes_] = np.maximum(self.classifier_.predict_proba(Z), 1e-6)
        return np.log(p) + self.prior_weight * S0

    def fit(self, X, y=None, groups=None, on_event=None):
        """Fits the map to texts ``X`` (with per-text ``groups`` and optional partial labels ``y``).

        Args:
            X: the texts.
            y: per text a category label or "" (the analyst's labels; kept as given).
            groups: per text its theme group (e.g. the network), or None.
            on_event: optional callback receiving progress messages.

        Returns:
            self

        Raises:
            QdaError: fewer than two categories or texts, an empty text, a label that is no category.
        """
        texts = as_texts(X)
        self.categories_ = cats = self._check_categories()
        self._views()  # a bad second_opinions is refused before any work
        labels = [c.label for c in cats]
        fixed = self._fixed_labels(y, len(texts), labels)
        if on_event:
            on_event(f"embedding {len(texts)} text(s) and {len(cats)} categories ({self.embedding})")
        Z = self._fit_category_space(cats, texts, groups)
        self.part_mean_, self.part_std_ = _column_stats(self._raw_parts(Z))
        prior = self._prior(Z)
        hits = self._hits(texts)
        S0 = prior + self.lexical_weight * hits
        scores = self._self_train(Z, S0, fixed, on_event)
        self.classes_ = np.array(labels + [self.other_label], dtype=object)
        self.member_mean_, self.member_std_ = self._member_stats(scores, prior)
        self.second_opinions_ = self._fit_second_opinions(texts, y, groups, on_event)
        votes = [m.assignments_["cluster"].to_numpy() for m in self.second_opinions_]
        self.assignments_ = self._decide(scores, prior, hits, votes, fixed)
        self.labels_ = self.assignments_["cluster"].to_numpy()
        return self

    # --- deciding -----------------------------------------------------------------------------

    def _member_stats(self, scores: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per category the mean and standard deviation of the prior of its confident members
        (all members when fewer than three are confident; the whole corpus when none)."""
        best, _, margin = _top_two(_softmax(scores))
        k = prior.shape[1]
        mean, std = prior.mean(axis=0), prior.std(axis=0)
        for j in range(k):
            sure = (best == j) & (margin >= SURE_MARGIN)
            members = sure if sure.sum() >= 3 else best == j
            if members.sum() >= 2:
                mean[j], std[j] = prior[members, j].mean(), prior[members, j].std()
        return mean, np.where(std > 0, std, 1.0)

    def _decide(self, scores: np.ndarray, prior: np.ndarray, hits: np.ndarray, votes: list[np.ndarray],
                fixed: np.ndarray | None = None) -> pd.DataFrame:
        """The table of ``assignments_``; ``votes`` holds each second opinion's cluster per text."""
        k = scores.shape[1]
        best, score, margin = _top_two(_softmax(scores))
        below = (prior - self.member_mean_) / self.member_std_
        other = (below.max(axis=1) < self.other_threshold) & (hits.sum(axis=1) == 0)
        cluster = np.where(other, k, best)
        agree = np.sum([v == cluster for v in votes], axis=0, dtype=np.int64) if votes else np.zeros(len(cluster), dtype=np.int64)
        uncertain = ((margin < self._margin()) | ((agree == 0) & bool(votes))) & ~other
        if fixed is not None:
            cluster = np.where(fixed >= 0, fixed, cluster)
            uncertain &= fixed < 0
            agree = np.where(fixed >= 0, len(votes), agree)  # the analyst's label is not questioned
        return pd.DataFrame({"cluster": cluster.astype(np.int64), "label": self.classes_[cluster],
                             "score": np.round(score, 4), "margin": np.round(margin, 4), "agree": agree,
                             "alternative": _alternative(cluster, votes, self.classes_),
                             "uncertain": uncertain, "other": other & (cluster == k)})

    def assign(self, X, groups=None) -> pd.DataFrame:
        """Per text: ``cluster`` (index into ``classes_``), ``label``, ``score``, ``margin``,
        ``agree``, ``alternative``, ``uncertain``, ``other``.

        Raises:
            NotFittedError: before ``fit``.
        """
        check_is_fitted(self, "classifier_")
        texts = as_texts(X, minimum=1)
        Z = self.theme_.transform(self.embedder_(texts), groups)
        prior = self._prior(Z)
        hits = self._hits(texts)
        votes = [m.assign(texts, groups)["cluster"].to_numpy() for m in self.second_opinions_]
        return self._decide(self._scores(Z, prior + self.lexical_weight * hits), prior, hits, votes)

    def record(self) -> dict:
        """The parameters used, for run.json (categories by label)."""
        params = self.get_params()
        params["categories"] = [c.label if isinstance(c, Category) else str(c) for c in self.categories]
        params["uncertain_margin"] = self._margin()
        params["second_opinions"] = self._views()
        return {"method": "guided", **params,
                "self_training": {"confident_share": [0.3, 0.9], "classifier": "logistic regression, balanced classes"}}
