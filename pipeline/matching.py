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

The matcher works on spaCy ``Doc`` tokens (``norm_`` holds the match key); a term's matches
are resolved once per distinct word form and cached, so large corpora cost one dictionary
look-up per token.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from pipeline.codebook.model import Code, Codebook, Pattern
from pipeline.nlp import compound_keys, fold, lemmatize

NEGATORS = {"kein", "keine", "keinen", "keinem", "keiner", "keines", "keinerlei", "nicht", "nie", "niemals", "nirgends", "nirgendwo", "ohne", "weder", "kaum", "nichts"}
HYPOTHETICAL = {"wäre", "wären", "waere", "waeren", "würde", "würden", "wuerde", "wuerden", "hätte", "hätten", "haette", "haetten", "könnte", "könnten", "koennte", "koennten", "falls", "bräuchte", "bräuchten"}
NO_PROBLEM = {"problem", "thema", "rolle", "hindernis", "hurde", "schwierigkeit", "issue", "grund"}
CLAUSE_BREAK = {",", ";", ":", "–", "—", "-", "(", ")", "aber", "sondern", "eher", "jedoch", "doch", "trotzdem", "allerdings", "dafür", "dafuer", "außer", "ausser", "nur"}
TYPO_MIN = 7


@dataclass(frozen=True)
class Hit:
    """One piece of evidence: a code, the character span in the unit text, the pattern."""

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
    """A single word to find, with its own options resolved against the codebook defaults."""

    key: str  # folded lemma of the term
    surface: str  # folded surface of the term
    raw: str
    compounds: bool
    case_sensitive: bool
    match: str
    typos: bool


