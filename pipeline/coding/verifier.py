"""The verifier: rules propose, a trained per-code classifier decides.

For every eligible unit and every codable code the verifier estimates the probability that a
human coder following the codebook would assign the code, from the features of
:mod:`pipeline.coding.features` (what the rules found and why they let hits go, the question,
the words, optionally the sentence embedding). It can veto a rule hit and add a code the rules
missed. One logistic regression per code (scikit-learn), its decision threshold chosen by
cross-validation on the training units for F1 and written to the run record. From the same
cross-validated scores a second threshold is chosen for F0.5, which weighs precision twice as
much as recall: ``favour="precision"`` codes with it, for researchers who would rather miss a
coding than read a wrong one.

A code with too few training examples (fewer than ``min_positive`` positives or negatives)
keeps the rules' decision: the verifier never makes a code worse for lack of data.

Training data are labels per (unit, code): from a gold file every code of a listed unit is
known (1 or 0); from reviewed decisions only the decided pairs are (a partly reviewed unit
says nothing about codes nobody decided). The codebook's anchor examples are added as
positives of their code.

The fitted model is saved as data only (see :mod:`pipeline.coding.modelfile`).
"""

from __future__ import annotations

import hashlib
import inspect

import numpy as np
import pandas as pd
from scipy import sparse

from pipeline.codebook.model import Codebook
from pipeline.coding.features import RULE_FEATURES, Lexicon, UnitData, code_texts, pattern_features, rule_features, similarities, unit_data
from pipeline.errors import QdaError

THRESHOLDS = np.round(np.arange(0.15, 0.86, 0.05), 2)
FAVOURS = {"balanced": 1.0, "precision": 0.5}  # operating point → β of the F-score its thresholds maximise
NEAR = 1.5  # candidates.csv keeps uncoded pairs within this many log-odds of the threshold (odds within e^1.5 ≈ 4.5×)


def _f_beta(counts: np.ndarray, beta: float) -> np.ndarray:
    """F-beta per row of ``(tp, fp, fn)`` counts (0 where there is no true positive)."""
    tp, fp, fn = counts[:, 0], counts[:, 1], counts[:, 2]
    b2 = beta * beta
    return np.where(tp > 0, (1 + b2) * tp / np.maximum((1 + b2) * tp + b2 * fn + fp, 1), 0.0)


