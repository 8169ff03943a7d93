"""Applying a codebook's patterns to parsed units: token-level matching on lemmas.

Matching semantics (each an explicit codebook option, documented in the README):

* **lemma vs surface**: a term matches a token whose match key (folded lemma, see
  :mod:`pipeline.nlp`) equals the term's, or whose folded surface form equals the term's.
  ``match: surface`` uses the surface form only; ``case_sensitive`` compares exact text.
* **compounds**: a term also matches a compound one of whose dictionary-anchored parts (or
  runs of parts) has the term's key: ``Zeit`` finds ``Zeitmangel`` and ``Arbeitszeit``, not
  ``Zeitung``; ``Rat`` does not find ``Beratung``.
* **typos**: a term of 7+ letters matches a word one edit away (``Eniführung``).
* **negation**: a hit with ``kein``/``nicht``/``nie``/``ohne`` … or a hypothetical
  (``wäre``, ``würde``, ``hätte`` …) within ``negation_window`` tokens in the same clause is
  skipped. For codes with ``lack_counts`` (barriers, which are named by what is missing or
  not done: ``keine Zeit``, ``ohne Budget``, ``der Chef unterstützt das nicht``) a negator is
  part of the evidence; only a clause saying it is no problem (``Zeit ist kein Problem``,
  ``war nie das Problem``) or a hypothetical takes the mention back.
* **exclude**: an exclude hit overlapping an include hit of the same code removes it.

The matcher works on a :class:`pipeline.tokens.TokenTable` (spaCy's parse as arrays; ``NORM``
holds the match key). Which terms a word form matches is resolved once per distinct form, then
numpy finds the tokens that match anything, so a corpus of millions of tokens costs little more
than its distinct vocabulary.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from pipeline.codebook.model import Code, Codebook, Pattern
from pipeline.nlp import compound_keys, fold, lemmatize

NEGATORS = {"kein", "keine", "keinen", "keinem", "keiner", "keines", "keinerlei", "nicht", "nie", "niemals", "nirgends", "nirgendwo", "ohne", "weder", "kaum", "nichts",
            # what is missing is not there: "fehlende Schulungen" is no training (but a barrier)
            "fehlt", "fehlen", "fehlte", "fehlten", "fehlende", "fehlenden", "fehlender", "fehlendes", "mangelnde", "mangelnden", "mangels", "wenig"}
HYPOTHETICAL = {"wäre", "wären", "waere", "waeren", "würde", "würden", "wuerde", "wuerden", "hätte", "hätten", "haette", "haetten", "könnte", "könnten", "koennte", "koennten", "falls", "bräuchte", "bräuchten"}
NO_PROBLEM = {"problem", "thema", "rolle", "hindernis", "hurde", "schwierigkeit", "issue", "grund"}
CLAUSE_BREAK = {",", ";", ":", "–", "—", "-", "(", ")", "aber", "sondern", "eher", "jedoch", "doch", "trotzdem", "allerdings", "dafür", "dafuer", "außer", "ausser", "nur"}
TYPO_MIN = 7
NO_PROBLEM_REACH = 10


class Hit(NamedTuple):
    """One piece of evidence: unit number, code, character span in the unit text, pattern."""

    unit: int
    code: str
    start: int
    end: int
    text: str
    pattern: str


def _damerau1(a: str, b: str) -> bool:
    """True if ``a`` and ``b`` are at most one edit apart (insert, delete, substitute, swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))} | {word}


@dataclass
class _Term:
    """A single word to find, with its options resolved against the codebook defaults."""

    key: str  # folded lemma of the term
    surface: str  # folded surface of the term
    raw: str
    compounds: bool
    case_sensitive: bool
    match: str
    typos: bool
    glob: str | None = None  # set for glob patterns (then key/surface are unused)


