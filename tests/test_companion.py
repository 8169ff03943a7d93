"""The companion verifier: a model file next to the codebook (NAME.verifier.npz) decides the
rules' suggestions by default, only for exactly the codebook it was trained for."""

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ROOT, tree_snapshot, write
from pipeline.cli import cli
from pipeline.codebook import load_codebook
from pipeline.coding.modelfile import read_model_file
from pipeline.stages import companion_model_path

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"
V3 = ROOT / "codebooks" / "innovationsnetzwerke-v3.yaml"

# invented turns, coded by the mini codebook's definitions
TURNS = [
    ("Uns fehlt schlicht die Zeit, der Kalender ist voll.", "huerde.zeit"),
    ("Zeitmangel, wie bei allen hier.", "huerde.zeit"),
    ("Die Arbeitsbelastung ist riesig, da bleibt nix übrig.", "huerde.zeit"),
    ("Neben dem Tagesgeschäft ist dafür keine Zeit.", "huerde.zeit"),
    ("Wir sind zu wenige und die Zeit reicht nie.", "huerde.zeit"),
    ("Mit der Zeit wurde das Klima besser.", ""),
    ("Zum Zeitpunkt des Treffens war alles ruhig.", ""),
    ("Die Zeitung hat einen Artikel gebracht.", ""),
    ("Zeit war bei uns nie das Thema.", ""),
    ("Eine Zeitschiene gibt es noch nicht.", ""),
    ("Die Schulung zur KI war richtig gut.", "methode.schulung"),
    ("Die Amtsleitung winkt jedes Mal ab.", "huerde.fuehrung"),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A transcript, the mini codebook copied into a folder, and a verifier trained for it."""
    d = tmp_path_factory.mktemp("companion")
    transcript = write(d / "gespraech.md", "".join(f"I: Frage {i}?\nB: {t}\n" for i, (t, _) in enumerate(TURNS)))
    gold = write(d / "gold.csv", "segment_id,codes\n" + "".join(f"gespraech:{2 * i + 2},{c}\n" for i, (_, c) in enumerate(TURNS)))
    book = d / "buch" / "mini.yaml"
    book.parent.mkdir()
    shutil.copy(MINI, book)
    trained = d / "trainiert"
    r = CliRunner().invoke(cli, ["code", str(transcript), "--codebook", str(book), "--train", str(gold), "--out", str(trained), "--no-cache"])
    assert r.exit_code == 0, r.output
    return d, transcript, book, trained / "model.npz"


def _code(transcript, book, out, *extra):
    return CliRunner().invoke(cli, ["code", str(transcript), "--codebook", str(book), "--out", str(out), "--no-cache", *extra])


@pytest.fixture
def with_companion(setup):
    d, transcript, book, model = setup
    companion = companion_model_path(book)
    shutil.copy(model, companion)
    yield d, transcript, book, model
    companion.unlink(missing_ok=True)


def test_the_companion_path_is_next_to_the_codebook():
    assert companion_model_path(V3) == ROOT / "codebooks" / "innovationsnetzwerke-v3.verifier.npz"


def test_a_companion_decides_by_default_as_the_same_model_given_with_model(with_companion, tmp_path):
    _, transcript, book, model = with_companion
    r = _code(transcript, book, tmp_path / "default")
    assert r.exit_code == 0, r.output
    assert "verifier: mini.verifier.npz" in r.output and "--rules-only" in r.output
    r2 = _code(transcript, book, tmp_path / "explicit", "--model", str(model))
    assert r2.exit_code == 0, r2.output
    assert (tmp_path / "default" / "codings.csv").read_bytes() == (tmp_path / "explicit" / "codings.csv").read_bytes()
    record = json.loads((tmp_path / "default" / "run.json").read_text())
    assert record["model"]["file"]["companion"] is True
    assert record["model"]["file"]["sha256"] == json.loads((tmp_path / "explicit" / "run.json").read_text())["model"]["file"]["sha256"]
    assert (tmp_path / "default" / "candidates.csv").is_file()


def test_rules_only_ignores_the_companion(with_companion, setup, tmp_path):
    _, transcript, book, _ = with_companion
    r = _code(transcript, book, tmp_path / "regeln", "--rules-only")
    assert r.exit_code == 0, r.output
    assert "verifier:" not in r.output
    record = json.loads((tmp_path / "regeln" / "run.json").read_text())
    assert record["model"] is None and record["options"]["rules_only"] is True
    assert not (tmp_path / "regeln" / "candidates.csv").exists()
    # the same as coding with a codebook that has no companion at all
    bare = tmp_path / "ohne" / "mini.yaml"
    bare.parent.mkdir()
    shutil.copy(book, bare)
    assert _code(transcript, bare, tmp_path / "ohne_lauf").exit_code == 0
    assert (tmp_path / "regeln" / "codings.csv").read_bytes() == (tmp_path / "ohne_lauf" / "codings.csv").read_bytes()


def test_rules_only_with_a_model_or_training_is_a_usage_error(setup, tmp_path):
    _, transcript, book, model = setup
    r = _code(transcript, book, tmp_path / "x", "--rules-only", "--model", str(model))
    assert r.exit_code == 2 and "--rules-only codes without a verifier: leave out --model" in r.output
    r = _code(transcript, book, tmp_path / "y", "--rules-only", "--train", "gold.csv")
    assert r.exit_code == 2 and "leave out --train" in r.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_an_edited_codebook_codes_with_the_rules_and_says_why(with_companion, tmp_path):
    d, transcript, book, _ = with_companion
    edited = tmp_path / "buch" / "mini.yaml"
    edited.parent.mkdir()
    edited.write_text(book.read_text(encoding="utf-8").replace('version: "1"', 'version: "1.1"'), encoding="utf-8")
    shutil.copy(companion_model_path(book), companion_model_path(edited))
    r = _code(transcript, edited, tmp_path / "lauf")
    assert r.exit_code == 0, r.output
    assert "note: mini.verifier.npz was trained for another state of this codebook ('Mini' 1)" in r.output
    assert "the rules code alone" in r.output
    assert json.loads((tmp_path / "lauf" / "run.json").read_text())["model"] is None


def test_a_damaged_companion_is_an_error_and_writes_nothing(setup, tmp_path):
    _, transcript, book, _ = setup
    broken = tmp_path / "buch" / "mini.yaml"
    broken.parent.mkdir()
    shutil.copy(book, broken)
    companion_model_path(broken).write_bytes(b"PK\x03\x04 kaputt")
    out = tmp_path / "lauf"
    before = tree_snapshot(tmp_path)
    r = _code(transcript, broken, out)
    assert r.exit_code == 1
    assert "mini.verifier.npz: is not a qda model file" in r.output and "Traceback" not in r.output
    assert tree_snapshot(tmp_path) == before


def test_the_shipped_companion_was_trained_for_the_current_reference_codebook():
    companion = companion_model_path(V3)
    assert companion.is_file(), "codebooks/innovationsnetzwerke-v3.verifier.npz is missing: run scripts/train_companion.py"
    _, meta = read_model_file(companion)
    cb, _ = load_codebook(V3)
    assert meta["codebook"]["sha256"] == cb.sha256, (
        "the reference codebook changed after its companion verifier was trained: run scripts/train_companion.py and commit the model")
    sets = {s["name"]: s for s in meta["training"]["sets"]}
    # what it learned from, and nothing held out: no dev test rows, no dev interviews, no b halves
    assert set(sets) == {"dev survey, part=train", "own, part=a", "own-interviews, part=a", "own-survey, part=a", "own-transcripts, part=a",
                         "training-transcripts", "own-probes-2, part=a"}
    assert not any("beispiel" in s["file"] or "interviews_dev" in s["file"] for s in sets.values())


def test_the_shipped_companion_is_what_its_script_trains():
    if not (ROOT.parent / "shared" / "dev" / "survey_dev.csv").is_file():
        pytest.skip("../shared/dev is not here: the companion is trained on the dev survey's train part")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_companion.py"), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "identical to a fresh training" in r.stdout or "equal to a fresh training up to floating-point rounding" in r.stdout


def test_the_check_tells_rounding_from_a_real_difference(tmp_path):
    """Another processor may change a coefficient's last bits: the check accepts that, but not
    a coefficient that moved, nor changed metadata."""
    import numpy as np

    sys.path.insert(0, str(ROOT / "scripts"))
    from train_companion import rounding_difference

    from pipeline.coding.modelfile import load_model, save_model

    shipped = companion_model_path(V3)
    cb, _ = load_codebook(V3)

    def altered(name, change):
        model = load_model(shipped, cb)
        change(model)
        save_model(model, tmp_path / name)
        return tmp_path / name

    def nudge(by):
        def change(model):
            model.coef_[0] = model.coef_[0] + by * np.sign(model.coef_[0] + 1e-300)
        return change

    problem, largest = rounding_difference(altered("rounded.npz", nudge(1e-13)), shipped)
    assert problem is None and 0 < largest < 1e-12
    problem, _ = rounding_difference(altered("moved.npz", nudge(1e-4)), shipped)
    assert problem and problem.startswith("coef_000")

    def renamed(model):
        model.provenance_ = {**model.provenance_, "training": {**model.provenance_["training"], "units": 1}}
    problem, _ = rounding_difference(altered("meta.npz", renamed), shipped)
    assert problem == "metadata differs: training"


def test_the_report_says_who_decided_the_codings(with_companion, tmp_path):
    _, transcript, book, model = with_companion
    for name, extra, said in [("mit", [], "Regeln schlagen vor, das Prüfmodell des Kodierleitfadens entscheidet (mini.verifier.npz)"),
                              ("ohne", ["--rules-only"], "nur die Regeln des Kodierleitfadens"),
                              ("modell", ["--model", str(model)], "Regeln schlagen vor, ein Prüfmodell entscheidet (model.npz)")]:
        assert _code(transcript, book, tmp_path / name, *extra).exit_code == 0
        r = CliRunner().invoke(cli, ["report", str(tmp_path / name)])
        assert r.exit_code == 0, r.output
        assert f"<dt>Entscheidung</dt><dd>{said}</dd>" in (tmp_path / name / "report.html").read_text(encoding="utf-8")
