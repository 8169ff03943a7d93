"""Reading and validating YAML codebooks.

Validation collects every problem with its location (``codes → huerde.zeit → include[3]``)
and reports them together; warnings (rules and anchor examples that disagree, a code without
patterns) do not stop a run, errors do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.codebook.model import COMPOUND_MODES, MATCH_ON, QUESTION_REGEX, SCOPES, Code, Codebook, Condition, MatchSettings, Pattern
from pipeline.errors import InputError, ValidationError, closest

TOP_KEYS = {"name", "version", "language", "description", "parent_version", "matching", "cues", "conditions", "questions", "codes"}
MATCH_KEYS = {"match", "case_sensitive", "compounds", "negation_window", "typos", "skip_interviewer", "max_codes"}
CODE_KEYS = {
    "id", "label", "definition", "anchor_examples", "coding_rules", "include", "exclude",
    "codable", "children", "lack_counts", "color", "notes", "guid", "require", "unless",
}
PATTERN_KEYS = {"term", "phrase", "glob", "regex", "near", "window", "compounds", "case_sensitive", "match", "negation", "require", "unless"}
CONDITION_KEYS = {"cues", "codes", "question", "scope", "question_unless"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$")
# nested quantifiers such as (a+)+, (\w*)*, (.+)* can take exponential time on a near miss
_NESTED_QUANT = re.compile(r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})")


@dataclass(frozen=True)
class Problem:
    level: str  # error | warning
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.location}: {self.message}" if self.location else f"{self.level}: {self.message}"


def _did_you_mean(key: str, allowed: set[str]) -> str:
    close = closest(key, allowed)
    return f"unknown key '{key}'; did you mean '{close}'?" if close else f"unknown key '{key}'; allowed: {', '.join(sorted(allowed))}"


def read_yaml(path: Path) -> Any:
    """Loads a codebook's YAML safely (see :mod:`pipeline.yamlsafe`: aliases, depth and
    duplicate keys are refused before a value is built); a syntax error names line and column.

    Raises:
        InputError: a missing, undecodable, empty or invalid file.
    """
    from pipeline.yamlsafe import load_yaml

    data = load_yaml(path, what="codebook", fix="fix the YAML syntax there (indentation, a missing ':' or quotes around text with ': ')")
    if data is None:
        raise InputError(path, "file is empty", "a codebook needs at least name, version and codes")
    return data


def parse_pattern(raw: Any, loc: str, problems: list[Problem]) -> Pattern | None:
    """One pattern from its YAML form; problems are appended, None when unusable."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raw = str(raw)
    if isinstance(raw, str):
        return _text_pattern(raw, loc, problems)
    if not isinstance(raw, dict):
        problems.append(Problem("error", loc, f"a pattern is a text or a mapping such as {{regex: ...}}, not {type(raw).__name__}"))
        return None
    for key in raw:
        if key not in PATTERN_KEYS:
            problems.append(Problem("error", loc, _did_you_mean(key, PATTERN_KEYS)))
    kinds = [k for k in ("term", "phrase", "glob", "regex", "near") if k in raw]
    if len(kinds) != 1:
        problems.append(Problem("error", loc, "needs exactly one of term, phrase, glob, regex, near" + (f" (has {', '.join(kinds)})" if kinds else "")))
        return None
    kind = kinds[0]
    opts = _pattern_options(raw, kind, loc, problems)
    value = raw[kind]
    if kind == "near":
        return _near_pattern(value, raw.get("window", 5), opts, loc, problems)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem("error", f"{loc} → {kind}", "empty pattern"))
        return None
    value = value.strip()
    if kind == "regex":
        return _regex_pattern(value, opts, loc, problems)
    if kind == "glob":
        return _glob_pattern(value, opts, loc, problems)
    if kind == "term" and len(value.split()) > 1:
        problems.append(Problem("error", f"{loc} → term", f"'{value}' has several words; use phrase: for a multi-word pattern"))
        return None
    if kind == "phrase" and len(value.split()) == 1:
        kind = "term"  # a one-word phrase is a term; keeps round trips and diffs stable
    return Pattern(kind, " ".join(value.split()), **opts)


