"""Small-count suppression: no published figure lets anyone single out a child.

Rule, applied to every table:
1. every cell under ``k`` (zero included) is hidden and shown as ``<k`` ("small");
2. where a table publishes a total row (each total is the exact sum of its column), a
   hidden cell must not be computable from the total and the visible cells. For each
   column we work out, exactly, the range of values each hidden cell could take given
   everything published (small cells lie in ``0..k-1``, complementary ones are ``>= k``);
   while some hidden cell is pinned to a single value, the smallest visible cell of that
   column is hidden too ("complementary", shown as ``x``), or, when none is left, the
   total itself.

A single sum with bounded unknowns is simple enough to solve exactly, which is why this
is a precise test rather than the usual "hide at least two" rule of thumb: two hidden
cells of 4 and 4 under a total still give both away (``a + b = 8`` with ``a, b <= 4``).
"""

from __future__ import annotations

from bot.export.tables import Cell, Hidden, RawTable, Row, Table


def feasible_range(remainder: int, bounds: list[tuple[int, int]], index: int) -> tuple[int, int]:
    """The values hidden cell ``index`` can take when hidden cells, each within its
    ``(low, high)`` bound, add up to ``remainder`` (the total minus the visible cells)."""
    low, high = bounds[index]
    others_low = sum(b[0] for i, b in enumerate(bounds) if i != index)
    others_high = sum(b[1] for i, b in enumerate(bounds) if i != index)
    return max(low, remainder - others_high), min(high, remainder - others_low)


def _pinned(values: list[int], hidden: list[Hidden | None], total: int, k: int) -> bool:
    """Whether some hidden cell of one column can be recomputed from its total."""
    remainder = total - sum(v for v, h in zip(values, hidden, strict=True) if h is None)
    bounds = [(0, k - 1) if h == "small" else (k, remainder) for h in hidden if h is not None]
    return any(
        lo >= hi for lo, hi in (feasible_range(remainder, bounds, i) for i in range(len(bounds)))
    )


def suppress(raw: RawTable, k: int) -> Table:
    """Hide small counts of ``raw``, and whatever else would let them be recomputed."""
    if k < 1:
        raise ValueError("k must be at least 1")
    hidden: list[list[Hidden | None]] = [
        ["small" if v < k else None for v in row] for row in raw.rows
    ]
    totals = [raw.column_sum(j) for j in range(len(raw.columns))]
    total_hidden: list[Hidden | None] = ["small" if t < k else None for t in totals]
    if raw.totals:
        for j, total in enumerate(totals):
            column = [row[j] for row in raw.rows]
            while total_hidden[j] is None:
                marks = [hidden[i][j] for i in range(len(column))]
                if not _pinned(column, marks, total, k):
                    break
                visible = [i for i, mark in enumerate(marks) if mark is None]
                if visible:
                    smallest = min(visible, key=lambda i: (column[i], i))
                    hidden[smallest][j] = "complementary"
                else:
                    total_hidden[j] = "complementary"

    def cell(value: int, mark: Hidden | None) -> Cell:
        return Cell(None, mark) if mark else Cell(value)

    rows = tuple(
        Row(label, tuple(cell(v, m) for v, m in zip(values, marks, strict=True)))
        for label, values, marks in zip(raw.labels, raw.rows, hidden, strict=True)
    )
    total_row = (
        Row("total", tuple(cell(t, m) for t, m in zip(totals, total_hidden, strict=True)))
        if raw.totals
        else None
    )
    return Table(raw.id, raw.title, raw.label_header, raw.columns, rows, total_row, raw.group)
