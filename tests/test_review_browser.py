"""The review page in a real browser (Debian's Chromium): decide three suggestions with the
keyboard, add a code the run missed, reload (the decisions stay), download CSV and JSON, import
both."""

import json
import shutil
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from browser import SKIP_REASON, browser_errors, chromium, have_chromium
from pipeline.cli import cli
from review_corpus import UNCERTAINTY_ORDER, add_candidates, make_run

pytestmark = pytest.mark.skipif(not have_chromium(), reason=SKIP_REASON)


def _wait_for(folder, suffix, seconds=10.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download in {folder}: {sorted(p.name for p in folder.iterdir())}")


def test_keyboard_review_download_and_import(tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    run = add_candidates(make_run(tmp_path))
    r = CliRunner().invoke(cli, ["review", "export", str(run), "--out", str(tmp_path / "review.html")])
    assert r.exit_code == 0, r.output
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = chromium(tmp_path / "profile", downloads=downloads)
    try:
        driver.get((tmp_path / "review.html").as_uri())
        body = driver.find_element(By.TAG_NAME, "body")
        assert driver.find_element(By.ID, "c-unit").text == UNCERTAINTY_ORDER[0][0]
        body.send_keys("a")                     # row 1: accept, moves on
        body.send_keys("r")                     # row 2: reject
        body.send_keys("o")                     # row 3: another code, chosen by typing part of its id
        driver.switch_to.active_element.send_keys("fuehr", Keys.ENTER)
        assert driver.find_element(By.ID, "progress").text.startswith("3 von 9 entschieden · 1 angenommen · 1 abgelehnt · 1 anderer Code")
        assert driver.find_element(By.ID, "c-nr").text == "4 / 9"
        # row 4 (unit netz_a:4, suggested huerde.fuehrung): the suggested code cannot be added, a missed one can
        body.send_keys("e")
        driver.switch_to.active_element.send_keys("fuehr", Keys.ENTER)
        assert driver.find_element(By.ID, "other-msg").text == "Dieser Code ist für diese Einheit schon vorgeschlagen: dort entscheiden."
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        body.send_keys("e")
        driver.switch_to.active_element.send_keys("schul", Keys.ENTER)
        assert driver.find_element(By.ID, "added").text == "Ergänzt (Klick entfernt): × methode.schulung"
        assert driver.find_element(By.ID, "c-nr").text == "4 / 9"  # adding does not decide the row
        assert "· 1 ergänzt" in driver.find_element(By.ID, "progress").text
        body.send_keys("k")                     # back to row 3: its decision is shown
        assert driver.find_element(By.ID, "status").text == "Entscheidung: anderer Code: huerde.fuehrung"
        # decisions survive a reload (localStorage)
        driver.refresh()
        assert driver.find_element(By.ID, "progress").text.startswith("3 von 9 entschieden")
        driver.find_element(By.ID, "reviewer").send_keys("B. Krüger")
        driver.find_element(By.ID, "dl-csv").click()
        csv_file = _wait_for(downloads, ".csv")
        driver.find_element(By.ID, "dl-json").click()
        json_file = _wait_for(downloads, ".json")
        assert browser_errors(driver) == []
    finally:
        driver.quit()
    expected = [[*UNCERTAINTY_ORDER[0], "accept", ""], [*UNCERTAINTY_ORDER[1], "reject", ""], [*UNCERTAINTY_ORDER[2], "other", "huerde.fuehrung"],
                ["netz_a:4", "methode.schulung", "accept", ""]]
    doc = json.loads(json_file.read_text(encoding="utf-8"))
    assert [[d["segment_id"], d["code"], d["decision"], d["corrected_code"]] for d in doc["decisions"]] == expected
    assert {d["reviewer"] for d in doc["decisions"]} == {"B. Krüger"}
    results = []
    for i, f in enumerate((csv_file, json_file)):
        target = shutil.copytree(run, tmp_path / f"lauf{i}")
        r = CliRunner().invoke(cli, ["review", "import", str(target), str(f)])
        assert r.exit_code == 0, r.output
        assert r.output.startswith("4 new, 0 changed, 0 unchanged decision(s)")
        results.append(pd.read_csv(target / "reviewed.csv", dtype=str, keep_default_na=False))
    assert results[0].equals(results[1])
    by_pair = results[0].set_index(["segment_id", "code"])
    assert sorted(by_pair.index) == sorted(tuple(e[:2]) for e in expected)
    for sid, code, decision, corrected in expected:
        assert by_pair.loc[(sid, code), "decision"] == decision and by_pair.loc[(sid, code), "corrected_code"] == corrected
    assert set(results[0]["reviewer"]) == {"B. Krüger"}
