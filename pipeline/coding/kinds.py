"""The pattern kinds and where each finds its hits in a token table.

One class per kind of pattern, registered in :data:`KINDS` by the pattern kinds it serves
(``term``, ``glob``, ``phrase``, ``near``, ``regex``). Each keeps the patterns given to
:meth:`add` and returns all their hits in a corpus from :meth:`find` as :class:`Spans`
(token spans, plus character spans for regexes). Adding a kind is one class and one registry
entry; the codebook's validation (``pipeline/codebook/load.py``) names the kinds it accepts.

Single words are resolved per distinct word form by :class:`~pipeline.coding.words.WordIndex`;
:class:`TableWords` broadcasts that to token positions once per corpus.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field

import numpy as np

from pipeline.codebook.model import Pattern
from pipeline.coding.context import form_flags
from pipeline.coding.words import WordIndex, make_form
from pipeline.errors import QdaError

REGEX_TIMEOUT_S = 1.0


@dataclass
class Spans:
    """Hits as parallel arrays: pattern reference, unit, token span ``[s, e)``, char span
    (``-1`` = from the tokens), and whether a negator lies inside the matched words."""

    ref: np.ndarray
    unit: np.ndarray
    s: np.ndarray
    e: np.ndarray
    cs: np.ndarray
    ce: np.ndarray
    inner: np.ndarray

    @classmethod
    def empty(cls) -> "Spans":
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z, z, z, np.zeros(0, dtype=bool))

    @classmethod
    def of(cls, rows: list[tuple]) -> "Spans":
        if not rows:
            return cls.empty()
        cols = list(zip(*rows))
        return cls(*(np.asarray(c, dtype=np.int64) for c in cols[:6]), np.asarray(cols[6], dtype=bool))

    @classmethod
    def concat(cls, parts: list["Spans"]) -> "Spans":
        parts = [p for p in parts if len(p.ref)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("ref", "unit", "s", "e", "cs", "ce", "inner")))

    def take(self, idx: np.ndarray) -> "Spans":
        return Spans(*(getattr(self, f)[idx] for f in ("ref", "unit", "s", "e", "cs", "ce", "inner")))

    def __len__(self) -> int:
        return len(self.ref)


@dataclass
class TableWords:
    """Per corpus: the distinct word forms, which terms each matches, and their positions."""

    table: object
    inverse: np.ndarray  # token → distinct form
    strong: dict[int, np.ndarray] = field(default_factory=dict)  # term id → form ids
    weak: dict[int, np.ndarray] = field(default_factory=dict)
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # per token
    lower_unit: np.ndarray | None = None  # per unit: written in lower case throughout
    _order: np.ndarray | None = None
    _lo: np.ndarray | None = None
    _hi: np.ndarray | None = None

    @classmethod
    def build(cls, table, words: WordIndex) -> "TableWords":
        n = table.n_tokens
        if not n:
            return cls(table, np.zeros(0, dtype=np.int64), flags=form_flags([], []),
                       lower_unit=np.zeros(len(table), dtype=bool))
        # one key per (word form, lemma) pair; everything per distinct pair is computed once
        keys = table.orth ^ (table.norm * np.uint64(0x9E3779B97F4A7C15))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
        texts = [table.strings.get(h, "") for h in table.orth[first].tolist()]
        norms = [table.strings.get(h, "") for h in table.norm[first].tolist()]
        strong: dict[int, list[int]] = {}
        weak: dict[int, list[int]] = {}
        for j, (t, nrm) in enumerate(zip(texts, norms)):
            st, wk = words.resolve(make_form(t, nrm))
            for tid in st:
                strong.setdefault(tid, []).append(j)
            for tid in wk:
                weak.setdefault(tid, []).append(j)
        flags = {k: v[inverse] for k, v in form_flags([t.lower() for t in texts], norms).items()}
        order = np.argsort(inverse, kind="stable")
        sorted_inv = inverse[order]
        n_forms = len(texts)
        self = cls(table, inverse, {k: np.array(v) for k, v in strong.items()}, {k: np.array(v) for k, v in weak.items()}, flags)
        self._order = order
        self._lo = np.searchsorted(sorted_inv, np.arange(n_forms))
        self._hi = np.searchsorted(sorted_inv, np.arange(n_forms), side="right")
        self.lower_unit = _lower_units(table, texts, inverse)
        return self

    def _positions_of_forms(self, forms: np.ndarray) -> np.ndarray:
        if forms is None or not len(forms):
            return np.zeros(0, dtype=np.int64)
        return np.concatenate([self._order[self._lo[f]:self._hi[f]] for f in forms.tolist()])

    def positions(self, tid: int) -> np.ndarray:
        """Sorted token positions where term ``tid`` matches (weak matches only in lower-case units).

        Computed once per term (phrases and near patterns share words); do not modify the result.
        """
        cache = self.__dict__.setdefault("_positions", {})
        if tid in cache:
            return cache[tid]
        pos = self._positions_of_forms(self.strong.get(tid))
        weak = self._positions_of_forms(self.weak.get(tid))
        if len(weak):
            weak = weak[self.lower_unit[self.table.unit_of(weak)]]
            pos = np.concatenate([pos, weak])
        cache[tid] = pos = np.sort(pos)
        return pos


def _lower_units(table, texts: list[str], inverse: np.ndarray) -> np.ndarray:
    """Units written in lower case: no word after a sentence start has a capital, and something
    shows that the writer does not capitalise (a sentence starting in lower case, or a noun typed
    in lower case). A sentence without nouns ("Wir wissen nicht, ob das zulässig ist.") has no
    capital after its start either, yet its capitals do carry information."""
    from pipeline.nlp import lemmatize

    upper = np.array([len(t) > 1 and t[0].isupper() and t[1:].islower() and t.isalpha() for t in texts], dtype=bool)[inverse]
    lower = np.array([t.isalpha() and t.islower() for t in texts], dtype=bool)
    lower_noun = np.array([lo and lemmatize(t)[:1].isupper() for lo, t in zip(lower.tolist(), texts)], dtype=bool)[inverse]
    lower = lower[inverse]
    alpha = np.array([t.isalpha() for t in texts], dtype=bool)[inverse]
    sent_start = np.ones(table.n_tokens, dtype=bool)
    sent_start[1:] = table.sent[1:] != table.sent[:-1]
    units = table.unit_of(np.arange(table.n_tokens))
    caps = np.bincount(units, weights=(upper & ~sent_start), minlength=len(table))
    words = np.bincount(units, weights=alpha, minlength=len(table))
    shows = np.bincount(units, weights=(lower & sent_start) | (lower_noun & ~sent_start), minlength=len(table))
    return (caps == 0) & (words >= 3) & (shows > 0)


class TermKind:
    """``term`` and ``glob``: one word (lemma, surface, compound part, typo; or a word glob)."""

    serves = ("term", "glob")

    def __init__(self, words: WordIndex):
        self.words = words
        self.items: list[tuple[int, int]] = []  # (ref, term id)

    def add(self, ref: int, p: Pattern) -> None:
        tid = self.words.glob(p) if p.kind == "glob" else self.words.term(p.value, p)
        self.items.append((ref, tid))

    def find(self, tw: TableWords) -> Spans:
        parts = []
        cache: dict[int, np.ndarray] = {}
        for ref, tid in self.items:
            pos = cache.get(tid)
            if pos is None:
                pos = cache[tid] = tw.positions(tid)
            if len(pos):
                n = len(pos)
                parts.append(Spans(np.full(n, ref), tw.table.unit_of(pos), pos, pos + 1, np.full(n, -1), np.full(n, -1), np.zeros(n, dtype=bool)))
        return Spans.concat(parts)


class PhraseKind:
    """``phrase``: consecutive words, each on its lemma; only the last may be a compound head."""

    serves = ("phrase",)

    def __init__(self, words: WordIndex):
        self.words = words
        self.items: list[tuple[int, list[int]]] = []

    def add(self, ref: int, p: Pattern) -> None:
        ws = p.value.split()
        ids = [self.words.term(w, Pattern("term", w, compounds=False, case_sensitive=p.case_sensitive, match=p.match)) for w in ws[:-1]]
        ids.append(self.words.term(ws[-1], p))
        self.items.append((ref, ids))

    def find(self, tw: TableWords) -> Spans:
        rows = []
        table = tw.table
        neg = tw.flags.get("neg")
        for ref, ids in self.items:
            sets = [tw.positions(t) for t in ids]
            if any(not len(s) for s in sets):
                continue
            start = sets[0]
            ok = np.ones(len(start), dtype=bool)
            for k in range(1, len(ids)):
                ok &= _member(start + k, sets[k])
            start = start[ok]
            # all words in one unit
            units = table.unit_of(start)
            one_unit = units == table.unit_of(start + len(ids) - 1)
            start, units = start[one_unit], units[one_unit]
            n = len(start)
            inner = np.zeros(n, dtype=bool)
            if neg is not None:
                for k in range(len(ids)):
                    inner |= neg[start + k]
            rows.append(Spans(np.full(n, ref), units, start, start + len(ids), np.full(n, -1), np.full(n, -1), inner))
        return Spans.concat(rows)


class NearKind:
    """``near``: two words within ``window`` tokens of each other in one sentence."""

    serves = ("near",)

    def __init__(self, words: WordIndex):
        self.words = words
        self.items: list[tuple[int, int, int, int]] = []

    def add(self, ref: int, p: Pattern) -> None:
        a, b = self.words.term(p.value[0], p), self.words.term(p.value[1], p)
        self.items.append((ref, a, b, p.window))

    def find(self, tw: TableWords) -> Spans:
        rows = []
        sent = tw.table.sent
        for ref, a, b, window in self.items:
            pa, pb = tw.positions(a), tw.positions(b)
            if not len(pa) or not len(pb):
                continue
            # every (p, q) pair within the window, in the order p, then q
            lo, hi = np.searchsorted(pb, pa - window), np.searchsorted(pb, pa + window, side="right")
            count = hi - lo
            p = np.repeat(pa, count)
            q = pb[np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())]
            ok = (q != p) & (sent[p] == sent[q])
            s, e = np.minimum(p, q)[ok], np.maximum(p, q)[ok] + 1
            n = len(s)
            rows.append(Spans(np.full(n, ref), tw.table.unit_of(s), s, e, np.full(n, -1), np.full(n, -1), np.zeros(n, dtype=bool)))
        return Spans.concat(rows)


class RegexKind:
    """``regex``: a regular expression over the unit's text, with a time limit per unit."""

    serves = ("regex",)

    def __init__(self, words: WordIndex):
        self.settings = words.settings
        self.items: list[tuple[int, object, str]] = []

    def add(self, ref: int, p: Pattern) -> None:
        import regex

        cs = self.settings.case_sensitive if p.case_sensitive is None else p.case_sensitive
        self.items.append((ref, regex.compile(p.value, regex.V0 if cs else regex.IGNORECASE | regex.V0), p.value))

    def find(self, tw: TableWords) -> Spans:
        table = tw.table
        rows = []
        joined, starts = None, None
        seen: dict[object, list[tuple]] = {}  # one scan per distinct regex: a codebook may share one among codes
        for ref, rx, source in self.items:
            if rx in seen:
                rows.extend((ref, *row[1:]) for row in seen[rx])
                continue
            first = len(rows)
            units = range(len(table))
            if len(table) > 1 and not _CONTEXT_SENSITIVE.search(source):
                if joined is None:
                    joined = "\n".join(table.texts)
                    starts = np.cumsum([0] + [len(t) + 1 for t in table.texts])
                units = _candidate_units(rx, joined, starts, len(table))
            for u in units:
                text = table.texts[u]
                try:
                    matches = [(m.start(), m.end()) for m in rx.finditer(text, timeout=REGEX_TIMEOUT_S)]
                except TimeoutError:
                    raise QdaError(f"the regex pattern '{source}' took longer than {REGEX_TIMEOUT_S:g} s on one unit "
                                   f"(„{text[:60]}…“)\n  → rewrite it without nested or overlapping repetition, e.g. (a|aa)+")
                for cs, ce in matches:
                    if ce > cs:
                        s, e = _tokens_for_span(table, u, cs, ce)
                        rows.append((ref, u, s, e, cs, ce, False))
            seen[rx] = rows[first:]
        return Spans.of(rows)


