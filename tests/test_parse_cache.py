"""The parse cache: data only, checked, rebuilt when damaged, safe under concurrent processes."""

import json
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipeline import nlp as nlp_mod
from pipeline.parse_cache import ParseCache
from pipeline.tokens import parse_texts

ROOT = Path(__file__).resolve().parent.parent
TEXTS = [
    "Uns fehlt schlicht die Zeit, die Kolleg:innen sind im Tagesgeschäft gebunden.",
    "Wir haben z. B. ein Barcamp gemacht. Das war super!",
    "Ohne Rückendeckung der Amtsleitung geht nix.\nDer Datenschutz bremst auch.",
    "Wir haben z. B. ein Barcamp gemacht. Das war super!",
    "Mitarbeiter*innen testen den Prototyp in der Pilotphase",
]


def _arrays(table):
    return [table.orth, table.norm, table.idx, table.sent, table.offsets, table.lex, table.lex_orth, table.lex_norm]


def _same(a, b):
    for x, y in zip(_arrays(a), _arrays(b)):
        np.testing.assert_array_equal(x, y)
    assert a.texts == b.texts
    assert {h: a.strings[h] for h in a.strings} == {h: b.strings[h] for h in a.strings}


def _shard(cache_root) -> Path:
    shards = list(Path(cache_root).glob("*/parse-*.npz"))
    assert len(shards) == 1
    return shards[0]


def test_a_cached_parse_equals_a_fresh_one(tmp_path):
    fresh, _ = parse_texts(TEXTS, use_cache=False)
    first, s1 = parse_texts(TEXTS, cache_dir=tmp_path)
    again, s2 = parse_texts(TEXTS, cache_dir=tmp_path)
    assert (s1.parsed, s1.cached) == (4, 0) and (s2.parsed, s2.cached) == (0, 5)
    assert not s1.warnings and not s2.warnings
    _same(fresh, first)
    _same(fresh, again)


def test_a_partly_cached_input_parses_only_the_new_texts(tmp_path):
    parse_texts(TEXTS[:2], cache_dir=tmp_path)
    table, stats = parse_texts(TEXTS, cache_dir=tmp_path)
    assert (stats.parsed, stats.cached) == (2, 3)  # TEXTS[3] repeats TEXTS[1]
    _same(parse_texts(TEXTS, use_cache=False)[0], table)


