"""One explicit registry for every swappable part: readers, coders, embedders, clusterers.

Parts register themselves under a name with ``@registry.register(kind, name)``; the
pipeline looks them up with ``registry.get(kind, name)``. Asking for an unknown name lists
the names there are, so a typo on the command line is answered with the choices.
"""

from __future__ import annotations

from typing import Any, Callable

from pipeline.errors import RegistryError

_PARTS: dict[str, dict[str, Any]] = {}


def register(kind: str, name: str) -> Callable[[Any], Any]:
    """Decorator that registers ``obj`` as part ``name`` of ``kind``."""

    def deco(obj: Any) -> Any:
        _PARTS.setdefault(kind, {})[name] = obj
        return obj

    return deco


def get(kind: str, name: str) -> Any:
    """Returns the part ``name`` of ``kind``.

    Raises:
        RegistryError: no such part; the message lists the available names.
    """
    parts = _PARTS.get(kind, {})
    if name not in parts:
        avail = ", ".join(sorted(parts)) or "none"
        raise RegistryError(f"unknown {kind} '{name}'; available: {avail}")
    return parts[name]


def names(kind: str) -> list[str]:
    """The registered names of ``kind``, sorted."""
    return sorted(_PARTS.get(kind, {}))


def items(kind: str) -> list[tuple[str, Any]]:
    """``(name, part)`` pairs of ``kind`` in registration order."""
    return list(_PARTS.get(kind, {}).items())
