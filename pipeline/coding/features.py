"""What the verifier sees of a (unit, code) pair.

Three blocks, all computed from what the coder already has (the parse and the judged rule
hits), so verifying adds little to coding:

* **rule features** per (unit, code): did a hit stand, how many, of which pattern kind; was
  a hit taken back and why (negated, wish, foil, excluded, a failed condition …); is the
  unit's question about the code's dimension; how many codes of this and of other dimensions
  stood in the unit; interview turn or answer; length.
* **patterns** per code: which of the code's patterns stood (sparse, one column per pattern),
  so the verifier learns that one pattern is reliable and another is not.
* **lexical**: TF-IDF over the unit's folded lemmas (vocabulary fitted on the training units).
* **embedding** (optional): the unit's sentence embedding, and its cosine similarity to the
  code's anchor examples and definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from pipeline.codebook.model import Codebook

STATUSES = ("negated", "hypothetical", "no_problem", "wish", "foil", "no_benefit", "excluded", "require", "unless", "scope")
KINDS = ("term", "glob", "phrase", "near", "regex")
RULE_FEATURES = ("acc", "n_acc", *[f"kind_{k}" for k in KINDS], *[f"back_{s}" for s in STATUSES],
                 "q_in", "q_out", "same_dim", "other_dim", "interview", "log_len", "sim_anchor", "sim_def")


@dataclass
class UnitData:
    """The units to verify: their lemmas (as arrays), kinds, question dimensions and judged hits.

    ``words`` are the distinct lemmas of the units (match keys of more than one character with
    a letter); ``tok_unit``/``tok_word`` give, per counted token, its unit and its entry in
    ``words``. Kept as arrays so a million answers cost no Python loop per token.
    """

    n_units: int
    words: list[str]
    tok_unit: np.ndarray
    tok_word: np.ndarray
    interview: np.ndarray  # bool per unit
    questions: list  # set of dimensions or None per unit
    assessed: pd.DataFrame  # columns unit (0..n-1), code, status, kind, pattern
    texts: list[str]

    @property
    def lengths(self) -> np.ndarray:
        """Counted tokens per unit."""
        return np.bincount(self.tok_unit, minlength=self.n_units)


def unit_data(assessment) -> UnitData:
    """:class:`UnitData` of the eligible units of a :class:`~pipeline.coding.coder.Assessment`."""
    table = assessment.table
    n = len(table)
    if table.n_tokens:
        hashes, inverse = np.unique(table.norm, return_inverse=True)
        strings = [table.strings.get(h, "") for h in hashes.tolist()]
        keep = np.array([len(w) > 1 and any(ch.isalpha() for ch in w) for w in strings], dtype=bool)
        counted = keep[inverse.ravel()]
        tok_unit = table.unit_of(np.nonzero(counted)[0]).astype(np.int64)
        tok_word = inverse.ravel()[counted].astype(np.int64)
    else:
        strings, tok_unit, tok_word = [], np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    seg = assessment.segments.iloc[assessment.idx]
    interview = seg["kind"].astype(str).eq("interview").to_numpy() if "kind" in seg else np.zeros(len(seg), dtype=bool)
    return UnitData(n, strings, tok_unit, tok_word, interview, list(assessment.questions), assessment.assessed, list(table.texts))


class Lexicon:
    """A TF-IDF vocabulary over lemmas, stored as plain arrays (terms and idf)."""

    def __init__(self, terms: list[str], idf: np.ndarray):
        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.index = {t: i for i, t in enumerate(self.terms)}

    @classmethod
    def fit(cls, data: UnitData, min_df: int = 2) -> "Lexicon":
        """Terms in at least ``min_df`` units, sorted; smoothed idf as scikit-learn's."""
        pairs = np.unique(np.stack([data.tok_unit, data.tok_word]), axis=1) if len(data.tok_unit) else np.zeros((2, 0), dtype=np.int64)
        df = np.bincount(pairs[1], minlength=len(data.words))
        order = sorted((w, i) for i, w in enumerate(data.words) if df[i] >= min_df)
        n = data.n_units
        idf = np.array([np.log((1 + n) / (1 + df[i])) + 1 for _, i in order])
        return cls([w for w, _ in order], idf)

    def transform(self, data: UnitData) -> sparse.csr_matrix:
        """L2-normalised sublinear TF-IDF rows, one per unit."""
        col_of = np.array([self.index.get(w, -1) for w in data.words], dtype=np.int64)
        cols = col_of[data.tok_word] if len(data.tok_word) else np.zeros(0, dtype=np.int64)
        ok = cols >= 0
        counts = sparse.csr_matrix((np.ones(int(ok.sum())), (data.tok_unit[ok], cols[ok])), shape=(data.n_units, len(self.terms)))
        counts.sum_duplicates()
        counts.sort_indices()
        m = counts.copy()
        m.data = (1 + np.log(counts.data)) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(m.multiply(1 / norms[:, None]))


