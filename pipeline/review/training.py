"""What ``qda code --train RUN/reviewed.csv`` learns from: the reviewers' decisions, and the run's
own clear "no"s.

Reviewed decisions are a biased sample: a reviewer only sees what the run suggested (its
codings and, with a verifier, the pairs scored near the threshold). Trained on those alone, a
classifier never meets the ordinary unit that has nothing to do with a code, learns that nearly
everything it is shown is positive, and codes far too much (measured in
``bench/review_curve.py``). So the run's clear "no"s join the decisions as negatives: every
(unit, code) of the run's eligible units that the run neither coded nor listed as a candidate
and for which no rule found evidence. They are the rules' (or the earlier verifier's) verdict,
not a reviewer's — a pair the run suggested but nobody decided stays unknown, so a partly
reviewed unit still says nothing about the suggestions nobody decided.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import runfolder
from pipeline.review.decisions import read_reviewed, training_labels

SOURCES = ("reviewed", "run")  # a label's origin; a reviewer's decision outranks the run's "no"
LABEL_COLUMNS = ["segment_id", "code", "label", "source"]


def run_negatives(run) -> pd.DataFrame:
    """The run's clear "no"s: ``segment_id, code, label (0), source (run)`` for every eligible
    unit and codable code with no coding, no candidate and no rule evidence in the run."""
    from pipeline.coding import eligible_units

    seg = run.segments
    units = seg.loc[eligible_units(seg, code_interviewer=False), "segment_id"].astype(str).tolist()
    said = set(zip(run.codings["segment_id"].astype(str), run.codings["code"].astype(str)))
    for table in (run.evidence, run.candidates):
        if table is not None:
            said |= set(zip(table["segment_id"].astype(str), table["code"].astype(str)))
    rows = [(u, c) for u in units for c in run.code_ids if (u, c) not in said]
    return pd.DataFrame({"segment_id": [r[0] for r in rows], "code": [r[1] for r in rows], "label": 0, "source": "run"},
                        columns=LABEL_COLUMNS)


def reviewed_training_labels(path: Path | str, *, with_run: bool = True) -> pd.DataFrame:
    """Training labels from a ``reviewed.csv``: its decisions (see
    :func:`pipeline.review.decisions.training_labels`, ``source = reviewed``) and, when the file
    lies in its run folder and ``with_run``, the run's clear "no"s (:func:`run_negatives`) on
    the pairs nobody decided.

    Raises:
        InputError: ``reviewed.csv`` is missing or malformed; the run folder next to it lacks
            ``segments.csv`` or ``codings.csv``.
    """
    from pipeline.review.run import load_review_run

    path = Path(path)
    decided = training_labels(read_reviewed(path)).assign(source="reviewed")
    folder = path.parent
    if not with_run or not (runfolder.exists(folder, "segments") and runfolder.exists(folder, "codings")):
        return decided[LABEL_COLUMNS]
    implicit = run_negatives(load_review_run(folder))
    keys = set(zip(decided["segment_id"], decided["code"]))
    implicit = implicit[[k not in keys for k in zip(implicit["segment_id"], implicit["code"])]]
    return pd.concat([decided, implicit], ignore_index=True)[LABEL_COLUMNS]