class RuleMatcher:
    """Compiled patterns of one codebook.

    ``match_table(table)`` codes every unit of a :class:`~pipeline.tokens.TokenTable`;
    ``match_text(nlp, text)`` codes one text (used for anchor checks and tests).

    Args:
        codebook: a validated codebook.
        negation: skip negated and hypothetical mentions (with the codebook's window).
    """

    def __init__(self, codebook: Codebook, *, negation: bool = True):
        self.codebook = codebook
        self.settings = codebook.matching
        self.window = codebook.matching.negation_window if negation else 0
        self._terms: list[_Term] = []
        self._term_ids: dict[tuple, int] = {}
        self._by_key: dict[str, list[int]] = {}
        self._by_surface: dict[str, list[int]] = {}
        self._typo_index: dict[str, set[int]] = {}
        self._globs: list[int] = []
        # (code, pattern label, kind, payload) per include/exclude pattern
        self.compiled: dict[str, tuple[list, list]] = {}
        # term id → [(code, part, pattern index)] of single-word patterns (terms, globs);
        # phrases and near patterns are anchored per corpus in match_table
        self._uses: dict[int, list[tuple]] = defaultdict(list)
        self._regexes: list[tuple[str, str, int, re.Pattern]] = []
        for code in codebook.codable():
            inc = [self._compile(code.id, "include", i, p) for i, p in enumerate(code.include)]
            exc = [self._compile(code.id, "exclude", i, p) for i, p in enumerate(code.exclude)]
            self.compiled[code.id] = (inc, exc)
        self._any_compounds = any(t.compounds for t in self._terms if t.glob is None)

    # --- compilation ---------------------------------------------------------------------
    def _term(self, word: str, p: Pattern) -> int:
        s = self.settings
        t = _Term(
            key=fold(lemmatize(word)),
            surface=fold(word),
            raw=word,
            compounds=s.compounds if p.compounds is None else p.compounds,
            case_sensitive=s.case_sensitive if p.case_sensitive is None else p.case_sensitive,
            match=p.match or s.match,
            typos=s.typos and len(word) >= TYPO_MIN,
        )
        ident = (t.key, t.surface, t.raw if t.case_sensitive else "", t.compounds, t.case_sensitive, t.match, t.typos)
        if ident in self._term_ids:
            return self._term_ids[ident]
        tid = len(self._terms)
        self._terms.append(t)
        self._term_ids[ident] = tid
        if t.match == "lemma":
            self._by_key.setdefault(t.key, []).append(tid)
        self._by_surface.setdefault(t.surface, []).append(tid)
        if t.typos:
            for d in _deletes(t.key) | _deletes(t.surface):
                self._typo_index.setdefault(d, set()).add(tid)
        return tid

    def _glob_term(self, p: Pattern) -> int:
        cs = self.settings.case_sensitive if p.case_sensitive is None else p.case_sensitive
        pattern = p.value if cs else fold(p.value)
        ident = ("glob", pattern, cs)
        if ident in self._term_ids:
            return self._term_ids[ident]
        tid = len(self._terms)
        self._terms.append(_Term("", "", p.value, False, cs, "surface", False, glob=pattern))
        self._term_ids[ident] = tid
        self._globs.append(tid)
        return tid

    def _compile(self, code: str, part: str, index: int, p: Pattern):
        ref = (code, part, index)
        if p.kind == "term":
            tid = self._term(p.value, p)
            self._uses[tid].append(ref)
            return (p.label(), "term", tid)
        if p.kind == "glob":
            tid = self._glob_term(p)
            self._uses[tid].append(ref)
            return (p.label(), "term", tid)
        if p.kind == "phrase":
            words = p.value.split()
            # inside a phrase only the last word may be a compound head ("kein Projektbudget")
            ids = [self._term(w, Pattern("term", w, compounds=False, case_sensitive=p.case_sensitive, match=p.match)) for w in words[:-1]]
            ids.append(self._term(words[-1], p))
            return (p.label(), "phrase", ids)
        if p.kind == "near":
            a, b = self._term(p.value[0], p), self._term(p.value[1], p)
            return (p.label(), "near", (a, b, p.window))
        if p.kind == "regex":
            cs = self.settings.case_sensitive if p.case_sensitive is None else p.case_sensitive
            rx = re.compile(p.value, 0 if cs else re.IGNORECASE)
            self._regexes.append((code, part, index, rx))
            return (p.label(), "regex", rx)
        raise ValueError(p.kind)

    # --- which terms a word form matches ---------------------------------------------------
    def _terms_for(self, text: str, norm: str) -> frozenset[int]:
        found: set[int] = set()
        surface = fold(text)
        for tid in self._by_key.get(norm, ()):
            found.add(tid)
        for tid in self._by_surface.get(surface, ()):
            found.add(tid)
        if self._any_compounds and ((len(text) >= 7 and text.isalpha()) or ("-" in text and len(text) > 3)):
            for part in compound_keys(text):
                for tid in (*self._by_key.get(part, ()), *self._by_surface.get(part, ())):
                    if self._terms[tid].compounds:
                        found.add(tid)
        if self._typo_index and len(surface) >= TYPO_MIN - 1 and text.isalpha():
            for cand in {norm, surface}:
                for d in _deletes(cand):
                    for tid in self._typo_index.get(d, ()):
                        t = self._terms[tid]
                        if tid not in found and (_damerau1(cand, t.key) or _damerau1(cand, t.surface)):
                            found.add(tid)
        for tid in self._globs:
            t = self._terms[tid]
            if (fnmatch.fnmatchcase(text, t.glob) or fnmatch.fnmatchcase(norm, t.glob)) if t.case_sensitive else (
                fnmatch.fnmatchcase(surface, t.glob) or fnmatch.fnmatchcase(norm, t.glob)
            ):
                found.add(tid)
        result = set()
        for tid in found:
            t = self._terms[tid]
            if t.glob is None:
                if t.case_sensitive and t.raw not in text:
                    continue
                if t.match == "surface" and surface != t.surface and not (t.compounds and t.surface in compound_keys(text)):
                    continue
            result.add(tid)
        return frozenset(result)

    # --- matching ------------------------------------------------------------------------
    def _index_uses(self):
        """Flat per-kind views of the pattern uses, built once."""
        if hasattr(self, "_code_idx"):
            return
        codes = list(self.compiled)
        self._code_idx = {c: i for i, c in enumerate(codes)}
        self._codes_list = codes
        self._labels_list: list[str] = []
        label_idx: dict[str, int] = {}
        self._term_uses: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # tid → (code_i, is_exclude, label_i)
        for tid, uses in self._uses.items():
            for code, part, index in uses:
                label = self.compiled[code][0 if part == "include" else 1][index][0]
                li = label_idx.setdefault(label, len(label_idx))
                if li == len(self._labels_list):
                    self._labels_list.append(label)
                self._term_uses[tid].append((self._code_idx[code], int(part == "exclude"), li))

    def match_table(self, table, *, units: np.ndarray | None = None) -> list[Hit]:
        """Hits of every codable code in every unit of ``table`` (or only in ``units``).

        Negated and hypothetical mentions are dropped, then excluded spans. Offsets are
        character offsets into each unit's text.
        """
        self._index_uses()
        n_tok = table.n_tokens
        labels = self.compiled
        lab_idx = {l: i for i, l in enumerate(self._labels_list)}
        # candidates: arrays for single-word patterns, lists for phrases, near and regex
        parts: list[tuple[np.ndarray, ...]] = []  # (unit, code_i, excl, s, e, label_i, inner, cs, ce)
        extra: list[tuple] = []

        def add(u, code, part, s_, e_, label, inner=False, cs=-1, ce=-1):
            if label not in lab_idx:
                lab_idx[label] = len(self._labels_list)
                self._labels_list.append(label)
            extra.append((u, self._code_idx[code], int(part == "exclude"), s_, e_, lab_idx[label], inner, cs, ce))

        flags = None
        if n_tok:
            # one key per (word form, lemma) pair; everything per distinct pair is computed once
            keys = table.orth ^ (table.norm * np.uint64(0x9E3779B97F4A7C15))
            uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            inverse = inverse.ravel()
            orth_s = [table.strings.get(h, "") for h in table.orth[first].tolist()]
            norm_s = [table.strings.get(h, "") for h in table.norm[first].tolist()]
            lower = [w.lower() for w in orth_s]
            flags = {
                "neg": np.array([w in NEGATORS for w in lower], dtype=bool)[inverse],
                "hyp": np.array([w in HYPOTHETICAL for w in lower], dtype=bool)[inverse],
                "brk": np.array([w in CLAUSE_BREAK for w in lower], dtype=bool)[inverse],
                "nop": np.array([w in NO_PROBLEM for w in norm_s], dtype=bool)[inverse],
                "len": np.array([len(w) for w in orth_s], dtype=np.int64)[inverse],
            }
            term_sets: dict[int, frozenset[int]] = {}
            for j, (o, nrm) in enumerate(zip(orth_s, norm_s)):
                ts = self._terms_for(o, nrm)
                if ts:
                    term_sets[j] = ts
            allowed = None
            if units is not None:
                allowed = np.zeros(len(table) + 1, dtype=bool)
                allowed[units] = True
            # single-word patterns, vectorised: all positions of a distinct word at once
            single: dict[tuple[int, int, int], list[int]] = defaultdict(list)  # (code, excl, label) → key ids
            counts = np.bincount(inverse, minlength=len(uniq))
            tid_freq: dict[int, int] = defaultdict(int)
            for j, ts in term_sets.items():
                for tid in ts:
                    tid_freq[tid] += int(counts[j])
                    for use in self._term_uses.get(tid, ()):
                        single[use].append(j)
            # phrases are checked from their rarest word in this corpus, near patterns from both
            other_uses: dict[int, list[tuple]] = defaultdict(list)
            for code, (inc, exc) in labels.items():
                for part, items in (("include", inc), ("exclude", exc)):
                    for index, (label, kind, payload) in enumerate(items):
                        if kind == "phrase":
                            slot = min(range(len(payload)), key=lambda w: (tid_freq.get(payload[w], 0), -w))
                            if all(tid_freq.get(t, 0) for t in payload):
                                other_uses[payload[slot]].append((code, part, index, kind, slot))
                        elif kind == "near":
                            a, b, _ = payload
                            if tid_freq.get(a, 0) and tid_freq.get(b, 0):
                                other_uses[a].append((code, part, index, kind, 0))
                                other_uses[b].append((code, part, index, kind, 1))
            other_keys = [j for j, ts in term_sets.items() if any(t in other_uses for t in ts)]
            if single:
                order_pos = np.argsort(inverse, kind="stable")
                starts_k = np.searchsorted(inverse[order_pos], np.arange(len(uniq)))
                ends_k = np.searchsorted(inverse[order_pos], np.arange(len(uniq)), side="right")
                for (ci, ex, li), js in single.items():
                    pos = np.concatenate([order_pos[starts_k[j]:ends_k[j]] for j in set(js)])
                    if allowed is not None:
                        pos = pos[allowed[table.unit_of(pos)]]
                    if not len(pos):
                        continue
                    n = len(pos)
                    parts.append((table.unit_of(pos), np.full(n, ci), np.full(n, ex), pos, pos + 1, np.full(n, li),
                                  np.zeros(n, dtype=bool), np.full(n, -1), np.full(n, -1)))
            # phrases and near patterns: only at positions of words that start them
            if other_keys:
                okeys = np.zeros(len(uniq), dtype=bool)
                okeys[list(set(other_keys))] = True
                cand_pos = np.nonzero(okeys[inverse])[0]
                if allowed is not None:
                    cand_pos = cand_pos[allowed[table.unit_of(cand_pos)]]
                # plain lists: numpy scalar indexing costs ~100 ns a look-up in this hot loop
                inv_l = inverse.tolist()
                unit_start, unit_end = table.offsets[:-1].tolist(), table.offsets[1:].tolist()
                near_seen: dict[tuple, list[tuple[int, int, int]]] = defaultdict(list)
                neg = flags["neg"].tolist()
                empty = frozenset()

                def terms_at(q: int) -> frozenset[int]:
                    return term_sets.get(inv_l[q], empty)

                for p, u in zip(cand_pos.tolist(), table.unit_of(cand_pos).tolist()):
                    for tid in terms_at(p):
                        for code, part, index, kind, slot in other_uses.get(tid, ()):
                            label, _, payload = labels[code][0 if part == "include" else 1][index]
                            if kind == "phrase":
                                k, st = len(payload), p - slot
                                if st >= unit_start[u] and st + k <= unit_end[u] and all(
                                    payload[j] in terms_at(st + j) for j in range(k) if j != slot
                                ):
                                    add(u, code, part, st, st + k, label, any(neg[st:st + k]))
                            else:
                                near_seen[(code, part, index)].append((p, slot, u))
                sent = table.sent.tolist() if near_seen else []
                for (code, part, index), occ in near_seen.items():
                    label, _, (a, b, window) = labels[code][0 if part == "include" else 1][index]
                    occ.sort()
                    n_occ = len(occ)
                    for i, (p, slot, u) in enumerate(occ):
                        k = i + 1
                        while k < n_occ and occ[k][0] - p <= window:
                            q, slot2 = occ[k][0], occ[k][1]
                            if slot2 != slot and sent[p] == sent[q]:
                                add(u, code, part, p, q + 1, label)
                            k += 1
        # regexes run on the unit texts
        unit_range = range(len(table)) if units is None else units.tolist()
        for code, part, index, rx in self._regexes:
            label = labels[code][0 if part == "include" else 1][index][0]
            for u in unit_range:
                for m in rx.finditer(table.texts[u]):
                    if m.end() > m.start():
                        s_, e_ = self._tokens_for_span(table, u, m.start(), m.end())
                        add(u, code, part, s_, e_, label, False, m.start(), m.end())
        if extra:
            cols = list(zip(*extra))
            parts.append(tuple(np.array(c) for c in cols))
        if not parts:
            return []
        U, CI, EX, S, E, LI, INNER, CS, CE = (np.concatenate([p[i] for p in parts]) for i in range(9))
        U, CI, EX, S, E, LI, CS, CE = (x.astype(np.int64) for x in (U, CI, EX, S, E, LI, CS, CE))
        INNER = INNER.astype(bool)
        need = CS < 0
        if need.any():
            CS[need] = table.idx[S[need]]
            last = E[need] - 1
            CE[need] = table.idx[last] + flags["len"][last]
        negated = np.zeros(len(U), dtype=bool)
        if self.window > 0 and flags is not None:
            # only sentences holding a negator or a hypothetical can take a mention back
            risky = (flags["neg"] | flags["hyp"]).astype(np.int64)
            sent_risky = np.bincount(table.sent, weights=risky, minlength=int(table.sent.max()) + 1) > 0
            # and only if such a word lies within reach of the hit in its unit
            cum = np.concatenate([[0], np.cumsum(risky)])
            lo_u, hi_u = table.offsets[U], table.offsets[U + 1]
            reach_lo = np.maximum(S - self.window, lo_u)
            reach_hi = np.minimum(E + max(self.window, NO_PROBLEM_REACH), hi_u)
            near_risk = (cum[reach_hi] - cum[reach_lo]) > 0
            check = np.nonzero(sent_risky[table.sent[S]] & near_risk & ~INNER & (EX == 0))[0]
            codes_obj = [self.codebook.codes[c] for c in self._codes_list]
            for i, u, s_, e_, ci in zip(check.tolist(), U[check].tolist(), S[check].tolist(), E[check].tolist(), CI[check].tolist()):
                negated[i] = self._negated(table, flags, u, s_, e_, codes_obj[ci])
        inc = (EX == 0) & ~negated
        # exclusions: only (unit, code) pairs that have an exclude hit need an overlap check
        n_codes = len(self._codes_list) + 1
        pair = U * n_codes + CI
        ex_idx = np.nonzero(EX == 1)[0]
        if len(ex_idx):
            blocked: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for k, bs, be in zip(pair[ex_idx].tolist(), CS[ex_idx].tolist(), CE[ex_idx].tolist()):
                blocked[k].append((bs, be))
            at_risk = np.nonzero(inc & np.isin(pair, np.fromiter(blocked, dtype=np.int64)))[0]
            for i, k, cs, ce in zip(at_risk.tolist(), pair[at_risk].tolist(), CS[at_risk].tolist(), CE[at_risk].tolist()):
                if any(cs < be and bs < ce for bs, be in blocked[k]):
                    inc[i] = False
        keep = np.nonzero(inc)[0]
        code_rank = np.array([list(self.codebook.codes).index(c) for c in self._codes_list], dtype=np.int64)
        lab_rank = np.argsort(np.argsort(np.array(self._labels_list, dtype=object)))
        Uk, CIk, CSk, CEk, LIk = U[keep], CI[keep], CS[keep], CE[keep], LI[keep]
        order = np.lexsort((lab_rank[LIk], CEk, CSk, code_rank[CIk], Uk))
        Uk, CIk, CSk, CEk, LIk = Uk[order], CIk[order], CSk[order], CEk[order], LIk[order]
        if len(Uk):
            dup = np.zeros(len(Uk), dtype=bool)
            dup[1:] = (Uk[1:] == Uk[:-1]) & (CIk[1:] == CIk[:-1]) & (CSk[1:] == CSk[:-1]) & (CEk[1:] == CEk[:-1]) & (LIk[1:] == LIk[:-1])
            Uk, CIk, CSk, CEk, LIk = Uk[~dup], CIk[~dup], CSk[~dup], CEk[~dup], LIk[~dup]
        texts, codes_l, labels_l = table.texts, self._codes_list, self._labels_list
        return [Hit(u, codes_l[ci], cs, ce, texts[u][cs:ce], labels_l[li])
                for u, ci, cs, ce, li in zip(Uk.tolist(), CIk.tolist(), CSk.tolist(), CEk.tolist(), LIk.tolist())]

    @staticmethod
    def _tokens_for_span(table, u: int, cs: int, ce: int) -> tuple[int, int]:
        lo, hi = int(table.offsets[u]), int(table.offsets[u + 1])
        idx = table.idx[lo:hi]
        s = lo + max(int(np.searchsorted(idx, cs, side="right")) - 1, 0)
        e = lo + max(int(np.searchsorted(idx, ce, side="left")), 1)
        return s, max(e, s + 1)

    def _negated(self, table, flags, u: int, s: int, e: int, code: Code) -> bool:
        lo, hi = int(table.offsets[u]), int(table.offsets[u + 1])
        sent = table.sent[s]
        brk, neg, hyp, nop = flags["brk"], flags["neg"], flags["hyp"], flags["nop"]

        def clause(start: int, step: int, reach: int) -> list[int]:
            out, i = [], start
            while lo <= i < hi and abs(i - start) < reach and table.sent[i] == sent and not brk[i]:
                out.append(i)
                i += step
            return out

        near = clause(s - 1, -1, self.window) + clause(e, 1, self.window)
        if any(hyp[i] for i in near):
            return True
        # "X war bei uns eigentlich nie das Problem": the verdict may come late in the clause
        rest = clause(e, 1, NO_PROBLEM_REACH)
        if any(neg[i] for i in rest) and any(nop[i] for i in rest):
            return True
        if not any(neg[i] for i in near):
            return False
        # barriers are named by what is missing or not done ("keine Zeit", "der Chef
        # unterstützt das nicht"): for them a negator is part of the evidence
        return not code.lack_counts

    # --- single texts --------------------------------------------------------------------
    def match_docs(self, docs) -> list[Hit]:
        from pipeline.tokens import table_from_docs

        return self.match_table(table_from_docs(docs))

    def match_text(self, nlp, text: str, codes: list[str] | None = None) -> list[Hit]:
        hits = self.match_docs([nlp(text)])
        return [h for h in hits if codes is None or h.code in codes]

    def matches_text(self, nlp, text: str, code_id: str) -> bool:
        """Does ``code_id`` fire on ``text``? (used to check anchor examples)."""
        return bool(self.match_text(nlp, text, [code_id]))
