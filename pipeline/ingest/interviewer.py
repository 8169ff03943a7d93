"""Who is the interviewer when the labels do not say (``SPEAKER_00``, names)?

Speech recognition numbers speakers (``SPEAKER_00``) and transcription services often write
names; neither says who asked the questions. The interviewer is then guessed as the speaker
whose turns are mostly questions, and only when one speaker clearly stands out: the guess is
reported in the ingest summary and the run record, and ``--interviewer`` overrides it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipeline.ingest.common import Unit

# a question mark near the end, or a question broken off with "/" (f4/Dresing-Pehl style)
_QUESTION = re.compile(r"\?[\s\"'“”»«)\].]*$|\?\s+\S.{0,80}$|/\s*$", re.S)
MIN_SHARE = 0.5  # at least half of the speaker's turns are questions ...
MIN_LEAD = 0.25  # ... and clearly more than anyone else's
MIN_TURNS = 3


@dataclass(frozen=True)
class InterviewerGuess:
    """The guessed interviewer, with the evidence: ``questions`` of their ``turns``."""

    speaker: str
    questions: int
    turns: int


def is_question(text: str) -> bool:
    """A turn that ends with a question (a short closing phrase after the ``?`` is allowed)."""
    return bool(_QUESTION.search(text.strip()))


def guess_interviewer(units: list[Unit]) -> InterviewerGuess | None:
    """The speaker whose turns are mostly questions, or None when no one clearly is.

    A speaker qualifies with at least 3 turns, at least half of them questions, while every
    other speaker's turns are mostly not questions and at least 0.25 less often so.
    """
    turns = Counter(u.speaker for u in units if u.speaker)
    if len(turns) < 2:
        return None
    questions = Counter(u.speaker for u in units if u.speaker and is_question(u.text))
    shares = sorted(((questions[s] / n, s) for s, n in turns.items()), reverse=True)
    (best_share, best), (second_share, _) = shares[0], shares[1]
    if turns[best] < MIN_TURNS or best_share < MIN_SHARE or second_share >= MIN_SHARE or best_share - second_share < MIN_LEAD:
        return None
    return InterviewerGuess(best, questions[best], turns[best])
