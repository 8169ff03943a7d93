"""Cluster descriptions: c-TF-IDF (BERTopic's class-based TF-IDF) over lemmas."""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """German stop words, spoken fillers and light verbs, folded."""
    from spacy.lang.de.stop_words import STOP_WORDS

    from pipeline.nlp import fold

    extra = {"z.b", "bzw", "usw", "etc", "ca", "ggf", "mal", "halt", "eigentlich", "ja", "ne", "äh", "ähm", "also", "gut", "neu", "uns", "bei",
             "ans", "anderer", "konkret", "beispiel", "fest", "laufen", "gerade", "eher", "bisschen", "ganz", "sowas",
             # spoken fillers and light verbs say nothing about a category
             "irgendwie", "einfach", "eben", "sozusagen", "quasi", "natürlich", "wirklich", "gerne", "genau", "okay",
             "geben", "machen", "sagen", "finden", "gehen", "kommen", "sehen", "lassen", "stehen", "bringen", "nehmen"}
    return frozenset(fold(w) for w in STOP_WORDS | extra)


def lemma_words(text: str) -> str:
    """The text's content words as lower-case lemmas (umlauts kept, stop words dropped)."""
    from pipeline.embed import _WORD
    from pipeline.nlp import fold, lemmatize

    stop = stop_words()
    lemmas = (lemmatize(x.strip(":*-")).lower() for x in _WORD.findall(text))
    return " ".join(w for w in lemmas if fold(w) not in stop and len(w) > 1)


def topic_words(texts: list[str], labels, top_n: int = 8) -> dict[int, list[str]]:
    """Per cluster id its ``top_n`` words and word pairs by c-TF-IDF over lemmas."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    labels = np.asarray(labels)
    ids = sorted(set(labels.tolist()))
    lemmatised = [lemma_words(t) for t in texts]
    docs = [" ".join(w for w, lab in zip(lemmatised, labels) if lab == c) for c in ids]
    vec = CountVectorizer(token_pattern=r"(?u)\b[^\W\d_][\w\-:*]+\b", ngram_range=(1, 2), min_df=1, lowercase=False)
    try:
        counts = vec.fit_transform(docs)
    except ValueError:  # no word left (all stop words)
        return {c: [] for c in ids}
    ctfidf = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(counts)
    vocab = np.array(vec.get_feature_names_out())
    out = {}
    for row, c in enumerate(ids):
        scores = ctfidf[row].toarray().ravel()
        order = np.lexsort((vocab, -scores))
        out[c] = [str(vocab[i]) for i in order[:top_n] if scores[i] > 0]
    return out
