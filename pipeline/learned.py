"""The learned coder: recognises paraphrases that share no keyword with the codebook.

A one-vs-rest logistic regression per code over two kinds of features: offline sentence
embeddings (multilingual USE by default) and TF-IDF over folded lemmas. It is trained on coded
units (a gold file, or a reviewed earlier round) plus the codebook's anchor examples.

Decision rule used by ``qda code --train``: a code is assigned when the rules fire (precision)
**or** the model's probability reaches ``threshold`` (recall). Model codings carry
``method=model`` and the probability as ``score``, so reviewers can sort them apart.

Follows scikit-learn's estimator contract: ``__init__`` only stores parameters, ``fit``
returns ``self``, fitted state ends in ``_``, ``get_params()`` feeds the run record.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator

from pipeline.embed import embed, lemma_text


class LearnedCoder(BaseEstimator):
    """Multi-label text classifier for codebook codes.

    Args:
        embedding: embedder name (``use``, ``tfidf``, ``none`` or ``st:PATH``).
        lexical: add TF-IDF features over folded lemmas.
        C: inverse regularisation strength of the logistic regressions.
        threshold: probability from which the model assigns a code.
        min_positive: codes with fewer positive examples are not learned (rules only).
        random_state: seed for the solver.
    """

    def __init__(self, embedding: str = "use", lexical: bool = True, C: float = 2.0, threshold: float = 0.6,
                 min_positive: int = 3, random_state: int = 0):
        self.embedding = embedding
        self.lexical = lexical
        self.C = C
        self.threshold = threshold
        self.min_positive = min_positive
        self.random_state = random_state

    def _features(self, texts: list[str], fit: bool = False):
        from scipy import sparse

        parts = []
        if self.embedding == "tfidf":
            from pipeline.errors import QdaError

            raise QdaError("the learned coder's embedding must be 'use', 'none' or 'st:PATH' ('tfidf' is fitted per call; the lexical features already cover it)")
        if self.embedding != "none":
            parts.append(sparse.csr_matrix(embed(texts, self.embedding)))
        if self.lexical:
            docs = [lemma_text(t) for t in texts]
            if fit:
                from sklearn.feature_extraction.text import TfidfVectorizer

                self.vectorizer_ = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
                parts.append(self.vectorizer_.fit_transform(docs))
            else:
                parts.append(self.vectorizer_.transform(docs))
        return sparse.hstack(parts).tocsr()

    def fit(self, texts: list[str], labels: list[list[str]], codes: list[str] | None = None) -> "LearnedCoder":
        """Fits one classifier per code with enough positive examples.

        Args:
            texts: unit texts.
            labels: per text the list of its codes (may be empty).
            codes: the codes to learn (default: every code in ``labels``).
        """
        from sklearn.linear_model import LogisticRegression

        codes = codes or sorted({c for row in labels for c in row})
        y_all = np.array([[c in set(row) for c in codes] for row in labels], dtype=int)
        X = self._features(list(texts), fit=True)
        self.codes_ = []
        self.classifiers_ = []
        self.n_positive_ = {}
        for j, code in enumerate(codes):
            y = y_all[:, j]
            self.n_positive_[code] = int(y.sum())
            if y.sum() < self.min_positive or y.sum() == len(y):
                continue
            clf = LogisticRegression(C=self.C, class_weight="balanced", max_iter=2000, random_state=self.random_state)
            clf.fit(X, y)
            self.codes_.append(code)
            self.classifiers_.append(clf)
        self.n_train_ = len(texts)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one column per learned code (``codes_``), rounded to 4 decimals."""
        if not texts:
            return np.zeros((0, len(self.codes_)))
        X = self._features(list(texts))
        probs = np.column_stack([clf.predict_proba(X)[:, 1] for clf in self.classifiers_]) if self.classifiers_ else np.zeros((len(texts), 0))
        return np.round(probs, 4)

    def describe(self) -> dict:
        return {"model": "LearnedCoder", "params": self.get_params(), "codes": list(self.codes_),
                "n_train": self.n_train_, "n_positive": self.n_positive_}


def training_data(segments, gold, codebook) -> tuple[list[str], list[list[str]]]:
    """Texts and code lists from gold-coded units plus the codebook's anchor examples."""
    text_of = dict(zip(segments["segment_id"].astype(str), segments["text"].astype(str)))
    texts, labels = [], []
    for sid, codes in gold.items():
        if sid in text_of and text_of[sid].strip():
            texts.append(text_of[sid])
            labels.append(sorted(codes))
    for code in codebook.codable():
        for example in code.anchor_examples:
            texts.append(example)
            labels.append([code.id])
    return texts, labels
