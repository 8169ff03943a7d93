"""Exceptions raised by the library; the CLI turns them into one clear message each."""

from __future__ import annotations

from collections.abc import Iterable


class QdaError(Exception):
    """Base class of every error a user can cause and fix.

    The message names the file, the place in it and what to do next.
    """


class InputError(QdaError):
    """An input file cannot be read as asked."""

    def __init__(self, path, problem: str, fix: str | None = None, where: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        self.where = where
        place = f"{self.path}, {where}" if where else self.path
        msg = f"{place}: {problem}"
        if fix:
            msg += f"\n  → {fix}"
        super().__init__(msg)


class ValidationError(QdaError):
    """A user-written file (codebook, corpus.yaml, gold file) has one or more problems.

    ``problems`` holds every problem found, each a ``(location, message)`` pair, so they can
    be reported together instead of one per run.
    """

    def __init__(self, path, problems: list[tuple[str, str]], title: str = "is not valid"):
        self.path = str(path)
        self.problems = list(problems)
        lines = [f"{self.path} {title} ({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}):"]
        lines += [f"  {loc}: {msg}" if loc else f"  {msg}" for loc, msg in self.problems]
        super().__init__("\n".join(lines))


class UsageError(QdaError):
    """Options that do not fit together or with the input (the command line shows its usage)."""


def closest(word, choices: Iterable[str]) -> str | None:
    """The choice most like ``word`` (difflib's ratio ≥ 0.6), for a "did you mean" hint; None
    when nothing is close. The order of ``choices`` does not matter."""
    import difflib

    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return close[0] if close else None


class RegistryError(QdaError):
    """An unknown name was asked of a registry."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a command was writing (see
    :func:`pipeline.outputs.raise_on_termination`).

    A ``BaseException`` like ``KeyboardInterrupt``, so that no ``except Exception`` on the way
    swallows it: every ``finally`` runs, and staging folders are removed.
    """

    def __init__(self, signum: int):
        import signal

        self.signum = int(signum)
        self.signame = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signame}")
