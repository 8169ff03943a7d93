"""Coding in partitions: large inputs one bounded part at a time, or spread over a Dask cluster.

Units are independent for the coder (every pattern, negation and exclusion stays inside one
unit), so coding the units in partitions, in this process or on many machines, and putting
the results back in order gives the same tables as coding them all at once: ``codings.csv``
is byte-identical (a test compares a run on a two-worker ``LocalCluster`` with a local run).

* :func:`code_partitioned`: ``code_segments`` over partitions of a segments table, locally or on
  Dask (``scheduler="local:N"`` starts a ``LocalCluster`` of N worker processes; any other value
  is the address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``).
* :func:`code_stream`: the same over a stream of segment tables (see
  :class:`pipeline.ingest.StreamedIngest`), writing every table to the run folder as it comes,
  so memory stays bounded for a million answers.

Dask is an optional extra (``pip install 'qda[dask]'``); without it, asking for a scheduler
raises a :class:`~pipeline.errors.QdaError` with that command.
"""

from __future__ import annotations

import collections
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from pipeline.errors import QdaError

PARTITION_UNITS = 20_000
CONNECT_TIMEOUT = "20s"
INSTALL_DASK = "pip install 'qda[dask]'   (in a checkout: uv sync --extra dask)"


# --- running partitions --------------------------------------------------------------------------

def _code_part(segments: pd.DataFrame, codebook, options: dict):
    """What a worker runs: the ordinary coder over one partition."""
    from pipeline.coding import code_segments

    return code_segments(segments, codebook, **options)


