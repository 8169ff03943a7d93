"""Learning from the review: ``qda code --train RUN/reviewed.csv`` (alone and with a gold file),
the run's clear "no"s as negatives, and the review's history (review/curve.csv) in the report."""

import json
import shutil

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_snapshot, write
from pipeline.cli import cli
from pipeline.codebook import load_codebook
from pipeline.review import load_review_run
from pipeline.review.training import reviewed_training_labels, run_negatives
from pipeline.stages import training_labels

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"
EPOCH = "1700000000"

# answers to "Was hindert Sie?", written for this test
SURVEY = """id;hindernisse
1;Uns fehlt schlicht die Zeit, das Tagesgeschäft frisst alles auf.
2;Die Arbeitsbelastung im Team ist seit Monaten viel zu hoch.
3;Mein Kalender ist einfach voll, da passt kein Netzwerktreffen mehr rein.
4;Zeit hätte ich schon, aber mein Chef blockt ab.
5;Die Amtsleitung hält von solchen Austauschformaten wenig.
6;Ehrlich gesagt: keine Zeit, keine Leute, kein Budget.
7;Der Kurs zum Projektmanagement war klasse, hat mir aber wenig geholfen.
8;Unsere Vorgesetzte findet das Netzwerk gut und gibt uns gern frei.
9;Wir hatten mal eine Weiterbildung, danach ist nix mehr passiert.
10;k.A.
11;Zur Zeit der Pandemie lief alles digital, das war eigentlich prima.
12;Alles gut bei uns, läuft.
13;Die Führungskräfte ziehen nicht mit, und die Kolleg:innen sind skeptisch.
14;Zeitdruck ohne Ende, ständig neue Vorgaben von oben.
"""
# what the rules code (the tests below rely on it)
RULE_CODINGS = [("1", "huerde.zeit"), ("2", "huerde.zeit"), ("3", "huerde.zeit"), ("4", "huerde.fuehrung"), ("5", "huerde.fuehrung"),
                ("6", "huerde.zeit"), ("8", "huerde.fuehrung"), ("9", "methode.schulung"), ("11", "huerde.zeit"),
                ("13", "huerde.fuehrung"), ("14", "huerde.zeit")]
# a reviewer's verdict: 8 (the superior is no obstacle) and 11 (a point in time) are wrong
REJECTED = {("8", "huerde.fuehrung"), ("11", "huerde.zeit")}
ELIGIBLE = 13  # 10 "k.A." is a placeholder


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    base = tmp_path_factory.mktemp("lernen")
    write(base / "korpus" / "umfrage.csv", SURVEY)
    r = invoke("code", base / "korpus", "--codebook", MINI, "--out", base / "lauf", "--no-cache")
    assert r.exit_code == 0, r.output
    return base


