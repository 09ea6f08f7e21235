"""The shape of an export: named tables of counts, before and after suppression.

Two types on purpose. A ``RawTable`` holds true counts and never leaves ``bot.export``;
``suppress`` turns it into a ``Table`` whose hidden cells carry no value at all, so no
writer (CSV, JSON, XLSX, HTML) can print a small count by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Hidden = Literal["small", "complementary"]


@dataclass(frozen=True)
class RawTable:
    """True counts: ``rows[i][j]`` for row label ``labels[i]`` and column ``columns[j]``.

    ``totals`` says whether a total row (the sum of each column) is published. Only tables
    whose columns really add up get one, so every published total is an exact sum.
    """

    id: str
    title: str
    label_header: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    rows: tuple[tuple[int, ...], ...]
    totals: bool = True
    group: str = ""  # what the table is about, e.g. the dimension or flow id

    def column_sum(self, j: int) -> int:
        return sum(row[j] for row in self.rows)


@dataclass(frozen=True)
class Cell:
    """A published count: ``value`` is ``None`` when hidden, and ``hidden`` says why."""

    value: int | None
    hidden: Hidden | None = None

    def display(self, k: int) -> str:
        """What a person reads: the count, ``<k`` for a small count, ``x`` for a count
        hidden so that a small one cannot be worked out from a total."""
        if self.hidden == "small":
            return f"<{k}"
        if self.hidden == "complementary":
            return "x"
        return str(self.value)


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    """A table as published: safe to write anywhere."""

    id: str
    title: str
    label_header: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    total: Row | None
    group: str = ""


@dataclass(frozen=True)
class Report:
    """Everything one export publishes, with how it was made."""

    first: str  # ISO date, included
    last: str  # ISO date, included
    by: str
    timezone: str
    k: int
    generated_at: str  # ISO timestamp (UTC, to the minute)
    tables: tuple[Table, ...]

    def table(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)

    def tables_of(self, prefix: str) -> list[Table]:
        return [t for t in self.tables if t.id.startswith(prefix)]