def _text_pattern(raw: str, loc: str, problems: list[Problem]) -> Pattern | None:
    """A pattern written as plain text: ``re:…`` or ``/…/`` is a regex, ``*``/``?`` make a glob,
    several words a phrase, else a term."""
    text = raw.strip()
    if not text:
        problems.append(Problem("error", loc, "empty pattern"))
        return None
    if text.startswith("re:"):
        return _regex_pattern(text[3:].strip(), {}, loc, problems)
    if len(text) > 2 and text.startswith("/") and text.endswith("/"):
        return _regex_pattern(text[1:-1], {}, loc, problems)
    if any(ch in text for ch in "*?"):
        return _glob_pattern(text, {}, loc, problems)
    return Pattern("phrase" if len(text.split()) > 1 else "term", " ".join(text.split()))


def _pattern_options(raw: dict, kind: str, loc: str, problems: list[Problem]) -> dict:
    """The options of a pattern mapping that are valid (compounds, require, unless, case,
    negation, match); each invalid one is a problem and left out."""
    opts = {}
    if "compounds" in raw:
        if raw["compounds"] not in COMPOUND_MODES or raw["compounds"] in (0, 1) and not isinstance(raw["compounds"], bool):
            problems.append(Problem("error", f"{loc} → compounds", f"must be true, false, head or modifier, not {raw['compounds']!r}"))
        else:
            opts["compounds"] = raw["compounds"]
    for key in ("require", "unless"):
        if key in raw:
            if key == "require" and raw[key] is False:
                opts[key] = False
            else:
                cond = parse_condition(raw[key], f"{loc} → {key}", problems)
                if cond is not None:
                    opts[key] = cond
    for key in ("case_sensitive", "negation"):
        if key in raw:
            if not isinstance(raw[key], bool):
                problems.append(Problem("error", f"{loc} → {key}", f"must be true or false, not {raw[key]!r}"))
            else:
                opts[key] = raw[key]
    if "match" in raw:
        if raw["match"] not in MATCH_ON:
            problems.append(Problem("error", f"{loc} → match", f"must be one of {', '.join(MATCH_ON)}, not {raw['match']!r}"))
        else:
            opts["match"] = raw["match"]
    if "window" in raw and kind != "near":
        problems.append(Problem("error", f"{loc} → window", "only a near pattern has a window"))
    return opts


def _near_pattern(value: Any, window: Any, opts: dict, loc: str, problems: list[Problem]) -> Pattern | None:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and v.strip() and len(v.split()) == 1 for v in value)):
        problems.append(Problem("error", f"{loc} → near", "needs two single words, e.g. near: [fehlen, Personal]"))
        return None
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        problems.append(Problem("error", f"{loc} → window", f"must be a whole number of tokens ≥ 1, not {window!r}"))
        return None
    return Pattern("near", (value[0].strip(), value[1].strip()), window=window, **opts)


def parse_condition(raw: Any, loc: str, problems: list[Problem]) -> Condition | None:
    """A ``require``/``unless`` condition: a cue list name, a list of cues, or a mapping
    ``{cues: [...], codes: [...], question: [...], scope: clause|sentence|unit}``."""
    if isinstance(raw, str):
        raw = {"cues": [raw]}
    elif isinstance(raw, list):
        raw = {"cues": raw}
    if not isinstance(raw, dict):
        problems.append(Problem("error", loc, "a condition is a cue list name, a list of cue words, or a mapping with cues, codes, question, scope"))
        return None
    for key in raw:
        if key not in CONDITION_KEYS:
            problems.append(Problem("error", loc, _did_you_mean(key, CONDITION_KEYS)))
    parts = {k: tuple(_str_list(raw.get(k), f"{loc} → {k}", problems)) for k in ("cues", "codes", "question", "question_unless")}
    scope = raw.get("scope", "sentence")
    if scope not in SCOPES:
        problems.append(Problem("error", f"{loc} → scope", f"must be one of {', '.join(SCOPES)}, not {scope!r}"))
        scope = "sentence"
    if not any(parts.values()):
        problems.append(Problem("error", loc, "names no cues, codes or question: the condition could never hold"))
        return None
    if parts["question_unless"] and not parts["question"]:
        problems.append(Problem("error", f"{loc} → question_unless", "only makes sense with question"))
    return Condition(parts["cues"], parts["codes"], parts["question"], scope, parts["question_unless"])


