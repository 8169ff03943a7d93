"""qda cluster: determinism, outputs, guidance, gold comparison, stability, bad input."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import BEISPIEL, tree_snapshot, write
from pipeline.cli import cli
from pipeline.cluster import cluster_units, compare_with_gold, remove_group_means

ARGS = [str(BEISPIEL), "--where", "question=innovationsbeispiel", "--embedding", "tfidf"]


def run(args):
    return CliRunner().invoke(cli, ["cluster", *args])


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    out = tmp_path_factory.mktemp("cl") / "a"
    r = run([*ARGS, "--categories", str(BEISPIEL / "kategorien.yaml"), "--join", str(BEISPIEL / "gold" / "innovationsbeispiele_kategorien.csv"),
             "--gold-column", "kategorie", "--stability", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_outputs_and_their_columns(clustered):
    out, output = clustered
    for name in ("clusters.csv", "categories.csv", "cluster_map.png", "cluster_map.html", "run.json", "summary.json", "gold_contingency.csv", "stability.csv"):
        assert (out / name).is_file(), name
    clusters = pd.read_csv(out / "clusters.csv", keep_default_na=False)
    assert list(clusters.columns[:4]) == ["segment_id", "cluster", "cluster_label", "probability"]
    assert "network" in clusters.columns and clusters["segment_id"].str.endswith(":innovationsbeispiel").all()
    cats = pd.read_csv(out / "categories.csv", keep_default_na=False)
    assert {"cluster", "label", "top_terms", "size", "examples"} <= set(cats.columns)
    assert any(c.startswith("share_") for c in cats.columns)
    assert cats["size"].sum() == len(clusters)
    # the guide categories appear by name
    assert "Digitale Lösungen & Standards" in set(cats["label"])
    summary = json.loads((out / "summary.json").read_text())
    assert 0 <= summary["gold"]["nmi"] <= 1 and -1 <= summary["gold"]["ari"] <= 1
    assert summary["stability"]["runs"] == 3
    assert "against 'kategorie': ARI" in output and "stability over 3 seeds" in output
    html = (out / "cluster_map.html").read_text()
    assert "<svg" in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")


def test_same_seed_same_bytes(clustered, tmp_path):
    out, _ = clustered
    again = tmp_path / "b"
    r = run([*ARGS, "--categories", str(BEISPIEL / "kategorien.yaml"), "--join", str(BEISPIEL / "gold" / "innovationsbeispiele_kategorien.csv"),
             "--gold-column", "kategorie", "--out", str(again)])
    assert r.exit_code == 0
    for name in ("clusters.csv", "categories.csv", "cluster_map.png", "cluster_map.html"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_repeated_short_answers_stay_deterministic():
    texts = ["Wiki", "Wiki", "Wiki", "Forum", "Forum", "Forum", "Kanban-Board", "Kanban-Board", "Chatbot", "Chatbot", "Chatbot", "Wiki"] * 3
    a = cluster_units(texts, embedding="tfidf", seed=3, n_clusters=3).assignments
    b = cluster_units(texts, embedding="tfidf", seed=3, n_clusters=3).assignments
    pd.testing.assert_frame_equal(a, b)


def test_removing_the_theme_centres_each_group():
    import numpy as np

    emb = np.array([[1, 0, 0], [1, 0.2, 0], [0, 1, 0], [0, 1, 0.2]], dtype=float)
    out = remove_group_means(emb, ["a", "a", "b", "b"])
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert np.allclose(out[0], -out[1], atol=1e-5)


def test_gold_comparison_is_perfect_for_identical_partitions():
    scores, table = compare_with_gold([0, 0, 1, 1, 2], ["x", "x", "y", "y", "z"])
    assert scores["ari"] == 1.0 and scores["nmi"] == 1.0 and table.shape == (3, 3)


@pytest.mark.parametrize("args,message", [
    (["--where", "question=gibtsnicht"], "the --where filter selects no unit with text"),
    (["--where", "frage=x"], "--where: no column 'frage'"),
    (["--where", "segment_id=100?:innovationsbeispiel", "--n-clusters", "20", "--embedding", "tfidf"], "cannot form 20 clusters"),
    (["--where", "question=innovationsbeispiel", "--gold-column", "kategorie"], "no column 'kategorie' (given with --gold-column)"),
])
def test_bad_input(tmp_path, args, message):
    out = tmp_path / "o"
    write(out / "clusters.csv", "alt\n")
    before = tree_snapshot(out)
    r = run([str(BEISPIEL), *args, "--out", str(out)])
    assert r.exit_code == 1
    assert message in r.output and "Traceback" not in r.output
    assert tree_snapshot(out) == before


def test_all_empty_texts():
    from pipeline.errors import QdaError

    with pytest.raises(QdaError, match="all selected texts are empty"):
        cluster_units(["", "  "], embedding="tfidf")


def test_partial_labels_and_codebook_guides():
    from pipeline.cluster import Guide

    texts = ["Neues Wiki für das Amt", "Chatbot für Bürgeranfragen", "Kanban-Board in der Bauverwaltung", "Scrum-Team gegründet",
             "Online-Terminbuchung im Bürgeramt", "Wiki für Wissen", "Neue Rollen im Team", "Formulare vereinfacht"] * 3
    labels = ["Produkt", "", "Prozess", "Organisation", "", "", "", ""] + [""] * 16
    res = cluster_units(texts, embedding="tfidf", labels=labels, seed=1, n_clusters=4)
    a = res.assignments
    assert a.loc[0, "cluster_label"] == "Produkt" and a.loc[2, "cluster_label"] == "Prozess" and a.loc[3, "cluster_label"] == "Organisation"
    guides = [Guide("Digitale Werkzeuge", "neue Software", ["Wiki", "Chatbot"]), Guide("Abläufe", "vereinfachte Verfahren", ["vereinfachen", "Terminbuchung"])]
    g = cluster_units(texts, embedding="tfidf", guides=guides, seed=1).assignments
    # seed terms label the examples they clearly match (lemmas: "vereinfacht" → vereinfachen)
    assert set(g.loc[[0, 1, 5], "cluster_label"]) == {"Digitale Werkzeuge"}
    assert set(g.loc[[4, 7], "cluster_label"]) == {"Abläufe"}
