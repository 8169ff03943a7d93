"""Survey exports (LimeSurvey, SoSci Survey, Google Forms, Excel) as CSV or XLSX.

Wide exports have one row per respondent and one column per open question; long tables have
one answer per row (pass ``question_column`` so each answer keeps a stable ID). Delimiter and
encoding are detected. Empty answers and placeholders (``-``, ``k.A.``) stay as units with a
``flag``: dropping them would change the denominators of every share in the report.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError, closest
from pipeline.ingest.archive import check_zip
from pipeline.ingest.common import CONTROL_CHARS, normalise, read_bytes, read_text, squash_cells, strip_controls
from pipeline.ingest.options import SurveyOptions
from pipeline.textfiles import delimiter_of

PLACEHOLDER = re.compile(
    r"^\s*(?:-+|–|—|/|\.+|\?+|x|k\.?\s*a\.?|keine angabe|n\.?\s*a\.?|n/a|na|nan|none|null|entf(?:ällt|aellt)?\.?|nix|---)\s*$",
    re.I,
)
# LimeSurvey exports of long questionnaires reach a few thousand columns; tens of thousands
# are a broken export or a hostile file, and would take minutes and gigabytes to read.
DEFAULT_MAX_COLUMNS = 5000
ID_NAMES = ("id", "response id", "responseid", "antwort id", "antwort-id", "respondent", "respondent_id", "case", "lfdn", "serial", "teilnehmer", "befragte")


def max_columns_allowed(given: int | None = None) -> int:
    """``given``, else ``$QDA_MAX_COLUMNS``, else 5000."""
    if given is not None:
        return given
    raw = os.environ.get("QDA_MAX_COLUMNS", "")
    return int(raw) if raw.strip().isdigit() and int(raw) > 0 else DEFAULT_MAX_COLUMNS


def check_width(path: Path, columns: int, where: str, max_columns: int | None = None) -> None:
    """Refuses a table with more columns than allowed, before its cells are read.

    Raises:
        InputError: naming the table and the count, and how to raise the limit.
    """
    limit = max_columns_allowed(max_columns)
    if columns > limit:
        raise InputError(
            path, f"has {columns:,} columns, more than the {limit:,} qda reads",
            f"check that this is the right file (a broken export?); to read it anyway set QDA_MAX_COLUMNS={columns}",
            where=where,
        )


def column_list(columns, limit: int = 20) -> str:
    """``'id', 'netzwerk', …`` for a message, cut after ``limit`` names."""
    names = [repr(str(c)[:60]) for c in list(columns)[:limit]]
    more = len(columns) - limit
    return ", ".join(names) + (f" … and {more} more" if more > 0 else "")


def read_csv_table(path: Path, encoding: str | None = None, *, info: dict | None = None, max_columns: int | None = None) -> tuple[pd.DataFrame, str, str]:
    """Reads a CSV export with every cell as a string.

    Args:
        path: the file.
        encoding: its encoding; default detected.
        info: if given, receives ``control_chars_removed`` when NUL or other control
            characters were removed.
        max_columns: widest table read (default :func:`max_columns_allowed`).

    Returns:
        ``(frame, delimiter, encoding)``.

    Raises:
        InputError: undecodable, no header, too many columns, or a row with more/fewer fields
            than the header.
    """
    text, text_info = read_text(path, encoding)
    used = text_info["encoding"]
    if info is not None and text_info.get("control_chars_removed"):
        info["control_chars_removed"] = text_info["control_chars_removed"]
    delim = delimiter_of(path, text[:200_000])
    rows, line_of = [], []
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    try:
        for row in reader:
            if "".join(row).strip():  # not a blank row (one join, not a strip per cell)
                if not rows:
                    check_width(path, len(row), "header (line 1)", max_columns)
                rows.append(row)
                line_of.append(reader.line_num)  # the line an editor shows (quoted newlines count)
    except csv.Error as exc:
        raise InputError(path, f"is not valid CSV ({exc})", "export the survey again as CSV", where=f"line {reader.line_num}")
    if len(rows) < 2:
        raise InputError(path, "has a header but no answers" if rows else "has no rows", "export the survey again with its responses")
    header = [h.strip() for h in rows[0]]
    if len(set(map(len, rows))) > 1:  # rows of another width than the header's: name them
        _refuse_ragged(path, header, [(line_of[i], len(r)) for i, r in enumerate(rows) if i and len(r) != len(header)], delim)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(path, f"duplicate column names: {column_list(dupes, 10)}", "rename the columns so that each is unique")
    return pd.DataFrame(rows[1:], columns=header, dtype=str), delim, used


def _show(delim: str) -> str:
    return {"\t": "tab"}.get(delim, delim)


_RESAVE_XLSX = "open it in Excel or LibreOffice and save it again as .xlsx"


def _sheet_width(path: Path, sheet) -> int:
    """Columns of the sheet's first row, read by streaming (nothing else is loaded)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[sheet] if isinstance(sheet, str) else book.worksheets[sheet or 0]
        first = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
        return len(first)
    finally:
        book.close()


