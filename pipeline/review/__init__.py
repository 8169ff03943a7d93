"""The review loop: export the suggestions of a run for review (workbook, page, CSV), import
the reviewers' decisions into ``reviewed.csv``, and turn them into training labels.

For the verifier: ``training_labels(read_reviewed(RUN / "reviewed.csv"))`` (or
``labels_from_file(path)``) gives ``segment_id, code, label`` rows, 1 = the code applies,
0 = it does not; pairs nobody decided have no row.
"""

from pipeline.review.decisions import (
    DECISIONS, REVIEWED_COLUMNS, check_decisions, import_decisions, is_reviewed_file, labels_from_file, read_decisions,
    read_reviewed, training_labels,
)
from pipeline.review.export import export_review
from pipeline.review.run import CANDIDATE_COLUMNS, load_review_run, run_fingerprint
from pipeline.review.suggestions import ORDERS, build_suggestions

__all__ = [
    "CANDIDATE_COLUMNS", "DECISIONS", "ORDERS", "REVIEWED_COLUMNS", "build_suggestions", "check_decisions", "export_review",
    "import_decisions", "is_reviewed_file", "labels_from_file", "load_review_run", "read_decisions", "read_reviewed",
    "run_fingerprint", "training_labels",
]
