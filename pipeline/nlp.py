"""The German NLP layer: tokens, sentences, lemmas, compound parts, match keys.

Two pipelines, chosen by ``load_nlp(name)``:

* ``de_core_news_md`` (or any installed spaCy package or path): the trained spaCy pipeline,
  used as it is, with our gender-form tokenizer rule and match keys added. Install it with
  ``python -m spacy download de_core_news_md`` where that is possible.
* ``qda-de`` (the default when no trained pipeline is installed): spaCy's blank German
  tokenizer, a rule-based sentencizer, and a lemmatizer over ``simplemma``'s German
  dictionary (ships its data on PyPI, MIT licence), with explicit handling of gender-fair
  forms (``Kolleg:innen`` → ``Kollege``), missing umlauts (``Vortrage`` → ``Vortrag``) and
  old spellings, and a dictionary-anchored compound splitter.

Both set ``token.norm_`` to the *match key* of the token: its lemma, case-folded with ß→ss and
umlauts folded (ä→a), so ``Prozeß``/``Prozess`` and ``Fördermittel``/``Fordermittel`` meet.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import unicodedata
from importlib import metadata

from pipeline.errors import QdaError

DEFAULT_PIPELINE = "qda-de"
TRAINED_PIPELINE = "de_core_news_md"

# Kolleg:innen, Mitarbeiter*innen, Bürger_innen, Expert/-innen, BürgerInnen
GENDER_FORM = re.compile(r"^([A-Za-zÄÖÜäöüß]+?)(?:[:*_/·]|/-)(in|innen|r|n|e)$|^([A-Za-zÄÖÜäöüß]+[a-zäöüß])(In|Innen)$")
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "é": "e"})


def fold(text: str) -> str:
    """The comparison key: lower case, ß→ss, umlauts without dots."""
    return unicodedata.normalize("NFC", text).casefold().translate(_FOLD).replace("ẞ", "ss")


@functools.lru_cache(maxsize=None)
def _simplemma():
    """simplemma for German, over its dictionary loaded fast (see :mod:`pipeline.dictionary`)."""
    from pipeline.dictionary import GermanLemmatizer

    return GermanLemmatizer()


# Word-level results (lemma, compound split, compound keys) are pure functions of the word and
# the lemmatizer's version; they are memoised here and saved next to the parse cache as JSON
# (data, never pickle), so a second run does not even load simplemma's dictionary (~1.4 s).
_MEMO: dict[str, dict] = {"known": {}, "lemma": {}, "segment": {}, "ckeys": {}}
# "known" is saved too: the matcher asks it of every word form, and without it a re-code would
# load the dictionary only to answer questions asked before.
_SAVED_TABLES = ("known", "lemma", "segment", "ckeys")
MEMO_FORMAT = 1


def _memo(table: str):
    def deco(fn):
        store = _MEMO[table]

        @functools.wraps(fn)
        def wrapper(word):
            try:
                return store[word]
            except KeyError:
                value = store[word] = fn(word)
                return value

        return wrapper

    return deco


def memo_size() -> int:
    """Entries in the saved tables of the word memo (to see whether a run learned words)."""
    return sum(len(_MEMO[k]) for k in _SAVED_TABLES)


def _memo_payload(tables: dict) -> bytes:
    return json.dumps(tables, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def save_memo(path) -> None:
    """Writes the word memo as JSON with a format version and a SHA-256 checksum.

    What another process saved meanwhile is merged in first; the file is written under a
    unique temporary name and moved into place, so concurrent runs never see half a file.
    """
    from pathlib import Path

    from pipeline.atomic import write_text

    path = Path(path)
    load_memo(path)
    tables = {k: {w: _to_json(v) for w, v in _MEMO[k].items()} for k in _SAVED_TABLES}
    payload = _memo_payload(tables)
    record = {"format": MEMO_FORMAT, "sha256": hashlib.sha256(payload).hexdigest(), "tables": tables}
    write_text(path, json.dumps(record, ensure_ascii=False, separators=(",", ":")), private=True)


def load_memo(path) -> str | None:
    """Merges a saved word memo into this process's.

    Returns:
        None when the file was merged or does not exist, else why it was ignored (a damaged,
        truncated or foreign file is skipped, never fatal: the words are computed again and
        the next save replaces it).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"unreadable ({type(exc).__name__})"
    if not isinstance(record, dict) or record.get("format") != MEMO_FORMAT or not isinstance(record.get("tables"), dict):
        return "not a word memo of this version"
    tables = record["tables"]
    if hashlib.sha256(_memo_payload(tables)).hexdigest() != record.get("sha256"):
        return "checksum mismatch"
    for k in _SAVED_TABLES:
        for w, v in tables.get(k, {}).items():
            _MEMO[k].setdefault(w, _from_json(k, v))
    return None


