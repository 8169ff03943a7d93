"""Rule hits per code, cached: a re-code after a codebook edit matches only the codes that changed.

Researchers re-code after every change of the codebook, and a change usually touches one or two
codes. What the rules find for a code depends on nothing but

* the parsed units (their texts, the German pipeline) and the dimensions of their questions,
* the code's own patterns, exclusions and conditions, the named cue lists those conditions use,
  and the codes they look at (``codes: [huerde.*]``), with *their* patterns and conditions in
  turn (:func:`closure`),
* the codebook's ``matching`` settings and this version of qda's matcher.

All of that goes into one key per code (:func:`code_keys`). The judged hits of a code (spans,
pattern number, status) are stored under its key in ``<cache>/<pipeline>/hits/<key>.npz``
(numpy arrays and a JSON record, read with ``allow_pickle=False``, checked against a SHA-256).
:func:`assess_cached` reads the codes it finds, matches the others in one pass over a codebook
reduced to them and their closure, stores them, and puts all hits in the order the matcher
itself produces, so the result equals :meth:`RuleMatcher.assess` row for row (a test checks).

A missing, damaged or foreign file is matched again (never an error); the folder keeps the
:data:`MAX_FILES` most recently used files.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.atomic import atomic_path
from pipeline.codebook.model import Codebook
from pipeline.coding.kinds import KINDS, Spans
from pipeline.coding.matcher import RuleMatcher, code_conditions, hits_frame

FORMAT = 1
MAX_FILES = 2000
_INT_ARRAYS = ("unit", "s", "e", "cs", "ce", "pattern")
# the modules whose code decides what a pattern finds and how a hit is judged
_SOURCES = ("coding/matcher.py", "coding/kinds.py", "coding/context.py", "coding/words.py", "coding/hitcache.py", "nlp.py",
            "dictionary.py", "tokens.py")


@functools.lru_cache(maxsize=1)
def matcher_version() -> str:
    """A hash of qda's version and of the matcher's source files: new code, new keys."""
    import pipeline

    root = Path(pipeline.__file__).parent
    h = hashlib.sha256(pipeline.__version__.encode())
    for name in _SOURCES:
        h.update((root / name).read_bytes())
    return h.hexdigest()


def closure(codebook: Codebook, code_ids: list[str]) -> list[str]:
    """``code_ids`` and every codable code their conditions look at, transitively, in codebook order."""
    codable = [c.id for c in codebook.codable()]
    need, pending = set(code_ids), list(code_ids)
    while pending:
        for cond in code_conditions(codebook.codes[pending.pop()]):
            for glob in cond.codes:
                for cid in codable:
                    if fnmatch.fnmatchcase(cid, glob) and cid not in need:
                        need.add(cid)
                        pending.append(cid)
    return [cid for cid in codable if cid in need]


def table_key(table, questions: list | None, fingerprint: str) -> str:
    """What the units contribute to a key: pipeline, texts (with lengths, so no two lists of
    texts hash alike) and the question dimensions of each unit."""
    h = hashlib.sha256(f"{FORMAT}|{matcher_version()}|{fingerprint}|{len(table.texts)}".encode())
    h.update(json.dumps([len(t) for t in table.texts]).encode())
    h.update("\x00".join(table.texts).encode("utf-8", "surrogatepass"))
    h.update(json.dumps([sorted(q) if q else None for q in (questions or [None] * len(table.texts))]).encode())
    return h.hexdigest()


def code_keys(codebook: Codebook, units_key: str) -> dict[str, str]:
    """One key per codable code: the units, the matching settings, the code's closure with its
    patterns and conditions, and the cue lists those conditions name."""
    settings = json.dumps(codebook.matching.to_dict(), sort_keys=True)
    keys = {}
    for code in codebook.codable():
        members = [codebook.codes[cid] for cid in closure(codebook, [code.id])]
        cue_names = sorted({cue for m in members for cond in code_conditions(m) for cue in (*cond.cues, *cond.question_unless)
                            if cue in codebook.cues})
        parts = [units_key, settings, code.id]
        parts += [repr((m.id, m.include, m.exclude, m.lack_counts, m.require, m.unless)) for m in members]
        parts += [repr((name, codebook.cues[name])) for name in cue_names]
        keys[code.id] = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return keys


class HitStore:
    """The folder of cached hits of one pipeline (see the module doc)."""

    def __init__(self, root: Path | str | None, fingerprint: str):
        from pipeline.parse_cache import default_root

        self.dir = Path(root or default_root()) / fingerprint / "hits"

    def read(self, key: str) -> dict[str, np.ndarray] | None:
        path = self.dir / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in z.files}
            meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
            statuses = meta["statuses"]
            if meta.get("format") != FORMAT or meta.get("key") != key or meta.get("sha256") != _checksum(arrays, statuses):
                return None
            status = np.array(statuses, dtype=object)[arrays.pop("status")] if len(statuses) else np.zeros(0, dtype=object)
            os.utime(path)  # recently used: kept when the folder is trimmed
        except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, zipfile.BadZipFile):
            return None  # missing, truncated, damaged or foreign: matched again
        return {**{k: arrays[k].astype(np.int64) for k in _INT_ARRAYS}, "status": status}

    def write(self, key: str, hits: dict[str, np.ndarray]) -> None:
        statuses, status_no = np.unique(np.asarray(hits["status"], dtype=str), return_inverse=True)
        # the smallest integer type that holds each column: a million answers' hits take ~200 MB
        # as int64, well under half of that so
        arrays = {k: _narrow(np.asarray(hits[k], dtype=np.int64)) for k in _INT_ARRAYS}
        arrays["status"] = _narrow(status_no.ravel().astype(np.int64))
        meta = {"format": FORMAT, "key": key, "statuses": statuses.tolist(), "sha256": _checksum(arrays, statuses.tolist())}
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.dir / f"{key}.npz", private=True) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8), **arrays)
        except OSError:
            return  # a cache that cannot be written costs time, never a result
        self._trim()

    def _trim(self) -> None:
        files = list(self.dir.glob("*.npz"))
        if len(files) <= MAX_FILES:
            return
        for path in sorted(files, key=lambda p: p.stat().st_mtime)[: len(files) - MAX_FILES]:
            path.unlink(missing_ok=True)


def _narrow(values: np.ndarray) -> np.ndarray:
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if not len(values) or (values.min() >= info.min and values.max() <= info.max):
            return values.astype(dtype)
    return values


def _checksum(arrays: dict[str, np.ndarray], statuses: list[str]) -> str:
    h = hashlib.sha256(json.dumps(statuses).encode())
    for name in (*_INT_ARRAYS, "status"):
        h.update(name.encode())
        h.update(np.ascontiguousarray(arrays[name], dtype=np.int64).tobytes())
    return h.hexdigest()


def assess_cached(codebook: Codebook, table, questions: list | None, *, cache_dir=None, fingerprint: str) -> tuple[pd.DataFrame, int]:
    """:meth:`RuleMatcher.assess` of ``codebook``, with the hits of unchanged codes from the cache.

    Returns:
        The assessed hits (equal to ``RuleMatcher(codebook).assess(table, questions)``) and how
        many codes came from the cache.
    """
    store = HitStore(cache_dir, fingerprint)
    keys = code_keys(codebook, table_key(table, questions, fingerprint))
    hits = {cid: store.read(key) for cid, key in keys.items()}
    missing = [cid for cid, h in hits.items() if h is None]
    if missing:
        hits.update(_match(codebook, table, questions, missing))
        for cid in missing:
            store.write(keys[cid], hits[cid])
    return _combine(codebook, table, hits), len(keys) - len(missing)


def _match(codebook: Codebook, table, questions, code_ids: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """The judged hits of ``code_ids``, matched with a codebook reduced to them and their closure."""
    need = set(closure(codebook, code_ids))
    reduced = dataclasses.replace(codebook, codes={cid: c for cid, c in codebook.codes.items() if cid in need or not c.codable})
    matcher = RuleMatcher(reduced)
    spans, status = matcher.judged_includes(table, questions)
    per_ref = matcher.ref_arrays()
    code = per_ref["code"][spans.ref] if len(spans) else np.zeros(0, dtype=object)
    out = {}
    for cid in code_ids:
        sel = np.nonzero(code == cid)[0]
        out[cid] = {"unit": spans.unit[sel], "s": spans.s[sel], "e": spans.e[sel], "cs": spans.cs[sel], "ce": spans.ce[sel],
                    "pattern": per_ref["pattern_no"][spans.ref[sel]], "status": status[sel]}
    return out


def _combine(codebook: Codebook, table, hits: dict[str, dict[str, np.ndarray]]) -> pd.DataFrame:
    """All codes' hits in the matcher's own order: by match kind, then code (codebook order),
    then pattern, then as found (each code's rows keep the order they were found in)."""
    kind_no = {name: KINDS.index(k) for k in KINDS for name in k.serves}
    cols: dict[str, list] = {k: [] for k in ("unit", "s", "e", "cs", "ce", "status", "code", "label", "kind", "kind_no", "rank", "pattern", "seq")}
    for rank, code in enumerate(codebook.codable()):
        h = hits[code.id]
        n = len(h["unit"])
        if not n:
            continue
        pats = code.include
        for k in ("unit", "s", "e", "cs", "ce", "status", "pattern"):
            cols[k].append(h[k])
        cols["code"].append(np.full(n, code.id, dtype=object))
        cols["label"].append(np.array([pats[p].label() for p in range(len(pats))], dtype=object)[h["pattern"]])
        cols["kind"].append(np.array([pats[p].kind for p in range(len(pats))], dtype=object)[h["pattern"]])
        cols["kind_no"].append(np.array([kind_no[pats[p].kind] for p in range(len(pats))], dtype=np.int64)[h["pattern"]])
        cols["rank"].append(np.full(n, rank, dtype=np.int64))
        cols["seq"].append(np.arange(n, dtype=np.int64))
    if not cols["unit"]:
        return hits_frame(table, Spans.empty(), np.zeros(0, dtype=object), *(np.zeros(0, dtype=object),) * 3)
    a = {k: np.concatenate(v) for k, v in cols.items()}
    order = np.lexsort((a["seq"], a["pattern"], a["rank"], a["kind_no"]))
    a = {k: v[order] for k, v in a.items()}
    spans = Spans(np.zeros(len(order), dtype=np.int64), a["unit"], a["s"], a["e"], a["cs"], a["ce"], np.zeros(len(order), dtype=bool))
    return hits_frame(table, spans, a["status"], a["code"], a["label"], a["kind"])