@contextlib.contextmanager
def dask_client(scheduler: str):
    """A ``dask.distributed.Client`` for ``scheduler`` (``local:N`` or an address), closed after.

    Raises:
        QdaError: Dask is not installed, ``local:N`` is malformed, or the scheduler cannot be reached.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise QdaError(f"--scheduler needs Dask (dask.distributed), which is not installed\n  → install it with: {INSTALL_DASK}") from None
    import logging

    if scheduler.startswith("local:"):
        try:
            n = int(scheduler.split(":", 1)[1])
            if n < 1:
                raise ValueError
        except ValueError:
            raise QdaError(f"--scheduler {scheduler}: expected local:N with N ≥ 1 worker processes, e.g. local:4") from None
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise QdaError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__}: {exc})\n"
                       "  → start one (dask scheduler, dask-jobqueue, Kubernetes) and give its address, or use --scheduler local:N") from None
    with client:
        yield client


def _run_local(parts: Iterable[pd.DataFrame], codebook, options: dict) -> Iterator[tuple[pd.DataFrame, object]]:
    for part in parts:
        yield part, _code_part(part, codebook, options)


def _run_dask(parts: Iterable[pd.DataFrame], codebook, options: dict, client) -> Iterator[tuple[pd.DataFrame, object]]:
    """Submits partitions, a few per worker at a time (bounded memory), and yields in order."""
    width = max(2, 2 * len(client.scheduler_info().get("workers", {})))
    cb = client.scatter(codebook, broadcast=True)
    if options.get("model") is not None:  # sent to every worker once, not with every partition
        options = {**options, "model": client.scatter(options["model"], broadcast=True)}
    window: collections.deque = collections.deque()
    for part in parts:
        window.append((part, client.submit(_code_part, part, cb, options, pure=False)))
        if len(window) >= width:
            done, fut = window.popleft()
            yield done, _result(fut)
    while window:
        done, fut = window.popleft()
        yield done, _result(fut)


def _result(future):
    """A partition's result; a worker's failure other than a QdaError becomes one clear message."""
    try:
        return future.result()
    except QdaError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever failed on a remote worker arrives here
        from pipeline import __version__

        raise QdaError(f"a Dask worker failed to code a partition ({type(exc).__name__}: {str(exc)[:300]})\n"
                       f"  → check that every worker has qda {__version__} and its dependencies installed, and enough memory") from None


def run_partitions(parts: Iterable[pd.DataFrame], codebook, *, scheduler: str | None = None, **options):
    """Yields ``(partition, CodingResult)`` in the order of ``parts``, coded here or on Dask.

    ``options`` are those of :func:`pipeline.coding.code_segments`.
    """
    if scheduler is None:
        yield from _run_local(parts, codebook, options)
        return
    options = {**options, "workers": 1}  # a Dask worker is the unit of parallelism (and may not fork)
    if scheduler.startswith("local:") and options.get("use_cache", True) and options.get("cache_dir") is None:
        from pipeline.parse_cache import default_root

        options = {**options, "cache_dir": str(default_root().resolve())}  # the workers share this process's cache
    with dask_client(scheduler) as client:
        yield from _run_dask(parts, codebook, options, client)


def partitions(segments: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    """``segments`` cut into consecutive tables of about ``size`` rows (index reset).

    Cuts fall only between documents: the coder reads an interview answer together with the
    interviewer's question before it, so a document is never split (one longer than ``size``
    stays whole).
    """
    n = len(segments)
    if n <= size:
        return [segments.reset_index(drop=True)]
    if "doc_id" in segments:
        doc = segments["doc_id"].astype(str).to_numpy()
        starts = np.nonzero(np.concatenate([[True], doc[1:] != doc[:-1]]))[0]  # first row of each document
    else:
        starts = np.arange(n)
    cuts = [0]
    while cuts[-1] + size < n:
        target = cuts[-1] + size
        before = starts[np.searchsorted(starts, target, side="right") - 1]  # the last document start in reach
        if before > cuts[-1]:
            cuts.append(int(before))
            continue
        after = np.searchsorted(starts, target)  # a document longer than size: cut after it
        if after >= len(starts):
            break
        cuts.append(int(starts[after]))
    cuts.append(n)
    return [segments.iloc[a:b].reset_index(drop=True) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]


def combine(results: list) -> object:
    """One :class:`~pipeline.coding.CodingResult` of the results of consecutive partitions."""
    from pipeline.coding import CodingResult

    def cat(frames):
        filled = [f for f in frames if len(f)]
        return pd.concat(filled, ignore_index=True) if filled else frames[0]

    return CodingResult(
        codings=cat([r.codings for r in results]), evidence=cat([r.evidence for r in results]), wide=cat([r.wide for r in results]),
        coded_mask=np.concatenate([r.coded_mask for r in results]), parse=merge_parse_stats([r.parse for r in results]),
        model_info=results[0].model_info,
        candidates=None if results[0].candidates is None else cat([r.candidates for r in results]),
    )


def merge_parse_stats(stats: list):
    from pipeline.tokens import ParseStats

    return ParseStats(units=sum(s.units for s in stats), parsed=sum(s.parsed for s in stats), cached=sum(s.cached for s in stats),
                      pipeline=stats[0].pipeline, warnings=[w for s in stats for w in s.warnings])


def code_partitioned(segments: pd.DataFrame, codebook, *, scheduler: str | None = None, partition_size: int | None = None,
                     progress=None, **options):
    """``code_segments(segments, codebook, **options)``, computed in partitions (on Dask when
    ``scheduler`` is given); the same result as one call.

    Raises:
        QdaError: as :func:`pipeline.coding.code_segments`, or Dask is missing or unreachable.
    """
    results = []
    size = partition_size or PARTITION_UNITS
    for part, res in run_partitions(partitions(segments.reset_index(drop=True), size), codebook, scheduler=scheduler, **options):
        results.append(res)
        if progress:
            progress(len(part))
    return combine(results)


# --- streaming into a run folder -----------------------------------------------------------------

class AppendedTable:
    """A CSV (and optionally Parquet) file written one table at a time.

    The columns are the first table's; a later table may lack some (written empty) but may
    not bring new ones. CSV bytes equal those of writing the concatenated table at once.
    """

    def __init__(self, csv_path: Path, parquet_path: Path | None = None):
        self.csv_path, self.parquet_path = Path(csv_path), parquet_path
        self.columns: list[str] | None = None
        self._pq = None
        self._schema = None
        self._started = False
        self.rows = 0

    def append(self, frame: pd.DataFrame) -> None:
        if self.columns is None:
            self.columns = list(frame.columns)
        else:
            extra = [c for c in frame.columns if c not in self.columns and frame[c].astype(str).ne("").any()]
            if extra:
                raise QdaError(f"a later part of the input brings column(s) {', '.join(extra)} that the first part lacks\n"
                               "  → ingest these files separately, or name the columns with --meta-column")
            frame = frame.reindex(columns=self.columns, fill_value="")
        frame.to_csv(self.csv_path, mode="a" if self._started else "w", header=not self._started, index=False, encoding="utf-8", lineterminator="\n")
        self._started = True
        if self.parquet_path is not None:
            self._append_parquet(frame)
        self.rows += len(frame)

    def _append_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False, schema=self._schema)
        if self._pq is None:
            self._schema = table.schema
            self._pq = pq.ParquetWriter(self.parquet_path, self._schema, compression="snappy")
        self._pq.write_table(table)

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
            self._pq = None


@dataclass
class StreamSummary:
    """What :func:`code_stream` coded: the counts of ``coding.summarise`` and the parse stats."""

    units: int = 0
    eligible_units: int = 0
    coded_units: int = 0
    codings: int = 0
    by_method: dict = field(default_factory=dict)
    per_dimension: dict = field(default_factory=dict)
    parse: object = None
    model_info: dict | None = None

    def add(self, result, codebook) -> None:
        self.model_info = self.model_info or result.model_info
        self.units += len(result.wide)
        self.eligible_units += int(result.coded_mask.sum())
        self.coded_units += int(result.codings["segment_id"].nunique())
        self.codings += len(result.codings)
        for k, v in result.codings["method"].value_counts().items():
            self.by_method[k] = self.by_method.get(k, 0) + int(v)
        for code in result.codings["code"]:
            d = codebook.codes[code].dimension
            self.per_dimension[d] = self.per_dimension.get(d, 0) + 1

    def as_dict(self) -> dict:
        return {"units": self.units, "eligible_units": self.eligible_units, "coded_units": self.coded_units, "codings": self.codings,
                "by_method": self.by_method, "per_dimension": self.per_dimension,
                "parsed": self.parse.parsed if self.parse else 0, "from_cache": self.parse.cached if self.parse else 0}


def code_stream(tables: Iterable[pd.DataFrame], codebook, folder: Path, *, model=None, scheduler: str | None = None,
                partition_size: int | None = None, progress=None, **options) -> StreamSummary:
    """Codes a stream of segment tables and writes ``segments.csv``, ``segments.parquet``,
    ``codings.csv``, ``codings_wide.csv``, ``evidence.csv`` (and with a verifier
    ``candidates.csv``) into ``folder`` as it goes.

    The files hold the same rows as ``qda code`` writes for the whole input; memory is bounded
    by ``partition_size`` (and the number of partitions in flight on Dask).

    Raises:
        QdaError: as :func:`code_partitioned`.
    """
    from pipeline.runfolder import path

    out = {
        "segments": AppendedTable(path(folder, "segments"), path(folder, "segments_parquet")),
        "codings": AppendedTable(path(folder, "codings")),
        "wide": AppendedTable(path(folder, "codings_wide")),
        "evidence": AppendedTable(path(folder, "evidence")),
        "candidates": AppendedTable(path(folder, "candidates")),
    }
    summary = StreamSummary()
    stats = []

    def parts():
        for table in tables:
            out["segments"].append(table)
            yield from partitions(table.reset_index(drop=True), partition_size or PARTITION_UNITS)

    try:
        for part, res in run_partitions(parts(), codebook, scheduler=scheduler, model=model, **options):
            out["codings"].append(res.codings)
            out["wide"].append(res.wide)
            out["evidence"].append(res.evidence)
            if res.candidates is not None:
                out["candidates"].append(res.candidates)
            summary.add(res, codebook)
            stats.append(res.parse)
            if progress:
                progress(len(part))
    finally:
        for t in out.values():
            t.close()
    summary.parse = merge_parse_stats(stats) if stats else None
    return summary