def _to_json(value):
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    return value


def _from_json(table: str, value):
    if table == "segment":
        return None if value is None else tuple(tuple(span) for span in value)
    if table == "ckeys":
        return tuple(value)
    return value


@_memo("known")
def is_known(word: str) -> bool:
    """Is ``word`` in simplemma's German dictionary (as a form or lemma)?"""
    if len(word) < 2:
        return False
    sm = _simplemma()
    return sm.is_known(word, lang="de") or sm.is_known(word.capitalize(), lang="de")


def _umlaut_variants(word: str):
    """Spellings a writer without umlaut keys may have meant: ae→ä, a→ä, ss→ß, ..."""
    for plain, uml in (("ae", "ä"), ("oe", "ö"), ("ue", "ü")):
        if plain in word:
            yield word.replace(plain, uml)
    for plain, uml in (("a", "ä"), ("o", "ö"), ("u", "ü"), ("A", "Ä"), ("O", "Ö"), ("U", "Ü")):
        start = 0
        while (i := word.find(plain, start)) >= 0:
            yield word[:i] + uml + word[i + 1:]
            start = i + 1
    if "ss" in word:
        yield word.replace("ss", "ß")


# Where simplemma's greedy mode picks a rare reading of a word that is frequent in interviews
# about administration (Daten is data, not the plural of Datum; Termine are appointments).
LEMMA_FIXES = {
    "Daten": "Daten", "daten": "Daten", "Termine": "Termin", "Terminen": "Termin", "termine": "Termin",
    "Medien": "Medium", "Vorgesetzten": "Vorgesetzter", "Vorgesetzte": "Vorgesetzter",
    "fällt": "fallen",  # "fällt mir ein", "fällt weg", not the tree felled
}


# the participle of a separable verb: particle + "ge" + participle ("mitgebracht", "nachgebaut")
SEPARABLE_PARTICIPLE = re.compile(r"^(ab|an|auf|aus|bei|dazu|durch|ein|fest|her|herum|hin|los|mit|nach|rein|raus|rüber|rum|um|vor|weg|weiter|"
                                  r"zu|zurück|zusammen)ge([a-zäöüß]{3,}t|[a-zäöüß]{3,}en)$")


@_memo("lemma")
def lemmatize(word: str) -> str:
    """A German lemma for one token (nouns keep their capital).

    Gender-fair forms map to the base noun (``Kolleg:innen`` → ``Kollege``,
    ``Mitarbeiter*innen`` → ``Mitarbeiter``), so a codebook term matches every form.
    """
    if not word or not any(ch.isalpha() for ch in word) or (word.endswith(".") and len(word) <= 6):
        return word  # punctuation, numbers, abbreviations (z. B., bzw.) stay as they are
    if word in LEMMA_FIXES:
        return LEMMA_FIXES[word]
    m = GENDER_FORM.match(word)
    if m:
        stem = m.group(1) or m.group(3)
        return _gender_base(stem)
    sm = _simplemma()
    if not is_known(word):
        for variant in _umlaut_variants(word):
            if is_known(variant):
                word = variant
                break
    lemma = sm.lemmatize(word, lang="de", greedy=True)
    if lemma == word:
        m = SEPARABLE_PARTICIPLE.match(word)
        if m:  # "mitgebracht": the dictionary lacks it, but knows "gebracht" → mit + bringen
            verb = sm.lemmatize("ge" + m.group(2), lang="de", greedy=True)
            if verb != "ge" + m.group(2) and verb.endswith("n"):
                return m.group(1) + verb
    if lemma.endswith("in") and lemma[:1].isupper() and len(lemma) > 5:
        # feminine job and person nouns: Mitarbeiterin → Mitarbeiter, Kollegin → Kollege
        base = _gender_base(lemma[:-2])
        if base != lemma[:-2] or is_known(base):
            return base
    return lemma


