"""Reviewers' decisions: reading a decisions file (xlsx, csv, json), checking it against the
run, merging it into ``reviewed.csv``, and turning reviewed decisions into training labels.

``reviewed.csv`` (in the run folder) has one row per decided (unit, code):
``segment_id, code, decision (accept | reject | other), corrected_code, comment, reviewer,
decided_at``. ``other`` means the suggested code is wrong and ``corrected_code`` is right.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from pipeline import runfolder
from pipeline.errors import InputError, ValidationError, closest
from pipeline.review.run import ReviewRun

DECISIONS = ("accept", "reject", "other")
REVIEWED_COLUMNS = list(runfolder.FILES["reviewed"].columns)
LOG_COLUMNS = ["imported_at", "file", "file_sha256", "change", *REVIEWED_COLUMNS]
REQUIRED = ["segment_id", "code", "decision"]
MAX_PROBLEMS = 25


class DecisionsError(ValidationError):
    """A decisions file with rows that cannot be imported: every problem with its row (the
    first MAX_PROBLEMS shown), and what to do; nothing is written."""

    def __init__(self, path, problems: list[tuple[str, str]]):
        super().__init__(path, problems, title="cannot be imported")
        lines = str(self).split("\n")[: MAX_PROBLEMS + 1]
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"  … and {len(problems) - MAX_PROBLEMS} more")
        lines.append("  → correct these rows and import the file again; nothing was written")
        self.args = ("\n".join(lines),)


@dataclass
class DecisionFile:
    """A decisions file as read: ``rows`` has REVIEWED_COLUMNS plus ``where`` (``row 7``,
    ``decisions[3]``); ``fingerprint`` is the run it was exported from, if it says so."""

    path: Path
    rows: pd.DataFrame
    fingerprint: str | None


@dataclass
class ImportResult:
    """``reviewed``: the merged reviewed.csv; ``log``: rows to append to the review log;
    ``counts``: new, changed, unchanged, skipped (comments without a decision), units."""

    reviewed: pd.DataFrame
    log: pd.DataFrame
    counts: dict = field(default_factory=dict)


# --- reading ----------------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else (str(int(value)) if value.is_integer() else str(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def _frame(path: Path, records: list[dict], places: list[str]) -> pd.DataFrame:
    """Normalised rows: every column of REVIEWED_COLUMNS as stripped text, plus ``where``."""
    cols = {c: [_text(r.get(c)) for r in records] for c in REVIEWED_COLUMNS}
    frame = pd.DataFrame(cols, columns=REVIEWED_COLUMNS)
    frame["where"] = places
    return frame


def _check_columns(path: Path, columns: list[str]) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(path, f"lacks the column(s) {', '.join(missing)} (has {', '.join(c for c in columns if c) or 'none'})",
                         "import the file written by 'qda review export' (or the page's download); it needs segment_id, code and decision")


def _read_xlsx(path: Path) -> DecisionFile:
    from openpyxl import load_workbook

    from pipeline.review.xlsx import ABOUT_SHEET, FINGERPRINT_PROPERTY, REVIEW_SHEET

    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise InputError(path, f"cannot be read as an Excel workbook ({type(exc).__name__})", "save it again as .xlsx") from None
    ws = wb[REVIEW_SHEET] if REVIEW_SHEET in wb.sheetnames else wb.worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    header = [_text(v).lower() for v in (values[0] if values else [])]
    _check_columns(path, header)
    records = [dict(zip(header, row)) for row in values[1:]]
    fingerprint = None
    if FINGERPRINT_PROPERTY in [p.name for p in wb.custom_doc_props]:
        fingerprint = _text(wb.custom_doc_props[FINGERPRINT_PROPERTY].value)
    elif ABOUT_SHEET in wb.sheetnames:
        fingerprint = next((_text(v) for k, v, *_ in wb[ABOUT_SHEET].iter_rows(values_only=True) if k == "run"), None)
    return DecisionFile(path, _frame(path, records, [f"row {i + 2}" for i in range(len(records))]), fingerprint or None)


def _read_csv(path: Path) -> DecisionFile:
    from pipeline.tablefiles import read_csv_file

    # delimiter and encoding detected: Excel in German writes ';' and cp1252
    frame = read_csv_file(path, what="decisions file",
                          fix="import the CSV of 'qda review export' or the one the review page downloads, with your decisions filled in")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    _check_columns(path, list(frame.columns))
    runs = sorted(set(frame["run"].str.strip()) - {""}) if "run" in frame.columns else []
    if len(runs) > 1:
        raise InputError(path, f"mixes rows of several runs ({', '.join(runs)})", "import the decisions of each run into its own run folder")
    records = frame.to_dict("records")
    return DecisionFile(path, _frame(path, records, [f"row {i + 2}" for i in range(len(records))]), runs[0] if runs else None)


def _read_json(path: Path) -> DecisionFile:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"is not valid JSON ({exc})", "import the JSON the review page downloads") from None
    items = doc.get("decisions") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(path, "holds no list of decisions", 'expected {"run": ..., "decisions": [{"segment_id": ..., "code": ..., "decision": ...}]}')
    _check_columns(path, sorted({k for i in items for k in i}) if items else REQUIRED)
    fingerprint = _text(doc.get("run")) if isinstance(doc, dict) else ""
    return DecisionFile(path, _frame(path, items, [f"decisions[{i}]" for i in range(len(items))]), fingerprint or None)


def read_decisions(path: Path | str) -> DecisionFile:
    """Reads a decisions file: the workbook or CSV of ``qda review export``, or the CSV/JSON the
    review page downloads (CSV may be ``;``-separated and cp1252, as Excel saves it).

    Raises:
        InputError: the file is missing, of another type, unreadable, or lacks
            ``segment_id``, ``code`` or ``decision``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", "give the workbook, CSV or JSON file with your decisions")
    suffix = path.suffix.lower()
    readers = {".xlsx": _read_xlsx, ".xlsm": _read_xlsx, ".csv": _read_csv, ".tsv": _read_csv, ".txt": _read_csv, ".json": _read_json}
    if suffix not in readers:
        raise InputError(path, f"unsupported file type '{suffix}'", "import a .xlsx, .csv or .json decisions file")
    return readers[suffix](path)


