"""Which codebook words a word form matches: the single-word match kinds.

A corpus of millions of tokens has only tens of thousands of distinct word forms, so every
question "does this form match that term?" is answered once per distinct form
(:meth:`WordIndex.resolve`) and then broadcast to all its positions with numpy.

The single-word kinds, each one function in :data:`WORD_KINDS` (a new kind is one function
and one entry there):

* ``lemma``: the form's match key (folded lemma) equals the term's;
* ``surface``: the folded form equals the folded term;
* ``compound``: a part of the compound (or a run of adjacent parts) has the term's key, at the
  position the pattern asks for: anywhere (``compounds: true``), only as the head, the last
  part that names what the word is (``head``: ``Elternzeit`` is a kind of *Zeit*), or only as a
  modifier (``modifier``: ``Zeitmangel`` is a lack *of time*);
* ``typo``: one edit away from the term, for terms of 7+ letters, and only for forms the
  dictionary does not know (``Arbeitsbelastnug`` is a typo; ``rechnet`` is a real word and does
  not become ``Rechner``); for terms of 4 to 6 letters only two neighbouring letters swapped
  (``Ziet``, ``Budegt``): one edit in a short word too often makes another word;
* ``glob``: a shell-style pattern over the form (``Führungskr*``).

Abbreviations: a term written in capitals (``OB``, ``IT``, ``DSB``) matches only words written
in capitals, so ``ob`` (whether) is not the mayor.

Nouns: a term written with a capital (``Stelle``) is a noun; a lower-case form that is not a
noun (``ich stelle``, whose lemma is the verb *stellen*) only matches it in units written in
lower case throughout (where capitals carry no information). A noun typed in lower case
(``antragsverfahren``) is still a noun. The matcher decides per unit, so here such matches are
returned separately as *weak*.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass
from typing import Callable, Iterable

from pipeline.codebook.model import MatchSettings, Pattern
from pipeline.nlp import LINKS, MIN_HEAD, MIN_MOD, fold, is_known, lemmatize, split_compound

TYPO_MIN = 7
SWAP_MIN = 4  # shorter terms (4 to 6 letters) tolerate only a swap of two neighbouring letters


@dataclass(frozen=True)
class Form:
    """One distinct word form of the corpus, as the word kinds see it."""

    text: str  # as written
    norm: str  # match key: folded lemma
    surface: str  # folded text
    known: bool  # a dictionary word (then no typo tolerance)
    noun_like: bool  # capitalised, or a noun typed in lower case (its lemma is a noun)


@dataclass
class Term:
    """A single word to find, with its options resolved against the codebook defaults."""

    key: str  # folded lemma
    surface: str  # folded surface
    raw: str
    compounds: bool | str  # True | "head" | "modifier" | False
    case_sensitive: bool
    match: str  # lemma | surface
    typos: bool
    glob: str | None = None  # set for glob patterns (key/surface unused)

    @property
    def noun(self) -> bool:
        return self.glob is None and self.raw[:1].isupper() and not self.raw.isupper()


def _swaps(word: str) -> set[str]:
    """``word`` with two neighbouring letters swapped, every way that changes it."""
    return {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1) if word[i] != word[i + 1]}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))} | {word}


def damerau1(a: str, b: str) -> bool:
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


def _keys(text: str) -> tuple[str, str]:
    return fold(lemmatize(text[:1].upper() + text[1:])), fold(text)


@functools.lru_cache(maxsize=200_000)
def compound_parts(word: str) -> tuple[frozenset[str], frozenset[str]]:
    """Match keys of a compound's parts by position: ``(head keys, modifier keys)``.

    The head keys belong to the runs of parts that end with the last part (``Arbeitszeit``:
    ``zeit``), the modifier keys to runs that do not (``Zeitmangel``: ``zeit``). The whole word
    is in neither (it is the form's own key). Both sets are empty for a simple word.
    """
    if word[:1].islower() and "-" not in word and fold(lemmatize(word)) != fold(word):
        return frozenset(), frozenset()  # an inflected verb form ("übernommen") is no compound
    parts: list[str] = []
    for piece in (p for p in word.strip("-").split("-") if p):
        parts.extend(split_compound(piece) if piece.isalpha() else (piece,))
    n = len(parts)
    if n < 2:
        return frozenset(), frozenset()
    heads: set[str] = set()
    mods: set[str] = set()
    for a in range(n):
        for b in range(a + 1, n + 1):
            if a == 0 and b == n:
                continue
            keys = _keys("".join(parts[a:b]))
            (heads if b == n else mods).update(k for k in keys if len(k) >= 3)
    return frozenset(heads), frozenset(mods)


class WordIndex:
    """The single-word terms of a codebook and the look-ups that find them."""

    def __init__(self, settings: MatchSettings):
        self.settings = settings
        self.terms: list[Term] = []
        self._ids: dict[tuple, int] = {}
        self.by_key: dict[str, list[int]] = {}
        self.by_surface: dict[str, list[int]] = {}
        self.typo_index: dict[str, set[int]] = {}
        self.swap_index: dict[str, set[int]] = {}
        self.globs: list[int] = []
        self.any_compounds = False

    def term(self, word: str, p: Pattern) -> int:
        """Registers ``word`` with the options of pattern ``p``; returns its term id."""
        s = self.settings
        compounds = s.compounds if p.compounds is None else p.compounds
        key, surface = fold(lemmatize(word)), fold(word)
        abbreviation = word.isupper() and word.isalpha() and len(word) <= 6
        t = Term(key=key, surface=surface, raw=word, compounds=compounds,
                 case_sensitive=(s.case_sensitive or abbreviation) if p.case_sensitive is None else p.case_sensitive,
                 match=p.match or s.match, typos=s.typos and len(word) >= TYPO_MIN)
        ident = (t.key, t.surface, t.raw, t.compounds, t.case_sensitive, t.match, t.typos)
        if ident in self._ids:
            return self._ids[ident]
        tid = len(self.terms)
        self.terms.append(t)
        self._ids[ident] = tid
        if t.match == "lemma":
            # the token's lemma may equal the term as written even where the term's own lemma
            # differs (the dictionary reads "Vorgesetzter" as a form of "Vorgesetzte")
            for k in {t.key, t.surface}:
                self.by_key.setdefault(k, []).append(tid)
        self.by_surface.setdefault(t.surface, []).append(tid)
        if t.typos:
            for d in _deletes(t.key) | _deletes(t.surface):
                self.typo_index.setdefault(d, set()).add(tid)
        elif s.typos and SWAP_MIN <= len(word) < TYPO_MIN and word.isalpha() and not t.case_sensitive:
            for v in _swaps(t.surface):
                self.swap_index.setdefault(v, set()).add(tid)
        self.any_compounds = self.any_compounds or bool(compounds)
        return tid

    def glob(self, p: Pattern) -> int:
        cs = self.settings.case_sensitive if p.case_sensitive is None else p.case_sensitive
        pattern = p.value if cs else fold(p.value)
        ident = ("glob", pattern, cs)
        if ident in self._ids:
            return self._ids[ident]
        tid = len(self.terms)
        self.terms.append(Term("", "", p.value, False, cs, "surface", False, glob=pattern))
        self._ids[ident] = tid
        self.globs.append(tid)
        return tid

    def resolve(self, form: Form) -> tuple[frozenset[int], frozenset[int]]:
        """``(strong, weak)`` term ids that ``form`` matches; weak = a noun term met by a
        lower-case form (counts only in units written in lower case)."""
        found: set[int] = set()
        for kind in WORD_KINDS:
            found.update(kind(self, form))
        strong, weak = set(), set()
        for tid in found:
            t = self.terms[tid]
            if t.glob is None:
                if t.case_sensitive and t.raw not in form.text:
                    continue
                if t.match == "surface" and form.surface != t.surface and not _compound_hit(t, form) and not _typo_of(t, form):
                    continue
            (weak if t.noun and not form.noun_like and not t.case_sensitive else strong).add(tid)
        return frozenset(strong), frozenset(weak)


def _lemma(index: WordIndex, form: Form) -> Iterable[int]:
    return index.by_key.get(form.norm, ())


def _surface(index: WordIndex, form: Form) -> Iterable[int]:
    found = index.by_surface.get(form.surface, ())
    if "-" in form.surface and not found:
        # a compound written with a hyphen finds the term written without ("Feedback-Schleife")
        return index.by_surface.get(form.surface.replace("-", ""), ())
    return found


def _compound_hit(t: Term, form: Form) -> bool:
    if not t.compounds:
        return False
    heads, mods = compound_parts(form.text)
    keys = {"head": heads, "modifier": mods}.get(t.compounds, heads | mods)
    return t.key in keys or t.surface in keys


def _compound(index: WordIndex, form: Form) -> Iterable[int]:
    text = form.text
    if not index.any_compounds or not ((len(text) >= 7 and text.isalpha()) or ("-" in text and len(text) > 3)):
        return ()
    heads, mods = compound_parts(text)
    out = []
    for position, keys in (("head", heads), ("modifier", mods)):
        for k in keys:
            for tid in (*index.by_key.get(k, ()), *index.by_surface.get(k, ())):
                mode = index.terms[tid].compounds
                if mode is True or mode == position:
                    out.append(tid)
    return out


def _typo_of(t: Term, form: Form) -> bool:
    return t.typos and not form.known and damerau1(form.surface, t.surface)


_ENDINGS = ("en", "n", "e", "s", "es", "er", "ern", "se")  # "se": Kenntnis-se


def _stems(surface: str) -> list[str]:
    """``surface`` without each German inflection ending it has."""
    return [surface[:-len(e)] for e in _ENDINGS if surface.endswith(e)]


_PARTICLES = ("ein", "auf", "um", "an", "aus", "ab", "zu", "mit", "vor", "nach", "weg", "zurück", "fest", "her", "hin", "los", "über")
_VERB_ENDINGS = ("est", "et", "st", "t", "te", "ten", "tet", "e")


def _verb_stems(surface: str) -> set[str]:
    """Infinitives a misspelt verb form may stand for: ``erabeitet`` → *erabeiten*,
    ``eingefürt`` → *einfüren*, ``umgestelt`` → *umstelen* (each then one edit from the term).
    The lemmatizer knows no misspelt form, so a participle keeps its *ge-* and its ending."""
    bases = {surface}
    if surface.startswith("ge") and len(surface) > 6:
        bases.add(surface[2:])
    for p in _PARTICLES:
        if surface.startswith(p + "ge") and len(surface) > len(p) + 5:
            bases.add(p + surface[len(p) + 2:])
    out = set()
    for base in bases:
        for end in _VERB_ENDINGS:
            if base.endswith(end) and len(base) - len(end) >= 4:
                out.add(base[:-len(end)] + "en")
    return out


def _inflected(index: WordIndex, form: Form) -> Iterable[int]:
    """A form the lemmatizer left as it is whose stem, without a German inflection ending, is a
    term's key (``Vorkenntnisse``, ``Lizensen``: the dictionary gives no other lemma)."""
    if form.norm != form.surface or len(form.surface) < TYPO_MIN or not form.text.isalpha():
        return ()
    return [tid for stem in _stems(form.surface) for tid in index.by_key.get(stem, ())]


def _term_compound(index: WordIndex, form: Form) -> Iterable[int]:
    """A compound the dictionary cannot split because one part is a word only the codebook
    knows (``Mitzeichnungsverfahren``: *Mitzeichnung* + *Verfahren*): the codebook's terms count
    as words here, at the position the term allows; the other part must be a dictionary word."""
    text, surface = form.text, form.surface
    if form.known or not index.any_compounds or len(text) < 9 or not text.isalpha() or compound_parts(text) != (frozenset(), frozenset()):
        return ()
    out = []
    for i in range(MIN_MOD + 1, len(surface) - MIN_HEAD + 1):
        modifier, rest = surface[:i], text[i:]
        for tid in index.by_key.get(modifier, ()):
            if index.terms[tid].compounds in (True, "modifier") and any(
                    rest.startswith(link) and is_known(rest[len(link):].capitalize()) and len(rest) - len(link) >= MIN_HEAD for link in LINKS):
                out.append(tid)
        for tid in index.by_key.get(surface[i:], ()):
            if index.terms[tid].compounds in (True, "head") and is_known(text[:i].capitalize()):
                out.append(tid)
    return out


def _typo(index: WordIndex, form: Form) -> Iterable[int]:
    if form.known or not form.text.isalpha():
        return ()
    out = list(index.swap_index.get(form.surface, ()))
    if not index.typo_index or len(form.surface) < TYPO_MIN - 1:
        return out
    # the form as written, its lemma, and the form without a German inflection ending: the
    # lemmatizer does not know a misspelt word, so "Schullungen" keeps its plural ending
    cands = {form.norm, form.surface}
    cands.update(stem for stem in _stems(form.surface) if len(stem) >= TYPO_MIN - 1)
    if form.text[:1].islower():  # a verb form: the infinitive it may be misspelt from
        cands.update(_verb_stems(form.surface))
    for cand in cands:
        for d in _deletes(cand):
            for tid in index.typo_index.get(d, ()):
                t = index.terms[tid]
                if damerau1(cand, t.key) or damerau1(cand, t.surface):
                    out.append(tid)
    return out


def _glob(index: WordIndex, form: Form) -> Iterable[int]:
    out = []
    for tid in index.globs:
        t = index.terms[tid]
        if t.case_sensitive:
            ok = fnmatch.fnmatchcase(form.text, t.glob) or fnmatch.fnmatchcase(form.norm, t.glob)
        else:
            ok = fnmatch.fnmatchcase(form.surface, t.glob) or fnmatch.fnmatchcase(form.norm, t.glob)
        if ok:
            out.append(tid)
    return out


WORD_KINDS: tuple[Callable[[WordIndex, Form], Iterable[int]], ...] = (_lemma, _surface, _compound, _inflected, _term_compound, _typo, _glob)


def make_form(text: str, norm: str) -> Form:
    """The :class:`Form` of a token text and its match key."""
    # known: the dictionary has the form or its lemma. (That the lemmatizer changed the form says
    # nothing: simplemma strips endings of unknown words too, "Schullungen" -> "Schullunge".)
    lemma = lemmatize(text)
    known = is_known(text) or is_known(lemma)
    last = text.rsplit("-", 1)[-1]
    # a lower-case form is a noun when its lemma is one, or when the dictionary does not know it
    # at all (nothing says it is a verb): "designsystem", "tech-Talks"
    noun_like = text[:1].isupper() or last[:1].isupper() or lemma[:1].isupper() or not is_known(text)
    return Form(text=text, norm=norm, surface=fold(text), known=known, noun_like=noun_like)
