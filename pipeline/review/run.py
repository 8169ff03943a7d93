"""What the review reads from a run folder of ``qda code``, and the run's fingerprint.

The fingerprint ties an exported review file to the run it came from: a hash of the codebook's
SHA-256 (from ``run.json``) and of every unit's ID and text (``segments.csv``). Re-coding the
same units with the same codebook (say, with a retrained verifier) keeps the fingerprint, so
decisions carry over; another corpus or another codebook changes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline import runfolder
from pipeline.errors import InputError, ValidationError

CANDIDATE_COLUMNS = list(runfolder.FILES["candidates"].required)
FINGERPRINT_PREFIX = "qda-review-1"


@dataclass
class CodeInfo:
    """One codable code as the reviewer sees it."""

    id: str
    label: str = ""
    dimension: str = ""
    definition: str = ""
    anchor_examples: list[str] = field(default_factory=list)
    coding_rules: list[str] = field(default_factory=list)


@dataclass
class ReviewRun:
    """A run folder as the review needs it.

    Attributes:
        folder: the run folder.
        segments: ``segments.csv`` typed (see :mod:`pipeline.runfolder`), in file order
            (document, then position).
        codings: ``codings.csv`` typed.
        evidence: ``evidence.csv`` (every rule hit) or None.
        candidates: ``candidates.csv`` of the verifier (score, threshold as floats, accepted as
            int) or None for a rules-only run.
        record: ``run.json``.
        codebook: name, version, sha256 and path of the codebook the run used.
        codes: the codable codes, in codebook order.
        fingerprint: see the module docstring.
    """

    folder: Path
    segments: pd.DataFrame
    codings: pd.DataFrame
    evidence: pd.DataFrame | None
    candidates: pd.DataFrame | None
    record: dict
    codebook: dict
    codes: list[CodeInfo]
    fingerprint: str
    warnings: list[str] = field(default_factory=list)

    @property
    def code_ids(self) -> list[str]:
        return [c.id for c in self.codes]


def _from_record(record: dict, key: str):
    """A key of the coding stage's record: at the top, or in an earlier stage (``qda report``
    rewrites run.json and keeps the coding stage's record under ``stages``)."""
    if record.get(key):
        return record[key]
    for stage in (record.get("stages") or {}).values():
        if isinstance(stage, dict) and stage.get(key):
            return stage[key]
    return None


def run_fingerprint(segments: pd.DataFrame, codebook_sha256: str) -> str:
    """16 hex digits identifying a run by its codebook and its units' IDs and texts."""
    units = json.dumps([[s, t] for s, t in zip(segments["segment_id"].astype(str), segments["text"].astype(str))], ensure_ascii=False)
    digest = hashlib.sha256(f"{FINGERPRINT_PREFIX}\n{codebook_sha256}\n".encode() + units.encode("utf-8")).hexdigest()
    return digest[:16]


def _codes_of(record: dict, codings: pd.DataFrame, warnings: list[str]) -> list[CodeInfo]:
    """The codable codes with label and definition from the codebook file, if it can be read."""
    ids = _from_record(record, "codes") or sorted(set(codings["code"]))
    cb_path = (_from_record(record, "codebook") or {}).get("path")
    if not cb_path or not Path(cb_path).is_file():
        warnings.append(f"the codebook file {cb_path or '(not named in run.json)'} was not found: the codebook sheet lists the code IDs only")
        return [CodeInfo(i, dimension=i.split(".")[0]) for i in ids]
    from pipeline.codebook import load_codebook

    cb, _ = load_codebook(cb_path, strict=False)
    if cb.sha256 != (_from_record(record, "codebook") or {}).get("sha256"):
        warnings.append(f"{cb_path} changed since the run: definitions are shown from the current file")
    out = []
    for i in ids:
        c = cb.codes.get(i)
        if c is None:
            out.append(CodeInfo(i, dimension=i.split(".")[0]))
            continue
        dim = cb.codes[c.dimension].label if c.dimension in cb.codes else c.dimension
        out.append(CodeInfo(i, c.label, dim, c.definition, list(c.anchor_examples), list(c.coding_rules)))
    return out


def load_review_run(folder: Path | str) -> ReviewRun:
    """Reads a run folder of ``qda code`` (or ``qda run``) for the review.

    Raises:
        InputError: the folder, ``segments.csv`` or ``codings.csv`` is missing, or a table is
            malformed (see :func:`pipeline.runfolder.read`).
        ValidationError: ``candidates.csv`` or ``codings.csv`` names units the run does not have.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder", "give the run folder written by 'qda code' or 'qda run'")
    for name in ("segments", "codings"):
        if not runfolder.exists(folder, name):
            raise runfolder.missing_file(folder, name, "run 'qda code SOURCE --codebook FILE --out DIR' (or 'qda run') first and review that DIR")
    segments, codings = runfolder.read_segments(folder), runfolder.read_codings(folder)
    evidence = runfolder.read_evidence(folder, missing_ok=True)
    candidates = runfolder.read_candidates(folder, missing_ok=True)
    record = runfolder.read_record(folder) or {}
    known = set(segments["segment_id"])
    for name, table in (("codings", codings), ("candidates", candidates)):
        if table is not None and not set(table["segment_id"]) <= known:
            stray = sorted(set(table["segment_id"]) - known)
            raise ValidationError(runfolder.path(folder, name), [("segment_id", f"{len(stray)} unit(s) not in segments.csv: {', '.join(stray[:5])}")],
                                  title="does not fit the run's segments")
    cb = dict(_from_record(record, "codebook") or {})
    warnings: list[str] = []
    codes = _codes_of(record, codings, warnings)
    return ReviewRun(folder, segments, codings, evidence, candidates, record, cb, codes,
                     run_fingerprint(segments, cb.get("sha256", "")), warnings)