# --- checking ---------------------------------------------------------------------------------

def _unknown_code(code: str, known: list[str], what: str) -> str:
    close = closest(code, known)
    hint = f" (did you mean '{close}'?)" if close else ""
    return f"{what} '{code}' is not a code of the run's codebook{hint}"


def _row_problems(r, units: set[str], codes: list[str], code_set: set[str]) -> list[str]:
    """Everything wrong with one row that has content."""
    out = []
    if not r.segment_id:
        out.append("no unit id in segment_id")
    elif r.segment_id not in units:
        out.append(f"unit '{r.segment_id}' is not in the run's segments.csv")
    if not r.code:
        out.append("no code id in code")
    elif r.code not in code_set:
        out.append(_unknown_code(r.code, codes, "code"))
    decision = r.decision.lower()
    if decision and decision not in DECISIONS:
        out.append(f"decision '{r.decision}' is not one of accept, reject, other")
    if decision == "other":
        if not r.corrected_code:
            out.append("decision 'other' needs the right code in corrected_code (a code id from the codebook sheet)")
        elif r.corrected_code not in code_set:
            out.append(_unknown_code(r.corrected_code, codes, "corrected_code"))
        elif r.corrected_code == r.code:
            out.append(f"corrected_code '{r.corrected_code}' is the suggested code itself; then the decision is 'accept'")
    elif r.corrected_code:
        what = f"the decision is '{r.decision}'" if decision else "there is no decision"
        out.append(f"corrected_code '{r.corrected_code}' is given but {what}; set the decision to 'other' or clear corrected_code")
    return out


def check_decisions(dec: DecisionFile, run: ReviewRun) -> tuple[pd.DataFrame, int]:
    """Checks a decisions file against the run, every problem at once.

    Returns:
        ``(decided, skipped)``: the rows with a decision (decision in lower case), and how many
        rows had only a comment.

    Raises:
        InputError: the file comes from another run, or holds no decision.
        DecisionsError: unknown unit or code ids, invalid decisions, ``other`` without a
            code, a (unit, code) decided twice; each with its row.
    """
    if dec.fingerprint and dec.fingerprint != run.fingerprint:
        raise InputError(dec.path, f"was exported from another run (run {dec.fingerprint}; {run.folder} is run {run.fingerprint})",
                         f"import it into the run folder it was exported from, or export a review file of this run with "
                         f"'qda review export {run.folder} --out FILE' and decide there")
    rows = dec.rows
    content = rows[(rows[REVIEWED_COLUMNS[:5]] != "").any(axis=1)]
    units, codes = set(run.segments["segment_id"]), run.code_ids
    problems: list[tuple[str, str]] = []
    first_at: dict[tuple[str, str], str] = {}
    for r in content.itertuples(index=False):
        if not (r.decision or r.corrected_code):
            continue  # untouched, or only a comment: says nothing
        problems += [(r.where, p) for p in _row_problems(r, units, codes, set(codes))]
        k = (r.segment_id, r.code)
        if k in first_at:
            problems.append((r.where, f"unit '{r.segment_id}' with code '{r.code}' is decided again (first in {first_at[k]}); keep one row"))
        first_at.setdefault(k, r.where)
    if problems:
        raise DecisionsError(dec.path, problems)
    decided = content[content["decision"] != ""].copy()
    if decided.empty:
        raise InputError(dec.path, "holds no decision (the decision column is empty in every row)",
                         "choose accept, reject or other in the decision column of the rows you reviewed, save, and import again")
    decided["decision"] = decided["decision"].str.lower()
    comment_only = (content["decision"] == "") & (content["corrected_code"] == "") & (content["comment"] != "")
    return decided.reset_index(drop=True), int(comment_only.sum())


