"""The options that say how to read a source: given on the command line, or per source in a
corpus folder's ``corpus.yaml`` (:mod:`pipeline.ingest.corpus`), which is why they live apart
from the readers that use them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SurveyOptions:
    """Which columns of a survey table are what (each guessed when not given)."""

    text_columns: list[str] = field(default_factory=list)
    id_column: str | None = None
    meta_columns: list[str] = field(default_factory=list)
    question_column: str | None = None
    encoding: str | None = None
    sheet: str | None = None  # XLSX: the sheet to read (name, or number from 1); None: the first with answers
    # where a column option was written, when not on the command line: {"text_columns":
    # "corpus.yaml → sources[1] → text_columns"}, so that a wrong name is looked for there
    origin: dict = field(default_factory=dict)


@dataclass
class IngestOptions(SurveyOptions):
    """Options of ``qda ingest`` (and every command that ingests)."""

    # text_columns, id_column, meta_columns, question_column, encoding: see SurveyOptions
    interviewer: list[str] = field(default_factory=list)
    unit: str | None = None  # None: as corpus.yaml says, else "turn" (an explicit "turn" wins over corpus.yaml)
    meta: dict = field(default_factory=dict)
    kind: str | None = None
    meta_pattern: str | None = None
    rename: dict = field(default_factory=dict)
    # which codebook dimensions a unit may get: {question: [dims]} or [dims] for every unit
    dimensions: dict | list = field(default_factory=dict)
    scope: str | None = None  # "hard": the dimensions limit the codes (corpus.yaml scope: hard)
    # per-member limit for .docx/.xlsx archives in MB; None: $QDA_MAX_UNZIPPED_MB or 256
    max_unzipped_mb: float | None = None
