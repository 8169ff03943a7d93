"""What every function of the library face shares: result lines, the output frame, defaults.

A function of :mod:`pipeline.api` never prints: what happens while it works goes to its
``on_event`` callable as :class:`Line` objects, what it did comes back in its result's ``lines``.
The command line prints both; a script may ignore them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Line(NamedTuple):
    """One line for the terminal. ``kind``: ``info`` (stdout), ``note`` (stdout, highlighted) or
    ``warning`` (stderr, highlighted)."""

    text: str
    kind: str = "info"


OnEvent = Callable[[Line], object]


def warning(text: str) -> Line:
    return Line(text, "warning")


def note(text: str) -> Line:
    return Line(text, "note")


def emitter(on_event: OnEvent | None) -> OnEvent:
    """``on_event`` or a callable that drops the lines."""
    return on_event or (lambda line: None)


@dataclass
class Result:
    """What a function of the library face did: the summary ``lines`` and, for commands that
    write a folder, the ``notes`` of the output frame (what was removed as stale or replaced)."""

    lines: list[Line] = field(default_factory=list, kw_only=True)
    notes: list[str] = field(default_factory=list, kw_only=True)


@contextlib.contextmanager
def writing(target: Path | None = None, fingerprint: Callable[[], dict | None] | None = None, *, force: bool = False) -> Iterator[list[str]]:
    """The frame of one call that writes folders (see :func:`pipeline.outputs.output_scope`):
    checks ``target`` before the work starts (and that it holds no run over other inputs than
    ``fingerprint()`` names) and creates its staging folder. Yields a list that, on success,
    receives the frame's notes (what was removed as stale or replaced). SIGTERM and SIGHUP stop
    the work cleanly.

    Raises:
        InputError: ``target`` cannot be written, or holds a run over other inputs.
    """
    from pipeline.outputs import output_scope, prepare_output

    notes: list[str] = []
    with output_scope(force=force) as scope:
        if target is not None:
            prepare_output(target, fingerprint=fingerprint() if fingerprint else None)
        yield notes
    notes += scope.notes


@contextlib.contextmanager
def writing_file(out_file: Path | None) -> Iterator[None]:
    """The frame of one call that writes one file: checks before the work that ``out_file``
    can be written; SIGTERM and SIGHUP stop the work cleanly."""
    from pipeline.outputs import check_output, raise_on_termination

    if out_file is not None:
        check_output(out_file, folder=False)
    with raise_on_termination():
        yield


def no_bar(total, label, **kwargs):
    """A progress-bar factory that shows nothing (see :func:`pipeline.progress.bar`)."""
    from pipeline.progress import silent

    return contextlib.nullcontext(silent)


def sources_fingerprint(sources) -> dict | None:
    from pipeline.stages import input_fingerprint

    return input_fingerprint(sources)


def run_folder_fingerprint(run_dir: Path) -> dict | None:
    """A command that reads a run folder writes for the same inputs; the folder is checked first."""
    from pipeline.outputs import recorded_fingerprint
    from pipeline.tablefiles import check_run_folder

    check_run_folder(run_dir)
    return recorded_fingerprint(run_dir)


def now_text() -> str:
    """The moment for a report's date line (``SOURCE_DATE_EPOCH`` pins it)."""
    from pipeline.outputs import _now

    return _now().replace("T", " ").replace("+00:00", " UTC")


def newest_codebook() -> Path:
    """The reference codebook with the highest version number in the repository's codebooks/.

    Raises:
        InputError: the folder holds no codebook.
    """
    folder = _project_path("codebooks")
    found = sorted(folder.glob("*.yaml"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.stem)] or [0])
    if not found:
        from pipeline.errors import InputError

        raise InputError(folder, "holds no codebook", "pass --codebook FILE")
    return _relative(found[-1])


def default_corpus() -> Path:
    """The example corpus shipped in the repository (``corpora/beispiel``)."""
    return _relative(_project_path("corpora") / "beispiel")


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def _project_path(name: str) -> Path:
    """``corpora/`` or ``codebooks/`` of the checkout: the current folder's (a checkout where
    qda was installed with ``pip install .``), else the one beside the package (uv, editable)."""
    here = Path.cwd() / name
    return here if here.is_dir() else Path(__file__).resolve().parent.parent.parent / name
