"""Debian's Chromium driven through selenium and chromedriver, for browser tests and the
README screenshots (scripts/screenshots.py). Never a downloaded browser: without
/usr/bin/chromium and chromedriver the tests skip with the reason."""

from __future__ import annotations

import shutil
from pathlib import Path

SKIP_REASON = "no Chromium/chromedriver here (.ci/run installs Debian's chromium and chromium-driver)"


def chromium_binary() -> str | None:
    """The Chromium on PATH, if any."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def have_chromium() -> bool:
    return chromium_binary() is not None and shutil.which("chromedriver") is not None


def chromium(profile: Path, *, downloads: Path | None = None, size: tuple[int, int] = (1280, 900)):
    """A headless Chromium with its own profile folder; files the page downloads land in
    ``downloads``. The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium_binary()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
                "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    if downloads is not None:
        opts.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    if downloads is not None:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


def browser_errors(driver) -> list[dict]:
    """Console messages of level SEVERE or ERROR (a script error, a blocked request)."""
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