def _gender_base(stem: str) -> str:
    """``Kolleg`` → ``Kollege``, ``Mitarbeiter`` → ``Mitarbeiter``, ``Ärzt`` → ``Arzt``.

    A weak masculine noun (Kollege, Experte) is recognised by its plural: ``Kollegen`` has
    the lemma ``Kollege``. (Checking ``Kollege`` alone is not enough: the dictionary also
    "knows" ``Bürgere``.)
    """
    sm = _simplemma()
    if is_known(stem + "en") and sm.lemmatize(stem + "en", lang="de", greedy=True) == stem + "e":
        return stem + "e"
    for cand in (stem, stem.translate(str.maketrans("äöü", "aou"))):
        if is_known(cand):
            return sm.lemmatize(cand, lang="de", greedy=True)
    return stem


LINKS = ("s", "es", "n", "en", "er", "e", "")
MIN_MOD = 3
MIN_HEAD = 4
# Prefixes and prepositions are not compound parts: Unterstützung is not unter+Stützung,
# Ausschreibung not aus+Schreibung. Three-letter modifiers must be real nouns (Amt, Rat, ...).
_NOT_MODIFIERS = {
    "unter", "über", "uber", "aus", "ein", "auf", "vor", "nach", "durch", "gegen", "wider", "hinter", "neben",
    "mit", "bei", "zer", "ent", "emp", "ver", "ge", "be", "er", "miss", "zu", "ab", "an", "um", "res", "pro", "kon",
    "inter", "ober", "voll", "wieder", "weiter", "zurück", "weg", "hin", "her", "los", "fort",
}
# adjective endings the dictionary happens to know as words: "rechnerisch" is no Rechner|isch
_NOT_HEADS = {"isch", "lich", "ische", "liche", "ig", "bar", "sam", "haft"}
_SHORT_NOUNS = {"amt", "bau", "tag", "rat", "ort", "zug", "typ", "not", "see", "weg", "tor", "uhr", "ehe", "eis", "ohr", "gas", "bus", "app", "web", "ki"}


def _known_part(part: str) -> bool:
    low = part.lower()
    if low in _NOT_MODIFIERS:
        return False
    if len(part) == 3 and low not in _SHORT_NOUNS:
        return False
    return len(part) >= MIN_MOD and (is_known(part.capitalize()) or is_known(low))


@_memo("segment")
def _segment(w: str) -> tuple[tuple[int, int], ...] | None:
    """Best split of ``w`` into known parts as ``(start, end)`` spans (links excluded), or None.

    Best = fewest parts, then the longest shortest part (a listed short noun such as Bau counts
    as five letters), then the longest head: ``Zeitmangel`` is Zeit|Mangel, not Zeit|Man|Gel;
    ``Baustelle`` is Bau|Stelle, not Baust|Elle; ``Vergabestelle`` is Vergabe|Stelle.
    """
    best = None
    best_score = None
    for i in range(MIN_MOD, len(w) - MIN_HEAD + 1):
        head = w[i:]
        if head.lower() in _NOT_HEADS or not (is_known(head.capitalize()) or is_known(head)):
            continue
        left = w[:i]
        for link in LINKS:
            if link and not left.lower().endswith(link):
                continue
            mod = left[: len(left) - len(link)] if link else left
            if len(mod) < MIN_MOD or mod.lower() in _NOT_MODIFIERS:
                continue
            if _known_part(mod):
                spans = ((0, len(mod)), (i, len(w)))
            else:
                sub = _segment(mod)
                if sub is None:
                    continue
                spans = (*sub, (i, len(w)))
            # a listed short noun (Bau, Amt) is as good a part as a five-letter one: Bau|Stelle, not Baust|Elle
            score = (-len(spans), min(max(e - s, 5) if w[s:e].lower() in _SHORT_NOUNS else e - s for s, e in spans), len(head), -len(link))
            if best_score is None or score > best_score:
                best, best_score = spans, score
    return best


