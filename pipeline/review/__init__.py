"""The review loop: export the suggestions of a run for review (workbook, page, CSV), import
the reviewers' decisions into ``reviewed.csv``, and turn them into training labels.

The decisions: ``training_labels(read_reviewed(RUN / "reviewed.csv"))`` (or
``labels_from_file(path)``) gives ``segment_id, code, label`` rows, 1 = the code applies,
0 = it does not; pairs nobody decided have no row. For the verifier,
``reviewed_training_labels(path)`` adds the run's clear "no"s (see :mod:`pipeline.review.training`).
Every import's round is kept in ``RUN/review/curve.csv`` (:mod:`pipeline.review.curve`).
"""

from pipeline.review.decisions import (
    DECISIONS, REVIEWED_COLUMNS, check_decisions, import_decisions, is_reviewed_file, labels_from_file, read_decisions,
    read_reviewed, training_labels,
)
from pipeline.review.export import export_review
from pipeline.review.run import CANDIDATE_COLUMNS, load_review_run, run_fingerprint
from pipeline.review.suggestions import ORDERS, build_suggestions
from pipeline.review.training import reviewed_training_labels, run_negatives

__all__ = [
    "CANDIDATE_COLUMNS", "DECISIONS", "ORDERS", "REVIEWED_COLUMNS", "build_suggestions", "check_decisions", "export_review",
    "import_decisions", "is_reviewed_file", "labels_from_file", "load_review_run", "read_decisions", "read_reviewed",
    "reviewed_training_labels", "run_fingerprint", "run_negatives", "training_labels",
]