@pytest.fixture
def reviewed(coded, tmp_path, monkeypatch):
    """A copy of the coded run with every suggestion decided and imported."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run = shutil.copytree(coded / "lauf", tmp_path / "lauf")
    assert invoke("review", "export", run, "--out", tmp_path / "review.csv").exit_code == 0
    t = pd.read_csv(tmp_path / "review.csv", dtype=str, keep_default_na=False)
    t["decision"] = ["reject" if (s, c) in REJECTED else "accept" for s, c in zip(t["segment_id"], t["code"])]
    t.to_csv(tmp_path / "entscheidungen.csv", index=False)
    r = invoke("review", "import", run, tmp_path / "entscheidungen.csv")
    assert r.exit_code == 0, r.output
    return run


def test_the_rules_code_what_the_tests_assume(coded):
    cod = pd.read_csv(coded / "lauf" / "codings.csv", dtype=str)
    assert list(zip(cod["segment_id"], cod["code"])) == RULE_CODINGS


def test_run_negatives_are_the_pairs_the_run_said_nothing_about(reviewed):
    neg = run_negatives(load_review_run(reviewed))
    pairs = set(zip(neg["segment_id"], neg["code"]))
    assert len(neg) == ELIGIBLE * 3 - len(RULE_CODINGS) and set(neg["label"]) == {0} and set(neg["source"]) == {"run"}
    assert not pairs & set(RULE_CODINGS)
    assert ("10", "huerde.zeit") not in pairs  # a placeholder is no unit to learn from
    assert ("4", "huerde.zeit") in pairs and ("12", "methode.schulung") in pairs


def test_reviewed_labels_are_the_decisions_plus_the_runs_no(reviewed, tmp_path):
    lab = reviewed_training_labels(reviewed / "reviewed.csv")
    decided = lab[lab["source"] == "reviewed"]
    assert sorted(zip(decided["segment_id"], decided["code"], decided["label"])) == sorted(
        (s, c, int((s, c) not in REJECTED)) for s, c in RULE_CODINGS)
    assert (lab["source"] == "run").sum() == ELIGIBLE * 3 - len(RULE_CODINGS)
    # a reviewed.csv away from its run folder is only what the reviewers decided
    alone = write(tmp_path / "anderswo" / "reviewed.csv", (reviewed / "reviewed.csv").read_text(encoding="utf-8"))
    assert reviewed_training_labels(alone)["source"].tolist() == ["reviewed"] * len(RULE_CODINGS)


def test_code_trains_the_verifier_on_reviewed_decisions(coded, reviewed, tmp_path):
    out = tmp_path / "runde2"
    r = invoke("code", coded / "korpus", "--codebook", MINI, "--train", reviewed / "reviewed.csv", "--out", out, "--no-cache")
    assert r.exit_code == 0, r.output
    assert "training the verifier on 13 labelled units (+ the codebook's anchor examples)" in r.output
    model = json.loads((out / "run.json").read_text())["model"]
    anchors = 4  # two for huerde.zeit, one each for the other codes
    assert model["training"]["labels"] == ELIGIBLE * 3 + anchors
    # huerde.zeit: 5 accepted + 2 anchors; 1 rejected + 7 eligible units without any sign of time
    zeit = model["codes"]["huerde.zeit"]
    assert zeit == {"mode": "model", "threshold": zeit["threshold"], "threshold_precision": zeit["threshold_precision"], "positive": 7, "negative": 8}
    assert (out / "model.npz").is_file() and (out / "candidates.csv").is_file()
    cand = pd.read_csv(out / "candidates.csv", dtype=str)
    assert set(zip(cand["segment_id"], cand["code"])) >= {("1", "huerde.zeit"), ("11", "huerde.zeit")}


def test_decided_pairs_alone_are_too_few_to_learn_from(coded, reviewed, tmp_path):
    alone = write(tmp_path / "anderswo" / "reviewed.csv", (reviewed / "reviewed.csv").read_text(encoding="utf-8"))
    out = tmp_path / "runde2"
    r = invoke("code", coded / "korpus", "--codebook", MINI, "--train", alone, "--out", out, "--no-cache")
    assert r.exit_code == 0, r.output
    model = json.loads((out / "run.json").read_text())["model"]
    assert model["training"]["labels"] == len(RULE_CODINGS) + 4
    assert model["codes"]["huerde.zeit"]["mode"] == "rules" and model["codes"]["huerde.zeit"]["negative"] == 1


def test_gold_outranks_a_decision_and_a_decision_the_runs_no(coded, reviewed, tmp_path):
    # the gold coder disagrees with the reviewer on 11 and names a code the run missed in 7
    gold = write(tmp_path / "gold.csv", "segment_id,codes\n11,huerde.zeit\n7,methode.schulung\n12,\n")
    seg = pd.read_csv(reviewed / "segments.csv", dtype=str, keep_default_na=False)
    cb, _ = load_codebook(MINI)
    for train in (f"{reviewed / 'reviewed.csv'},{gold}", f"{gold},{reviewed / 'reviewed.csv'}"):
        lab = training_labels(train, seg, cb).set_index(["segment_id", "code"])
        assert lab.loc[("11", "huerde.zeit")].tolist() == [1, "gold"]
        assert lab.loc[("7", "methode.schulung")].tolist() == [1, "gold"]
        assert lab.loc[("8", "huerde.fuehrung")].tolist() == [0, "reviewed"]
        assert lab.loc[("4", "huerde.zeit")].tolist() == [0, "run"]
        assert not lab.index.duplicated().any()
    out = tmp_path / "runde2"
    r = invoke("code", coded / "korpus", "--codebook", MINI, "--train", f"{reviewed / 'reviewed.csv'},{gold}", "--out", out, "--no-cache")
    assert r.exit_code == 0, r.output
    assert json.loads((out / "run.json").read_text())["model"]["training"]["labels"] == ELIGIBLE * 3 + 4


def test_reviewed_decisions_on_units_that_are_not_coded_are_refused(coded, reviewed, tmp_path):
    other = write(tmp_path / "andere" / "umfrage.csv", "id;hindernisse\n21;Keine Zeit neben dem ganzen Tagesgeschäft, leider.\n"
                  "22;Der Chef bremst, wo er nur kann, und die Kolleg:innen ziehen halt mit.\n")
    before = tree_snapshot(tmp_path)
    r = invoke("code", other.parent, "--codebook", MINI, "--train", reviewed / "reviewed.csv", "--out", tmp_path / "k", "--no-cache")
    assert r.exit_code == 1
    assert f"{reviewed / 'reviewed.csv'}" in r.output and "not in the coded data" in r.output and "Traceback" not in r.output
    assert tree_snapshot(tmp_path) == before


# --- the review's history ---------------------------------------------------------------------

def _decide(run, tmp_path, name, rows):
    fp = load_review_run(run).fingerprint
    doc = {"run": fp, "decisions": [{"segment_id": s, "code": c, "decision": d} for s, c, d in rows]}
    path = write(tmp_path / name, json.dumps(doc))
    r = invoke("review", "import", run, path)
    assert r.exit_code == 0, r.output
    return r


def test_every_import_adds_a_round_to_the_curve(coded, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run = shutil.copytree(coded / "lauf", tmp_path / "lauf")
    _decide(run, tmp_path, "a.json", [("8", "huerde.fuehrung", "reject"), ("11", "huerde.zeit", "reject"), ("1", "huerde.zeit", "accept")])
    _decide(run, tmp_path, "b.json", [("2", "huerde.zeit", "accept"), ("5", "huerde.fuehrung", "accept"),
                                      ("7", "methode.schulung", "accept"),   # a unit the run did not code
                                      ("11", "huerde.zeit", "accept")])       # changes round 1's decision
    curve = pd.read_csv(run / "review" / "curve.csv")
    assert curve[["round", "file", "new", "changed", "units", "decisions", "reviewed_codings", "accepted", "round_codings",
                  "round_accepted"]].values.tolist() == [
        [1, "a.json", 3, 0, 3, 3, 3, 1, 3, 1],
        [2, "b.json", 3, 1, 6, 6, 5, 4, 3, 3],
    ]
    assert curve["accepted_share"].tolist() == [pytest.approx(1 / 3, abs=1e-4), pytest.approx(0.8)]
    # the same file again changes nothing, the curve included
    snapshot = tree_snapshot(run)
    assert invoke("review", "import", run, tmp_path / "b.json").output.startswith("Nothing new")
    assert tree_snapshot(run) == snapshot


def test_report_draws_the_curve_of_the_review(coded, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run = shutil.copytree(coded / "lauf", tmp_path / "lauf")
    _decide(run, tmp_path, "a.json", [("8", "huerde.fuehrung", "reject"), ("1", "huerde.zeit", "accept")])
    _decide(run, tmp_path, "b.json", [("2", "huerde.zeit", "accept")])
    out1, out2 = tmp_path / "bericht1", tmp_path / "bericht2"
    for out in (out1, out2):
        r = invoke("report", run, "--out", out)
        assert r.exit_code == 0, r.output
    page = (out1 / "report.html").read_text(encoding="utf-8")
    assert '<img alt="Verlauf der Durchsicht über 2 Runde(n)' in page
    assert page.index('id="durchsicht"') < page.index("Verlauf der Durchsicht")
    assert (out1 / "figures" / "durchsicht_verlauf.png").read_bytes() == (out2 / "figures" / "durchsicht_verlauf.png").read_bytes()
    assert pd.read_csv(out1 / "tables" / "durchsicht_verlauf.csv")["units"].tolist() == [2, 3]
    sheet = pd.read_excel(out1 / "report.xlsx", sheet_name="Durchsicht Verlauf")
    assert sheet[["Runde", "Einheiten", "Anteil angenommen"]].values.tolist() == [[1, 2, 0.5], [2, 3, pytest.approx(2 / 3, abs=1e-4)]]


def test_report_without_a_curve_shows_the_review_table_only(coded, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    run = shutil.copytree(coded / "lauf", tmp_path / "lauf")
    _decide(run, tmp_path, "a.json", [("1", "huerde.zeit", "accept")])
    (run / "review" / "curve.csv").unlink()  # imported before the history was kept
    r = invoke("report", run)
    assert r.exit_code == 0, r.output
    page = (run / "report.html").read_text(encoding="utf-8")
    assert 'id="durchsicht"' in page and "Verlauf der Durchsicht" not in page
    assert not (run / "figures" / "durchsicht_verlauf.png").exists()
