"""Writes the number of bad inputs the tests refuse into the README, between the markers
``<!-- bad-inputs -->`` and ``<!-- /bad-inputs -->``, so the number is never typed by hand.

The number is the rows of the two bad-input tables (``tests/test_ingest_bad_inputs.py`` and
``tests/test_bad_inputs.py``) that are expected to pass; rows waiting for a fix in another
branch (``pending``) are not counted.

    uv run python scripts/count_bad_inputs.py          # update README.md
    uv run python scripts/count_bad_inputs.py --check  # exit 1 if README.md is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKED = re.compile(r"(<!-- bad-inputs -->)([\d,]*)(<!-- /bad-inputs -->)")


def count() -> tuple[int, int]:
    """``(cases refused with a message, commands they cover)``."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_bad_inputs
    import test_ingest_bad_inputs

    cases = [*test_ingest_bad_inputs.CASES, *test_bad_inputs.REFUSED]
    commands = {"ingest"} | {c.command for c in test_bad_inputs.REFUSED}
    return len(cases), len(commands)


def readme_count(text: str) -> int | None:
    """The number between the markers, or None if the markers are missing."""
    m = MARKED.search(text)
    return int(m.group(2).replace(",", "")) if m and m.group(2) else None


def main(argv: list[str]) -> int:
    n, _ = count()
    text = README.read_text(encoding="utf-8")
    if not MARKED.search(text):
        print(f"{README}: no <!-- bad-inputs --><!-- /bad-inputs --> markers", file=sys.stderr)
        return 1
    if "--check" in argv:
        if readme_count(text) != n:
            print(f"{README} says {readme_count(text)} bad inputs, the tables have {n}: run scripts/count_bad_inputs.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(MARKED.sub(lambda m: f"{m.group(1)}{n}{m.group(3)}", text), encoding="utf-8")
    print(f"README.md: {n} bad inputs")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
