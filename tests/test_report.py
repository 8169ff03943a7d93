"""qda report and qda run: tables recomputed from codings.csv, the workbook, the browser test."""

import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, ROOT, tree_snapshot
from pipeline.cli import cli

V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    r = CliRunner().invoke(cli, ["run", str(BEISPIEL), "--codebook", str(V2), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "[1/4] ingest" in r.output and "[3/4] cluster" in r.output and "[4/4] report" in r.output
    assert r.output.rstrip().endswith(f"Report: {out / 'report.html'}")
    return out


def test_run_writes_every_stage(run_dir):
    for name in ("segments.csv", "codings.csv", "codings_wide.csv", "cluster/clusters.csv", "cluster/cluster_map.png", "report.html",
                 "report.xlsx", "tables/haeufigkeiten.csv", "tables/nach_network.csv", "tables/kookkurrenz.csv", "tables/zitate.csv",
                 "figures/codes_x_netzwerk.png", "figures/kookkurrenz.png", "figures/kategorienkarte.png", "run.json"):
        assert (run_dir / name).is_file(), name


def test_frequency_table_is_recomputed_from_the_codings(run_dir):
    seg = pd.read_csv(run_dir / "segments.csv", dtype=str, keep_default_na=False)
    cod = pd.read_csv(run_dir / "codings.csv", dtype=str, keep_default_na=False)
    freq = pd.read_csv(run_dir / "tables" / "haeufigkeiten.csv").set_index("code")
    # huerde.zeit: units, documents, and its share among the barrier answers it could code
    units = seg[(seg["is_interviewer"] == "False") & (seg["flag"] == "")]
    scoped = units[(units["code_scope"] == "") | (units["code_scope"] == "huerde")]
    hits = cod[cod["code"] == "huerde.zeit"]
    assert freq.loc["huerde.zeit", "units"] == hits["segment_id"].nunique()
    assert freq.loc["huerde.zeit", "documents"] == seg.set_index("segment_id").loc[hits["segment_id"], "doc_id"].nunique()
    assert freq.loc["huerde.zeit", "units_possible"] == len(scoped)
    assert freq.loc["huerde.zeit", "share_of_units"] == pytest.approx(hits["segment_id"].nunique() / len(scoped), abs=1e-4)
    barrier_codings = cod[cod["code"].str.startswith("huerde.")]
    assert freq.loc["huerde.zeit", "share_of_mentions"] == pytest.approx(len(hits) / len(barrier_codings), abs=1e-4)
    # the network table adds up to the overall units
    net = pd.read_csv(run_dir / "tables" / "nach_network.csv").set_index("code")
    assert net.filter(like="units_").loc["huerde.zeit"].sum() == freq.loc["huerde.zeit", "units"]


def test_cooccurrence_is_symmetric_with_unit_counts_on_the_diagonal(run_dir):
    co = pd.read_csv(run_dir / "tables" / "kookkurrenz.csv").set_index("code")
    assert (co.to_numpy() == co.to_numpy().T).all()
    freq = pd.read_csv(run_dir / "tables" / "haeufigkeiten.csv").set_index("code")
    for code in co.index:
        assert co.loc[code, code] == freq.loc[code, "units"]


def test_workbook_has_one_sheet_per_table(run_dir):
    sheets = pd.read_excel(run_dir / "report.xlsx", sheet_name=None)
    tables = sorted(p.stem for p in (run_dir / "tables").glob("*.csv"))
    assert sorted(sheets) == tables


def test_quotes_highlight_their_evidence(run_dir):
    quotes = pd.read_csv(run_dir / "tables" / "zitate.csv", keep_default_na=False)
    assert quotes.groupby("code").size().max() <= 5
    for r in quotes.itertuples():
        assert r.evidence in r.text
    html = (run_dir / "report.html").read_text()
    assert "<mark>" in html and "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_report_names_the_missing_stage(tmp_path):
    (tmp_path / "segments.csv").write_text("segment_id,text\n")
    before = tree_snapshot(tmp_path)
    r = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert r.exit_code == 1
    assert r.output == f"Error: {tmp_path}: has no codings.csv\n  → run 'qda code SOURCE --codebook FILE --out DIR' (or 'qda run') first\n"
    assert tree_snapshot(tmp_path) == before


def _chrome():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chrome() is None or shutil.which("chromedriver") is None,
                    reason="no Chromium/chromedriver here (.ci/run installs Debian's chromium and chromium-driver)")
def test_report_in_a_real_browser(run_dir, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    opts.binary_location = _chrome()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        driver.get((run_dir / "report.html").resolve().as_uri())
        tables = driver.find_elements(By.CSS_SELECTOR, "table.sortable")
        assert len(tables) >= 4
        images = driver.find_elements(By.TAG_NAME, "img")
        assert images and all(driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img) for img in images)
        # sorting: click "units" of the frequency table twice, the column is then descending
        table = driver.find_element(By.CSS_SELECTOR, 'table[data-name="haeufigkeiten"]')
        header = [th for th in table.find_elements(By.TAG_NAME, "th") if th.text.strip() == "units"][0]
        col = int(header.get_attribute("data-col"))
        header.click()
        header.click()
        values = [float(r.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-v")) for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert values == sorted(values, reverse=True) and values[0] > values[-1]
        assert header.get_attribute("aria-sort") == "descending"
        severe = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert severe == []
        driver.save_screenshot(str(tmp_path / "report.png"))
    finally:
        driver.quit()


def test_run_on_a_users_own_folder_without_examples_to_cluster(tmp_path):
    folder = tmp_path / "runde2"
    folder.mkdir()
    (folder / "int1.txt").write_text("I: Was bremst Sie?\nB: Zeitmangel, ehrlich gesagt. Und die Vorgesetzten bremsen.\n"
                                    "I: Und Formate?\nB: Kollegiale Fallberatung und Schulungen zu KI.\n", encoding="utf-8")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["run", str(folder), "--codebook", str(V2), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "[3/4] cluster: skipped (fewer than 10 innovation examples)" in r.output
    freq = pd.read_csv(out / "tables" / "haeufigkeiten.csv").set_index("code")
    assert freq.loc["huerde.zeit", "units"] == 1 and freq.loc["methode.austausch", "units"] == 1
    assert (out / "report.html").is_file() and not (out / "cluster").exists()


def test_workbooks_are_byte_identical_for_identical_tables(tmp_path):
    import time

    from pipeline.outputs import write_xlsx

    tables = {"a": pd.DataFrame({"x": [1, 2], "y": ["ä", "ß"]}), "b": pd.DataFrame({"z": [0.5]})}
    write_xlsx(tables, tmp_path / "1.xlsx")
    time.sleep(1.1)  # a different second on the clock must not change the file
    write_xlsx(tables, tmp_path / "2.xlsx")
    assert (tmp_path / "1.xlsx").read_bytes() == (tmp_path / "2.xlsx").read_bytes()
    assert pd.read_excel(tmp_path / "1.xlsx", sheet_name=None)["a"]["y"].tolist() == ["ä", "ß"]