class RuleMatcher:
    """Compiled patterns of one codebook; ``match(doc)`` returns the hits of every code.

    Args:
        codebook: a validated codebook.
        negation: apply negation/hypothetical skipping (the codebook's window when > 0).
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
        self._cache: dict[str, frozenset[int]] = {}
        self._glob_cache: dict[tuple[str, str], bool] = {}
        # per code: list of (pattern, compiled form) for include and exclude
        self.compiled: dict[str, tuple[list, list]] = {}
        for code in codebook.codable():
            inc = [self._compile(p) for p in code.include]
            exc = [self._compile(p) for p in code.exclude]
            self.compiled[code.id] = (inc, exc)
        self._any_compounds = any(t.compounds for t in self._terms)

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
        self._cache.clear()
        return tid

    def _compile(self, p: Pattern):
        if p.kind == "term":
            return (p, ("term", self._term(p.value, p)))
        if p.kind == "phrase":
            words = p.value.split()
            # inside a phrase only the last word may be a compound head ("kein Projektbudget")
            ids = [self._term(w, Pattern("term", w, compounds=False, case_sensitive=p.case_sensitive, match=p.match)) for w in words[:-1]]
            ids.append(self._term(words[-1], p))
            return (p, ("phrase", ids))
        if p.kind == "near":
            return (p, ("near", self._term(p.value[0], p), self._term(p.value[1], p), p.window))
        if p.kind == "glob":
            cs = self.settings.case_sensitive if p.case_sensitive is None else p.case_sensitive
            return (p, ("glob", p.value if cs else fold(p.value), cs))
        if p.kind == "regex":
            cs = self.settings.case_sensitive if p.case_sensitive is None else p.case_sensitive
            return (p, ("regex", re.compile(p.value, 0 if cs else re.IGNORECASE)))
        raise ValueError(p.kind)

    # --- token resolution ----------------------------------------------------------------
    def _terms_of(self, tok) -> frozenset[int]:
        text = tok.text
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        found: set[int] = set()
        norm = tok.norm_ or fold(lemmatize(text))
        surface = fold(text)
        for tid in self._by_key.get(norm, ()):
            found.add(tid)
        for tid in self._by_surface.get(surface, ()):
            found.add(tid)
        if self._any_compounds and ((len(text) >= 7 and text.isalpha()) or "-" in text):
            for part in compound_keys(text):
                for tid in self._by_key.get(part, ()):
                    if self._terms[tid].compounds:
                        found.add(tid)
                for tid in self._by_surface.get(part, ()):
                    if self._terms[tid].compounds:
                        found.add(tid)
        if self._typo_index and len(surface) >= TYPO_MIN - 1 and text.isalpha():
            for cand in {norm, surface}:
                for d in _deletes(cand):
                    for tid in self._typo_index.get(d, ()):
                        t = self._terms[tid]
                        if tid not in found and (_damerau1(cand, t.key) or _damerau1(cand, t.surface)):
                            found.add(tid)
        # options that narrow: case-sensitive and surface-only terms
        result = set()
        for tid in found:
            t = self._terms[tid]
            if t.case_sensitive and t.raw not in text and text != t.raw:
                continue
            if t.match == "surface" and surface != t.surface and not (t.compounds and t.surface in compound_keys(text)):
                continue
            result.add(tid)
        out = frozenset(result)
        self._cache[text] = out
        return out

    def _glob(self, tok, pattern: str, cs: bool) -> bool:
        key = (tok.text, pattern)
        hit = self._glob_cache.get(key)
        if hit is None:
            if cs:
                hit = fnmatch.fnmatchcase(tok.text, pattern) or fnmatch.fnmatchcase(tok.lemma_, pattern)
            else:
                hit = fnmatch.fnmatchcase(fold(tok.text), pattern) or fnmatch.fnmatchcase(tok.norm_ or "", pattern)
            self._glob_cache[key] = hit
        return hit

    # --- matching ------------------------------------------------------------------------
    def _spans(self, doc, compiled, token_terms) -> list[tuple[int, int, int, int, str, bool]]:
        """``(tok_start, tok_end, char_start, char_end, pattern_label, has_negator)`` per hit."""
        pattern, form = compiled
        kind = form[0]
        out = []
        n = len(doc)
        if kind == "term":
            tid = form[1]
            for i in range(n):
                if tid in token_terms[i]:
                    out.append((i, i + 1, doc[i].idx, doc[i].idx + len(doc[i].text), pattern.label(), False))
        elif kind == "phrase":
            ids = form[1]
            k = len(ids)
            for i in range(n - k + 1):
                if all(ids[j] in token_terms[i + j] for j in range(k)):
                    inner_neg = any(doc[i + j].lower_ in NEGATORS for j in range(k))
                    out.append((i, i + k, doc[i].idx, doc[i + k - 1].idx + len(doc[i + k - 1].text), pattern.label(), inner_neg))
        elif kind == "near":
            _, a, b, window = form
            for sent in doc.sents:
                pa = [i for i in range(sent.start, sent.end) if a in token_terms[i]]
                pb = [i for i in range(sent.start, sent.end) if b in token_terms[i]]
                for i in pa:
                    for j in pb:
                        if i != j and abs(i - j) <= window:
                            s, e = min(i, j), max(i, j) + 1
                            out.append((s, e, doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text), pattern.label(), False))
        elif kind == "glob":
            _, glob, cs = form
            for i in range(n):
                if doc[i].is_alpha or "-" in doc[i].text:
                    if self._glob(doc[i], glob, cs):
                        out.append((i, i + 1, doc[i].idx, doc[i].idx + len(doc[i].text), pattern.label(), False))
        elif kind == "regex":
            rx = form[1]
            for m in rx.finditer(doc.text):
                if m.end() == m.start():
                    continue
                span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
                if span is None:
                    continue
                out.append((span.start, span.end, m.start(), m.end(), pattern.label(), False))
        return out

    def _negated(self, doc, s: int, e: int, code: Code, inner_negator: bool) -> bool:
        if self.window <= 0 or inner_negator:
            return False
        sent = doc[s].sent
        lo, hi = sent.start, sent.end
        before, after = [], []
        i = s - 1
        while i >= lo and s - i <= self.window:
            if doc[i].lower_ in CLAUSE_BREAK:
                break
            before.append(doc[i])
            i -= 1
        i = e
        while i < hi and i - e < self.window:
            if doc[i].lower_ in CLAUSE_BREAK:
                break
            after.append(doc[i])
            i += 1
        if any(t.lower_ in HYPOTHETICAL for t in before + after):
            return True
        negators = [t for t in before + after if t.lower_ in NEGATORS]
        if not negators:
            return False
        if code.lack_counts:
            # barriers are named by what is missing or not done ("keine Zeit", "der Chef
            # unterstützt das nicht"); only "X is no problem" takes the mention back
            return any((t.norm_ or "") in NO_PROBLEM for t in after)
        return True

    def match(self, doc, codes: list[str] | None = None) -> list[Hit]:
        """Hits of every (or the given) codable code in ``doc``, negated ones removed.

        Offsets are character offsets into ``doc.text``.
        """
        token_terms = [self._terms_of(t) for t in doc]
        hits: list[Hit] = []
        for code_id in codes or list(self.compiled):
            inc, exc = self.compiled[code_id]
            code = self.codebook.codes[code_id]
            found = []
            for comp in inc:
                for s, e, cs, ce, label, inner in self._spans(doc, comp, token_terms):
                    if not self._negated(doc, s, e, code, inner):
                        found.append((cs, ce, label))
            if not found:
                continue
            if exc:
                blocked = [(cs, ce) for comp in exc for _, _, cs, ce, _, _ in self._spans(doc, comp, token_terms)]
                found = [f for f in found if not any(f[0] < be and bs < f[1] for bs, be in blocked)]
            for cs, ce, label in sorted(set(found)):
                hits.append(Hit(code_id, cs, ce, doc.text[cs:ce], label))
        return hits

    def matches_text(self, nlp, text: str, code_id: str) -> bool:
        """Does ``code_id`` fire on ``text``? (used to check anchor examples)."""
        return bool(self.match(nlp(text), [code_id]))
