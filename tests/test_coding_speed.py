"""The coder's array paths answer exactly what its per-hit reference code answers."""

from pathlib import Path

import numpy as np
import pytest

from pipeline.codebook import load_codebook
from pipeline.coding.context import Context
from pipeline.coding.kinds import TableWords
from pipeline.coding.matcher import RuleMatcher
from pipeline.ingest import ingest
from pipeline.tokens import parse_texts

ROOT = Path(__file__).resolve().parent.parent
MORE = [
    "Wir würden gern mal einen Hackathon machen, aber das wäre wohl zu teuer.",
    "Newsletter krieg ich, bringt mir aber nichts. Statt Vortrag lieber ein Barcamp!",
    "Das Barcamp war greifbarer als jede Folie; mehr als ein Webinar jedenfalls.",
    "Zeit war bei uns eigentlich nie das Problem, keine Frage.",
    "Ohne Budget geht nix. Würde ich sagen.",
    "Nicht der Chef bremst, eher die Kollegen. Nicht nur die Leitung, sondern auch wir.",
    "Es fehlt nicht an Zeit, sondern an Geld; nicht unbedingt an der IT, vielmehr am Budget.",
    "Wir haben da keine Vorgaben gemacht, ohne große Bürokratie, und kaum Widerstand.",
    "An Geld hat es nie gefehlt, Personal fehlt uns nicht, es fehlt nicht nur an Zeit. Probleme mit der IT hatten wir keine.",
    "Lieber kurz mit der Kollegin telefonieren als drei Stunden Webinar. Problem ist dass die IT nicht mitzieht.",
    "Es gibt ne AG, da war ich allerdings nie drin. Nen Podcast gibt's auch, den hab ich noch nie gehört, ehrlich.",
    "Im Forum, da bin ich jeden Tag drin; beim Barcamp, da hab ich nicht viel gelernt, aber nett.",
    "Rechtlich nicht, nee. Zeit nie. Geld nicht mehr da.", "Zeitlich nie. Rechtlich nicht!",
    "Technik auch nicht, Zeit eigentlich nie. Geld da auch nicht so. Recht ja eigentlich nicht!",
    "Newsletter? Les ich nie. Die Webinare? Nee. Schulungen? Ja, zwei. Barcamp? Ehrlich gesagt war ich nie da.", "Forum?",
    "Kurse, Webinare? Nein.", "Zeit? Keine. Personal?",
    "Hackathons hab ich bisher nicht mitgemacht; einen Stammtisch gab's bei uns noch nie. Das Forum nicht nur gelesen, nie.",
    "Den Blog hab ich kaum gelesen, gibt's keinen.", "Gibt es nicht.",
    "Statt Vorträgen lieber kleine Runden. Statt Webinar eher Forum, statt Forum Barcamp; lieber statt Kurs.",
    "als", "Keine", "Hackathon", "Nicht", "sondern", "Forum,", "da",
]


@pytest.fixture(scope="module")
def table_and_words():
    seg = ingest([str(ROOT / "corpora" / "beispiel")]).segments
    texts = seg["text"].fillna("").astype(str).tolist() + MORE
    table, _ = parse_texts(texts, use_cache=False)
    cb, _ = load_codebook(ROOT / "codebooks" / "innovationsnetzwerke-v3.yaml")
    return table, TableWords.build(table, RuleMatcher(cb).words)


@pytest.mark.parametrize("window", [0, 1, 4])
def test_verdicts_of_all_hits_at_once_equal_the_verdict_of_each(table_and_words, window):
    table, tw = table_and_words
    ctx = Context(table, tw.flags, window)
    unit = table.unit_of(np.arange(table.n_tokens))
    ends = table.offsets[unit + 1]
    rows = []
    for width in (1, 2, 3):  # every token as the start of a one-, two- and three-token hit
        s = np.arange(table.n_tokens)
        ok = s + width <= ends
        rows.append((unit[ok], s[ok], s[ok] + width))
    u, s, e = (np.concatenate(x) for x in zip(*rows))
    negated = {}
    for lack, obstacle in ((False, False), (True, False), (True, True)):
        fast = ctx.verdicts(u, s, e, np.full(len(s), lack), np.full(len(s), obstacle))
        slow = [ctx.verdict(int(a), int(b), int(c), lack, obstacle) for a, b, c in zip(u, s, e)]
        assert fast.tolist() == slow
        negated[lack, obstacle] = slow.count("negated")
        if obstacle:  # a word naming the obstacle itself: "keine Vorgaben" takes it back
            assert window == 0 or negated[True, True] > negated[True, False]
            continue
        # the sample exercises the verdicts, not only "" (without a window: no negation at all;
        # for barriers "negated" comes only from "nicht X, sondern Y")
        want = {(False, False): 4, (False, True): 1, (True, False): 7, (True, True): 4}[(window > 0, lack)]
        assert len(set(slow)) == want, set(slow)


@pytest.mark.parametrize("source", [
    r"(?i)\bkomm[a-zäöü]{0,3}\s[^.,;:!?]{0,30}?\b(?:nicht|nie|kaum)\s+dazu\b",  # may run across a unit's edge
    r"\b[A-ZÄÖÜ]\w+\b",                  # matches everywhere, from the first to the last word of a unit
    r"(?i)e-?learning\w*|barcamp",
    r"[^.]{0,80}",                       # a match of every unit runs into the next in the joined text
    r"^\w+", r"\w+$", r"(?<=\s)Zeit", r"Zeit(?!\w)",  # anchors and lookarounds: scanned unit by unit
])
def test_one_scan_over_all_units_finds_what_a_scan_per_unit_finds(source):
    # the regex kind scans the joined texts once to find the units worth scanning; the result must
    # be the per-unit scan's, hit for hit
    import regex

    from pipeline.codebook.model import Pattern
    from pipeline.coding import kinds

    texts = ["Ich komm", "einfach nicht dazu.", "Zeit", "Barcamp! E-Learning", "", "komm ich kaum dazu, sagt sie",
             "Wir kommen nie dazu", "Endlich Zeit.", "x" * 50]
    table, _ = parse_texts(texts, use_cache=False)
    kind = kinds.RegexKind(type("W", (), {"settings": type("S", (), {"case_sensitive": False})()})())
    kind.add(0, Pattern("regex", source))
    joined = kind.find(type("T", (), {"table": table})())
    expected = []
    rx = regex.compile(source, regex.IGNORECASE | regex.V0)
    for u, text in enumerate(texts):
        expected += [(u, m.start(), m.end()) for m in rx.finditer(text) if m.end() > m.start()]
    assert list(zip(joined.unit.tolist(), joined.cs.tolist(), joined.ce.tolist())) == expected
    # the same regex under a second code (a YAML alias shares one among the barrier codes; the
    # kind scans it once and copies the hits) gives that code the same hits; another regex its own
    kind.add(1, Pattern("regex", source))
    kind.add(2, Pattern("regex", r"(?i)dazu"))
    both = kind.find(type("T", (), {"table": table})())
    found = {ref: [(u, cs, ce) for r, u, cs, ce in zip(both.ref.tolist(), both.unit.tolist(), both.cs.tolist(), both.ce.tolist()) if r == ref]
             for ref in (0, 1, 2)}
    assert found[0] == found[1] == expected
    assert found[2] == [(1, 14, 18), (5, 14, 18), (6, 15, 19)]
