"""qda report and qda run: tables recomputed from codings.csv, the workbook and its format,
quotes chosen for variety, byte-identical reruns, and the page in a real browser (sorting,
the filter box, sticky headings)."""

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
                 "tables/kodierungen.csv", "tables/codes_x_dokumente.csv",
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


ENGLISH_HEADERS = {"dimension", "code", "label", "units", "documents", "units_possible", "share_of_units", "share_of_mentions", "segment_id",
                   "evidence", "method", "text", "source", "size", "guided", "examples", "top_terms", "cluster", "kind", "doc_id"}


def test_workbook_sheets_are_formatted_for_work_in_excel(run_dir):
    import openpyxl

    wb = openpyxl.load_workbook(run_dir / "report.xlsx")
    tables = sorted(p.stem for p in (run_dir / "tables").glob("*.csv"))
    assert len(wb.sheetnames) == len(tables)
    assert wb.sheetnames[:3] == ["Häufigkeiten", "Kodierungen", "Dokumente × Codes"]
    assert {"nach Netzwerk", "nach Frage", "Kookkurrenz", "Zitate", "Kategorien"} <= set(wb.sheetnames)
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        assert not set(header) & ENGLISH_HEADERS, (ws.title, header)
        assert not [h for h in header if str(h).startswith(("units_", "share_"))], (ws.title, header)
        assert ws.freeze_panes in ("A2", "B2") and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(c.font.bold for c in ws[1])
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert all(6 <= w <= 60 for w in widths) and len(set(widths)) > 1, (ws.title, widths)
    freq = wb["Häufigkeiten"]
    cols = {c.value: c.column for c in freq[1]}
    share = freq.cell(2, cols["Anteil an den Einheiten"])
    assert isinstance(share.value, float) and share.number_format == "0.0 %"
    assert isinstance(freq.cell(2, cols["Einheiten"]).value, int)
    cats = wb["Kategorien"]
    ccols = {c.value: c.column for c in cats[1]}
    assert isinstance(cats.cell(2, ccols["Beispiele (Anzahl)"]).value, int)  # was the text '44'
    assert isinstance(cats.cell(2, ccols["gesteuert"]).value, bool)  # was the text 'True'
    net_share = next(c for c in cats[1] if str(c.value).startswith("Anteil: "))
    assert isinstance(cats.cell(2, net_share.column).value, float) and cats.cell(2, net_share.column).number_format == "0.0 %"


def test_codings_sheet_has_every_coding_with_its_context(run_dir):
    import openpyxl

    cod = pd.read_csv(run_dir / "codings.csv", dtype=str, keep_default_na=False)
    seg = pd.read_csv(run_dir / "segments.csv", dtype=str, keep_default_na=False).set_index("segment_id")
    ws = openpyxl.load_workbook(run_dir / "report.xlsx")["Kodierungen"]
    header = [c.value for c in ws[1]]
    assert header[:12] == ["Dokument", "Einheit", "Art", "Sprecher:in bzw. Frage", "Code", "Bezeichnung", "Dimension", "Methode",
                           "Wert (Regel 1, Modell: Wahrscheinlichkeit)", "Suchmuster", "Fundstelle", "Text der Einheit"]
    assert "Netzwerk" in header
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(cod)
    col = {h: i for i, h in enumerate(header)}
    for r in rows:
        assert r[col["Fundstelle"]] in r[col["Text der Einheit"]]
        assert r[col["Text der Einheit"]] == seg.loc[r[col["Einheit"]], "text"]
        assert r[col["Art"]] in ("Interview", "Umfrage") and r[col["Methode"]] == "Regel"
    turn = next(r for r in rows if r[col["Art"]] == "Interview")
    assert turn[col["Sprecher:in bzw. Frage"]] == seg.loc[turn[col["Einheit"]], "speaker"]
    answer = next(r for r in rows if r[col["Art"]] == "Umfrage")
    assert answer[col["Sprecher:in bzw. Frage"]] == seg.loc[answer[col["Einheit"]], "question"]
    text_cell = ws.cell(2, col["Text der Einheit"] + 1)
    assert text_cell.alignment.wrap_text and ws.column_dimensions[text_cell.column_letter].width == 60


