"""Builds the example survey export and its gold from the hand-written, hand-coded fragments.

Run once by the maintainers (the outputs are committed, the pipeline never runs this):

    uv run python scripts/make_beispiel_umfrage.py

Writes ``corpora/beispiel/umfrage/limesurvey_export.csv`` (``;``-separated, UTF-8 with BOM,
as LimeSurvey exports), ``corpora/beispiel/gold/umfrage_gold.csv`` (``segment_id,codes``) and
``corpora/beispiel/gold/innovationsbeispiele_kategorien.csv`` (hand-made category per example).
Answers recombine fragments and then get what real answers have: missing umlauts, typos,
lower-case starts, lists, placeholders such as ``k.A.`` and empty cells. The gold codes are the
fragments' hand codes, so a typo never changes what the answer means.
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from umfrage_bausteine import BEISPIELE, HINDERNISSE, IDEEN  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent / "corpora" / "beispiel"
SEED = 20240315
NETWORKS = {"DVNW": 78, "NExT-WM": 52, "KGSt-Agilitaet": 36, "KI-Campus-Polizei": 61, "KERN": 55}
ROLES = ["Sachbearbeitung", "Referent/in", "Teamleitung", "Referatsleitung / Amtsleitung", "Projektleitung", "IT / Entwicklung", "Sonstiges"]
PLACEHOLDERS = ["k.A.", "-", "k. A.", "/", "keine Angabe", "--"]


def vary(text: str, rng: random.Random) -> str:
    if rng.random() < 0.12:
        table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}) if rng.random() < 0.6 else str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
        text = text.translate(table)
    if rng.random() < 0.10:
        words = text.split(" ")
        long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        if long:
            i = rng.choice(long)
            w = words[i]
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
            text = " ".join(words)
    if rng.random() < 0.15 and text[:1].isupper():
        text = text[0].lower() + text[1:]
    return text


def combine(frags: list[str], rng: random.Random) -> str:
    if len(frags) == 1:
        return frags[0]
    style = rng.random()
    if style < 0.2:
        return "\n".join(f"- {f}" for f in frags)
    if style < 0.5:
        return "; ".join(frags)
    if style < 0.7:
        return ", ".join(frags[:-1]) + " und " + frags[-1]
    return ". ".join(f.rstrip(".") for f in frags) + "."


def answer(pool, rng, *, p_empty=0.05, p_placeholder=0.05, max_frags=3):
    r = rng.random()
    if r < p_empty:
        return "", []
    if r < p_empty + p_placeholder:
        return rng.choice(PLACEHOLDERS), []
    n = rng.choices([1, 2, 3], weights=[55, 33, 12])[0]
    picked = rng.sample(pool, min(n, max_frags))
    text = combine([vary(t, rng) for t, _ in picked], rng)
    codes = sorted({c for _, cs in picked for c in cs})
    return text, codes


def main() -> None:
    rng = random.Random(SEED)
    respondents = [net for net, n in NETWORKS.items() for _ in range(n)]
    rng.shuffle(respondents)
    header = ["id", "submitdate", "lastpage", "startlanguage", "seed", "netzwerk", "rolle", "mitgliedsjahre",
              "unterstuetzung_arbeitgeber", "hindernisse", "ideen", "innovationsbeispiel"]
    rows, gold, cats = [], [], []
    for i, net in enumerate(respondents, start=1):
        rid = str(1000 + i)
        years = rng.randint(1, 2) if net == "KGSt-Agilitaet" else rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10])
        support = rng.choices(["sehr stark", "stark", "teils/teils", "wenig", "gar nicht", ""], weights=[25, 36, 22, 9, 4, 4])[0]
        h_text, h_codes = answer(HINDERNISSE, rng)
        i_text, i_codes = answer(IDEEN, rng, p_empty=0.07)
        r = rng.random()
        if r < 0.07:
            b_text, b_codes, b_cat = "", [], ""
        elif r < 0.13:
            b_text, b_codes, b_cat = rng.choice(PLACEHOLDERS + ["mir fällt grad keins ein", "noch keins"]), [], ""
        else:
            home = net if rng.random() < 0.85 else rng.choice(list(BEISPIELE))
            text, b_codes, b_cat = rng.choice(BEISPIELE[home])
            prefix = rng.choices(["", "z.B. ", "Bei uns: ", "Konkret: ", "Beispiel: "], weights=[60, 12, 12, 8, 8])[0]
            suffix = rng.choices(["", " (noch in der Pilotphase)", " - läuft gut", "!", " ... mehr fällt mir gerade nicht ein"], weights=[70, 8, 8, 7, 7])[0]
            b_text = prefix + vary(text, rng) + suffix
        minute = rng.randrange(0, 60 * 24 * 20)
        submit = f"2024-05-{1 + minute // 1440:02d} {(minute // 60) % 24:02d}:{minute % 60:02d}:{rng.randrange(60):02d}"
        rows.append([rid, submit, "4", "de", str(rng.randrange(10**8, 10**9)), net, rng.choice(ROLES), str(years), support, h_text, i_text, b_text])
        for col, codes in (("hindernisse", h_codes), ("ideen", i_codes), ("innovationsbeispiel", b_codes)):
            gold.append([f"{rid}:{col}", ";".join(codes)])
        if b_cat:
            cats.append([f"{rid}:innovationsbeispiel", b_cat])
    out = ROOT / "umfrage" / "limesurvey_export.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
    gold_dir = ROOT / "gold"
    gold_dir.mkdir(exist_ok=True)
    with open(gold_dir / "umfrage_gold.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["segment_id", "codes"])
        w.writerows(gold)
    with open(gold_dir / "innovationsbeispiele_kategorien.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["segment_id", "kategorie"])
        w.writerows(cats)
    print(f"{len(rows)} respondents, {len(gold)} coded answers, {len(cats)} categorised examples")


if __name__ == "__main__":
    main()
