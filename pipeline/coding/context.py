"""The context of a hit: negation, hypotheticals, wishes, comparisons, "no problem".

What the coding rules say (CODING_RULES A4, A6; domain brief) and how it is decided here:

* **negation** — a negator (``kein``, ``nicht``, ``nie``, ``ohne``, ``kaum``, ``nichts``, ``null``) or a
  word of lack (``fehlt``, ``fehlende``, ``mangelnde``, ``wenig``) within ``negation_window``
  tokens in the same clause takes the mention back ("Kurse hab ich keine besucht"). For codes
  with ``lack_counts`` (barriers are named by what is missing: "keine Zeit") the negator is the
  evidence, and only a verdict "X is no problem" takes it back ("Zeit war nie das Problem",
  also after the comma of a left dislocation: "Die BITV, das war gar kein Thema").
  A word that names the obstacle itself (a pattern with ``negation: true`` in such a code:
  ``Vorgabe``, ``Widerstand``, ``Bürokratie``) is taken back by a negator right before it
  (:data:`OBSTACLE_REACH` tokens: "keine Vorgaben", "ohne große Bürokratie").
* **lack denied** — a word of lack that is itself negated ("an Geld hat es nie gefehlt",
  "Personal fehlt uns nicht") takes back every hit whose clause holds it, as "no problem";
  "fehlt nicht nur" still names a lack.
* **elliptic denial** — "Rechtlich nicht, nee, das ist alles sauber", "Zeitlich nie.", "Technik
  eigentlich nicht": a clause that is only the hit, at most two fillers and a negator answers
  "was that an obstacle?" with no; for ``lack_counts`` codes it counts as "no problem" (elsewhere
  the negator takes the hit back anyway). "auch" is no filler here: "keine Zeit, Geld auch nicht"
  goes on with the lack.
* **not taken part, in the clause** — "Hackathons und so hab ich bisher nicht mitgemacht",
  "Einen Hackathon gab's bei uns noch nie": a plain no (not "kaum": a format used seldom still
  counts, C2) and a word of taking part or of existing after the hit in its clause take the
  format back, however far from the hit; "nicht nur" is no no.
* **echo question answered no** — "Newsletter? Les ich nie.", "Schulungen? Haben wir keine
  gemacht.": the hit repeats the question as a sentence of its own and the next sentence begins
  with a no; the hit is taken back ("negated"). Not for ``lack_counts`` codes: "Personal? Keins
  da." names the lack.
* **problem denied at the end** — "Probleme mit der IT hatten wir keine": a problem noun
  before the hit and a denier among the clause's last two tokens after it, in a clause without
  a subordinate conjunction (spoken "Problem ist dass die IT nicht mitzieht" keeps its barrier).
* **not taken part** — "Es gibt auch ne AG, da war ich aber nie drin", "nen Podcast gibt's auch,
  den hab ich noch nie gehört": a format followed, after the comma, by a resumptive ``da``/``dort``/
  ``den``/``die``/``das`` whose clause denies taking part (a negator and a word of taking part:
  ``drin``, ``dabei``, ``besucht``, ``gehört``, ``genutzt`` …, up to the next punctuation) is taken
  back as negated. Not for ``lack_counts`` codes; "da hab ich nicht viel gelernt" is no denial.
* **hypothetical** — ``wäre``, ``würde``, ``hätte``, ``könnte``, ``falls`` … within the window
  takes any mention back; a hedge ("würde ich sagen") is not a hypothetical.
* **wish** — a wished-for format or an innovation that did not happen is not coded (A6): a
  wish word (``fände``, ``wünsche``, ``gäbe``, ``bräuchte`` …) or a hypothetical anywhere in the
  sentence takes back a mention of a code without ``lack_counts`` ("Wäre super, wenn es mal
  einen Hackathon gäbe"). A barrier stays a barrier when phrased as a wish.
* **no benefit** — a format said to bring nothing is not coded (C2): a form of ``bringen``,
  ``nützen``, ``helfen``, ``taugen`` and ``nichts``/``nix``/``wenig``/``kaum`` in the same sentence
  ("Newsletter krieg ich, bringt mir aber nichts"). Not for ``lack_counts`` codes.
* **contrast** — "nicht X, sondern Y" corrects X: a hit denied by ``nicht`` (in it, or before it
  with only articles and prepositions between: "nicht an der Amtsleitung") whose clause is
  followed by ``sondern``/``eher``/``vielmehr`` is taken back as negated, for every code, so "Nicht
  die Chefs bremsen, eher die Kollegen" is no leadership barrier and "Es fehlt nicht an Zeit,
  sondern an Geld" no time barrier. "Nicht nur X, sondern auch Y" adds: ``nur`` ends the chain.
* **foil** — a format named only for comparison is not coded (A4): the mention follows
  ``statt``/``anstatt``/``anstelle``/``ersetzt``/``verglichen``/``Vergleich`` in its clause, or a
  comparative ``als`` (``anders als`` too)
  ("bringt mehr als jeder Vortrag", "greifbarer als jede Folie", "lieber kurz telefonieren als
  drei Stunden Webinar": the comparative up to :data:`CMP_REACH` tokens back in the clause). A
  comparative between the foil word and the mention marks what is preferred, no foil: "statt
  Vorträgen lieber kleine Runden". Not for ``lack_counts`` codes.

A clause ends at ``,`` ``;`` ``:`` dashes, brackets and ``aber``/``sondern``/``doch`` … ; a
sentence at the sentencizer's boundary. The word lists are data at the top of this module.
"""

