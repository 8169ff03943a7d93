"""Shared pieces of the readers: decoding, normalisation, raw units, document text.

A reader turns one file into a list of :class:`Document`; each holds raw :class:`Unit`s
(speaker turns or answers). :func:`documents_to_frame` then lays every document out as its
*normalised full text* and computes the offsets of the segments contract.

The normalised full text of a document is the units rendered one per block,
``"{label}: {text}"`` separated by a blank line, where the label is the speaker (interviews)
or the question column (surveys). It is what ``qda export`` writes as a REFI-QDA source, so
``full_text[start_char:end_char] == text`` for every unit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.textfiles import decode

SEGMENT_COLUMNS = [
    "segment_id",
    "doc_id",
    "source",
    "kind",
    "unit",
    "speaker",
    "is_interviewer",
    "start_char",
    "end_char",
    "timestamp",
    "text",
    "flag",
]

BLOCK_SEP = "\n\n"


@dataclass
class Unit:
    """One coding unit before offsets are known."""

    text: str
    speaker: str = ""
    timestamp: str = ""
    is_interviewer: bool = False
    segment_id: str | None = None  # survey units bring their own IDs
    label: str | None = None  # what precedes the text in the full text; default: speaker
    flag: str = ""
    meta: dict = field(default_factory=dict)


@dataclass
class Document:
    """One document of a source file: a transcript, or one respondent of a survey."""

    doc_id: str
    source: str
    kind: str  # interview | survey
    units: list[Unit]
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTH_CHARS}]")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f\u2009\u200a]+")


def normalise(text: str) -> str:
    """NFC, LF line ends, ordinary spaces for NBSP and friends, no zero-width characters."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # a whole file is normalised at once: `in` finds no zero-width character in a 9 MB export in
    # microseconds, where the regex takes 60 ms and str.translate with a dict 2 s
    if any(ch in text for ch in _ZERO_WIDTH_CHARS):
        text = _ZERO_WIDTH.sub("", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2007", " ")


# C0 controls but tab, LF, CR (form feed and vertical tab become line ends), DEL, C1 controls.
_CONTROLS = {c: None for c in [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)]}
_CONTROLS.update({0x0B: "\n", 0x0C: "\n"})
CONTROL_CHARS = _CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> tuple[str, int]:
    """Removes NUL and other control characters (they break CSV, XML and every later tool).

    Returns:
        ``(text, number of characters removed or replaced)``.
    """
    if not _CONTROL_RE.search(text):
        return text, 0
    count = len(_CONTROL_RE.findall(text))
    return text.translate(_CONTROLS), count


def read_text(path: Path, encoding: str | None = None) -> tuple[str, dict]:
    """Reads, decodes and normalises a text file; control characters are removed.

    Returns:
        ``(text, info)``; ``info`` holds ``encoding`` and, when any were removed,
        ``control_chars_removed``.

    Raises:
        InputError: unreadable, empty or undecodable (see :func:`decode`).
    """
    text, enc = decode(path, read_bytes(path), encoding)
    text, removed = strip_controls(normalise(text))
    info: dict = {"encoding": enc}
    if removed:
        info["control_chars_removed"] = removed
    return text, info


def squash(text: str) -> str:
    """Collapses runs of spaces/tabs and trims: the form a unit's text is stored in."""
    if "\n" not in text and "  " not in text and "\t" not in text and "\u00a0" not in text and "\u202f" not in text:
        return text.strip()  # the common case of a survey cell, without a regex
    lines = [_SPACES.sub(" ", ln).strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln).strip()


# the characters for which squash() does more than strip
_SQUASH_MORE = "[\n\t\u00a0\u202f]|  "


def squash_cells(cells: pd.Series) -> pd.Series:
    """:func:`squash` of every cell of a column of strings.

    Most survey answers are one line with single spaces and only need a strip, done for the
    whole column at once; the full squash runs only on the few cells that need it.
    """
    out = cells.str.strip()
    more = cells.str.contains(_SQUASH_MORE, regex=True).to_numpy(dtype=bool)
    if more.any():
        out[more] = [squash(v) for v in cells[more].tolist()]
    return out


def read_bytes(path: Path) -> bytes:
    """Reads a file, turning OS errors into InputError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, "file not found", "check the path (relative paths start at the current folder)")
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file")
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror})", "check the file's permissions")
    if not data.strip():
        raise InputError(path, "file is empty", "export the transcript or survey again; an empty file has nothing to code")
    return data


def render(doc: Document) -> tuple[str, list[tuple[int, int]]]:
    """Lays out ``doc`` as its normalised full text.

    Returns:
        ``(full_text, spans)`` with one ``(start, end)`` code-point span per unit.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, u in enumerate(doc.units):
        if i:
            parts.append(BLOCK_SEP)
            pos += len(BLOCK_SEP)
        label = u.label if u.label is not None else u.speaker
        prefix = f"{label}: " if label else ""
        parts.append(prefix + u.text)
        start = pos + len(prefix)
        spans.append((start, start + len(u.text)))
        pos = start + len(u.text)
    return "".join(parts), spans


def render_spans(doc_ids: pd.Series, labels: pd.Series, texts: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`render`'s spans of many documents at once, from a table of units in document order
    (the units of a document together, in their order); ``labels`` are the units' labels.

    Returns:
        ``(unit, start, end)``: each unit's number in its document (from 1) and its span.
    """
    text_len = texts.str.len().to_numpy(dtype=np.int64)
    label_len = labels.str.len().to_numpy(dtype=np.int64)
    prefix = np.where(label_len > 0, label_len + len(": "), 0)  # "{label}: ", nothing for no label
    docs = pd.factorize(doc_ids)[0]
    unit = pd.Series(docs).groupby(docs).cumcount().to_numpy() + 1
    # a unit ends after its document's earlier blocks, their separators and its own prefix and text
    end = pd.Series(prefix + text_len).groupby(docs).cumsum().to_numpy() + len(BLOCK_SEP) * (unit - 1)
    return unit, end - text_len, end


def file_stem(path: Path) -> str:
    """The doc_id of a transcript: the file name without its extension."""
    return path.stem
