"""The library face (pipeline.api) called directly; the options model (command line > corpus.yaml
> defaults, and run.json's option_sources); CLI paths of qda run, code, report and cluster."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT, write

from pipeline import api
from pipeline.cli import cli
from pipeline.errors import QdaError, UsageError
from pipeline.ingest import IngestOptions
from pipeline.options import CodingOptions, option_sources

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"

# an invented interview; B speaks two labelled paragraphs in a row (one turn, two paragraphs)
GESPRAECH = (
    "I: Wie läuft die Arbeit im Netzwerk?\n\n"
    "B: Uns fehlt die Zeit, der Kalender ist voll.\n\n"
    "B: Die Schulungen zu KI waren trotzdem gut, ich hab zwei Kurse gemacht.\n\n"
    "I: Und was sagt die Führung?\n\n"
    "B: Der Chef bremst, wo er kann. Die Amtsleitung winkt ab.\n\n"
    "I: Gab es Weiterbildung?\n\n"
    "B: Ein E-Learning zum Datenschutz, mehr nicht. Die Arbeitsbelastung ist enorm.\n"
)

ANSWERS = [
    "Uns fehlt die Zeit für das Netzwerk.", "Die Arbeitsbelastung ist zu hoch.", "Mein Kalender ist voll, leider.",
    "Zeitmangel im Tagesgeschäft.", "Keine Zeit neben der Arbeit.", "Der Chef bremst jede Idee.",
    "Die Führungskräfte ziehen nicht mit.", "Die Amtsleitung winkt immer ab.", "Unser Vorgesetzter hält nichts davon.",
    "Der Chef sagt, das bringt nichts.",
]


def run(args):
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QDA_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def corpus(tmp_path):
    """A corpus folder whose corpus.yaml asks for paragraphs."""
    folder = tmp_path / "korpus"
    write(folder / "gespraech.md", GESPRAECH)
    write(folder / "corpus.yaml", "name: probe\nsources:\n  - path: '*.md'\n    kind: interview\n    unit: paragraph\n")
    return folder


def record(folder):
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


# --- the options model ------------------------------------------------------------------------

def test_an_explicit_unit_turn_wins_over_corpus_yaml(corpus, tmp_path):
    r = run(["ingest", str(corpus), "--out", str(tmp_path / "absaetze")])
    assert r.exit_code == 0, r.output
    paragraphs = pd.read_csv(tmp_path / "absaetze" / "segments.csv")
    assert paragraphs["speaker"].tolist() == ["I", "B", "B", "I", "B", "I", "B"]
    assert record(tmp_path / "absaetze")["option_sources"]["unit"] == "corpus"

    r = run(["ingest", str(corpus), "--unit", "turn", "--out", str(tmp_path / "turns")])
    assert r.exit_code == 0, r.output
    turns = pd.read_csv(tmp_path / "turns" / "segments.csv")
    assert turns["speaker"].tolist() == ["I", "B", "I", "B", "I", "B"]
    assert turns["text"].iloc[1] == "Uns fehlt die Zeit, der Kalender ist voll.\nDie Schulungen zu KI waren trotzdem gut, ich hab zwei Kurse gemacht."
    rec = record(tmp_path / "turns")
    assert rec["options"]["unit"] == "turn" and rec["option_sources"]["unit"] == "cli"


def test_the_library_tells_an_explicit_unit_from_none(corpus, tmp_path):
    given = api.ingest([str(corpus)], tmp_path / "a", IngestOptions(unit="turn"))
    unset = api.ingest([str(corpus)], tmp_path / "b", IngestOptions())
    assert (given.units, unset.units) == (6, 7)
    assert record(tmp_path / "b")["options"]["unit"] == "turn"  # the default, recorded as before


def test_option_sources_name_cli_env_corpus_and_default():
    options = {"sources": ["k"], "unit": "turn", "seed": 42, "max_unzipped_mb": 3.0, "cache": True, "workers": 1}
    raw = {"unit": None, "seed": None, "max_unzipped_mb": 3.0, "cache": False, "workers": 2}
    assert option_sources(options, raw, corpus={"unit"}, origins={"max_unzipped_mb": "env"}) == {
        "sources": "cli", "unit": "corpus", "seed": "default", "max_unzipped_mb": "env", "cache": "default", "workers": "cli"}


def test_an_environment_variable_is_recorded_as_such(corpus, tmp_path):
    r = CliRunner().invoke(cli, ["ingest", str(corpus), "--out", str(tmp_path / "o")], env={"QDA_MAX_UNZIPPED_MB": "64"})
    assert r.exit_code == 0, r.output
    rec = record(tmp_path / "o")
    assert rec["options"]["max_unzipped_mb"] == 64.0 and rec["option_sources"]["max_unzipped_mb"] == "env"


# --- the library face, called directly --------------------------------------------------------

def test_run_pipeline_without_clustering(corpus, tmp_path):
    events = []
    res = api.run_pipeline(corpus, codebook=MINI, out_dir=tmp_path / "lauf", cluster=False, coding=CodingOptions(no_cache=True), on_event=events.append)
    out = tmp_path / "lauf"
    for name in ("segments.csv", "codings.csv", "codings_wide.csv", "evidence.csv", "report.html", "run.json"):
        assert (out / name).is_file(), name
    assert not (out / "cluster").exists()
    assert [e.text for e in events if e.text.startswith("[")] == [
        f"[1/4] ingest {corpus}", f"[2/4] code with Mini 1 ({MINI})", "[3/4] cluster: skipped (--no-cluster)", "[4/4] report"]
    codes = set(pd.read_csv(out / "codings.csv")["code"])
    assert codes == {"huerde.zeit", "huerde.fuehrung", "methode.schulung"}
    assert res.summary["codings"] == len(pd.read_csv(out / "codings.csv"))
    assert [line.text for line in res.lines] == [f"Run folder: {out}", f"Report: {out / 'report.html'}"]
    rec = record(out)
    assert rec["options"]["cluster"] is False and rec["options"]["seed"] == 42
    assert {k: rec["option_sources"][k] for k in ("folder", "codebook", "cluster", "seed", "cache", "unit")} == {
        "folder": "cli", "codebook": "cli", "cluster": "cli", "seed": "default", "cache": "cli", "unit": "corpus"}


def test_library_errors_are_qda_errors_not_click_exceptions(corpus, tmp_path):
    with pytest.raises(UsageError, match="--n-clusters has no meaning with --guide-codebook"):
        api.cluster([str(corpus)], tmp_path / "c", api.ClusterOptions(guide_codebook=MINI, n_clusters=3))
    with pytest.raises(UsageError, match="agreement needs at least two coders' files"):
        api.agreement([str(corpus / "gespraech.md")])
    with pytest.raises(QdaError, match="not found"):
        api.evaluate(str(corpus / "gold.csv"), tmp_path / "nirgends")
    assert not (tmp_path / "c").exists()


def test_codebook_functions_return_text_or_write_it(tmp_path):
    shown = api.show_codebook(MINI)
    assert shown.path is None and "huerde.zeit" in shown.text and "Zeitmangel" not in shown.text.split("huerde.fuehrung")[1]
    diff = api.diff_codebooks(MINI, MINI, fmt="json", out_file=tmp_path / "d.json")
    assert diff.text is None and json.loads((tmp_path / "d.json").read_text(encoding="utf-8")) == json.loads(api.diff_codebooks(MINI, MINI, fmt="json").text)
    checked = api.validate_codebook(MINI)
    assert checked.counts["codes"] == 5 and checked.lines[-1].text.startswith(f"{MINI}: valid — Mini 1")


# --- CLI paths --------------------------------------------------------------------------------

def test_qda_run_picks_the_example_corpus_the_newest_codebook_and_its_folder(tmp_path, monkeypatch):
    write(tmp_path / "corpora" / "beispiel" / "gespraech.md", GESPRAECH)
    mini = MINI.read_text(encoding="utf-8")
    write(tmp_path / "codebooks" / "mini-v2.yaml", mini.replace('version: "1"', 'version: "2"'))
    write(tmp_path / "codebooks" / "mini-v10.yaml", mini.replace('version: "1"', 'version: "10"'))
    monkeypatch.chdir(tmp_path)
    r = run(["run", "--no-cluster"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "outputs" / "beispiel-10"
    assert r.output.rstrip().endswith("Report: outputs/beispiel-10/report.html")
    assert "[2/4] code with Mini 10 (codebooks/mini-v10.yaml)" in r.output
    rec = record(out)
    assert rec["options"]["folder"] == "corpora/beispiel" and rec["options"]["codebook"] == "codebooks/mini-v10.yaml"
    assert rec["option_sources"]["folder"] == rec["option_sources"]["codebook"] == "default"
    assert (out / "report.html").is_file() and not (out / "cluster").exists()


def test_qda_code_takes_the_newest_codebook_as_qda_run_does(tmp_path, monkeypatch):
    write(tmp_path / "daten" / "gespraech.md", GESPRAECH)
    mini = MINI.read_text(encoding="utf-8")
    write(tmp_path / "codebooks" / "mini-v2.yaml", mini.replace('version: "1"', 'version: "2"'))
    write(tmp_path / "codebooks" / "mini-v10.yaml", mini.replace('version: "1"', 'version: "10"'))
    monkeypatch.chdir(tmp_path)
    r = run(["code", "daten", "--out", "kodiert"])
    assert r.exit_code == 0, r.output
    rec = record(tmp_path / "kodiert")
    assert rec["options"]["codebook"] == "codebooks/mini-v10.yaml" and rec["codebook"]["version"] == "10"


def test_qda_run_quiet_prints_only_where_the_report_is_and_records_the_embedding(corpus, tmp_path):
    r = run(["run", str(corpus), "--codebook", str(MINI), "--out", str(tmp_path / "lauf"), "--no-cluster", "-q", "--embedding", "tfidf"])
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [f"Run folder: {tmp_path / 'lauf'}", f"Report: {tmp_path / 'lauf' / 'report.html'}"]
    rec = record(tmp_path / "lauf")
    assert rec["options"]["embedding"] == "tfidf" and rec["option_sources"]["embedding"] == "cli"


def test_train_in_run_then_model_in_code_gives_the_same_codings(corpus, tmp_path):
    turns = ["gespraech:2", "gespraech:3", "gespraech:5", "gespraech:7"]
    gold = write(tmp_path / "gold.csv", "segment_id,codes\n" + "\n".join(
        f"{s},{c}" for s, c in zip(turns, ["huerde.zeit", "methode.schulung", "huerde.fuehrung", "methode.schulung;huerde.zeit"])) + "\n")
    r = run(["run", str(corpus), "--codebook", str(MINI), "--train", str(gold), "--no-cluster", "--out", str(tmp_path / "trainiert")])
    assert r.exit_code == 0, r.output
    assert "training the verifier on 4 labelled units" in r.output
    model = tmp_path / "trainiert" / "model.npz"
    assert model.is_file() and record(tmp_path / "trainiert")["model"]["model"] == "Verifier"
    r = run(["code", str(corpus), "--codebook", str(MINI), "--model", str(model), "--out", str(tmp_path / "angewandt")])
    assert r.exit_code == 0, r.output
    rec = record(tmp_path / "angewandt")
    assert rec["options"]["model"] == str(model) and rec["option_sources"]["model"] == "cli"
    assert (tmp_path / "trainiert" / "codings.csv").read_bytes() == (tmp_path / "angewandt" / "codings.csv").read_bytes()


def test_two_workers_code_as_one(tmp_path):
    # parsing forks only for 2,000 texts or more: 2,000 distinct short answers
    rows = [f'{i},"{ANSWERS[i % len(ANSWERS)]} Runde {i // len(ANSWERS)}."' for i in range(2000)]
    survey = write(tmp_path / "umfrage.csv", "id,hindernisse\n" + "\n".join(rows) + "\n")
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        r = run(["code", str(survey), "--codebook", str(MINI), "--workers", workers, "--no-cache", "-q", "--out", str(out)])
        assert r.exit_code == 0, r.output
        outs.append(out)
    codings = (outs[0] / "codings.csv").read_bytes()
    assert len(pd.read_csv(outs[0] / "codings.csv")) >= 2000
    assert codings == (outs[1] / "codings.csv").read_bytes()
    assert record(outs[1])["parse"]["parsed"] == 2000  # enough to fork
    assert record(outs[1])["options"]["workers"] == 2 and record(outs[0])["option_sources"]["workers"] == "cli"


def test_qda_report_writes_the_report_of_a_coded_run(corpus, tmp_path):
    coded = tmp_path / "kodiert"
    assert run(["code", str(corpus), "--unit", "turn", "--codebook", str(MINI), "--out", str(coded)]).exit_code == 0
    r = run(["report", str(coded)])
    assert r.exit_code == 0, r.output
    assert r.output.rstrip() == f"Report: {coded / 'report.html'}"
    for name in ("report.html", "report.xlsx", "tables/haeufigkeiten.csv", "tables/zitate.csv", "run.json"):
        assert (coded / name).is_file(), name
    html = (coded / "report.html").read_text(encoding="utf-8")
    for label in ("Zeit", "Führung", "Schulung"):
        assert label in html
    assert "<blockquote>Der <mark>Chef</mark> bremst, wo er kann." in html  # a quote of Führung, its evidence marked
    rec = record(coded)
    assert rec["command"] == "report" and rec["codebook"]["name"] == "Mini" and "code" in rec["stages"]


def test_qda_cluster_guided_by_a_codebook_dimension(tmp_path):
    rows = [f'{i},"{a}"' for i, a in enumerate(ANSWERS * 2)]
    survey = write(tmp_path / "umfrage.csv", "id,hindernisse\n" + "\n".join(rows) + "\n")
    out = tmp_path / "karte"
    r = run(["cluster", str(survey), "--embedding", "tfidf", "--guide-codebook", str(MINI), "--guide-dimension", "huerde", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("clustering 20 unit(s), guided by --guide-codebook (tfidf embeddings)")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["method"] == "guided" and summary["categories"] == ["Zeit", "Führung"]
    clusters = pd.read_csv(out / "clusters.csv", keep_default_na=False)
    assert set(clusters["cluster_label"]) <= {"Zeit", "Führung", "Sonstige / nicht zugeordnet"}
    rec = record(out)
    assert rec["options"]["guide_dimension"] == "huerde" and rec["options"]["seed"] == 42
    assert {k: rec["option_sources"][k] for k in ("guide_codebook", "guide_dimension", "embedding", "seed")} == {
        "guide_codebook": "cli", "guide_dimension": "cli", "embedding": "cli", "seed": "default"}


def test_code_records_the_scope_given_and_where_it_came_from(corpus, tmp_path):
    # the coding option --scope was overwritten in run.json by the ingest options' scope (None)
    api.code([str(corpus)], MINI, tmp_path / "hart", CodingOptions(scope="hard"))
    rec = record(tmp_path / "hart")
    assert rec["options"]["scope"] == "hard" and rec["option_sources"]["scope"] == "cli"
    api.code([str(corpus)], MINI, tmp_path / "offen")
    assert record(tmp_path / "offen")["option_sources"]["scope"] == "default"