def split_compound(word: str) -> tuple[str, ...]:
    """Splits a German compound into known words: ``Zeitmangel`` → ``("Zeit", "Mangel")``.

    Dictionary-anchored: every part must be a known German word (after removing a linking
    element such as ``-s-``), which keeps ``Beratung`` whole (no ``Rat``) and ``Portal`` whole
    (no ``Ort``) where substring matching would not. Hyphenated words split at the hyphen.
    Returns ``(word,)`` when no split is found.
    """
    w = word.strip("-")
    if "-" in w:
        out: list[str] = []
        for p in (p for p in w.split("-") if p):
            out.extend(split_compound(p))
        return tuple(out)
    if len(w) < MIN_MOD + MIN_HEAD or not w.isalpha():
        return (w,)
    spans = _segment(w)
    if spans is None:
        return (w,)
    return tuple(w[s:e].capitalize() for s, e in spans)


@_memo("ckeys")
def compound_keys(word: str) -> tuple[str, ...]:
    """Match keys of a compound's parts and of every run of adjacent parts, lemmatised.

    ``Führungskräfteunterstützung`` → führungskraft, unterstützung, führung, kraft, … (folded),
    so the codebook terms ``Führungskraft`` and ``Unterstützung`` both find it.
    Returns ``()`` for a word that is not a compound.
    """
    pieces = [p for p in word.strip("-").split("-") if p]
    if len(pieces) > 1:
        keys: list[str] = []
        for p in pieces:
            keys.append(fold(lemmatize(p)))
            keys.extend(compound_keys(p))
        return tuple(dict.fromkeys(k for k in keys if len(k) >= MIN_MOD))
    w = pieces[0] if pieces else word
    if len(w) < MIN_MOD + MIN_HEAD or not w.isalpha():
        return ()
    spans = _segment(w)
    if spans is None:
        return ()
    keys = []
    n = len(spans)
    for a in range(n):
        for b in range(a, n):
            if a == 0 and b == n - 1:
                continue  # the whole word is the token's own key
            text = w[spans[a][0]: spans[b][1]]
            keys.append(fold(lemmatize(text.capitalize())))
            keys.append(fold(text))
    return tuple(dict.fromkeys(keys))


# --- spaCy pipeline -----------------------------------------------------------------------------

_ABBREV_SENT = {"z.", "b.", "u.", "a.", "bzw.", "d.", "h.", "v.", "ca.", "bspw.", "ggf.", "usw.", "etc.", "dr.", "prof.", "nr.", "vgl.", "inkl.", "evtl.", "o.", "ä."}


def _set_lemmas(doc, *, keep_trained: bool):
    """Sets each token's lemma (ours, or with ``keep_trained`` the trained pipeline's except for
    gender forms such as Kolleg:innen, which it does not know) and its matching key ``norm_``."""
    for tok in doc:
        if keep_trained and not GENDER_FORM.match(tok.text):
            lemma = tok.lemma_ or tok.text
        else:
            lemma = lemmatize(tok.text)
            tok.lemma_ = lemma
        tok.norm_ = fold(lemma)
    return doc


def _make_components():
    from spacy.language import Language

    if "qda_lemmatizer" in Language.factories:
        return

    @Language.component("qda_lemmatizer")
    def qda_lemmatizer(doc):
        return _set_lemmas(doc, keep_trained=False)

    @Language.component("qda_norms")
    def qda_norms(doc):
        # for a trained pipeline: keep its lemmas, add our keys (and gender-form handling)
        return _set_lemmas(doc, keep_trained=True)

    @Language.component("qda_sentencizer")
    def qda_sentencizer(doc):
        # a sentence ends at . ! ? … (or a line break) unless the dot belongs to an abbreviation
        for i, tok in enumerate(doc):
            if i == 0:
                tok.is_sent_start = True
                continue
            prev = doc[i - 1]
            ends = prev.text in {".", "!", "?", "…", "?!", "!!", "..."} or "\n" in prev.whitespace_ or prev.text.strip() == "" and "\n" in prev.text
            if prev.text.endswith(".") and prev.text.lower() in _ABBREV_SENT:
                ends = False
            tok.is_sent_start = bool(ends)
        return doc


