"""Small-count suppression for one closed month, checked against everything published.

Shared by everything that publishes figures (exports, the dashboard, a group's /stats),
so a month's cell reads the same wherever it is shown.

A month's figures are cells (table, row, column) tied by sums a reader knows: each
table's total is the sum of its rows; conversations started = the sum of the origin rows
= the sum of the language rows = the sum of the flows' starts; the answers to a question
add up to the funnel row of the step that asks it; conversations that reached help = the
sum of the funnels' end steps. (A tie is used only where it holds exactly in the month.)

Rule:
1. every cell under ``k`` (zero included) is hidden (``small``, shown ``<k``);
2. then, while some hidden cell can be worked out from the published cells and the ties
   (its smallest and largest possible values are equal), the smallest visible cell tied
   to it is hidden too (``complementary``, shown ``x``, and known to be at least ``k``).

"Worked out" is computed by bound propagation: each tie narrows the range of each of its
cells from the ranges of the others, until nothing moves. The ties form a tree (a cell
is in at most one sum besides the "started" hub), for which this finds the same ranges as
a linear-programming solver would (``tests/export/test_differencing.py`` checks with one).

The decision depends only on the month's own counts and ``k``: a month reads the same in
every export, dashboard page and /stats that shows it, so nothing published can be
subtracted from anything else published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

Hidden = Literal["small", "complementary"]
Key = tuple[str, str, str]  # (table, row label, column)
UNBOUNDED = 1 << 40

# group_crisis: answers to words of crisis in groups (each alone: no conversation, no tie).
ACTIVITY = ("started", "completed", "emergency", "group_crisis")
CONVERSATIONS = "conversations"
TOTAL = "total"
STARTED_ROW = "(started)"
END = "(end)"
STARTED: Key = ("activity", "", "started")
COMPLETED: Key = ("activity", "", "completed")
TOTALLED = ("origin", "locale")  # and every answers:<dimension>


@dataclass(frozen=True)
class MonthCount:
    """One published count of one closed month (``label``: "2026-03")."""

    label: str
    count: int | None  # None when hidden
    hidden: Hidden | None = None


class CountRow(Protocol):
    """A month's true count as rolled up (``bot.storage.base.PeriodCount``)."""

    @property
    def table(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def column(self) -> str: ...
    @property
    def link(self) -> str | None: ...
    @property
    def n(self) -> int: ...


@dataclass(frozen=True)
class Tie:
    """``sum(left) == sum(right)``: one cell of each side at least."""

    left: tuple[Key, ...]
    right: tuple[Key, ...]

    @property
    def cells(self) -> tuple[Key, ...]:
        return self.left + self.right

    def holds(self, values: Mapping[Key, int]) -> bool:
        return sum(values.get(c, 0) for c in self.left) == sum(values.get(c, 0) for c in self.right)


def ranges(
    values: Mapping[Key, int], hidden: Mapping[Key, Hidden], ties: Iterable[Tie], k: int
) -> dict[Key, tuple[int, int]]:
    """What a reader can deduce about each hidden cell: its smallest and largest value."""
    bounds: dict[Key, tuple[int, int]] = {}
    for key, value in values.items():
        mark = hidden.get(key)
        if mark is None:
            bounds[key] = (value, value)
        elif mark == "small":
            bounds[key] = (0, k - 1)
        else:
            bounds[key] = (k, UNBOUNDED)
    terms = [[(c, 1) for c in tie.left] + [(c, -1) for c in tie.right] for tie in ties]
    changed = True
    while changed:
        changed = False
        for term in terms:
            for i, (cell, sign) in enumerate(term):
                # sign * cell = -(sum of the others, each with its sign)
                low = high = 0
                for j, (other, other_sign) in enumerate(term):
                    if j != i:
                        lo, hi = bounds[other]
                        low += lo if other_sign > 0 else -hi
                        high += hi if other_sign > 0 else -lo
                lo, hi = (-high, -low) if sign > 0 else (low, high)
                old_lo, old_hi = bounds[cell]
                new = (max(old_lo, lo), min(old_hi, hi))
                if new != (old_lo, old_hi):
                    bounds[cell] = new
                    changed = True
    return {key: bounds[key] for key in hidden}


def suppress(values: Mapping[Key, int], ties: Iterable[Tie], k: int) -> dict[Key, Hidden]:
    """The hidden cells of one month: small ones, and whatever else would give them away.

    ``values`` lists every cell published (zeros included); ties that do not hold exactly
    in ``values`` are left out (a reader cannot rely on them either)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    ties = [t for t in ties if t.holds(values)]
    hidden: dict[Key, Hidden] = {key: "small" for key, v in sorted(values.items()) if v < k}
    while True:
        pinned = sorted(
            key for key, (lo, hi) in ranges(values, hidden, ties, k).items() if lo == hi
        )
        if not pinned:
            return hidden
        target = _to_hide(pinned[0], values, hidden, ties)
        if target is None:  # never seen; if it ever happens, the month is withheld
            return {key: hidden.get(key, "complementary") for key in values}
        hidden[target] = "complementary"


def _to_hide(
    pinned: Key, values: Mapping[Key, int], hidden: Mapping[Key, Hidden], ties: list[Tie]
) -> Key | None:
    """The smallest visible cell of a tie reached from ``pinned`` through hidden cells:
    the figures that give it away are among those."""
    seen, todo, around = {pinned}, [pinned], set()
    while todo:
        cell = todo.pop()
        for tie in ties:
            if cell in tie.cells:
                for other in tie.cells:
                    if other not in hidden:
                        around.add(other)
                    elif other not in seen:
                        seen.add(other)
                        todo.append(other)
    if not around:
        return None
    return min(around, key=lambda c: (values[c], c))


def has_total(table: str) -> bool:
    return table in TOTALLED or table.startswith("answers:")


def month_cells(rows: Iterable[CountRow]) -> tuple[dict[Key, int], list[Tie]]:
    """A month's cells (each table's total included) and the sums tying them."""
    values: dict[Key, int] = {("activity", "", c): 0 for c in ACTIVITY}
    links: dict[Key, str] = {}
    for row in rows:
        key = (row.table, row.label, row.column)
        values[key] = row.n
        if row.link:
            links[key] = row.link
    by_table: defaultdict[str, list[Key]] = defaultdict(list)
    for key in values:
        by_table[key[0]].append(key)
    ties = []
    for table, keys in sorted(by_table.items()):
        if has_total(table):
            total = (table, TOTAL, CONVERSATIONS)
            values[total] = sum(values[k] for k in keys)
            ties.append(Tie((total,), tuple(keys)))
    for table in TOTALLED:
        if table in by_table:
            ties.append(Tie((STARTED,), ((table, TOTAL, CONVERSATIONS),)))
    starts = tuple(k for k in values if k[0].startswith("funnel:") and k[1] == STARTED_ROW)
    if starts:
        ties.append(Tie((STARTED,), starts))
    ends = tuple(k for k, link in links.items() if link == END)
    if ends:
        ties.append(Tie((COMPLETED,), ends))
    for table in by_table:
        if table.startswith("answers:"):
            steps = tuple(k for k, link in links.items() if link == table.removeprefix("answers:"))
            if steps:
                ties.append(Tie(((table, TOTAL, CONVERSATIONS),), steps))
    return values, ties


def month_hidden(rows: Iterable[CountRow], k: int) -> tuple[dict[Key, int], dict[Key, Hidden]]:
    """A month's true counts and which of them are hidden: the one decision every place
    that shows this month applies."""
    values, ties = month_cells(rows)
    return values, suppress(values, ties, k)
