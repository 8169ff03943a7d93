"""Writing one file so that it is either complete or not there: the one helper for it.

A file is written under a temporary name in the same folder (so the final rename stays on one
file system and is atomic) and moved over the target only when the writer returned without an
error. An interrupted or failed write leaves the old file as it was. Folders of a run are staged
as a whole by :mod:`pipeline.outputs`; this is for single files (exports, caches, models).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(target: Path | str, *, private: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success move it over ``target``.

    ``private``: keep the mode ``mkstemp`` gives (0600, for caches); otherwise the file gets
    the mode an ordinary ``open()`` would give (0666 minus the umask), since users share exports.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: Path | str, text: str, *, encoding: str = "utf-8", private: bool = False) -> None:
    """``Path.write_text`` that never leaves a half-written file."""
    with atomic_path(target, private=private) as tmp:
        tmp.write_text(text, encoding=encoding)


def write_bytes(target: Path | str, data: bytes, *, private: bool = False) -> None:
    """``Path.write_bytes`` that never leaves a half-written file."""
    with atomic_path(target, private=private) as tmp:
        tmp.write_bytes(data)
