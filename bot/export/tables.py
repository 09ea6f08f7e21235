"""The shape of an export: named tables of published counts.

True counts never reach these types: a hidden cell carries no value at all, so no writer
(CSV, JSON, XLSX, HTML) can print a small count by mistake. A figure over several months
is the sum of the months where it was published; ``partial`` says some month was hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.disclosure import Hidden


@dataclass(frozen=True)
class Cell:
    """A published count: ``value`` is ``None`` when hidden, and ``hidden`` says why."""

    value: int | None
    hidden: Hidden | None = None
    partial: bool = False  # a sum over months, some of which were hidden: "at least"

    def display(self, k: int) -> str:
        """What a person reads: the count, ``<k`` for a small count, ``x`` for a count
        hidden so that a small one cannot be worked out from a total, ``12+`` for a sum
        that leaves out the months where the count was hidden."""
        if self.partial:
            return f"{self.value}+"
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

    first: str  # month, "2026-01", included
    last: str  # month, included
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
