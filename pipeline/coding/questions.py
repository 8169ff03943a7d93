"""What question a unit answers, and which codebook dimensions that question is about.

The coding rules let a coder read the unit together with the question it reacts to (for a
survey answer: its question; for an interview turn: the interviewer's turn just before it).
The question never limits which codes may be assigned (CODING_RULES A2), but it tells what
is likely: an answer to "Welche Hürden …?" rarely reports a method. So the dimensions of the
question are known to the coder as data:

1. ``code_scope`` (from ``corpus.yaml``: ``dimensions``) where the corpus declares them;
2. else the question text or column name, matched against the codebook's ``questions:``
   words (``huerde: [Hürde, Hindernis, …]``): a one-word entry matches a word of the question
   on its lemma or as the head of a compound (``Hindernisse``, ``Zeithürden``; not the modifier
   in ``Innovationszirkel``), a phrase matches the folded text, a ``{regex: …}`` entry is searched
   in the question (case-insensitive); ``Q_huerden``-style column names are split at ``_``; a
   word denied by the two words before it counts not ("Kein Problem.");
3. for interview turns, the preceding interviewer turn, matched the same way; a backchannel
   or a prompt to go on ("Mhm.", "Und dann?", at most :data:`CARRY_WORDS` words) adds to the
   question before it instead of replacing it, as a coder reads the turn after it.

Conditions may use them (``require: {cues: [...], question: [innovationsform]}``), the
verifier uses them as a feature, and ``--scope hard`` turns them into a filter. A ``questions:``
key need not be a dimension: a *topic* such as "how did you come to the network?" serves only
conditions (a format named in the answer to it is background, CODING_RULES C1).
"""

from __future__ import annotations

import functools
import re

import pandas as pd

from pipeline.codebook.model import QUESTION_REGEX, Codebook
from pipeline.nlp import fold, lemmatize

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß-]*")
CARRY_WORDS = 3
QUESTION_NEGATORS = {"nicht", "kein", "keine", "keinen", "keiner", "keinem", "nie"}


def _truthy(series: pd.Series) -> pd.Series:
    return series.astype(str).str.lower().isin(["true", "1"])


def question_texts(segments: pd.DataFrame) -> list[str]:
    """Per unit the question it answers: the survey question, or the interviewer's turn just
    before an interview turn (empty where there is none)."""
    n = len(segments)
    out = [""] * n
    if "question" in segments:
        out = segments["question"].fillna("").astype(str).tolist()
    if "is_interviewer" not in segments or "doc_id" not in segments:
        return out
    interviewer = _truthy(segments["is_interviewer"]).tolist()
    docs = segments["doc_id"].astype(str).tolist()
    texts = segments["text"].fillna("").astype(str).tolist()
    last: dict[str, str] = {}
    for i in range(n):
        if interviewer[i]:
            short = len(_WORD.findall(texts[i])) <= CARRY_WORDS
            last[docs[i]] = f"{last[docs[i]]} {texts[i]}" if short and last.get(docs[i]) else texts[i]
        elif not out[i] and docs[i] in last:
            out[i] = last[docs[i]]
    return out


@functools.lru_cache(maxsize=4096)
def _word_keys(word: str) -> frozenset[str]:
    from pipeline.coding.words import compound_parts

    heads, _ = compound_parts(word[:1].upper() + word[1:])
    return frozenset({fold(word), fold(lemmatize(word)), fold(lemmatize(word[:1].upper() + word[1:]))} | heads)


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def dimensions_in(text: str, codebook: Codebook) -> set[str]:
    """The dimensions whose ``questions:`` entries occur in ``text`` (see the module doc)."""
    keys: set[str] = set()
    words = _WORD.findall(text.replace("_", " "))
    for i, w in enumerate(words):
        # a denied word names no topic: "Kein Problem." is politeness, and "Kommunen, die das
        # nicht umsetzen konnten" asks about what stopped them, not about an innovation
        if not any(v.lower() in QUESTION_NEGATORS for v in words[max(0, i - 2):i]):
            keys |= _word_keys(w)
    folded = fold(text)
    found = set()
    for dim, entries in codebook.questions.items():
        for e in entries:
            if e.startswith(QUESTION_REGEX):
                hit = _regex(e[len(QUESTION_REGEX):]).search(text) is not None
            else:
                hit = fold(e) in folded if len(e.split()) > 1 else bool(_word_keys(e) & keys)
            if hit:
                found.add(dim)
                break
    return found


def question_dimensions(segments: pd.DataFrame, codebook: Codebook, texts: list[str] | None = None) -> list[set[str] | None]:
    """Per unit the set of dimensions its question asks about, or None when unknown (``texts``:
    :func:`question_texts` of ``segments``, when the caller has them already)."""
    declared = [None] * len(segments)
    if "code_scope" in segments:
        declared = [{d.strip() for d in str(v).replace(",", ";").split(";") if d.strip()} or None
                    for v in segments["code_scope"].fillna("")]
    texts = question_texts(segments) if texts is None else texts
    out: list[set[str] | None] = []
    found: dict[str, set[str] | None] = {}  # a survey asks one question of thousands of answers
    for dims, q in zip(declared, texts):
        if dims:
            out.append(dims)
        elif q and codebook.questions:
            if q not in found:
                found[q] = dimensions_in(q, codebook) or None
            out.append(found[q])
        else:
            out.append(None)
    return out


# a question after wishes or plans ("Was würden Sie sich wünschen?", "Wenn Sie nach vorne schauen …")
WISH_QUESTION = re.compile(r"w(?:ü|ue)nsch|wunsch|zukunft|k(?:ü|ue)nftig|nach vorne (?:schau|blick)|noch anders machen", re.IGNORECASE)


def wish_questions(texts: list[str]) -> list[bool]:
    """Per question text (:func:`question_texts`): does it ask for wishes or plans? What an
    answer to it names is wished, not realised (CODING_RULES A6), however it is phrased
    ("Einen richtigen Hackathon mal.")."""
    asks = {q: bool(WISH_QUESTION.search(q)) for q in set(texts)}  # a survey asks one question of thousands
    return [asks[q] for q in texts]


def hard_scope(segments: pd.DataFrame, scope: str | None) -> list[bool]:
    """Per unit: are codes outside its question's dimensions dropped? ``scope`` ``hard``/``soft``
    from the command line wins; else a ``scope`` column (``corpus.yaml``: ``scope: hard``)."""
    if scope in ("hard", "soft"):
        return [scope == "hard"] * len(segments)
    if "scope" in segments:
        return segments["scope"].fillna("").astype(str).str.lower().eq("hard").tolist()
    return [False] * len(segments)
