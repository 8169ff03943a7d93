"""simplemma's German dictionary, loaded in a fraction of the time.

simplemma ships its dictionary front-coded and lzma-compressed; decoding it is a Python loop
over 1.1 million entries (1.2–2.5 s here), paid by every process that lemmatizes a word it has
not seen (a cold parse, or a re-code whose codebook gained a term). This module decodes it once
per installed simplemma version and keeps the plain entries in a data file (two byte blobs and
a JSON header with a SHA-256, no pickle) in the user's cache folder: ``$QDA_DICT_CACHE``, else
``$XDG_CACHE_HOME/qda``, else ``~/.cache/qda``. Loading that file takes ~0.4 s. A damaged file
is decoded again and replaced; a folder that cannot be written just means decoding each time.

:class:`GermanLemmatizer` is simplemma's own ``Lemmatizer`` (greedy ``DefaultStrategy``) and
``DictionaryLookupStrategy`` over that dictionary, so lemmas and look-ups are simplemma's (a
test compares them with ``simplemma.lemmatize``/``is_known``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path

from pipeline.atomic import write_bytes

FORMAT = 1
LANG = "de"


def cache_folder() -> Path:
    if os.environ.get("QDA_DICT_CACHE"):
        return Path(os.environ["QDA_DICT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qda"


def _version() -> str:
    try:
        return metadata.version("simplemma")
    except metadata.PackageNotFoundError:
        return "unknown"


def _path() -> Path:
    return cache_folder() / f"simplemma-{_version()}-{LANG}.dict"


def _read(path: Path) -> dict[bytes, bytes] | None:
    """The entries of a saved dictionary, or None if missing, damaged or of another version."""
    try:
        data = path.read_bytes()
        head, _, body = data.partition(b"\n")
        meta = json.loads(head)
        if meta.get("format") != FORMAT or meta.get("simplemma") != _version() or hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        keys, values = body[: meta["keys"]], body[meta["keys"]:]
        entries = dict(zip(keys.split(b"\0"), values.split(b"\0")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return entries if len(entries) == meta.get("entries") else None


def _write(path: Path, entries: dict[bytes, bytes]) -> None:
    """Saves the entries (a unique temporary name, then an atomic move); failures are ignored."""
    if any(b"\0" in k or b"\0" in v for k, v in entries.items()):
        return  # cannot be stored with NUL separators; decoding each time is still correct
    keys, values = b"\0".join(entries.keys()), b"\0".join(entries.values())
    body = keys + values
    meta = {"format": FORMAT, "simplemma": _version(), "lang": LANG, "entries": len(entries), "keys": len(keys),
            "sha256": hashlib.sha256(body).hexdigest()}
    with contextlib.suppress(OSError):
        write_bytes(path, json.dumps(meta).encode("ascii") + b"\n" + body, private=True)


def german_entries() -> dict[bytes, bytes]:
    """simplemma's German dictionary as ``{form: lemma}`` bytes (saved copy, else decoded and saved)."""
    path = _path()
    entries = _read(path)
    if entries is None:
        from simplemma.strategies.dictionaries.dictionary_factory import _load_dictionary_from_disk

        entries = _load_dictionary_from_disk(LANG)
        _write(path, entries)
    return entries


class _Factory:
    """A simplemma ``DictionaryFactory`` serving the fast-loaded German dictionary."""

    def __init__(self):
        self._de = None

    def get_dictionary(self, lang: str):
        from simplemma.strategies.dictionaries.dictionary_factory import DEFAULT_DICTIONARY_FACTORY, MappingStrToByteString

        if lang != LANG:
            return DEFAULT_DICTIONARY_FACTORY.get_dictionary(lang)
        if self._de is None:
            self._de = MappingStrToByteString(german_entries())
        return self._de


class GermanLemmatizer:
    """``is_known`` and greedy ``lemmatize`` of simplemma for German, over :func:`german_entries`."""

    def __init__(self):
        from simplemma import Lemmatizer
        from simplemma.strategies import DefaultStrategy, DictionaryLookupStrategy

        factory = _Factory()
        self._lemmatizer = Lemmatizer(lemmatization_strategy=DefaultStrategy(greedy=True, dictionary_factory=factory))
        self._lookup = DictionaryLookupStrategy(factory)

    def is_known(self, word: str, lang: str = LANG) -> bool:
        """As ``simplemma.is_known(word, lang="de")``."""
        from simplemma.utils import normalize_token

        assert lang == LANG
        return self._lookup.get_lemma(normalize_token(word), LANG) is not None

    def lemmatize(self, word: str, lang: str = LANG, greedy: bool = True) -> str:
        """As ``simplemma.lemmatize(word, lang="de", greedy=True)``."""
        assert lang == LANG and greedy
        return self._lemmatizer.lemmatize(word, LANG)
