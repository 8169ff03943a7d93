"""Parsed units as a token table, and the parse cache.

The coder needs, per token, its text, its match key (``norm_``), its character offset and
whether it starts a sentence. :class:`TokenTable` keeps exactly that for a whole corpus in
flat numpy arrays (spaCy's hash values for the strings), so matching runs over arrays instead
of millions of ``Token`` objects, and a cached parse loads in a fraction of a second.

Why not spaCy's ``DocBin`` as the cache: measured here on 500k tokens, loading a DocBin back
into ``Doc`` objects took 0.8 s and serialising it 1.1 s, while the arrays load in ~0.05 s;
a second run with a changed codebook should not pay for objects it does not use.

The cache lives in ``.qda-cache/<pipeline fingerprint>/`` (override with ``QDA_CACHE_DIR`` or
``cache_dir``); entries are keyed by the SHA-256 of the unit text, so editing one transcript
re-parses only its changed units.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.nlp import cheap_info, lemmatize, load_memo, load_nlp, memo_size, pipeline_info, save_memo

ATTRS = ("ORTH", "NORM", "IDX", "SENT_START")


@dataclass(eq=False)
class TokenTable:
    """Tokens of ``n`` units, concatenated.

    ``offsets[i]:offsets[i+1]`` are the tokens of unit ``i``; ``idx`` is the character offset
    of a token in its unit's text; ``sent`` is a corpus-wide sentence number.
    """

    texts: list[str]
    orth: np.ndarray  # uint64 hashes
    norm: np.ndarray  # uint64 hashes
    idx: np.ndarray  # int32
    sent: np.ndarray  # int64
    offsets: np.ndarray  # int64, len n+1
    strings: dict[int, str]

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def text_of(self, h: int) -> str:
        return self.strings[int(h)]

    def unit_of(self, pos: np.ndarray | int):
        return np.searchsorted(self.offsets, pos, side="right") - 1


def _arrays_of(docs) -> tuple[list[np.ndarray], dict[int, str]]:
    """Per doc a ``(n_tokens, 4)`` uint64 array of ORTH, NORM, IDX, SENT_START, and the strings."""
    from spacy.attrs import IDX, NORM, ORTH, SENT_START

    chunks = []
    vocab = None
    for doc in docs:
        chunks.append(doc.to_array([ORTH, NORM, IDX, SENT_START]).astype(np.uint64, copy=False).reshape(-1, 4))
        vocab = doc.vocab
    strings: dict[int, str] = {}
    if vocab is not None and chunks:
        hashes = np.unique(np.concatenate([c[:, :2].ravel() for c in chunks]))
        strings = {h: vocab.strings[h] for h in hashes.tolist()}
    return chunks, strings


def _parse_worker(args):
    texts, nlp_name = args
    nlp = load_nlp(nlp_name)
    chunks, strings = _arrays_of(nlp.pipe(texts, batch_size=512))
    return chunks, strings


def _table(texts: list[str], chunks: list[np.ndarray], strings: dict[int, str]) -> TokenTable:
    lengths = np.array([len(c) for c in chunks], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    if chunks and offsets[-1]:
        allarr = np.concatenate([c for c in chunks if len(c)])
    else:
        allarr = np.zeros((0, 4), dtype=np.uint64)
    starts = allarr[:, 3] == 1
    # a unit always starts a sentence, whatever the parser says
    starts[offsets[:-1][lengths > 0]] = True
    sent = np.cumsum(starts) - 1
    return TokenTable(
        texts=list(texts),
        orth=allarr[:, 0].astype(np.uint64),
        norm=allarr[:, 1].astype(np.uint64),
        idx=allarr[:, 2].astype(np.int32),
        sent=sent.astype(np.int64),
        offsets=offsets,
        strings=strings,
    )


def table_from_docs(docs) -> TokenTable:
    docs = list(docs)
    chunks, strings = _arrays_of(docs)
    return _table([d.text for d in docs], chunks, strings)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class ParseCache:
    """Token arrays of parsed unit texts, keyed by text hash, one folder per pipeline."""

    def __init__(self, root: Path | str | None, fingerprint: str):
        root = Path(root or os.environ.get("QDA_CACHE_DIR") or ".qda-cache")
        self.dir = root / fingerprint
        self.dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.dir / "index.sqlite")
        self.db.execute("CREATE TABLE IF NOT EXISTS docs (hash TEXT PRIMARY KEY, shard INTEGER, pos INTEGER)")
        self.db.execute("CREATE TABLE IF NOT EXISTS shards (id INTEGER PRIMARY KEY)")

    def lookup(self, hashes: list[str]) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        uniq = list(dict.fromkeys(hashes))
        for i in range(0, len(uniq), 900):
            part = uniq[i:i + 900]
            q = f"SELECT hash, shard, pos FROM docs WHERE hash IN ({','.join('?' * len(part))})"
            for h, shard, pos in self.db.execute(q, part):
                found[h] = (shard, pos)
        return found

    def store(self, hashes: list[str], chunks: list[np.ndarray], strings: dict[int, str]) -> None:
        cur = self.db.execute("INSERT INTO shards DEFAULT VALUES")
        shard = cur.lastrowid
        lengths = np.array([len(c) for c in chunks], dtype=np.int64)
        data = np.concatenate([c for c in chunks if len(c)]) if lengths.sum() else np.zeros((0, 4), dtype=np.uint64)
        keys = np.array(list(strings.keys()), dtype=np.uint64)
        tmp = self.dir / f".shard-{shard}.npz.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, data=data, lengths=lengths, keys=keys)
        os.replace(tmp, self.dir / f"shard-{shard}.npz")
        (self.dir / f"shard-{shard}.json").write_text(json.dumps(list(strings.values()), ensure_ascii=False), encoding="utf-8")
        self.db.executemany("INSERT OR REPLACE INTO docs (hash, shard, pos) VALUES (?, ?, ?)", [(h, shard, i) for i, h in enumerate(hashes)])
        self.db.commit()

    def load(self, where: dict[str, tuple[int, int]], hashes: list[str]) -> tuple[list[np.ndarray], dict[int, str]]:
        by_shard: dict[int, list[int]] = {}
        for h in hashes:
            by_shard.setdefault(where[h][0], []).append(where[h][1])
        rows: dict[tuple[int, int], np.ndarray] = {}
        strings: dict[int, str] = {}
        for shard in by_shard:
            with np.load(self.dir / f"shard-{shard}.npz") as z:
                data, lengths, keys = z["data"], z["lengths"], z["keys"]
            vals = json.loads((self.dir / f"shard-{shard}.json").read_text(encoding="utf-8"))
            strings.update(zip(keys.tolist(), vals))
            offs = np.concatenate([[0], np.cumsum(lengths)])
            for pos in set(by_shard[shard]):
                rows[(shard, pos)] = data[offs[pos]:offs[pos + 1]]
        return [rows[where[h]] for h in hashes], strings

    def close(self) -> None:
        self.db.close()


@dataclass
class ParseStats:
    units: int
    parsed: int
    cached: int
    pipeline: dict


def parse_texts(
    texts: list[str],
    *,
    nlp_name: str | None = None,
    cache_dir: Path | str | None = None,
    use_cache: bool = True,
    workers: int = 1,
    progress=None,
) -> tuple[TokenTable, ParseStats]:
    """Parses unit texts (or takes them from the cache) into a :class:`TokenTable`.

    Args:
        texts: the unit texts, in order.
        nlp_name: pipeline name or path (see :func:`pipeline.nlp.load_nlp`).
        cache_dir: cache root; default ``.qda-cache`` or ``$QDA_CACHE_DIR``.
        use_cache: read and write the cache.
        workers: processes for parsing (1 = in this process).
        progress: optional callable ``progress(n_done)`` called as batches finish.
    """
    info = cheap_info(nlp_name)
    nlp = None
    if info is None:
        nlp = load_nlp(nlp_name)
        info = pipeline_info(nlp)
    hashes = [text_hash(t) for t in texts]
    cache = ParseCache(cache_dir, info["fingerprint"]) if use_cache else None
    if cache:
        load_memo(cache.dir / "words.pkl")
    memo_before = memo_size()
    found = cache.lookup(hashes) if cache else {}
    missing = [i for i, h in enumerate(hashes) if h not in found]
    # parse each distinct missing text once
    unparsed: dict[str, int] = {}
    for i in missing:
        unparsed.setdefault(hashes[i], i)
    unparsed_idx = list(unparsed.values())
    new_chunks: list[np.ndarray] = []
    strings: dict[int, str] = {}
    if unparsed_idx:
        nlp = nlp or load_nlp(nlp_name)
        unparsed_texts = [texts[i] for i in unparsed_idx]
        lemmatize("Vorbereitung")  # load the dictionary once here, so forked workers share it
        if workers > 1 and len(unparsed_texts) >= 2000:
            from concurrent.futures import ProcessPoolExecutor
            import multiprocessing as mp

            size = max(500, len(unparsed_texts) // (workers * 4))
            parts = [unparsed_texts[i:i + size] for i in range(0, len(unparsed_texts), size)]
            name = nlp_name
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
                for chunks, strs in ex.map(_parse_worker, [(p, name) for p in parts]):
                    new_chunks.extend(chunks)
                    strings.update(strs)
                    if progress:
                        progress(len(chunks))
        else:
            batch = 2000
            for i in range(0, len(unparsed_texts), batch):
                chunks, strs = _arrays_of(nlp.pipe(unparsed_texts[i:i + batch], batch_size=512))
                new_chunks.extend(chunks)
                strings.update(strs)
                if progress:
                    progress(len(chunks))
        if cache:
            cache.store([hashes[i] for i in unparsed_idx], new_chunks, strings)
    by_hash = {hashes[i]: c for i, c in zip(unparsed_idx, new_chunks)}
    cached_hashes = [h for h in dict.fromkeys(hashes) if h in found]
    if cached_hashes:
        cached_chunks, cached_strings = cache.load(found, cached_hashes)
        by_hash.update(zip(cached_hashes, cached_chunks))
        strings.update(cached_strings)
    if cache:
        cache.close()
    chunks = [by_hash[h] for h in hashes]
    table = _table(texts, chunks, strings)
    table.memo_path = (cache.dir / "words.pkl") if cache else None
    table.memo_before = memo_before
    return table, ParseStats(units=len(texts), parsed=len(unparsed_idx), cached=len(texts) - len(missing), pipeline=info)


def save_words(table) -> None:
    """Saves the word memo next to the cache if matching or parsing learned new words."""
    path = getattr(table, "memo_path", None)
    if path is not None and memo_size() > getattr(table, "memo_before", 0):
        save_memo(path)

