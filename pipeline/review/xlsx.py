"""The review workbook: sheet ``review`` (one header row, one row per suggestion in review
order), sheet ``codebook`` (the codable codes), sheet ``about`` (the run, the order, how to
decide). The run fingerprint sits in the ``about`` sheet and in the document property
``qda_run``."""

from __future__ import annotations

import re
import zipfile
from datetime import datetime
from io import BytesIO
from pathlib import Path

from pipeline.review.run import ReviewRun
from pipeline.review.suggestions import Suggestions

REVIEW_SHEET = "review"
CODEBOOK_SHEET = "codebook"
ABOUT_SHEET = "about"
FINGERPRINT_PROPERTY = "qda_run"
DECISIONS = ("accept", "reject", "other")
EXCEL_CELL_MAX = 32000  # Excel's limit is 32,767 characters per cell

# column, width, wrapped
SHEET_COLUMNS = [
    ("nr", 6, False), ("segment_id", 24, False), ("document", 20, False), ("speaker", 10, False), ("context", 40, True),
    ("text", 70, True), ("code", 28, False), ("label", 24, True), ("suggestion", 11, False), ("score", 8, False),
    ("decision", 12, False), ("corrected_code", 28, False), ("comment", 36, True),
]
CODEBOOK_COLUMNS = [("code", 30), ("label", 30), ("dimension", 22), ("definition", 60), ("anchor_examples", 50), ("coding_rules", 50)]
HEADER_FILL = "21416B"
EVIDENCE_COLOR = "B00020"


