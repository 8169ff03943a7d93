"""Coding units with a codebook: rule hits, the optional verifier, the codings tables.

``code_segments(segments, codebook, ...)`` returns

* ``codings``: one row per code per unit (``segment_id, code, start_char, end_char, evidence,
  method, pattern, score``); offsets are into the document's normalised full text;
* ``evidence``: every accepted rule hit (a code can fire several times in one unit);
* ``candidates`` (with a verifier): every (unit, code) the rules proposed or the verifier scored
  near its threshold, with the rules' verdict (``status``), the verifier's ``score`` and
  ``threshold``, and whether it was coded;
* ``wide``: one row per unit, one 0/1 column per codable code.

Which units are coded: not interviewer turns (unless ``code_interviewer``), not empty or
placeholder answers. A unit's question (see :mod:`pipeline.coding.questions`) is known to the
rules and the verifier; with ``scope="hard"`` (or ``scope: hard`` in ``corpus.yaml``) codes
outside its dimensions are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.codebook.model import Codebook
from pipeline.coding.matcher import RuleMatcher
from pipeline.coding.questions import hard_scope, question_dimensions, question_texts, wish_questions
from pipeline.errors import QdaError
from pipeline.tokens import ParseStats, parse_texts, save_words

CODING_COLUMNS = ["segment_id", "code", "start_char", "end_char", "evidence", "method", "pattern", "score"]
EVIDENCE_COLUMNS = ["segment_id", "code", "start_char", "end_char", "evidence", "pattern"]
CANDIDATE_COLUMNS = ["segment_id", "code", "score", "threshold", "accepted", "status", "evidence", "pattern"]

@dataclass
class CodingResult:
    codings: pd.DataFrame
    evidence: pd.DataFrame
    wide: pd.DataFrame
    coded_mask: np.ndarray  # which units were eligible for coding
    parse: ParseStats
    model_info: dict | None = None
    candidates: pd.DataFrame | None = None


def eligible_units(segments: pd.DataFrame, *, code_interviewer: bool) -> np.ndarray:
    """Boolean mask of units the coder looks at."""
    ok = np.ones(len(segments), dtype=bool)
    if not code_interviewer and "is_interviewer" in segments:
        ok &= ~segments["is_interviewer"].astype(str).str.lower().isin(["true", "1"]).to_numpy()
    if "flag" in segments:
        ok &= segments["flag"].fillna("").astype(str).eq("").to_numpy()
    ok &= segments["text"].fillna("").astype(str).str.strip().ne("").to_numpy()
    return ok


def scope_of(segments: pd.DataFrame) -> list[set[str] | None]:
    """Per unit the dimensions its question was declared to ask about (``code_scope``; None = all)."""
    if "code_scope" not in segments:
        return [None] * len(segments)
    out = []
    for v in segments["code_scope"].fillna("").astype(str):
        dims = {d.strip() for d in v.replace(",", ";").split(";") if d.strip()}
        out.append(dims or None)
    return out


def code_segments(
    segments: pd.DataFrame,
    codebook: Codebook,
    *,
    nlp_name: str | None = None,
    code_interviewer: bool | None = None,
    model=None,
    threshold: float | None = None,
    favour: str = "balanced",
    scope: str | None = None,
    cache_dir=None,
    use_cache: bool = True,
    workers: int = 1,
    progress=None,
) -> CodingResult:
    """Codes every eligible unit of ``segments`` with ``codebook``.

    Args:
        segments: the segments table of :func:`pipeline.ingest.ingest`.
        codebook: a validated codebook.
        nlp_name: German pipeline (see :func:`pipeline.nlp.load_nlp`).
        code_interviewer: code interviewer turns too; default: the codebook's
            ``skip_interviewer`` setting decides.
        model: a fitted :class:`pipeline.coding.verifier.Verifier` or None (rules alone).
        threshold: one decision threshold for every code instead of the verifier's own.
        favour: the verifier's operating point: ``balanced`` (thresholds for F1) or
            ``precision`` (for F0.5: fewer codings, more of them right).
        scope: ``hard`` drops codes outside the dimensions of a unit's question, ``soft``
            keeps them; None: as ``corpus.yaml`` says (default soft).
        cache_dir, use_cache, workers, progress: see :func:`pipeline.tokens.parse_texts`.

    Raises:
        QdaError: the segments table lacks the columns of the segments contract.
    """
    a = assess_segments(segments, codebook, nlp_name=nlp_name, code_interviewer=code_interviewer, scope=scope,
                        cache_dir=cache_dir, use_cache=use_cache, workers=workers, progress=progress)
    codable = [c.id for c in codebook.codable()]
    order = {c: i for i, c in enumerate(codable)}
    accepted = a.assessed[a.assessed["status"] == ""].copy()
    accepted["_rank"] = accepted["code"].map(order)
    accepted = accepted.sort_values(["row", "_rank", "start_char", "end_char", "pattern"], kind="stable")
    accepted = accepted.drop_duplicates(["row", "code", "start_char", "end_char", "pattern"])
    # (unit row, code) as one integer: set look-ups over tuples cost ~1 µs a row
    pair = accepted["row"].to_numpy(dtype=np.int64) * len(codable) + accepted["_rank"].to_numpy(dtype=np.int64)
    accepted["_pair"] = pair
    first = accepted.drop_duplicates(["row", "code"]).assign(method="rule", score=1.0)
    first = _cap(first, pair, codebook, a)
    keep = np.isin(pair, first["_pair"].to_numpy())
    evidence = accepted.loc[keep, EVIDENCE_COLUMNS].reset_index(drop=True)
    model_info = None
    decided = first
    candidates = None  # only the verifier scores pairs; rules alone have nothing to rank for review
    if model is not None:
        from pipeline.coding.verifier import apply_verifier

        decided, candidates, model_info = apply_verifier(model, a, codebook, first, threshold=threshold, favour=favour)
    decided = decided.assign(_rank=decided["code"].map(order)).sort_values(["row", "_rank"], kind="stable")
    codings = decided[CODING_COLUMNS].reset_index(drop=True)
    matrix = np.zeros((len(a.segments), len(codable)), dtype=np.int8)
    matrix[decided["row"].to_numpy(dtype=np.int64), decided["_rank"].to_numpy(dtype=np.int64)] = 1
    wide = pd.DataFrame(matrix, columns=codable)
    wide.insert(0, "segment_id", a.segments["segment_id"].astype(str).to_numpy())
    return CodingResult(codings, evidence, wide, a.mask, a.stats, model_info, candidates)


@dataclass
class Assessment:
    """What the rules found in a segments table, and what the verifier needs besides.

    ``assessed`` has one row per include hit (see :meth:`RuleMatcher.assess`) with ``row`` (the
    row in ``segments``), ``segment_id`` and document offsets; ``idx`` lists the eligible rows,
    ``table`` holds their tokens in that order, ``questions`` their question dimensions.
    """

    segments: pd.DataFrame
    mask: np.ndarray
    idx: np.ndarray
    table: object
    assessed: pd.DataFrame
    questions: list
    stats: ParseStats


def assess_segments(segments: pd.DataFrame, codebook: Codebook, *, nlp_name: str | None = None, code_interviewer: bool | None = None,
                    scope: str | None = None, cache_dir=None, use_cache: bool = True, workers: int = 1, progress=None) -> Assessment:
    """Parses the eligible units and judges every rule hit in them (see :func:`code_segments`).

    Raises:
        QdaError: the segments table lacks the columns of the segments contract.
    """
    missing = [c for c in ("segment_id", "text", "start_char") if c not in segments.columns]
    if missing:
        raise QdaError(f"the segments table lacks the column(s) {', '.join(missing)}; run 'qda ingest' to make one")
    if code_interviewer is None:
        code_interviewer = not codebook.matching.skip_interviewer
    segments = segments.reset_index(drop=True)
    mask = eligible_units(segments, code_interviewer=code_interviewer)
    texts = segments["text"].fillna("").astype(str).tolist()
    idx = np.nonzero(mask)[0]
    table, stats = parse_texts([texts[i] for i in idx], nlp_name=nlp_name, cache_dir=cache_dir, use_cache=use_cache, workers=workers, progress=progress)
    asked = question_texts(segments)  # once: the dimensions and the wish questions both read them
    questions_all = question_dimensions(segments, codebook, asked)
    questions = [questions_all[i] for i in idx]
    if use_cache:
        from pipeline.coding.hitcache import assess_cached

        assessed, stats.codes_from_cache = assess_cached(codebook, table, questions, cache_dir=cache_dir, fingerprint=stats.pipeline["fingerprint"])
    else:
        assessed = RuleMatcher(codebook).assess(table, questions)
    save_words(table)
    hard = hard_scope(segments, scope)  # once, not once per unit
    assessed = _apply_hard_scope(assessed, codebook, questions, [hard[i] for i in idx])
    wish = wish_questions(asked)
    assessed = _apply_wish_questions(assessed, codebook, [wish[i] for i in idx])
    seg_ids = segments["segment_id"].astype(str).to_numpy()
    starts = pd.to_numeric(segments["start_char"], errors="coerce").fillna(0).astype(int).to_numpy()
    rows = idx[assessed["unit"].to_numpy(dtype=np.int64)] if len(assessed) else np.zeros(0, dtype=np.int64)
    assessed = assessed.assign(row=rows, segment_id=seg_ids[rows], start_char=assessed["start_char"].to_numpy(dtype=np.int64) + starts[rows],
                               end_char=assessed["end_char"].to_numpy(dtype=np.int64) + starts[rows])
    return Assessment(segments, mask, idx, table, assessed, questions, stats)


def _cap(first: pd.DataFrame, pair: np.ndarray, codebook: Codebook, a: "Assessment") -> pd.DataFrame:
    """At most ``matching.max_codes`` codes per unit (CODING_RULES A2): those of the dimensions its
    question asks about first, then those with more standing hits, then codebook order.

    ``first`` holds one row per (unit row, code), ``pair`` the (unit row, code) key of every
    standing hit (see :func:`code_segments`)."""
    limit = codebook.matching.max_codes
    if not limit or first.empty:
        return first
    keys, counts = np.unique(pair, return_counts=True)
    n_hits = counts[np.searchsorted(keys, first["_pair"].to_numpy())]
    asked = dict(zip(a.idx.tolist(), a.questions))
    rows = first["row"].to_numpy(dtype=np.int64)
    in_q = in_question(codebook, first["code"].tolist(), [asked.get(r) for r in rows.tolist()])
    order = {c: i for i, c in enumerate(codebook.codes)}
    return first[within_max_codes(rows, in_q, (first["code"].map(order).to_numpy(), -n_hits), limit)]


def in_question(codebook: Codebook, codes, questions) -> np.ndarray:
    """Per (code, question dimensions of its unit): is the code's dimension one the question asks about?"""
    return np.array([bool(q) and codebook.codes[c].dimension in q for c, q in zip(codes, questions)], dtype=bool)