SENTENCE_END_TOKENS = frozenset({".", "!", "?", "…", "?!", "!!", "..."})


def ends_sentence(text: str) -> bool:
    """Does a token with this text end its sentence (the ``qda_sentencizer`` rule)?

    ``. ! ? …`` and line-break tokens end a sentence, the dot of an abbreviation (``z.``,
    ``bzw.``, ``Dr.``) does not. (spaCy's ``whitespace_`` is ``" "`` or ``""``, so a line
    break always arrives as a token of its own.)
    """
    if text.endswith(".") and text.lower() in _ABBREV_SENT:
        return False
    return text in SENTENCE_END_TOKENS or (text.strip() == "" and "\n" in text)


class Lexicon:
    """Lemma, match key and sentence end of every distinct word form the offline pipeline met.

    Each word form is looked up once per process (the word memo may even bring it from the
    cache); the tokens of a batch then get theirs by array indexing, so parsing costs the
    tokenizer plus the vocabulary, not a Python loop over tokens.

    ``orth`` (sorted), ``norm``, ``lemma`` (spaCy hashes) and ``ends`` (ends a sentence) are
    parallel arrays; :meth:`lookup` gives the rows of a batch's tokens.

    Args:
        strings: the pipeline's spaCy ``StringStore`` (hashes are spaCy's, as in a ``Doc``).
    """

    def __init__(self, strings):
        import numpy as np

        self.strings = strings
        self.orth = np.zeros(0, dtype=np.uint64)
        self.norm = np.zeros(0, dtype=np.uint64)
        self.lemma = np.zeros(0, dtype=np.uint64)
        self.ends = np.zeros(0, dtype=bool)

    def lookup(self, orth):
        """The rows of ``orth`` (uint64 ORTH hashes), adding word forms not seen before.

        Rows are valid until the next call (new forms are inserted in sorted order).
        """
        import numpy as np

        orth = np.asarray(orth, dtype=np.uint64)
        pos = np.searchsorted(self.orth, orth)
        if len(self.orth):
            known = self.orth[np.minimum(pos, len(self.orth) - 1)] == orth
        else:
            known = np.zeros(len(orth), dtype=bool)
        if known.all():
            return pos
        self._add(np.unique(orth[~known]))
        return np.searchsorted(self.orth, orth)

    def _add(self, new) -> None:
        import numpy as np

        add = self.strings.add
        norm, lemma, ends = [], [], []
        for h in new.tolist():
            text = self.strings[h]
            lem = lemmatize(text)
            lemma.append(add(lem))
            norm.append(add(fold(lem)))
            ends.append(ends_sentence(text))
        orth = np.concatenate([self.orth, new])
        order = np.argsort(orth, kind="stable")
        self.orth = orth[order]
        self.norm = np.concatenate([self.norm, np.array(norm, dtype=np.uint64)])[order]
        self.lemma = np.concatenate([self.lemma, np.array(lemma, dtype=np.uint64)])[order]
        self.ends = np.concatenate([self.ends, np.array(ends, dtype=bool)])[order]

    def __len__(self) -> int:
        return len(self.orth)


@functools.lru_cache(maxsize=4)
def lexicon_of(nlp) -> Lexicon:
    """The process's :class:`Lexicon` of a loaded offline pipeline."""
    return Lexicon(nlp.vocab.strings)


# Pause markers of transcription conventions (f4/GAT: "(.)" short, "(..)", "(...)" longer). As
# spaCy splits them, "(." ends a sentence and cuts a clause in two, so a denial before the pause
# ("keine (.) Schulung") lost its scope. One token each, ending no sentence.
PAUSE_MARKERS = ("(.)", "(..)", "(...)", "(…)")