def _col(name: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter([c for c, _, _ in SHEET_COLUMNS].index(name) + 1)


def _clip(text: str) -> str:
    return text if len(text) <= EXCEL_CELL_MAX else text[:EXCEL_CELL_MAX] + " […]"


def _marked(text: str, spans: list[tuple[int, int]]):
    """The unit's text with its evidence in bold dark red (rich text)."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    text = _clip(text)
    spans = [(s, e) for s, e in spans if e <= EXCEL_CELL_MAX]
    if not spans:
        return text
    font = InlineFont(b=True, color=EVIDENCE_COLOR, u="single")
    parts, at = [], 0
    for s, e in spans:
        parts += [text[at:s], TextBlock(font, text[s:e])]
        at = e
    parts.append(text[at:])
    return CellRichText([p for p in parts if not isinstance(p, str) or p])


def _header(ws, names_widths, wrap_cols=()):
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append([n for n, _ in names_widths])
    for i, (_, width) in enumerate(names_widths, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="top")
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"


def _review_sheet(ws, sug: Suggestions, n_codes: int) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    _header(ws, [(n, w) for n, w, _ in SHEET_COLUMNS])
    wrapped = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for r in sug.table.itertuples(index=False):
        ws.append([int(r.nr), r.segment_id, r.document, r.speaker, _clip(r.context), _marked(r.text, r.spans), r.code, r.label,
                   r.suggestion, float(r.score), None, None, None])
        for cell, (_, _, wrap) in zip(ws[ws.max_row], SHEET_COLUMNS):
            cell.alignment = wrapped if wrap else top
        ws.cell(row=ws.max_row, column=10).number_format = "0.00"
    last = max(2, ws.max_row)
    ws.auto_filter.ref = f"A1:{_col('comment')}{last}"
    decision = DataValidation(type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True, showErrorMessage=True,
                              errorTitle="Entscheidung", error="Bitte accept, reject oder other wählen (other: den richtigen Code in corrected_code).",
                              promptTitle="Entscheidung", prompt="accept = Code stimmt, reject = Code stimmt nicht, other = anderer Code (in corrected_code)",
                              showInputMessage=True)
    decision.add(f"{_col('decision')}2:{_col('decision')}{last}")
    codes = DataValidation(type="list", formula1=f"{CODEBOOK_SHEET}!$A$2:$A${n_codes + 1}", allow_blank=True, showErrorMessage=True,
                           errorTitle="Code", error="Bitte eine Code-ID aus dem Blatt 'codebook' wählen.")
    codes.add(f"{_col('corrected_code')}2:{_col('corrected_code')}{last}")
    codes.add(f"{_col('code')}2:{_col('code')}{last}")
    ws.add_data_validation(decision)
    ws.add_data_validation(codes)
    for value, color in (("accept", "D5F0D5"), ("reject", "F8D7DA"), ("other", "FFF0C2")):
        ws.conditional_formatting.add(f"{_col('decision')}2:{_col('decision')}{last}",
                                      CellIsRule(operator="equal", formula=[f'"{value}"'], fill=PatternFill("solid", bgColor=color)))
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.print_title_rows = "1:1"


def _codebook_sheet(ws, run: ReviewRun) -> None:
    from openpyxl.styles import Alignment

    _header(ws, CODEBOOK_COLUMNS)
    for c in run.codes:
        ws.append([c.id, c.label, c.dimension, c.definition, " | ".join(c.anchor_examples), " | ".join(c.coding_rules)])
        for cell in ws[ws.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.auto_filter.ref = f"A1:F{max(2, ws.max_row)}"


def about_rows(run: ReviewRun, sug: Suggestions, file_name: str) -> list[tuple[str, str]]:
    """What the review file is: the run, its fingerprint, the order, how to decide and import."""
    cb = run.codebook
    counts = sug.table["suggestion"].value_counts()
    return [
        ("run", run.fingerprint),
        ("Laufordner", str(run.folder)),
        ("Kodierleitfaden", f"{cb.get('name', '?')} {cb.get('version', '')} (sha256 {str(cb.get('sha256', ''))[:12]})"),
        ("Vorschläge", f"{len(sug.table)}: {int(counts.get('coded', 0))} kodiert (coded), {int(counts.get('missed?', 0))} vom Verifier knapp verworfen (missed?)"),
        ("Reihenfolge", sug.note),
        ("decision", "accept = der Code trifft zu; reject = er trifft nicht zu; other = ein anderer Code trifft zu (dessen ID in corrected_code). "
                     "Leere Zeilen gelten als nicht entschieden und sagen nichts. Einen übersehenen Code einer Einheit ergänzen: "
                     "eine Zeile dieser Einheit kopieren, in code den fehlenden Code eintragen, decision = accept."),
        ("Markierung", "Die Fundstelle der Regel ist im Text fett und dunkelrot unterstrichen; context ist der vorige Redebeitrag oder die Frage."),
        ("Einlesen", f"qda review import {run.folder} {file_name}"),
    ]


def _about_sheet(ws, rows: list[tuple[str, str]]) -> None:
    from openpyxl.styles import Alignment

    _header(ws, [("field", 18), ("value", 110)])
    for k, v in rows:
        ws.append([k, v])
        ws.cell(row=ws.max_row, column=2).alignment = Alignment(wrap_text=True, vertical="top")


def _save_reproducibly(wb, path: Path) -> None:
    """Saves with fixed dates (document properties and zip entries), so the same review gives the
    same bytes."""
    fixed = datetime(2020, 1, 1)
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = wb.properties.lastModifiedBy = "qda"
    raw = BytesIO()
    wb.save(raw)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "docProps/core.xml":  # openpyxl writes the save time into 'modified'
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2020-01-01T00:00:00Z\g<2>", data)
            dst.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)


def write_review_xlsx(run: ReviewRun, sug: Suggestions, path: Path, *, name: str | None = None) -> None:
    """Writes the review workbook to ``path``; ``name`` is the file name the ``about`` sheet's
    import command shows (default: the name of ``path``)."""
    from openpyxl import Workbook
    from openpyxl.packaging.custom import StringProperty

    wb = Workbook()
    ws = wb.active
    ws.title = REVIEW_SHEET
    _review_sheet(ws, sug, len(run.codes))
    _codebook_sheet(wb.create_sheet(CODEBOOK_SHEET), run)
    _about_sheet(wb.create_sheet(ABOUT_SHEET), about_rows(run, sug, name or Path(path).name))
    wb.custom_doc_props.append(StringProperty(name=FINGERPRINT_PROPERTY, value=run.fingerprint))
    _save_reproducibly(wb, Path(path))
