"""The fast parse (tokenizer + per-word-form lexicon) against the component pipeline it replaces:
same tokens, lemmas, match keys and sentences, token by token."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.ingest import ingest
from pipeline.nlp import lexicon_of, load_nlp
from pipeline.tokens import _tokenize, parse, pieces, table_from_docs

ROOT = Path(__file__).resolve().parent.parent


def _tokens(table):
    """Per unit: (text, match key, offset, starts a sentence) of every token."""
    out = []
    first_of_sent = np.ones(table.n_tokens, dtype=bool)
    first_of_sent[1:] = table.sent[1:] != table.sent[:-1]
    for u in range(len(table)):
        lo, hi = table.offsets[u], table.offsets[u + 1]
        out.append([(table.strings[int(table.orth[i])], table.strings[int(table.norm[i])], int(table.idx[i]), bool(first_of_sent[i]))
                    for i in range(lo, hi)])
    return out


def _compare(texts):
    nlp = load_nlp("qda-de")
    docs = list(nlp.pipe(texts))
    fast = parse(nlp, texts).to_table(texts)
    reference = table_from_docs(docs)
    got, want = _tokens(fast), _tokens(reference)
    for text, g, w in zip(texts, got, want):
        assert g == w, f"differs on {text[:80]!r}"
    # lemmas: the lexicon's lemma of each token equals what the lemmatizer component set
    lexicon = lexicon_of(nlp)
    for doc in docs:
        rows = lexicon.lookup(np.array([t.orth for t in doc], dtype=np.uint64))
        assert [nlp.vocab.strings[int(h)] for h in lexicon.lemma[rows]] == [t.lemma_ for t in doc]
    np.testing.assert_array_equal(fast.sent, reference.sent)
    np.testing.assert_array_equal(fast.offsets, reference.offsets)
    return fast


def test_fast_parse_equals_the_component_pipeline_on_the_example_corpus():
    seg = ingest([str(ROOT / "corpora" / "beispiel")]).segments
    texts = seg["text"].fillna("").astype(str).tolist()
    kinds = set(seg["kind"])
    assert {"survey", "interview"} <= kinds and len(texts) > 300
    table = _compare(texts)
    assert table.n_tokens > 10_000


def test_fast_parse_equals_the_component_pipeline_on_awkward_texts():
    texts = [
        "", " ", "  führende Leerzeichen und Kolleg:innen", "Zeilenumbruch am Ende\n", "\nvorne", "Tab\tmitten  drin ",
        "Wir nutzen z. B. Foren, u. a. Blogs bzw. Newsletter. Das hilft! Dr. Meier sieht das anders.",
        "Mitarbeiter*innen…und Bürger_innen?! Ja!! ... na ja", "Erste Zeile\n\n zweite Zeile", "ein-wort-mit-bindestrichen",
        "Fordermittel, Vortrage, Prozeß – alles ohne Umlaute", "URL www.kgst.de und mail@example.org", "🙂 Emoji am Anfang",
        "Vorgesetzte Medien Daten Termine", "a", ".", "\n\n", "keine (.) Schulung (..) ähm (...) na ja (…)(.)",
    ]
    _compare(texts)


def test_long_texts_are_cut_at_word_starts_and_give_the_same_tokens():
    nlp = load_nlp("qda-de")
    text = " ".join(["Die Kolleg:innen nutzen z. B. Foren.\nDas hilft!"] * 40)
    whole = nlp.tokenizer(text)
    orth, idx, lengths = _tokenize(nlp.tokenizer, [text], limit=97)
    assert lengths.tolist() == [len(whole)]
    assert orth.tolist() == [t.orth for t in whole] and idx.tolist() == [t.idx for t in whole]
    cut = pieces(text, 97)
    assert "".join(p for _, p in cut) == text and all(len(p) <= 97 for _, p in cut) and len(cut) > 10


def test_a_run_without_whitespace_is_cut_hard():
    cut = pieces("x" * 25, 10)
    assert [(o, len(p)) for o, p in cut] == [(0, 10), (10, 10), (20, 5)]


def test_texts_longer_than_the_pipelines_max_length_are_parsed_not_refused():
    nlp = load_nlp("qda-de")
    old = nlp.max_length
    nlp.max_length = 500
    try:
        text = "Wir haben keine Zeit. " * 100
        with pytest.raises(ValueError):
            nlp(text)  # the component pipeline refuses it ...
        table = parse(nlp, [text, "kurz"]).to_table([text, "kurz"])  # ... the parse does not
    finally:
        nlp.max_length = old
    assert table.offsets.tolist() == [0, 500, 501]
    assert int(table.sent[499]) == 99  # one sentence per repetition, even across the cuts


def test_the_generic_path_for_other_pipelines_gives_the_same_table():
    # _parse_spacy runs any pipeline as it is (a trained model); with the component pipeline it
    # must give exactly what the fast path gives
    from pipeline.tokens import _parse_offline, _parse_spacy

    nlp = load_nlp("qda-de")
    texts = ["Die Kolleg:innen haben z. B. keine Zeit.\nDas bremst!", "", "Ohne Budget geht nix. Wirklich nix."]
    a, b = _parse_offline(nlp, texts).to_table(texts), _parse_spacy(nlp, texts).to_table(texts)
    for name in ("orth", "norm", "idx", "sent", "offsets", "lex", "lex_orth", "lex_norm"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_parsing_in_worker_processes_gives_the_same_table():
    from pipeline.tokens import parse_texts

    texts = [f"Antwort {i}: Uns fehlt die Zeit, sagen die Kolleg:innen (Nr. {i % 7})." for i in range(2400)]
    one, _ = parse_texts(texts, use_cache=False)
    two, _ = parse_texts(texts, use_cache=False, workers=2)
    for name in ("orth", "norm", "idx", "sent", "offsets", "lex", "lex_orth", "lex_norm"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name), err_msg=name)