def _add_transcript_marks(tokenizer) -> None:
    from spacy.symbols import ORTH

    for mark in PAUSE_MARKERS:
        tokenizer.add_special_case(mark, [{ORTH: mark}])


def _gender_token_match():
    return re.compile(r"^[A-Za-zÄÖÜäöüß]+(?:[:*_·]|/-?)(?:in|innen)$|^[A-Za-zÄÖÜäöüß]+[a-zäöüß]Innen$").match


@functools.lru_cache(maxsize=4)
def load_nlp(name: str | None = None):
    """Loads the German pipeline.

    Args:
        name: ``None`` (trained ``de_core_news_md`` if installed, else ``qda-de``), ``qda-de``,
            or the name or path of an installed spaCy pipeline.

    Raises:
        QdaError: the named pipeline is not installed; the message says how to install it.
    """
    import spacy

    _make_components()
    if name is None:
        try:
            return load_nlp(TRAINED_PIPELINE)
        except QdaError:
            return load_nlp(DEFAULT_PIPELINE)
    if name == DEFAULT_PIPELINE:
        nlp = spacy.blank("de")
        nlp.tokenizer.token_match = _gender_token_match()
        _add_transcript_marks(nlp.tokenizer)
        nlp.add_pipe("qda_sentencizer")
        nlp.add_pipe("qda_lemmatizer")
        nlp.meta["name"] = "qda_de"
        nlp.meta["version"] = _pipeline_version()
        return nlp
    try:
        nlp = spacy.load(name, exclude=["ner"])
    except OSError as exc:
        raise QdaError(
            f"the spaCy pipeline '{name}' is not installed ({str(exc).splitlines()[0][:120]})\n"
            f"  → install it with 'python -m spacy download {name}', or use the offline default with --nlp {DEFAULT_PIPELINE}"
        )
    nlp.tokenizer.token_match = _gender_token_match()
    _add_transcript_marks(nlp.tokenizer)
    nlp.add_pipe("qda_norms", last=True)
    return nlp


def _pipeline_version() -> str:
    try:
        sm = metadata.version("simplemma")
    except metadata.PackageNotFoundError:
        sm = "?"
    # 1.1: compound splits prefer real heads (Bau|Stelle); 1.2: pause markers "(.)" are one token;
    # 1.3: participles of separable verbs the dictionary lacks ("mitgebracht" → mitbringen);
    # 1.4: "fällt" is a form of fallen
    return f"1.4+simplemma{sm}"


def resolve_name(name: str | None) -> str:
    """The pipeline that ``load_nlp(name)`` would load, without loading it."""
    if name is not None:
        return name
    import importlib.util

    return TRAINED_PIPELINE if importlib.util.find_spec(TRAINED_PIPELINE) is not None else DEFAULT_PIPELINE


def cheap_info(name: str | None) -> dict | None:
    """``pipeline_info`` of the offline default without importing spaCy (a cache hit should not
    pay ~1.5 s of imports); None for other pipelines, which must be loaded to be described."""
    if resolve_name(name) != DEFAULT_PIPELINE:
        return None
    try:
        spacy_version = metadata.version("spacy")
    except metadata.PackageNotFoundError:
        return None
    pname, version, comps = "de_qda_de", _pipeline_version(), ["qda_sentencizer", "qda_lemmatizer"]
    fingerprint = hashlib.sha256(f"{pname}|{version}|{spacy_version}|{','.join(comps)}".encode()).hexdigest()[:16]
    return {"name": pname, "version": version, "spacy": spacy_version, "components": comps, "fingerprint": fingerprint}


def pipeline_info(nlp) -> dict:
    """Name, version and fingerprint of a loaded pipeline, for run records and the parse cache."""
    import spacy

    name = f"{nlp.meta.get('lang', 'de')}_{nlp.meta.get('name', 'pipeline')}"
    version = str(nlp.meta.get("version", "0"))
    fingerprint = hashlib.sha256(f"{name}|{version}|{spacy.__version__}|{','.join(nlp.pipe_names)}".encode()).hexdigest()[:16]
    return {"name": name, "version": version, "spacy": spacy.__version__, "components": list(nlp.pipe_names), "fingerprint": fingerprint}
