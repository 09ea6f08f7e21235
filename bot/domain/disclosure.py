"""Small-count suppression for one closed month, checked against everything published.

Shared by everything that publishes figures (exports, the dashboard, a group's /stats),
so a month's cell reads the same wherever it is shown.

A month's figures are cells (table, row, column) tied by sums a reader knows: each
table's total is the sum of its rows; conversations started = the sum of the origin rows
= the sum of the language rows = the sum of the flows' starts; the answers to a question
add up to the funnel row of the step that asks it; conversations that reached help = the
sum of the funnels' end steps. The answers given at one step of one flow
(``choices:<flow>:<step>``) add up to that flow's funnel row of the step, and each answer
summed over the steps that ask its question is that answer's row in
``answers:<dimension>``. (A tie is used only where it holds exactly in the month.)

Rule:
1. every cell under ``k`` (zero included) is hidden (``small``, shown ``<k``);
2. then, while some hidden cell can be worked out from the published cells and the ties
   (its smallest and largest possible values are equal), the smallest visible cell tied
   to it is hidden too (``complementary``, shown ``x``, and known to be at least ``k``).

"Worked out" is computed by bound propagation: each tie narrows the range of each of its
cells from the ranges of the others, until nothing moves. Around the "started" hub the
ties form a tree, for which this finds the same ranges as a linear-programming solver
would (``tests/export/test_differencing.py`` checks with one). The per-flow answers make
each question a table of flows by answers with both margins published, a cycle that
propagation misses; those parts are networks, checked exactly by ``bot.domain.cycles``
(``tests/export/test_disclosure.py`` compares both with a solver on random months).

The decision depends only on the month's own counts and ``k``: a month reads the same in
every export, dashboard page and /stats that shows it, so nothing published can be
subtracted from anything else published.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.domain.cycles import Network

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
CHOICES = "choices:"  # choices:<flow>:<step>: the answers given at one step of one flow


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
    # Networks are checked exactly by graph search; propagation is left the tree around
    # the "started" hub (on a cycle it would be inexact, and slow to settle).
    network = Network(ties)
    tree = [tie for i, tie in enumerate(ties) if not network.has(i)]
    tied: defaultdict[Key, list[Tie]] = defaultdict(list)
    for tie in ties:
        for cell in dict.fromkeys(tie.cells):
            tied[cell].append(tie)
    suspects: set[Key] | None = None  # all hidden cells at first
    while True:
        bounded = ranges(values, hidden, tree, k)
        stuck = network.pinned(values, hidden, k, suspects)
        pinned = sorted({key for key, (lo, hi) in bounded.items() if lo == hi} | stuck)
        if not pinned:
            return hidden
        target = _to_hide(pinned[0], values, hidden, tied)
        if target is None:  # never seen; if it ever happens, the month is withheld
            return {key: hidden.get(key, "complementary") for key in values}
        hidden[target] = "complementary"
        # Hiding one more cell only lets others move more: only the cells still pinned
        # and the one just hidden can be pinned next time.
        suspects = stuck | {target}


def _to_hide(
    pinned: Key,
    values: Mapping[Key, int],
    hidden: Mapping[Key, Hidden],
    tied: Mapping[Key, list[Tie]],
) -> Key | None:
    """The smallest visible cell of a tie reached from ``pinned`` through hidden cells
    (``tied``: each cell's ties): the figures that give it away are among those."""
    seen, todo, around = {pinned}, [pinned], set()
    while todo:
        cell = todo.pop()
        for tie in tied.get(cell, ()):
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
    # Funnel rows of the steps that ask each question (a choices row's link is its
    # question too, and is tied below).
    asking: defaultdict[str, list[Key]] = defaultdict(list)
    for key, link in links.items():
        if key[0].startswith("funnel:"):
            asking[link].append(key)
    for table in by_table:
        if table.startswith("answers:"):
            steps = tuple(asking.get(table.removeprefix("answers:"), ()))
            if steps:
                ties.append(Tie(((table, TOTAL, CONVERSATIONS),), steps))
    ties += _choices_ties(values, links, by_table)
    return values, ties


def _choices_ties(
    values: Mapping[Key, int], links: Mapping[Key, str], by_table: Mapping[str, list[Key]]
) -> list[Tie]:
    """A step's answers in one flow add up to the flow's funnel row of that step; one
    answer over every flow and step asking its question is its ``answers:`` row."""
    ties = []
    per_answer: defaultdict[Key, list[Key]] = defaultdict(list)
    for table, keys in sorted(by_table.items()):
        if not table.startswith(CHOICES):
            continue
        flow, _, step = table.removeprefix(CHOICES).partition(":")
        row = (f"funnel:{flow}", step, CONVERSATIONS)
        if row in values:
            ties.append(Tie((row,), tuple(keys)))
        for key in keys:
            if key in links:
                per_answer[(f"answers:{links[key]}", key[1], key[2])].append(key)
    for answer, keys in sorted(per_answer.items()):
        if answer in values:
            ties.append(Tie((answer,), tuple(keys)))
    return ties


def month_hidden(rows: Iterable[CountRow], k: int) -> tuple[dict[Key, int], dict[Key, Hidden]]:
    """A month's true counts and which of them are hidden: the one decision every place
    that shows this month applies."""
    values, ties = month_cells(rows)
    return values, suppress(values, ties, k)
