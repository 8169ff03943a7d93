"""Run every command on corpora/beispiel into a folder, or compare two such folders byte for byte.

Why: a refactoring must not change what qda writes. Take a snapshot before, one after, compare:

    uv run python scripts/compare_outputs.py snapshot /tmp/before     # on the old commit
    uv run python scripts/compare_outputs.py snapshot /tmp/after      # on the new one
    uv run python scripts/compare_outputs.py compare /tmp/before /tmp/after

Each command's stdout and stderr are kept (``<step>.stdout``), paths of the snapshot folder
replaced by ``<OUT>`` so two folders compare. In ``run.json`` only the fields that name the
moment or the machine's checkout are left out (``created``, ``git_commit``, ``argv``); every other
field, and every other file, must be equal byte for byte. ``SOURCE_DATE_EPOCH`` is pinned, so
report.html's date line is equal too. ``--quick`` leaves out the slow steps (the main job and
clustering) for a test.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
B = "corpora/beispiel"
CB2 = "codebooks/innovationsnetzwerke-v2.yaml"
CB3 = "codebooks/innovationsnetzwerke-v3.yaml"
SOURCES = [B]  # the folder: its corpus.yaml is read with it
INGEST: list[str] = []
VOLATILE_RUN_FIELDS = ("created", "git_commit", "argv")


def steps(quick: bool) -> list[tuple[str, list[str]]]:
    """(name, qda arguments); ``{out}`` is the snapshot folder."""
    s = [
        ("ingest", ["ingest", *SOURCES, *INGEST, "--out", "{out}/ingest"]),
        ("code", ["code", *SOURCES, *INGEST, "--codebook", CB3, "--out", "{out}/code"]),
        ("code-model", ["code", *SOURCES, *INGEST, "--codebook", CB3, "--out", "{out}/code-model",
                        "--train", f"{B}/gold/umfrage_gold.csv", "--train-part", "dev"]),
        ("evaluate", ["evaluate", "--gold", f"{B}/gold/umfrage_gold.csv", "--codings", "{out}/code", "--part", "test"]),
        ("review-xlsx", ["review", "export", "{out}/code-model", "--out", "{out}/review/review.xlsx"]),
        ("review-html", ["review", "export", "{out}/code-model", "--out", "{out}/review/review.html"]),
        ("review-csv", ["review", "export", "{out}/code-model", "--out", "{out}/review/review.csv"]),
        ("report", ["report", "{out}/code"]),
        ("export", ["export", "{out}/code", "--format", "qdpx", "--out", "{out}/projekt.qdpx"]),
        ("import", ["import", "{out}/projekt.qdpx", "--out", "{out}/import"]),
        ("agreement", ["agreement", "{out}/code", "{out}/code-model"]),
        ("compare", ["compare", CB2, CB3, *SOURCES, *INGEST, "--out", "{out}/compare",
                     "--gold", f"{B}/gold/umfrage_gold.csv"]),
        ("cb-validate", ["codebook", "validate", CB3]),
        ("cb-show", ["codebook", "show", CB3, "--format", "markdown"]),
        ("cb-diff", ["codebook", "diff", CB2, CB3, "--format", "json"]),
        ("cb-qdc", ["codebook", "export", CB3, "--format", "qdc", "--out", "{out}/codebook.qdc"]),
        ("cb-xlsx", ["codebook", "export", CB3, "--format", "xlsx", "--out", "{out}/codebook.xlsx"]),
        ("cb-import", ["codebook", "import", "{out}/codebook.qdc", "--out", "{out}/codebook.yaml"]),
    ]
    if not quick:
        s += [
            ("cluster", ["cluster", B, "--out", "{out}/cluster",
                         "--where", "question=innovationsbeispiel", "--embedding", "tfidf", "--seed", "7"]),
            ("run", ["run", "--out", "{out}/run"]),
        ]
    return s


def snapshot(out: Path, quick: bool = False) -> int:
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "QDA_CACHE_DIR": str(out / ".cache")}
    failed = 0
    for name, args in steps(quick):
        argv = [a.replace("{out}", str(out)) for a in args]
        proc = subprocess.run([sys.executable, "-m", "pipeline", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        text = f"exit {proc.returncode}\n--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}"
        (out / f"{name}.stdout").write_text(text.replace(str(out), "<OUT>"), encoding="utf-8")
        print(f"{name}: exit {proc.returncode}")
        failed += proc.returncode != 0
    return failed


def _files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(folder).parts}


def _without_volatile(value):
    """run.json without the fields that name the moment or the checkout, at any depth (the
    report's run.json carries the code run's record under ``stages``)."""
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_RUN_FIELDS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


def _comparable(path: Path, folder: Path) -> bytes:
    data = path.read_bytes()
    if path.name == "run.json":
        data = json.dumps(_without_volatile(json.loads(data)), sort_keys=True, ensure_ascii=False).encode()
    elif zipfile.is_zipfile(path):
        # xlsx and qdpx: the snapshot's own path may sit inside a compressed member
        with zipfile.ZipFile(path) as z:
            data = b"".join(f"{i.filename} {i.date_time} {i.compress_type}".encode() + b"\0" + z.read(i) for i in z.infolist())
    return data.replace(str(folder.resolve()).encode(), b"<OUT>")


def compare(a: Path, b: Path) -> list[str]:
    """The differences, one line each; empty when the snapshots agree."""
    fa, fb = _files(a), _files(b)
    diffs = [f"only in {a}: {k}" for k in sorted(fa.keys() - fb.keys())]
    diffs += [f"only in {b}: {k}" for k in sorted(fb.keys() - fa.keys())]
    diffs += [f"differs: {k}" for k in sorted(fa.keys() & fb.keys())
              if _comparable(fa[k], a) != _comparable(fb[k], b)]
    return diffs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("out", type=Path)
    s.add_argument("--quick", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.what == "snapshot":
        return 1 if snapshot(args.out, args.quick) else 0
    diffs = compare(args.a, args.b)
    print("\n".join(diffs) if diffs else f"identical: {len(_files(args.a))} files")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
