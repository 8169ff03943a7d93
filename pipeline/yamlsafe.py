"""One safe way to read the YAML files users write: codebooks, ``corpus.yaml``, category files.

PyYAML's ``safe_load`` runs no code, but it still builds whatever the file describes: a few
hundred bytes of nested aliases (``&a [x, x]``, ``&b [*a, *a]``, …) describe gigabytes once
anything walks the value, and a few thousand nested brackets end in a ``RecursionError``. The
loader here counts while it composes the document, before any value is built, and refuses:

* more than :data:`MAX_ALIASES` aliases (``*name``) in one file,
* a document that would expand to more than :data:`MAX_NODES` values through its aliases,
* nesting deeper than :data:`MAX_DEPTH` levels,
* a key given twice in one mapping, and keys that are lists or mappings.

Every refusal is an :class:`~pipeline.errors.InputError` with the line and column.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import InputError

MAX_ALIASES = 20
MAX_NODES = 200_000
MAX_DEPTH = 64


class _Refused(yaml.YAMLError):
    """A limit of this module was reached; ``mark`` is where, ``fix`` what to do."""

    def __init__(self, problem: str, mark, fix: str):
        super().__init__(problem)
        self.problem, self.problem_mark, self.fix = problem, mark, fix


class _Counting:
    """Composes nodes (PyYAML's Python composer) and counts aliases, expanded size and depth."""

    def _start_counting(self) -> None:
        self._aliases = 0
        self._depth = 0
        self._size: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise _Refused(f"uses more than {MAX_ALIASES} YAML aliases (*{event.anchor}); qda refuses such files before reading "
                               "them, because repeated aliases can expand to gigabytes", event.start_mark,
                               "write the repeated parts out instead of using anchors (&name) and aliases (*name)")
        mark = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(f"is nested more than {MAX_DEPTH} levels deep", mark,
                           "check the brackets and the indentation; no qda file needs that many levels")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._count(node, mark)
        return node

    def _count(self, node, mark) -> None:
        if id(node) in self._size:
            return
        if isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._size.get(id(child), 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            size = 1 + sum(self._size.get(id(k), 1) + self._size.get(id(v), 1) for k, v in node.value)
        else:
            size = 1
        self._size[id(node)] = size
        if size > MAX_NODES:
            raise _Refused(f"would expand to more than {MAX_NODES:,} values through its aliases (a 'billion laughs' file?)", mark,
                           "write the repeated parts out instead of using anchors (&name) and aliases (*name)")


def _construct_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise _Refused(f"a key is a {'list' if isinstance(key, list) else 'mapping'}, not a name", key_node.start_mark,
                           "write keys as plain text (a '?' or '[' before a key makes it a list or mapping)") from None
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key '{key}' appears twice in one mapping", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


class _PyLoader(_Counting, yaml.SafeLoader):
    """Everything in Python (where PyYAML was built without libyaml)."""

    def __init__(self, stream):
        yaml.SafeLoader.__init__(self, stream)
        self._start_counting()


_Loader = _PyLoader
if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _CLoader(_Counting, yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml reads the text into events (three times faster than PyYAML's Python scanner
        on a codebook); the Python composer above still builds the nodes, so every limit is
        checked before a value exists. The composer's methods come before CParser's own
        composing in the method order; CParser only supplies the events."""

        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start_counting()

    _Loader = _CLoader

for _cls in {_PyLoader, _Loader}:
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, path: Path | str, *, fix: str = "fix the YAML syntax there") -> Any:
    """The value of one YAML document, read with the limits of this module.

    Args:
        text: the document.
        path: the file it came from (for messages).
        fix: what to do about a syntax error.

    Raises:
        InputError: invalid YAML or a refused file; ``where`` names line and column.
    """
    try:
        try:
            return yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            if _Loader is _PyLoader or isinstance(exc, _Refused):
                raise
            # libyaml words its syntax errors differently; PyYAML's own messages (and its
            # verdict) are the ones users and tests know, and a broken file may take the time
            return yaml.load(text, Loader=_PyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        if isinstance(exc, _Refused):
            raise InputError(path, exc.problem, exc.fix, where=where) from None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(path, f"is not valid YAML: {problem}", fix, where=where) from None
    except RecursionError:  # not reachable within MAX_DEPTH; kept so that no traceback escapes
        raise InputError(path, "is nested too deeply to read", "check the brackets and the indentation") from None


def load_yaml(path: Path | str, *, what: str = "file", fix: str = "fix the YAML syntax there") -> Any:
    """Reads a UTF-8 YAML file (BOM allowed) with the limits of this module.

    Args:
        path: the file.
        what: what the file is, for the message when it is missing ("codebook", "categories file").
        fix: what to do about a syntax error.

    Returns:
        The value, or None for an empty file.

    Raises:
        InputError: a missing or undecodable file, invalid YAML, or a refused file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found", f"check the path of the {what}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"is not UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start})", f"save the {what} as UTF-8") from None
    return parse_yaml(text, path, fix=fix)
