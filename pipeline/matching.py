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

import numpy as np

from pipeline.codebook.model import Code, Codebook, Pattern
from pipeline.nlp import compound_keys, fold, lemmatize

NEGATORS = {"kein", "keine", "keinen", "keinem", "keiner", "keines", "keinerlei", "nicht", "nie", "niemals", "nirgends", "nirgendwo", "ohne", "weder", "kaum", "nichts"}
HYPOTHETICAL = {"wäre", "wären", "waere", "waeren", "würde", "würden", "wuerde", "wuerden", "hätte", "hätten", "haette", "haetten", "könnte", "könnten", "koennte", "koennten", "falls", "bräuchte", "bräuchten"}
NO_PROBLEM = {"problem", "thema", "rolle", "hindernis", "hurde", "schwierigkeit", "issue", "grund"}
CLAUSE_BREAK = {",", ";", ":", "–", "—", "-", "(", ")", "aber", "sondern", "eher", "jedoch", "doch", "trotzdem", "allerdings", "dafür", "dafuer", "außer", "ausser", "nur"}
TYPO_MIN = 7
NO_PROBLEM_REACH = 10


@dataclass(frozen=True)
class Hit:
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
        # term id → [(code, part, pattern index, role, position-in-pattern)]
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
            self._uses[tid].append((*ref, "term", 0))
            return (p.label(), "term", tid)
        if p.kind == "glob":
            tid = self._glob_term(p)
            self._uses[tid].append((*ref, "term", 0))
            return (p.label(), "term", tid)
        if p.kind == "phrase":
            words = p.value.split()
            # inside a phrase only the last word may be a compound head ("kein Projektbudget")
            ids = [self._term(w, Pattern("term", w, compounds=False, case_sensitive=p.case_sensitive, match=p.match)) for w in words[:-1]]
            ids.append(self._term(words[-1], p))
            self._uses[ids[0]].append((*ref, "phrase", 0))
            return (p.label(), "phrase", ids)
        if p.kind == "near":
            a, b = self._term(p.value[0], p), self._term(p.value[1], p)
            self._uses[a].append((*ref, "near", 0))
            self._uses[b].append((*ref, "near", 1))
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
    def match_table(self, table, *, units: np.ndarray | None = None) -> list[Hit]:
        """Hits of every codable code in every unit of ``table`` (or only in ``units``).

        Negated and hypothetical mentions are dropped, then excluded spans. Offsets are
        character offsets into each unit's text.
        """
        n_tok = table.n_tokens
        labels = self.compiled
        # candidates as parallel lists: unit, code, part, first token, end token, label, inner negator
        C_u, C_code, C_part, C_s, C_e, C_label, C_inner, C_cs, C_ce = [], [], [], [], [], [], [], [], []

        def add(u, code, part, s_, e_, label, inner=False, cs=-1, ce=-1):
            C_u.append(u); C_code.append(code); C_part.append(part); C_s.append(s_); C_e.append(e_)
            C_label.append(label); C_inner.append(inner); C_cs.append(cs); C_ce.append(ce)

        flags = None
        if n_tok:
            # one key per (word form, lemma) pair; everything per distinct pair is computed once
            keys = table.orth ^ (table.norm * np.uint64(0x9E3779B97F4A7C15))
            uniq, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            orth_s = [table.strings.get(h, "") for h in table.orth[first].tolist()]
            norm_s = [table.strings.get(h, "") for h in table.norm[first].tolist()]
            lower = [w.lower() for w in orth_s]
            flags = {
                "neg": np.array([w in NEGATORS for w in lower])[inverse],
                "hyp": np.array([w in HYPOTHETICAL for w in lower])[inverse],
                "brk": np.array([w in CLAUSE_BREAK for w in lower])[inverse],
                "nop": np.array([w in NO_PROBLEM for w in norm_s])[inverse],
                "len": np.array([len(w) for w in orth_s], dtype=np.int64)[inverse],
            }
            term_sets: dict[int, frozenset[int]] = {}
            for j, (o, nrm) in enumerate(zip(orth_s, norm_s)):
                ts = self._terms_for(o, nrm)
                if ts:
                    term_sets[j] = ts
            mask_u = np.zeros(len(uniq), dtype=bool)
            mask_u[list(term_sets)] = True
            positions = np.nonzero(mask_u[inverse])[0]
            if units is not None:
                allowed = np.zeros(len(table) + 1, dtype=bool)
                allowed[units] = True
                positions = positions[allowed[table.unit_of(positions)]]
            pos_list = positions.tolist()
            pos_terms = dict(zip(pos_list, (term_sets[j] for j in inverse[positions].tolist())))
            unit_list = table.unit_of(positions).tolist() if len(positions) else []
            unit_end = table.offsets[1:].tolist()
            near_seen: dict[tuple, list[tuple[int, int, int]]] = defaultdict(list)
            neg = flags["neg"]
            for p, u in zip(pos_list, unit_list):
                for tid in pos_terms[p]:
                    for code, part, index, role, slot in self._uses.get(tid, ()):
                        label, kind, payload = labels[code][0 if part == "include" else 1][index]
                        if kind == "term":
                            add(u, code, part, p, p + 1, label)
                        elif kind == "phrase":
                            k = len(payload)
                            if p + k <= unit_end[u] and all(payload[j] in pos_terms.get(p + j, ()) for j in range(1, k)):
                                add(u, code, part, p, p + k, label, bool(neg[p:p + k].any()))
                        else:  # near
                            near_seen[(code, part, index)].append((p, slot, u))
            sent = table.sent
            for (code, part, index), occ in near_seen.items():
                label, _, (a, b, window) = labels[code][0 if part == "include" else 1][index]
                occ.sort()
                for i, (p, slot, u) in enumerate(occ):
                    for q, slot2, _u in occ[i + 1:]:
                        if q - p > window:
                            break
                        if slot2 != slot and sent[p] == sent[q]:
                            add(u, code, part, p, q + 1, label)
        # regexes run on the unit texts
        unit_range = range(len(table)) if units is None else units.tolist()
        for code, part, index, rx in self._regexes:
            label = labels[code][0 if part == "include" else 1][index][0]
            for u in unit_range:
                for m in rx.finditer(table.texts[u]):
                    if m.end() > m.start():
                        s_, e_ = self._tokens_for_span(table, u, m.start(), m.end())
                        add(u, code, part, s_, e_, label, False, m.start(), m.end())
        if not C_u:
            return []
        s_arr, e_arr = np.array(C_s, dtype=np.int64), np.array(C_e, dtype=np.int64)
        cs_arr, ce_arr = np.array(C_cs, dtype=np.int64), np.array(C_ce, dtype=np.int64)
        need = cs_arr < 0
        if need.any():
            cs_arr[need] = table.idx[s_arr[need]]
            last = e_arr[need] - 1
            ce_arr[need] = table.idx[last] + flags["len"][last]
        negated = np.zeros(len(C_u), dtype=bool)
        if self.window > 0 and flags is not None:
            # only sentences holding a negator or a hypothetical can take a mention back
            risky = (flags["neg"] | flags["hyp"]).astype(np.int64)
            sent_risky = np.bincount(table.sent, weights=risky, minlength=int(table.sent.max()) + 1 if len(table.sent) else 1) > 0
            check = np.nonzero(sent_risky[table.sent[s_arr]] & ~np.array(C_inner) & (np.array(C_part) == "include"))[0]
            for i in check.tolist():
                negated[i] = self._negated(table, flags, C_u[i], C_s[i], C_e[i], self.codebook.codes[C_code[i]])
        kept: dict[tuple[int, str], list[tuple[int, int, str]]] = defaultdict(list)
        blocked: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
        cs_l, ce_l, neg_l = cs_arr.tolist(), ce_arr.tolist(), negated.tolist()
        for i in range(len(C_u)):
            key = (C_u[i], C_code[i])
            if C_part[i] == "exclude":
                blocked[key].append((cs_l[i], ce_l[i]))
            elif not neg_l[i]:
                kept[key].append((cs_l[i], ce_l[i], C_label[i]))
        order = {c: i for i, c in enumerate(self.codebook.codes)}
        hits = []
        for (u, code), spans in kept.items():
            bl = blocked.get((u, code), ())
            text = table.texts[u]
            for cs, ce, label in sorted(set(spans)):
                if bl and any(cs < be and bs < ce for bs, be in bl):
                    continue
                hits.append(Hit(u, code, cs, ce, text[cs:ce], label))
        hits.sort(key=lambda h: (h.unit, order[h.code], h.start, h.end, h.pattern))
        return hits

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
