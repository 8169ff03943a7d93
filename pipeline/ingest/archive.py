"""Zip containers (.docx, .xlsx) checked before any library unpacks them.

A Word or Excel file is a zip archive; a hostile or broken one can declare a small member that
expands to gigabytes (a zip bomb), or carry a member whose header lies about its size. Both
python-docx and openpyxl read whole members into memory, so :func:`check_zip` looks at the zip
directory first (uncompressed size and compression ratio per member, total size), then reads
every member once in small chunks with a hard cap, so a lying header or a CRC error is reported
as a damaged file before the real reader runs.

Limits default to values no real transcript or survey export comes near; a researcher with a
bigger trusted file raises them with ``--max-unzipped-mb`` or the environment variables
``QDA_MAX_UNZIPPED_MB`` and ``QDA_MAX_ZIP_RATIO``.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

from pipeline.errors import InputError

DEFAULT_MAX_MEMBER_MB = 256
DEFAULT_MAX_RATIO = 200
# A small member may compress very well (a few KB of repeated XML): the ratio counts only above this.
RATIO_FLOOR_BYTES = 1 << 20
_CHUNK = 1 << 20
MB = 1 << 20


def zip_limits(max_member_mb: float | None = None, max_ratio: float | None = None) -> tuple[int, float]:
    """The limits in force: the arguments, else the environment, else the defaults.

    Returns:
        ``(max_member_bytes, max_ratio)``.

    Raises:
        InputError: an environment variable is not a positive number.
    """
    return (
        int(_positive("QDA_MAX_UNZIPPED_MB", max_member_mb, DEFAULT_MAX_MEMBER_MB) * MB),
        _positive("QDA_MAX_ZIP_RATIO", max_ratio, DEFAULT_MAX_RATIO),
    )


def _positive(env: str, given: float | None, default: float) -> float:
    if given is not None:
        return float(given)
    raw = os.environ.get(env)
    if raw is None or not raw.strip():
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise InputError(f"${env}", f"is {raw!r}, not a positive number", f"set it to a number such as {default} or unset it")
    return value


_KINDS = {
    ".docx": ("Word document", "open it in Word or LibreOffice and save it again as .docx"),
    ".xlsx": ("XLSX workbook", "open it in Excel or LibreOffice and save it again as .xlsx"),
    ".xlsm": ("XLSX workbook", "open it in Excel or LibreOffice and save it again as .xlsx"),
}


def _kind(path: Path) -> str:
    return _KINDS.get(path.suffix.lower(), ("zip archive", ""))[0]


def _fix(path: Path) -> str:
    return _KINDS.get(path.suffix.lower(), ("", "export the file again"))[1]


def _raise_hint(max_member_bytes: int) -> str:
    return (
        "if you trust this file, raise the limit with --max-unzipped-mb N "
        f"(or QDA_MAX_UNZIPPED_MB=N; now {max_member_bytes // MB})"
    )


def check_zip(path: Path | str, *, max_member_bytes: int | None = None, max_ratio: float | None = None) -> list[str]:
    """Refuses a zip container that would expand beyond the limits, or that is damaged.

    First the zip directory alone (nothing unpacked): every member's declared size must stay
    within ``max_member_bytes`` and, above 1 MB, its compression ratio within ``max_ratio``.
    Then every member is read once in 1 MB chunks, never more than its declared size (a header
    that understates the size ends in a CRC error, reported as a damaged file).

    Args:
        path: the .docx/.xlsx file.
        max_member_bytes: uncompressed bytes allowed per member (default: :func:`zip_limits`).
        max_ratio: uncompressed ÷ compressed size allowed per member above 1 MB.

    Returns:
        The member names.

    Raises:
        InputError: not a zip file, a member over a limit (the message names the member, its
            size and the limit, and how to raise it), or a damaged member.
    """
    path = Path(path)
    default_bytes, default_ratio = zip_limits()
    max_member_bytes = default_bytes if max_member_bytes is None else int(max_member_bytes)
    max_ratio = default_ratio if max_ratio is None else float(max_ratio)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise InputError(path, f"is not a readable {_kind(path)} (not a {path.suffix.lower() or 'zip'} package)", _fix(path))
    with zf:
        members = zf.infolist()
        for info in members:
            _check_declared(path, info, max_member_bytes, max_ratio)
        for info in members:
            _read_capped(path, zf, info, max_member_bytes)
    return [info.filename for info in members]


def _check_declared(path: Path, info: zipfile.ZipInfo, max_member_bytes: int, max_ratio: float) -> None:
    where = f"zip member {info.filename}"
    if info.file_size > max_member_bytes:
        raise InputError(
            path,
            f"would unpack to {info.file_size / MB:,.0f} MB, over the limit of {max_member_bytes / MB:,.0f} MB per member (a zip bomb?)",
            _raise_hint(max_member_bytes),
            where=where,
        )
    if info.file_size > RATIO_FLOOR_BYTES and info.file_size > max_ratio * max(info.compress_size, 1):
        ratio = info.file_size / max(info.compress_size, 1)
        raise InputError(
            path,
            f"is compressed {ratio:,.0f}:1, over the limit of {max_ratio:,.0f}:1 (a zip bomb?)",
            f"if you trust this file, raise the limit with QDA_MAX_ZIP_RATIO={int(ratio) + 1}",
            where=where,
        )


_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _read_capped(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, max_member_bytes: int) -> None:
    where = f"zip member {info.filename}"
    if info.compress_type not in _METHODS:
        # Python's zipfile cannot unpack other methods (it would raise while reading)
        raise InputError(path, f"uses a compression method Python cannot read (zip method {info.compress_type})", _fix(path), where=where)
    cap = min(info.file_size, max_member_bytes)
    seen = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                seen += len(chunk)
                if seen > cap:
                    raise InputError(path, f"unpacks to more than its header declares ({info.file_size} bytes)", _fix(path), where=where)
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, ValueError, OSError) as exc:
        raise InputError(path, f"is a damaged {_kind(path)} ({_short(exc)})", _fix(path), where=where)


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
