"""Small-count suppression, attacked the way a curious reader would.

``recover`` plays the attacker: it knows the rule (small cells are ``0..k-1``, cells
marked ``x`` are ``>= k``), reads every published cell and total, and lists every value
each hidden cell could take. It shares no code with ``bot.export.suppression``: reachable
sums are enumerated, not computed from intervals.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.export.suppression import suppress
from bot.export.tables import RawTable, Table


def column(values: list[int], *, totals: bool = True) -> RawTable:
    return RawTable(
        "t", "t", "row", ("n",), tuple(f"r{i}" for i in range(len(values))),
        tuple((v,) for v in values), totals=totals,
    )  # fmt: skip


def displayed(table: Table, k: int) -> list[str]:
    cells = [row.cells[0] for row in table.rows]
    if table.total:
        cells.append(table.total.cells[0])
    return [c.display(k) for c in cells]


def recover(table: Table, j: int, k: int) -> dict[int, set[int]]:
    """Row index -> every value hidden cell (row, j) can take given what is published."""
    assert table.total is not None
    total = table.total.cells[j]
    if total.value is None:  # no total published: nothing to subtract from
        return {i: {-1, -2} for i, r in enumerate(table.rows) if r.cells[j].value is None}
    hidden = [i for i, r in enumerate(table.rows) if r.cells[j].value is None]
    remainder = total.value - sum(
        r.cells[j].value or 0 for r in table.rows if r.cells[j].value is not None
    )

    def choices(i: int) -> range:
        small = table.rows[i].cells[j].hidden == "small"
        return range(0, k) if small else range(k, remainder + 1)

    possible: dict[int, set[int]] = {}
    for i in hidden:
        others = [o for o in hidden if o != i]
        sums = {0}
        for o in others:  # every sum the other hidden cells can reach
            sums = {s + v for s in sums for v in choices(o) if s + v <= remainder}
        possible[i] = {v for v in choices(i) if remainder - v in sums}
    return possible


def assert_unrecoverable(raw: RawTable, table: Table, k: int) -> None:
    for j in range(len(raw.columns)):
        for i, values in recover(table, j, k).items():
            assert len(values) >= 2, f"row {i} column {j} recomputed as {values}"
            if -1 not in values:
                assert raw.rows[i][j] in values  # the attacker's model is right


def test_small_counts_show_as_under_k_and_zero_is_small() -> None:
    table = suppress(column([12, 3, 0, 7], totals=False), 5)
    assert displayed(table, 5) == ["12", "<5", "<5", "7"]
    assert [r.cells[0].value for r in table.rows] == [12, None, None, 7]


def test_one_small_cell_under_a_total_hides_the_next_smallest() -> None:
    raw = column([12, 3, 9, 7])
    table = suppress(raw, 5)
    assert displayed(table, 5) == ["12", "<5", "9", "x", "31"]
    assert_unrecoverable(raw, table, 5)


def test_without_the_complementary_cell_the_small_one_is_recomputed() -> None:
    """The attack works on a naive table: that is what the rule prevents."""
    raw = column([12, 3, 9, 7])
    naive = suppress(column([12, 3, 9, 7], totals=False), 5)
    naive = Table(naive.id, naive.title, naive.label_header, naive.columns, naive.rows,
                  suppress(raw, 5).total)  # fmt: skip
    assert recover(naive, 0, 5) == {1: {3}}


def test_two_small_cells_that_add_up_to_their_maximum_are_protected() -> None:
    # 4 + 4 = 8 with both at most 4 would give both away: a visible cell is hidden too.
    raw = column([20, 4, 4, 9])
    table = suppress(raw, 5)
    assert displayed(table, 5) == ["20", "<5", "<5", "x", "37"]
    assert_unrecoverable(raw, table, 5)


def test_two_small_cells_with_room_need_nothing_more() -> None:
    raw = column([12, 3, 3])
    table = suppress(raw, 5)
    assert displayed(table, 5) == ["12", "<5", "<5", "18"]
    assert recover(table, 0, 5) == {1: {2, 3, 4}, 2: {2, 3, 4}}


def test_zeros_under_a_total_are_protected_too() -> None:
    # 0 and 5: hiding the 5 is not enough (0 + x = 5 with x >= 5 pins both), and nothing
    # is left to hide, so the total goes.
    raw = column([0, 5])
    table = suppress(raw, 5)
    assert displayed(table, 5) == ["<5", "x", "x"]


def test_a_small_total_is_hidden_and_cells_need_no_partner() -> None:
    table = suppress(column([2, 1, 0]), 5)
    assert displayed(table, 5) == ["<5", "<5", "<5", "<5"]


def test_columns_are_protected_independently() -> None:
    raw = RawTable(
        "a", "a", "period", ("started", "completed"), ("p1", "p2", "p3"),
        ((12, 8), (6, 6), (0, 5)),
    )  # fmt: skip
    table = suppress(raw, 5)
    assert [[c.display(5) for c in r.cells] for r in table.rows] == [
        ["12", "8"],
        ["x", "6"],
        ["<5", "5"],
    ]
    assert_unrecoverable(raw, table, 5)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 14), min_size=1, max_size=6),
    st.lists(st.integers(0, 14), min_size=1, max_size=6),
    st.integers(2, 6),
)
def test_no_hidden_cell_can_be_recomputed(a: list[int], b: list[int], k: int) -> None:
    """Any table, any k: every hidden cell keeps at least two possible values, every
    published count is at least k."""
    rows = tuple(zip(a, b, strict=False))
    raw = RawTable("t", "t", "row", ("a", "b"), tuple(map(str, range(len(rows)))), rows)
    table = suppress(raw, k)
    assert_unrecoverable(raw, table, k)
    published = [c.value for r in [*table.rows, table.total] if r for c in r.cells]
    assert all(v is None or v >= k for v in published)