from __future__ import annotations

import numpy as np

NEGATORS = {"kein", "keine", "keinen", "keinem", "keiner", "keines", "keins", "keinerlei", "nicht", "nie", "niemals", "nirgends", "nirgendwo", "ohne",
            "weder", "kaum", "nichts", "nix", "fehlt", "fehlen", "fehlte", "fehlten", "fehlende", "fehlenden", "fehlender", "fehlendes",
            "mangelnde", "mangelnden", "mangels", "wenig", "null",  # "null Widerstand"
            "niemand", "niemanden", "niemandem"}  # "rechtliche Bedenken hatte niemand"
HYPOTHETICAL = {"wäre", "wären", "waere", "waeren", "wär", "wär's", "wärs", "würde", "würden", "wuerde", "wuerden", "würd", "hätte", "hätten",
                "hätt", "hätt's", "haette", "haetten", "könnt",
                "könnte", "könnten", "koennte", "koennten", "falls", "bräuchte", "bräuchten", "braeuchte"}
WISH = {"fänd", "fände", "fänden", "faende", "fand's", "wünsche", "wünschen", "wünscht", "wünschte", "gewünscht", "wünschenswert", "wunsch",
        "gäbe", "gäb", "gaebe", "hoffentlich", "schade", "bräuchte", "bräuchten", "sollte", "sollten", "müsste", "müssten", "muesste"}
BENEFIT = {"bringt", "bringen", "bringe", "brachte", "gebracht", "nützt", "nützen", "nutzt", "hilft", "helfen", "geholfen", "taugt", "taugen"}
NOTHING = {"nichts", "nix", "wenig", "kaum", "null"}
NO_PROBLEM = {"problem", "thema", "rolle", "hindernis", "hurde", "schwierigkeit", "issue", "grund",
              "tun", "liegen", "liegt's", "liegts",  # "hat mit Technik nix zu tun", "an der Zeit liegt's nicht"
              "arger", "bedenken", "sorge", "einwand", "stress"}  # "mit der Technik nie Ärger", "rechtliche Bedenken hatte niemand"
CLAUSE_BREAK = {",", ";", ":", "–", "—", "-", "(", ")", "aber", "sondern", "eher", "vielmehr", "jedoch", "doch", "trotzdem", "allerdings",
                "dafür", "dafuer", "außer", "ausser", "nur"}
# "Die Technik, die war nie das Problem": a resumptive pronoun after the comma takes the verdict
# of its clause back to the dislocated hit (spoken German puts the topic first)
RESUMPTIVE = {"das", "die", "der", "den", "dies", "des"}
# "Es gibt ne AG, da war ich nie drin": a resumptive (also of place) whose clause denies taking part
PARTAKE_RESUMPTIVE = RESUMPTIVE | {"da", "dort", "dahin", "davon"}
PARTAKE = {"drin", "dabei", "mitgemacht", "teilgenommen", "besucht", "gehört", "gelesen", "genutzt", "angemeldet", "hingegangen",
           "gewesen", "reingeschaut", "angeschaut", "angeguckt", "angesehen", "mitgelesen", "aktiv"}
