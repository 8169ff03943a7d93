"""The codebook as data: codes with Mayring's fields, patterns, and matching settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MATCH_ON = ("lemma", "surface")
COMPOUND_MODES = (True, False, "head", "modifier")
SCOPES = ("clause", "sentence", "unit")
QUESTION_REGEX = "re:"  # prefix of a ``questions:`` entry that is a regular expression ({regex: …} in YAML)


@dataclass(frozen=True)
class Condition:
    """A context condition of a code or pattern (``require`` or ``unless``).

    It holds when, in the hit's ``scope`` (its clause, sentence or whole unit), one of the
    ``cues`` occurs (names of the codebook's cue lists, or words/phrases given inline), a hit
    of one of ``codes`` occurs (code ids or globs such as ``huerde.*``), or the unit answers a
    question about one of the ``question`` dimensions. Any one suffices. The question does not
    count in a unit holding one of the ``question_unless`` cues (an answer to "which barriers?"
    that says "none worth mentioning").
    """

    cues: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    question: tuple[str, ...] = ()
    scope: str = "sentence"
    question_unless: tuple[str, ...] = ()  # cues in the unit that cancel the question's support
    name: str | None = None  # set when defined once under the codebook's ``conditions:``

    def label(self) -> str:
        """One line for tables and diffs, e.g. ``cues=einfuehrung | question=innovationsform``."""
        if self.name:
            return self.name
        return self.spec()

    def spec(self) -> str:
        """What the condition checks, without its name."""
        parts = [f"{k}={','.join(v)}" for k, v in (("cues", self.cues), ("codes", self.codes), ("question", self.question),
                                                        ("question_unless", self.question_unless)) if v]
        if self.scope != "sentence":
            parts.append(f"scope={self.scope}")
        return " | ".join(parts)

    def to_yaml(self, named: bool = True) -> Any:
        """The compact YAML form: its name, a cue list name when that is all, else a mapping."""
        if self.name and named:
            return self.name
        if len(self.cues) == 1 and not self.codes and not self.question and self.scope == "sentence":
            return self.cues[0]
        out: dict[str, Any] = {}
        for key in ("cues", "codes", "question", "question_unless"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        if self.scope != "sentence":
            out["scope"] = self.scope
        return out


@dataclass(frozen=True)
class Pattern:
    """One include or exclude pattern of a code.

    ``kind`` is term (one word, matched on its lemma and, when compounds are on, inside
    compounds), phrase (several words in a row, each on its lemma), glob (``Führungskr*`` on
    the word), regex (on the unit's text) or near (two terms within ``window`` tokens of one
    sentence). ``value`` is the text, or the pair of terms for near.
    """

    kind: str
    value: Any
    window: int | None = None
    compounds: bool | None = None
    case_sensitive: bool | None = None
    match: str | None = None
    # False: also count negated/hypothetical mentions; True, in a lack_counts code: the word names
    # the obstacle itself, so a negator right before it takes it back ("keine Vorgaben")
    negation: bool | None = None
    require: Condition | bool | None = None  # False: exempt from the code's require
    unless: Condition | None = None

    def label(self) -> str:
        """How the pattern is shown in codings.csv and diffs: stable, one line."""
        if self.kind == "near":
            return f"near({self.value[0]}, {self.value[1]}, {self.window})"
        if self.kind == "regex":
            return f"regex:{self.value}"
        if self.kind == "glob":
            return f"glob:{self.value}"
        return str(self.value)

    def describe(self) -> str:
        """The label plus the options that change what it codes (for diffs and tables)."""
        opts = []
        for k in ("compounds", "case_sensitive", "match", "negation"):
            if getattr(self, k) is not None:
                opts.append(f"{k}={getattr(self, k)}")
        for k in ("require", "unless"):
            v = getattr(self, k)
            if v is not None:
                opts.append(f"{k}: {v if isinstance(v, bool) else v.label()}")
        return f"{self.label()} [{'; '.join(opts)}]" if opts else self.label()

    def to_yaml(self) -> Any:
        """The compact YAML form (a plain string when no option is set)."""
        opts = {k: getattr(self, k) for k in ("compounds", "case_sensitive", "match", "negation") if getattr(self, k) is not None}
        for k in ("require", "unless"):
            v = getattr(self, k)
            if v is not None:
                opts[k] = v if isinstance(v, bool) else v.to_yaml()
        text = str(self.value)
        # a plain string is read back by its shape, so only shapes that read back the same
        plain_ok = not text.startswith(("re:", "/")) and not any(ch in text for ch in "*?")
        if self.kind in ("term", "phrase") and not opts and plain_ok:
            return text
        if self.kind == "glob" and not opts and any(ch in text for ch in "*?") and not text.startswith(("re:", "/")):
            return text
        out: dict[str, Any] = {}
        if self.kind == "near":
            out["near"] = list(self.value)
            out["window"] = self.window
        else:
            out[self.kind] = self.value
        out.update(opts)
        return out


@dataclass
class MatchSettings:
    """Codebook-wide matching defaults; a pattern can override the first four."""

    match: str = "lemma"  # lemma | surface
    case_sensitive: bool = False
    compounds: bool | str = True  # True (any part) | "head" | "modifier" | False
    negation_window: int = 4  # tokens around a hit searched for kein/nicht/nie/wäre…; 0 = off
    typos: bool = True  # one typo tolerated in words of 7+ letters
    skip_interviewer: bool = True
    max_codes: int = 0  # at most this many codes per unit (the most explicit, the question's dimension first); 0 = no limit

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class Code:
    id: str
    label: str = ""
    definition: str = ""
    anchor_examples: list[str] = field(default_factory=list)
    coding_rules: list[str] = field(default_factory=list)
    include: list[Pattern] = field(default_factory=list)
    exclude: list[Pattern] = field(default_factory=list)
    codable: bool = True
    lack_counts: bool = False  # "keine Zeit", "ohne Budget" are evidence, not negation
    require: Condition | None = None  # every include hit needs this context (unless its pattern says require: false)
    unless: Condition | None = None  # an include hit in this context is not coded
    parent: str | None = None
    color: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def dimension(self) -> str:
        return self.id.split(".")[0]

    @property
    def depth(self) -> int:
        return self.id.count(".")


@dataclass
class Codebook:
    name: str
    version: str
    language: str = "de"
    description: str = ""
    parent_version: str | None = None
    matching: MatchSettings = field(default_factory=MatchSettings)
    cues: dict[str, list[Pattern]] = field(default_factory=dict)  # named cue lists for conditions
    conditions: dict[str, Condition] = field(default_factory=dict)  # named conditions
    questions: dict[str, list[str]] = field(default_factory=dict)  # dimension → words naming it in a question
    codes: dict[str, Code] = field(default_factory=dict)  # in document order
    source: str | None = None
    sha256: str | None = None

    def codable(self) -> list[Code]:
        return [c for c in self.codes.values() if c.codable]

    def children(self, code_id: str | None) -> list[Code]:
        return [c for c in self.codes.values() if c.parent == code_id]

    def dimensions(self) -> list[str]:
        return list(dict.fromkeys(c.dimension for c in self.codes.values()))

    def ids(self) -> list[str]:
        return list(self.codes)
