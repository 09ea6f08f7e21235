"""Which hidden cells a reader pins down when the sums tying them form cycles.

Bound propagation (``bot.domain.disclosure.ranges``) is exact on a tree of sums, not on a
cycle: with the per-flow answers, a shared question is a table of flows by answers whose
rows (the funnel steps) and columns (the ``answers:`` rows) are both published, and adding
two sums can pin cells neither pins alone. Such a part of the month is a network: every
cell is in at most two sums, entering one and leaving the other once some sums are
written the other way round. The cells are then a circulation (sums are nodes, cells are
arcs, cells in a single sum run to a free "ground" node), and a hidden cell can take
another value exactly when a cycle of the residual graph runs through it: the same answer
a linear-programming solver gives, found by graph search.

Sums that share cells with a third sum, or cannot be oriented (the "started" hub), are
not a network: they are left to bound propagation, which is exact there (a tree).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol

Key = tuple[str, str, str]
GROUND = -1


class Sum(Protocol):
    """``sum(left) == sum(right)`` (``bot.domain.disclosure.Tie``)."""

    @property
    def left(self) -> tuple[Key, ...]: ...
    @property
    def right(self) -> tuple[Key, ...]: ...


def _memberships(ties: Sequence[Sum]) -> dict[Key, list[tuple[int, int]]]:
    """Each cell's sums, with its sign in each (+1 on the left, -1 on the right)."""
    member: defaultdict[Key, list[tuple[int, int]]] = defaultdict(list)
    for i, tie in enumerate(ties):
        for cell in tie.left:
            member[cell].append((i, 1))
        for cell in tie.right:
            member[cell].append((i, -1))
    return member


def _orient(member: Mapping[Key, list[tuple[int, int]]], count: int) -> dict[int, int]:
    """A sign per sum (the sum read as written, or turned round) under which every cell
    of two sums enters one and leaves the other; sums for which none exists are absent."""
    links: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    broken: set[int] = set()
    for places in member.values():
        if len(places) > 2 or (len(places) == 2 and places[0][0] == places[1][0]):
            broken.update(i for i, _ in places)
        elif len(places) == 2:
            (a, sa), (b, sb) = places
            links[a].append((b, -sa * sb))  # polarity[a] * polarity[b] must be this
            links[b].append((a, -sa * sb))
    polarity: dict[int, int] = {}
    for start in range(count):
        if start in polarity:
            continue
        part, ok = {start: 1}, True
        todo = [start]
        while todo:
            tie = todo.pop()
            ok = ok and tie not in broken
            for other, product in links[tie]:
                want = part[tie] * product
                if other not in part:
                    part[other] = want
                    todo.append(other)
                elif part[other] != want:
                    ok = False
        polarity.update(part if ok else dict.fromkeys(part, 0))
    return {tie: p for tie, p in polarity.items() if p}


Arc = tuple[int, int, Key]  # (from, to, cell)


class Network:
    """The ties that form networks, oriented once; ``pinned`` is asked as cells are hidden."""

    def __init__(self, ties: Iterable[Sum]) -> None:
        ties = list(ties)
        self.member = _memberships(ties)
        self.polarity = _orient(self.member, len(ties))

    def has(self, tie: int) -> bool:
        """Whether the ``tie``-th sum is part of a network (checked here, not propagated)."""
        return tie in self.polarity

    def pinned(
        self,
        values: Mapping[Key, int],
        hidden: Mapping[Key, Literal["small", "complementary"]],
        k: int,
        among: Iterable[Key] | None = None,
    ) -> set[Key]:
        """The hidden cells of the networks that no other solution lets move (only those
        of ``among`` are checked: hiding more cells only adds ways to move)."""
        arcs: defaultdict[int, list[Arc]] = defaultdict(list)
        ends: dict[Key, tuple[int, int]] = {}  # hidden cell -> (tail, head)
        for cell, places in self.member.items():
            mark = hidden.get(cell)
            if mark is None or not all(i in self.polarity for i, _ in places):
                continue  # published (it cannot move), or left to bound propagation
            tail = head = GROUND
            for i, sign in places:
                if self.polarity[i] * sign > 0:
                    head = i
                else:
                    tail = i
            low, high = (0, k - 1) if mark == "small" else (k, None)
            value = values[cell]
            if high is None or value < high:
                arcs[tail].append((tail, head, cell))
            if value > low:
                arcs[head].append((head, tail, cell))
            ends[cell] = (tail, head)
        pinned = set()
        for cell in ends if among is None else [c for c in among if c in ends]:
            tail, head = ends[cell]
            up = any(a[2] == cell for a in arcs[tail]) and _reaches(arcs, head, tail, cell)
            down = any(a[2] == cell for a in arcs[head]) and _reaches(arcs, tail, head, cell)
            if not (up or down):
                pinned.add(cell)
        return pinned


def flow_pinned(
    values: Mapping[Key, int],
    hidden: Mapping[Key, Literal["small", "complementary"]],
    ties: Iterable[Sum],
    k: int,
) -> set[Key]:
    """The hidden cells of the network parts of ``ties`` that no other solution lets move."""
    return Network(ties).pinned(values, hidden, k)


def _reaches(arcs: Mapping[int, list[Arc]], source: int, target: int, without: Key) -> bool:
    """Whether the residual graph leads from ``source`` to ``target`` without ``without``."""
    if source == target:
        return True
    seen, todo = {source}, deque([source])
    while todo:
        for _, nxt, cell in arcs.get(todo.popleft(), ()):
            if cell != without and nxt not in seen:
                if nxt == target:
                    return True
                seen.add(nxt)
                todo.append(nxt)
    return False