# anchors and lookarounds see past a unit's edge in the joined text: such patterns scan unit by unit
_CONTEXT_SENSITIVE = re.compile(r"(?<![\[\\])\^|(?<!\\)\$|\\[AZzG]|\(\?<?[=!]")


def _candidate_units(rx, joined: str, starts: np.ndarray, n_units: int):
    """The units a per-unit scan can find a match in: every unit that a match in the joined
    texts (one newline between units) overlaps. One scan instead of one call per unit. Without
    anchors and lookarounds a match inside a unit is also a match in the joined text, unless an
    earlier match there runs into the unit, which then overlaps it too; ``\\b`` sees the newline
    as a unit's edge. A scan over the whole batch that runs out of time falls back to every unit."""
    try:
        spans = [(m.start(), m.end()) for m in rx.finditer(joined, timeout=REGEX_TIMEOUT_S * 10)]
    except TimeoutError:
        return range(n_units)
    found: set[int] = set()
    for cs, ce in spans:
        first = int(np.searchsorted(starts, cs, side="right")) - 1
        last = int(np.searchsorted(starts, max(ce - 1, cs), side="right")) - 1
        found.update(range(max(first, 0), min(last, n_units - 1) + 1))
    return sorted(found)


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted ``sorted_set``, by binary search (no sort)."""
    if not len(sorted_set):
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return sorted_set[at] == values


def _tokens_for_span(table, u: int, cs: int, ce: int) -> tuple[int, int]:
    lo, hi = int(table.offsets[u]), int(table.offsets[u + 1])
    idx = table.idx[lo:hi]
    s = lo + max(int(np.searchsorted(idx, cs, side="right")) - 1, 0)
    e = lo + max(int(np.searchsorted(idx, ce, side="left")), 1)
    return s, max(e, s + 1)


KINDS = (TermKind, PhraseKind, NearKind, RegexKind)
