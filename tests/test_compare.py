"""qda compare's page and tables: the effect on the data first, change as counts and percentage
points (never a relative change), changed units with their evidence marked, a German workbook."""

import html

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, ROOT
from pipeline.cli import cli

V1 = ROOT / "codebooks" / "innovationsnetzwerke-v1.yaml"
V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "v1-v2"
    r = CliRunner().invoke(cli, ["compare", str(V1), str(V2), str(BEISPIEL), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_change_is_counted_in_units_and_percentage_points(compared):
    effect = pd.read_csv(compared / "effect.csv")
    assert "change_pct" not in effect.columns
    assert (effect["change"] == effect["units_b"] - effect["units_a"]).all()
    assert (effect["change_points"] == ((effect["units_b"] - effect["units_a"]) / effect["units_possible"] * 100).round(2)).all()
    # the codes with the most units moving come first
    moved = effect["gained"] + effect["lost"]
    assert moved.tolist() == sorted(moved, reverse=True)
    kultur = effect.set_index("code").loc["huerde.kultur"]
    # barriers can be coded in the 312 respondent turns and answers to the barrier question; v2 moved the error culture here
    assert kultur.units_possible == 312 and kultur.units_b > kultur.units_a and kultur.lost == 0


def test_page_leads_with_the_effect_and_keeps_the_diff_for_last(compared):
    page = (compared / "comparison.html").read_text(encoding="utf-8")
    order = [page.index(f'<h2 id="{i}">') for i in ("wirkung", "einheiten", "uebereinstimmung", "leitfaden")]
    assert order == sorted(order)
    for target in ("wirkung", "einheiten", "uebereinstimmung", "leitfaden"):
        assert f'<a href="#{target}">' in page
    changed = pd.read_csv(compared / "changed_units.csv", keep_default_na=False)
    effect = pd.read_csv(compared / "effect.csv").set_index("code")
    assert f"{changed['segment_id'].nunique()} von 816 Einheiten</strong> werden anders kodiert" in page
    points = f"+{effect.loc['huerde.kultur', 'change_points']:.1f}".replace(".", ",")
    assert f"{points} Pp.</td>" in page and "Änderung (Prozentpunkte)" in page


def test_changed_units_show_their_evidence_marked(compared):
    changed = pd.read_csv(compared / "changed_units.csv", keep_default_na=False)
    page = (compared / "comparison.html").read_text(encoding="utf-8")
    with_evidence = changed[changed["evidence"] != ""]
    assert len(with_evidence) == len(changed) > 100
    for r in with_evidence.itertuples():
        assert r.text[r.evidence_start:r.evidence_end] == r.evidence
    section = page[page.index('id="c-huerde.kultur"'):]
    section = section[:section.index("</details>")]
    gained = changed[(changed["code"] == "huerde.kultur") & (changed["change"] == "gained")]
    assert section.count("<mark>") == len(gained) > 10
    assert f"<mark>{html.escape(gained.iloc[0]['evidence'])}</mark>" in section


def test_workbook_reads_german(compared):
    import openpyxl

    wb = openpyxl.load_workbook(compared / "comparison.xlsx")
    assert wb.sheetnames == ["Wirkung", "Geänderte Einheiten", "Übereinstimmung"]
    ws = wb["Wirkung"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Code", "Bezeichnung", "in Version", "Einheiten A"] and "Änderung (Prozentpunkte)" in header
    share = ws.cell(2, header.index("Anteil A") + 1)
    assert isinstance(share.value, float) and share.number_format == "0.0 %"
    assert {ws.cell(i, 3).value for i in range(2, ws.max_row + 1)} == {"beide", "nur B"}
