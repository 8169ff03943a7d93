"""The library face of qda: one plain function per command, which the ``qda`` command line calls.

Each function takes plain values (paths, option objects such as
:class:`pipeline.options.CodingOptions`, :class:`pipeline.ingest.IngestOptions`,
:class:`ClusterOptions`), writes what its docstring names, and returns a result whose ``lines``
summarise it. It never prints and never exits: errors a user can fix are raised as
:class:`pipeline.errors.QdaError` (:class:`~pipeline.errors.UsageError` for options that do not
fit together).

    from pipeline import api
    run = api.run_pipeline(Path("corpora/beispiel"), out_dir=Path("outputs/probe"), cluster=False)
    print(run.summary["codings"])
"""

from pipeline.api.analysis import Written, agreement, cluster, compare, evaluate, report
from pipeline.api.base import Line, Result, default_corpus, newest_codebook
from pipeline.api.corpus import CodingRun, IngestRun, code, ingest, run_pipeline
from pipeline.api.exchange import (
    Exchanged, diff_codebooks, export_codebook, export_project, import_codebook,
    import_project, review_export, review_import, show_codebook, validate_codebook,
)
from pipeline.options import ClusterOptions, CodingOptions

__all__ = [
    "ClusterOptions", "CodingOptions", "CodingRun", "Exchanged", "IngestRun", "Line", "Result", "Written",
    "agreement", "cluster", "code", "compare", "default_corpus", "diff_codebooks", "evaluate", "export_codebook", "export_project",
    "import_codebook", "import_project", "ingest", "newest_codebook", "report", "review_export", "review_import", "run_pipeline",
    "show_codebook", "validate_codebook",
]
