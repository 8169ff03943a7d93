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
                for p in getattr(code, part):
                    self._add(Ref(code.id, part, p.label(), p))
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
            for cond in (code.require, code.unless):
                if isinstance(cond, Condition):
                    yield cond
            for p in code.include:
                for cond in (p.require, p.unless):
                    if isinstance(cond, Condition):
                        yield cond

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
        tw = TableWords.build(table, self.words)
        spans = Spans.concat([k.find(tw) for k in self.kinds])
        if not len(spans):
            return pd.DataFrame(columns=ASSESS_COLUMNS)
        _char_spans(table, tw, spans)
        ctx = Context(table, tw.flags, self.window)
        parts = np.array([self.refs[r].part for r in spans.ref.tolist()])
        status = np.array([""] * len(spans), dtype=object)
        self._judge_context(ctx, spans, parts, status)
        self._apply_exclusions(spans, parts, status)
        self._apply_conditions(table, ctx, spans, parts, status, questions)
        inc = np.nonzero(parts == "include")[0]
        refs = [self.refs[r] for r in spans.ref[inc].tolist()]
        units, cs, ce = spans.unit[inc].tolist(), spans.cs[inc].tolist(), spans.ce[inc].tolist()
        return pd.DataFrame({
            "unit": units,
            "code": [r.code for r in refs],
            "start_char": cs,
            "end_char": ce,
            "evidence": [table.texts[u][a:b] for u, a, b in zip(units, cs, ce)],
            "pattern": [r.label for r in refs],
            "kind": [r.pattern.kind for r in refs],
            "status": status[inc],
            "s": spans.s[inc],
            "e": spans.e[inc],
        }, columns=ASSESS_COLUMNS)

    def _judge_context(self, ctx: Context, spans: Spans, parts: np.ndarray, status: np.ndarray) -> None:
        if not self.context:
            return
        f = ctx.flags
        risky = f["neg"] | f["hyp"] | f["wish"] | f["foil"] | f["als"] | f["nothing"]
        sent = ctx.table.sent
        sent_risky = np.bincount(sent, weights=risky.astype(np.int64), minlength=int(sent.max()) + 1) > 0
        check = np.nonzero(sent_risky[sent[spans.s]] & ~spans.inner & (parts != "exclude"))[0]
        codes = self.codebook.codes
        refs = [self.refs[r] for r in spans.ref[check].tolist()]
        judged = np.array([r.pattern.negation is not False for r in refs], dtype=bool)
        check, refs = check[judged], [r for r, j in zip(refs, judged) if j]
        lack = np.array([r.part == "include" and bool(codes[r.code].lack_counts) for r in refs], dtype=bool)
        verdicts = ctx.verdicts(spans.unit[check], spans.s[check], spans.e[check], lack)
        # a cue word is a cue whatever the mood of its sentence
        mood = np.array([r.part == "cue" for r in refs], dtype=bool) & np.isin(verdicts, ["wish", "foil", "no_benefit"])
        status[check[~mood]] = verdicts[~mood]

    def _apply_exclusions(self, spans: Spans, parts: np.ndarray, status: np.ndarray) -> None:
        ex = np.nonzero(parts == "exclude")[0]
        if not len(ex):
            return
        blocked: dict[tuple[int, str], list[tuple[int, int]]] = {}
        for i in ex.tolist():
            blocked.setdefault((int(spans.unit[i]), self.refs[int(spans.ref[i])].code), []).append((int(spans.cs[i]), int(spans.ce[i])))
        for i in np.nonzero((parts == "include") & (status == ""))[0].tolist():
            spans_ex = blocked.get((int(spans.unit[i]), self.refs[int(spans.ref[i])].code))
            if spans_ex and any(spans.cs[i] < be and bs < spans.ce[i] for bs, be in spans_ex):
                status[i] = "excluded"

    def _apply_conditions(self, table, ctx: Context, spans: Spans, parts: np.ndarray, status: np.ndarray, questions) -> None:
        """``require`` first, then ``unless``; the hits of other codes that a condition looks
        for are those still standing at that point (a hit whose own ``require`` failed is no
        evidence for anything else)."""
        if not (parts == "include").any() or not self._has_conditions():
            return
        # plain lists: numpy scalar indexing costs ~100 ns a look-up in these per-hit loops
        self._s, self._e = spans.s.tolist(), spans.e.tolist()
        units, refs = spans.unit.tolist(), spans.ref.tolist()
        clause, sent = ctx.clause, ctx.sent
        scope_ids = {"clause": [clause[x] for x in self._s], "sentence": [sent[x] for x in self._s], "unit": units}
        scope_of = {name: ids.__getitem__ for name, ids in scope_ids.items()}
        codes = self.codebook.codes
        for step in ("require", "unless"):
            present = self._present(parts, status, refs, scope_ids)
            for i in np.nonzero((parts == "include") & (status == ""))[0].tolist():
                ref = self.refs[refs[i]]
                code = codes[ref.code]
                q = questions[units[i]] if questions is not None else None
                if step == "require":
                    cond = ref.pattern.require if ref.pattern.require is not None else code.require
                    if isinstance(cond, Condition) and not self._holds(cond, i, ref.code, present, scope_of, q):
                        status[i] = "require"
                elif any(isinstance(c, Condition) and self._holds(c, i, ref.code, present, scope_of, q) for c in (code.unless, ref.pattern.unless)):
                    status[i] = "unless"

    def _present(self, parts: np.ndarray, status: np.ndarray, refs: list[int], scope_ids: dict[str, list[int]]) -> dict[tuple[str, str], dict[int, list[tuple[int, int]]]]:
        """(code or cue list, scope) → scope id → token spans of the live hits in it (only the
        pairs some condition asks about, see :meth:`_asked`)."""
        asked = self._asked()
        scopes_of: dict[str, list[tuple[str, list[int]]]] = {}
        for owner, scope in sorted(asked):
            scopes_of.setdefault(owner, []).append((scope, scope_ids[scope]))
        owners = sorted(scopes_of)
        owner_no = {o: k for k, o in enumerate(owners)}
        ref_owner = np.array([owner_no.get(r.code, -1) for r in self.refs], dtype=np.int64)[np.asarray(refs, dtype=np.int64)]
        live = ((parts == "cue") | (parts == "include")) & (status == "") & (ref_owner >= 0)
        present: dict[tuple[str, str], dict[int, list[tuple[int, int]]]] = {}
        idx = np.nonzero(live)[0]
        if not len(idx):
            return present
        # one pass per (owner, scope) over that owner's live hits (a bucket's order does not
        # matter: _holds asks whether any hit in it lies outside the hit being judged)
        by_owner = np.argsort(ref_owner[idx], kind="stable")
        idx = idx[by_owner]
        bounds = np.searchsorted(ref_owner[idx], np.arange(len(owners) + 1))
        s_all, e_all = np.asarray(self._s, dtype=np.int64), np.asarray(self._e, dtype=np.int64)
        scope_arrays = {name: np.asarray(ids, dtype=np.int64) for name, ids in scope_ids.items()}
        for k, owner in enumerate(owners):
            mine = idx[bounds[k]:bounds[k + 1]]
            if not len(mine):
                continue
            spans_of = list(zip(s_all[mine].tolist(), e_all[mine].tolist()))
            for scope, _ in scopes_of[owner]:
                buckets: dict[int, list[tuple[int, int]]] = {}
                for key, span in zip(scope_arrays[scope][mine].tolist(), spans_of):
                    buckets.setdefault(key, []).append(span)
                present[(owner, scope)] = buckets
        return present

    def _asked(self) -> set[tuple[str, str]]:
        """The (code or cue list, scope) pairs that :meth:`_holds` can look up."""
        if not hasattr(self, "_asked_pairs"):
            asked = set()
            for cond in self._conditions():
                asked.update((self._cue_names.get(cue, ""), cond.scope) for cue in cond.cues)
                asked.update((cid, cond.scope) for glob in cond.codes for cid in self.codable if fnmatch.fnmatchcase(cid, glob))
                asked.update((self._cue_names.get(cue, ""), "unit") for cue in cond.question_unless)
            self._asked_pairs = asked
        return self._asked_pairs

    def _has_conditions(self) -> bool:
        return any(True for _ in self._conditions())

    def _holds(self, cond: Condition, i: int, own: str, present, scope_of, question) -> bool:
        where = scope_of[cond.scope](i)
        s, e = self._s[i], self._e[i]

        def elsewhere(owner: str, scope: str, key: int) -> bool:
            # a cue inside the hit itself does not count: "Website" is no cue for "Website"
            return any(b <= s or a >= e for a, b in present.get((owner, scope), {}).get(key, ()))

        if question and set(cond.question) & set(question):
            unit = scope_of["unit"](i)
            if not any(present.get((self._cue_names.get(c, ""), "unit"), {}).get(unit) for c in cond.question_unless):
                return True
        for cue in cond.cues:
            if elsewhere(self._cue_names.get(cue, ""), cond.scope, where):
                return True
        for glob in cond.codes:
            for cid in self.codable:
                if cid != own and fnmatch.fnmatchcase(cid, glob) and elsewhere(cid, cond.scope, where):
                    return True
        return False

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


def _char_spans(table, tw: TableWords, spans: Spans) -> None:
    """Fills the character spans of token hits (regex hits bring their own)."""
    need = spans.cs < 0
    if not need.any():
        return
    s, last = spans.s[need], spans.e[need] - 1
    spans.cs[need] = table.idx[s]
    lengths = np.array([len(table.strings.get(h, "")) for h in table.orth[last].tolist()], dtype=np.int64)
    spans.ce[need] = table.idx[last] + lengths