def _inline_conditions(cb: Codebook):
    """``(place, condition)`` of every condition written inline in a code or pattern."""
    for code in cb.codes.values():
        loc = f"codes → {code.id}"
        conds = [("require", code.require), ("unless", code.unless)]
        for part in ("include", "exclude"):
            for j, p in enumerate(getattr(code, part)):
                conds += [(f"{part}[{j}] → require", p.require), (f"{part}[{j}] → unless", p.unless)]
        for where, cond in conds:
            if isinstance(cond, Condition) and not cond.name:
                yield f"{loc} → {where}", cond


def _check_conditions(cb: Codebook, problems: list[Problem]) -> None:
    """Cue names, code globs and question dimensions of every inline condition must exist."""
    for loc, cond in _inline_conditions(cb):
        _check_one(cb, cond, loc, problems)


def _check_one(cb: Codebook, cond: Condition, loc: str, problems: list[Problem]) -> None:
    import fnmatch

    dims = set(cb.dimensions())
    for cue in (*cond.cues, *cond.question_unless):
        if cue in cb.conditions:
            # `unless: [a, b]` reads as two conditions but is a list of cue words: "a" would be
            # searched for as a word and the condition silently never hold
            problems.append(Problem("error", f"{loc} → cues", f"'{cue}' names a condition, not a cue list; a code or pattern takes one "
                                    f"condition: write 'unless: {cue}', or define one condition whose cues combine the cue lists"))
        elif cue not in cb.cues:
            parse_pattern(cue, f"{loc} → cues", problems)
    for glob in cond.codes:
        if not any(fnmatch.fnmatchcase(cid, glob) for cid, c in cb.codes.items() if c.codable):
            problems.append(Problem("error", f"{loc} → codes", f"'{glob}' matches no codable code"))
    for dim in cond.question:
        if dim not in dims and dim not in cb.questions:
            problems.append(Problem("error", f"{loc} → question", f"'{dim}' is neither a dimension of this codebook ({', '.join(sorted(dims))}) "
                                    "nor a question topic under questions:"))


