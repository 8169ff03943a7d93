"""simplemma's German dictionary, saved as data and loaded fast: same look-ups and lemmas as
simplemma's own functions; a damaged or foreign copy is decoded again, never trusted."""

import json
from pathlib import Path

import pytest
import simplemma

from pipeline import dictionary

DATA = Path(__file__).parent / "data"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("QDA_DICT_CACHE", str(tmp_path))
    return tmp_path


def _words():
    rows = [line.split("\t")[0] for line in (DATA / "lemmas_de.tsv").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    return rows + ["Zeitmangel", "zeitmangel", "Kollegen", "Bürgere", "Vortrage", "Prozeß", "Ämter", "häuser", "Xyzzyquatsch", "APP", "l'été"]


def test_lemmas_and_lookups_are_simplemmas(folder):
    fast = dictionary.GermanLemmatizer()
    words = _words()
    assert len(words) > 200
    assert [fast.lemmatize(w) for w in words] == [simplemma.lemmatize(w, lang="de", greedy=True) for w in words]
    assert [fast.is_known(w) for w in words] == [simplemma.is_known(w, lang="de") for w in words]
    saved = next(folder.glob("simplemma-*-de.dict"))
    assert json.loads(saved.read_bytes().split(b"\n", 1)[0])["entries"] > 1_000_000


def test_the_saved_copy_is_used_and_a_damaged_one_is_replaced(folder, monkeypatch):
    entries = dictionary.german_entries()
    path = next(folder.glob("*.dict"))
    assert dictionary._read(path) == entries
    data = path.read_bytes()
    path.write_bytes(data[:-10] + b"XXXXXXXXXX")  # same length, wrong checksum
    assert dictionary._read(path) is None
    assert dictionary.german_entries() == entries
    assert path.read_bytes() == data  # decoded again and saved whole
    path.write_bytes(data[: len(data) // 3])
    assert dictionary.german_entries() == entries


def test_an_unwritable_cache_folder_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "datei"
    blocker.write_text("kein Ordner", encoding="utf-8")
    monkeypatch.setenv("QDA_DICT_CACHE", str(blocker / "qda"))
    assert dictionary.german_entries()[b"Vortr\xc3\xa4ge"] == "Vortrag".encode()
