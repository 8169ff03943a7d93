"""Ingestion: files → coding units (the segments table).

``ingest(sources, ...)`` expands files, folders and globs, picks a reader per file from the
registry, and returns the segments table documented in the README (one row per unit with
stable IDs and offsets into the document's normalised full text).
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from pipeline import registry
from pipeline.errors import InputError
from pipeline.options import default
from pipeline.ingest.common import SEGMENT_COLUMNS, Document, file_stem, read_text, render, render_spans
from pipeline.ingest.corpus import load_corpus
from pipeline.ingest.interviewer import guess_interviewer
from pipeline.ingest.speaker_table import layout_from_content, layout_from_header, table_units
from pipeline.ingest.subtitles import parse_subtitles
from pipeline.ingest.options import IngestOptions
from pipeline.ingest.survey import Answers, SurveyOptions, column_list, guess_id_column, read_csv_table, read_survey, read_xlsx_table
from pipeline.ingest.transcript import is_interviewer_label, parse_free_text, parse_transcript

__all__ = ["IngestOptions", "IngestResult", "StreamedIngest", "ingest", "needs_streaming", "document_texts", "file_notes", "SEGMENT_COLUMNS"]


@dataclass
class FileReport:
    path: str
    reader: str
    documents: int
    units: int
    speakers: list[str]
    warnings: list[str]
    info: dict


@dataclass
class IngestResult:
    segments: pd.DataFrame
    files: list[FileReport]
    inputs: list[Path]
    skipped: list[str] = field(default_factory=list)  # files of a folder or glob not read, with why

    @property
    def warnings(self) -> list[str]:
        return self.skipped + [f"{f.path}: {w}" for f in self.files for w in f.warnings]

    def record(self) -> dict:
        """What ``run.json`` keeps of the ingest: per file the reader, the units, the columns
        and interviewer used (``interviewer_guessed`` when it was guessed), warnings."""
        keep = ("read_as", "columns", "interviewer", "interviewer_guessed", "control_chars_removed", "encoding", "layout", "sheet")
        return {"files": [
            {"path": f.path, "reader": f.reader, "documents": f.documents, "units": f.units,
             **{k: f.info[k] for k in keep if k in f.info}, "warnings": f.warnings}
            for f in self.files
        ], **({"skipped": list(self.skipped)} if self.skipped else {})}


def file_notes(report: FileReport) -> list[str]:
    """Lines for the ingest summary: how a file was read, when that was a decision."""
    notes = []
    if report.info.get("read_as"):
        notes.append(f"read as {report.info['read_as']}")
    if report.info.get("columns"):
        notes.append("columns: " + ", ".join(f"{role} = {name!r}" for role, name in report.info["columns"].items()))
    guess = report.info.get("interviewer_guessed")
    if guess:
        notes.append(f"interviewer guessed: {guess['speaker']} ({guess['questions']} of {guess['turns']} turns are questions);"
                     " name the interviewer with --interviewer if that is wrong")
    return notes


# --- readers ---------------------------------------------------------------------------

@dataclass
class Reader:
    name: str
    extensions: tuple[str, ...]
    read: object  # (path, options) -> (documents, warnings, info)


def _read_text_transcript(path: Path, opts: IngestOptions):
    text, info = read_text(path, opts.encoding)
    if _looks_like_subtitles(text[:2000]):
        return _subtitle_documents(path, text, opts, info)
    rows = _tab_rows(text)
    if rows:
        layout = layout_from_header(rows[0])
        if layout:
            return _documents_from_tables(path, [(rows, layout)], opts, info)
    return _documents_from_text(path, text.split("\n"), opts, info)


def _tab_rows(text: str) -> list[list[str]] | None:
    """A tab-separated table in a text file (``Zeit<TAB>Sprecher<TAB>Text``), else None."""
    head = text.lstrip("\n").split("\n", 1)[0]
    if head.count("\t") < 1 or layout_from_header(head.split("\t")) is None:
        return None
    return [ln.split("\t") for ln in text.lstrip("\n").split("\n") if ln.strip()]


def _documents_from_text(path: Path, lines: list[str], opts: IngestOptions, info: dict):
    text = "\n".join(lines)
    parsed = parse_transcript(text, unit=opts.unit, interviewer=set(opts.interviewer))
    if parsed is None:
        units = parse_free_text(text)
        if not units:
            raise InputError(path, "contains no text to code", "check that this is the right file")
        kind = opts.kind or "survey"
        info = {**info, "layout": "paragraphs (no speaker labels)"}
        return [Document(file_stem(path), str(path), kind, units)], [], info
    if parsed.skipped_header:
        info = {**info, "header_lines_skipped": parsed.skipped_header}
    if parsed.skipped_trailer:
        info = {**info, "end_lines_skipped": parsed.skipped_trailer}
    info = {**info, "layout": "speaker turns", "paragraphs": parsed.paragraphs}
    if parsed.legend:
        info["legend"] = parsed.legend
    return [Document(file_stem(path), str(path), opts.kind or "interview", parsed.units)], [], info


def _documents_from_tables(path: Path, tables: list, opts: IngestOptions, info: dict, *, reader: str = "transcript-table"):
    """Speaker tables (one or several with the same columns, e.g. split over pages) → one interview."""
    groups: list[tuple[list, object]] = []
    for rows, layout in tables:
        if groups and groups[-1][1] == layout:
            groups[-1][0].extend(rows)
        else:
            groups.append((list(rows), layout))
    units, counts = [], {}
    for rows, layout in groups:
        part, part_counts = table_units(rows, layout, unit=opts.unit)
        if units and part and opts.unit == "turn" and units[-1].speaker == part[0].speaker:
            units[-1].text += "\n" + part.pop(0).text
        units += part
        counts = {k: counts.get(k, 0) + v for k, v in {**counts, **part_counts}.items()}
    if not units:
        raise InputError(path, "the speaker table has no rows with a speaker and text", "check the speaker and text columns of the table")
    interviewer = set(opts.interviewer)
    for u in units:
        u.is_interviewer = is_interviewer_label(u.speaker, interviewer)
    first_rows, first_layout = groups[0]
    info = {**info, "reader": reader, "layout": "speaker table", "columns": first_layout.names(first_rows[0]), **counts}
    return [Document(file_stem(path), str(path), opts.kind or "interview", units)], [], info


def _read_docx(path: Path, opts: IngestOptions):
    from pipeline.ingest.docx import read_docx_content

    content = read_docx_content(path, max_member_bytes=_member_limit(opts))
    info: dict = {"encoding": "docx"}
    if content.control_chars_removed:
        info["control_chars_removed"] = content.control_chars_removed
    tables = [(rows, layout) for rows in content.tables if (layout := _speaker_layout(rows))]
    if tables:
        outside = sum(1 for ln in content.lines if ln.strip())
        if outside:
            info["paragraphs_outside_table_skipped"] = outside
        return _documents_from_tables(path, tables, opts, info, reader="transcript-table (docx)")
    return _documents_from_text(path, content.lines, opts, info)


def _speaker_layout(rows: list[list[str]]):
    if not rows:
        return None
    return layout_from_header(rows[0]) or layout_from_content(rows)


def _member_limit(opts: IngestOptions) -> int | None:
    return int(opts.max_unzipped_mb * (1 << 20)) if opts.max_unzipped_mb else None


_SUB_TIME = re.compile(r"^\s*(?:\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->", re.M)


def _looks_like_subtitles(head: str) -> bool:
    return head.lstrip().startswith("WEBVTT") or bool(_SUB_TIME.search(head))


def _read_subtitles(path: Path, opts: IngestOptions):
    text, info = read_text(path, opts.encoding)
    return _subtitle_documents(path, text, opts, info)


def _subtitle_documents(path: Path, text: str, opts: IngestOptions, info: dict):
    units, warnings = parse_subtitles(text, interviewer=set(opts.interviewer), source=str(path))
    if not units:
        raise InputError(path, "contains no cues with text", "export the subtitles again; a cue is a time line '00:00:01.000 --> 00:00:04.000' followed by text")
    return [Document(file_stem(path), str(path), opts.kind or "interview", units)], warnings, {**info, "reader": "subtitles"}


def _read_table(path: Path, table: pd.DataFrame, opts: IngestOptions, info: dict, fmt: str):
    """A CSV/XLSX table is read as a transcript or as a survey: decided by its header (see
    :func:`table_kind`), the reason recorded in ``info["read_as"]``."""
    layout, why = table_kind(path, table, opts)
    if layout is not None:
        rows = [list(table.columns), *table.astype(str).to_numpy().tolist()]
        docs, warnings, tinfo = _documents_from_tables(path, [(rows, layout)], opts, info, reader=f"transcript-table ({fmt})")
        return docs, warnings, {**tinfo, "read_as": why}
    docs, warnings, sinfo = read_survey(path, table, opts, fmt=fmt)
    return docs, warnings, {**info, **sinfo, **({"read_as": why} if why else {})}


def table_kind(path: Path, table: pd.DataFrame, opts: IngestOptions):
    """Is a CSV/XLSX table a transcript (speaker + text column) or a survey?

    A transcript has a speaker column and a text column by name (German or English), no
    column of respondent IDs, and speakers that repeat (or continuation rows without one).
    ``kind: interview``/``survey`` (corpus.yaml, ``--kind``) decides without looking;
    survey options (``--text-column``, ``--id-column``, ``--question-column``) mean survey.

    Returns:
        ``(layout or None, reason)``; the reason is empty for a plain survey.

    Raises:
        InputError: ``kind`` is ``interview`` but no speaker and text column are found.
    """
    layout = layout_from_header([str(c) for c in table.columns])
    if opts.kind == "survey":
        return None, "survey (kind: survey)"
    if opts.kind != "interview" and (opts.text_columns or opts.id_column or opts.question_column):
        return None, ""
    if layout is None:
        if opts.kind == "interview":
            raise InputError(
                path, "is to be read as an interview, but has no speaker and text column",
                f"name them e.g. 'Sprecher' and 'Text' (or 'speaker' and 'text'); the columns there are: {column_list(table.columns)}",
            )
        return None, ""
    speaker_col, text_col = table.columns[layout.speaker], table.columns[layout.text]
    if opts.kind == "interview":
        return layout, f"transcript (kind: interview): speaker column {speaker_col!r}, text column {text_col!r}"
    id_col = guess_id_column(table)
    if id_col is not None:
        return None, f"survey: column {id_col!r} identifies one respondent per row (pass --kind interview to read it as a transcript)"
    speakers = table[speaker_col].astype(str).str.strip()
    filled = speakers[speakers.ne("")]
    if filled.nunique() == len(filled) and len(filled) == len(speakers):
        return None, f"survey: every row has another {speaker_col!r} (pass --kind interview to read it as a transcript)"
    return layout, f"transcript: speaker column {speaker_col!r}, text column {text_col!r}"


def _read_csv(path: Path, opts: IngestOptions):
    info: dict = {}
    table, delim, enc = read_csv_table(path, opts.encoding, info=info)
    info.update({"delimiter": {"\t": "tab"}.get(delim, delim), "encoding": enc})
    docs, warnings, info = _read_table(path, table, opts, info, "csv")
    if opts.sheet:
        warnings = [f"a CSV file has no sheets: --sheet {opts.sheet} applies to .xlsx workbooks only", *warnings]
    return docs, warnings, info


def _read_xlsx(path: Path, opts: IngestOptions):
    info: dict = {}
    table, _, _ = read_xlsx_table(path, opts.sheet, sheet_origin=opts.origin.get("sheet", "--sheet"), max_member_bytes=_member_limit(opts),
                                  info=info)
    docs, warnings, info = _read_table(path, table, opts, info, "xlsx")
    if info.get("sheet") and not opts.sheet:
        warnings = [f"the first sheet holds no answers; read sheet {info['sheet']!r}", *warnings]
    return docs, warnings, info


for _r in (
    Reader("transcript", (".txt", ".md", ".markdown", ".text"), _read_text_transcript),
    Reader("docx", (".docx",), _read_docx),
    Reader("subtitles", (".vtt", ".srt"), _read_subtitles),
    Reader("survey-csv", (".csv", ".tsv"), _read_csv),
    Reader("survey-xlsx", (".xlsx", ".xlsm"), _read_xlsx),
):
    registry.register("reader", _r.name)(_r)


def reader_for(path: Path) -> Reader:
    """The reader registered for ``path``'s extension.

    Raises:
        InputError: no reader handles this type; the message lists the supported ones.
    """
    ext = path.suffix.lower()
    for _, reader in registry.items("reader"):
        if ext in reader.extensions:
            return reader
    supported = _supported()
    hint = " (.doc is the old Word format: save it as .docx)" if ext == ".doc" else ""
    hint = " (save the sheet as .xlsx)" if ext == ".xls" else hint
    raise InputError(path, f"unsupported file type '{ext or path.name}'{hint}", f"supported types: {supported}")


def _supported() -> str:
    return ", ".join(e for _, r in registry.items("reader") for e in r.extensions)


# --- sources -------------------------------------------------------------------------------

# a folder's own description and documentation, not interviews (LICENSE.paper.txt, SOURCE.md)
_DOC_STEMS = {"README", "LICENSE", "LICENCE", "SOURCE", "COPYING", "NOTICE"}
# what to do with a file type qda does not read
_UNREAD_HINTS = {".doc": "save it as .docx", ".odt": "save it as .docx", ".rtf": "save it as .docx or .txt",
                 ".pdf": "export the transcript as .docx or .txt", ".pages": "export it as .docx", ".xls": "save it as .xlsx",
                 ".ods": "save it as .xlsx or .csv", ".numbers": "export it as .xlsx or .csv"}


def expand_sources(sources: list[str], skipped: list[str] | None = None) -> list[tuple[Path, IngestOptions | None]]:
    """Files, folders (with or without ``corpus.yaml``) and globs → ``(file, per-file options)``.

    Files of a folder (without ``corpus.yaml``, whose sources select files on purpose) or of a
    glob that are not read are listed in ``skipped`` (``"PATH: skipped: why"``), so that no
    interview goes missing without a word; hidden files and Office lock files are not."""
    out: list[tuple[Path, IngestOptions | None]] = []
    skipped = [] if skipped is None else skipped

    def sort_out(files: list[Path]) -> list[Path]:
        keep = []
        for f in files:
            why = _skip_reason(f)
            if why is None:
                keep.append(f)
            elif why:
                skipped.append(f"{f}: skipped: {why}")
        return keep

    for src in sources:
        p = Path(src)
        if any(ch in src for ch in "*?[") and not p.exists():
            matches = sorted(Path(m) for m in glob.glob(src, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(src, "the pattern matches no file", "check the pattern; quote it so the shell does not expand it")
            readable = sort_out(matches)
            if not readable:
                names = ", ".join(m.name for m in matches[:5]) + (" …" if len(matches) > 5 else "")
                raise InputError(src, f"the pattern matches {len(matches)} file(s), none of a type qda reads ({names})", f"supported types: {_supported()}")
            out += [(m, None) for m in readable]
        elif p.is_dir():
            corpus = load_corpus(p)
            if corpus is not None:  # its sources select the files on purpose (a gold/ folder stays out)
                out += [(f, replace(s.options)) for s in corpus for f in s.files]
                continue
            files = sort_out(sorted(f for f in p.rglob("*") if f.is_file()))
            if not files:
                raise InputError(p, "the folder holds no transcript or survey file", f"supported types: {_supported()}")
            out += [(f, None) for f in files]
        elif p.exists():
            out.append((p, None))
        else:
            raise InputError(p, "file not found", "check the path (relative paths start at the current folder)")
    return out


def _skip_reason(f: Path) -> str | None:
    """Why a file found in a folder or by a glob is not read: None if it is read, "" if it is
    left out without a word (hidden files, Office lock files, the folder's corpus.yaml)."""
    if f.name.startswith((".", "~$")) or f.name in ("corpus.yaml", "corpus.yml"):
        return ""
    if f.name.split(".")[0].upper() in _DOC_STEMS:
        return "a README, LICENSE or SOURCE file, not a transcript (rename it if it is one)"
    if not any(f.suffix.lower() in r.extensions for _, r in registry.items("reader")):
        hint = _UNREAD_HINTS.get(f.suffix.lower(), f"supported types: {_supported()}")
        return f"{f.suffix or 'a file without extension'} is not read; {hint}"
    return None


def _combine(cli: IngestOptions, file_opts: IngestOptions | None) -> IngestOptions:
    """The options for one file: the command line's over its corpus.yaml source's, the unit
    resolved (command line > corpus.yaml > the default in :mod:`pipeline.options`)."""
    if file_opts is None:
        return replace(cli, unit=default("unit", cli.unit))
    merged = IngestOptions(**vars(file_opts))
    merged.origin = dict(file_opts.origin)
    for name in ("text_columns", "meta_columns", "interviewer"):
        if getattr(cli, name):
            setattr(merged, name, list(getattr(cli, name)))
            merged.origin.pop(name, None)
    for name in ("id_column", "question_column", "encoding", "sheet", "kind", "max_unzipped_mb"):
        if getattr(cli, name):
            setattr(merged, name, getattr(cli, name))
            merged.origin.pop(name, None)
    merged.unit = default("unit", cli.unit or file_opts.unit)
    if cli.dimensions:
        merged.dimensions = cli.dimensions
    merged.meta = {**file_opts.meta, **cli.meta}
    return merged


def ingest(sources: list[str], options: IngestOptions | None = None) -> IngestResult:
    """Reads every source into one segments table.

    Args:
        sources: files, folders or glob patterns.
        options: column mapping, encoding, interviewer labels, unit mode, extra metadata.

    Returns:
        The segments table (see ``SEGMENT_COLUMNS`` plus metadata columns) and a report per file.

    Raises:
        InputError: a source is missing, unsupported, empty, undecodable or malformed.
        ValidationError: a ``corpus.yaml`` is invalid.
    """
    options = options or IngestOptions()
    if options.unit not in {None, "turn", "paragraph"}:
        raise InputError("--unit", f"unknown unit '{options.unit}'", "use 'turn' or 'paragraph'")
    skipped: list[str] = []
    expanded = expand_sources(list(sources), skipped)
    if not expanded:
        raise InputError("(no source)", "nothing to ingest", "name a file, folder or glob")
    frames: list[pd.DataFrame] = []
    reports: list[FileReport] = []
    seen_docs: dict[str, str] = {}
    for path, file_opts in expanded:
        opts = _combine(options, file_opts)
        reader = reader_for(path)
        docs, warnings, info = reader.read(path, opts)
        file_frame, report = _file_segments(path, opts, reader.name, docs, warnings, info, seen_docs)
        frames.append(file_frame)
        reports.append(report)
    frame = _frame(frames)
    dup = frame["segment_id"][frame["segment_id"].duplicated()]
    if len(dup):
        raise InputError(dup.iloc[0], "segment ID occurs in two sources", "give the survey files different IDs or ingest them separately")
    return IngestResult(frame.reset_index(drop=True), reports, [p for p, _ in expanded], skipped)


def _file_segments(path: Path, opts: IngestOptions, reader_name: str, docs: list[Document] | Answers, warnings: list[str], info: dict,
                   seen_docs: dict[str, str]) -> tuple[pd.DataFrame, FileReport]:
    """The segment rows of one file's documents (or survey answers), and the file's report.

    Raises:
        InputError: a document ID is also produced by another file.
    """
    warnings = list(warnings)
    if info.get("control_chars_removed"):
        warnings.append(f"removed {info['control_chars_removed']} control character(s) (NUL and the like) from the text")
    if not isinstance(docs, Answers):
        for doc in docs:
            if doc.kind == "interview":
                _settle_interviewer(doc, opts, warnings, info)
    meta = dict(opts.meta)
    if opts.meta_pattern:
        m = re.search(opts.meta_pattern, path.name)
        if m:
            meta.update({k: v for k, v in m.groupdict().items() if v is not None})
        else:
            warnings.append(f"file name does not match meta_pattern {opts.meta_pattern!r}")
    doc_ids = list(_documents(docs))
    if not seen_docs.keys().isdisjoint(doc_ids):
        doc_id = next(d for d in doc_ids if d in seen_docs)
        raise InputError(path, f"document ID '{doc_id}' is also produced by {seen_docs[doc_id]}", "rename one of the files: document IDs are file names without extension")
    seen_docs.update(dict.fromkeys(doc_ids, str(path)))
    if isinstance(docs, Answers):
        frame, speakers = _answer_rows(docs, str(path), meta, opts), []
    else:
        frame = _rows_frame([row for doc in docs for row in _rows(doc, meta, opts.rename, opts.dimensions, opts.scope)])
        speakers = sorted({u.speaker for d in docs for u in d.units if u.speaker})
    return frame, FileReport(str(path), info.pop("reader", reader_name), len(doc_ids), len(frame), speakers, warnings, info)


def _documents(docs: list[Document] | Answers) -> dict[str, str]:
    """The document IDs of a reader's result in reading order, each with what a message calls
    the document: a survey respondent's ID, else the document ID."""
    if isinstance(docs, Answers):
        first = docs.units.drop_duplicates("doc_id")
        return dict(zip(first["doc_id"].tolist(), first["respondent"].tolist()))
    return {d.doc_id: d.doc_id for d in docs}


def _rows_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows of :func:`_rows` as a frame, a column for every key (missing values None)."""
    # columnar: building a frame from 100k dicts costs more than reading the file
    all_cols = list(dict.fromkeys(k for r in rows[:1] for k in r))
    for r in rows:
        if len(r) != len(all_cols) or any(k not in r for k in all_cols):
            all_cols = list(dict.fromkeys([*all_cols, *r]))
    return pd.DataFrame({c: [r.get(c) for r in rows] for c in all_cols})


def _frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The segments table of the files' rows: the contract's columns, then metadata columns
    sorted ("" where a file has none)."""
    frame = pd.concat(frames, ignore_index=True)
    meta_cols = sorted(c for c in frame.columns if c not in SEGMENT_COLUMNS)
    frame = frame[SEGMENT_COLUMNS + meta_cols]
    for col in meta_cols:
        frame[col] = frame[col].fillna("").astype(str)
    return frame


# --- large survey exports, read in parts -------------------------------------------------------

def needs_streaming(sources: list[str], limit: int | None = None) -> bool:
    """Is a source a survey CSV large enough to be read in parts (see :class:`StreamedIngest`)?"""
    from pipeline.ingest.survey import STREAM_BYTES

    limit = STREAM_BYTES if limit is None else limit
    try:
        expanded = expand_sources(list(sources))
    except InputError:
        return False  # the normal path reports it
    return any(p.suffix.lower() in (".csv", ".tsv") and p.stat().st_size >= limit for p, _ in expanded)


class StreamedIngest:
    """:func:`ingest` for large survey exports, as segment tables of at most ``rows`` answers.

    Iterating yields the tables in order (the same rows as ``ingest(...).segments``, split up);
    memory is bounded by ``rows``, not by the file. Survey CSVs are read in parts (columns are
    detected on the first part); other files, long tables (``question_column``) and CSV
    transcripts whole, one table each. After the iteration, ``files``, ``inputs`` and
    ``warnings`` are those of :class:`IngestResult`.

    Raises:
        InputError: as :func:`ingest` (an ID repeated across parts too).
    """

    def __init__(self, sources: list[str], options: IngestOptions | None = None, *, rows: int | None = None):
        from pipeline.ingest.survey import STREAM_ROWS

        self.options = options or IngestOptions()
        self.rows = rows or STREAM_ROWS
        self.skipped: list[str] = []
        self.expanded = expand_sources(list(sources), self.skipped)
        self.inputs = [p for p, _ in self.expanded]
        self.files: list[FileReport] = []

    @property
    def warnings(self) -> list[str]:
        return self.skipped + [f"{f.path}: {w}" for f in self.files for w in f.warnings]

    def record(self) -> dict:
        """As :meth:`IngestResult.record` (after the iteration)."""
        return IngestResult(pd.DataFrame(), self.files, self.inputs, self.skipped).record()

    def __iter__(self):
        seen_docs: dict[str, str] = {}
        seen_ids: set[str] = set()
        for path, file_opts in self.expanded:
            opts = _combine(self.options, file_opts)
            reader = reader_for(path)
            parts = self._csv_parts(path, opts, reader) if reader.name == "survey-csv" else [reader.read(path, opts)]
            report = None
            for docs, warnings, info in parts:
                again = next((name for doc_id, name in _documents(docs).items() if seen_docs.get(doc_id) == str(path)), None)
                if again is not None:  # a respondent of an earlier part of this file
                    raise InputError(path, f"the ID {again!r} occurs more than once",
                                     "make the IDs unique (or pass --question-column for a long table)")
                frame, part = _file_segments(path, opts, reader.name, docs, warnings, info, seen_docs)
                frame = _frame([frame])  # one part's segments table
                ids = frame["segment_id"].tolist()
                if len(set(ids)) != len(ids) or not seen_ids.isdisjoint(ids):
                    dup = next(i for i in ids if i in seen_ids or ids.count(i) > 1)
                    raise InputError(path, f"the ID {dup!r} occurs more than once", "make the IDs unique (or pass --question-column for a long table)")
                seen_ids.update(ids)
                report = part if report is None else _merge_reports(report, part)
                yield frame
            self.files.append(report)

    def _csv_parts(self, path: Path, opts: IngestOptions, reader: Reader):
        from pipeline.ingest.survey import iter_csv_tables

        sopts: SurveyOptions = opts
        for table, first_row, delim, info in iter_csv_tables(path, opts.encoding, self.rows):
            if first_row == 0:
                layout, why = table_kind(path, table, opts)
                if layout is not None or opts.question_column:  # a transcript or a long table: read whole
                    yield reader.read(path, opts)
                    return
            docs, warnings, sinfo = read_survey(path, table, sopts, fmt="csv", first_row=first_row)
            if first_row == 0:  # later parts use the columns found in the first
                sopts = SurveyOptions(sinfo["text_columns"], None if sinfo["id_column"] == "(row number)" else sinfo["id_column"],
                                      sinfo["meta_columns"], opts.question_column, opts.encoding)
            yield docs, warnings, {**info, "delimiter": {"\t": "tab"}.get(delim, delim), **sinfo, **({"read_as": why} if why else {})}


def _merge_reports(a: FileReport, b: FileReport) -> FileReport:
    """The report of a file read in two parts."""
    info = dict(a.info)
    if b.info.get("control_chars_removed"):
        info["control_chars_removed"] = a.info.get("control_chars_removed", 0) + b.info["control_chars_removed"]
    warnings = [w for w in a.warnings if "control character" not in w]
    warnings += [w for w in b.warnings if w not in warnings and "control character" not in w]
    if info.get("control_chars_removed"):
        warnings.insert(0, f"removed {info['control_chars_removed']} control character(s) (NUL and the like) from the text")
    return FileReport(a.path, a.reader, a.documents + b.documents, a.units + b.units, sorted({*a.speakers, *b.speakers}), warnings, info)


def _settle_interviewer(doc: Document, opts: IngestOptions, warnings: list[str], info: dict) -> None:
    """Marks the interviewer's turns when the labels did not: a guess from the share of
    questions, recorded in ``info["interviewer_guessed"]``; or a warning when no one stands out."""
    speakers = sorted({u.speaker for u in doc.units if u.speaker})
    if not speakers:
        return
    given = [lbl for lbl in opts.interviewer if lbl in speakers]
    if opts.interviewer and not given:
        warnings.append(f"--interviewer {', '.join(opts.interviewer)} names no speaker here (speakers: {', '.join(speakers)})")
    if any(u.is_interviewer for u in doc.units):
        info["interviewer"] = sorted({u.speaker for u in doc.units if u.is_interviewer})
        _hint_bystander(doc, warnings)
        return
    guess = guess_interviewer(doc.units)
    if guess is None:
        warnings.append("no interviewer label recognised and no speaker asks most of the questions; all turns count as answers (name the interviewer with --interviewer)")
        return
    for u in doc.units:
        u.is_interviewer = u.speaker == guess.speaker
    info["interviewer"] = [guess.speaker]
    info["interviewer_guessed"] = {"speaker": guess.speaker, "questions": guess.questions, "turns": guess.turns}
    _hint_bystander(doc, warnings)


BYSTANDER_TURNS, BYSTANDER_WORDS, MAIN_TURNS = 2, 15, 5


def _hint_bystander(doc: Document, warnings: list[str]) -> None:
    """A third speaker with a word or two next to a real interviewee is often part of the
    interview team (a note-taker: "Ich hab mitgeschrieben", "Auch von mir danke"); its turns
    would be coded as answers. Only a hint: in a group interview a quiet member is possible."""
    turns: dict[str, list[int]] = {}
    for u in doc.units:
        if u.speaker and not u.is_interviewer:
            turns.setdefault(u.speaker, []).append(len(u.text.split()))
    if len(turns) < 2 or max(len(t) for t in turns.values()) < MAIN_TURNS:
        return
    main = max(turns, key=lambda s: len(turns[s]))
    for speaker, words in sorted(turns.items()):
        if len(words) <= BYSTANDER_TURNS and max(words) <= BYSTANDER_WORDS:
            warnings.append(f"speaker {speaker!r} has only {len(words)} short turn(s) next to {main!r} ({len(turns[main])}): if {speaker} "
                            f"belongs to the interview team (a note-taker, a second interviewer), name all of the team with --interviewer, "
                            f"so that these turns are not coded as answers")


def _scope(dimensions, unit_meta: dict) -> str:
    if isinstance(dimensions, list):
        return ";".join(dimensions)
    if isinstance(dimensions, dict) and dimensions:
        dims = dimensions.get(unit_meta.get("question", ""), dimensions.get("*", []))
        return ";".join(dims if isinstance(dims, list) else [dims])
    return ""


def _answer_rows(answers: Answers, source: str, file_meta: dict, opts: IngestOptions) -> pd.DataFrame:
    """:func:`_rows` for a survey's answers, column by column."""
    units = answers.units
    unit, start, end = render_spans(units["doc_id"], units["question"], units["text"])
    frame = pd.DataFrame({
        "segment_id": units["segment_id"],
        "doc_id": units["doc_id"],
        "source": source,
        "kind": "survey",
        "unit": unit,
        "speaker": "",
        "is_interviewer": False,
        "start_char": start,
        "end_char": end,
        "timestamp": "",
        "text": units["text"],
        "flag": units["flag"],
    })
    # as in _rows: the file's metadata, then the unit's (which wins), then the scope, then renames
    for key, value in file_meta.items():
        frame[key] = str(value)
    for key in answers.meta.columns:
        frame[key] = answers.meta[key]
    questions = answers.meta["question"]
    scope = questions.map({q: _scope(opts.dimensions, {"question": q}) for q in questions.unique()})
    has_scope = scope.ne("")
    if has_scope.any():  # a unit without a scope keeps what it had: nothing, or a meta column so named
        frame["code_scope"] = scope.where(has_scope, frame.get("code_scope"))
        if opts.scope == "hard":
            frame["scope"] = pd.Series("hard", index=frame.index).where(has_scope, frame.get("scope"))
    for old, new in (opts.rename or {}).items():
        if old in frame.columns and old not in SEGMENT_COLUMNS:
            frame[new] = frame.pop(old)
    return frame


def _rows(doc: Document, file_meta: dict, rename: dict | None = None, dimensions=None, scope_mode: str | None = None) -> list[dict]:
    _, spans = render(doc)
    rows = []
    for n, (u, (start, end)) in enumerate(zip(doc.units, spans), 1):
        row = {
            "segment_id": u.segment_id or f"{doc.doc_id}:{n}",
            "doc_id": doc.doc_id,
            "source": doc.source,
            "kind": doc.kind,
            "unit": n,
            "speaker": u.speaker,
            "is_interviewer": bool(u.is_interviewer),
            "start_char": start,
            "end_char": end,
            "timestamp": u.timestamp,
            "text": u.text,
            "flag": u.flag,
        }
        row.update({k: str(v) for k, v in file_meta.items()})
        row.update({k: str(v) for k, v in u.meta.items()})
        scope = _scope(dimensions, u.meta)
        if scope:
            row["code_scope"] = scope
            if scope_mode == "hard":
                row["scope"] = "hard"
        for old, new in (rename or {}).items():
            if old in row and old not in SEGMENT_COLUMNS:
                row[new] = row.pop(old)
        rows.append(row)
    return rows


def document_texts(segments: pd.DataFrame) -> dict[str, str]:
    """Rebuilds each document's normalised full text from the segments table.

    The inverse of the layout in :func:`pipeline.ingest.common.render`: for every row,
    ``texts[doc_id][start_char:end_char] == text``.
    """
    texts: dict[str, str] = {}
    for doc_id, group in segments.groupby("doc_id", sort=False):
        parts = []
        pos = 0
        for row in group.sort_values("unit").itertuples(index=False):
            gap = row.start_char - pos
            label = row.question if row.kind == "survey" and hasattr(row, "question") and row.question else row.speaker
            prefix = f"{label}: " if label else ""
            sep = "\n\n" if parts else ""
            filler = sep + prefix
            if len(filler) != gap:  # label and gap disagree only if the table was edited
                filler = (sep + prefix)[:gap].ljust(gap)
            parts.append(filler + row.text)
            pos = row.end_char
        texts[doc_id] = "".join(parts)
    return texts
