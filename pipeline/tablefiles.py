"""Reading the small tables users and earlier runs hand to qda — gold and split files, ``--join``
files, a run folder's ``segments.csv``/``codings.csv`` — with one clear message for each way
they can be broken: missing, empty, not text, not CSV (with the line), an Excel file that is a
zip bomb, missing columns.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError

EXCEL = (".xlsx", ".xlsm")


def _csv_problem(text: str, sep: str) -> tuple[str, str]:
    """``(where, problem)`` of the first thing the ``csv`` module finds wrong in ``text``."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    width, start = None, 1
    try:
        for row in reader:
            if any(c.strip() for c in row):
                width = width or len(row)
                if len(row) > width:
                    return f"line {start}", f"has {len(row)} fields, the header {width} (delimiter '{sep}')"
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return f"line {start}", 'a quote (") opened there is never closed'
        return f"line {reader.line_num}", str(exc)
    return "", "cannot be split into columns"


def read_csv_file(path: Path | str, *, what: str, fix: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Reads a CSV/TSV file with every cell as text (delimiter and encoding detected; NUL and
    other control characters removed). Header names are stripped.

    Args:
        path: the file.
        what: what it is, for the messages ("gold file").
        fix: what to do when it cannot be read.
        required: columns it must have.

    Raises:
        InputError: missing, empty, not text, not CSV (naming the line), or a required column
            missing (naming the columns it has).
    """
    from pipeline.ingest.common import strip_controls
    from pipeline.textfiles import decode, delimiter_of

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found" if not path.exists() else "is not a file", f"check the path of the {what}")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(path, "file is empty" + ("" if data else " (0 bytes)"), fix)
    text, _ = strip_controls(decode(path, data)[0])
    sep = delimiter_of(path, text[:200_000])
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
    except pd.errors.EmptyDataError:
        raise InputError(path, "has no header line", fix) from None
    except (pd.errors.ParserError, csv.Error):
        where, problem = _csv_problem(text, sep)
        raise InputError(path, f"is not valid CSV ({problem})", fix, where=where or None) from None
    return _checked(frame, path, required, fix)


def read_xlsx_file(path: Path | str, *, what: str, fix: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Reads the first sheet of an Excel workbook with every cell as text, after checking the
    zip container against the archive limits (:func:`pipeline.ingest.archive.check_zip`).

    Raises:
        InputError: missing, a zip bomb or damaged, not a workbook, or a required column missing.
    """
    from pipeline.ingest.archive import check_zip

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", f"check the path of the {what}")
    check_zip(path)
    try:
        frame = pd.read_excel(path, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[]).fillna("")
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise InputError(path, f"is not a readable XLSX workbook ({type(exc).__name__})", "open it in Excel or LibreOffice and save it again as .xlsx") from None
    return _checked(frame, path, required, fix)


def read_table_file(path: Path | str, *, what: str, fix: str, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """:func:`read_xlsx_file` for .xlsx/.xlsm, else :func:`read_csv_file`."""
    reader = read_xlsx_file if Path(path).suffix.lower() in EXCEL else read_csv_file
    return reader(path, what=what, fix=fix, required=required)


def _checked(frame: pd.DataFrame, path: Path, required: tuple[str, ...], fix: str) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        has = ", ".join(map(str, frame.columns[:20])) + (" …" if len(frame.columns) > 20 else "")
        raise InputError(path, f"has no column {', '.join(missing)} (it has: {has})", fix)
    return frame


def read_run_table(folder: Path | str, name: str) -> pd.DataFrame:
    """A table of a run folder by its file name (``segments.csv``, ``codings.csv``), typed: see
    :func:`pipeline.runfolder.read` (which new code calls with the table's name instead).

    Raises:
        InputError: missing, empty, damaged, or without its columns; the fix says to run the
            stage that writes it again.
    """
    from pipeline import runfolder

    return runfolder.read_file(Path(folder) / name, runfolder.name_of(name))


def check_run_folder(folder: Path | str, *, tables: tuple[str, ...] = ("segments", "codings")) -> None:
    """Checks a run folder before a command reads it: a folder, whose ``run.json`` (if any) is
    a JSON object and whose ``tables`` (those present: a missing one is for the command to
    name, with the stage that writes it; names of :data:`pipeline.runfolder.FILES`) are not
    empty and have ``segment_id`` in the header.
    Only the header line is read.

    Raises:
        InputError: the first problem found, naming the file.
    """
    from pipeline import runfolder

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder", "give the run folder written by 'qda run' or 'qda code'")
    record = runfolder.path(folder, "run")
    if record.is_file():
        try:
            value = json.loads(record.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = f"line {exc.lineno}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else None
            raise InputError(record, f"is not valid JSON ({getattr(exc, 'msg', exc)})", "run the stage that wrote the folder again (qda code or qda run)", where=where) from None
        if not isinstance(value, dict):
            raise InputError(record, "is not a run record (a JSON object)", "run the stage that wrote the folder again (qda code or qda run)")
    for name in tables:
        if runfolder.exists(folder, name):
            _check_header(folder, name)


def _check_header(folder: Path, name: str) -> None:
    from pipeline import runfolder
    from pipeline.textfiles import sniff_delimiter

    path = runfolder.path(folder, name)
    fix = runfolder.rerun_fix(folder, name)
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if not head.strip():
        raise InputError(path, "file is empty" + ("" if head else " (0 bytes)"), fix)
    line = head.decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    header = {c.strip() for c in next(csv.reader([line], delimiter=sniff_delimiter(line)), [])}
    missing = [c for c in ("segment_id",) if c not in header]
    if missing:
        raise InputError(path, f"has no column {', '.join(missing)} in its header", fix)
