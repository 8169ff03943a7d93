"""Word transcripts: speaker labels as bold runs (``**Interviewer**``) or ``I:`` paragraphs."""

from __future__ import annotations

import zipfile
from pathlib import Path

from pipeline.errors import InputError
from pipeline.ingest.common import read_bytes


def docx_lines(path: Path) -> list[str]:
    """The document's paragraphs as text lines, a bold leading label written as ``**Label** rest``
    so the transcript parser treats Word's bold speaker names like Markdown's.

    Raises:
        InputError: not a Word document, or a damaged one.
    """
    import docx  # python-docx; imported here so other commands do not pay for it

    read_bytes(path)
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile):
        raise InputError(path, "is not a readable Word document (not a .docx package)", "open it in Word or LibreOffice and save it again as .docx")
    except (KeyError, ValueError) as exc:
        raise InputError(path, f"is a damaged Word document ({type(exc).__name__}: {exc})", "open it in Word or LibreOffice and save it again as .docx")
    except Exception as exc:  # lxml and python-docx raise assorted errors on damaged parts
        raise InputError(path, f"is a damaged Word document ({type(exc).__name__})", "open it in Word or LibreOffice and save it again as .docx")
    lines: list[str] = []
    blocks = list(document.paragraphs)
    for table in document.tables:  # some tools write a two-column speaker | text table
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if len(cells) >= 2 and cells[0] and len(cells[0]) <= 40:
                lines.append(f"{cells[0].rstrip(':')}: {' '.join(cells[1:])}")
    for para in blocks:
        runs = list(para.runs)
        bold = ""
        i = 0
        while i < len(runs) and (runs[i].bold or not runs[i].text.strip()) and len(bold) < 60:
            if runs[i].bold:
                bold += runs[i].text
            elif bold:
                bold += runs[i].text
            i += 1
        text = para.text
        label = bold.strip()
        if label and len(label.rstrip(":").split()) <= 4 and text.strip() != label:
            rest = text[text.find(bold) + len(bold):] if bold in text else text[len(bold):]
            lines.append(f"**{label.rstrip(':').strip()}** {rest.strip()}")
        else:
            lines.append(text)
        lines.append("")
    return lines