def _best(curve: np.ndarray) -> float:
    """The threshold at the curve's maximum; on a tie the middle one of the best."""
    curve = np.round(curve, 9)  # sums over repeats: equal curves compare equal
    best = np.flatnonzero(curve == curve.max())
    return float(THRESHOLDS[best[len(best) // 2]])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class _Params:
    """scikit-learn's parameter protocol (``get_params``/``set_params``, so ``sklearn.base.clone``
    works) without importing scikit-learn: applying a model should not pay a second for it."""

    @classmethod
    def _param_names(cls) -> list[str]:
        return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> "_Params":
        for k, v in params.items():
            if k not in self._param_names():
                raise ValueError(f"invalid parameter {k!r} for {type(self).__name__}; valid: {', '.join(self._param_names())}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        defaults = {k: p.default for k, p in inspect.signature(type(self).__init__).parameters.items() if k != "self"}
        changed = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults.get(k))
        return f"{type(self).__name__}({changed})"


class Verifier(_Params):
    """Per-code calibrated decisions over rule, pattern, lexical and embedding features.

    Args:
        embedding: embedder name for the unit and anchor embeddings (``use``, ``e5`` …) or
            ``none`` (rules, patterns and words only; fastest).
        lexical: use TF-IDF features over lemmas.
        C: inverse regularisation strength of the logistic regressions.
        cv: folds for choosing each code's threshold.
        cv_repeats: how often the folds are drawn anew for the threshold (the F1 curves of all
            draws are averaged: one draw of three folds over a few dozen positives moves the
            threshold by a grid step or two).
        min_positive: fewer positive (or negative) examples than this → the code keeps the rules.
        random_state: seed of the folds and the solver.
    """

    def __init__(self, embedding: str = "none", lexical: bool = True, C: float = 1.0, cv: int = 3, cv_repeats: int = 5, min_positive: int = 4,
                 random_state: int = 0):
        self.embedding = embedding
        self.lexical = lexical
        self.C = C
        self.cv = cv
        self.cv_repeats = cv_repeats
        self.min_positive = min_positive
        self.random_state = random_state

    # --- features ------------------------------------------------------------------------------
    def _embed_anchors(self, codebook: Codebook, codes: list[str]) -> None:
        from pipeline.embed import embed

        anchors, owner, definitions = code_texts(codebook, codes)
        self.anchor_emb_ = embed(anchors, self.embedding) if anchors else np.zeros((0, 1), dtype=np.float32)
        self.anchor_owner_ = np.asarray(owner, dtype=np.int64)
        self.def_emb_ = embed(definitions, self.embedding)

    def _blocks(self, data: UnitData) -> tuple[np.ndarray, sparse.csr_matrix | None, np.ndarray | None]:
        emb = sims = None
        if self.embedding != "none":
            from pipeline.embed import embed

            emb = embed(data.texts, self.embedding).astype(np.float64)
            sims = similarities(emb, self.anchor_emb_, self.anchor_owner_, self.def_emb_, len(self.codes_))
        rules = rule_features(data, self._codebook_stub(), self.codes_, sims)
        lex = self.lexicon_.transform(data) if self.lexical else None
        return rules, lex, emb

    def _codebook_stub(self):
        """What :func:`rule_features` needs of the codebook: each code's dimension."""
        from pipeline.codebook.model import Code, Codebook

        return Codebook(name="", version="", codes={c: Code(id=c) for c in self.codes_})

    def _design(self, j: int, rules: np.ndarray, lex, emb, data: UnitData):
        parts = [sparse.csr_matrix(rules[:, j, :]), pattern_features(data, self.codes_[j], self.patterns_[j])]
        if lex is not None:
            parts.append(lex)
        if emb is not None:
            parts.append(sparse.csr_matrix(emb))
        return sparse.hstack(parts).tocsr()

    # --- fitting -------------------------------------------------------------------------------
    def fit(self, data: UnitData, labels: np.ndarray, *, codebook: Codebook, codes: list[str] | None = None) -> "Verifier":
        """Fits one classifier per code.

        Args:
            data: the training units (see :func:`pipeline.coding.features.unit_data`).
            labels: ``(n_units, n_codes)`` with 1 (assigned), 0 (not assigned), -1 (unknown).
            codebook: the codebook the units were coded with.
            codes: the columns of ``labels`` (default: the codebook's codable codes).
        """
        from sklearn.linear_model import LogisticRegression

        self.codes_ = list(codes or [c.id for c in codebook.codable()])
        self.dimensions_ = [codebook.codes[c].dimension for c in self.codes_]
        self.patterns_ = [sorted({p.label() for p in codebook.codes[c].include}) for c in self.codes_]
        self.lexicon_ = Lexicon.fit(data) if self.lexical else Lexicon([], np.zeros(0))
        if self.embedding != "none":
            self._embed_anchors(codebook, self.codes_)
        rules, lex, emb = self._blocks(data)
        n_feat = [self._design(j, rules, lex, emb, data).shape[1] for j in range(len(self.codes_))]
        self.coef_ = [np.zeros(n) for n in n_feat]
        self.intercept_ = np.zeros(len(self.codes_))
        self.thresholds_ = np.full(len(self.codes_), 0.5)
        self.precision_thresholds_ = np.full(len(self.codes_), 0.5)
        self.modes_ = ["rules"] * len(self.codes_)
        self.n_labelled_ = {}
        for j, code in enumerate(self.codes_):
            known = labels[:, j] >= 0
            y = labels[known, j].astype(int)
            self.n_labelled_[code] = {"positive": int(y.sum()), "negative": int((y == 0).sum())}
            if y.sum() < self.min_positive or (y == 0).sum() < self.min_positive:
                continue
            X = self._design(j, rules, lex, emb, data)[known]
            clf = LogisticRegression(C=self.C, max_iter=5000, random_state=self.random_state)
            self.thresholds_[j], self.precision_thresholds_[j] = self._threshold(clf, X, y)
            clf.fit(X, y)
            self.coef_[j] = clf.coef_.ravel().astype(np.float64)
            self.intercept_[j] = float(clf.intercept_[0])
            self.modes_[j] = "model"
        self.n_train_ = int(data.n_units)
        return self

    def _threshold(self, clf, X, y: np.ndarray) -> tuple[float, float]:
        """The thresholds with the best F1 and the best F0.5 on out-of-fold probabilities (ties:
        the middle one)."""
        from sklearn.base import clone
        from sklearn.model_selection import StratifiedKFold

        folds = min(self.cv, int(y.sum()), int((y == 0).sum()))
        if folds < 2:
            return 0.5, 0.5
        counts = np.zeros((len(THRESHOLDS), 3))  # per threshold: tp, fp, fn of every repeat (a score per repeat, summed below)
        scores = {beta: np.zeros(len(THRESHOLDS)) for beta in FAVOURS.values()}
        for r in range(max(1, self.cv_repeats)):
            oof = np.zeros(len(y))
            seed = self.random_state + r
            for train, test in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
                oof[test] = clone(clf).fit(X[train], y[train]).predict_proba(X[test])[:, 1]
            for k, t in enumerate(THRESHOLDS):
                p = oof >= t
                counts[k] = (p & (y == 1)).sum(), (p & (y == 0)).sum(), (~p & (y == 1)).sum()
            for beta, curve in scores.items():
                curve += _f_beta(counts, beta)
        return tuple(_best(scores[beta]) for beta in FAVOURS.values())

    # --- prediction ----------------------------------------------------------------------------
    def predict_proba(self, data: UnitData) -> np.ndarray:
        """``(n_units, n_codes)`` probabilities; codes in ``rules`` mode give 1.0 where a rule
        hit stood and 0.0 elsewhere."""
        rules, lex, emb = self._blocks(data)
        out = np.zeros((data.n_units, len(self.codes_)))
        acc = RULE_FEATURES.index("acc")
        for j in range(len(self.codes_)):
            if self.modes_[j] == "rules":
                out[:, j] = rules[:, j, acc]
            else:
                out[:, j] = _sigmoid(self._score(j, rules, lex, emb, data))
        return np.round(out, 4)

    def _score(self, j: int, rules: np.ndarray, lex, emb, data: UnitData) -> np.ndarray:
        """``_design(j, …) @ coef_[j] + intercept_[j]``, block by block: stacking the blocks into
        one sparse matrix per code cost more than the products (1.4 s for 60,000 answers)."""
        coef, at = self.coef_[j], 0
        z = np.full(data.n_units, self.intercept_[j])
        for block in (rules[:, j, :], pattern_features(data, self.codes_[j], self.patterns_[j]), lex, emb):
            if block is None:
                continue
            z += block @ coef[at:at + block.shape[1]]
            at += block.shape[1]
        return z

    def decision_thresholds(self, favour: str = "balanced", threshold: float | None = None) -> np.ndarray:
        """Each code's threshold for the operating point ``favour`` (see :data:`FAVOURS`), or one
        ``threshold`` for all.

        Raises:
            QdaError: an unknown ``favour``, or ``precision`` with a model saved before qda chose
                precision thresholds.
        """
        if threshold is not None:
            return np.full(len(self.codes_), float(threshold))
        if favour not in FAVOURS:
            raise QdaError(f"unknown operating point {favour!r}; choose one of {', '.join(FAVOURS)}")
        thr = self.thresholds_ if favour == "balanced" else getattr(self, "precision_thresholds_", None)
        if thr is None:
            raise QdaError("this verifier was saved before qda chose thresholds for precision; code without --favour precision, "
                           "or train the model again with --train")
        return np.asarray(thr, dtype=np.float64)

    def predict(self, data: UnitData, threshold: float | None = None, favour: str = "balanced") -> np.ndarray:
        """0/1 decisions, with each code's threshold for ``favour`` (or one ``threshold`` for all)."""
        return (self.predict_proba(data) >= self.decision_thresholds(favour, threshold)).astype(int)

    def describe(self) -> dict:
        """For run.json: parameters, per-code mode and threshold, training size."""
        precise = getattr(self, "precision_thresholds_", None)
        precise = [None] * len(self.codes_) if precise is None else [float(t) for t in precise]
        return {"model": "Verifier", "params": self.get_params(), "n_train": self.n_train_,
                "codes": {c: {"mode": m, "threshold": float(t), "threshold_precision": tp, **self.n_labelled_.get(c, {})}
                          for c, m, t, tp in zip(self.codes_, self.modes_, self.thresholds_, precise)},
                **getattr(self, "provenance_", {})}


# --- training and applying, on segments ----------------------------------------------------------
def label_matrix(unit_ids: list[str], labels: pd.DataFrame, codes: list[str]) -> np.ndarray:
    """``(n_units, n_codes)`` of 1/0/-1 from ``segment_id, code, label`` rows."""
    row = {u: i for i, u in enumerate(unit_ids)}
    col = {c: j for j, c in enumerate(codes)}
    Y = np.full((len(unit_ids), len(codes)), -1, dtype=np.int64)
    for sid, code, lab in zip(labels["segment_id"].astype(str), labels["code"].astype(str), labels["label"]):
        if sid in row and code in col:
            Y[row[sid], col[code]] = int(lab)
    return Y


def gold_labels(gold: dict[str, set[str]], codes: list[str]) -> pd.DataFrame:
    """Every code of every gold unit: 1 if the coder assigned it, else 0."""
    rows = [(sid, c, int(c in assigned)) for sid, assigned in gold.items() for c in codes]
    return pd.DataFrame(rows, columns=["segment_id", "code", "label"])


def anchor_segments(codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The anchor examples as extra training units (read as answers to their dimension's
    question), and their labels (positive for their code, unknown for the others)."""
    rows, labels = [], []
    for code in codebook.codable():
        for i, text in enumerate(code.anchor_examples):
            sid = f"@anker:{code.id}:{i + 1}"
            rows.append({"segment_id": sid, "text": text, "start_char": 0, "kind": "anchor", "code_scope": code.dimension})
            labels.append((sid, code.id, 1))
    return pd.DataFrame(rows), pd.DataFrame(labels, columns=["segment_id", "code", "label"])


def training_hash(segments: pd.DataFrame, labels: pd.DataFrame) -> str:
    """SHA-256 of the training texts and labels, in a fixed order."""
    h = hashlib.sha256()
    text_of = dict(zip(segments["segment_id"].astype(str), segments["text"].fillna("").astype(str)))
    for sid, code, lab in sorted(zip(labels["segment_id"].astype(str), labels["code"].astype(str), labels["label"].astype(int))):
        h.update(f"{sid}\t{code}\t{lab}\t{text_of.get(sid, '')}\n".encode("utf-8"))
    return h.hexdigest()


def train_verifier(segments: pd.DataFrame, labels: pd.DataFrame, codebook: Codebook, *, embedding: str = "none", anchors: bool = True,
                   random_state: int = 0, **assess_kwargs) -> Verifier:
    """Fits a :class:`Verifier` on the labelled units of ``segments`` (plus the anchor examples).

    Args:
        segments: a segments table holding at least the labelled units.
        labels: ``segment_id, code, label`` (1/0); pairs not listed are unknown.
        codebook: the codebook to code with.
        embedding: see :class:`Verifier`.
        anchors: add the codebook's anchor examples as positives.
        assess_kwargs: passed to :func:`pipeline.coding.coder.assess_segments`.
    """
    from pipeline.coding.coder import assess_segments

    ids = set(labels["segment_id"].astype(str))
    train = segments[segments["segment_id"].astype(str).isin(ids)].copy()
    if anchors:
        extra, extra_labels = anchor_segments(codebook)
        train = pd.concat([train, extra], ignore_index=True)
        labels = pd.concat([labels, extra_labels], ignore_index=True)
    codes = [c.id for c in codebook.codable()]
    a = assess_segments(train, codebook, code_interviewer=True, **assess_kwargs)
    data = unit_data(a)
    unit_ids = a.segments["segment_id"].astype(str).to_numpy()[a.idx].tolist()
    model = Verifier(embedding=embedding, random_state=random_state).fit(data, label_matrix(unit_ids, labels, codes), codebook=codebook, codes=codes)
    model.provenance_ = {"codebook": {"name": codebook.name, "version": codebook.version, "sha256": codebook.sha256},
                         "training": {"units": len(unit_ids), "labels": int(len(labels)), "sha256": training_hash(train, labels)}}
    return model


def apply_verifier(model: Verifier, assessment, codebook: Codebook, first: pd.DataFrame, *, threshold: float | None = None,
                   favour: str = "balanced"):
    """The verifier's decisions on an assessment: ``(decided codings, candidates, model_info)``.

    A code that the verifier accepts keeps its rule evidence (``method=rule``); a code it adds
    without a standing rule hit gets ``method=model`` and, as evidence, a hit the context took
    back or the whole unit. Everything is computed over arrays: a million answers × 25 codes
    are 25 million pairs.
    """
    from pipeline.coding.coder import CANDIDATE_COLUMNS, in_question, within_max_codes

    data = unit_data(assessment)
    probs = model.predict_proba(data)
    thr = model.decision_thresholds(favour, threshold)
    seg, idx = assessment.segments, assessment.idx
    codes = np.array(model.codes_, dtype=object)
    n_codes = len(codes)
    known = np.array([c in codebook.codes for c in model.codes_], dtype=bool)
    yes = (probs >= thr[None, :]) & known[None, :]
    standing = _pair_table(first, idx, model.codes_)
    hits = _pair_table(assessment.assessed.drop_duplicates(["row", "code"]), idx, model.codes_)
    has_standing, has_hit = _mask(standing, probs.shape), _mask(hits, probs.shape)
    near = _logit_array(probs) >= (_logit_array(thr) - NEAR)[None, :]
    ks, js = np.nonzero((yes | has_hit | has_standing | near) & known[None, :])
    keys = ks * n_codes + js
    st = standing.reindex(keys)
    ht = hits.reindex(keys)
    rows = idx[ks]
    seg_ids = seg["segment_id"].astype(str).to_numpy()[rows]
    p = np.round(probs[ks, js], 4)
    accepted = yes[ks, js]
    # the rules cap what they propose; what the verifier accepts (it may take codes the rules let
    # go) is capped the same way, ranked by its probability
    sel = np.nonzero(accepted)[0]
    capped = np.zeros(len(ks), dtype=bool)
    capped[sel] = ~within_max_codes(ks[sel], in_question(codebook, codes[js[sel]], [assessment.questions[k] for k in ks[sel].tolist()]),
                                    (-p[sel],), codebook.matching.max_codes)
    accepted = accepted & ~capped
    evidence = st["evidence"].where(st["evidence"].notna(), ht["evidence"]).fillna("").to_numpy()
    pattern = st["pattern"].where(st["pattern"].notna(), ht["pattern"]).fillna("").to_numpy()
    status = np.where(st["status"].notna().to_numpy(), "", np.where(ht["status"].notna().to_numpy(), ht["status"].fillna("").to_numpy(), "model"))
    status = np.where(capped, "cap", status)
    cands = pd.DataFrame({"segment_id": seg_ids, "code": codes[js], "score": p, "threshold": thr[js], "accepted": accepted.astype(int),
                          "status": status, "evidence": evidence, "pattern": pattern}, columns=CANDIDATE_COLUMNS)
    decided = _decided(seg, rows[accepted], codes[js][accepted], p[accepted], st[accepted], ht[accepted])
    return decided, cands.reset_index(drop=True), {**model.describe(), "threshold_override": threshold, "favour": favour}


def _logit_array(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _pair_table(frame: pd.DataFrame, idx: np.ndarray, codes: list[str]) -> pd.DataFrame:
    """``frame`` (rows with ``row``, ``code``, evidence …) indexed by pair key ``k * n_codes + j``
    (``k`` the unit's position among the eligible rows, ``j`` the code's column)."""
    cols = ["start_char", "end_char", "evidence", "pattern", "status"]
    if frame is None or not len(frame):
        return pd.DataFrame(columns=cols, index=pd.Index([], dtype=np.int64))
    col = {c: j for j, c in enumerate(codes)}
    j = frame["code"].map(col)
    f = frame[j.notna().to_numpy()]
    k = np.searchsorted(idx, f["row"].to_numpy(dtype=np.int64))
    out = pd.DataFrame({c: (f[c].to_numpy() if c in f else "") for c in cols})
    if "status" not in f:
        out["status"] = ""
    out.index = pd.Index(k * len(codes) + j[j.notna()].to_numpy(dtype=np.int64))
    return out[~out.index.duplicated()]


def _mask(pairs: pd.DataFrame, shape: tuple[int, int]) -> np.ndarray:
    m = np.zeros(shape[0] * shape[1], dtype=bool)
    m[pairs.index.to_numpy(dtype=np.int64)] = True
    return m.reshape(shape)


def _decided(seg: pd.DataFrame, rows: np.ndarray, codes: np.ndarray, p: np.ndarray, st: pd.DataFrame, ht: pd.DataFrame) -> pd.DataFrame:
    """The accepted pairs as codings: standing rule evidence, else a taken-back hit, else the unit."""
    starts = pd.to_numeric(seg["start_char"], errors="coerce").fillna(0).astype(int).to_numpy()[rows]
    texts = seg["text"].fillna("").astype(str).to_numpy()[rows]
    own = st["evidence"].notna().to_numpy()
    hit = ~own & ht["evidence"].notna().to_numpy()
    unit_ev = np.array([t if len(t) <= 300 else t[:297] + "..." for t in texts], dtype=object)
    pick = lambda col, unit: np.where(own, st[col].to_numpy(), np.where(hit, ht[col].to_numpy(), unit))  # noqa: E731
    return pd.DataFrame({
        "segment_id": seg["segment_id"].astype(str).to_numpy()[rows], "code": codes,
        "start_char": pick("start_char", starts).astype(np.int64), "end_char": pick("end_char", starts + np.array([len(t) for t in texts], dtype=np.int64)).astype(np.int64),
        "evidence": pick("evidence", unit_ev), "method": np.where(own, "rule", "model"),
        "pattern": pick("pattern", np.full(len(rows), "", dtype=object)), "score": p, "row": rows,
    })