def within_max_codes(unit: np.ndarray, in_q: np.ndarray, rank_keys: tuple, limit: int) -> np.ndarray:
    """Per row (one unit and code each): is it among the ``limit`` codes its unit keeps (CODING_RULES
    A2)? The question's dimensions first, then by ``rank_keys`` (ascending, the last the most
    significant, as :func:`numpy.lexsort`), then the earlier row. The rules rank by their hits, the
    verifier by its probability; both keep the same number."""
    keep = np.ones(len(unit), dtype=bool)
    if not limit or not len(unit):
        return keep
    order = np.lexsort((np.arange(len(unit)), *rank_keys, ~in_q, unit))
    u = unit[order]
    keep[order[np.arange(len(order)) - np.searchsorted(u, u, side="left") >= limit]] = False
    return keep


def _apply_hard_scope(assessed: pd.DataFrame, codebook: Codebook, questions: list, hard: list[bool]) -> pd.DataFrame:
    """Marks hits outside their unit's question dimensions as ``scope`` where the scope is hard."""
    if not len(assessed) or not any(hard):
        return assessed
    dims = assessed["code"].map(lambda c: codebook.codes[c].dimension).tolist()
    status = assessed["status"].tolist()
    known = set(codebook.dimensions())  # a question topic that is no dimension limits nothing
    for i, (u, d) in enumerate(zip(assessed["unit"].tolist(), dims)):
        q = questions[u] & known if questions[u] else None
        if hard[u] and q and d not in q and status[i] == "":
            status[i] = "scope"
    return assessed.assign(status=status)


