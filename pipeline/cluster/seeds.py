"""Seed-term matching on lemmas and compound parts (never on substrings).

A seed term matches a text when its folded lemma is the lemma of a word of the text, or a
part of a compound noun of the text (``Portal`` in ``Beteiligungsportal``), and a seed phrase
(``Leichte Sprache``) when its words' lemmas follow each other. ``Rat`` does not match
``Beratung`` and ``Form`` does not match ``Formular``: the compound splitter only accepts
splits into dictionary words, and only capitalised words (nouns) are split.
"""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß0-9][\wÄÖÜäöüß:*\-]*")


def _keys(token: str) -> frozenset[str]:
    """Match keys of one word: its folded lemma and surface, and for nouns its compound parts."""
    from pipeline.nlp import compound_keys, fold, lemmatize

    keys = {fold(lemmatize(token)), fold(token)}
    if token[:1].isupper():
        keys.update(compound_keys(token))
    return frozenset(keys)


def text_keys(text: str) -> list[frozenset[str]]:
    """Per word of ``text`` (in order) the set of keys a seed term may match."""
    return [_keys(t) for t in (w.strip(":*-") for w in _WORD.findall(text)) if t]


def term_key(term: str) -> tuple[str, ...]:
    """The folded lemmas of a seed term's words (one for a word, several for a phrase)."""
    from pipeline.nlp import fold, lemmatize

    return tuple(fold(lemmatize(t)) for t in (w.strip(":*-") for w in _WORD.findall(term)) if t)


def _occurs(key: tuple[str, ...], words: list[frozenset[str]]) -> bool:
    """Do the seed term's lemmas occur in ``words`` one after the other?"""
    n = len(key)
    return any(all(key[q] in words[p + q] for q in range(n)) for p in range(len(words) - n + 1))


def seed_hits(texts: list[str], seed_terms: list[tuple[str, ...]] | list[list[str]]) -> np.ndarray:
    """How many of each category's seed terms occur in each text.

    Args:
        texts: the examples.
        seed_terms: per category its seed terms.

    Returns:
        An ``(len(texts), len(seed_terms))`` integer matrix.
    """
    keys = [[k for k in (term_key(t) for t in terms) if k] for terms in seed_terms]
    out = np.zeros((len(texts), len(keys)), dtype=np.int64)
    for i, text in enumerate(texts):
        words = text_keys(text)
        for j, cat_keys in enumerate(keys):
            out[i, j] = sum(_occurs(k, words) for k in cat_keys)
    return out
