"""The project's exceptions, in one tree so callers can catch ``RelaisError`` and know why.

- ``RelaisError``: base of everything raised on purpose.
  - ``ConfigError``: flows, locales or resources are not usable; carries every ``Problem``
    found so a volunteer fixing a file sees all of them at once, each with file and line.
  - ``SettingsError``: a setting is wrong; one line per setting, saying how to fix it.
  - ``StorageError``: the database refused or could not be reached.
    - ``ConflictError``: another process saved the same conversation first (optimistic lock).
  - ``AlreadyProcessed``: this Telegram update is in the ledger already (a redelivery).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a data file, located precisely enough to fix without searching."""

    file: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}: {prefix}{self.message}"


def display_path(path: Path) -> str:
    """Show a path relative to the working directory when possible (what editors expect)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class RelaisError(Exception):
    """Base class for errors the project raises on purpose."""


class ConfigError(RelaisError):
    """Flows, locales or resources contain errors; ``problems`` lists each one."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SettingsError(RelaisError):
    """A setting (environment or ``.env``) is unusable; ``lines`` says what, and how to fix
    it, one line each, safe to print (no secret value)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


class StorageError(RelaisError):
    """The database could not do what was asked."""


class ConflictError(StorageError):
    """The conversation changed since it was read; re-read and apply again."""


class AlreadyProcessed(RelaisError):
    """This update was handled before (Telegram redelivered it): do nothing, send nothing.

    Not a ``StorageError``: nothing went wrong, and a webhook must still answer 200."""