def test_document_matrix_adds_up_to_the_frequencies(run_dir):
    matrix = pd.read_csv(run_dir / "tables" / "codes_x_dokumente.csv")
    freq = pd.read_csv(run_dir / "tables" / "haeufigkeiten.csv").set_index("code")
    assert len(matrix) == 287 and matrix["doc_id"].is_unique
    for code in freq.index:
        assert matrix[code].sum() == freq.loc[code, "units"]
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<table class="sortable matrix" data-name="matrix">' in html and "Umfrage: limesurvey_<wbr>export.csv <small>(755 Einheiten)</small>" in html


def test_quotes_highlight_their_evidence(run_dir):
    quotes = pd.read_csv(run_dir / "tables" / "zitate.csv", keep_default_na=False)
    assert quotes.groupby("code").size().max() <= 5
    for r in quotes.itertuples():
        assert r.evidence in r.text and r.text[r.evidence_start:r.evidence_end] == r.evidence
    html = (run_dir / "report.html").read_text()
    assert "<mark>" in html and "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html


def test_quotes_are_distinct_varied_and_carry_the_true_count(run_dir):
    quotes = pd.read_csv(run_dir / "tables" / "zitate.csv", keep_default_na=False)
    freq = pd.read_csv(run_dir / "tables" / "haeufigkeiten.csv").set_index("code")
    coded = pd.read_csv(run_dir / "tables" / "kodierungen.csv", keep_default_na=False)
    for code, grp in quotes.groupby("code"):
        assert grp["text"].str.lower().str.split().str.join(" ").is_unique, code  # never the same text twice
        assert (grp["units"] == freq.loc[code, "units"]).all()
        hits = coded[coded["code"] == code]
        if (hits["kind"] == "interview").any() and (hits["kind"] == "survey").any():
            assert set(grp["kind"]) == {"interview", "survey"}, code  # interviews included, not only the survey
        assert grp["network"].nunique() == min(len(grp), hits["network"].nunique()), code
    assert (quotes["kind"] == "interview").sum() >= 20  # before: 1 of 101 quotes came from an interview
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    n = freq.loc["innovationsform.produkt", "units"]
    assert f'Produktinnovation <code>innovationsform.produkt</code> <span class="count">{n} Einheiten · 5 Zitate</span>' in html
    assert "Interview DVNW_koordination · Sprecher:in B · Netzwerk DVNW" in html


def test_page_hides_dimensions_without_data_and_reads_german(run_dir):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Nicht in den Abbildungen und Gruppentabellen, weil fast keine Daten vorliegen: Motivation zur Teilnahme (1 kodierte Einheit)" in html
    assert not (run_dir / "figures" / "anteile_motivation_zur_teilnahme.png").exists()
    nach_net = html[html.index('id="t-nach_network"'):html.index('id="t-nach_question"')]
    assert "motivation." not in nach_net and "huerde.zeit" in nach_net
    for internal in (">units_", ">share_", "Codes nach network", "nach question", ">guided<", ">True<", ">False<"):
        assert internal not in html, internal
    assert "Codes nach Netzwerk" in html and "ohne Frage (z. B. Interviews)" in html


