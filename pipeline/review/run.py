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

from pipeline.errors import InputError, ValidationError

CANDIDATE_COLUMNS = ["segment_id", "code", "score", "threshold", "accepted"]
CANDIDATE_OPTIONAL = ["evidence", "pattern"]
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
        segments: ``segments.csv`` as strings, in file order (document, then position).
        codings: ``codings.csv`` as strings.
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


def _read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


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


def read_candidates(path: Path) -> pd.DataFrame:
    """Reads the verifier's ``candidates.csv``.

    Raises:
        InputError: a column is missing, or a score, threshold or accepted value is not a number.
    """
    cand = _read_table(path)
    missing = [c for c in CANDIDATE_COLUMNS if c not in cand.columns]
    if missing:
        raise InputError(path, f"lacks the column(s) {', '.join(missing)}", f"candidates.csv needs {', '.join(CANDIDATE_COLUMNS)}; run 'qda code' again")
    for col in CANDIDATE_OPTIONAL:
        if col not in cand.columns:
            cand[col] = ""
    accepted = cand["accepted"].str.strip().str.lower().map({"1": 1, "0": 0, "true": 1, "false": 0, "1.0": 1, "0.0": 0})
    for col, values in (("score", pd.to_numeric(cand["score"], errors="coerce")), ("threshold", pd.to_numeric(cand["threshold"], errors="coerce")),
                        ("accepted", accepted)):
        bad = values.isna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 2
            raise InputError(path, f"{col} {cand.loc[bad.idxmax(), col]!r} is not a number", "candidates.csv is written by 'qda code'; run it again", where=f"row {row}")
        cand[col] = values.astype(int) if col == "accepted" else values.astype(float)
    return cand


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
        InputError: the folder, ``segments.csv`` or ``codings.csv`` is missing, or
            ``candidates.csv`` is malformed.
        ValidationError: ``candidates.csv`` or ``codings.csv`` names units the run does not have.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(folder, "is not a folder", "give the run folder written by 'qda code' or 'qda run'")
    for name in ("segments.csv", "codings.csv"):
        if not (folder / name).is_file():
            raise InputError(folder, f"has no {name}", "run 'qda code SOURCE --codebook FILE --out DIR' (or 'qda run') first and review that DIR")
    segments = _read_table(folder / "segments.csv")
    codings = _read_table(folder / "codings.csv")
    evidence = _read_table(folder / "evidence.csv") if (folder / "evidence.csv").is_file() else None
    candidates = read_candidates(folder / "candidates.csv") if (folder / "candidates.csv").is_file() else None
    record = {}
    if (folder / "run.json").is_file():
        record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    known = set(segments["segment_id"])
    for name, table in (("codings.csv", codings), ("candidates.csv", candidates)):
        if table is not None and not set(table["segment_id"]) <= known:
            stray = sorted(set(table["segment_id"]) - known)
            raise ValidationError(folder / name, [("segment_id", f"{len(stray)} unit(s) not in segments.csv: {', '.join(stray[:5])}")],
                                  title="does not fit the run's segments")
    cb = dict(_from_record(record, "codebook") or {})
    warnings: list[str] = []
    codes = _codes_of(record, codings, warnings)
    return ReviewRun(folder, segments, codings, evidence, candidates, record, cb, codes,
                     run_fingerprint(segments, cb.get("sha256", "")), warnings)
