"""Every exception of the package, in one place, so callers catch by meaning.

Each message is one line a user can act on; ``Problem`` is one such line about an input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Problem:
    source: str
    path: str
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        path = printable(self.path)
        where = f"{self.source}: {path}: " if path else f"{self.source}: "
        got = f" (got {short_value(self.value)})" if self.has_value else ""
        return f"error: {where}{printable(self.message)}{got}"


class ScenarioError(Exception):
    """One or more problems with a scenario; ``problems`` lists each of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def printable(text: str) -> str:
    """Keys from a file may hold newlines or control characters: escape them, so one
    problem is always one line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def short_value(value: Any) -> str:
    """A value as it is written in a scenario file (``true``, ``2013-12-01``), not as Python
    spells it."""
    if isinstance(value, bool) or value is None:
        text = {True: "true", False: "false", None: "null"}[value]
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class LedgerError(RuntimeError):
    """An invariant of the book is broken; the message says which and by how much."""


class CityError(Exception):
    """Bad city input; the message is one line that starts with the offending field."""


class IllegalTransition(RuntimeError):
    """A driver was moved between two states that the lifecycle does not connect."""


class PolicyError(RuntimeError):
    """A policy paid outside its window, over a cap or over a budget."""


class OutputExists(Exception):
    """The output directory exists and holds files; pass ``force`` to replace it."""


class BadInput(ValueError):
    """An input that is not what a command needs (not a run directory, a missing extra)."""


class SweepError(ScenarioError):
    """Problems with a sweep file or with one of the scenarios it resolves to."""


class SelfCheckError(RuntimeError):
    """A run broke one of its own invariants; the message is the diagnostic."""


class RegistryError(ValueError):
    """An unknown name at an extension point, or a plug-in that cannot be registered."""
