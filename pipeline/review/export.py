"""``qda review export``: the suggestions of a run as a workbook, a page or a CSV file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.atomic import atomic_path
from pipeline.errors import InputError
from pipeline.review.run import ReviewRun, load_review_run
from pipeline.review.suggestions import Suggestions, build_suggestions

FORMATS = ("xlsx", "html", "csv")
CSV_COLUMNS = ["nr", "segment_id", "document", "speaker", "context", "text", "code", "label", "suggestion", "score",
               "decision", "corrected_code", "comment", "run"]


@dataclass
class ExportResult:
    run: ReviewRun
    suggestions: Suggestions
    path: Path
    fmt: str


def marked_text(text: str, spans: list[tuple[int, int]]) -> str:
    """The unit's text with each evidence span between « and »."""
    out, at = [], 0
    for s, e in spans:
        out += [text[at:s], "«", text[s:e], "»"]
        at = e
    out.append(text[at:])
    return "".join(out)


def review_csv(run: ReviewRun, sug: Suggestions) -> pd.DataFrame:
    """The review sheet as a table (evidence between «…», the run fingerprint in every row)."""
    t = sug.table
    frame = pd.DataFrame({
        "nr": t["nr"], "segment_id": t["segment_id"], "document": t["document"], "speaker": t["speaker"], "context": t["context"],
        "text": [marked_text(x, s) for x, s in zip(t["text"], t["spans"])], "code": t["code"], "label": t["label"],
        "suggestion": t["suggestion"], "score": t["score"], "decision": "", "corrected_code": "", "comment": "", "run": run.fingerprint,
    })
    return frame[CSV_COLUMNS]


def format_for(out: Path, fmt: str | None) -> str:
    """The format asked for, else the one of the file's extension.

    Raises:
        InputError: no format and an extension that names none.
    """
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix in ("htm", "html"):
        return "html"
    if suffix in FORMATS:
        return suffix
    raise InputError(out, f"the extension '.{suffix}' names no review format", "end the file name with .xlsx, .html or .csv, or pass --format")


def export_review(run_dir: Path | str, out: Path | str, *, fmt: str | None = None, order: str = "uncertainty",
                  limit: int | None = None) -> ExportResult:
    """Writes the review file of a run folder to ``out`` (atomically: complete or not at all).

    Raises:
        InputError / ValidationError: see :func:`pipeline.review.run.load_review_run`, and an
            unknown output format.
    """
    out = Path(out)
    fmt = format_for(out, fmt)
    run = load_review_run(run_dir)
    sug = build_suggestions(run, order, limit=limit)
    with atomic_path(out) as tmp:  # not private: the review file is an ordinary one
        if fmt == "xlsx":
            from pipeline.review.xlsx import write_review_xlsx

            write_review_xlsx(run, sug, tmp, name=out.name)
        elif fmt == "html":
            from pipeline.review.page import render_review_page

            tmp.write_text(render_review_page(run, sug), encoding="utf-8")
        else:
            from pipeline.outputs import write_csv

            write_csv(review_csv(run, sug), tmp)
    return ExportResult(run, sug, out, fmt)
