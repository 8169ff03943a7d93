"""qda cluster: outputs and their columns, determinism, guided and unguided records, gold and
labels columns, refusing --n-clusters in guided mode, bad input."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import BEISPIEL, tree_snapshot, write

from pipeline.cli import cli
from pipeline.cluster import (
    OTHER,
    cluster_units,
    compare_with_gold,
    read_categories,
    remove_group_means,
)

ARGS = [str(BEISPIEL), "--where", "question=innovationsbeispiel", "--embedding", "tfidf"]
GUIDED = [*ARGS, "--categories", str(BEISPIEL / "kategorien.yaml"), "--join", str(BEISPIEL / "gold" / "innovationsbeispiele_kategorien.csv"),
          "--gold-column", "kategorie"]


def run(args):
    return CliRunner().invoke(cli, ["cluster", *args])


@pytest.fixture(scope="module")
def clustered(tmp_path_factory):
    out = tmp_path_factory.mktemp("cl") / "a"
    r = run([*GUIDED, "--stability", "2", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_outputs_and_their_columns(clustered):
    out, output = clustered
    for name in ("clusters.csv", "categories.csv", "cluster_map.png", "cluster_map.html", "run.json", "summary.json", "gold_contingency.csv", "stability.csv"):
        assert (out / name).is_file(), name
    clusters = pd.read_csv(out / "clusters.csv", keep_default_na=False)
    assert list(clusters.columns[:8]) == ["segment_id", "cluster", "cluster_label", "score", "margin", "agree", "alternative", "uncertain"]
    # the alternative is a category other than the assigned one, given exactly where a second opinion disagrees
    disagree = clusters["agree"] < 2
    assert (clusters.loc[disagree, "alternative"] != "").all() and (clusters.loc[~disagree, "alternative"] == "").all()
    assert (clusters.loc[disagree, "alternative"] != clusters.loc[disagree, "cluster_label"]).all()
    assert set(clusters["alternative"]) - {""} <= {c.label for c in read_categories(BEISPIEL / "kategorien.yaml")} | {OTHER}
    assert {"network", "kategorie"} <= set(clusters.columns) and clusters["segment_id"].str.endswith(":innovationsbeispiel").all()
    assert clusters["margin"].between(0, 1).all() and set(clusters["uncertain"]) <= {True, False}
    # the default flag: none of the two second opinions (e5 and use beside tfidf) chose the same category
    assert set(clusters["agree"]) <= {0, 1, 2} and (clusters["uncertain"] == (clusters["agree"] == 0)).all()
    cats = pd.read_csv(out / "categories.csv", keep_default_na=False)
    assert {"cluster", "label", "top_terms", "size", "guided", "examples"} <= set(cats.columns)
    assert any(c.startswith("share_") for c in cats.columns)
    assert cats["size"].sum() == len(clusters)
    for r in cats.itertuples():  # three confident examples, then up to three uncertain ones, marked
        members = clusters[clusters["cluster"] == r.cluster]
        shown = r.examples.split(" | ")
        unsure = members[members["uncertain"]]
        tagged = {f"unsicher (sonst: {a}): {t}" if a else f"unsicher: {t}": t for t, a in zip(unsure["text"], unsure["alternative"])}
        marked = [t for t in shown if t.startswith("unsicher")]
        assert len(marked) == min(3, len(unsure)) and set(marked) <= set(tagged)
        assert set(shown) - set(marked) <= set(members.loc[~members["uncertain"], "text"])
    # closed set: exactly the file's categories, in its order
    assert cats["label"].tolist() == [c.label for c in read_categories(BEISPIEL / "kategorien.yaml")]
    summary = json.loads((out / "summary.json").read_text())
    assert sum(summary["uncertain_per_category"].values()) == summary["uncertain"] == clusters["uncertain"].sum()
    assert 0 <= summary["gold"]["nmi"] <= 1 and -1 <= summary["gold"]["ari"] <= 1
    assert summary["stability"]["runs"] == 2
    assert "against 'kategorie': ARI" in output and "stability over 2 seeds" in output and "example(s) flagged uncertain" in output
    html = (out / "cluster_map.html").read_text()
    assert "<svg" in html and "http" not in html.replace("http://www.w3.org/2000/svg", "")
    assert html.count('class="uncertain"') == clusters["uncertain"].sum() > 0
    assert html.count("(unsicher, sonst: ") == clusters["uncertain"].sum()  # each with what the second opinions chose


def test_run_json_records_the_parameters_used(clustered):
    out, _ = clustered
    summary = json.loads((out / "run.json").read_text())["summary"]
    assert summary["method"] == "guided" and summary["embedding"] == "tfidf" and summary["seed"] == 42
    assert summary["uncertain_margin"] == 0.0 and summary["other_threshold"] == -2.0 and summary["theme_removed"] is True
    assert summary["second_opinions"] == ["e5", "use"]
    assert summary["categories"][0] == "Digitale Lösungen & Standards"
    assert "umap" not in summary and "n_clusters" not in summary  # guided mode uses neither


def test_same_seed_same_bytes(clustered, tmp_path):
    out, _ = clustered
    again = tmp_path / "b"
    r = run([*GUIDED, "--out", str(again)])
    assert r.exit_code == 0
    for name in ("clusters.csv", "categories.csv", "cluster_map.png", "cluster_map.html"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_unguided_chooses_k_and_records_umap(tmp_path):
    out = tmp_path / "u"
    r = run([*ARGS, "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == "unguided" and s["k_criterion"].startswith("silhouette") and s["k"] == s["clusters"]
    assert s["umap"]["init"] == "random" and s["umap"]["random_state"] == 42 and s["umap"]["n_neighbors"] == 15
    assert -1 <= s["silhouette"] <= 1
    assert f"k = {s['k']} chosen by silhouette" in r.output


def test_n_clusters_is_refused_in_guided_mode(tmp_path):
    out = tmp_path / "o"
    r = run([*ARGS, "--categories", str(BEISPIEL / "kategorien.yaml"), "--n-clusters", "5", "--out", str(out)])
    assert r.exit_code == 2
    assert ("--n-clusters has no meaning with --categories: the categories fix their number. "
            "Drop --n-clusters, or drop --categories for unguided clustering.") in r.output
    assert not out.exists()


def test_second_opinions_can_be_chosen_or_switched_off(tmp_path):
    out = tmp_path / "s"
    r = run([*GUIDED, "--second-opinions", "none", "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["second_opinions"] == [] and s["uncertain_margin"] == 0.25  # the margin decides alone
    clusters = pd.read_csv(out / "clusters.csv", keep_default_na=False)
    assert (clusters["uncertain"] == (clusters["margin"] < 0.25)).all()
    r = run([*GUIDED, "--second-opinions", "e5,bert", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "unknown embedder bert; choose auto, none or a comma-separated list of" in r.output
    assert not (tmp_path / "x").exists()
    r = run([*GUIDED, "--second-opinions", " , ", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "give auto, none or embedder names separated by ','" in r.output
    r = run([*GUIDED, "--second-opinions", "tfidf,use", "--out", str(tmp_path / "x")])  # GUIDED embeds with tfidf
    assert r.exit_code == 1 and "the second opinions name 'tfidf', the embedding the assignment itself uses" in r.output
    assert "Traceback" not in r.output and not (tmp_path / "x").exists()


@pytest.mark.parametrize("option", [["--second-opinions", "none"], ["--uncertain-margin", "0.3"]])
def test_guided_options_are_refused_in_unguided_mode(tmp_path, option):
    out = tmp_path / "o"
    r = run([*ARGS, *option, "--out", str(out)])
    assert r.exit_code == 2
    assert (f"{option[0]} only applies when examples are assigned to given categories: add --categories, --guide-codebook or "
            f"--labels, or drop {option[0]}") in r.output
    assert not out.exists()


def test_gold_column_is_carried_through_with_meta_column(tmp_path):
    rows = ["id;netzwerk;beispiel;kategorie"]
    texts = [("Neue App für die Terminvergabe", "Technik"), ("Schulung zu Leichter Sprache", "Lernen"),
             ("Chatbot auf der Website der Stadt", "Technik"), ("Kurs für agiles Arbeiten im Team", "Lernen"),
             ("Software für Urlaubsanträge, endlich ohne Papier", "Technik"), ("Weiterbildung zum Datenschutz für alle", "Lernen")]
    for i, (t, k) in enumerate(texts * 2):
        rows.append(f"{i + 1};{'KERN' if i % 2 else 'DVNW'};{t};{k}")
    data = write(tmp_path / "umfrage.csv", "\n".join(rows) + "\n")
    out = tmp_path / "o"
    r = run([str(data), "--text-column", "beispiel", "--id-column", "id", "--meta-column", "netzwerk", "--embedding", "tfidf",
             "--n-clusters", "2", "--gold-column", "kategorie", "--out", str(out)])
    assert r.exit_code == 0, r.output
    clusters = pd.read_csv(out / "clusters.csv", keep_default_na=False)
    assert clusters["kategorie"].tolist()[:2] == ["Technik", "Lernen"] and "netzwerk" in clusters.columns


def test_labels_are_kept_and_train_the_assignment(tmp_path):
    labels = pd.read_csv(BEISPIEL / "gold" / "innovationsbeispiele_kategorien.csv", dtype=str).rename(columns={"kategorie": "hand"})
    labels.loc[labels.index % 10 != 0, "hand"] = ""  # every tenth example labelled by hand
    f = tmp_path / "hand.csv"
    labels.to_csv(f, index=False)
    out = tmp_path / "o"
    r = run([*ARGS, "--join", str(f), "--labels", "hand", "--out", str(out)])
    assert r.exit_code == 0, r.output
    c = pd.read_csv(out / "clusters.csv", keep_default_na=False)
    given = c[c["hand"] != ""]
    assert len(given) > 10 and (given["cluster_label"] == given["hand"]).all()
    assert set(c["cluster_label"]) <= set(labels["hand"]) - {""}


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


@pytest.mark.parametrize("content,problems", [
    ("- label: A\n  seed_terms: [x]\n", ["has one category only; guided assignment needs at least two"]),
    ("categories:\n  - label: A\n    seeds: [x]\n  - description: ohne Namen\n  - label: A\n    examples: ['', ok]\n",
     ["categories[0]: unknown key(s) seeds; allowed: label, description, seed_terms, examples",
      "categories[1].label: is missing or empty",
      "categories[2].examples[0]: must be a non-empty text",
      "categories[2].label: 'A' is already the label of categories[0]"]),
    ("- label: A\n  seed_terms: {x: 1}\n- label: B\n", ["categories[0].seed_terms: must be a list of texts, not dict"]),
])
def test_categories_file_problems_are_reported_together(tmp_path, content, problems):
    from pipeline.errors import ValidationError

    f = write(tmp_path / "k.yaml", content)
    with pytest.raises(ValidationError) as exc:
        read_categories(f)
    for p in problems:
        assert p in str(exc.value)
    assert f"({len(problems)} problem" in str(exc.value)


def test_categories_file_with_examples_is_read(tmp_path):
    f = write(tmp_path / "k.yaml", "- label: Technik\n  seed_terms: App\n  examples: [Neue App für Anträge]\n- label: Lernen\n")
    cats = read_categories(f)
    assert cats[0].seed_terms == ("App",) and cats[0].examples == ("Neue App für Anträge",) and cats[1].card() == "Lernen"


def test_all_empty_texts():
    from pipeline.errors import QdaError

    with pytest.raises(QdaError, match="all selected texts are empty"):
        cluster_units(["", "  "], embedding="tfidf")


def test_guide_codebook_uses_the_same_guided_estimator(tmp_path):
    from pipeline.codebook import load_codebook

    book = BEISPIEL.parent.parent / "codebooks" / "innovationsnetzwerke-v3.yaml"
    cb, _ = load_codebook(book)
    labels = [c.label for c in cb.codable() if c.dimension == "innovationsform"]
    out = tmp_path / "kb"
    r = run([*ARGS, "--guide-codebook", str(book), "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == "guided" and s["categories"] == labels
    assert set(pd.read_csv(out / "clusters.csv", keep_default_na=False)["cluster_label"]) <= {*labels, "Sonstige / nicht zugeordnet"}
    r = run([*ARGS, "--guide", str(book), "--n-clusters", "3", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--n-clusters has no meaning with --guide-codebook" in r.output


def test_a_long_e5_embedding_is_announced_with_the_faster_choice():
    from pipeline.api.analysis import E5_NOTE_FROM, _slow_embedding_note

    many = pd.DataFrame({"text": [f"Antwort Nummer {i}" for i in range(E5_NOTE_FROM)]})
    note = _slow_embedding_note("e5", many)
    assert note.kind == "note" and f"{E5_NOTE_FROM:,} different texts" in note.text and "--embedding use" in note.text
    # repeated answers are embedded once; use is fast; a small set needs no note
    assert _slow_embedding_note("e5", pd.DataFrame({"text": ["gleich"] * E5_NOTE_FROM})) is None
    assert _slow_embedding_note("use", many) is None
    assert _slow_embedding_note("e5", many.head(E5_NOTE_FROM - 1)) is None
