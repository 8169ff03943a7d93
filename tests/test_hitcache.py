"""The per-code hit cache: cached hits equal a fresh match, and an edit re-matches exactly what it touches."""

import numpy as np
import pytest

from pipeline.codebook import codebook_from_data
from pipeline.coding import RuleMatcher
from pipeline.coding.hitcache import HitStore, assess_cached, closure
from pipeline.tokens import parse_texts

TEXTS = [
    "Uns fehlt schlicht die Zeit, und ein Kurs zur Ablage kam nie zustande.",
    "Im Kurs haben wir die E-Akte kennengelernt, die wir jetzt einführen.",
    "Die Amtsleitung blockt, Budget ist keins da.",
    "Wäre schön, wenn es mal einen Hackathon gäbe.",
    "Hackathon im Mai, danach haben wir das Portal umgestellt. Kurs folgt.",
    "",
    "Zeitmangel, Zeitmangel, Zeitmangel.",
    "Den Kurs hab ich besucht, aber die Zeit war knapp.",
    "Das Portal ist ganz nett.",
]
QUESTIONS = [{"huerde"}, {"methode"}, {"huerde"}, None, {"innovationsform"}, None, {"huerde"}, {"methode"}, None]


def book(*, zeit=("Zeit",), kurs_unless=("huerde.*",), cue=("einführen", "umstellen")):
    data = {
        "name": "Cache", "version": "1", "matching": {"negation_window": 4},
        "cues": {"einfuehrung": list(cue)},
        "codes": [{"id": d, "label": d, "definition": d, "codable": False} for d in ("huerde", "methode", "innovationsform")] + [
            {"id": "huerde.zeit", "label": "z", "definition": "z", "include": list(zeit), "lack_counts": True},
            {"id": "huerde.fuehrung", "label": "f", "definition": "f", "include": ["Amtsleitung"], "lack_counts": True},
            {"id": "methode.schulung", "label": "s", "definition": "s", "include": ["Kurs"], "unless": {"codes": list(kurs_unless), "scope": "sentence"}},
            {"id": "methode.entwicklung", "label": "e", "definition": "e", "include": ["Hackathon"]},
            {"id": "innovationsform.produkt", "label": "p", "definition": "p", "include": ["E-Akte", "Portal"],
             "require": {"cues": ["einfuehrung"], "scope": "sentence"}},
        ],
    }
    cb, problems = codebook_from_data(data)
    assert not [p for p in problems if p.level == "error"], problems
    return cb


@pytest.fixture(scope="module")
def table():
    t, stats = parse_texts(TEXTS, use_cache=False)
    return t, stats.pipeline["fingerprint"]


def fresh(cb, t):
    return RuleMatcher(cb).assess(t, QUESTIONS)


def cached(cb, t, fp, folder):
    return assess_cached(cb, t, QUESTIONS, cache_dir=folder, fingerprint=fp)


def same(a, b) -> bool:
    return a.reset_index(drop=True).equals(b.reset_index(drop=True)) and list(a.dtypes) == list(b.dtypes)


def test_cached_hits_equal_a_fresh_match_cold_and_warm(table, tmp_path):
    t, fp = table
    cb = book()
    expected = fresh(cb, t)
    assert set(expected["status"]) >= {"", "unless", "require"}  # the conditions are exercised
    first, from_cache = cached(cb, t, fp, tmp_path)
    assert same(first, expected) and from_cache == 0
    second, from_cache = cached(cb, t, fp, tmp_path)
    assert same(second, expected) and from_cache == 5


def test_an_edited_code_is_matched_again_and_its_dependents_too(table, tmp_path):
    t, fp = table
    cached(book(), t, fp, tmp_path)
    # huerde.zeit gains a compound term: methode.schulung looks at huerde.* in its unless, so it is matched again
    edited = book(zeit=("Zeit", "Zeitmangel"))
    assert closure(edited, ["methode.schulung"]) == ["huerde.zeit", "huerde.fuehrung", "methode.schulung"]
    result, from_cache = cached(edited, t, fp, tmp_path)
    assert same(result, fresh(edited, t))
    assert from_cache == 3  # fuehrung, entwicklung, produkt


def test_a_changed_condition_changes_the_verdict_not_a_stale_one(table, tmp_path):
    t, fp = table
    before, _ = cached(book(), t, fp, tmp_path)
    after, _ = cached(book(kurs_unless=("innovationsform.*",)), t, fp, tmp_path)
    kurs = lambda df: df[df["code"] == "methode.schulung"]["status"].tolist()  # noqa: E731
    assert kurs(before) != kurs(after)
    assert same(after, fresh(book(kurs_unless=("innovationsform.*",)), t))


def test_an_edited_cue_list_rematches_the_codes_that_use_it(table, tmp_path):
    t, fp = table
    before, _ = cached(book(), t, fp, tmp_path)
    assert before[(before["evidence"] == "Portal") & (before["unit"] == 4)]["status"].tolist() == [""]
    edited = book(cue=("einführen",))  # "umgestellt" no longer counts: the Portal hit loses its cue
    result, from_cache = cached(edited, t, fp, tmp_path)
    assert from_cache == 4
    assert same(result, fresh(edited, t))
    portal = result[(result["evidence"] == "Portal") & (result["unit"] == 4)]["status"].tolist()
    assert portal == ["require"]


def test_other_texts_or_questions_never_reuse_hits(table, tmp_path):
    t, fp = table
    cb = book()
    cached(cb, t, fp, tmp_path)
    other, stats = parse_texts(TEXTS[:3] + ["Keine Zeit."], use_cache=False)
    result, from_cache = assess_cached(cb, other, QUESTIONS[:4], cache_dir=tmp_path, fingerprint=fp)
    assert from_cache == 0 and same(result, RuleMatcher(cb).assess(other, QUESTIONS[:4]))
    _, from_cache = assess_cached(cb, t, [None] * len(TEXTS), cache_dir=tmp_path, fingerprint=fp)
    assert from_cache == 0


def test_a_damaged_or_tampered_file_is_matched_again(table, tmp_path):
    t, fp = table
    cb = book()
    cached(cb, t, fp, tmp_path)
    files = sorted((tmp_path / fp / "hits").glob("*.npz"))
    assert len(files) == 5
    files[0].write_bytes(b"not a zip")
    files[2].write_bytes(files[2].read_bytes()[:-40])  # cut off, as by a full disk
    with np.load(files[1], allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["unit"] = arrays["unit"] + 1  # valid file, wrong content: the checksum no longer fits
    with open(files[1], "wb") as fh:
        np.savez(fh, **arrays)
    result, from_cache = cached(cb, t, fp, tmp_path)
    assert from_cache == 2 and same(result, fresh(cb, t))


def test_the_folder_keeps_the_most_recently_used_files(table, tmp_path, monkeypatch):
    import pipeline.coding.hitcache as hitcache

    t, fp = table
    monkeypatch.setattr(hitcache, "MAX_FILES", 6)
    for k in range(3):
        cached(book(zeit=("Zeit", f"Wort{k}")), t, fp, tmp_path)
    assert len(list((tmp_path / fp / "hits").glob("*.npz"))) == 6
    assert HitStore(tmp_path, fp).read("0" * 64) is None  # an unknown key is simply absent
