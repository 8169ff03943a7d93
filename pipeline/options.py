"""One options model: every option's default in one place, and where each value of a run came from.

Precedence: the command line (or its environment variable) > the corpus.yaml of a source folder
> :data:`DEFAULTS`. An option that was not given is ``None`` (a flag ``False``, a repeatable
option empty) until it is resolved here, so that an explicit ``--unit turn`` is told apart from
the default ``turn`` and wins over ``unit: paragraph`` in corpus.yaml.

Each run.json keeps the resolved ``options`` and, under ``option_sources``, where each came
from: ``cli``, ``env`` (an environment variable read for the option), ``corpus`` (a corpus.yaml
of a source sets it; its value applies to that source's files) or ``default``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

DEFAULTS: dict[str, object] = {
    # ingest
    "unit": "turn",
    # coding
    "verifier_embedding": "none",
    "favour": "balanced",
    "workers": 1,
    # clustering (qda cluster and the clustering stage of qda run)
    "embedding": "e5",
    "seed": 42,
    "guide_dimension": "innovationsform",
    "second_opinions": "auto",
    "stability": 0,
    # report, evaluate, exchange, review
    "quotes": 5,
    "method": "all",
    "user": "qda",
    "segments": "unit",
    "order": "uncertainty",
}

# ingest options a corpus.yaml can set for its sources (see pipeline.ingest.corpus)
CORPUS_KEYS = ("kind", "meta", "meta_pattern", "text_columns", "id_column", "meta_columns", "question_column", "encoding",
               "interviewer", "unit", "rename", "dimensions", "scope")


def default(name: str, value=None):
    """``value`` when given, else the default of option ``name``."""
    return DEFAULTS[name] if value is None else value


def is_given(value) -> bool:
    """Whether a raw option value was given: not None, not an empty list, not an unset flag."""
    return value is not None and value is not False and not (isinstance(value, (list, tuple, dict)) and not value)


@dataclass
class CodingOptions:
    """Options of the coding stage (``qda code``, ``run``); ``None``: not given."""

    nlp: str | None = None
    train: str | None = None
    train_part: str | None = None
    model: Path | None = None
    rules_only: bool = False
    threshold: float | None = None
    favour: str | None = None
    verifier_embedding: str | None = None
    scope: str | None = None
    code_interviewer: bool | None = None
    workers: int | None = None
    no_cache: bool = False

    def stage_kwargs(self) -> dict:
        """The keyword arguments of :func:`pipeline.stages.code_stage`, defaults resolved."""
        return {"nlp_name": self.nlp, "train_gold": self.train, "train_part": self.train_part, "model_path": self.model,
                "rules_only": self.rules_only, "threshold": self.threshold, "favour": default("favour", self.favour),
                "verifier_embedding": default("verifier_embedding", self.verifier_embedding), "scope": self.scope, "code_interviewer": self.code_interviewer, "workers": default("workers", self.workers),
                "no_cache": self.no_cache}

    def record(self, *, code_interviewer: bool = True) -> dict:
        """The options as run.json records them (``code_interviewer``: with that key)."""
        rec = {"nlp": self.nlp, "train": self.train, "train_part": self.train_part, "model": str(self.model) if self.model else None,
               "rules_only": self.rules_only, "threshold": self.threshold, "favour": default("favour", self.favour),
               "verifier_embedding": default("verifier_embedding", self.verifier_embedding), "scope": self.scope,
               "code_interviewer": self.code_interviewer, "workers": default("workers", self.workers), "cache": not self.no_cache}
        if not code_interviewer:
            del rec["code_interviewer"]
        return rec

    def raw(self) -> dict:
        """The values as given, by their run.json names (for :func:`option_sources`)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "no_cache"}, "cache": self.no_cache}


@dataclass
class ClusterOptions:
    """Options of ``qda cluster``; ``None``: not given."""

    where: list[str] = field(default_factory=list)
    join: list[Path] = field(default_factory=list)
    embedding: str | None = None
    embedding_model: str | None = None
    seed: int | None = None
    n_clusters: int | None = None
    min_cluster_size: int | None = None
    group_column: str | None = None
    keep_theme: bool = False
    categories: Path | None = None
    guide_codebook: Path | None = None
    guide_dimension: str | None = None
    labels: str | None = None
    uncertain_margin: float | None = None
    second_opinions: str | tuple | None = None
    gold_column: str | None = None
    stability: int | None = None


def ingest_record(opts) -> dict:
    """The ingest options as run.json records them: as given, the unit resolved."""
    return {**vars(opts), "unit": default("unit", opts.unit)}


def corpus_keys(sources: Iterable) -> set[str]:
    """The ingest options that a corpus.yaml of a source folder among ``sources`` sets.

    Raises:
        ValidationError: a corpus.yaml is invalid (ingest has said so before, if it ran).
    """
    from pipeline.ingest.corpus import load_corpus

    keys: set[str] = set()
    for src in sources:
        if Path(src).is_dir():
            for s in load_corpus(Path(src)) or []:
                keys |= {k for k in CORPUS_KEYS if is_given(getattr(s.options, k))}
    return keys


def option_sources(options: Mapping, raw: Mapping, *, corpus: Iterable[str] = (), origins: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where each of the recorded ``options`` came from.

    Args:
        options: the options as recorded in run.json (their names).
        raw: the values as they were given (``None``, empty or ``False``: not given), by the
            same names; a name not in ``raw`` counts as given when its recorded value is.
        corpus: the names a corpus.yaml of the sources sets (see :func:`corpus_keys`).
        origins: where given values came from when not from the command line
            (``{"max_unzipped_mb": "env"}``).
    """
    origins = origins or {}
    out = {}
    for name in options:
        if is_given(raw.get(name, options[name])):
            out[name] = origins.get(name, "cli")
        elif name in corpus:
            out[name] = "corpus"
        else:
            out[name] = "default"
    return out
