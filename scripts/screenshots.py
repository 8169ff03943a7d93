"""Screenshots for the README, taken in Debian's Chromium (never a downloaded browser).

    uv run python scripts/screenshots.py review      # docs/review-seite.png
    uv run python scripts/screenshots.py report      # docs/report-erster-bildschirm.png
    uv run python scripts/screenshots.py compare     # docs/vergleich-erster-bildschirm.png
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


EPOCH = "1735689600"  # 2025-01-01 00:00 UTC: the date the report and compare pages show


def _pinned_date():
    """SOURCE_DATE_EPOCH set while the pages are written, so they show a fixed date."""
    import contextlib

    @contextlib.contextmanager
    def pinned():
        old = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = EPOCH
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("SOURCE_DATE_EPOCH")
            else:
                os.environ["SOURCE_DATE_EPOCH"] = old

    return pinned()


def _first_screen(page: Path, out: Path, profile: Path) -> Path:
    from browser import chromium

    driver = chromium(profile, size=(1280, 900))
    try:
        driver.get(page.as_uri())
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
    finally:
        driver.quit()
    return out


def report_page(out: Path = DOCS / "report-erster-bildschirm.png") -> Path:
    """The first screen of report.html of the main job on the example corpus: the run's
    summary, the navigation with the filter box, the frequencies."""
    with tempfile.TemporaryDirectory() as tmp, _pinned_date():
        tmp = Path(tmp)
        here = Path.cwd()
        os.chdir(ROOT)  # the page shows the corpus as 'corpora/beispiel', as the README's command gives it
        try:
            _qda("run", "corpora/beispiel", "--codebook", "codebooks/innovationsnetzwerke-v2.yaml", "--out", tmp / "beispiel-2.0")
        finally:
            os.chdir(here)
        return _first_screen(tmp / "beispiel-2.0" / "report.html", out, tmp / "profile")


def compare_page(out: Path = DOCS / "vergleich-erster-bildschirm.png") -> Path:
    """The first screen of comparison.html for v1 → v2 of the reference codebook with the
    gold: the effect of the revision on the data, in units and percentage points."""
    gold = ROOT / "corpora" / "beispiel" / "gold"
    with tempfile.TemporaryDirectory() as tmp, _pinned_date():
        tmp = Path(tmp)
        _qda("compare", ROOT / "codebooks" / "innovationsnetzwerke-v1.yaml", ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml",
             ROOT / "corpora" / "beispiel", "--gold", f"{gold / 'umfrage_gold.csv'},{gold / 'interviews_gold.csv'}", "--out", tmp / "vergleich")
        return _first_screen(tmp / "vergleich" / "comparison.html", out, tmp / "profile")


SHOTS = {"review": review_page, "report": report_page, "compare": compare_page}


def main(names: list[str]) -> None:
    for name in names or list(SHOTS):
        if name not in SHOTS:
            raise SystemExit(f"unknown screenshot {name!r}; choose from {', '.join(SHOTS)}")
        print(f"Wrote {SHOTS[name]()}")


if __name__ == "__main__":
    main(sys.argv[1:])