# --- merging ----------------------------------------------------------------------------------

def read_reviewed(path: Path | str) -> pd.DataFrame:
    """Reads ``reviewed.csv`` (see :func:`pipeline.runfolder.read_reviewed`).

    Raises:
        InputError: the file is missing, damaged or lacks a column of ``REVIEWED_COLUMNS``.
    """
    return runfolder.read_reviewed(path)


def is_reviewed_file(path: Path | str) -> bool:
    """Whether ``path`` is a single CSV with the header of ``reviewed.csv`` (not a gold file)."""
    p = Path(str(path))
    if "," in str(path) or not p.is_file() or p.suffix.lower() != ".csv":
        return False
    head = p.read_text(encoding="utf-8-sig", errors="replace").split("\n", 1)[0]
    return {"segment_id", "code", "decision"} <= {h.strip().lower() for h in head.split(",")}


def merge_decisions(existing: pd.DataFrame | None, decided: pd.DataFrame, *, source: Path, now: str,
                    reviewer: str | None = None) -> ImportResult:
    """Merges checked decisions into the reviewed table: a new decision on a (unit, code)
    replaces the old one; the same decision again changes nothing (so importing a file twice is
    idempotent). A decision without ``decided_at`` gets ``now`` when it is new or changed."""
    old = {} if existing is None else {(r["segment_id"], r["code"]): r for r in existing.to_dict("records")}
    merged = dict(old)
    log, counts = [], {"new": 0, "changed": 0, "unchanged": 0}
    compare = ["decision", "corrected_code", "comment"]  # who decided it again changes nothing
    digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    for r in decided.to_dict("records"):
        row = {c: r[c] for c in REVIEWED_COLUMNS}
        row["reviewer"] = row["reviewer"] or (reviewer or "")
        k = (row["segment_id"], row["code"])
        prev = old.get(k)
        if prev is not None and all(prev[c] == row[c] for c in compare):
            counts["unchanged"] += 1
            continue
        row["decided_at"] = row["decided_at"] or now
        change = "new" if prev is None else "changed"
        counts[change] += 1
        merged[k] = row
        log.append({"imported_at": now, "file": str(source), "file_sha256": digest,
                    "change": change, **row})
    reviewed = pd.DataFrame([merged[k] for k in sorted(merged)], columns=REVIEWED_COLUMNS)
    counts["units"] = int(reviewed["segment_id"].nunique())
    return ImportResult(reviewed, pd.DataFrame(log, columns=LOG_COLUMNS), counts)


def import_decisions(run: ReviewRun, path: Path | str, *, now: str, reviewer: str | None = None) -> ImportResult:
    """Reads, checks and merges a decisions file into the run's ``reviewed.csv`` (not written
    here: the caller writes ``result.reviewed`` and appends ``result.log``).

    Raises:
        InputError, ValidationError: see :func:`read_decisions` and :func:`check_decisions`.
    """
    dec = read_decisions(path)
    decided, skipped = check_decisions(dec, run)
    existing = read_reviewed(runfolder.path(run.folder, "reviewed")) if runfolder.exists(run.folder, "reviewed") else None
    result = merge_decisions(existing, decided, source=Path(path), now=now, reviewer=reviewer)
    result.counts["skipped"] = skipped
    return result


# --- training labels --------------------------------------------------------------------------

def training_labels(reviewed: pd.DataFrame) -> pd.DataFrame:
    """Reviewed decisions as labels for the verifier: ``segment_id, code, label``.

    ``accept`` → 1 for the code; ``reject`` → 0; ``other`` → 0 for the suggested code and 1 for
    ``corrected_code`` (unless that pair has a decision of its own, which then wins). Codes
    nobody decided on a unit give no row: a partly reviewed unit says nothing about them.
    """
    explicit: dict[tuple[str, str], int] = {}
    implied: dict[tuple[str, str], int] = {}
    for sid, code, decision, corrected in zip(reviewed["segment_id"].astype(str), reviewed["code"].astype(str),
                                              reviewed["decision"].astype(str).str.strip().str.lower(),
                                              reviewed["corrected_code"].fillna("").astype(str).str.strip()):
        if decision not in DECISIONS:
            continue
        explicit[(sid, code)] = 1 if decision == "accept" else 0
        if decision == "other" and corrected:
            implied[(sid, corrected)] = 1
    labels = {**implied, **explicit}
    keys = sorted(labels)
    return pd.DataFrame({"segment_id": [k[0] for k in keys], "code": [k[1] for k in keys], "label": [labels[k] for k in keys]},
                        columns=["segment_id", "code", "label"]).astype({"label": int})


def labels_from_file(path: Path | str) -> pd.DataFrame:
    """``training_labels(read_reviewed(path))``: the decided pairs only, as ``qda evaluate``
    scores them. ``qda code --train`` learns from these plus the run's clear "no"s
    (:func:`pipeline.review.training.reviewed_training_labels`)."""
    return training_labels(read_reviewed(path))
