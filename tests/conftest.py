from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_INPUTS = ROOT.parent / "shared" / "real-inputs"
REFI = ROOT.parent / "shared" / "refi-qda"
BEISPIEL = ROOT / "corpora" / "beispiel"

needs_real_inputs = pytest.mark.skipif(not REAL_INPUTS.is_dir(), reason=f"real third-party inputs not present at {REAL_INPUTS}")
needs_refi = pytest.mark.skipif(not REFI.is_dir(), reason=f"REFI-QDA schemas and vendor files not present at {REFI}")


def write(path: Path, text: str, encoding: str = "utf-8", newline: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline=newline) as fh:
        fh.write(text)
    return path


def tree_snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes: to show a failed run changed nothing."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
