"""Which units to cluster: ``--where COLUMN=GLOB`` filters."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from pipeline.errors import QdaError


def parse_where(items: list[str]) -> list[tuple[str, str]]:
    """``["question=innovationsbeispiel"]`` → ``[("question", "innovationsbeispiel")]``.

    Raises:
        QdaError: an item without ``=``.
    """
    out = []
    for item in items:
        if "=" not in item:
            raise QdaError(f"--where '{item}' is not COLUMN=PATTERN (e.g. question=innovationsbeispiel or code=innovationsform.*)")
        k, v = item.split("=", 1)
        out.append((k.strip(), v.strip()))
    return out


def apply_where(segments: pd.DataFrame, where: list[tuple[str, str]], codings: pd.DataFrame | None) -> pd.DataFrame:
    """Keeps units matching every ``COLUMN=GLOB`` (``code=…`` looks at a previous run's codings).

    Raises:
        QdaError: an unknown column, or ``code=`` without codings.
    """
    import fnmatch

    mask = np.ones(len(segments), dtype=bool)
    for col, pattern in where:
        rx = re.compile(fnmatch.translate(pattern))
        if col == "code":
            if codings is None:
                raise QdaError("--where code=… needs a run folder of 'qda code' (with codings.csv) as SOURCE")
            ids = set(codings.loc[codings["code"].astype(str).map(lambda c, rx=rx: bool(rx.match(c))), "segment_id"].astype(str))
            mask &= segments["segment_id"].astype(str).isin(ids).to_numpy()
        else:
            if col not in segments.columns:
                raise QdaError(f"--where: no column '{col}'; columns: {', '.join(segments.columns)}")
            mask &= segments[col].fillna("").astype(str).map(lambda v, rx=rx: bool(rx.match(v))).to_numpy()
    return segments[mask]
