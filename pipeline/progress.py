"""Progress bars for long steps, for the command line only.

The library never prints: a long function takes a ``progress`` callable and calls
``progress(n)`` with the number of items it has just finished. The CLI makes that callable
with :func:`bar`, which draws a tqdm bar on stderr when stderr is a terminal and the user did
not ask for quiet, and otherwise does nothing (logs and pipes stay clean).

    with bar(len(segments), "coding", quiet=quiet) as advance:
        code_segments(segments, codebook, progress=advance)
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

Progress = Callable[[int], object]


def silent(n: int = 1) -> None:
    """A progress callable that shows nothing."""


def shows(stream=None, *, quiet: bool = False) -> bool:
    """Would :func:`bar` draw on ``stream`` (default stderr)?"""
    stream = stream if stream is not None else sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


@contextlib.contextmanager
def bar(total: int | None, label: str, *, quiet: bool = False, unit: str = "units", stream=None) -> Iterator[Progress]:
    """A progress bar for ``total`` items (None: unknown), as a callable ``advance(n)``.

    Silent (a callable that does nothing) when ``quiet`` or when ``stream`` (default stderr)
    is not a terminal. The bar disappears when the step is done.
    """
    stream = stream if stream is not None else sys.stderr
    if not shows(stream, quiet=quiet):
        yield silent
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=f"  {label}", unit=f" {unit}", file=stream, leave=False, dynamic_ncols=True,
              mininterval=0.25, smoothing=0.1) as t:
        yield t.update