# "Einen Hackathon gab's bei uns noch nie": a format said not to exist is denied like one never joined
EXIST = {"gab", "gibt", "gegeben", "gabs", "gibts", "gab's", "gibt's"}
# a plain no, not "kaum" or "wenig": a format used seldom still counts (C2)
STRONG_NEG = {"nicht", "nie", "niemals", "kein", "keine", "keinen", "keinem", "keiner", "keins"}
PUNCT_BREAK = {",", ";", ":", "–", "—", "-", "(", ")"}
SENTENCE_END = {".", "!", "?", "…"}  # not a clause break (the sentence ends there anyway), but not a word either
ANSWER_NO = NEGATORS | {"nee", "nein", "nö"}  # how an answer to an echoed question begins when it denies
ECHO_REACH = 4  # tokens at the start of the answer sentence that may hold the no ("Ehrlich gesagt nie.")
ELLIPSIS_FILLERS = 2  # "Rechtlich eigentlich nie", "Technik da eigentlich nicht"
CORRECTIVE_NEG = {"nicht"}  # the negator of "nicht X, sondern Y" ("kein" names a lack, not a correction)
CONTRAST = {"sondern", "eher", "vielmehr"}  # what follows corrects the denied clause
LEAD_WORDS = {"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "an", "am", "bei", "beim", "von",
              "vom", "mit", "um", "über", "ueber", "in", "im", "wegen", "zu", "zur", "zum", "unser", "unsere", "unserer", "unseren",
              "unserem", "so", "sehr", "unbedingt", "primär", "hauptsächlich"}  # may stand between "nicht" and the hit
LEAD_REACH = 3  # at most this many of them
PROBLEM_NOUNS = {"problem", "schwierigkeit", "hurde", "hindernis", "arger", "stress"}  # normalised forms
END_DENIERS = {"kein", "keine", "keinen", "keiner", "keinerlei", "nie", "niemals", "nicht", "kaum", "nix", "nichts"}
SUBORDINATORS = {"dass", "daß", "weil", "wenn", "ob", "da", "damit", "obwohl", "sodass", "wobei", "weshalb", "wodurch"}
LACK_WORDS = {"fehlt", "fehlen", "fehlte", "fehlten", "gefehlt", "mangelt", "mangelte", "gemangelt"}
LACK_DENIERS = {"nicht", "nie", "niemals"}
# may stand between the lack word and its denier: "fehlt es nicht", "fehlt uns nicht"
LACK_FILLERS = {"es", "uns", "mir", "ihm", "ihr", "euch", "da", "hier", "dort", "dabei", "eigentlich", "wirklich", "ja", "auch", "so"}
# not "auch": "keine Zeit, Geld auch nicht" goes on with the lack, it does not deny one
ELLIPSIS_FILLER_WORDS = LACK_FILLERS - {"auch"}
FOIL = {"statt", "anstatt", "anstelle", "ersetzt", "ersetzen", "gegenüber", "verglichen", "vergleich"}  # "verglichen mit", "im Vergleich zum"
COMPARATIVES = {"mehr", "besser", "lieber", "eher", "weniger", "schneller", "greifbarer", "praktischer", "hilfreicher", "wichtiger",
                "anschaulicher", "konkreter", "effektiver", "nützlicher", "sinnvoller", "direkter", "einfacher", "leichter",
                "anders"}  # "anders als im Webinar": the webinar is the foil
QUANTIFIERS_AFTER_ALS = {"jede", "jeder", "jedes", "jedem", "jeden", "alle", "jedwede"}
HEDGE = {"sagen", "meinen", "behaupten", "schätzen", "tippen", "vermuten", "denken", "sage", "mein"}  # "würde ich sagen" is no hypothetical
NO_PROBLEM_REACH = 10
OBSTACLE_REACH = 2
FOIL_REACH = 6
CMP_REACH = 12  # "als" is a comparison with a comparative at most this many tokens before it

FLAG_WORDS = {"neg": NEGATORS, "hyp": HYPOTHETICAL, "wish": WISH, "brk": CLAUSE_BREAK, "foil": FOIL, "cmp": COMPARATIVES,
              "quant": QUANTIFIERS_AFTER_ALS, "benefit": BENEFIT, "nothing": NOTHING, "hedge": HEDGE, "cneg": CORRECTIVE_NEG,
              "contrast": CONTRAST, "lead": LEAD_WORDS, "comma": {","}, "resump": RESUMPTIVE, "lackw": LACK_WORDS,
              "denier": LACK_DENIERS, "filler": LACK_FILLERS, "end_denier": END_DENIERS, "subord": SUBORDINATORS,
              "p_resump": PARTAKE_RESUMPTIVE, "partake": PARTAKE, "pbrk": PUNCT_BREAK,
              "stop": SENTENCE_END, "qmark": {"?"}, "answer_no": ANSWER_NO,
              "efill": ELLIPSIS_FILLER_WORDS, "took_part": PARTAKE | EXIST, "sneg": STRONG_NEG}


