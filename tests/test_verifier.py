"""The verifier: estimator contract, fit/predict, the data-only model file and what it refuses."""

import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.base import clone

from conftest import ROOT, tree_snapshot, write
from pipeline.cli import cli
from pipeline.codebook import load_codebook
from pipeline.coding import code_segments
from pipeline.coding.coder import assess_segments
from pipeline.coding.features import unit_data
from pipeline.coding.modelfile import load_model, save_model
from pipeline.coding.verifier import Verifier, gold_labels, label_matrix, train_verifier
from pipeline.errors import InputError
from pipeline.ingest import ingest

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"

# B: turns of an invented interview; the gold below codes them by the mini codebook's definitions
TURNS = [
    ("Ganz ehrlich, uns fehlt die Zeit, der Kalender ist voll.", "huerde.zeit"),
    ("Zeitmangel, wie überall.", "huerde.zeit"),
    ("Die Arbeitsbelastung ist enorm, da bleibt nichts übrig.", "huerde.zeit"),
    ("Neben dem Tagesgeschäft schaff ich das nicht, keine Zeit.", "huerde.zeit"),
    ("Wir sind zu wenige, und die Zeit reicht hinten und vorne nicht.", "huerde.zeit"),
    ("Mit der Zeit wurde es besser, ehrlich gesagt.", ""),
    ("Zum Zeitpunkt der Umfrage lief alles gut.", ""),
    ("Die Zeitung hat über uns berichtet.", ""),
    ("Zeit war nie das Problem bei uns.", ""),
    ("Die Schulungen zu KI waren richtig gut.", "methode.schulung"),
    ("Ich hab zwei Kurse beim Campus gemacht.", "methode.schulung"),
    ("Die Weiterbildung zur Datenanalyse hat viel gebracht.", "methode.schulung"),
    ("Ein E-Learning zum Datenschutz haben alle absolviert.", "methode.schulung"),
    ("Schulungen gab es keine, leider.", ""),
    ("Der Chef bremst, wo er kann.", "huerde.fuehrung"),
    ("Unsere Vorgesetzte hält nichts davon.", "huerde.fuehrung"),
    ("Die Amtsleitung winkt immer ab.", "huerde.fuehrung"),
    ("Die Führungskräfte ziehen nicht mit.", "huerde.fuehrung"),
    ("Es läuft eigentlich alles rund.", ""),
    ("Wir treffen uns monatlich im Rathaus.", ""),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("verifier")
    text = "".join(f"I: Frage {i}?\nB: {t}\n" for i, (t, _) in enumerate(TURNS))
    f = write(d / "gespraech.md", text)
    seg = ingest([str(f)]).segments
    gold_rows = [f"gespraech:{2 * i + 2},{codes}" for i, (_, codes) in enumerate(TURNS)]
    gold = write(d / "gold.csv", "segment_id,codes\n" + "\n".join(gold_rows) + "\n")
    cb, _ = load_codebook(MINI)
    return d, f, seg, gold, cb


def _fit(seg, cb, **params):
    gold = {f"gespraech:{2 * i + 2}": ({c} if c else set()) for i, (_, c) in enumerate(TURNS)}
    labels = gold_labels(gold, [c.id for c in cb.codable()])
    return train_verifier(seg, labels, cb, use_cache=False, **params)


def test_estimator_contract():
    v = Verifier(embedding="none", C=0.5, cv=2, min_positive=2, random_state=3)
    assert clone(v).get_params() == v.get_params() == {"embedding": "none", "lexical": True, "C": 0.5, "cv": 2, "cv_repeats": 5, "min_positive": 2,
                                                       "random_state": 3}
    assert v.set_params(C=2.0) is v and v.C == 2.0
    assert not any(k.endswith("_") for k in vars(v))  # nothing fitted in __init__


def test_fit_predict_and_determinism(corpus):
    _, _, seg, _, cb = corpus
    a, b = _fit(seg, cb), _fit(seg, cb)
    assert a.modes_[a.codes_.index("huerde.zeit")] == "model"
    assess = assess_segments(seg, cb, use_cache=False)
    p = a.predict_proba(unit_data(assess))
    assert p.shape == (len(assess.idx), len(a.codes_))
    np.testing.assert_array_equal(p, b.predict_proba(unit_data(assess)))
    assert ((p >= 0) & (p <= 1)).all()


def test_unknown_labels_are_not_negatives():
    Y = label_matrix(["u1", "u2"], pd.DataFrame({"segment_id": ["u1", "u2"], "code": ["a", "b"], "label": [1, 0]}), ["a", "b"])
    assert Y.tolist() == [[1, -1], [-1, 0]]


def test_too_few_examples_keep_the_rules(corpus):
    _, _, seg, _, cb = corpus
    v = _fit(seg, cb)
    # the mini codebook's codes without training examples are decided by the rules
    assert all(m == "rules" for c, m in zip(v.codes_, v.modes_) if v.n_labelled_[c]["positive"] < v.min_positive)


def test_model_file_round_trip_is_exact_and_byte_identical(corpus, tmp_path):
    _, _, seg, _, cb = corpus
    v = _fit(seg, cb)
    save_model(v, tmp_path / "a.npz")
    save_model(_fit(seg, cb), tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    w = load_model(tmp_path / "a.npz", cb)
    r1 = code_segments(seg, cb, model=v, use_cache=False)
    r2 = code_segments(seg, cb, model=w, use_cache=False)
    pd.testing.assert_frame_equal(r1.codings, r2.codings)
    pd.testing.assert_frame_equal(r1.candidates, r2.candidates)


def test_a_model_for_another_codebook_is_refused(corpus, tmp_path):
    _, _, seg, _, cb = corpus
    save_model(_fit(seg, cb), tmp_path / "m.npz")
    other = write(tmp_path / "anders.yaml", MINI.read_text(encoding="utf-8").replace('version: "1"', 'version: "2"'))
    cb2, _ = load_codebook(other)
    with pytest.raises(InputError, match="was trained for the codebook 'Mini' 1"):
        load_model(tmp_path / "m.npz", cb2)


def test_a_changed_model_file_is_refused(corpus, tmp_path):
    _, _, seg, _, cb = corpus
    save_model(_fit(seg, cb), tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as z:
        entries = {n: z.read(n) for n in z.namelist()}
    arr = np.load(__import__("io").BytesIO(entries["intercept.npy"]))
    arr[0] += 5.0  # someone makes a code fire everywhere
    buf = __import__("io").BytesIO()
    np.save(buf, arr)
    entries["intercept.npy"] = buf.getvalue()
    with zipfile.ZipFile(tmp_path / "t.npz", "w") as z:
        for n, data in entries.items():
            z.writestr(n, data)
    with pytest.raises(InputError, match="was changed after it was written"):
        load_model(tmp_path / "t.npz", cb)


class _Boom:
    """Unpickling this object would create a file: the proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_model_file_crafted_to_run_code_runs_nothing(corpus, tmp_path):
    _, _, _, _, cb = corpus
    marker = tmp_path / "pwned.txt"
    (tmp_path / "model.npz").write_bytes(pickle.dumps(_Boom(marker)))
    with pytest.raises(InputError, match="is not a qda model file"):
        load_model(tmp_path / "model.npz", cb)
    # an .npz whose array is a pickled object is not opened either
    np.savez(tmp_path / "objekt.npz", meta=np.array([_Boom(marker)], dtype=object))
    with pytest.raises(InputError, match="holds something other than plain arrays"):
        load_model(tmp_path / "objekt.npz", cb)
    assert not marker.exists()


def test_random_bytes_are_refused(corpus, tmp_path):
    _, _, _, _, cb = corpus
    (tmp_path / "model.npz").write_bytes(np.random.RandomState(0).bytes(2048))
    with pytest.raises(InputError, match="is not a qda model file"):
        load_model(tmp_path / "model.npz", cb)


def test_cli_train_then_model(corpus, tmp_path):
    _, f, _, gold, _ = corpus
    out1, out2 = tmp_path / "k1", tmp_path / "k2"
    r = CliRunner().invoke(cli, ["code", str(f), "--codebook", str(MINI), "--train", str(gold), "--out", str(out1), "--no-cache"])
    assert r.exit_code == 0, r.output
    assert (out1 / "model.npz").is_file() and (out1 / "candidates.csv").is_file()
    record = json.loads((out1 / "run.json").read_text())
    assert record["model"]["model"] == "Verifier" and record["model"]["training"]["sha256"]
    assert record["model"]["codes"]["huerde.zeit"]["mode"] == "model"
    r = CliRunner().invoke(cli, ["code", str(f), "--codebook", str(MINI), "--model", str(out1 / "model.npz"), "--out", str(out2), "--no-cache"])
    assert r.exit_code == 0, r.output
    assert (out1 / "codings.csv").read_bytes() == (out2 / "codings.csv").read_bytes()
    scores = pd.read_csv(out2 / "codings.csv")["score"]
    assert scores.between(0, 1).all()


def test_cli_refuses_a_foreign_model_and_writes_nothing(corpus, tmp_path):
    _, f, _, _, _ = corpus
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"\x80\x04not a model")
    out = tmp_path / "k"
    before = tree_snapshot(tmp_path)
    r = CliRunner().invoke(cli, ["code", str(f), "--codebook", str(MINI), "--model", str(bad), "--out", str(out)])
    assert r.exit_code == 1
    assert f"Error: {bad}: is not a qda model file" in r.output and "Traceback" not in r.output
    assert tree_snapshot(tmp_path) == before


def test_training_from_reviewed_decisions_uses_only_decided_pairs(corpus, tmp_path):
    from pipeline.stages import training_labels

    _, _, seg, _, cb = corpus
    reviewed = write(tmp_path / "reviewed.csv", "segment_id,code,decision,corrected_code,comment,reviewer,decided_at\n"
                     "gespraech:2,huerde.zeit,accept,,,,\ngespraech:12,huerde.zeit,reject,,,,\ngespraech:4,huerde.fuehrung,other,huerde.zeit,,,\n")
    lab = training_labels(str(reviewed), seg, cb)
    got = sorted(map(tuple, lab[["segment_id", "code", "label"]].values.tolist()))
    assert got == [("gespraech:12", "huerde.zeit", 0), ("gespraech:2", "huerde.zeit", 1), ("gespraech:4", "huerde.fuehrung", 0), ("gespraech:4", "huerde.zeit", 1)]


def test_repeated_folds_steady_the_threshold():
    # one draw of three folds over a few dozen positives moves a code's threshold a grid step or
    # two; averaging the F1 curves of five draws moves it less from seed to seed
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 5))
    y = (X[:, 0] + rng.normal(scale=1.5, size=150) > 0.8).astype(int)
    def spread(repeats):
        found = [Verifier(cv_repeats=repeats, random_state=seed)._threshold(LogisticRegression(), X, y)[0] for seed in range(12)]
        return float(np.std(found))
    assert spread(5) < spread(1)
    v = Verifier(cv_repeats=5, random_state=0)
    assert v._threshold(LogisticRegression(), X, y) == v._threshold(LogisticRegression(), X, y)  # deterministic


def test_f_beta_and_the_tie_rule():
    from pipeline.coding.verifier import THRESHOLDS, _best, _f_beta

    counts = np.array([[8, 2, 4], [0, 3, 5]], dtype=float)  # tp, fp, fn
    np.testing.assert_allclose(_f_beta(counts, 1.0), [16 / 22, 0.0])
    np.testing.assert_allclose(_f_beta(counts, 0.5), [10 / 13, 0.0])  # (1.25·8) / (1.25·8 + 0.25·4 + 2)
    curve = np.zeros(len(THRESHOLDS))
    curve[[3, 4, 5]] = 1.0
    assert _best(curve) == THRESHOLDS[4]  # the middle of equally good thresholds


def test_precision_thresholds_are_chosen_from_the_same_folds():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + rng.normal(scale=1.2, size=200) > 0.5).astype(int)
    f1, precise = Verifier(random_state=0)._threshold(LogisticRegression(), X, y)
    # weighing precision twice as much never lowers the threshold on a monotone score
    assert precise >= f1 and (f1, precise) != (0.5, 0.5)


def test_favour_precision_codes_with_the_precision_thresholds(corpus, tmp_path):
    _, f, _, gold, _ = corpus
    runs = {}
    for favour in ("balanced", "precision"):
        out = tmp_path / favour
        r = CliRunner().invoke(cli, ["code", str(f), "--codebook", str(MINI), "--train", str(gold), "--favour", favour, "--out", str(out), "--no-cache"])
        assert r.exit_code == 0, r.output
        runs[favour] = out
    record = json.loads((runs["precision"] / "run.json").read_text())
    assert record["options"]["favour"] == "precision" and record["model"]["favour"] == "precision"
    per_code = record["model"]["codes"]
    cand = pd.read_csv(runs["precision"] / "candidates.csv")
    for code, thr in zip(cand["code"], cand["threshold"]):
        assert thr == per_code[code]["threshold_precision"]
    assert (cand["accepted"] == (cand["score"] >= cand["threshold"]).astype(int)).all()
    # higher thresholds: the precision run's codings are among the balanced run's
    pairs = {k: set(map(tuple, pd.read_csv(v / "codings.csv")[["segment_id", "code"]].values.tolist())) for k, v in runs.items()}
    assert all(per_code[c]["threshold_precision"] >= per_code[c]["threshold"] for c in per_code)
    assert pairs["precision"] <= pairs["balanced"]


def test_a_model_saved_without_precision_thresholds_says_so(corpus, tmp_path):
    _, f, seg, _, cb = corpus
    v = _fit(seg, cb)
    v.precision_thresholds_ = None  # as a file from before qda chose them
    save_model(v, tmp_path / "alt.npz")
    w = load_model(tmp_path / "alt.npz", cb)
    assert w.precision_thresholds_ is None
    code_segments(seg, cb, model=w, use_cache=False)  # the balanced default still works
    out = tmp_path / "k"
    r = CliRunner().invoke(cli, ["code", str(f), "--codebook", str(MINI), "--model", str(tmp_path / "alt.npz"), "--favour", "precision",
                                 "--out", str(out), "--no-cache"])
    assert r.exit_code == 1 and "saved before qda chose thresholds for precision" in r.output and "Traceback" not in r.output
    assert not out.exists()


@pytest.mark.parametrize("extra,message", [(["--rules-only"], "leave it out with --rules-only"),
                                           (["--threshold", "0.4"], "leave it out with --threshold")])
def test_favour_needs_the_verifiers_own_thresholds(corpus, tmp_path, extra, message):
    _, f, _, _, _ = corpus
    r = CliRunner().invoke(cli, ["code", str(f), "--codebook", str(MINI), "--favour", "precision", *extra, "--out", str(tmp_path / "k")])
    assert r.exit_code == 2 and message in r.output


def test_the_verifier_keeps_at_most_max_codes_per_unit(corpus):
    import dataclasses

    _, _, seg, _, cb = corpus
    model = _fit(seg, cb)
    capped = dataclasses.replace(cb, matching=dataclasses.replace(cb.matching, max_codes=1))
    # threshold 0: the verifier accepts every code it scores, more than the cap allows
    res = code_segments(seg, capped, model=model, threshold=0.0, use_cache=False)
    per_unit = res.codings.groupby("segment_id")["code"].count()
    assert per_unit.max() == 1 and len(per_unit) == len(res.candidates["segment_id"].unique())
    cand = res.candidates
    over = cand[cand["status"] == "cap"]
    assert len(over) and (over["accepted"] == 0).all()
    # the one kept is the most probable of its unit (no question names a dimension here)
    kept = cand[cand["accepted"] == 1].set_index("segment_id")["score"]
    assert (kept >= cand.groupby("segment_id")["score"].max().reindex(kept.index)).all()
    # uncapped, the same verifier gives some unit more than one code
    assert code_segments(seg, cb, model=model, threshold=0.0, use_cache=False).codings.groupby("segment_id")["code"].count().max() > 1