def read_xlsx_table(path: Path, sheet=None, *, sheet_origin: str = "--sheet", max_member_bytes: int | None = None,
                    max_columns: int | None = None, info: dict | None = None) -> tuple[pd.DataFrame, str, str]:
    """Reads the first (or the named) sheet of an XLSX export, every cell as a string. When the
    first sheet holds no answers (a sheet of notes before the data), the first later sheet that
    does is read, and ``info["sheet"]`` says which. A sheet given as text is a name or a number
    counting from 1 (:func:`resolve_sheet`; ``sheet_origin`` says where it was given).

    The archive is checked first (:func:`pipeline.ingest.archive.check_zip`), then the width
    of the first row, so a zip bomb or a sheet of 50,000 columns is refused before pandas reads it.

    Raises:
        InputError: not a workbook, over a limit, damaged, or no sheet/answers.
    """
    read_bytes(path)
    check_zip(path, max_member_bytes=max_member_bytes)
    if isinstance(sheet, str):
        sheet = resolve_sheet(path, sheet, sheet_origin)
        if info is not None:
            info["sheet"] = sheet
    frame = _read_sheet(path, sheet if sheet is not None else 0, max_columns, info)
    if frame.empty and sheet is None:
        names = _sheet_names(path)
        for name in names[1:]:
            frame = _read_sheet(path, name, max_columns, info)
            if not frame.empty:
                if info is not None:
                    info["sheet"] = name
                return frame, "xlsx", "xlsx"
        listed = ", ".join(repr(n) for n in names)
        raise InputError(path, f"no sheet holds answers (sheets: {listed})", "export the survey again with its responses")
    if frame.empty:
        raise InputError(path, f"the sheet {sheet!r} has no answers", "export the survey again with its responses")
    return frame, "xlsx", "xlsx"


def resolve_sheet(path: Path, wanted: str, origin: str = "--sheet") -> str:
    """The name of the sheet ``wanted`` names: its exact name, its name in other capitals, or its
    number counting from 1 (``--sheet 2``; a sheet *named* "2" wins).

    Raises:
        InputError: no such sheet; the message lists the sheets and the closest name.
    """
    from pipeline.errors import closest

    try:
        names = _sheet_names(path)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/XML errors for broken files
        raise InputError(path, f"is not a readable XLSX workbook ({type(exc).__name__})", _RESAVE_XLSX)
    want = wanted.strip()
    if want in names:
        return want
    folded = [n for n in names if n.casefold() == want.casefold()]
    if folded:
        return folded[0]
    if want.isdigit() and 1 <= int(want) <= len(names):
        return names[int(want) - 1]
    near = closest(want, names)
    listed = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names, 1))
    hint = f"did you mean {near!r}? " if near else ""
    raise InputError(path, f"has no sheet {wanted!r} (named in {origin}); its sheets are {listed}",
                     f"{hint}name a sheet, or give its number counting from 1")


