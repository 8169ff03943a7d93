"""A small coded run for the review tests: one interview and five survey answers (written for
these tests), coded by ``qda code`` with the three-code fixture codebook, and the verifier's
``candidates.csv`` as the coding issue specifies it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import ROOT, write
from pipeline.cli import cli

MINI = ROOT / "tests" / "fixtures" / "mini_codebook.yaml"

INTERVIEW = """I: Schön, dass Sie sich Zeit nehmen. Was hat Sie im Netzwerk am meisten gebremst?
B: Ehrlich gesagt die Arbeitsbelastung. Mein Kalender ist voll, da bleibt für die Treffen kaum Luft.
I: Und Ihre Führungskraft, wie sieht die das?
B: Die Amtsleitung findet das gut, äh, aber der Chef von meinem Referat winkt meistens ab.
I: Gab es Weiterbildungen?
B: Ja, wir hatten zwei Schulungen zu E-Learning-Formaten, die waren richtig hilfreich für die Kolleg:innen.
I: Gibt es sonst noch was?
B: Nee, eigentlich nicht. Zeit war bei uns nie das Problem, sondern eher die Abstimmung mit der IT.
"""

SURVEY = """id;hindernisse
1;Zu wenig Zeit neben dem Tagesgeschäft
2;Vorgesetzte unterstützen das nicht, mein Chef sieht keinen Nutzen
3;k.A.
4;Mehr Kurse wären super
5;Die Schulung zum Vergaberecht war top, aber die Zeitplanung war knapp.
"""

# the rule codings of this corpus, in codings.csv order
CODINGS = [("netz_a:2", "huerde.zeit"), ("netz_a:4", "huerde.fuehrung"), ("netz_a:6", "methode.schulung"), ("1", "huerde.zeit"),
           ("2", "huerde.fuehrung"), ("5", "huerde.zeit"), ("5", "methode.schulung")]

# what the verifier would write: every coding with its score, two pairs it nearly coded
CANDIDATES = """segment_id,code,score,threshold,accepted,evidence,pattern
netz_a:2,huerde.zeit,0.97,0.5,1,Arbeitsbelastung,Arbeitsbelastung
netz_a:4,huerde.fuehrung,0.62,0.5,1,Amtsleitung,Amtsleitung
netz_a:6,methode.schulung,0.91,0.5,1,Schulungen,Schulung
netz_a:8,huerde.zeit,0.41,0.5,0,Zeit,Zeit
1,huerde.zeit,0.88,0.5,1,Zeit,Zeit
2,huerde.fuehrung,0.83,0.5,1,Vorgesetzte,Vorgesetzter
4,methode.schulung,0.46,0.5,0,,
5,huerde.zeit,0.55,0.5,1,Zeitplanung,Zeit
5,methode.schulung,0.74,0.5,1,Schulung,Schulung
"""
# |score − threshold| ascending
UNCERTAINTY_ORDER = [("4", "methode.schulung"), ("5", "huerde.zeit"), ("netz_a:8", "huerde.zeit"), ("netz_a:4", "huerde.fuehrung"),
                     ("5", "methode.schulung"), ("2", "huerde.fuehrung"), ("1", "huerde.zeit"), ("netz_a:6", "methode.schulung"),
                     ("netz_a:2", "huerde.zeit")]


def make_run(base: Path) -> Path:
    """Writes the corpus under ``base`` and codes it; returns the run folder."""
    write(base / "korpus" / "interviews" / "netz_a.txt", INTERVIEW)
    write(base / "korpus" / "umfrage" / "umfrage.csv", SURVEY)
    out = base / "lauf"
    r = CliRunner().invoke(cli, ["code", str(base / "korpus"), "--codebook", str(MINI), "--out", str(out), "--no-cache"])
    assert r.exit_code == 0, r.output
    return out


def add_candidates(run: Path) -> Path:
    write(run / "candidates.csv", CANDIDATES)
    return run
