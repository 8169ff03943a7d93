"""Parsed units as a token table, and the fast parse that fills it.

The coder needs, per token, its text, its match key (``norm_``), its character offset and
whether it starts a sentence. :class:`TokenTable` keeps exactly that for a whole corpus in
flat numpy arrays (spaCy's hash values for the strings), so matching runs over arrays instead
of millions of ``Token`` objects.

How the offline pipeline (``qda-de``) parses without per-token Python: spaCy's tokenizer cuts
the unit texts, then the lemma, match key and sentence end of each *distinct word form* come
from a :class:`pipeline.nlp.Lexicon` and reach the tokens by array indexing. The result is the same as
running the ``qda_sentencizer`` and ``qda_lemmatizer`` components over every ``Doc`` (a test
compares the two token by token on the example corpus); ``load_nlp()`` still gives the
component pipeline for single texts. Other pipelines (a trained spaCy model) run as they are.

Parses are cached by :mod:`pipeline.parse_cache` (arrays, no pickle).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.nlp import cheap_info, lexicon_of, load_memo, load_nlp, memo_size, pipeline_info, save_memo

@dataclass(eq=False)
class TokenTable:
    """Tokens of ``n`` units, concatenated.

    ``offsets[i]:offsets[i+1]`` are the tokens of unit ``i``; ``idx`` is the character offset
    of a token in its unit's text; ``sent`` is a corpus-wide sentence number (a unit always
    starts a sentence). ``orth``/``norm`` are spaCy hashes of the token text and its match key,
    ``strings`` maps every hash to its text.

    ``lex`` numbers the distinct ``(orth, norm)`` pairs of the table (sorted by the hashes, so
    the numbering depends only on the table's contents): ``orth == lex_orth[lex]`` and
    ``norm == lex_norm[lex]``. Work that depends only on the word form (which codebook terms
    it matches) can run once per entry of ``lex_orth`` and reach the tokens through ``lex``.
    """

    texts: list[str]
    orth: np.ndarray  # uint64 hashes
    norm: np.ndarray  # uint64 hashes
    idx: np.ndarray  # int32
    sent: np.ndarray  # int64
    offsets: np.ndarray  # int64, len n+1
    strings: dict[int, str]
    lex: np.ndarray | None = None  # int32, one per token
    lex_orth: np.ndarray | None = None  # uint64, one per distinct (orth, norm) pair
    lex_norm: np.ndarray | None = None  # uint64
    memo_path: Path | None = field(default=None, repr=False)
    memo_before: int = field(default=0, repr=False)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def text_of(self, h: int) -> str:
        return self.strings[int(h)]

    def unit_of(self, pos: np.ndarray | int):
        return np.searchsorted(self.offsets, pos, side="right") - 1


@dataclass(eq=False)
class Parsed:
    """Parsed unit texts in a compact, cacheable form.

    ``lengths[i]`` tokens belong to unit ``i``; per token: ``lex`` (row of ``vocab``),
    ``idx`` (character offset in the unit text) and ``start`` (the parser's sentence start);
    ``vocab`` holds the ``(orth, norm)`` hash pair of each distinct token, ``strings`` the text of
    every hash in ``vocab``.
    """

    lengths: np.ndarray  # int64, per unit
    lex: np.ndarray  # uint32, per token
    idx: np.ndarray  # int32, per token
    start: np.ndarray  # bool, per token
    vocab: np.ndarray  # uint64, (V, 2)
    strings: dict[int, str]

    @property
    def n_units(self) -> int:
        return len(self.lengths)

    def take(self, rows) -> Parsed:
        """The units ``rows`` (in that order, repeats allowed), sharing this vocabulary."""
        rows = np.asarray(rows, dtype=np.int64)
        ends = np.cumsum(self.lengths)
        starts = ends - self.lengths
        pos = _ranges(starts[rows], self.lengths[rows])
        return Parsed(self.lengths[rows], self.lex[pos], self.idx[pos], self.start[pos], self.vocab, self.strings)

    @staticmethod
    def concat(parts: list[Parsed]) -> Parsed:
        """The units of ``parts`` one after the other, with one merged vocabulary."""
        parts = [p for p in parts if p is not None]
        if not parts:
            return empty_parsed()
        if len(parts) == 1:
            return parts[0]
        vocab, inverse = _unique_pairs(np.concatenate([p.vocab for p in parts]))
        base = np.cumsum([0] + [len(p.vocab) for p in parts])
        lex = np.concatenate([inverse[base[i] + p.lex.astype(np.int64)] for i, p in enumerate(parts)]).astype(np.uint32)
        strings: dict[int, str] = {}
        for p in parts:
            strings.update(p.strings)
        return Parsed(
            np.concatenate([p.lengths for p in parts]), lex, np.concatenate([p.idx for p in parts]),
            np.concatenate([p.start for p in parts]), vocab, strings,
        )

    def to_table(self, texts: list[str]) -> TokenTable:
        """The :class:`TokenTable` of these units (``texts`` are their texts, in order)."""
        n_tok = len(self.lex)
        offsets = np.zeros(self.n_units + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=offsets[1:])
        # canonical vocabulary: the pairs in use, sorted, so equal tables are equal arrays
        used = np.zeros(len(self.vocab), dtype=bool)
        used[self.lex] = True
        vocab, inverse = _unique_pairs(self.vocab[used])
        remap = np.full(len(self.vocab), -1, dtype=np.int64)
        remap[np.nonzero(used)[0]] = inverse
        lex = remap[self.lex].astype(np.int32) if n_tok else np.zeros(0, dtype=np.int32)
        starts = self.start.astype(bool, copy=True)
        starts[offsets[:-1][self.lengths > 0]] = True
        keep = set(vocab.ravel().tolist())
        return TokenTable(
            texts=list(texts),
            orth=vocab[lex, 0] if n_tok else np.zeros(0, dtype=np.uint64),
            norm=vocab[lex, 1] if n_tok else np.zeros(0, dtype=np.uint64),
            idx=self.idx.astype(np.int32, copy=False),
            sent=(np.cumsum(starts) - 1).astype(np.int64),
            offsets=offsets,
            strings={h: s for h, s in self.strings.items() if h in keep},
            lex=lex,
            lex_orth=vocab[:, 0].copy(),
            lex_norm=vocab[:, 1].copy(),
        )


def empty_parsed() -> Parsed:
    return Parsed(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0, np.int32), np.zeros(0, bool), np.zeros((0, 2), np.uint64), {})


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i]+lengths[i]-1`` of every range, concatenated."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.cumsum(lengths) - lengths
    return np.repeat(starts - first, lengths) + np.arange(total, dtype=np.int64)


def _unique_pairs(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a ``(n, 2)`` uint64 array, sorted, and each row's index among them."""
    if len(pairs) == 0:
        return pairs.reshape(0, 2), np.zeros(0, dtype=np.int64)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    srt = pairs[order]
    new = np.ones(len(srt), dtype=bool)
    new[1:] = (srt[1:] != srt[:-1]).any(axis=1)
    ids = np.cumsum(new) - 1
    inverse = np.empty(len(pairs), dtype=np.int64)
    inverse[order] = ids
    return srt[new], inverse


# --- parsing -------------------------------------------------------------------------------------

def is_offline_pipeline(nlp) -> bool:
    """Is ``nlp`` the offline ``qda-de`` pipeline (whose fast path :func:`parse` takes)?"""
    return nlp.meta.get("name") == "qda_de" and list(nlp.pipe_names) == ["qda_sentencizer", "qda_lemmatizer"]


def pieces(text: str, limit: int) -> list[tuple[int, str]]:
    """``text`` cut into ``(offset, piece)`` parts of at most ``limit`` characters.

    Cuts fall where whitespace ends and a word begins, where spaCy's tokenizer cuts anyway, so
    the tokens of the pieces are the tokens of the whole; only a run of ``limit`` characters
    without any whitespace is cut inside.
    """
    if len(text) <= limit:
        return [(0, text)]
    out = []
    pos = 0
    while len(text) - pos > limit:
        cut = pos + limit
        while cut > pos + 1 and not (text[cut - 1].isspace() and not text[cut].isspace()):
            cut -= 1
        if cut <= pos + 1:
            cut = pos + limit
        out.append((pos, text[pos:cut]))
        pos = cut
    out.append((pos, text[pos:]))
    return out


def _tokenize(tokenizer, texts: list[str], limit: int):
    """``(orth, idx, lengths)`` arrays of the tokens of ``texts`` (``idx`` relative to each text).

    (Joining many texts into one tokenizer call was measured and dropped: spaCy stops caching
    word forms for the rest of a ``Doc`` after its first special case, so a long joined text
    tokenizes slower than the texts one by one.)
    """
    from spacy.attrs import IDX, ORTH

    lengths = np.zeros(len(texts), dtype=np.int64)
    orths: list[np.ndarray] = []
    idxs: list[np.ndarray] = []
    short = [t if len(t) <= limit else "" for t in texts]
    for i, doc in enumerate(tokenizer.pipe(short)):
        t = texts[i]
        if len(t) > limit:
            o, x = [], []
            for off, piece in pieces(t, limit):
                arr = tokenizer(piece).to_array([ORTH, IDX]).reshape(-1, 2)
                o.append(arr[:, 0])
                x.append(arr[:, 1] + np.uint64(off))
            orths.append(np.concatenate(o))
            idxs.append(np.concatenate(x))
        else:
            arr = doc.to_array([ORTH, IDX]).reshape(-1, 2)
            orths.append(arr[:, 0])
            idxs.append(arr[:, 1])
        lengths[i] = len(orths[-1])
    if not orths:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64), lengths
    return np.concatenate(orths), np.concatenate(idxs).astype(np.int64), lengths


def _parse_offline(nlp, texts: list[str]) -> Parsed:
    """The fast path of the offline pipeline: tokenizer + per-word-form lexicon (see module doc)."""
    orth, idx, lengths = _tokenize(nlp.tokenizer, texts, nlp.max_length)
    lexicon = lexicon_of(nlp)
    pos = lexicon.lookup(orth)
    ends = lexicon.ends[pos]
    start = np.zeros(len(orth), dtype=bool)
    start[1:] = ends[:-1]
    offsets = np.cumsum(lengths) - lengths
    start[offsets[lengths > 0]] = True
    used = np.zeros(len(lexicon), dtype=bool)
    used[pos] = True
    rows = np.nonzero(used)[0]
    remap = np.zeros(len(lexicon), dtype=np.int64)
    remap[rows] = np.arange(len(rows))
    vocab = np.stack([lexicon.orth[rows], lexicon.norm[rows]], axis=1)
    strings = nlp.vocab.strings
    return Parsed(lengths, remap[pos].astype(np.uint32), idx.astype(np.int32), start, vocab,
                  {h: strings[h] for h in set(vocab.ravel().tolist())})


def _parse_spacy(nlp, texts: list[str]) -> Parsed:
    """Any other pipeline, run as it is (texts over ``nlp.max_length`` are parsed in pieces)."""
    from spacy.attrs import IDX, NORM, ORTH, SENT_START

    attrs = [ORTH, NORM, IDX, SENT_START]
    rows: list[np.ndarray] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        parts = []
        for off, piece in pieces(t, nlp.max_length):
            arr = nlp(piece).to_array(attrs).reshape(-1, 4).astype(np.int64)
            arr[:, 2] += off
            parts.append(arr)
        arr = np.concatenate(parts) if parts else np.zeros((0, 4), np.int64)
        lengths[i] = len(arr)
        rows.append(arr)
    allarr = np.concatenate(rows) if rows else np.zeros((0, 4), np.int64)
    pairs = allarr[:, :2].astype(np.uint64)
    vocab, inverse = _unique_pairs(pairs)
    strings = nlp.vocab.strings
    return Parsed(lengths, inverse.astype(np.uint32), allarr[:, 2].astype(np.int32), allarr[:, 3] == 1, vocab,
                  {h: strings[h] for h in set(vocab.ravel().tolist())})


def parse(nlp, texts: list[str]) -> Parsed:
    """Parses unit texts with a loaded pipeline (the fast path for ``qda-de``)."""
    texts = list(texts)
    if is_offline_pipeline(nlp):
        return _parse_offline(nlp, texts)
    return _parse_spacy(nlp, texts)


def table_from_docs(docs) -> TokenTable:
    """The :class:`TokenTable` of already parsed spaCy ``Doc`` objects."""
    from spacy.attrs import IDX, NORM, ORTH, SENT_START

    docs = list(docs)
    arrs = [d.to_array([ORTH, NORM, IDX, SENT_START]).reshape(-1, 4).astype(np.int64) for d in docs]
    allarr = np.concatenate(arrs) if arrs else np.zeros((0, 4), np.int64)
    vocab, inverse = _unique_pairs(allarr[:, :2].astype(np.uint64))
    strings = docs[0].vocab.strings if docs else {}
    parsed = Parsed(np.array([len(a) for a in arrs], dtype=np.int64), inverse.astype(np.uint32), allarr[:, 2].astype(np.int32),
                    allarr[:, 3] == 1, vocab, {h: strings[h] for h in set(vocab.ravel().tolist())})
    return parsed.to_table([d.text for d in docs])


def text_key(text: str) -> bytes:
    """The cache key of a unit text: the first 16 bytes of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:16]


def _parse_worker(args):
    texts, nlp_name = args
    return parse(load_nlp(nlp_name), texts)


def _parse_many(nlp, nlp_name, texts: list[str], workers: int, progress) -> Parsed:
    """Parses in batches (reporting progress), in ``workers`` forked processes for big inputs."""
    step = max(500, len(texts) // (workers * 4)) if workers > 1 else 5000
    parts = [texts[i:i + step] for i in range(0, len(texts), step)]
    out: list[Parsed] = []
    if workers > 1 and len(texts) >= 2000:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
            for p in ex.map(_parse_worker, [(chunk, nlp_name) for chunk in parts]):
                out.append(p)
                if progress:
                    progress(p.n_units)
    else:
        for chunk in parts:
            out.append(parse(nlp, chunk))
            if progress:
                progress(len(chunk))
    return Parsed.concat(out)


@dataclass
class ParseStats:
    units: int
    parsed: int
    cached: int
    pipeline: dict
    warnings: list[str] = field(default_factory=list)
    codes_from_cache: int = 0  # codes whose rule hits the coder took from the hit cache (pipeline.coding.hitcache)


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
        progress: optional callable ``progress(n_units)`` called as batches finish.

    Returns:
        The table and what was parsed or read; a damaged cache entry is parsed again and named in
        ``ParseStats.warnings`` (never an error).

    Raises:
        QdaError: the named pipeline is not installed.
    """
    from pipeline.parse_cache import ParseCache

    texts = list(texts)
    info = cheap_info(nlp_name)
    nlp = None
    if info is None:
        nlp = load_nlp(nlp_name)
        info = pipeline_info(nlp)
    cache = ParseCache(cache_dir, info["fingerprint"]) if use_cache else None
    warnings: list[str] = []
    if cache:
        problem = load_memo(cache.memo_path)
        if problem:
            warnings.append(f"the word memo {cache.memo_path} is {problem}; its words are looked up again")
    memo_before = memo_size()
    keys = [text_key(t) for t in texts]
    first: dict[bytes, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    cached, found = (cache.read(list(first)) if cache else (None, {}))
    unparsed = [k for k in first if k not in found]
    parts = [cached] if cached is not None else []
    where = dict(found)  # key -> row in the concatenation of parts
    if unparsed:
        nlp = nlp or load_nlp(nlp_name)
        new = _parse_many(nlp, nlp_name, [texts[first[k]] for k in unparsed], workers, progress)
        if cache:
            cache.write(unparsed, new)
        base = cached.n_units if cached is not None else 0
        where.update((k, base + j) for j, k in enumerate(unparsed))
        parts.append(new)
    if progress and found:
        progress(len(found))
    allparsed = Parsed.concat(parts)
    table = allparsed.take([where[k] for k in keys]).to_table(texts)
    if cache:
        table.memo_path = cache.memo_path
        table.memo_before = memo_before
        warnings += cache.warnings
    stats = ParseStats(units=len(texts), parsed=len(unparsed), cached=sum(1 for k in keys if k in found), pipeline=info, warnings=warnings)
    return table, stats


_LAST_SAVE: dict[Path, tuple[int, float]] = {}  # memo file -> (size, time) of this process's last save


def save_words(table) -> None:
    """Saves the word memo next to the cache if matching or parsing learned new words.

    When a large input is coded in parts, the memo is saved again only once it has grown by 5 %
    or 30 s have passed: rewriting it after every part would cost more than the words save.
    """
    import time

    path = getattr(table, "memo_path", None)
    size = memo_size()
    if path is None or size <= getattr(table, "memo_before", 0):
        return
    last_size, last_time = _LAST_SAVE.get(Path(path), (0, 0.0))
    if size < 1.05 * last_size and time.monotonic() - last_time < 30:
        return
    with contextlib.suppress(OSError):  # the memo only saves time; a full disk must not stop a run
        save_memo(path)
        _LAST_SAVE[Path(path)] = (size, time.monotonic())