def test_report_files_are_byte_identical_on_rerun(run_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        r = CliRunner().invoke(cli, ["report", str(run_dir), "--out", str(out)])
        assert r.exit_code == 0, r.output
        outs.append(tree_snapshot(out))
    a, b = outs
    a.pop("run.json"), b.pop("run.json")  # the record holds the output folder's own name
    assert "report.xlsx" in a and "tables/kodierungen.csv" in a and "figures/kookkurrenz.png" in a
    assert a == b


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
        # sorting: click "Einheiten" of the frequency table twice, the column is then descending
        table = driver.find_element(By.CSS_SELECTOR, 'table[data-name="haeufigkeiten"]')
        header = [th for th in table.find_elements(By.TAG_NAME, "th") if th.text.strip() == "Einheiten"][0]
        col = int(header.get_attribute("data-col"))
        header.click()
        header.click()
        values = [float(r.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-v")) for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert values == sorted(values, reverse=True) and values[0] > values[-1]
        assert header.get_attribute("aria-sort") == "descending"
        # wide tables fit the page: no table box scrolls sideways at 1280 px
        wide = [b.get_attribute("outerHTML")[:80] for b in driver.find_elements(By.CSS_SELECTOR, ".scroll")
                if driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth + 1", b)]
        assert wide == []
        _check_filter_box(driver)
        _check_sticky_heading(driver)
        severe = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert severe == []
    finally:
        driver.quit()


def _check_filter_box(driver):
    """Typing in the filter box leaves only rows and quotes holding every word; clearing it
    brings everything back."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    rows = driver.find_elements(By.CSS_SELECTOR, "table.sortable tbody tr")
    box = driver.find_element(By.ID, "filter")
    box.send_keys("Zeitmangel")
    shown = [tr for tr in rows if tr.get_attribute("hidden") is None]
    hidden = [tr for tr in rows if tr.get_attribute("hidden") is not None]
    assert 0 < len(shown) < len(rows)
    assert all("zeitmangel" in tr.get_attribute("textContent").lower() for tr in shown)
    assert all("zeitmangel" not in tr.get_attribute("textContent").lower() for tr in hidden)
    # the code whose label matches keeps all its quotes, opened; elsewhere only quotes holding the word stay
    codes = {d.find_element(By.TAG_NAME, "code").text: d for d in driver.find_elements(By.CSS_SELECTOR, "details.code")
             if d.get_attribute("hidden") is None}
    zeit = codes.pop("huerde.zeit")
    assert zeit.get_attribute("open") is not None
    assert all(li.get_attribute("hidden") is None for li in zeit.find_elements(By.CSS_SELECTOR, "li.quote"))
    quotes = driver.find_elements(By.CSS_SELECTOR, "li.quote")
    others = [li for d in codes.values() for li in d.find_elements(By.CSS_SELECTOR, "li.quote")]
    assert len(codes) < 5 and all(("zeitmangel" in li.get_attribute("textContent").lower()) == (li.get_attribute("hidden") is None) for li in others)
    n_quotes = sum(li.get_attribute("hidden") is None for li in quotes if li.find_element(By.XPATH, "ancestor::details").get_attribute("hidden") is None)
    assert driver.find_element(By.ID, "filter-status").text == f"{len(shown) + n_quotes} von {len(rows) + len(quotes)} Zeilen und Zitaten passen"
    box.send_keys(Keys.CONTROL, "a", Keys.DELETE)
    assert all(tr.get_attribute("hidden") is None for tr in rows)
    assert driver.find_element(By.ID, "filter-status").text == ""


def _check_sticky_heading(driver):
    """A heading row stays at the top of its table's scroll box when the box scrolls."""
    from selenium.webdriver.common.by import By

    driver.set_window_size(1280, 500)
    box = next(b for b in driver.find_elements(By.CSS_SELECTOR, ".scroll")
               if driver.execute_script("return arguments[0].scrollHeight > arguments[0].clientHeight + 200", b))
    driver.execute_script("arguments[0].scrollIntoView(); arguments[0].scrollTop = 200", box)
    th = box.find_element(By.CSS_SELECTOR, "thead th")
    top_box, top_th = driver.execute_script("return [arguments[0].getBoundingClientRect().top + arguments[0].clientTop, "
                                            "arguments[1].getBoundingClientRect().top]", box, th)
    assert driver.execute_script("return arguments[0].scrollTop", box) == 200
    assert abs(top_th - top_box) < 2


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