def _mapping(raw: Any, loc: str, shape: str, problems: list[Problem]) -> dict:
    """A top-level section that must be a mapping: nothing is an empty one, anything else a
    problem (``shape`` says what it maps)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(Problem("error", loc, f"must be a mapping: {shape}"))
        return {}
    return raw


def _read_cues(raw: Any, problems: list[Problem]) -> dict[str, list[Pattern]]:
    out: dict[str, list[Pattern]] = {}
    for name, items in _mapping(raw, "cues", "name → list of cue words or patterns", problems).items():
        loc = f"cues → {name}"
        if not isinstance(items, list) or not items:
            problems.append(Problem("error", loc, "must be a non-empty list of words or patterns"))
            continue
        pats = [parse_pattern(p, f"{loc}[{j}]", problems) for j, p in enumerate(items)]
        out[str(name)] = [p for p in pats if p is not None]
    return out


def _read_conditions(raw: Any, problems: list[Problem]) -> dict[str, Condition]:
    out = {}
    for name, spec in _mapping(raw, "conditions", "name → condition ({cues: [...], question: [...], scope: ...})", problems).items():
        cond = parse_condition(spec, f"conditions → {name}", problems)
        if cond is not None:
            out[str(name)] = replace(cond, name=str(name))
    return out


def _resolve_named(cb: Codebook, problems: list[Problem]) -> None:
    """A condition written as one word that names a condition under ``conditions:`` is that condition."""
    for name in set(cb.conditions) & set(cb.cues):
        problems.append(Problem("error", f"conditions → {name}", f"'{name}' is both a cue list and a condition; rename one"))

    def resolve(cond):
        if isinstance(cond, Condition) and len(cond.cues) == 1 and not cond.codes and not cond.question and cond.scope == "sentence" \
                and cond.cues[0] in cb.conditions:
            return cb.conditions[cond.cues[0]]
        return cond

    for code in cb.codes.values():
        code.require, code.unless = resolve(code.require), resolve(code.unless)
        for part in ("include", "exclude"):
            setattr(code, part, [replace(p, require=resolve(p.require), unless=resolve(p.unless)) for p in getattr(code, part)])


def _read_questions(raw: Any, problems: list[Problem]) -> dict[str, list[str]]:
    """``questions:`` — dimension (or topic) → words, phrases or ``{regex: …}`` entries that
    name it in a question. A regular expression is kept as ``re:PATTERN`` (see
    :func:`pipeline.coding.questions.dimensions_in`)."""
    out = {}
    for dim, words in _mapping(raw, "questions", "dimension → words that name it in a question", problems).items():
        loc = f"questions → {dim}"
        entries = []
        for j, w in enumerate(words if isinstance(words, list) else [words]):
            if isinstance(w, dict):
                pattern = w.get("regex")
                if set(w) != {"regex"} or not isinstance(pattern, str) or not pattern.strip():
                    problems.append(Problem("error", f"{loc}[{j}]", "a mapping entry must be {regex: PATTERN} (searched in the question, case-insensitive)"))
                    continue
                try:
                    re.compile(pattern)
                except re.error as e:
                    problems.append(Problem("error", f"{loc}[{j}]", f"invalid regular expression {pattern!r}: {e}"))
                    continue
                entries.append(QUESTION_REGEX + pattern)
            elif isinstance(w, (str, int, float)) and not isinstance(w, bool):
                if str(w).strip():
                    entries.append(str(w).strip())
            else:
                problems.append(Problem("error", f"{loc}[{j}]", "must be a word, a phrase or {regex: PATTERN}"))
        out[str(dim)] = entries
    return out

def _regex_pattern(value: str, opts: dict, loc: str, problems: list[Problem]) -> Pattern | None:
    if not value:
        problems.append(Problem("error", loc, "empty regex"))
        return None
    try:
        compiled = re.compile(value)
    except re.error as exc:
        problems.append(Problem("error", loc, f"invalid regex '{value}': {exc.msg} at position {exc.pos}"))
        return None
    if compiled.match("") is not None and compiled.fullmatch("") is not None:
        problems.append(Problem("error", loc, f"regex '{value}' matches the empty string, so it would code every unit"))
        return None
    if _NESTED_QUANT.search(value):
        problems.append(Problem("error", loc, f"regex '{value}' nests quantifiers (like (a+)+), which can take exponential time; rewrite it without the outer quantifier"))
        return None
    return Pattern("regex", value, **opts)


def _glob_pattern(value: str, opts: dict, loc: str, problems: list[Problem]) -> Pattern | None:
    if not value.strip("*?"):
        problems.append(Problem("error", loc, f"glob '{value}' matches every word"))
        return None
    if len(value.split()) > 1:
        problems.append(Problem("error", loc, f"glob '{value}' has several words; a glob matches one word"))
        return None
    if len(value.replace("*", "").replace("?", "")) < 3:
        problems.append(Problem("warning", loc, f"glob '{value}' has fewer than 3 fixed letters and will match many words"))
    return Pattern("glob", value, **opts)


def _str_list(value: Any, loc: str, problems: list[Problem]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value.strip()]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        problems.append(Problem("error", loc, "must be a list of texts"))
        return []
    return [str(v).strip() for v in value if str(v).strip()]


def codebook_from_data(data: Any, source: str = "<codebook>", *, require_definitions: bool = True) -> tuple[Codebook, list[Problem]]:
    """Builds a Codebook from loaded YAML, collecting every problem instead of stopping.

    ``require_definitions=False`` (imports from other tools, which rarely carry definitions)
    reports a missing definition as a warning instead of an error.
    """
    problems: list[Problem] = []
    if not isinstance(data, dict):
        return Codebook(name="", version=""), [Problem("error", "", "a codebook is a mapping with name, version and codes")]
    for key in data:
        if key not in TOP_KEYS:
            problems.append(Problem("error", str(key), _did_you_mean(key, TOP_KEYS)))
    for key in ("name", "version"):
        if not str(data.get(key) or "").strip():
            problems.append(Problem("error", key, f"missing {key}"))
    matching = _read_matching(data.get("matching") or {}, problems)
    cb = Codebook(
        name=str(data.get("name") or "").strip(),
        version=str(data.get("version") or "").strip(),
        language=str(data.get("language") or "de"),
        description=str(data.get("description") or "").strip(),
        parent_version=str(data["parent_version"]).strip() if data.get("parent_version") is not None else None,
        matching=matching,
        cues=_read_cues(data.get("cues"), problems),
        conditions=_read_conditions(data.get("conditions"), problems),
        questions=_read_questions(data.get("questions"), problems),
        source=source,
    )
    codes = data.get("codes")
    if not isinstance(codes, list) or not codes:
        problems.append(Problem("error", "codes", "missing or empty: a codebook needs a list of codes"))
        return cb, problems
    _walk_codes(codes, None, "codes", cb, problems)
    _link_dotted_parents(cb, problems)
    _resolve_named(cb, problems)
    _check_conditions(cb, problems)
    for cond in cb.conditions.values():
        _check_one(cb, cond, f"conditions → {cond.name}", problems)
    asked_for = {d for cond in [*cb.conditions.values(), *(c for _, c in _inline_conditions(cb))] for d in cond.question}
    for dim in cb.questions:
        # a key that is no dimension is a question *topic* ("how did you come to the network?"),
        # useful only to a condition; one that no condition uses is most likely a typo
        if dim not in cb.dimensions() and dim not in asked_for:
            problems.append(Problem("error", f"questions → {dim}", f"is not a dimension of this codebook ({', '.join(cb.dimensions())}) "
                                    "and no condition asks for it (question: [...]); a question topic is only useful to a condition"))
    _check_codes(cb, problems, require_definitions=require_definitions)
    return cb, problems


def _read_matching(m: Any, problems: list[Problem]) -> MatchSettings:
    """The ``matching:`` section; an invalid setting is a problem and keeps its default."""
    matching = MatchSettings()
    if not isinstance(m, dict):
        problems.append(Problem("error", "matching", "must be a mapping"))
        m = {}
    for key, value in m.items():
        loc = f"matching → {key}"
        if key not in MATCH_KEYS:
            problems.append(Problem("error", "matching", _did_you_mean(key, MATCH_KEYS)))
        elif key == "match":
            if value not in MATCH_ON:
                problems.append(Problem("error", loc, f"must be one of {', '.join(MATCH_ON)}, not {value!r}"))
            else:
                matching.match = value
        elif key == "compounds":
            if value not in COMPOUND_MODES or not isinstance(value, (bool, str)):
                problems.append(Problem("error", loc, f"must be true, false, head or modifier, not {value!r}"))
            else:
                matching.compounds = value
        elif key in ("negation_window", "max_codes"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                what = "0 switches negation handling off" if key == "negation_window" else "0 means no limit"
                problems.append(Problem("error", loc, f"must be a whole number ≥ 0 ({what}), not {value!r}"))
            else:
                setattr(matching, key, value)
        else:
            if not isinstance(value, bool):
                problems.append(Problem("error", loc, f"must be true or false, not {value!r}"))
            else:
                setattr(matching, key, value)
    return matching


def _link_dotted_parents(cb: Codebook, problems: list[Problem]) -> None:
    """In flat lists a dotted ID names its parent, which must be defined."""
    for code in cb.codes.values():
        if code.parent is None and "." in code.id:
            parent = code.id.rsplit(".", 1)[0]
            if parent in cb.codes:
                code.parent = parent
            else:
                problems.append(Problem("error", f"codes → {code.id}", f"its parent '{parent}' is not defined; add a code '{parent}' or nest this code under it"))


def _check_codes(cb: Codebook, problems: list[Problem], *, require_definitions: bool) -> None:
    """What each code lacks: a definition, include patterns, sub-codes, anchor examples."""
    for code in cb.codes.values():
        loc = f"codes → {code.id}"
        has_children = any(c.parent == code.id for c in cb.codes.values())
        if code.codable and not code.definition:
            problems.append(Problem("error" if require_definitions else "warning", loc, "missing definition (Mayring: every category needs one)"))
        elif not code.definition:
            problems.append(Problem("warning", loc, "no definition for this category"))
        if code.codable and not code.include:
            problems.append(Problem("warning", loc, "no include patterns: the rule coder will never assign this code"))
        if not code.codable and not has_children:
            problems.append(Problem("warning", loc, "is not codable and has no sub-codes"))
        if code.codable and not code.anchor_examples:
            problems.append(Problem("warning", loc, "no anchor examples"))


def _walk_codes(items: list, parent: Code | None, loc: str, cb: Codebook, problems: list[Problem]) -> None:
    for i, raw in enumerate(items):
        here = f"{loc}[{i}]"
        code = _read_code(raw, parent, here, cb, problems)
        if code is None:
            continue
        cb.codes[code.id] = code
        cloc = f"codes → {code.id}"
        children = raw.get("children")
        if children is not None:
            if not isinstance(children, list):
                problems.append(Problem("error", f"{cloc} → children", "must be a list of codes"))
            else:
                _walk_codes(children, code, f"{cloc} → children", cb, problems)


def _read_code(raw: Any, parent: Code | None, here: str, cb: Codebook, problems: list[Problem]) -> Code | None:
    """One entry of a ``codes``/``children`` list (without its children); None when it has no
    usable id or repeats one."""
    if not isinstance(raw, dict):
        problems.append(Problem("error", here, "a code is a mapping with at least id, label and definition"))
        return None
    cid = str(raw.get("id") or "").strip()
    if not cid:
        problems.append(Problem("error", here, "missing id"))
        return None
    cloc = f"codes → {cid}"
    for key in raw:
        if key not in CODE_KEYS:
            problems.append(Problem("error", cloc, _did_you_mean(key, CODE_KEYS)))
    if not ID_RE.match(cid):
        problems.append(Problem("error", cloc, "an id is lower case letters, digits, '_' or '-', with dots between levels (e.g. huerde.zeit)"))
    if cid in cb.codes:
        problems.append(Problem("error", cloc, f"duplicate id (also {cb.codes[cid].extra.get('_loc', 'earlier')})"))
        return None
    if parent is not None and not cid.startswith(parent.id + "."):
        problems.append(Problem("error", cloc, f"is nested under '{parent.id}' but its id does not start with '{parent.id}.'"))
    codable = _flag(raw, "codable", True, cloc, problems)
    lack = _flag(raw, "lack_counts", False, cloc, problems)
    conds = {}
    for key in ("require", "unless"):
        if raw.get(key) is not None:
            conds[key] = parse_condition(raw[key], f"{cloc} → {key}", problems)
    code = Code(
        id=cid,
        label=str(raw.get("label") or "").strip(),
        definition=" ".join(str(raw.get("definition") or "").split()),
        anchor_examples=_str_list(raw.get("anchor_examples"), f"{cloc} → anchor_examples", problems),
        coding_rules=_str_list(raw.get("coding_rules"), f"{cloc} → coding_rules", problems),
        codable=codable,
        lack_counts=lack,
        require=conds.get("require"),
        unless=conds.get("unless"),
        parent=parent.id if parent else None,
        color=str(raw["color"]) if raw.get("color") else None,
        extra={"_loc": here, **({"guid": str(raw["guid"])} if raw.get("guid") else {})},
    )
    if not code.label:
        problems.append(Problem("warning", cloc, "no label; the id is shown instead"))
        code.label = cid
    for part in ("include", "exclude"):
        _read_patterns(raw.get(part) or [], getattr(code, part), f"{cloc} → {part}", problems)
    if not codable and code.include:
        problems.append(Problem("warning", cloc, "is not codable, so its include patterns are never used"))
    return code


def _flag(raw: dict, key: str, default: bool, cloc: str, problems: list[Problem]) -> bool:
    """A true/false field of a code; anything else is a problem and counts as ``default``."""
    value = raw.get(key, default)
    if not isinstance(value, bool):
        problems.append(Problem("error", f"{cloc} → {key}", f"must be true or false, not {value!r}"))
        return default
    return value


def _read_patterns(pats: Any, into: list[Pattern], loc: str, problems: list[Problem]) -> None:
    """Appends the usable patterns of an include/exclude list to ``into``, each once."""
    if not isinstance(pats, list):
        problems.append(Problem("error", loc, "must be a list of patterns"))
        return
    seen = set()
    for j, p in enumerate(pats):
        pat = parse_pattern(p, f"{loc}[{j}]", problems)
        if pat is None:
            continue
        if pat in seen:
            problems.append(Problem("warning", f"{loc}[{j}]", f"'{pat.label()}' is listed twice"))
            continue
        seen.add(pat)
        into.append(pat)


def load_codebook(path: Path | str, *, strict: bool = True) -> tuple[Codebook, list[Problem]]:
    """Reads and validates a YAML codebook.

    Returns:
        ``(codebook, warnings)``.

    Raises:
        InputError: the file is missing or not valid YAML (with line and column).
        ValidationError: one or more errors, all listed with their locations.
    """
    path = Path(path)
    data = read_yaml(path)
    cb, problems = codebook_from_data(data, source=str(path))
    cb.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    errors = [p for p in problems if p.level == "error"]
    if errors and strict:
        raise ValidationError(path, [(p.location, p.message) for p in errors], title="is not a valid codebook")
    return cb, [p for p in problems if p.level == "warning"]
