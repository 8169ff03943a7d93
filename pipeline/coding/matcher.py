"""Applying a codebook's patterns to parsed units: hits, their context, and the verdict.

:meth:`RuleMatcher.assess` finds every hit of every pattern (see :mod:`pipeline.coding.kinds`),
then decides for each include hit, in this order, whether it is coded:

1. **context** (:mod:`pipeline.coding.context`): negated, hypothetical, "no problem", wished
   for, or named only for comparison → taken back (``status`` says which);
2. **exclusions**: an exclude hit of the same code overlapping the include hit removes it;
3. **conditions**: the code's (or the pattern's) ``require`` must hold in the hit's clause,
   sentence or unit, and its ``unless`` must not (cue lists, other codes' hits, the question).

Every include hit is kept with its status, so the verifier (and a curious researcher) can
see what the rules considered and why they let a hit go; :meth:`match_table` returns only the
accepted ones.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from pipeline.codebook.model import Code, Codebook, Condition, Pattern
from pipeline.coding.context import Context
from pipeline.coding.kinds import KINDS, Spans, TableWords
from pipeline.coding.words import WordIndex

ASSESS_COLUMNS = ["unit", "code", "start_char", "end_char", "evidence", "pattern", "kind", "status", "s", "e"]


class Hit(NamedTuple):
    """One piece of evidence: unit number, code, character span in the unit text, pattern."""

    unit: int
    code: str
    start: int
    end: int
    text: str
    pattern: str


@dataclass(frozen=True)
class Ref:
    """A compiled pattern: whose it is (a code, or a cue list ``@name``) and in which part."""

    code: str
    part: str  # include | exclude | cue
    label: str
    pattern: Pattern
    index: int = -1  # the pattern's place in its code's include or exclude list


class RuleMatcher:
    """Compiled patterns and conditions of one codebook.

    Args:
        codebook: a validated codebook.
        negation: judge the context of hits (negation, hypotheticals, wishes, comparisons);
            False for checking anchor examples, which are coded by definition.
    """

    def __init__(self, codebook: Codebook, *, negation: bool = True):
        self.codebook = codebook
        self.context = negation
        self.window = codebook.matching.negation_window if negation else 0
        self.words = WordIndex(codebook.matching)
        self.kinds = [cls(self.words) for cls in KINDS]
        self._kind_of = {name: k for k in self.kinds for name in k.serves}
        self.refs: list[Ref] = []
        self.codable = [c.id for c in codebook.codable()]
        for code in codebook.codable():
            for part in ("include", "exclude"):
                for k, p in enumerate(getattr(code, part)):
                    self._add(Ref(code.id, part, p.label(), p, k))
        self._cue_names: dict[str, str] = {}
        for name, pats in codebook.cues.items():
            for p in pats:
                self._add(Ref("@" + name, "cue", p.label(), p))
            self._cue_names[name] = "@" + name
        self._inline_cues()

    def _add(self, ref: Ref) -> None:
        self._kind_of[ref.pattern.kind].add(len(self.refs), ref.pattern)
        self.refs.append(ref)

    def _inline_cues(self) -> None:
        """Cue words written into a condition (not a cue list name) become one-word cue lists."""
        from pipeline.codebook.load import parse_pattern

        for cond in self._conditions():
            for cue in (*cond.cues, *cond.question_unless):
                if cue in self._cue_names:
                    continue
                p = parse_pattern(cue, "cue", [])
                if p is not None:
                    self._add(Ref("@=" + cue, "cue", p.label(), p))
                    self._cue_names[cue] = "@=" + cue

    def _conditions(self):
        for code in self.codebook.codable():
            yield from code_conditions(code)

    # --- the whole corpus --------------------------------------------------------------------
    def assess(self, table, questions: list | None = None) -> pd.DataFrame:
        """Every include hit in ``table`` with its verdict (``status`` empty = coded).

        Args:
            table: a :class:`~pipeline.tokens.TokenTable`.
            questions: per unit the set of dimensions its question asks about, or None.

        Returns:
            A DataFrame with :data:`ASSESS_COLUMNS`; ``start_char``/``end_char`` are offsets into
            the unit's text, ``s``/``e`` token positions in the table.
        """
        spans, status = self.judged_includes(table, questions)
        per_ref = self.ref_arrays()
        refs = spans.ref
        return hits_frame(table, spans, status, per_ref["code"][refs], per_ref["label"][refs], per_ref["kind"][refs])

    def judged_includes(self, table, questions: list | None = None) -> tuple[Spans, np.ndarray]:
        """The include hits in matching order (match kind, then pattern, then position) and their
        status; the rows of :meth:`assess` as arrays (``spans.ref`` indexes :attr:`refs`)."""
        tw = TableWords.build(table, self.words)
        spans = Spans.concat([k.find(tw) for k in self.kinds])
        if not len(spans):
            return spans, np.zeros(0, dtype=object)
        _char_spans(table, tw, spans)
        ctx = Context(table, tw.flags, self.window)
        parts = self.ref_arrays()["part"][spans.ref]
        status = np.array([""] * len(spans), dtype=object)
        self._judge_context(ctx, spans, parts, status)
        self._apply_exclusions(spans, parts, status)
        self._apply_conditions(table, ctx, spans, parts, status, questions)
        inc = np.nonzero(parts == "include")[0]
        return spans.take(inc), status[inc]

    def ref_arrays(self) -> dict[str, np.ndarray]:
        """Per compiled pattern: what the per-hit steps ask of it, as arrays indexed by ref
        (made once; a hit's answer is then one fancy-index instead of a Python look-up)."""
        if not hasattr(self, "_per_ref"):
            codes = self.codebook.codes
            owners = sorted({r.code for r in self.refs})
            self._owner_no = {o: k for k, o in enumerate(owners)}
            self._per_ref = {
                "owner": np.array([self._owner_no[r.code] for r in self.refs], dtype=np.int64),
                "judged": np.array([r.pattern.negation is not False for r in self.refs], dtype=bool),
                "lack": np.array([r.part == "include" and bool(codes[r.code].lack_counts) for r in self.refs], dtype=bool),
                # a lack_counts code's word that names the obstacle itself (negation: true): "keine Vorgaben"
                "obstacle": np.array([r.part == "include" and bool(codes[r.code].lack_counts) and r.pattern.negation is True for r in self.refs],
                                     dtype=bool),
                "part": np.array([r.part for r in self.refs]),
                "pattern_no": np.array([r.index for r in self.refs], dtype=np.int64),
                "code": np.array([r.code for r in self.refs], dtype=object),
                "label": np.array([r.label for r in self.refs], dtype=object),
                "kind": np.array([r.pattern.kind for r in self.refs], dtype=object),
            }
        return self._per_ref

    def _judge_context(self, ctx: Context, spans: Spans, parts: np.ndarray, status: np.ndarray) -> None:
        if not self.context:
            return
        f = ctx.flags
        # a sentence with none of these cannot be taken back ("?": an echoed question whose answer denies it)
        risky = f["neg"] | f["hyp"] | f["wish"] | f["foil"] | f["als"] | f["nothing"] | f["qmark"]
        sent = ctx.table.sent
        sent_risky = np.bincount(sent, weights=risky.astype(np.int64), minlength=int(sent.max()) + 1) > 0
        per_ref = self.ref_arrays()
        check = np.nonzero(sent_risky[sent[spans.s]] & ~spans.inner & (parts != "exclude") & per_ref["judged"][spans.ref])[0]
        verdicts = ctx.verdicts(spans.unit[check], spans.s[check], spans.e[check], per_ref["lack"][spans.ref[check]],
                                per_ref["obstacle"][spans.ref[check]])
        # a cue word is a cue whatever the mood of its sentence
        mood = (parts[check] == "cue") & np.isin(verdicts, ["wish", "foil", "no_benefit"])
        status[check[~mood]] = verdicts[~mood]

    def _apply_exclusions(self, spans: Spans, parts: np.ndarray, status: np.ndarray) -> None:
        """An include hit overlapping (in characters) an exclude hit of its code in its unit is
        ``excluded``: every (include, exclude) pair of one unit and code is compared at once."""
        ex = np.nonzero(parts == "exclude")[0]
        inc = np.nonzero((parts == "include") & (status == ""))[0]
        if not len(ex) or not len(inc):
            return
        owner = self.ref_arrays()["owner"]
        n_owners = len(self._owner_no)
        key_ex = spans.unit[ex] * n_owners + owner[spans.ref[ex]]
        key_inc = spans.unit[inc] * n_owners + owner[spans.ref[inc]]
        ex = ex[np.argsort(key_ex, kind="stable")]
        key_ex = np.sort(key_ex, kind="stable")
        lo, hi = np.searchsorted(key_ex, key_inc), np.searchsorted(key_ex, key_inc, side="right")
        count = hi - lo
        has = count > 0
        inc, lo, count = inc[has], lo[has], count[has]
        if not len(inc):
            return
        # expand to pairs: each include hit once per exclude hit of its (unit, code)
        pair_inc = np.repeat(inc, count)
        pair_ex = ex[np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())]
        overlap = (spans.cs[pair_inc] < spans.ce[pair_ex]) & (spans.cs[pair_ex] < spans.ce[pair_inc])
        status[np.unique(pair_inc[overlap])] = "excluded"

    def _apply_conditions(self, table, ctx: Context, spans: Spans, parts: np.ndarray, status: np.ndarray, questions) -> None:
        """``require`` first, then ``unless``; the hits of other codes that a condition looks
        for are those still standing at that point (a hit whose own ``require`` failed is no
        evidence for anything else).

        Within a step no verdict depends on another made in the same step, so the hits are
        judged in groups: one group per (condition, code of the hit), each with array look-ups
        (see :class:`_Standing`)."""
        conds, cond_of = self._condition_table()
        if not (parts == "include").any() or not conds:
            return
        per_ref = self.ref_arrays()
        scope_keys = {"clause": np.asarray(ctx.clause, dtype=np.int64)[spans.s] if len(spans) else spans.s,
                      "sentence": table.sent[spans.s].astype(np.int64), "unit": spans.unit}
        qbits, dim_bit = _question_bits(questions, len(table))
        hit_owner = per_ref["owner"][spans.ref]
        for step, columns in (("require", ("require",)), ("unless", ("unless_code", "unless_pattern"))):
            live = ((parts == "cue") | (parts == "include")) & (status == "")
            standing = _Standing(spans, hit_owner, live, scope_keys)
            standing_inc = np.nonzero((parts == "include") & (status == ""))[0]
            judged, holds = np.zeros(len(spans), dtype=bool), np.zeros(len(spans), dtype=bool)
            for column in columns:
                c = cond_of[column][spans.ref[standing_inc]]
                has = c >= 0
                hits, c = standing_inc[has], c[has]
                group = c * len(self._owner_no) + hit_owner[hits]
                for g in np.unique(group).tolist():
                    idx = hits[group == g]
                    cond, own = conds[g // len(self._owner_no)], self.refs[int(spans.ref[idx[0]])].code
                    judged[idx] = True
                    holds[idx] |= self._holds(cond, own, idx, standing, qbits, dim_bit, spans)
            status[judged & ~holds if step == "require" else holds] = step

    def _condition_table(self) -> tuple[list[Condition], dict[str, np.ndarray]]:
        """The distinct conditions, and per ref the number of the one each step applies (-1: none):
        ``require`` (the pattern's, else the code's), ``unless_code``, ``unless_pattern``."""
        conds: list[Condition] = []
        number: dict[int, int] = {}

        def no(cond) -> int:
            if not isinstance(cond, Condition):
                return -1
            if id(cond) not in number:
                number[id(cond)] = len(conds)
                conds.append(cond)
            return number[id(cond)]

        codes = self.codebook.codes
        cond_of: dict[str, list[int]] = {"require": [], "unless_code": [], "unless_pattern": []}
        for ref in self.refs:
            include = ref.part == "include"
            code = codes[ref.code] if include else None
            cond_of["require"].append(no(ref.pattern.require if ref.pattern.require is not None else code.require) if include else -1)
            cond_of["unless_code"].append(no(code.unless) if include else -1)
            cond_of["unless_pattern"].append(no(ref.pattern.unless) if include else -1)
        return conds, {k: np.asarray(v, dtype=np.int64) for k, v in cond_of.items()}

    def _holds(self, cond: Condition, own: str, idx: np.ndarray, standing: "_Standing", qbits: np.ndarray, dim_bit: dict, spans: Spans) -> np.ndarray:
        """Does ``cond`` hold for the hits ``idx`` (all of code ``own``)?"""
        out = np.zeros(len(idx), dtype=bool)
        want = sum(dim_bit.get(d, 0) for d in cond.question)
        if want:
            units = spans.unit[idx]
            asked = (qbits[units] & want) != 0
            blockers = [self._owner_no.get(self._cue_names.get(c, ""), -1) for c in cond.question_unless]
            if blockers:
                asked &= ~standing.any_in_unit(blockers)[units]
            out |= asked
        owners = [self._owner_no.get(self._cue_names.get(cue, ""), -1) for cue in cond.cues]
        owners += [self._owner_no[cid] for glob in cond.codes for cid in self.codable if cid != own and fnmatch.fnmatchcase(cid, glob)]
        owners = [o for o in owners if o >= 0]
        if owners:
            out |= standing.outside(owners, cond.scope, idx)
        return out

    def match_table(self, table, *, questions: list | None = None) -> list[Hit]:
        """The accepted hits of every codable code in every unit of ``table``, in a stable order
        (unit, code in codebook order, position, pattern), each span once per pattern."""
        df = self.assess(table, questions)
        df = df[df["status"] == ""]
        if df.empty:
            return []
        rank = {c: i for i, c in enumerate(self.codebook.codes)}
        df = df.assign(_r=df["code"].map(rank)).sort_values(["unit", "_r", "start_char", "end_char", "pattern"], kind="stable")
        df = df.drop_duplicates(["unit", "code", "start_char", "end_char", "pattern"])
        return [Hit(int(u), c, int(a), int(b), t, p) for u, c, a, b, t, p in
                zip(df["unit"], df["code"], df["start_char"], df["end_char"], df["evidence"], df["pattern"])]

    # --- single texts ------------------------------------------------------------------------
    def match_text(self, nlp, text: str, codes: list[str] | None = None, question: set[str] | None = None) -> list[Hit]:
        from pipeline.tokens import table_from_docs

        hits = self.match_table(table_from_docs([nlp(text)]), questions=[question])
        return [h for h in hits if codes is None or h.code in codes]

    def matches_text(self, nlp, text: str, code_id: str) -> bool:
        """Does ``code_id`` fire on ``text``, read as an answer to a question on its dimension?
        (used to check anchor examples)."""
        code: Code = self.codebook.codes[code_id]
        return bool(self.match_text(nlp, text, [code_id], question={code.dimension}))


def code_conditions(code: Code) -> list[Condition]:
    """The conditions of a code and of its include patterns (``require`` and ``unless``)."""
    found = [c for c in (code.require, code.unless) if isinstance(c, Condition)]
    for p in code.include:
        found += [c for c in (p.require, p.unless) if isinstance(c, Condition)]
    return found


def hits_frame(table, spans: Spans, status: np.ndarray, code: np.ndarray, label: np.ndarray, kind: np.ndarray) -> pd.DataFrame:
    """The :data:`ASSESS_COLUMNS` frame of include hits given as arrays (code, pattern label and
    kind per hit)."""
    if not len(spans):
        return pd.DataFrame(columns=ASSESS_COLUMNS)
    units, cs, ce = spans.unit.tolist(), spans.cs.tolist(), spans.ce.tolist()
    texts = table.texts
    return pd.DataFrame({
        "unit": units,
        "code": code,
        "start_char": cs,
        "end_char": ce,
        "evidence": [texts[u][a:b] for u, a, b in zip(units, cs, ce)],
        "pattern": label,
        "kind": kind,
        "status": status,
        "s": spans.s,
        "e": spans.e,
    }, columns=ASSESS_COLUMNS)


def _char_spans(table, tw: TableWords, spans: Spans) -> None:
    """Fills the character spans of token hits (regex hits bring their own)."""
    need = spans.cs < 0
    if not need.any():
        return
    s, last = spans.s[need], spans.e[need] - 1
    spans.cs[need] = table.idx[s]
    forms, inverse = np.unique(table.orth[last], return_inverse=True)  # a length per distinct form
    lengths = np.array([len(table.strings.get(h, "")) for h in forms.tolist()], dtype=np.int64)[inverse.ravel()]
    spans.ce[need] = table.idx[last] + lengths


def _question_bits(questions: list | None, n_units: int) -> tuple[np.ndarray, dict[str, int]]:
    """Per unit the dimensions its question asks about as bits of an integer (0: no question)."""
    dims = sorted({d for q in (questions or ()) if q for d in q})
    bit = {d: 1 << k for k, d in enumerate(dims)}
    bits = np.zeros(n_units, dtype=object if len(dims) > 62 else np.int64)
    for u, q in enumerate(questions or ()):
        if q:
            bits[u] = sum(bit[d] for d in q)
    return bits, bit


class _Standing:
    """The hits still standing at the start of a condition step, answering per scope (clause,
    sentence, unit) "is there a hit of one of these owners that is not inside the span [s, e)?".

    A cue hit inside the include hit's own words is no cue ("Website" is no cue for "Website"),
    but one that reaches beyond them is ("Zeit krieg ich" for "Zeit", "über den Newsletter
    erfahren" for "Newsletter"). Some hit is not inside [s, e) if the earliest start in the scope
    is < s or the latest end is > e, so two per-scope reductions answer it for every hit at once.
    """

    def __init__(self, spans: Spans, hit_owner: np.ndarray, live: np.ndarray, scope_keys: dict[str, np.ndarray]):
        self.spans, self.hit_owner, self.live, self.scope_keys = spans, hit_owner, live, scope_keys
        self._cache: dict = {}

    def _bounds(self, owners: tuple[int, ...], scope: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = (owners, scope)
        if key not in self._cache:
            keys = self.scope_keys[scope]
            mine = np.nonzero(self.live & np.isin(self.hit_owner, owners))[0]
            k = keys[mine]
            uniq, inv = np.unique(k, return_inverse=True)
            min_s = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
            max_e = np.full(len(uniq), -1, dtype=np.int64)
            np.minimum.at(min_s, inv, self.spans.s[mine])
            np.maximum.at(max_e, inv, self.spans.e[mine])
            self._cache[key] = (uniq, min_s, max_e)
        return self._cache[key]

    def outside(self, owners: list[int], scope: str, idx: np.ndarray) -> np.ndarray:
        uniq, min_s, max_e = self._bounds(tuple(sorted(set(owners))), scope)
        if not len(uniq):
            return np.zeros(len(idx), dtype=bool)
        k = self.scope_keys[scope][idx]
        at = np.minimum(np.searchsorted(uniq, k), len(uniq) - 1)
        found = uniq[at] == k
        s, e = self.spans.s[idx], self.spans.e[idx]
        return found & ((min_s[at] < s) | (max_e[at] > e))

    def any_in_unit(self, owners: list[int]) -> np.ndarray:
        n_units = int(self.spans.unit.max()) + 1 if len(self.spans) else 0
        has = np.zeros(n_units, dtype=bool)
        has[self.spans.unit[self.live & np.isin(self.hit_owner, owners)]] = True
        return has
