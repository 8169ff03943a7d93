"""Word transcripts: speaker labels as bold runs (``**Interviewer**``), ``I:`` paragraphs, or a
speaker table (``Zeit | Sprecher | Text``, as transcription services export).

The archive is checked before python-docx opens it (see :mod:`pipeline.ingest.archive`).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import InputError
from pipeline.ingest.archive import check_zip
from pipeline.ingest.common import read_bytes, strip_controls

_RESAVE = "open it in Word or LibreOffice and save it again as .docx"


@dataclass
class DocxContent:
    """A Word document in reading order: paragraph lines and tables (rows of cell texts)."""

    lines: list[str] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)
    control_chars_removed: int = 0


def open_docx(path: Path, *, max_member_bytes: int | None = None):
    """Checks the archive, then opens it with python-docx.

    Raises:
        InputError: not a Word document, over the archive limits, damaged, or nested too deeply.
    """
    import docx  # python-docx; imported here so other commands do not pay for it
    from docx.opc.exceptions import PackageNotFoundError

    read_bytes(path)
    if "[Content_Types].xml" not in check_zip(path, max_member_bytes=max_member_bytes):
        raise InputError(path, "is not a readable Word document (a zip file, but no Word package)", _RESAVE)
    try:
        return docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile):
        raise InputError(path, "is not a readable Word document (not a .docx package)", _RESAVE)
    except RecursionError:
        raise InputError(path, "is a damaged Word document (its XML is nested too deeply)", _RESAVE)
    except (KeyError, ValueError) as exc:
        raise InputError(path, f"is a damaged Word document ({type(exc).__name__}: {str(exc)[:120]})", _RESAVE)
    except Exception as exc:  # lxml and python-docx raise assorted errors on damaged parts
        problem = "its XML is nested too deeply" if "depth" in str(exc).lower() else type(exc).__name__
        raise InputError(path, f"is a damaged Word document ({problem})", _RESAVE)


def read_docx_content(path: Path, *, max_member_bytes: int | None = None, max_columns: int | None = None) -> DocxContent:
    """The document's paragraphs and tables in reading order.

    A paragraph opening with a bold label is written as ``**Label** rest`` so the transcript
    parser treats Word's bold speaker names like Markdown's. Control characters are removed
    (and counted).

    Raises:
        InputError: see :func:`open_docx`; a table wider than ``max_columns``.
    """
    from docx.table import Table

    from pipeline.ingest.survey import check_width

    document = open_docx(path, max_member_bytes=max_member_bytes)
    content = DocxContent()
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                check_width(path, len(block.columns), f"table {len(content.tables) + 1}", max_columns)
                content.tables.append(_table_rows(block, content))
            else:
                content.lines += [_paragraph_line(block, content), ""]
    except RecursionError:
        raise InputError(path, "is a damaged Word document (its XML is nested too deeply)", _RESAVE)
    return content


def _clean(text: str, content: DocxContent) -> str:
    text, removed = strip_controls(text)
    content.control_chars_removed += removed
    return text


def _table_rows(table, content: DocxContent) -> list[list[str]]:
    rows = []
    for row in table.rows:
        cells, seen = [], []
        for cell in row.cells:
            if any(tc is cell._tc for tc in seen):  # a merged cell comes once per grid column it spans
                continue
            seen.append(cell._tc)
            cells.append(_clean(cell.text, content))
        rows.append(cells)
    return rows


def _paragraph_line(para, content: DocxContent) -> str:
    runs = list(para.runs)
    bold = ""
    i = 0
    while i < len(runs) and (runs[i].bold or not runs[i].text.strip()) and len(bold) < 60:
        if runs[i].bold or bold:
            bold += runs[i].text
        i += 1
    text = _clean(para.text, content)
    label = _clean(bold, content).strip()
    if label and len(label.rstrip(":").split()) <= 4 and text.strip() != label:
        rest = text[text.find(label) + len(label):] if label in text else text[len(label):]
        return f"**{label.rstrip(':').strip()}** {rest.strip()}"
    return text