def test_shards_are_plain_arrays_without_pickle(tmp_path):
    parse_texts(TEXTS, cache_dir=tmp_path)
    with np.load(_shard(tmp_path), allow_pickle=False) as z:
        assert all(z[name].dtype != object for name in z.files)
        meta = json.loads(z["meta"].tobytes())
    assert meta["format"] == 2 and len(meta["sha256"]) == 64 and meta["units"] == 4


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage", "foreign"])
def test_a_damaged_shard_is_rebuilt_with_a_warning(tmp_path, damage):
    parse_texts(TEXTS, cache_dir=tmp_path)
    shard = _shard(tmp_path)
    data = shard.read_bytes()
    if damage == "flip":  # a bit flip inside an array: the zip CRC or our checksum catches it
        pos = data.index(b"lex.npy") + 400
        shard.write_bytes(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    elif damage == "truncate":
        shard.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        shard.write_bytes(b"\x00" * 100)
    else:  # a valid zip whose checksum does not match its arrays
        with np.load(shard) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["idx"] = arrays["idx"] + 1
        with open(shard, "wb") as fh:
            np.savez(fh, **arrays)
    from pipeline import parse_cache

    parse_cache._KEYS.clear()  # another process: nothing read before
    table, stats = parse_texts(TEXTS, cache_dir=tmp_path)
    assert stats.parsed == 4 and stats.cached == 0
    assert len(stats.warnings) == 1 and str(shard) in stats.warnings[0] and "parsed again" in stats.warnings[0]
    _same(parse_texts(TEXTS, use_cache=False)[0], table)
    assert not shard.exists() and len(list(tmp_path.glob("*/parse-*.npz"))) == 1  # replaced
    assert parse_texts(TEXTS, cache_dir=tmp_path)[1].cached == 5


def test_a_cache_that_cannot_be_written_is_skipped_with_a_warning(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pipeline.parse_cache.np.savez", fail)
    table, stats = parse_texts(TEXTS, cache_dir=tmp_path)
    assert stats.parsed == 4 and any("No space left" in w for w in stats.warnings)
    assert not list(tmp_path.glob("*/.parse-*"))  # no temporary file left behind


def test_word_memo_is_checksummed_json(tmp_path, monkeypatch):
    path = tmp_path / "words.json"
    monkeypatch.setitem(nlp_mod._MEMO, "lemma", {"Vortrage": "Vortrag"})
    monkeypatch.setitem(nlp_mod._MEMO, "segment", {"Zeitmangel": ((0, 4), (4, 10))})
    monkeypatch.setitem(nlp_mod._MEMO, "ckeys", {"Zeitmangel": ("zeit", "mangel")})
    nlp_mod.save_memo(path)
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["format"] == 1 and record["tables"]["lemma"]["Vortrage"] == "Vortrag"
    monkeypatch.setitem(nlp_mod._MEMO, "segment", {})
    monkeypatch.setitem(nlp_mod._MEMO, "ckeys", {})
    assert nlp_mod.load_memo(path) is None
    assert nlp_mod._MEMO["segment"]["Zeitmangel"] == ((0, 4), (4, 10)) and nlp_mod._MEMO["ckeys"]["Zeitmangel"] == ("zeit", "mangel")
    record["tables"]["lemma"]["Vortrage"] = "Falsch"
    path.write_text(json.dumps(record), encoding="utf-8")
    assert nlp_mod.load_memo(path) == "checksum mismatch"
    path.write_text('{"format": 1, "tab', encoding="utf-8")
    assert nlp_mod.load_memo(path).startswith("unreadable")


def test_a_damaged_word_memo_is_a_warning_not_an_error(tmp_path):
    table, _ = parse_texts(TEXTS, cache_dir=tmp_path)
    nlp_mod.save_memo(table.memo_path)
    memo = next(tmp_path.glob("*/words.json"))
    memo.write_bytes(memo.read_bytes()[:50])
    _, stats = parse_texts(TEXTS, cache_dir=tmp_path)
    assert any("words.json" in w and "unreadable" in w for w in stats.warnings)


WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pipeline.tokens import parse_texts, save_words
    root, seed = sys.argv[1], int(sys.argv[2])
    parse_texts(["warm"], use_cache=False)  # imports and the dictionary, before the barrier
    Path(root, f"ready-{seed}").touch()
    deadline = time.time() + 120
    while not Path(root, "go").exists() and time.time() < deadline:  # all four start together
        time.sleep(0.01)
    words = ["Zeitmangel", "Kolleg:innen", "Barcamp", "Datenschutz", "Amtsleitung", "Hackathon", "Förderung", "Vortrage"]
    for r in range(6):
        texts = [f"Satz {i}: {words[(i + seed) % 8]} und {words[(i * r) % 8]} sind Thema. Nr. {i % 5}." for i in range(40 * r, 40 * r + 60)]
        table, stats = parse_texts(texts, cache_dir=root)
        save_words(table)
        assert not stats.warnings, stats.warnings
        assert table.n_tokens > 0
    print("ok")
""")


def test_four_concurrent_processes_share_one_cache(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(tmp_path), str(seed)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in range(4)]
    deadline = time.time() + 240
    while len(list(tmp_path.glob("ready-*"))) < 4 and time.time() < deadline and all(p.poll() is None for p in procs):
        time.sleep(0.05)
    (tmp_path / "go").touch()
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and out.strip() == "ok", err[-2000:]
    folder = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert nlp_mod.load_memo(folder / "words.json") is None
    # every shard is whole, and the cache gives what a fresh parse gives
    cache = ParseCache(tmp_path, folder.name)
    for shard in cache.shards():
        assert zipfile.ZipFile(shard).testzip() is None
    words = ["Zeitmangel", "Kolleg:innen", "Barcamp", "Datenschutz", "Amtsleitung", "Hackathon", "Förderung", "Vortrage"]
    texts = [f"Satz {i}: {words[(i + 2) % 8]} und {words[(i * 5) % 8]} sind Thema. Nr. {i % 5}." for i in range(200, 260)]
    table, stats = parse_texts(texts, cache_dir=tmp_path)
    assert stats.cached == len(texts) and not stats.warnings
    _same(parse_texts(texts, use_cache=False)[0], table)