def form_flags(lower_forms: list[str], norms: list[str]) -> dict[str, np.ndarray]:
    """Per distinct form: which cue list it belongs to (``als`` and ``nop`` too)."""
    flags = {name: np.array([w in words for w in lower_forms], dtype=bool) for name, words in FLAG_WORDS.items()}
    flags["nop"] = np.array([n in NO_PROBLEM for n in norms], dtype=bool)
    flags["problem"] = np.array([n in PROBLEM_NOUNS for n in norms], dtype=bool)
    flags["als"] = np.array([w == "als" for w in lower_forms], dtype=bool)
    flags["nur"] = np.array([w == "nur" for w in lower_forms], dtype=bool)
    flags["noch"] = np.array([w == "noch" for w in lower_forms], dtype=bool)
    return flags


def _lack_denied(f: dict[str, np.ndarray], table) -> np.ndarray:
    """Per token: a word of lack that is denied ("nicht gefehlt", "fehlt uns nicht"), in its
    unit and sentence; not "fehlt nicht nur" (which adds)."""
    sent, offsets = np.asarray(table.sent), np.asarray(table.offsets)
    n = len(sent)
    lack = f["lackw"]
    out = np.zeros(n, dtype=bool)
    if not n:
        return out
    pos = np.arange(n)
    unit_of = table.unit_of(pos)
    lo, hi = offsets[unit_of], offsets[unit_of + 1]

    def at(k, name):  # flag ``name`` at token pos+k, if that token is in the same unit and sentence
        j = np.clip(pos + k, 0, n - 1)
        return f[name][j] & (pos + k >= lo) & (pos + k < hi) & (sent[j] == sent)

    not_only = np.zeros(n, dtype=bool)
    not_only[:-1] = f["nur"][1:]
    before = at(-1, "denier")
    after = np.zeros(n, dtype=bool)
    chain = np.ones(n, dtype=bool)
    for k in (1, 2, 3):  # "fehlt nicht", "fehlt es nicht", "fehlt uns eigentlich nicht"; not "nicht nur"
        j = np.clip(pos + k, 0, n - 1)
        after |= chain & at(k, "denier") & ~not_only[j]
        chain &= at(k, "filler")
    return lack & (before | after)


