"""The rule coder on concrete German units: negation, compounds, exclusions, gender forms,
evidence offsets, scopes; qda code and qda evaluate (the verifier: test_verifier.py)."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, ROOT, tree_snapshot, write
from pipeline.cli import cli
from pipeline.codebook import codebook_from_data, load_codebook
from pipeline.coding import code_segments
from pipeline.ingest import document_texts, ingest
from pipeline.coding import RuleMatcher
from pipeline.nlp import load_nlp

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"
V2 = ROOT / "codebooks" / "innovationsnetzwerke-v2.yaml"
GOLD = BEISPIEL / "gold"


@pytest.fixture(scope="module")
def mini():
    cb, _ = load_codebook(MINI)
    return RuleMatcher(cb), load_nlp("qda-de")


def codes_of(matcher_nlp, text):
    matcher, nlp = matcher_nlp
    return sorted({h.code for h in matcher.match_text(nlp, text)})


@pytest.mark.parametrize("text,codes", [
    # negated and hypothetical mentions are not coded ...
    ("Zeit war bei uns eigentlich nie das Problem, eher die Technik.", []),
    ("Zeit ist kein Problem.", []),
    ("Es gibt bei uns keine Schulungen.", []),
    ("Fehlende Schulungen, wenig Weiterbildung.", []),  # a missing method is not the method
    ("Wenn wir mehr Zeit hätten, wäre das schön.", []),
    ("Schulungen würden helfen.", []),
    # ... but a barrier named by what is missing is (lack_counts)
    ("Wir haben keine Zeit für so was.", ["huerde.zeit"]),
    ("Ehrlich gesagt: nicht genug Zeit.", ["huerde.zeit"]),
    # negation stops at the clause: the second clause is coded
    ("Kein Problem mit der Führung, aber die Arbeitsbelastung ist enorm.", ["huerde.zeit"]),
])
def test_negation(mini, text, codes):
    assert codes_of(mini, text) == codes


@pytest.mark.parametrize("text,codes", [
    ("Zeitmangel!", ["huerde.zeit"]),
    ("Die Arbeitszeit reicht nicht für alles.", ["huerde.zeit"]),
    ("Die Führungskräfteunterstützung fehlt.", ["huerde.fuehrung"]),
    ("Unsere Zeitung berichtet darüber.", []),  # Zeit is not a part of Zeitung
    ("Wir brauchen mehr Weiterbildungsangebote.", ["methode.schulung"]),
])
def test_compounds(mini, text, codes):
    assert codes_of(mini, text) == codes


@pytest.mark.parametrize("text,codes", [
    ("Zum Zeitpunkt der Befragung war alles ruhig.", []),
    ("Mit der Zeit wurde es besser.", []),
    ("Mit der Zeit wurde es besser, aber jetzt fehlt Zeit.", ["huerde.zeit"]),  # only the overlapping hit is removed
])
def test_exclusions(mini, text, codes):
    assert codes_of(mini, text) == codes


@pytest.mark.parametrize("text", ["Die Vorgesetzten bremsen.", "Unsere Vorgesetzte bremst.", "Der Chef winkt ab", "Die Chefinnen bremsen", "Die Amtsleitung bremst"])
def test_inflection_and_gender_forms_for_leadership(mini, text):
    assert codes_of(mini, text) == ["huerde.fuehrung"]


def test_gender_forms_match_the_base_term():
    cb, _ = codebook_from_data({"name": "g", "version": "1", "codes": [
        {"id": "kollegen", "label": "K", "definition": "Kolleg:innen", "include": ["Kollege", "Mitarbeiter"]}]})
    m, nlp = RuleMatcher(cb), load_nlp("qda-de")
    for text in ["Die Kolleg:innen helfen.", "Mitarbeiter*innen machen mit.", "Unsere KollegInnen", "Kolleginnen und Kollegen", "Mitarbeiterinnen"]:
        hits = m.match_text(nlp, text)
        assert hits and hits[0].code == "kollegen", text


def test_typos_and_missing_umlauts_with_the_reference_codebook():
    cb, _ = load_codebook(V2)
    m, nlp = RuleMatcher(cb), load_nlp("qda-de")
    assert {h.code for h in m.match_text(nlp, "Arbeitsbelastnug ist zu hoch")} == {"huerde.zeit"}
    assert {h.code for h in m.match_text(nlp, "Fordermittel laufen aus")} == {"huerde.ressourcen"}
    assert {h.code for h in m.match_text(nlp, "Datenschutzbedenken")} == {"huerde.recht"}


def test_paraphrases_in_the_reference_codebook():
    cb, _ = load_codebook(V2)
    m, nlp = RuleMatcher(cb), load_nlp("qda-de")
    assert "huerde.zeit" in {h.code for h in m.match_text(nlp, "Das läuft alles nebenher, mein Kalender ist einfach voll.")}
    assert "huerde.fuehrung" in {h.code for h in m.match_text(nlp, "Die Hausleitung winkt ab.")}


def _segments(tmp_path, text):
    f = write(tmp_path / "t.md", text)
    return ingest([str(f)]).segments


def test_codings_offsets_point_at_the_evidence(tmp_path):
    seg = _segments(tmp_path, "I: Was bremst?\nB: Ganz klar Zeitmangel. Und die Vorgesetzten bremsen.\nI: Danke.\nB: Schulungen gab es keine.\n")
    cb, _ = load_codebook(MINI)
    res = code_segments(seg, cb, use_cache=False)
    full = document_texts(seg)["t"]
    assert res.codings[["segment_id", "code", "evidence", "method"]].values.tolist() == [
        ["t:2", "huerde.zeit", "Zeitmangel", "rule"], ["t:2", "huerde.fuehrung", "Vorgesetzten", "rule"]]
    for r in res.codings.itertuples():
        assert full[r.start_char:r.end_char] == r.evidence
    # interviewer turns are not coded, and the negated Schulungen gives no coding
    assert res.wide.set_index("segment_id").loc["t:1"].sum() == 0
    assert res.wide.set_index("segment_id").loc["t:4"].sum() == 0


def test_interviewer_turns_on_request(tmp_path):
    seg = _segments(tmp_path, "I: Fehlt Ihnen die Zeit?\nB: Ja.\n")
    cb, _ = load_codebook(MINI)
    assert code_segments(seg, cb, use_cache=False).codings.empty
    assert code_segments(seg, cb, use_cache=False, code_interviewer=True).codings["segment_id"].tolist() == ["t:1"]


def test_code_scope_hard_limits_dimensions_soft_does_not(tmp_path):
    f = write(tmp_path / "u.csv", "id;hindernisse;ideen\n1;Zeitmangel, die Schulungen sind gut;Schulungen zu KI\n")
    from pipeline.ingest import IngestOptions

    dims = {"hindernisse": ["huerde"], "ideen": ["methode"]}
    cb, _ = load_codebook(MINI)
    soft = ingest([str(f)], IngestOptions(id_column="id", text_columns=["hindernisse", "ideen"], dimensions=dims)).segments
    got = code_segments(soft, cb, use_cache=False).codings[["segment_id", "code"]].values.tolist()
    assert got == [["1:hindernisse", "huerde.zeit"], ["1:hindernisse", "methode.schulung"], ["1:ideen", "methode.schulung"]]
    hard = ingest([str(f)], IngestOptions(id_column="id", text_columns=["hindernisse", "ideen"], dimensions=dims, scope="hard")).segments
    got = code_segments(hard, cb, use_cache=False).codings[["segment_id", "code"]].values.tolist()
    assert got == [["1:hindernisse", "huerde.zeit"], ["1:ideen", "methode.schulung"]]
    assert code_segments(soft, cb, use_cache=False, scope="hard").codings[["segment_id", "code"]].values.tolist() == got


def test_parse_cache_is_used_on_the_second_run(tmp_path):
    seg = _segments(tmp_path, "B: Zeitmangel.\nI: Und?\nB: Schulungen helfen.\n")
    cb, _ = load_codebook(MINI)
    first = code_segments(seg, cb, cache_dir=tmp_path / "cache")
    second = code_segments(seg, cb, cache_dir=tmp_path / "cache")
    assert (first.parse.parsed, first.parse.cached) == (2, 0)
    assert (second.parse.parsed, second.parse.cached) == (0, 2)
    pd.testing.assert_frame_equal(first.codings, second.codings)


def test_cli_code_and_evaluate_on_the_example(tmp_path):
    out = tmp_path / "k"
    r = CliRunner().invoke(cli, ["code", str(BEISPIEL), "--codebook", str(V2), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "969 units" in r.output and "codings per dimension" in r.output
    codings = pd.read_csv(out / "codings.csv", keep_default_na=False)
    assert list(codings.columns) == ["segment_id", "code", "start_char", "end_char", "evidence", "method", "pattern", "score"]
    assert not codings.duplicated(["segment_id", "code"]).any()
    wide = pd.read_csv(out / "codings_wide.csv")
    assert len(wide) == 969 and wide.drop(columns="segment_id").to_numpy().sum() == len(codings)
    record = json.loads((out / "run.json").read_text())
    assert record["codebook"]["version"] == "2.0" and record["nlp"]["name"] == "de_qda_de"
    r = CliRunner().invoke(cli, ["evaluate", "--gold", f"{GOLD / 'umfrage_gold.csv'},{GOLD / 'interviews_gold.csv'}", "--codings", str(out), "--part", "test"])
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "evaluation" / "summary.json").read_text())
    assert summary["units"] == 465
    scores = pd.read_csv(out / "evaluation" / "scores.csv")
    # the table's numbers are recomputed here from codings.csv and the gold
    gold = pd.read_csv(GOLD / "umfrage_gold.csv", keep_default_na=False)
    split = pd.read_csv(GOLD / "split.csv")
    test_ids = set(split.loc[split.part == "test", "segment_id"])
    g = {r.segment_id for r in gold.itertuples() if r.segment_id in test_ids and "huerde.zeit" in r.codes.split(";")}
    gi = pd.read_csv(GOLD / "interviews_gold.csv", keep_default_na=False)
    g |= {r.segment_id for r in gi.itertuples() if r.segment_id in test_ids and "huerde.zeit" in r.codes.split(";")}
    p = set(codings.loc[codings.code == "huerde.zeit", "segment_id"]) & (test_ids)
    row = scores.set_index("code").loc["huerde.zeit"]
    assert (row.tp, row.fp, row.fn) == (len(g & p), len(p - g), len(g - p))


def test_evaluate_rejects_gold_for_unknown_units_and_codes(tmp_path):
    out = tmp_path / "k"
    seg_file = write(tmp_path / "t.md", "B: Zeitmangel.\n")
    assert CliRunner().invoke(cli, ["code", str(seg_file), "--codebook", str(MINI), "--out", str(out)]).exit_code == 0
    gold = write(tmp_path / "gold.csv", "segment_id,codes\nt:1,huerde.zeit;huerde.geld\nt:9,huerde.zeit\n")
    before = tree_snapshot(out)
    r = CliRunner().invoke(cli, ["evaluate", "--gold", str(gold), "--codings", str(out)])
    assert r.exit_code == 1
    assert r.output == (f"Error: {gold} does not fit the coded data (2 problems):\n"
                        "  segment_id: 1 unit(s) not in the coded data: t:9\n"
                        "  codes: code(s) not in the codebook: huerde.geld\n")
    assert tree_snapshot(out) == before


def test_code_stops_on_an_invalid_codebook(tmp_path):
    bad = write(tmp_path / "bad.yaml", "name: x\nversion: 1\ncodes:\n  - id: a\n    label: A\n")
    out = tmp_path / "k"
    r = CliRunner().invoke(cli, ["code", str(BEISPIEL / "interviews" / "DVNW_koordination.txt"), "--codebook", str(bad), "--out", str(out)])
    assert r.exit_code == 1
    assert r.output == f"Error: {bad} is not a valid codebook (1 problem):\n  codes → a: missing definition (Mayring: every category needs one)\n"
    assert not out.exists()


def test_evaluate_names_the_missing_stage(tmp_path):
    r = CliRunner().invoke(cli, ["evaluate", "--gold", str(GOLD / "umfrage_gold.csv"), "--codings", str(tmp_path)])
    assert r.exit_code == 1
    assert r.output == f"Error: {tmp_path / 'codings.csv'}: not found\n  → run 'qda code ... --out DIR' first and pass that DIR to --codings\n"


def test_evaluate_shows_a_dash_where_a_score_is_undefined(tmp_path):
    # a gold code the coder never predicted has no precision: the table says "–", not "nan"
    out = tmp_path / "k"
    seg_file = write(tmp_path / "t.md", "B: Zeitmangel, und ich lerne viel von den Kolleginnen.\n")
    assert CliRunner().invoke(cli, ["code", str(seg_file), "--codebook", str(MINI), "--out", str(out)]).exit_code == 0
    assert "methode.schulung" not in set(pd.read_csv(out / "codings.csv", dtype=str)["code"])
    gold = write(tmp_path / "gold.csv", "segment_id,codes\nt:1,huerde.zeit;methode.schulung\n")
    r = CliRunner().invoke(cli, ["evaluate", "--gold", str(gold), "--codings", str(out)])
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if line.strip().startswith("methode.schulung"))
    assert row.split()[1:4] == ["1", "0", "–"] and "nan" not in r.output
