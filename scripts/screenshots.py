"""Screenshots for the README, taken in Debian's Chromium (never a downloaded browser).

    uv run python scripts/screenshots.py review      # docs/review-seite.png
    uv run python scripts/screenshots.py             # every screenshot

Each screenshot is one function: it makes what it shows from the example corpus (nothing is
typed in), opens it in headless Chromium and saves the PNG under docs/.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "tests"))  # the browser helper the browser tests use


def _qda(*args) -> None:
    from pipeline.cli import cli

    cli.main([str(a) for a in args], prog_name="qda", standalone_mode=False)


def review_page(out: Path = DOCS / "review-seite.png") -> Path:
    """The review page of the example corpus coded with the v2 codebook, after three decisions
    made with the keyboard (accept, accept, reject)."""
    from selenium.webdriver.common.by import By

    from browser import chromium

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        here = Path.cwd()
        os.chdir(tmp)  # the page shows the run folder as given: a short relative one, as a user would type it
        try:
            _qda("code", ROOT / "corpora" / "beispiel", "--codebook", ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml",
                 "--out", "outputs/beispiel-2.0", "--no-cache")
            _qda("review", "export", "outputs/beispiel-2.0", "--out", tmp / "review.html")
        finally:
            os.chdir(here)
        driver = chromium(tmp / "profile", size=(1280, 820))
        try:
            driver.get((tmp / "review.html").as_uri())
            body = driver.find_element(By.TAG_NAME, "body")
            for key in "aar":
                body.send_keys(key)
            driver.find_element(By.ID, "reviewer").send_keys("A. Yilmaz")
            body.click()
            out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(out))
        finally:
            driver.quit()
    return out


SHOTS = {"review": review_page}


def main(names: list[str]) -> None:
    for name in names or list(SHOTS):
        if name not in SHOTS:
            raise SystemExit(f"unknown screenshot {name!r}; choose from {', '.join(SHOTS)}")
        print(f"Wrote {SHOTS[name]()}")


if __name__ == "__main__":
    main(sys.argv[1:])
