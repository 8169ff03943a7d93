"""Agreement statistics against published worked examples and an independent package;
qda compare and qda agreement."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, ROOT, write
from pipeline.agreement import agreement_table, fleiss_kappa, krippendorff_alpha_nominal
from pipeline.cli import cli
from pipeline.evaluate import cohen_kappa

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", reliability data with
# 4 observers, 12 units and missing values; the paper gives alpha = 0.743 (nominal).
KRIPPENDORFF_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
])
# Fleiss (1971) as worked through on Wikipedia: 10 subjects, 14 raters, 5 categories, kappa = 0.210.
FLEISS_EXAMPLE = np.array([
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
])


def test_krippendorff_alpha_matches_the_published_example():
    assert krippendorff_alpha_nominal(KRIPPENDORFF_2011) == pytest.approx(0.743, abs=0.001)


def test_krippendorff_alpha_matches_the_krippendorff_package():
    import krippendorff

    rng = np.random.default_rng(0)
    for _ in range(20):
        data = rng.integers(0, 3, size=(rng.integers(2, 5), 30)).astype(float)
        data[rng.random(data.shape) < 0.15] = np.nan
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        assert krippendorff_alpha_nominal(data) == pytest.approx(expected, abs=1e-9)


def test_fleiss_kappa_matches_the_worked_example():
    assert fleiss_kappa(FLEISS_EXAMPLE) == pytest.approx(0.210, abs=0.001)


def test_cohen_kappa_matches_scikit_learn():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(1)
    for _ in range(20):
        a, b = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_agreement_table_per_code_and_overall():
    dec = {"anna": {"u1": {"a"}, "u2": {"a", "b"}, "u3": set()}, "ben": {"u1": {"a"}, "u2": {"b"}, "u3": {"b"}}}
    table, overall = agreement_table(dec, ["u1", "u2", "u3"], ["a", "b"])
    a = table.set_index("code").loc["a"]
    assert a["percent_agreement"] == pytest.approx(2 / 3, abs=1e-4)
    assert overall["percent_agreement"] == pytest.approx(4 / 6, abs=1e-4)
    assert "kappa_anna_vs_ben" in table.columns


def test_cli_agreement_with_three_coders(tmp_path):
    a = write(tmp_path / "anna.csv", "segment_id,codes\nu1,x\nu2,x;y\nu3,\nu4,y\n")
    b = write(tmp_path / "ben.csv", "segment_id,codes\nu1,x\nu2,y\nu3,y\nu4,y\n")
    c = write(tmp_path / "cem.csv", "segment_id,codes\nu1,x\nu2,x;y\nu3,\nu4,\n")
    r = CliRunner().invoke(cli, ["agreement", str(a), str(b), str(c), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "3 coders (anna, ben, cem), 4 shared units, 2 codes" in r.output
    table = pd.read_csv(tmp_path / "out" / "agreement.csv")
    assert {"kappa_anna_vs_ben", "kappa_anna_vs_cem", "kappa_ben_vs_cem", "fleiss_kappa", "krippendorff_alpha"} <= set(table.columns)


def test_cli_agreement_refuses_disjoint_coders(tmp_path):
    a = write(tmp_path / "a.csv", "segment_id,codes\nu1,x\n")
    b = write(tmp_path / "b.csv", "segment_id,codes\nv1,x\n")
    r = CliRunner().invoke(cli, ["agreement", str(a), str(b)])
    assert r.exit_code == 1
    assert "the coders share no unit" in r.output


def test_compare_v1_v2_with_gold(tmp_path):
    out = tmp_path / "cmp"
    g = BEISPIEL / "gold"
    r = CliRunner().invoke(cli, ["compare", str(ROOT / "codebooks" / "innovationsnetzwerke-v1.yaml"), str(ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"),
                                 str(BEISPIEL), "--gold", f"{g / 'umfrage_gold.csv'},{g / 'interviews_gold.csv'}", "--part", "test", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for name in ("diff.txt", "diff.json", "effect.csv", "changed_units.csv", "agreement.csv", "gold_scores.csv", "comparison.xlsx", "comparison.html"):
        assert (out / name).is_file(), name
    effect = pd.read_csv(out / "effect.csv").set_index("code")
    changed = pd.read_csv(out / "changed_units.csv", keep_default_na=False)
    # v2 widens Kultur and narrows Strukturen: both tables must show it, and agree on every code
    assert effect.loc["huerde.kultur", "gained"] > 0 and effect.loc["huerde.strukturen", "lost"] > 0
    counts = changed.groupby(["code", "change"]).size()
    for code in effect.index:
        for change in ("gained", "lost"):
            assert effect.loc[code, change] == counts.get((code, change), 0), (code, change)
    only_b = effect[effect["in"] == "B only"]
    assert (only_b["units_a"] == 0).all() and (only_b["lost"] == 0).all() and (only_b["units_b"] == only_b["gained"]).all()
    assert set(effect.loc[effect["in"] == "B only"].index) == {c for c in effect.index if c.startswith("motivation.")}
    record = json.loads((out / "run.json").read_text())
    assert record["gold"]["units"] > 0


def test_compare_refuses_codebooks_without_shared_codes(tmp_path):
    other = write(tmp_path / "anders.yaml", "name: X\nversion: '1'\ncodes:\n  - id: anders\n    label: A\n    definition: d\n    include: [x]\n")
    r = CliRunner().invoke(cli, ["compare", str(ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"), str(other),
                                 str(BEISPIEL / "interviews" / "DVNW_koordination.txt"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 1
    assert "the codebooks share no code ID" in r.output
    assert not (tmp_path / "o").exists()


def test_agreement_reads_the_users_of_a_refi_project(tmp_path):
    import zipfile

    qde = ('<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="p">'
           '<Users><User guid="11111111-1111-4111-8111-111111111111" name="Anna"/><User guid="22222222-2222-4222-8222-222222222222" name="Ben"/></Users>'
           '<CodeBook><Codes><Code guid="0a1b2c3d-0000-4000-8000-00000000000a" name="Zeit" isCodable="true"/></Codes></CodeBook>'
           '<Sources><TextSource guid="33333333-3333-4333-8333-333333333333" name="t" plainTextPath="internal://33333333-3333-4333-8333-333333333333.txt">'
           '<PlainTextSelection guid="44444444-4444-4444-8444-444444444444" startPosition="0" endPosition="10" creatingUser="11111111-1111-4111-8111-111111111111">'
           '<Coding guid="55555555-5555-4555-8555-555555555555" creatingUser="11111111-1111-4111-8111-111111111111"><CodeRef targetGUID="0a1b2c3d-0000-4000-8000-00000000000a"/></Coding></PlainTextSelection>'
           '<PlainTextSelection guid="66666666-6666-4666-8666-666666666666" startPosition="0" endPosition="5" creatingUser="22222222-2222-4222-8222-222222222222">'
           '<Coding guid="77777777-7777-4777-8777-777777777777" creatingUser="22222222-2222-4222-8222-222222222222"><CodeRef targetGUID="0a1b2c3d-0000-4000-8000-00000000000a"/></Coding></PlainTextSelection>'
           '</TextSource></Sources></Project>')
    path = tmp_path / "team.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", qde)
        z.writestr("sources/33333333-3333-4333-8333-333333333333.txt", "\ufeffZeitmangel im Team\nZweite Zeile ohne Code\n")
    r = CliRunner().invoke(cli, ["agreement", str(path)])
    assert r.exit_code == 0, r.output
    assert "2 coders (team:Anna, team:Ben), 2 shared units, 1 codes" in r.output
