"""``corpus.yaml``: a folder's description of its sources.

Example::

    name: beispiel
    interviewer: [I]                 # labels of the interviewer, for every source
    sources:
      - path: interviews/*.txt       # a file or a glob, relative to the folder
        kind: interview
        meta_pattern: "^(?P<network>[A-Za-z-]+)_"   # metadata from the file name
      - path: interviews/kern.vtt
        meta: {network: KERN}
        interviewer: ["Sprecher 1"]
      - path: umfrage/export.csv
        id_column: id
        text_columns: [hindernisse, ideen, beispiel]
        meta_columns: [netzwerk, rolle]
        rename: {netzwerk: network}  # one name for the same metadata across sources
        dimensions:                  # which codebook dimensions each question asks about
          hindernisse: [huerde]
          ideen: [methode]
          beispiel: [innovationsform]
        scope: hard                  # code only those dimensions (default soft: a hint to the coder)
"""

from __future__ import annotations

import glob as globmod
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ValidationError, closest
from pipeline.ingest.options import IngestOptions
from pipeline.yamlsafe import load_yaml

_SOURCE_KEYS = {
    "path", "kind", "meta", "meta_pattern", "text_columns", "id_column", "meta_columns",
    "question_column", "encoding", "sheet", "interviewer", "unit", "rename", "dimensions", "scope",
}
_TOP_KEYS = {"name", "description", "sources", "interviewer", "meta", "language"}
CORPUS_FILES = ("corpus.yaml", "corpus.yml")


@dataclass
class CorpusSource:
    """One entry of ``sources:``: the files it matches and how to read them."""

    files: list[Path]
    options: IngestOptions


def _did_you_mean(key: str, allowed: set[str]) -> str:
    close = closest(key, allowed)
    return f"; did you mean '{close}'?" if close else f"; allowed: {', '.join(sorted(allowed))}"


def load_corpus(folder: Path) -> list[CorpusSource] | None:
    """Reads ``folder/corpus.yaml`` if there is one.

    Raises:
        InputError: the file is not valid YAML or is refused (see :mod:`pipeline.yamlsafe`).
        ValidationError: every problem of the file at once, each with its location.
    """
    path = next((folder / n for n in CORPUS_FILES if (folder / n).is_file()), None)
    if path is None:
        return None
    data = load_yaml(path, what="corpus.yaml")  # aliases, depth and duplicate keys refused before a value is built
    problems: list[tuple[str, str]] = []
    if not isinstance(data, dict):
        raise ValidationError(path, [("", "must be a mapping with a 'sources' list")])
    for key in data:
        if key not in _TOP_KEYS:
            problems.append((str(key), "unknown key" + _did_you_mean(str(key), _TOP_KEYS)))
    top_int = _str_list(data.get("interviewer", []), "interviewer", problems)
    top_meta = data.get("meta") or {}
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.append(("sources", "must be a non-empty list of sources"))
        sources = []
    out: list[CorpusSource] = []
    for i, s in enumerate(sources):
        loc = f"sources[{i}]"
        if isinstance(s, str):
            s = {"path": s}
        if not isinstance(s, dict) or "path" not in s:
            problems.append((loc, "needs a 'path' (a file or glob relative to the folder)"))
            continue
        for key in s:
            if key not in _SOURCE_KEYS:
                problems.append((f"{loc} → {key}", "unknown key" + _did_you_mean(str(key), _SOURCE_KEYS)))
        pattern = str(s["path"])
        files = sorted(Path(m) for m in globmod.glob(str(folder / pattern), recursive=True) if Path(m).is_file())
        if not files:
            problems.append((f"{loc} → path", f"'{pattern}' matches no file in {folder}"))
        if s.get("kind") not in (None, "interview", "survey"):
            problems.append((f"{loc} → kind", f"'{s['kind']}' is not 'interview' or 'survey'"))
        if s.get("unit") not in (None, "turn", "paragraph"):
            problems.append((f"{loc} → unit", f"'{s['unit']}' is not 'turn' or 'paragraph'"))
        meta = s.get("meta") or {}
        if not isinstance(meta, dict):
            problems.append((f"{loc} → meta", "must be a mapping such as {network: DVNW}"))
            meta = {}
        mp = s.get("meta_pattern")
        if mp is not None:
            import re

            try:
                if not re.compile(mp).groupindex:
                    problems.append((f"{loc} → meta_pattern", "has no named group such as (?P<network>...)"))
            except re.error as exc:
                problems.append((f"{loc} → meta_pattern", f"invalid regex: {exc}"))
        out.append(
            CorpusSource(files, IngestOptions(
                kind=s.get("kind"),
                meta={**top_meta, **meta},
                meta_pattern=mp,
                text_columns=_str_list(s.get("text_columns", []), f"{loc} → text_columns", problems),
                id_column=s.get("id_column"),
                meta_columns=_str_list(s.get("meta_columns", []), f"{loc} → meta_columns", problems),
                question_column=s.get("question_column"),
                encoding=s.get("encoding"),
                sheet=None if s.get("sheet") is None else str(s.get("sheet")),
                interviewer=_str_list(s.get("interviewer", []), f"{loc} → interviewer", problems) or top_int,
                unit=s.get("unit"),  # None: not set here; ingest resolves it (command line > corpus.yaml > "turn")
                rename=_rename(s.get("rename"), f"{loc} → rename", problems),
                dimensions=_dimensions(s.get("dimensions"), f"{loc} → dimensions", problems),
                scope=_scope_mode(s.get("scope"), f"{loc} → scope", problems),
                origin={k: f"{path} → {loc} → {k}" for k in ("text_columns", "id_column", "meta_columns", "question_column", "sheet") if s.get(k)},
            ))
        )
    if problems:
        raise ValidationError(path, problems)
    return out


def _scope_mode(value, loc: str, problems: list) -> str | None:
    if value is None or value in ("hard", "soft"):
        return value
    problems.append((loc, f"must be hard or soft, not {value!r}"))
    return None


def _dimensions(value, loc: str, problems: list):
    """``[huerde]`` (every unit) or ``{question: [dims]}``: which codebook dimensions apply."""
    if value is None:
        return {}
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, dict) and all(isinstance(k, str) and (isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))) for k, v in value.items()):
        return {k: ([v] if isinstance(v, str) else list(v)) for k, v in value.items()}
    problems.append((loc, "must be a list of dimensions or a mapping question → list of dimensions, e.g. {hindernisse: [huerde]}"))
    return {}


def _rename(value, loc: str, problems: list) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        problems.append((loc, "must map old column names to new ones, e.g. {netzwerk: network}"))
        return {}
    return dict(value)


def _str_list(value, loc: str, problems: list) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        problems.append((loc, "must be a list of names"))
        return []
    return [str(v) for v in value]
