"""qda review: export the suggestions (xlsx, html, csv), import decisions, training labels,
reviewed precision in evaluate and report."""

import json
import shutil

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import tree_snapshot, write
from pipeline.cli import cli
from pipeline.review import build_suggestions, load_review_run, read_reviewed, run_fingerprint, training_labels
from review_corpus import CODINGS, UNCERTAINTY_ORDER, add_candidates, make_run

HEADER = ["nr", "segment_id", "document", "speaker", "context", "text", "code", "label", "suggestion", "score", "decision",
          "corrected_code", "comment"]
# code order (the rules-only fallback): codebook order of the codes, then position in the data
CODE_ORDER = [("netz_a:2", "huerde.zeit"), ("1", "huerde.zeit"), ("5", "huerde.zeit"), ("netz_a:4", "huerde.fuehrung"),
              ("2", "huerde.fuehrung"), ("netz_a:6", "methode.schulung"), ("5", "methode.schulung")]
EPOCH = "1700000000"  # 2023-11-14T22:13:20+00:00
NOW = "2023-11-14T22:13:20+00:00"


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("review"))


@pytest.fixture
def run(coded, tmp_path, monkeypatch):
    """A fresh copy of the coded run (imports write into it)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    return shutil.copytree(coded, tmp_path / "lauf")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def export(run, out, *extra):
    r = invoke("review", "export", run, "--out", out, *extra)
    assert r.exit_code == 0, r.output
    return r


def pairs(frame):
    return list(zip(frame["segment_id"].astype(str), frame["code"]))


# --- export ----------------------------------------------------------------------------------

def test_workbook_has_the_review_sheet_codebook_and_run_fingerprint(run, tmp_path):
    r = export(run, tmp_path / "review.xlsx")
    fp = load_review_run(run).fingerprint
    assert r.output == (f"7 suggestion(s): 7 coded, 0 missed?; order: code (rules only: no scores to order by uncertainty); run {fp}\n"
                        f"Wrote {tmp_path / 'review.xlsx'}\n")
    wb = openpyxl.load_workbook(tmp_path / "review.xlsx", rich_text=True)
    assert wb.sheetnames == ["review", "codebook", "about"]
    ws = wb["review"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [(str(x[1]), x[6]) for x in rows[1:]] == CODE_ORDER
    assert [x[0] for x in rows[1:]] == list(range(1, 8))
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:M8"
    assert ws.column_dimensions["F"].width == 70 and ws["F2"].alignment.wrap_text and not ws["B2"].alignment.wrap_text
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists == {"K2:K8": '"accept,reject,other"', "G2:G8 L2:L8": "codebook!$A$2:$A$4"}
    # the evidence is marked in the text: every rule hit of the code, as bold rich text
    text = ws["F2"].value
    marked = [block.text for block in text if not isinstance(block, str)]
    assert marked == ["Arbeitsbelastung", "Kalender ist voll"] and all(b.font.b for b in text if not isinstance(b, str))
    assert str(text) == "Ehrlich gesagt die Arbeitsbelastung. Mein Kalender ist voll, da bleibt für die Treffen kaum Luft."
    # the previous turn as context for an interview, the question for a survey answer
    assert ws["E2"].value == "I: Schön, dass Sie sich Zeit nehmen. Was hat Sie im Netzwerk am meisten gebremst?"
    assert ws["E3"].value == "Frage: hindernisse"
    assert [c.value for c in wb["codebook"]["A"]] == ["code", "huerde.zeit", "huerde.fuehrung", "methode.schulung"]
    assert wb["codebook"]["D2"].value == "Zeitmangel, hoher Zeitaufwand, Arbeitsbelastung."
    about = dict(wb["about"].iter_rows(min_row=2, values_only=True))
    assert about["run"] == fp and wb.custom_doc_props["qda_run"].value == fp
    assert "nur Regel-Kodierungen" in about["Reihenfolge"] and about["Einlesen"] == f"qda review import {run} review.xlsx"


def test_uncertainty_order_puts_the_verifiers_closest_calls_first_with_missed_units(run, tmp_path):
    add_candidates(run)
    r = export(run, tmp_path / "review.csv")
    assert r.output.startswith("9 suggestion(s): 7 coded, 2 missed?; order: uncertainty; run ")
    t = pd.read_csv(tmp_path / "review.csv", dtype=str, keep_default_na=False)
    assert pairs(t) == UNCERTAINTY_ORDER
    assert t.set_index(["segment_id", "code"]).loc[("netz_a:8", "huerde.zeit"), "suggestion"] == "missed?"
    # the evidence of a candidate the verifier turned down is marked too
    assert "«Zeit» war bei uns nie das Problem" in t.set_index(["segment_id", "code"]).loc[("netz_a:8", "huerde.zeit"), "text"]
    assert t["score"].tolist()[:3] == ["0.46", "0.55", "0.41"]


def test_uncertainty_is_the_distance_in_log_odds(run):
    # per-code thresholds differ: 0.00 against 0.15 is a clear no, 0.30 against 0.45 a close call
    write(run / "candidates.csv", "segment_id,code,score,threshold,accepted,evidence,pattern\n"
          "1,huerde.zeit,0.9999,0.5,1,Zeit,Zeit\n"
          "2,huerde.fuehrung,0.0,0.15,0,,\n"
          "4,methode.schulung,0.3,0.45,0,,\n"
          "5,huerde.zeit,0.62,0.5,1,Zeitplanung,Zeit\n")
    t = build_suggestions(load_review_run(run), "uncertainty").table
    assert pairs(t)[:4] == [("5", "huerde.zeit"), ("4", "methode.schulung"), ("2", "huerde.fuehrung"), ("1", "huerde.zeit")]


@pytest.mark.parametrize("order,expected", [
    ("code", CODE_ORDER),
    ("document", [("netz_a:2", "huerde.zeit"), ("netz_a:4", "huerde.fuehrung"), ("netz_a:6", "methode.schulung"), ("1", "huerde.zeit"),
                  ("2", "huerde.fuehrung"), ("5", "huerde.zeit"), ("5", "methode.schulung")]),
])
def test_order_by_code_or_document(run, tmp_path, order, expected):
    export(run, tmp_path / "r.csv", "--order", order)
    assert pairs(pd.read_csv(tmp_path / "r.csv", dtype=str)) == expected


def test_limit_keeps_the_first_rows_of_the_order(run, tmp_path):
    add_candidates(run)
    export(run, tmp_path / "r.csv", "--limit", "3")
    assert pairs(pd.read_csv(tmp_path / "r.csv", dtype=str)) == UNCERTAINTY_ORDER[:3]


@pytest.mark.parametrize("name", ["r.xlsx", "r.html", "r.csv"])
def test_exports_are_byte_identical(run, tmp_path, name, monkeypatch):
    import time

    export(run, tmp_path / "a" / name)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    time.sleep(1.1)  # another second on the clock must not show in the file
    export(run, tmp_path / "b" / name)
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_html_page_is_self_contained(run, tmp_path):
    export(run, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in page  # the browser may not load anything
    assert "http://" not in page and "https://" not in page and " src=" not in page
    data = json.loads(page.split('<script type="application/json" id="review-data">')[1].split("</script>")[0])
    assert data["run"] == load_review_run(run).fingerprint
    assert [(r["segment_id"], r["code"]) for r in data["rows"]] == CODE_ORDER
    first = data["rows"][0]
    assert [first["text"][s:e] for s, e in first["spans"]] == ["Arbeitsbelastung", "Kalender ist voll"]


def test_export_names_a_missing_stage_and_a_bad_extension(tmp_path):
    (tmp_path / "segments.csv").write_text("segment_id,text\n", encoding="utf-8")
    r = invoke("review", "export", tmp_path, "--out", tmp_path / "r.xlsx")
    assert r.exit_code == 1
    assert r.output == (f"Error: {tmp_path}: has no codings.csv\n"
                        "  → run 'qda code SOURCE --codebook FILE --out DIR' (or 'qda run') first and review that DIR\n")
    r = invoke("review", "export", tmp_path, "--out", tmp_path / "r.ods")
    assert r.exit_code == 1
    assert r.output == f"Error: {tmp_path / 'r.ods'}: the extension '.ods' names no review format\n  → end the file name with .xlsx, .html or .csv, or pass --format\n"
    assert not (tmp_path / "r.xlsx").exists()


# --- fingerprint --------------------------------------------------------------------------------

def test_fingerprint_follows_codebook_and_units_not_the_run_record(run):
    seg = pd.read_csv(run / "segments.csv", dtype=str, keep_default_na=False)
    fp = run_fingerprint(seg, "abc")
    assert run_fingerprint(seg, "abd") != fp
    seg2 = seg.copy()
    seg2.loc[1, "text"] = seg2.loc[1, "text"] + "!"
    assert run_fingerprint(seg2, "abc") != fp
    # qda report rewrites run.json and keeps the coding stage under "stages": same run
    before = load_review_run(run).fingerprint
    r = invoke("report", run)
    assert r.exit_code == 0, r.output
    assert json.loads((run / "run.json").read_text())["command"] == "report"
    assert load_review_run(run).fingerprint == before


# --- import: round trips ------------------------------------------------------------------------

def test_workbook_round_trip_edit_import_and_reimport(run, tmp_path):
    export(run, tmp_path / "review.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "review.xlsx", rich_text=True)
    ws = wb["review"]
    ws["K2"] = "accept"                              # netz_a:2 huerde.zeit
    ws["K4"] = "reject"                              # 5 huerde.zeit: "Zeitplanung" is no lack of time
    ws["K5"], ws["L5"] = "other", "methode.schulung"  # netz_a:4 huerde.fuehrung, for the sake of the test
    ws["M5"] = "eigentlich eher Thema Weiterbildung"
    ws["M7"] = "unsicher, später nochmal"            # a comment without a decision is skipped
    wb.save(tmp_path / "review.xlsx")
    r = invoke("review", "import", run, tmp_path / "review.xlsx", "--reviewer", "A. Yilmaz")
    assert r.exit_code == 0, r.output
    assert r.output == ("3 new, 0 changed, 0 unchanged decision(s); 1 row(s) with a comment but no decision skipped; "
                        f"reviewed.csv holds 3 decision(s) on 3 unit(s)\nWrote {run / 'reviewed.csv'}\n")
    reviewed = pd.read_csv(run / "reviewed.csv", dtype=str, keep_default_na=False)
    assert reviewed.to_dict("records") == [
        {"segment_id": "5", "code": "huerde.zeit", "decision": "reject", "corrected_code": "", "comment": "", "reviewer": "A. Yilmaz", "decided_at": NOW},
        {"segment_id": "netz_a:2", "code": "huerde.zeit", "decision": "accept", "corrected_code": "", "comment": "", "reviewer": "A. Yilmaz",
         "decided_at": NOW},
        {"segment_id": "netz_a:4", "code": "huerde.fuehrung", "decision": "other", "corrected_code": "methode.schulung",
         "comment": "eigentlich eher Thema Weiterbildung", "reviewer": "A. Yilmaz", "decided_at": NOW},
    ]
    log = pd.read_csv(run / "review" / "log.csv", dtype=str, keep_default_na=False)
    assert log["change"].tolist() == ["new"] * 3 and set(log["file"]) == {str(tmp_path / "review.xlsx")}
    record = json.loads((run / "review" / "run.json").read_text())
    assert record["command"] == "review import" and record["counts"]["new"] == 3
    # the same file again: nothing changes, nothing is written
    snapshot = tree_snapshot(run)
    r = invoke("review", "import", run, tmp_path / "review.xlsx")
    assert r.exit_code == 0
    assert r.output.startswith("Nothing new: all 3 decision(s) of ")
    assert tree_snapshot(run) == snapshot


def test_csv_round_trip_through_a_german_excel_csv(run, tmp_path):
    export(run, tmp_path / "review.csv")
    t = pd.read_csv(tmp_path / "review.csv", dtype=str, keep_default_na=False)
    t.loc[0, "decision"] = "Accept "                 # case and stray spaces are forgiven
    t.loc[2, "decision"] = "reject"
    t.loc[2, "comment"] = "Zeitplanung heißt hier Terminplanung, kein Zeitmangel"
    # German Excel saves CSV as ';'-separated cp1252
    t.to_csv(tmp_path / "entscheidungen.csv", sep=";", index=False, encoding="cp1252")
    r = invoke("review", "import", run, tmp_path / "entscheidungen.csv")
    assert r.exit_code == 0, r.output
    reviewed = read_reviewed(run / "reviewed.csv")
    assert reviewed[["segment_id", "code", "decision", "comment"]].values.tolist() == [
        ["5", "huerde.zeit", "reject", "Zeitplanung heißt hier Terminplanung, kein Zeitmangel"],
        ["netz_a:2", "huerde.zeit", "accept", ""],
    ]


def test_a_code_the_run_missed_is_added_as_a_row_of_its_own(run, tmp_path):
    export(run, tmp_path / "review.csv")
    t = pd.read_csv(tmp_path / "review.csv", dtype=str, keep_default_na=False)
    assert not ((t["segment_id"] == "netz_a:4") & (t["code"] == "methode.schulung")).any()  # not suggested
    added = t.iloc[[0]].copy().assign(segment_id="netz_a:4", code="methode.schulung", decision="accept", comment="Fortbildung übersehen")
    t.loc[0, "decision"] = "accept"
    pd.concat([t, added]).to_csv(tmp_path / "entscheidungen.csv", index=False)
    r = invoke("review", "import", run, tmp_path / "entscheidungen.csv")
    assert r.exit_code == 0, r.output
    reviewed = read_reviewed(run / "reviewed.csv")
    assert ["netz_a:4", "methode.schulung", "accept"] in reviewed[["segment_id", "code", "decision"]].values.tolist()
    labels = training_labels(reviewed)
    assert labels.set_index(["segment_id", "code"]).loc[("netz_a:4", "methode.schulung"), "label"] == 1
    r = invoke("evaluate", "--gold", run / "reviewed.csv", "--codings", run)
    assert r.exit_code == 0, r.output
    scores = pd.read_csv(run / "evaluation" / "reviewed" / "scores.csv").set_index("code")
    assert scores.loc["methode.schulung", "missed"] == 1  # a code the reviewer added is one the run missed


def test_a_changed_decision_replaces_the_old_one_and_is_logged(run, tmp_path):
    fp = load_review_run(run).fingerprint
    first = {"run": fp, "decisions": [{"segment_id": "1", "code": "huerde.zeit", "decision": "accept", "decided_at": "2024-03-01T09:00:00Z"},
                                      {"segment_id": "2", "code": "huerde.fuehrung", "decision": "accept"}]}
    (tmp_path / "a.json").write_text(json.dumps(first), encoding="utf-8")
    assert invoke("review", "import", run, tmp_path / "a.json").exit_code == 0
    first["decisions"][0].update(decision="reject", comment="Tagesgeschäft, nicht das Netzwerk", decided_at="2024-03-02T10:00:00Z")
    (tmp_path / "b.json").write_text(json.dumps(first), encoding="utf-8")
    r = invoke("review", "import", run, tmp_path / "b.json")
    assert r.output.startswith("0 new, 1 changed, 1 unchanged decision(s); reviewed.csv holds 2 decision(s) on 2 unit(s)")
    reviewed = read_reviewed(run / "reviewed.csv").set_index("segment_id")
    assert reviewed.loc["1", "decision"] == "reject" and reviewed.loc["1", "decided_at"] == "2024-03-02T10:00:00Z"
    assert reviewed.loc["2", "decided_at"] == NOW  # no time in the file: the import's
    log = pd.read_csv(run / "review" / "log.csv", dtype=str, keep_default_na=False)
    assert log[["segment_id", "decision", "change"]].values.tolist() == [["1", "accept", "new"], ["2", "accept", "new"], ["1", "reject", "changed"]]


# --- import: bad files ----------------------------------------------------------------------------

def _decided(path):
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    t.loc[0, "decision"], t.loc[1, "decision"], t.loc[2, "decision"] = "accept", "accept", "reject"
    return t


def _dup(t):
    return pd.concat([t, t.iloc[[0]]], ignore_index=True)


def _set(**cells):
    def change(t):
        for key, value in cells.items():
            col, row = key.rsplit("_", 1)
            t.loc[int(row), col] = value
        return t
    return change


ROW_PROBLEMS = [
    ("unknown unit", _set(segment_id_0="netz_b:2"), "row 2: unit 'netz_b:2' is not in the run's segments.csv"),
    ("unknown code", _set(code_1="huerde.zet"), "row 3: code 'huerde.zet' is not a code of the run's codebook (did you mean 'huerde.zeit'?)"),
    ("unknown corrected code", _set(decision_2="other", corrected_code_2="methode.schulen"),
     "row 4: corrected_code 'methode.schulen' is not a code of the run's codebook (did you mean 'methode.schulung'?)"),
    ("invalid decision", _set(decision_0="ja"), "row 2: decision 'ja' is not one of accept, reject, other"),
    ("other without a code", _set(decision_2="other"),
     "row 4: decision 'other' needs the right code in corrected_code (a code id from the codebook sheet)"),
    ("corrected code with accept", _set(corrected_code_0="methode.schulung"),
     "row 2: corrected_code 'methode.schulung' is given but the decision is 'accept'; set the decision to 'other' or clear corrected_code"),
    ("corrected code without decision", _set(corrected_code_5="huerde.zeit"),
     "row 7: corrected_code 'huerde.zeit' is given but there is no decision; set the decision to 'other' or clear corrected_code"),
    ("other with the same code", _set(decision_0="other", corrected_code_0="huerde.zeit"),
     "row 2: corrected_code 'huerde.zeit' is the suggested code itself; then the decision is 'accept'"),
    ("duplicated row", _dup, "row 9: unit 'netz_a:2' with code 'huerde.zeit' is decided again (first in row 2); keep one row"),
]


@pytest.mark.parametrize("case,change,problem", ROW_PROBLEMS, ids=[c[0] for c in ROW_PROBLEMS])
def test_bad_rows_are_refused_with_their_row_and_nothing_is_written(run, tmp_path, case, change, problem):
    export(run, tmp_path / "review.csv")
    change(_decided(tmp_path / "review.csv")).to_csv(tmp_path / "d.csv", index=False)
    before = tree_snapshot(run)
    r = invoke("review", "import", run, tmp_path / "d.csv")
    assert r.exit_code == 1
    assert r.output == (f"Error: {tmp_path / 'd.csv'} cannot be imported (1 problem):\n  {problem}\n"
                        "  → correct these rows and import the file again; nothing was written\n")
    assert tree_snapshot(run) == before


def test_every_bad_row_is_listed_at_once(run, tmp_path):
    export(run, tmp_path / "review.csv")
    t = _set(segment_id_0="netz_b:2", decision_1="ja")(_decided(tmp_path / "review.csv"))
    t.to_csv(tmp_path / "d.csv", index=False)
    r = invoke("review", "import", run, tmp_path / "d.csv")
    assert r.exit_code == 1
    assert r.output.splitlines()[:3] == [f"Error: {tmp_path / 'd.csv'} cannot be imported (2 problems):",
                                         "  row 2: unit 'netz_b:2' is not in the run's segments.csv",
                                         "  row 3: decision 'ja' is not one of accept, reject, other"]


def _other_run_csv(tmp_path, run):
    t = _decided(tmp_path / "review.csv")
    t["run"] = "0123456789abcdef"
    t.to_csv(tmp_path / "d.csv", index=False)
    return tmp_path / "d.csv"


def _other_run_xlsx(tmp_path, run):
    from openpyxl.packaging.custom import StringProperty

    export(run, tmp_path / "d.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "d.xlsx")
    wb["review"]["K2"] = "accept"
    wb.custom_doc_props = type(wb.custom_doc_props)()
    wb.custom_doc_props.append(StringProperty(name="qda_run", value="0123456789abcdef"))
    wb.save(tmp_path / "d.xlsx")
    return tmp_path / "d.xlsx"


def _other_run_json(tmp_path, run):
    doc = {"format": "qda-review-decisions", "version": 1, "run": "0123456789abcdef",
           "decisions": [{"segment_id": "1", "code": "huerde.zeit", "decision": "accept"}]}
    (tmp_path / "d.json").write_text(json.dumps(doc), encoding="utf-8")
    return tmp_path / "d.json"


def _empty(tmp_path, run):
    pd.read_csv(tmp_path / "review.csv", dtype=str, keep_default_na=False).to_csv(tmp_path / "d.csv", index=False)
    return tmp_path / "d.csv"


def _no_decision_column(tmp_path, run):
    _decided(tmp_path / "review.csv").drop(columns=["decision", "context", "text", "label"]).to_csv(tmp_path / "d.csv", index=False)
    return tmp_path / "d.csv"


def _mixed_runs(tmp_path, run):
    t = _decided(tmp_path / "review.csv")
    t.loc[3, "run"] = "0123456789abcdef"
    t.to_csv(tmp_path / "d.csv", index=False)
    return tmp_path / "d.csv"


def _broken_json(tmp_path, run):
    (tmp_path / "d.json").write_text('{"run": "x", "decisions": [', encoding="utf-8")
    return tmp_path / "d.json"


def _other_type(tmp_path, run):
    (tmp_path / "d.ods").write_bytes(b"PK")
    return tmp_path / "d.ods"


FILE_PROBLEMS = [
    ("csv of another run", _other_run_csv, "{f}: was exported from another run (run 0123456789abcdef; {run} is run {fp})\n"
     "  → import it into the run folder it was exported from, or export a review file of this run with 'qda review export {run} --out FILE' and decide there"),
    ("workbook of another run", _other_run_xlsx, "{f}: was exported from another run (run 0123456789abcdef; {run} is run {fp})\n"
     "  → import it into the run folder it was exported from, or export a review file of this run with 'qda review export {run} --out FILE' and decide there"),
    ("json of another run", _other_run_json, "{f}: was exported from another run (run 0123456789abcdef; {run} is run {fp})\n"
     "  → import it into the run folder it was exported from, or export a review file of this run with 'qda review export {run} --out FILE' and decide there"),
    ("no decisions", _empty, "{f}: holds no decision (the decision column is empty in every row)\n"
     "  → choose accept, reject or other in the decision column of the rows you reviewed, save, and import again"),
    ("no decision column", _no_decision_column, "{f}: lacks the column(s) decision (has nr, segment_id, document, speaker, code, suggestion, score, "
     "corrected_code, comment, run)\n  → import the file written by 'qda review export' (or the page's download); it needs segment_id, code and decision"),
    ("rows of two runs", _mixed_runs, "{f}: mixes rows of several runs (0123456789abcdef, {fp})\n"
     "  → import the decisions of each run into its own run folder"),
    ("broken json", _broken_json, "{f}: is not valid JSON (Expecting value: line 1 column 28 (char 27))\n  → import the JSON the review page downloads"),
    ("other file type", _other_type, "{f}: unsupported file type '.ods'\n  → import a .xlsx, .csv or .json decisions file"),
]


@pytest.mark.parametrize("case,make,message", FILE_PROBLEMS, ids=[c[0] for c in FILE_PROBLEMS])
def test_bad_files_are_refused_and_nothing_is_written(run, tmp_path, case, make, message):
    export(run, tmp_path / "review.csv")
    path = make(tmp_path, run)
    before = tree_snapshot(run)
    r = invoke("review", "import", run, path)
    assert r.exit_code == 1
    assert r.output == "Error: " + message.format(f=path, run=run, fp=load_review_run(run).fingerprint) + "\n"
    assert tree_snapshot(run) == before


# --- training labels, evaluate, report ----------------------------------------------------------

def test_training_labels_say_nothing_about_undecided_codes():
    reviewed = pd.DataFrame([
        ("u1", "huerde.zeit", "accept", ""), ("u1", "huerde.fuehrung", "reject", ""),
        ("u2", "huerde.zeit", "other", "huerde.fuehrung"),
        ("u3", "methode.schulung", "other", "huerde.zeit"), ("u3", "huerde.zeit", "reject", ""),  # an own decision beats an implied one
        ("u4", "huerde.zeit", "", ""),
    ], columns=["segment_id", "code", "decision", "corrected_code"])
    labels = training_labels(reviewed)
    assert list(labels.columns) == ["segment_id", "code", "label"] and labels["label"].dtype.kind == "i"
    assert labels.values.tolist() == [["u1", "huerde.fuehrung", 0], ["u1", "huerde.zeit", 1], ["u2", "huerde.fuehrung", 1],
                                      ["u2", "huerde.zeit", 0], ["u3", "huerde.zeit", 0], ["u3", "methode.schulung", 0]]


def _review_some(run, tmp_path):
    fp = load_review_run(run).fingerprint
    doc = {"run": fp, "decisions": [
        {"segment_id": "netz_a:2", "code": "huerde.zeit", "decision": "accept"},
        {"segment_id": "1", "code": "huerde.zeit", "decision": "accept"},
        {"segment_id": "5", "code": "huerde.zeit", "decision": "reject"},
        {"segment_id": "netz_a:4", "code": "huerde.fuehrung", "decision": "accept"},
        {"segment_id": "netz_a:6", "code": "methode.schulung", "decision": "other", "corrected_code": "huerde.zeit"},
    ]}
    (tmp_path / "d.json").write_text(json.dumps(doc), encoding="utf-8")
    r = invoke("review", "import", run, tmp_path / "d.json")
    assert r.exit_code == 0, r.output


def test_evaluate_scores_only_the_reviewed_pairs(run, tmp_path):
    _review_some(run, tmp_path)
    r = invoke("evaluate", "--gold", run / "reviewed.csv", "--codings", run)
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[0] == "6 reviewed decision(s) on 5 unit(s), method all; only reviewed pairs are scored"
    scores = pd.read_csv(run / "evaluation" / "reviewed" / "scores.csv").set_index("code")
    # huerde.zeit: 3 coded and reviewed, 2 accepted; netz_a:6 was given huerde.zeit by the reviewer (missed)
    assert scores.loc["huerde.zeit", ["predicted", "accepted", "rejected", "missed"]].tolist() == [3, 2, 1, 1]
    assert scores.loc["huerde.zeit", "precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert scores.loc["methode.schulung", ["predicted", "accepted", "rejected"]].tolist() == [1, 0, 1]
    summary = json.loads((run / "evaluation" / "reviewed" / "summary.json").read_text())
    assert summary["precision"] == pytest.approx(3 / 5) and summary["units"] == 5
    r = invoke("evaluate", "--gold", run / "reviewed.csv", "--codings", run, "--part", "test")
    assert r.exit_code == 2 and "--part splits gold files; reviewed decisions have no split (drop --part)" in r.output


def test_report_shows_the_accepted_share_per_code(run, tmp_path):
    _review_some(run, tmp_path)
    r = invoke("report", run)
    assert r.exit_code == 0, r.output
    t = pd.read_csv(run / "tables" / "durchsicht.csv").set_index("code")
    assert t.loc["huerde.zeit", "accepted_share"] == pytest.approx(0.6667, abs=1e-4)
    assert t.loc["huerde.fuehrung", ["predicted", "accepted"]].tolist() == [1, 1]
    sheet = pd.read_excel(run / "report.xlsx", sheet_name="Durchsicht")  # German sheet names and headings in the workbook
    assert sheet.set_index("Code").loc["huerde.zeit", "Anteil angenommen"] == pytest.approx(0.6667, abs=1e-4)
    page = (run / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="durchsicht">' in page and "5 Einheiten durchgesehen, 6 Entscheidungen" in page
    assert "Von 5 durchgesehenen Kodierungen wurden 3 angenommen (60 %)" in page


def test_report_without_reviews_has_no_review_section(run):
    r = invoke("report", run)
    assert r.exit_code == 0, r.output
    assert not (run / "tables" / "durchsicht.csv").exists()
    assert 'id="durchsicht"' not in (run / "report.html").read_text(encoding="utf-8")


def test_codings_of_the_fixture_are_what_the_tests_assume(coded):
    assert pairs(pd.read_csv(coded / "codings.csv", dtype=str)) == CODINGS