class Context:
    """Clause and sentence structure of a token table, and the context tests for one hit.

    Args:
        table: the :class:`~pipeline.tokens.TokenTable`.
        flags: per token boolean arrays from :func:`form_flags` (broadcast to tokens).
        window: the codebook's ``negation_window`` (0 = no negation handling).
    """

    def __init__(self, table, flags: dict[str, np.ndarray], window: int):
        self.table = table
        self.window = window
        hyp = flags["hyp"].copy()
        if len(hyp):
            # a hedge ("würde ich sagen", "hätte ich gemeint") is an opinion, not a hypothetical
            hedge = flags["hedge"]
            after = np.zeros_like(hyp)
            after[:-1] |= hedge[1:]
            after[:-2] |= hedge[2:]
            hyp &= ~after
        brk = np.asarray(flags["brk"], dtype=bool).copy()
        if len(brk) > 1:
            # "nur" opens a clause as "but" ("gut, nur fehlt die Zeit"), not in "dauert nur noch zwei Tage"
            brk[:-1] &= ~(np.asarray(flags["nur"], dtype=bool)[:-1] & np.asarray(flags["noch"], dtype=bool)[1:])
        self.flags = {k: np.asarray(v, dtype=bool) for k, v in {**flags, "hyp": hyp, "brk": brk}.items()}  # per token
        self.flags["lack_denied"] = _lack_denied(self.flags, table)
        sneg = self.flags["sneg"].copy()  # a copy: the caller's flags stay as they were
        if len(sneg) > 1:  # "nicht nur" adds, it does not deny
            sneg[:-1] &= ~self.flags["nur"][1:]
        self.flags["sneg"] = sneg
        self.sent = table.sent.tolist()
        starts = np.zeros(table.n_tokens, dtype=bool)
        if table.n_tokens:
            starts[0] = True
            starts[1:] = table.sent[1:] != table.sent[:-1]
        self.clause = np.cumsum(starts | brk).tolist() if table.n_tokens else []
        self.offsets = table.offsets.tolist()

    @property
    def f(self) -> dict[str, list[bool]]:
        """The flags as lists, for the per-hit walks of :meth:`verdict` (made when first used)."""
        if not hasattr(self, "_f_lists"):
            self._f_lists = {k: v.tolist() for k, v in self.flags.items()}
        return self._f_lists

    def _span(self, u: int, start: int, step: int, reach: int, same) -> list[int]:
        lo, hi = self.offsets[u], self.offsets[u + 1]
        out, i = [], start
        brk = self.f["brk"]
        while lo <= i < hi and abs(i - start) < reach and same(i) and not brk[i]:
            out.append(i)
            i += step
        return out

    def near(self, u: int, s: int, e: int, reach: int) -> list[int]:
        sent = self.sent[s]
        same = lambda i: self.sent[i] == sent  # noqa: E731
        return self._span(u, s - 1, -1, reach, same) + self._span(u, e, 1, reach, same)

    def sentence_tokens(self, u: int, s: int) -> range:
        lo, hi = self.offsets[u], self.offsets[u + 1]
        sent = self.sent[s]
        a = s
        while a > lo and self.sent[a - 1] == sent:
            a -= 1
        b = s
        while b < hi and self.sent[b] == sent:
            b += 1
        return range(a, b)

    def verdict(self, u: int, s: int, e: int, lack_counts: bool, obstacle: bool = False) -> str:
        """Why the hit at tokens ``[s, e)`` of unit ``u`` is taken back, or ``""`` (``obstacle``:
        the hit names the obstacle itself, see the module doc)."""
        f = self.f
        if self.window > 0:
            near = self.near(u, s, e, self.window)
            if any(f["hyp"][i] for i in near):
                return "hypothetical"
            same = lambda i: self.sent[i] == self.sent[s]  # noqa: E731
            rest = self._span(u, e, 1, NO_PROBLEM_REACH, same)
            if any(f["neg"][i] for i in rest) and any(f["nop"][i] for i in rest):
                return "no_problem"
            j = e + len(rest)  # "X, das war kein Thema": the clause after the comma and the pronoun
            if j - e < NO_PROBLEM_REACH and j + 1 < self.offsets[u + 1] and same(j) and same(j + 1) and f["comma"][j] and f["resump"][j + 1]:
                after = self._span(u, j + 2, 1, NO_PROBLEM_REACH, same)
                if any(f["neg"][i] for i in after) and any(f["nop"][i] for i in after):
                    return "no_problem"
            # the hit's clause: back from s and on from e to a break, in the unit and sentence
            whole = self.table.n_tokens + 1
            a = s - len(self._span(u, s - 1, -1, whole, same))
            b = e + len(self._span(u, e, 1, whole, same))
            if any(f["lack_denied"][i] for i in range(a, b)):
                return "no_problem"
            if lack_counts and a == s and self._elliptic(e, b):
                return "no_problem"
            if (any(f["problem"][i] for i in range(a, s)) and any(f["end_denier"][i] for i in range(max(e, b - 2), b))
                    and not any(f["subord"][i] for i in range(a, b))):
                return "no_problem"
            if self._corrected(u, s, e, b):
                return "negated"
            if obstacle and any(f["neg"][i] for i in self._span(u, s - 1, -1, OBSTACLE_REACH, same)):
                return "negated"
            if not lack_counts and any(f["neg"][i] for i in near):
                return "negated"
            if not lack_counts and self._partake_denied(u, s, e, b):
                return "negated"
            if not lack_counts and self._echo_denied(u, s, e):
                return "negated"
            if not lack_counts and any(f["sneg"][i] for i in range(e, b)) and any(f["took_part"][i] for i in range(e, b)):
                return "negated"  # "Hackathons hab ich bisher nicht mitgemacht": the no beyond the window, in the clause
        if lack_counts:
            return ""
        sentence = self.sentence_tokens(u, s)
        if any(f["wish"][i] or f["hyp"][i] for i in sentence):
            return "wish"
        if any(f["benefit"][i] for i in sentence) and any(f["nothing"][i] for i in sentence):
            return "no_benefit"
        if self._foil(u, s):
            return "foil"
        return ""

    # --- all hits at once -------------------------------------------------------------------
    def _arrays(self) -> dict:
        """Per-token bounds and running counts that turn every test of :meth:`verdict` into a
        few array look-ups (built once per table)."""
        if hasattr(self, "_arr"):
            return self._arr
        n = self.table.n_tokens
        f = self.flags
        sent = np.asarray(self.table.sent, dtype=np.int64)
        pos = np.arange(n, dtype=np.int64)
        first = np.ones(n, dtype=bool)
        first[1:] = sent[1:] != sent[:-1]
        heads = np.nonzero(first)[0]
        sent_no = np.cumsum(first) - 1
        offsets = np.asarray(self.table.offsets, dtype=np.int64)
        unit_of = self.table.unit_of(pos)
        lo, hi = offsets[unit_of], offsets[unit_of + 1]
        # "als" after a comparative or before "jede": its neighbours must be in the same unit
        prev_cmp = np.zeros(n, dtype=bool)
        prev_cmp[1:] = f["cmp"][:-1]
        next_q = np.zeros(n, dtype=bool)
        next_q[:-1] = f["quant"][1:]
        als_foil = f["als"] & ((prev_cmp & (pos - 1 >= lo)) | (next_q & (pos + 1 < hi)))
        # "lieber kurz telefonieren als drei Stunden Webinar": the comparative further back in the clause
        chain = np.ones(n, dtype=bool)
        for k in range(2, CMP_REACH + 1):
            j = np.maximum(pos - k, 0)
            chain &= ~f["brk"][np.maximum(pos - k + 1, 0)]
            als_foil |= f["als"] & chain & (pos - k >= lo) & (sent[j] == sent) & f["cmp"][j]

        def running(mask):
            return np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])

        # "nicht" at most LEAD_REACH lead words before each token, in its unit and sentence
        lead_neg, chain = np.zeros(n, dtype=bool), np.ones(n, dtype=bool)
        for k in range(1, LEAD_REACH + 2):
            j = np.maximum(pos - k, 0)
            ok = (pos - k >= lo) & (sent[j] == sent)
            lead_neg |= chain & ok & f["cneg"][j]
            chain &= ok & f["lead"][j]
        # a break followed by a contrast: "sondern", or ", eher" (n: the sentinel past the end)
        nxt_contrast = np.zeros(n, dtype=bool)
        nxt_contrast[:-1] = f["contrast"][1:] & (sent[1:] == sent[:-1]) & (pos[1:] < hi[:-1])
        corrects = np.append(f["contrast"] | (f["comma"] & nxt_contrast), False)
        brk_pos = np.where(f["brk"], pos, -1)
        self._arr = {
            "sent_lo": heads[sent_no] if n else pos, "sent_hi": np.append(heads[1:], n)[sent_no] if n else pos,
            # the last break at or before i (index i+1; -1: none) and the first at or after i (n: none)
            "prev_brk": np.concatenate([[-1], np.maximum.accumulate(brk_pos) if n else brk_pos]),
            "prev_foil": np.concatenate([[-1], np.maximum.accumulate(np.where(f["foil"], pos, -1)) if n else pos]),
            "next_brk": np.append(np.minimum.accumulate(np.where(f["brk"], pos, n)[::-1])[::-1], n),
            "lead_neg": np.append(lead_neg, False), "corrects": corrects, "sent_pad": np.append(sent, -1),
            "comma_at": np.append(f["comma"], False), "resump": np.append(f["resump"], False),
            "p_resump": np.append(f["p_resump"], False), "stop": np.append(f["stop"], False),
            "efill_at": np.append(f["efill"], False), "qmark_at": np.append(f["qmark"], False),
            "next_pbrk": np.append(np.minimum.accumulate(np.where(f["pbrk"], pos, n)[::-1])[::-1], n),
            **{k: running(v) for k, v in {"hyp": f["hyp"], "neg": f["neg"], "nop": f["nop"], "wish_hyp": f["wish"] | f["hyp"],
                                           "benefit": f["benefit"], "nothing": f["nothing"], "foil": f["foil"], "als_foil": als_foil,
                                           "cneg": f["cneg"], "lack_denied": f["lack_denied"], "problem": f["problem"],
                                           "end_denier": f["end_denier"], "subord": f["subord"], "partake": f["partake"],
                                           "answer_no": f["answer_no"], "sneg": f["sneg"], "took_part": f["took_part"], "cmp": f["cmp"]}.items()},
        }
        return self._arr

    def verdicts(self, u: np.ndarray, s: np.ndarray, e: np.ndarray, lack_counts: np.ndarray, obstacle: np.ndarray | None = None) -> np.ndarray:
        """:meth:`verdict` of many hits at once (arrays of units, token spans, lack flags); the
        same answers, computed with array look-ups instead of walking the tokens of each hit."""
        a = self._arrays()
        u, s, e = (np.asarray(x, dtype=np.int64) for x in (u, s, e))
        lack = np.asarray(lack_counts, dtype=bool)
        obstacle = np.zeros(len(lack), dtype=bool) if obstacle is None else np.asarray(obstacle, dtype=bool)
        out = np.full(len(s), "", dtype=object)
        if not len(s):
            return out
        offsets = np.asarray(self.table.offsets, dtype=np.int64)
        lo, hi = offsets[u], offsets[u + 1]
        sl, sh = a["sent_lo"][s], a["sent_hi"][s]

        def any_in(name, start, stop):
            cum = a[name]
            stop = np.maximum(stop, start)
            return cum[stop] > cum[start]

        def left(reach):  # tokens before s: same unit and sentence, within reach, up to a break
            return np.maximum.reduce([lo, s - reach, sl, a["prev_brk"][s] + 1, np.zeros_like(s)])

        def right(reach):  # tokens from e on, in the sentence of s, within reach, up to a break
            return np.minimum.reduce([hi, e + reach, sh, a["next_brk"][e]])

        undecided = np.ones(len(s), dtype=bool)

        def decide(mask, name):
            hit = undecided & mask
            out[hit] = name
            undecided[hit] = False

        if self.window > 0:
            near_lo, near_hi = left(self.window), right(self.window)
            decide(any_in("hyp", near_lo, s) | any_in("hyp", e, near_hi), "hypothetical")
            rest_hi = right(NO_PROBLEM_REACH)
            decide(any_in("neg", e, rest_hi) & any_in("nop", e, rest_hi), "no_problem")
            nb = a["next_brk"][e]  # the break closing the hit's clause, if it is in its sentence and unit
            closed = (nb < hi) & (a["sent_pad"][nb] == a["sent_pad"][s])
            # a left dislocation: the comma within reach, a resumptive pronoun, the verdict after it
            r = np.minimum(nb + 1, len(a["resump"]) - 1)
            disl = closed & (nb - e < NO_PROBLEM_REACH) & (nb + 1 < hi) & (a["sent_pad"][r] == a["sent_pad"][s]) & a["comma_at"][nb] & a["resump"][r]
            a_lo = np.minimum(nb + 2, hi)
            a_hi = np.minimum.reduce([hi, a_lo + NO_PROBLEM_REACH, sh, a["next_brk"][a_lo]])
            decide(disl & any_in("neg", a_lo, a_hi) & any_in("nop", a_lo, a_hi), "no_problem")
            whole = self.table.n_tokens + 1
            c_lo, c_hi = left(whole), right(whole)  # the hit's whole clause, within its unit and sentence
            decide(any_in("lack_denied", c_lo, c_hi), "no_problem")
            # "Zeitlich nie.", "Technik eigentlich nicht, …": up to two fillers, a negator, the clause's end
            last = len(a["stop"]) - 1
            j = e.copy()
            for _ in range(ELLIPSIS_FILLERS):
                j += (j < np.minimum(c_hi, e + ELLIPSIS_FILLERS)) & a["efill_at"][np.minimum(j, last)]
            bare = (j < c_hi) & any_in("neg", np.minimum(j, last), np.minimum(j + 1, last)) & ((c_hi == j + 1) | ((c_hi == j + 2) & a["stop"][np.minimum(j + 1, last)]))
            decide(lack & (c_lo == s) & bare, "no_problem")
            decide(any_in("problem", c_lo, s) & any_in("end_denier", np.maximum(e, c_hi - 2), c_hi) & ~any_in("subord", c_lo, c_hi), "no_problem")
            decide((a["lead_neg"][s] | any_in("cneg", s, e)) & closed & a["corrects"][nb], "negated")
            decide(obstacle & any_in("neg", left(OBSTACLE_REACH), s), "negated")
            decide(~lack & (any_in("neg", near_lo, s) | any_in("neg", e, near_hi)), "negated")
            # "X, da war ich nie drin": the resumptive's clause, up to the next punctuation
            partake = closed & (nb - e < NO_PROBLEM_REACH) & (nb + 1 < hi) & (a["sent_pad"][r] == a["sent_pad"][s]) & a["comma_at"][nb] & a["p_resump"][r]
            p_lo = np.minimum(nb + 2, hi)
            p_hi = np.minimum.reduce([hi, p_lo + NO_PROBLEM_REACH, sh, a["next_pbrk"][p_lo]])
            decide(~lack & partake & any_in("neg", p_lo, p_hi) & any_in("partake", p_lo, p_hi), "negated")
            # "Newsletter? Les ich nie.": the hit's sentence is the hit and its question mark
            echo = (s - sl <= 1) & (sh == e + 1) & a["qmark_at"][np.minimum(e, last)] & (sh < hi)
            nxt = np.minimum(sh, max(len(a["sent_hi"]) - 1, 0))
            ans_hi = np.minimum.reduce([hi, sh + ECHO_REACH, a["sent_hi"][nxt]])
            decide(~lack & echo & any_in("answer_no", sh, ans_hi), "negated")
            decide(~lack & any_in("sneg", e, c_hi) & any_in("took_part", e, c_hi), "negated")
        undecided &= ~lack
        decide(any_in("wish_hyp", sl, sh), "wish")
        decide(any_in("benefit", sl, sh) & any_in("nothing", sl, sh), "no_benefit")
        foil_lo = left(FOIL_REACH)
        pf = a["prev_foil"][s]  # the nearest foil word before the hit
        foil = (pf >= foil_lo) & ~any_in("cmp", np.maximum(pf + 1, 0), s)
        decide(foil | any_in("als_foil", foil_lo, s), "foil")
        return out

    def _corrected(self, u: int, s: int, e: int, end: int) -> bool:
        """"nicht X, sondern Y": ``nicht`` in the hit or leading to it, the clause followed by a
        contrast (``end``: the token that closes the hit's clause, see :meth:`verdict`)."""
        f, lo, hi, sent = self.f, self.offsets[u], self.offsets[u + 1], self.sent[s]
        denied = any(f["cneg"][i] for i in range(s, e))
        for j in range(s - 1, s - LEAD_REACH - 2, -1):
            if denied or j < lo or self.sent[j] != sent:
                break
            denied = f["cneg"][j]
            if not f["lead"][j]:
                break
        if not denied:
            return False
        if end >= hi or self.sent[end] != sent:
            return False
        return f["contrast"][end] or (f["comma"][end] and end + 1 < hi and self.sent[end + 1] == sent and f["contrast"][end + 1])

    def _partake_denied(self, u: int, s: int, e: int, end: int) -> bool:
        """"X, da war ich nie drin": the hit's clause (closed by ``end``) ends at a comma within
        :data:`NO_PROBLEM_REACH`, a resumptive follows, and its clause, up to the next punctuation
        in the sentence, holds a negator and a word of taking part."""
        f, hi, sent = self.f, self.offsets[u + 1], self.sent[s]
        if end - e >= NO_PROBLEM_REACH or end + 1 >= hi or self.sent[end] != sent or self.sent[end + 1] != sent:
            return False
        if not f["comma"][end] or not f["p_resump"][end + 1]:
            return False
        clause = []
        i = end + 2
        while i < hi and i - end - 2 < NO_PROBLEM_REACH and self.sent[i] == sent and not f["pbrk"][i]:
            clause.append(i)
            i += 1
        return any(f["neg"][i] for i in clause) and any(f["partake"][i] for i in clause)

    def _elliptic(self, e: int, end: int) -> bool:
        """The hit's clause (closed by ``end``) goes on after the hit with at most
        :data:`ELLIPSIS_FILLERS` fillers, a negator and at most a sentence end: "Zeitlich nie."."""
        f = self.f
        j = e
        while j < min(end, e + ELLIPSIS_FILLERS) and f["efill"][j]:
            j += 1
        return j < end and f["neg"][j] and (end == j + 1 or (end == j + 2 and f["stop"][j + 1]))

    def _echo_denied(self, u: int, s: int, e: int) -> bool:
        """"Schulungen? Haben wir keine gemacht.": the hit, after at most one word, is its own
        sentence with a question mark, and the next sentence of the unit has a no among its first
        :data:`ECHO_REACH` tokens."""
        f, hi = self.f, self.offsets[u + 1]
        sentence = self.sentence_tokens(u, s)
        if s - sentence.start > 1 or sentence.stop != e + 1 or not f["qmark"][e] or sentence.stop >= hi:
            return False
        answer = self.sentence_tokens(u, sentence.stop)
        return any(f["answer_no"][i] for i in range(answer.start, min(answer.stop, answer.start + ECHO_REACH)))

    def _foil(self, u: int, s: int) -> bool:
        f = self.f
        before = self._span(u, s - 1, -1, FOIL_REACH, lambda i: self.sent[i] == self.sent[s])
        for k, i in enumerate(before):  # the nearest foil word; "statt Vorträgen lieber Runden": what is preferred is no foil
            if f["foil"][i]:
                if not any(f["cmp"][j] for j in before[:k]):
                    return True
                break
        for i in before:
            if f["als"][i]:
                prev_cmp = i - 1 >= self.offsets[u] and f["cmp"][i - 1]
                next_q = i + 1 < self.offsets[u + 1] and f["quant"][i + 1]
                if prev_cmp or next_q:
                    return True
                for j in range(i - 2, max(i - CMP_REACH, self.offsets[u]) - 1, -1):  # further back, up to a break
                    if f["brk"][j + 1] or self.sent[j] != self.sent[i]:
                        break
                    if f["cmp"][j]:
                        return True
        return False