def rule_features(data: UnitData, codebook: Codebook, codes: list[str], sims: np.ndarray | None = None) -> np.ndarray:
    """``(n_units, n_codes, len(RULE_FEATURES))`` rule and context features."""
    n, k = data.n_units, len(codes)
    col = {c: i for i, c in enumerate(codes)}
    fi = {f: i for i, f in enumerate(RULE_FEATURES)}
    out = np.zeros((n, k, len(RULE_FEATURES)), dtype=np.float64)
    a = data.assessed
    if len(a):
        a = a[a["code"].isin(col)]
        units, cidx = a["unit"].to_numpy(dtype=np.int64), a["code"].map(col).to_numpy(dtype=np.int64)
        status, kind = a["status"].astype(str).to_numpy(), a["kind"].astype(str).to_numpy()
        acc = status == ""
        np.add.at(out[:, :, fi["n_acc"]], (units[acc], cidx[acc]), 1.0)
        for kd in KINDS:
            sel = acc & (kind == kd)
            out[units[sel], cidx[sel], fi[f"kind_{kd}"]] = 1.0
        for st in STATUSES:
            sel = status == st
            out[units[sel], cidx[sel], fi[f"back_{st}"]] = 1.0
    out[:, :, fi["acc"]] = out[:, :, fi["n_acc"]] > 0
    out[:, :, fi["n_acc"]] = np.log1p(out[:, :, fi["n_acc"]])
    dims = np.array([codebook.codes[c].dimension for c in codes])
    accepted = out[:, :, fi["acc"]]
    for d in set(dims):
        in_d = dims == d
        same = accepted[:, in_d].sum(axis=1, keepdims=True)
        out[:, in_d, fi["same_dim"]] = same - accepted[:, in_d]
        out[:, in_d, fi["other_dim"]] = (accepted.sum(axis=1, keepdims=True) - same)
    known = set(dims)
    for u, q in enumerate(data.questions):
        q = q & known if q else None  # a question topic that is no dimension (see questions.py) says nothing here
        if q:
            inside = np.array([d in q for d in dims])
            out[u, inside, fi["q_in"]] = 1.0
            out[u, ~inside, fi["q_out"]] = 1.0
    out[:, :, fi["interview"]] = data.interview[:, None]
    out[:, :, fi["log_len"]] = np.log1p(data.lengths)[:, None] / 5.0
    if sims is not None:
        out[:, :, fi["sim_anchor"]] = sims[0]
        out[:, :, fi["sim_def"]] = sims[1]
    return out


def pattern_features(data: UnitData, code: str, patterns: list[str]) -> sparse.csr_matrix:
    """Which of ``code``'s patterns stood in each unit (one column per pattern label)."""
    index = {p: i for i, p in enumerate(patterns)}
    a = data.assessed
    rows, cols = [], []
    if len(a):
        sel = a[(a["code"] == code) & (a["status"] == "")]
        for u, p in zip(sel["unit"].tolist(), sel["pattern"].tolist()):
            if p in index:
                rows.append(u)
                cols.append(index[p])
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(data.n_units, len(patterns)))
    m.data[:] = 1.0
    return m


def code_texts(codebook: Codebook, codes: list[str]) -> tuple[list[str], list[int], list[str]]:
    """Anchor examples (with their code's index) and one definition text per code."""
    anchors, owner = [], []
    for i, c in enumerate(codes):
        for ex in codebook.codes[c].anchor_examples:
            anchors.append(ex)
            owner.append(i)
    definitions = [f"{codebook.codes[c].label}: {codebook.codes[c].definition}" for c in codes]
    return anchors, owner, definitions


def similarities(unit_emb: np.ndarray, anchor_emb: np.ndarray, anchor_owner: np.ndarray, def_emb: np.ndarray, n_codes: int) -> np.ndarray:
    """``(2, n_units, n_codes)``: the best cosine to a code's anchors, and to its definition."""
    best = np.zeros((len(unit_emb), n_codes))
    if len(anchor_emb):
        s = unit_emb @ anchor_emb.T
        for c in range(n_codes):
            cols = anchor_owner == c
            if cols.any():
                best[:, c] = s[:, cols].max(axis=1)
    return np.stack([best, unit_emb @ def_emb.T])
