"""Bytes to text, and text to rows: the encoding and CSV delimiter detection every reader of
user files shares (transcripts, surveys, codebook tables, gold and decisions files).

Depends on nothing but :mod:`pipeline.errors`, so that the codebook and the small-table readers
can use it without loading the ingest stage.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from pipeline.errors import InputError

# cp1252 leaves these five bytes undefined: a file holding them is neither UTF-8 nor cp1252.
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


def decode(path: Path, data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decodes ``data``: the given encoding, else UTF-8 (with or without BOM), UTF-16 with BOM,
    then cp1252 (what Excel and older Windows tools write).

    Returns:
        ``(text, encoding_used)``.

    Raises:
        InputError: the bytes are not text in any of these encodings.
    """
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(path, f"cannot be decoded as {encoding} ({exc})", "pass the file's real encoding with --encoding, e.g. --encoding cp1252")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    bom_less = _utf16_without_bom(data)
    if bom_less:
        try:
            return data.decode(bom_less), bom_less
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    mixed_up(path, data, utf8_error.start)
    # a few NULs are debris (removed later); many mean a binary file
    bad = data.count(0) > len(data) // 20 or any(b in _CP1252_UNDEFINED for b in data)
    if bad:
        pos = utf8_error.start
        raise InputError(
            path,
            f"is not text: undecodable byte 0x{data[pos]:02x} at byte {pos}",
            "save the file as UTF-8 text (or pass --encoding if you know its encoding)",
        )
    return data.decode("cp1252"), "cp1252"


# a UTF-8 sequence of two to four bytes (an umlaut, ß, „“ …): in German text written in cp1252
# such a pair ("Ã¤") hardly ever occurs, in UTF-8 text every umlaut is one
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def utf8_mixture(data: bytes) -> tuple[int, int]:
    """``(valid multi-byte UTF-8 sequences, bytes that are no UTF-8)`` in ``data``."""
    bad = data.decode("utf-8", errors="replace").count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    return len(_UTF8_MULTIBYTE.findall(data)), bad


def mixed_up(path: Path, data: bytes, first_bad: int, counts: tuple[int, int] | None = None) -> None:
    """Refuses a file that is UTF-8 but for a few bytes (a cell pasted from an old Windows tool,
    two files joined): read as cp1252, every umlaut of it would turn into "Ã¼" and no codebook
    word would match any more. ``data`` holds the file up to at least ``first_bad``."""
    good, bad = counts or utf8_mixture(data)
    if good == 0 or bad > good:
        return  # no UTF-8 umlaut, or more stray bytes than umlauts: a cp1252 file
    line = data.count(b"\n", 0, first_bad) + 1
    start = data.rfind(b"\n", 0, first_bad) + 1
    context = data[max(start, first_bad - 30):first_bad + 10].decode("utf-8", errors="replace").replace("\ufffd", "?")
    raise InputError(path, f"is UTF-8 text except for {bad} byte(s) that are not UTF-8, the first (0x{data[first_bad]:02x}) in line {line}, "
                           f"column {first_bad - start + 1}: \"{context.strip()}\"",
                     "correct that character in a text editor and save the file as UTF-8 (read as Windows-1252 instead, every "
                     "umlaut of the file would be garbled); if the file really is Windows-1252, pass --encoding cp1252")


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when every other byte is NUL (Latin text in UTF-16), else None."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    sample = sample[: len(sample) // 2 * 2]
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    if odd.count(0) > 0.6 * half and even.count(0) < 0.05 * half:
        return "utf-16-le"
    if even.count(0) > 0.6 * half and odd.count(0) < 0.05 * half:
        return "utf-16-be"
    return None


def sniff_delimiter(sample: str) -> str:
    """The delimiter among ``;`` ``,`` tab that splits the first lines most consistently."""
    lines = [ln for ln in sample.split("\n")[:20] if ln.strip()]
    best, best_score = ",", -1.0
    for delim in (";", ",", "\t"):
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
        except csv.Error:
            continue
        widths = [len(r) for r in rows]
        if not widths or widths[0] < 2:
            continue
        same = sum(w == widths[0] for w in widths) / len(widths)
        score = same * 10 + min(widths[0], 50) / 50
        if score > best_score:
            best, best_score = delim, score
    return best


def delimiter_of(path: Path, sample: str) -> str:
    """Tab for a ``.tsv`` file, else the delimiter :func:`sniff_delimiter` finds in ``sample``."""
    return "\t" if Path(path).suffix.lower() == ".tsv" else sniff_delimiter(sample)