def _sheet_names(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _read_sheet(path: Path, sheet, max_columns: int | None, info: dict | None) -> pd.DataFrame:
    """One sheet as strings, control characters removed (counted in ``info``), empty rows dropped."""
    try:
        check_width(path, _sheet_width(path, sheet), "first row of the sheet", max_columns)
        # keep_default_na=False: "n/a", "NA", "null" are answers to flag, not missing cells
        frame = pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl", keep_default_na=False, na_values=[])
    except InputError:
        raise
    except (ValueError, IndexError, KeyError) as exc:
        raise InputError(path, f"cannot read the sheet ({str(exc)[:200]})", "name an existing sheet, or " + _RESAVE_XLSX)
    except RecursionError:
        raise InputError(path, "is a damaged XLSX workbook (its XML is nested too deeply)", _RESAVE_XLSX)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/XML errors for broken files
        raise InputError(path, f"is not a readable XLSX workbook ({type(exc).__name__})", _RESAVE_XLSX)
    frame.columns = [str(c).strip() for c in frame.columns]
    removed = 0
    for col in frame.columns:
        hit = frame[col].astype(str).str.contains(CONTROL_CHARS, na=False)
        if hit.any():
            cleaned = [strip_controls(v) for v in frame.loc[hit, col].astype(str)]
            frame.loc[hit, col] = [v for v, _ in cleaned]
            removed += sum(n for _, n in cleaned)
    if info is not None and removed:
        info["control_chars_removed"] = info.get("control_chars_removed", 0) + removed
    return frame.dropna(how="all").fillna("")


def _check_columns(path: Path, frame: pd.DataFrame, names: list[str], option: str) -> None:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        near = closest(missing[0], [str(c) for c in frame.columns])
        hint = f"did you mean {near!r}? " if near else ""
        given = f"given with {option}" if option.startswith("--") else f"given in {option}"
        raise InputError(path, f"no column {', '.join(repr(m) for m in missing)} ({given})", f"{hint}the columns there are: {column_list(frame.columns)}")


def guess_id_column(frame: pd.DataFrame) -> str | None:
    for col in frame.columns:
        if col.strip().lower() in ID_NAMES and frame[col].astype(str).str.strip().ne("").all():
            return col
    return None


def guess_text_columns(frame: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Open questions: columns of free text (long, varied answers), not codes or numbers."""
    found = []
    for col in frame.columns:
        if col in exclude:
            continue
        stats = _answer_stats(frame[col])
        if stats is not None and stats[0] < 0.5 and stats[1] >= 3 and stats[2] >= 0.5:
            found.append(col)
    return found


def _answer_stats(column: pd.Series) -> tuple[float, float, float] | None:
    """Of a column's filled answers (placeholders left out): the share of numbers, the mean
    number of words and the share of distinct answers; None when none is filled."""
    values = column.astype(str).str.strip()
    filled = values[values.ne("") & ~values.str.match(PLACEHOLDER)]
    if len(filled) == 0:
        return None
    numeric = filled.str.fullmatch(r"[-+]?\d+(?:[.,]\d+)?").mean()
    return numeric, filled.str.split().str.len().mean(), filled.nunique() / len(filled)


def _open_questions_left_out(frame: pd.DataFrame, meta_cols: list[str]) -> list[str]:
    """Metadata columns that ask a question (the header ends with "?") and hold varied words, not
    numbers: keyword answers ("Barcamp", "Mehr Workshops") fall under the guess's three words."""
    out = []
    for col in meta_cols:
        stats = _answer_stats(frame[col]) if str(col).rstrip().endswith("?") else None
        if stats is not None and stats[0] < 0.5 and stats[2] >= 0.5:
            out.append(col)
    return out


def flag_of(text: str) -> str:
    if not text.strip():
        return "empty"
    if PLACEHOLDER.match(text):
        return "placeholder"
    return ""


def flags_of(texts: pd.Series) -> pd.Series:
    """:func:`flag_of` of every text."""
    # cell by cell, as the PLACEHOLDER regex is most of the cost either way, and pandas' own
    # str.match may hand it to pyarrow's engine, which reads \s and case differently
    return pd.Series([flag_of(t) for t in texts.tolist()], index=texts.index, dtype=str)


@dataclass
class Answers:
    """The answers of a survey table, one row per unit, in the order of the segments table.

    What :func:`read_survey` returns instead of a list of :class:`Document`: an export holds
    10^5 answers, and building an object per answer costs more than reading the file.

    ``units`` has ``doc_id`` (one document per respondent), ``respondent``, ``segment_id``,
    ``question`` (the label before the text in the document's full text), ``text`` and ``flag``.
    ``meta`` (same rows) is each unit's metadata: the meta columns and ``question``. It is kept
    apart because a meta column may be named like a column of the segments table (``text``,
    ``source``), and then replaces it there, as a unit's metadata does.
    """

    units: pd.DataFrame
    meta: pd.DataFrame


def read_survey(path: Path, table: pd.DataFrame, opts: SurveyOptions, *, fmt: str, first_row: int = 0) -> tuple[Answers, list[str], dict]:
    """Turns a survey table into answers: one document per respondent, one unit per answer.

    ``first_row`` is the number of answer rows before ``table`` when a large file is read in
    parts (see :func:`iter_csv_tables`): row numbers in messages and generated IDs count on.

    Returns:
        ``(answers, warnings, info)``; ``info`` says which columns were used.

    Raises:
        InputError: a named column does not exist, or IDs are not unique.
    """
    warnings: list[str] = []
    named = list(opts.text_columns) + list(opts.meta_columns)
    if opts.id_column:
        named.append(opts.id_column)
    if opts.question_column:
        named.append(opts.question_column)
    where = lambda name, flag: opts.origin.get(name, flag)  # noqa: E731  (corpus.yaml or the command line)
    option_of = {c: where("text_columns", "--text-column") for c in opts.text_columns}
    option_of.update({c: where("meta_columns", "--meta-column") for c in opts.meta_columns})
    if opts.id_column:
        option_of[opts.id_column] = where("id_column", "--id-column")
    if opts.question_column:
        option_of[opts.question_column] = where("question_column", "--question-column")
    missing = [n for n in named if n not in table.columns]
    if missing:
        _check_columns(path, table, [missing[0]], option_of[missing[0]])
    id_col = opts.id_column or guess_id_column(table)
    text_cols = list(opts.text_columns) or guess_text_columns(table, {id_col or "", opts.question_column or "", *opts.meta_columns})
    if not text_cols:
        raise InputError(path, "found no open-question column (no column of free-text answers)", f"name it with --text-column; the columns there are: {column_list(table.columns)}")
    meta_cols = list(opts.meta_columns) or [c for c in table.columns if c not in {*text_cols, id_col, opts.question_column}]
    table = table.reset_index(drop=True)  # from here on, labels are row positions
    ids = table[id_col].astype(str).str.strip() if id_col else pd.Series([str(i) for i in range(first_row + 1, first_row + len(table) + 1)], dtype=str)
    if id_col and ids.eq("").any():
        row = int(ids.eq("").to_numpy().nonzero()[0][0]) + 2 + first_row
        raise InputError(path, f"the ID column {id_col!r} is empty in row {row}", "fill in the ID or pick another --id-column")
    questions = table[opts.question_column].astype(str).str.strip() if opts.question_column else None
    keys = ids if questions is None else ids + ":" + questions
    if keys.duplicated().any():
        dup = keys[keys.duplicated()].iloc[0]
        fix = "pass --question-column for a long table (one answer per row)" if questions is None else "make the ID and question pairs unique"
        raise InputError(path, f"the ID {dup!r} occurs more than once in column {id_col!r}" if id_col else "duplicate rows", fix)
    info = {"format": fmt, "id_column": id_col or "(row number)", "text_columns": text_cols, "meta_columns": meta_cols}
    if not id_col:
        warnings.append("no ID column found; respondents are numbered by row (name one with --id-column)")
    if not opts.text_columns:
        for col in _open_questions_left_out(table, meta_cols):
            warnings.append(f"column {col!r} looks like an open question but its answers are short (a word or two), so it was read "
                            f"as metadata and is not coded; to code it, name every open question with --text-column (e.g. --text-column {col!r})")
    return _answers(path.stem, table, ids, questions, text_cols, meta_cols, fmt), warnings, info


def _answers(stem: str, table: pd.DataFrame, ids: pd.Series, questions: pd.Series | None,
             text_cols: list[str], meta_cols: list[str], fmt: str) -> Answers:
    """The units of a checked survey table, column by column."""
    k = len(text_cols)
    # unit u is the answer in row rows[u], text column cols[u]: a respondent's answers follow
    # each other (a long table's rows of one ID are gathered at its first row), row by row,
    # then in the order of the text columns
    doc_of_row = pd.factorize(ids)[0]
    rows = np.repeat(np.arange(len(table)), k)
    cols = np.tile(np.arange(k), len(table))
    order = np.argsort(doc_of_row[rows], kind="stable")
    rows, cols = rows[order], cols[order]

    def per_unit(values: pd.Series) -> pd.Series:
        return values.iloc[rows].reset_index(drop=True)

    texts = []
    for col in text_cols:
        cells = table[col].astype(str)
        if fmt != "csv":  # CSV text was normalised whole (read_text); XLSX cells are few
            cells = pd.Series([normalise(v) for v in cells.tolist()], dtype=str)
        texts.append(squash_cells(cells))
    # the concatenated columns hold text column j of row r at j * len(table) + r
    text = pd.concat(texts, ignore_index=True).iloc[cols * len(table) + rows].reset_index(drop=True)
    respondent = per_unit(ids)
    if questions is not None:
        question = per_unit(questions)
    else:
        question = pd.Series(np.array(text_cols, dtype=object)[cols], dtype=str)
    if questions is None and k == 1:
        segment_id = respondent
    else:
        segment_id = respondent + ":" + question  # the ID and the question (or text column)
    units = pd.DataFrame({"doc_id": f"{stem}:" + respondent, "respondent": respondent, "segment_id": segment_id,
                          "question": question, "text": text, "flag": flags_of(text)})
    meta = pd.DataFrame({c: per_unit(squash_cells(table[c].astype(str))) for c in meta_cols}, index=units.index)
    meta["question"] = question
    return Answers(units, meta)


# --- large exports, read in parts (qda code / ingest on 10^5-10^6 answers) ---------------------

STREAM_BYTES = 64 * 2**20  # CSV exports above this size are read in parts of STREAM_ROWS answers
STREAM_ROWS = 50_000


def stream_encoding(path: Path, encoding: str | None) -> str:
    """The encoding :func:`pipeline.textfiles.decode` would choose, found by reading the file
    in blocks instead of whole.

    Raises:
        InputError: as ``decode`` (not text in any of the encodings it tries).
    """
    import codecs

    from pipeline.textfiles import _CP1252_UNDEFINED, _utf16_without_bom, mixed_up, utf8_mixture

    if encoding:
        return encoding

    def valid(enc: str) -> int | None:
        """None if the whole file decodes as ``enc``, else the position of the first bad byte."""
        dec = codecs.getincrementaldecoder(enc)()
        done = 0
        with open(path, "rb") as fh:
            try:
                while block := fh.read(1 << 20):
                    dec.decode(block)
                    done += len(block)
                dec.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                return max(done + exc.start, 0)
        return None

    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    bom_less = _utf16_without_bom(head)
    if bom_less and valid(bom_less) is None:
        return bom_less
    pos = valid("utf-8")
    if pos is None:
        return "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
    nuls, size, good, bad = 0, path.stat().st_size, 0, 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            nuls += block.count(0)
            g, b = utf8_mixture(block)  # a sequence cut by a block's end counts once as bad: negligible
            good, bad = good + g, bad + b
            if any(b in _CP1252_UNDEFINED for b in block):
                nuls = size
    with open(path, "rb") as fh:
        mixed_up(path, fh.read(pos + 64), pos, (good, bad))
    if nuls > size // 20:  # as decode: a few NULs are debris, many mean a binary file
        with open(path, "rb") as fh:
            fh.seek(pos)
            byte = fh.read(1)[0]
        raise InputError(path, f"is not text: undecodable byte 0x{byte:02x} at byte {pos}",
                         "save the file as UTF-8 text (or pass --encoding if you know its encoding)")
    return "cp1252"


def _clean_lines(fh, removed: list[int]):
    """The file's lines normalised and without control characters, as ``read_text`` does to the
    whole text (a form feed or vertical tab becomes a line end of its own)."""
    for line in fh:
        text, n = strip_controls(normalise(line))
        removed[0] += n
        if "\n" in text[:-1]:
            yield from (piece for piece in re.split("(?<=\n)", text) if piece)
        else:
            yield text


def iter_csv_tables(path: Path, encoding: str | None = None, rows: int = STREAM_ROWS, *, max_columns: int | None = None):
    """Reads a CSV export in tables of at most ``rows`` answers, every cell a string.

    The same cells as :func:`read_csv_table`, with memory bounded by ``rows`` instead of the
    file size.

    Yields:
        ``(frame, first_row, delimiter, info)``; ``first_row`` counts the answer rows before,
        ``info`` holds ``encoding`` and ``control_chars_removed`` (in this part), if any.

    Raises:
        InputError: as :func:`read_csv_table` (ragged rows are reported per part).
    """
    import itertools

    enc = stream_encoding(path, encoding)
    removed = [0]

    def part_info() -> dict:
        info = {"encoding": enc, **({"control_chars_removed": removed[0]} if removed[0] else {})}
        removed[0] = 0
        return info

    undecodable = (path, f"cannot be decoded as {enc}", "pass the file's real encoding with --encoding, e.g. --encoding cp1252")
    with open(path, encoding=enc, newline="", errors="strict") as fh:
        lines = _clean_lines(fh, removed)
        try:
            head = list(itertools.islice(lines, 20))
        except UnicodeDecodeError as exc:
            raise InputError(undecodable[0], f"{undecodable[1]} ({exc})", undecodable[2]) from None
        delim = delimiter_of(path, "".join(head))
        reader = csv.reader(itertools.chain(head, lines), delimiter=delim)
        header, batch, line_of, first_row = None, [], [], 0
        try:
            for row in reader:
                if not "".join(row).strip():  # a blank row
                    continue
                if header is None:
                    check_width(path, len(row), "header (line 1)", max_columns)
                    header = _stream_header(path, row)
                    continue
                batch.append(row)
                line_of.append(reader.line_num)
                if len(batch) >= rows:
                    yield _stream_frame(path, header, batch, line_of, delim), first_row, delim, part_info()
                    first_row += len(batch)
                    batch, line_of = [], []
        except csv.Error as exc:
            raise InputError(path, f"is not valid CSV ({exc})", "export the survey again as CSV", where=f"line {reader.line_num}") from None
        except UnicodeDecodeError as exc:
            raise InputError(undecodable[0], f"{undecodable[1]} ({exc})", undecodable[2]) from None
    if header is None or (not batch and not first_row):
        raise InputError(path, "has a header but no answers" if header else "has no rows", "export the survey again with its responses")
    if batch:
        yield _stream_frame(path, header, batch, line_of, delim), first_row, delim, part_info()


def _stream_header(path: Path, row: list[str]) -> list[str]:
    header = [h.strip() for h in row]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(path, f"duplicate column names: {column_list(dupes, 10)}", "rename the columns so that each is unique")
    return header


def _stream_frame(path: Path, header: list[str], batch: list[list[str]], line_of: list[int], delim: str) -> pd.DataFrame:
    if set(map(len, batch)) != {len(header)}:  # rows of another width than the header's: name them
        _refuse_ragged(path, header, [(line_of[i], len(r)) for i, r in enumerate(batch) if len(r) != len(header)], delim)
    return pd.DataFrame(batch, columns=header, dtype=str)


def _refuse_ragged(path: Path, header: list[str], ragged: list[tuple[int, int]], delim: str) -> None:
    """Raises InputError naming the first rows whose field count differs from the header's."""
    if not ragged:
        return
    first = ", ".join(f"line {n} has {w}" for n, w in ragged[:3])
    more = f" (and {len(ragged) - 3} more)" if len(ragged) > 3 else ""
    raise InputError(
        path,
        f"ragged rows: the header has {len(header)} fields, but {first}{more} (delimiter '{_show(delim)}')",
        "a text answer probably contains the delimiter without quotes; export with quoted text fields",
    )