def _apply_wish_questions(assessed: pd.DataFrame, codebook: Codebook, wish: list[bool]) -> pd.DataFrame:
    """In an answer to a question about wishes or plans, hits of codes without ``lack_counts``
    are ``wish`` (A6: a wished format is not coded); a barrier stays one, wished away or not."""
    if not len(assessed) or not any(wish):
        return assessed
    units = assessed["unit"].to_numpy(dtype=np.int64)
    lack = assessed["code"].map(lambda c: bool(codebook.codes[c].lack_counts)).to_numpy(dtype=bool)
    status = assessed["status"].to_numpy(dtype=object).copy()
    hit = np.asarray(wish, dtype=bool)[units] & ~lack & (status == "")
    status[hit] = "wish"
    return assessed.assign(status=status)


def summarise(result: CodingResult, codebook: Codebook) -> dict:
    """Counts for the command's summary line: units, coded units, codes per dimension."""
    coded_units = result.codings["segment_id"].nunique()
    per_dim: dict[str, int] = {}
    for code in result.codings["code"]:
        d = codebook.codes[code].dimension
        per_dim[d] = per_dim.get(d, 0) + 1
    return {
        "units": int(len(result.wide)),
        "eligible_units": int(result.coded_mask.sum()),
        "coded_units": int(coded_units),
        "codings": int(len(result.codings)),
        "by_method": result.codings["method"].value_counts().to_dict(),
        "per_dimension": per_dim,
        "parsed": result.parse.parsed,
        "from_cache": result.parse.cached,
        "codes_from_cache": result.parse.codes_from_cache,
    }
