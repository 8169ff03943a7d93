"""The files of a run folder: their names, their columns and types, reading and writing them.

This is the one module that spells a run file's name. Every other module asks for a file by
its name here (``path(folder, "codings")``), reads it typed (``read_codings(folder)``) and writes
it (``write(folder, "codings", frame)``).

Reading: every cell is read as text first, then each column converted by the file's schema, so
NA handling lives here and nowhere else:

* ``string``: the text as written; an empty cell stays ``""`` (a label "NA" stays a label);
* ``Int64``: integers, an empty cell ``<NA>`` (offsets stay ints, never floats);
* ``float``: numbers, an empty cell ``NaN``;
* ``bool``: ``True``/``False`` (also ``true``, ``1``, ``0``), an empty cell ``<NA>``.

Columns a schema does not list (metadata columns of ``segments``, one column per code in
``codings_wide``) get the schema's ``extra`` type.

Writing: the schema's columns first, in its order, then the others in the frame's order; the
text is what :func:`pipeline.outputs.write_csv` has always written (UTF-8, LF, no index), so
outputs stay byte-identical. Each file is written under a temporary name and moved in when
complete (:mod:`pipeline.atomic`); the folder as a whole is staged by :mod:`pipeline.outputs`.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError

INGEST = "qda ingest SOURCE --out DIR"
CODE = "qda code SOURCE --codebook FILE --out DIR"
CLUSTER = "qda cluster SOURCE --out DIR"
REVIEW = "qda review import RUN DECISIONS"

CLUSTER_FOLDER = "cluster"  # where 'qda run' puts the cluster stage's files inside a run folder


@dataclass(frozen=True)
class RunFile:
    """One file of a run folder.

    Attributes:
        file: its path relative to the folder the stage writes.
        columns: the known columns in file order, each with its type.
        required: the columns a reader needs.
        extra: the type of columns not in ``columns``.
        stage: the command that writes it (for the messages' fix).
    """

    file: str
    columns: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    extra: str = "string"
    stage: str = CODE


S, I, F, B = "string", "Int64", "float", "bool"

FILES: dict[str, RunFile] = {
    "segments": RunFile("segments.csv", {
        "segment_id": S, "doc_id": S, "source": S, "kind": S, "unit": I, "speaker": S, "is_interviewer": B,
        "start_char": I, "end_char": I, "timestamp": S, "text": S, "flag": S, "code_scope": S,
    }, required=("segment_id", "text"), stage=INGEST),
    "segments_parquet": RunFile("segments.parquet", stage=INGEST),
    "codings": RunFile("codings.csv", {
        "segment_id": S, "code": S, "start_char": I, "end_char": I, "evidence": S, "method": S, "pattern": S, "score": F,
        "user": S,
    }, required=("segment_id", "code")),
    "codings_wide": RunFile("codings_wide.csv", {"segment_id": S}, required=("segment_id",), extra=I),
    "evidence": RunFile("evidence.csv", {
        "segment_id": S, "code": S, "start_char": I, "end_char": I, "evidence": S, "pattern": S,
    }, required=("segment_id", "code")),
    "candidates": RunFile("candidates.csv", {
        "segment_id": S, "code": S, "score": F, "threshold": F, "accepted": I, "status": S, "evidence": S, "pattern": S,
    }, required=("segment_id", "code", "score", "threshold", "accepted")),
    "model": RunFile("model.npz"),
    "clusters": RunFile("clusters.csv", {
        "segment_id": S, "cluster": I, "cluster_label": S, "score": F, "margin": F, "agree": I, "alternative": S, "uncertain": B,
    }, required=("segment_id", "cluster"), stage=CLUSTER),
    # its share_<group> columns vary with the groups: each column a number (truth value) where
    # every cell is one, else text (a label "NA" stays a label)
    "categories": RunFile("categories.csv", required=("cluster",), extra="guess", stage=CLUSTER),
    "stability": RunFile("stability.csv", {"segment_id": S, "changes": I, "share_of_reruns": F, "cluster": I}, required=("segment_id",), stage=CLUSTER),
    "cluster_map_png": RunFile("cluster_map.png", stage=CLUSTER),
    "cluster_map_html": RunFile("cluster_map.html", stage=CLUSTER),
    "gold_contingency": RunFile("gold_contingency.csv", stage=CLUSTER),
    "cluster_summary": RunFile("summary.json", stage=CLUSTER),
    "reviewed": RunFile("reviewed.csv", {
        "segment_id": S, "code": S, "decision": S, "corrected_code": S, "comment": S, "reviewer": S, "decided_at": S,
    }, required=("segment_id", "code", "decision", "corrected_code", "comment", "reviewer", "decided_at"), stage=REVIEW),
    "review_log": RunFile("review/log.csv", {
        "imported_at": S, "file": S, "file_sha256": S, "change": S,
        "segment_id": S, "code": S, "decision": S, "corrected_code": S, "comment": S, "reviewer": S, "decided_at": S,
    }, required=("segment_id", "code", "decision"), stage=REVIEW),
    "curve": RunFile("review/curve.csv", {
        "round": I, "imported_at": S, "file": S, "new": I, "changed": I, "units": I, "decisions": I, "reviewed_codings": I,
        "accepted": I, "accepted_share": F, "round_codings": I, "round_accepted": I,
    }, required=("round", "imported_at", "file", "new", "changed", "units", "decisions", "reviewed_codings", "accepted",
                 "accepted_share", "round_codings", "round_accepted"), stage=REVIEW),
    "run": RunFile("run.json"),
}


def spec(name: str) -> RunFile:
    """The :class:`RunFile` called ``name``.

    Raises:
        KeyError: an unknown name, listing the known ones (a programming error, not a user's).
    """
    try:
        return FILES[name]
    except KeyError:
        raise KeyError(f"no run file {name!r}; known: {', '.join(FILES)}") from None


def name_of(file: str) -> str:
    """The name of the run file at the relative path ``file`` (``"codings.csv"`` → ``"codings"``).

    Raises:
        KeyError: no run file lies there.
    """
    for name, rf in FILES.items():
        if rf.file == str(file).replace("\\", "/"):
            return name
    raise KeyError(f"no run file at {file!r}; known: {', '.join(rf.file for rf in FILES.values())}")


def path(folder: Path | str, name: str) -> Path:
    """Where the file ``name`` of a run folder lies (``path(run, "codings")`` → ``run/codings.csv``)."""
    return Path(folder) / spec(name).file


def exists(folder: Path | str, name: str) -> bool:
    return path(folder, name).is_file()


def cluster_folder(folder: Path | str) -> Path:
    """The cluster stage's folder inside a run folder of ``qda run``."""
    return Path(folder) / CLUSTER_FOLDER


def missing_file(folder: Path | str, name: str, fix: str | None = None) -> InputError:
    """The error for a run folder without the file ``name``: names the stage to run first."""
    return InputError(folder, f"has no {spec(name).file}", fix or f"run '{spec(name).stage}' (or 'qda run') first")


def rerun_fix(folder: Path, name: str) -> str:
    """The fix for a damaged file: write it again with the stage that wrote it."""
    stage = spec(name).stage
    if stage == REVIEW:
        return f"import the decisions again with 'qda review import {folder} DECISIONS'"
    command = stage.split(" SOURCE")[0]
    return f"write it again with '{command} ... --out {folder}'" + ("" if stage == CLUSTER else " (or 'qda run')")


# --- reading ----------------------------------------------------------------------------------

def read(folder: Path | str, name: str, *, missing_ok: bool = False, fix: str | None = None) -> pd.DataFrame | None:
    """The table ``name`` of a run folder, typed by its schema (see the module docstring).

    Args:
        missing_ok: return None when the file is not there instead of raising.
        fix: the advice when the file is missing (default: run the stage that writes it).

    Raises:
        InputError: the file is missing, empty, not CSV, lacks a required column (naming it and
            the columns the file has) or holds a value its column's type cannot (naming the row).
    """
    folder = Path(folder)
    if not path(folder, name).is_file():
        if missing_ok:
            return None
        raise missing_file(folder, name, fix)
    return read_file(path(folder, name), name)


def read_as_written(folder: Path | str, name: str, *, missing_ok: bool = False) -> pd.DataFrame | None:
    """The table ``name`` with every cell as the text in the file (``""`` for an empty one).

    For the few consumers that carry cells on verbatim rather than compute with them: the
    REFI-QDA export writes each coding row into the project as it stands in codings.csv, and the
    review log is appended to as written. The required columns are checked as in :func:`read`.

    Raises:
        InputError: see :func:`read`.
    """
    p, rf = path(folder, name), spec(name)
    if not p.is_file():
        if missing_ok:
            return None
        raise missing_file(folder, name)
    frame = _read_text_table(p, rerun_fix(p.parent, name))
    missing = [c for c in rf.required if c not in frame.columns]
    if missing:
        raise InputError(p, f"has no column {', '.join(missing)}",
                         f"{rf.file} is written by '{rf.stage}'; write it again rather than edit its header")
    return frame


def read_file(file: Path | str, name: str) -> pd.DataFrame:
    """A file of the kind ``name`` at ``file``, wherever it lies and whatever it is called
    (``qda code --train`` takes a ``reviewed.csv`` by its path), typed by the schema of ``name``.

    Raises:
        InputError: see :func:`read`; a missing file is "file not found".
    """
    p, rf = Path(file), spec(name)
    if not p.is_file():
        raise InputError(p, "file not found", f"give the {rf.file} that '{rf.stage}' wrote")
    if rf.file.endswith(".parquet"):
        return pd.read_parquet(p)  # parquet keeps the types it was written with
    frame = _read_text_table(p, rerun_fix(p.parent, name))
    missing = [c for c in rf.required if c not in frame.columns]
    if missing:
        has = ", ".join(map(str, frame.columns[:20])) + (" …" if len(frame.columns) > 20 else "")
        raise InputError(p, f"has no column {', '.join(missing)} (it has: {has})",
                         f"{rf.file} is written by '{rf.stage}'; write it again rather than edit its header")
    return typed(frame, name, p)


def _read_text_table(p: Path, fix: str) -> pd.DataFrame:
    """Every cell as text, ``""`` for an empty one."""
    from pipeline.tablefiles import _csv_problem

    data = p.read_bytes()
    if not data.strip():
        raise InputError(p, "file is empty" + ("" if data else " (0 bytes)"), fix)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(p, f"is not UTF-8 text (byte {exc.start})", fix) from None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError(p, "has no header line", fix) from None
    except (pd.errors.ParserError, csv.Error):
        where, problem = _csv_problem(text, ",")
        raise InputError(p, f"is not valid CSV ({problem})", fix, where=where or None) from None


_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


def typed(frame: pd.DataFrame, name: str, source: Path | str | None = None) -> pd.DataFrame:
    """``frame`` (every cell text) with each column converted to its type in the schema of
    ``name``.

    Raises:
        InputError: a cell its column's type cannot hold, naming the file, column and row.
    """
    rf = spec(name)
    out = frame.copy()
    for col in out.columns:
        kind = rf.columns.get(col, rf.extra)
        if kind == "guess":
            continue
        out[col] = _convert(out[col], kind, source or rf.file, col)
    if rf.extra == "guess":
        from pipeline.outputs import typed_frame

        guessed = typed_frame(out[[c for c in out.columns if c not in rf.columns]])
        for col in guessed.columns:
            out[col] = guessed[col]
    return out


def _convert(values: pd.Series, kind: str, source, col: str) -> pd.Series:
    if kind == S:
        return values.astype(str)
    text = values.astype(str).str.strip()
    empty = text.eq("")
    if kind == B:
        low = text.str.lower()
        bad = ~(empty | low.isin(_TRUE | _FALSE))
        what = "a truth value (True or False)"
        result = pd.Series(pd.array([None if e else (v in _TRUE) for e, v in zip(empty, low)], dtype="boolean"), index=values.index)
    else:
        numbers = pd.to_numeric(text.mask(empty), errors="coerce")
        bad = numbers.isna() & ~empty
        if kind == I:
            bad |= numbers.notna() & numbers.ne(numbers.round())
            what = "a whole number"
        else:
            what = "a number"
        result = None if bad.any() else numbers.astype("Int64" if kind == I else "float64")
    if bad.any():
        at = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(source, f"{col} {values.iloc[at]!r} is not {what}",
                         "the file is written by qda; run the stage that wrote it again", where=f"row {at + 2}")
    return result


def read_segments(folder: Path | str, **kw) -> pd.DataFrame:
    """``segments.csv`` (see :func:`read`)."""
    return read(folder, "segments", **kw)


def read_codings(folder: Path | str, **kw) -> pd.DataFrame:
    """``codings.csv`` (see :func:`read`)."""
    return read(folder, "codings", **kw)


def read_evidence(folder: Path | str, **kw) -> pd.DataFrame | None:
    """``evidence.csv`` (see :func:`read`)."""
    return read(folder, "evidence", **kw)


def read_candidates(folder: Path | str, **kw) -> pd.DataFrame | None:
    """``candidates.csv`` of the verifier (see :func:`read`); ``evidence`` and ``pattern``
    are added empty when an older file lacks them."""
    frame = read(folder, "candidates", **kw)
    if frame is not None:
        for col in ("evidence", "pattern"):
            if col not in frame.columns:
                frame[col] = ""
    return frame


def read_reviewed(file: Path | str) -> pd.DataFrame:
    """A ``reviewed.csv`` (by its path: it is also given to ``--train`` and ``--gold``), its
    columns only (see :func:`read_file`)."""
    return read_file(file, "reviewed")[list(FILES["reviewed"].columns)]


def read_record(folder: Path | str) -> dict | None:
    """``run.json``, or None when there is none or it is not a JSON object (a damaged record
    is reported by :func:`pipeline.tablefiles.check_run_folder` before a command reads)."""
    p = path(folder, "run")
    if not p.is_file():
        return None
    try:
        value = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


# --- writing ----------------------------------------------------------------------------------

def ordered(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """``frame`` with the schema's columns first, in its order, then the others as they are."""
    known = [c for c in spec(name).columns if c in frame.columns]
    rest = [c for c in frame.columns if c not in spec(name).columns]
    return frame if list(frame.columns) == known + rest else frame[known + rest]


def write(folder: Path | str, name: str, frame: pd.DataFrame) -> Path:
    """Writes the table ``name`` into ``folder`` whole or not at all.

    Raises:
        ValueError: ``frame`` lacks a required column (a programming error).
    """
    from pipeline.atomic import atomic_path

    rf = spec(name)
    missing = [c for c in rf.required if c not in frame.columns]
    if missing:
        raise ValueError(f"{rf.file}: the frame lacks the column(s) {', '.join(missing)}")
    target = path(folder, name)
    with atomic_path(target) as tmp:
        if rf.file.endswith(".parquet"):
            frame.to_parquet(tmp, index=False, engine="pyarrow", compression="snappy")
        else:
            ordered(frame, name).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    return target


SEGMENT_TABLES = ("segments", "segments_parquet")


def write_segments(folder: Path | str, segments: pd.DataFrame, *, copies: dict[str, Path] | None = None) -> None:
    """``segments.csv`` and ``segments.parquet``: the same table for people and for programs.

    ``copies``: for a table name, a file with exactly the bytes that writing ``segments`` would
    give (see :func:`pipeline.outputs.unchanged_outputs`); it is copied instead of written.
    """
    from pipeline.atomic import atomic_path

    for name in SEGMENT_TABLES:
        if copies and name in copies:
            with atomic_path(path(folder, name)) as tmp:
                shutil.copyfile(copies[name], tmp)
        else:
            write(folder, name, segments)
