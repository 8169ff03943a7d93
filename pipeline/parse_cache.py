"""The parse cache: token arrays of parsed unit texts, stored as data (never pickle).

Layout: ``<root>/<pipeline fingerprint>/`` holds shards ``parse-<random>.npz`` (one per parse
that found new texts) and the word memo ``words.json``. A shard is a plain ``.npz`` (numpy
arrays, loaded with ``allow_pickle=False``): the 16-byte keys of its unit texts (SHA-256
prefixes), tokens per unit, per token the vocabulary row, character offset and sentence start,
the vocabulary as ``(orth, norm)`` hash pairs, their strings as JSON, and a ``meta`` record with
the format version, the pipeline fingerprint and a SHA-256 over all of it.

Why this shape: a re-code with a changed codebook reads a few arrays per shard (tens of
megabytes for a million tokens, no Python objects per token); editing one transcript parses only
its changed units.

Safety: a shard is written under a unique temporary name and moved into place, and shard names
are random, so concurrent processes never write the same file; a reader that finds a damaged,
truncated or foreign shard says so in :attr:`ParseCache.warnings`, removes it and lets the
caller parse those texts again. Nothing in the cache can stop a run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np

from pipeline.atomic import atomic_path
from pipeline.tokens import Parsed

FORMAT = 2
_ARRAYS = ("keys", "lengths", "lex", "idx", "start", "vocab", "hashes", "strings")
_STALE_TMP_SECONDS = 3600
# keys of the shards this process has read: shards are immutable, so a name identifies content
_KEYS: dict[Path, np.ndarray] = {}


class DamagedShard(Exception):
    """A shard that cannot be read as a whole and valid shard of this format."""


def default_root() -> Path:
    return Path(os.environ.get("QDA_CACHE_DIR") or ".qda-cache")


class ParseCache:
    """Parsed unit texts of one pipeline, keyed by text.

    Args:
        root: cache root; default ``$QDA_CACHE_DIR`` or ``.qda-cache``.
        fingerprint: the pipeline's fingerprint (see :func:`pipeline.nlp.pipeline_info`).
    """

    def __init__(self, root: Path | str | None, fingerprint: str):
        self.dir = Path(root or default_root()) / fingerprint
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fingerprint = fingerprint
        self.warnings: list[str] = []
        self._clean_stale()

    @property
    def memo_path(self) -> Path:
        return self.dir / "words.json"

    def shards(self) -> list[Path]:
        return sorted(self.dir.glob("parse-*.npz"))

    # --- reading -----------------------------------------------------------------------------
    def read(self, keys: list[bytes]) -> tuple[Parsed | None, dict[bytes, int]]:
        """The cached parses among ``keys``.

        Returns:
            ``(parsed, rows)``: ``rows[key]`` is the unit of ``parsed`` holding that text;
            keys that are not (or no longer readably) cached are absent.
        """
        if not keys:
            return None, {}
        query = np.array(keys, dtype="S16")
        order = np.argsort(query)
        sorted_q = query[order]
        wanted: dict[Path, tuple[np.ndarray, np.ndarray]] = {}  # shard -> (query positions, rows)
        taken = np.zeros(len(query), dtype=bool)
        for path in self.shards():
            skeys = self._keys(path)
            if skeys is None or not len(skeys):
                continue
            hit = np.isin(sorted_q, skeys) & ~taken[order]
            if not hit.any():
                continue
            qpos = order[hit]
            sorter = np.argsort(skeys)
            rows = sorter[np.searchsorted(skeys, query[qpos], sorter=sorter)]
            taken[qpos] = True
            wanted[path] = (qpos, rows)
        parts: list[Parsed] = []
        found: dict[bytes, int] = {}
        base = 0
        for path, (qpos, rows) in wanted.items():
            try:
                shard = self._load(path)
            except FileNotFoundError:
                continue  # removed by another process meanwhile: parsed again
            except DamagedShard as exc:
                self._discard(path, str(exc))
                continue
            parts.append(shard.take(rows))
            found.update((keys[q], base + j) for j, q in enumerate(qpos.tolist()))
            base += len(rows)
        if not parts:
            return None, {}
        return Parsed.concat(parts), found

    def _keys(self, path: Path) -> np.ndarray | None:
        if path in _KEYS:
            return _KEYS[path]
        try:
            with np.load(path, allow_pickle=False) as z:
                keys = z["keys"]
            if keys.dtype != np.dtype("S16"):
                raise ValueError("keys are not 16-byte strings")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            self._discard(path, f"unreadable ({type(exc).__name__})")
            return None
        _KEYS[path] = keys
        return keys

    def _load(self, path: Path) -> Parsed:
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {name: z[name] for name in _ARRAYS}
                meta = json.loads(z["meta"].tobytes().decode("utf-8"))
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError, KeyError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
            raise DamagedShard(f"unreadable ({type(exc).__name__})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("fingerprint") != self.fingerprint:
            raise DamagedShard("not a parse shard of this format and pipeline")
        if _checksum(arrays) != meta.get("sha256"):
            raise DamagedShard("checksum mismatch")
        try:
            strings = json.loads(arrays["strings"].tobytes().decode("utf-8"))
            parsed = Parsed(
                lengths=arrays["lengths"].astype(np.int64), lex=arrays["lex"].astype(np.uint32), idx=arrays["idx"].astype(np.int32),
                start=arrays["start"].astype(bool), vocab=arrays["vocab"].astype(np.uint64).reshape(-1, 2),
                strings=dict(zip(arrays["hashes"].tolist(), strings)),
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise DamagedShard(f"inconsistent ({type(exc).__name__})") from None
        if (int(parsed.lengths.sum()) != len(parsed.lex) or len(parsed.idx) != len(parsed.lex) or len(parsed.start) != len(parsed.lex)
                or len(arrays["keys"]) != parsed.n_units or (len(parsed.lex) and int(parsed.lex.max()) >= len(parsed.vocab))):
            raise DamagedShard("inconsistent array sizes")
        return parsed

    def _discard(self, path: Path, why: str) -> None:
        self.warnings.append(f"parse cache entry {path} is {why}; its texts are parsed again")
        _KEYS.pop(path, None)
        with contextlib.suppress(OSError):
            path.unlink()

    # --- writing -----------------------------------------------------------------------------
    def write(self, keys: list[bytes], parsed: Parsed) -> Path | None:
        """Stores ``parsed`` (unit ``i`` is the text of ``keys[i]``) as a new shard.

        A cache that cannot be written (full disk, read-only folder) is reported in
        :attr:`warnings` and skipped: the run goes on without it.
        """
        if not keys:
            return None
        hashes = sorted(parsed.strings)
        arrays = {
            "keys": np.array(keys, dtype="S16"),
            "lengths": parsed.lengths.astype(np.int64),
            "lex": parsed.lex.astype(np.uint32),
            "idx": parsed.idx.astype(np.int32),
            "start": parsed.start.astype(bool),
            "vocab": parsed.vocab.astype(np.uint64).reshape(-1, 2),
            "hashes": np.array(hashes, dtype=np.uint64),
            "strings": np.frombuffer(json.dumps([parsed.strings[h] for h in hashes], ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        }
        meta = {"format": FORMAT, "fingerprint": self.fingerprint, "units": len(keys), "tokens": len(parsed.lex), "sha256": _checksum(arrays)}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        final = self.dir / f"parse-{uuid.uuid4().hex}.npz"
        try:
            with atomic_path(final, private=True) as tmp, open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        except OSError as exc:
            self.warnings.append(f"could not write the parse cache in {self.dir} ({exc.strerror or exc}); the next run parses again")
            return None
        _KEYS[final] = arrays["keys"]
        return final

    def _clean_stale(self) -> None:
        """Removes temporary files that crashed writers left behind (old enough to be dead)."""
        now = time.time()
        for tmp in self.dir.glob(".*.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > _STALE_TMP_SECONDS:
                    tmp.unlink()


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in _ARRAYS:
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()
