"""The month's suppression rule on small hand-made cases (``bot.domain.disclosure``).

Each case is checked by the rule's own bound propagation and, independently, by what a
reader can deduce by brute force over every integer assignment consistent with what is
published.
"""

from __future__ import annotations

import itertools

from bot.domain.disclosure import Key, Tie, ranges, suppress

K = 5


def cell(table: str, label: str) -> Key:
    return (table, label, "conversations")


def brute_force(
    values: dict[Key, int], hidden: dict[Key, str], ties: list[Tie]
) -> dict[Key, set[int]]:
    """Every value each hidden cell can take, trying all assignments up to 40."""
    keys = sorted(hidden)
    options = [range(K) if hidden[c] == "small" else range(K, 41) for c in keys]
    possible: dict[Key, set[int]] = {c: set() for c in keys}
    for guess in itertools.product(*options):
        trial = {**values, **dict(zip(keys, guess, strict=True))}
        if all(t.holds(trial) for t in ties):
            for c, v in zip(keys, guess, strict=True):
                possible[c].add(v)
    return possible


def test_two_small_cells_at_their_largest_are_not_left_to_a_total() -> None:
    """4 + 4 under a total of 8 pins both (a, b <= 4): something else must go."""
    a, b, c, total = cell("t", "a"), cell("t", "b"), cell("t", "c"), cell("t", "total")
    values = {a: 4, b: 4, c: 30, total: 38}
    ties = [Tie((total,), (a, b, c))]
    hidden = suppress(values, ties, K)
    assert hidden == {a: "small", b: "small", c: "complementary"}
    assert all(len(v) > 1 for v in brute_force(values, hidden, ties).values())


def test_a_total_published_in_another_table_counts_as_published() -> None:
    """Origins 3 + 40 = started 43, shown in the activity table: hiding only the 3 would
    leave it as 43 - 40."""
    started, g1, direct = (
        ("activity", "", "started"),
        cell("origin", "g1"),
        cell("origin", "direct"),
    )
    values = {started: 43, g1: 3, direct: 40}
    ties = [Tie((started,), (g1, direct))]
    hidden = suppress(values, ties, K)
    assert hidden[g1] == "small" and direct in hidden
    assert all(len(v) > 1 for v in brute_force(values, hidden, ties).values())


def test_ties_chained_through_hidden_cells_are_followed() -> None:
    """answers (2 + 9) = the funnel step (11); the step is one of the started (11 + 20):
    the rule looks past hidden cells for what gives a small one away."""
    yes, no, total = (
        cell("answers:danger", "yes"),
        cell("answers:danger", "no"),
        cell("answers:danger", "total"),
    )
    step = cell("funnel:victim", "danger")
    values = {yes: 2, no: 9, total: 11, step: 11}
    ties = [Tie((total,), (yes, no)), Tie((total,), (step,))]
    hidden = suppress(values, ties, K)
    assert hidden[yes] == "small"
    bounds = ranges(values, hidden, [t for t in ties if t.holds(values)], K)
    assert all(lo < hi for lo, hi in bounds.values())
    assert all(len(v) > 1 for v in brute_force(values, hidden, ties).values())


def test_nothing_small_nothing_hidden() -> None:
    a, b, total = cell("t", "a"), cell("t", "b"), cell("t", "total")
    assert suppress({a: 5, b: 9, total: 14}, [Tie((total,), (a, b))], K) == {}
