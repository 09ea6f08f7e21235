"""What an export writes cannot be turned against its reader: no formula run by a
spreadsheet, no markup or formula from a label in a chart, no script in the offline page,
no count small enough to single someone out."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError

from bot.cli import main
from bot.config import EXPORT_K_MIN, Settings
from bot.export import render
from bot.export.charts import bars
from bot.export.tables import Cell, Report, Row, Table
from bot.export.to_csv import safe


@pytest.mark.parametrize(
    "label", ["=1+1", " =cmd|' /C calc'!A0", "\t=1+1", "\r=1", "\n+1", "  -2", "@SUM(A1)", "\tx"]
)
def test_a_label_a_spreadsheet_would_run_is_defused(label: str) -> None:
    assert safe(label).startswith("'")


@pytest.mark.parametrize("label", ["insults", "a=b", "", "3018 - appel"])
def test_an_ordinary_label_is_left_alone(label: str) -> None:
    assert safe(label) == label


def table(table_id: str, label: str) -> Table:
    return Table(
        id=table_id,
        title="t",
        label_header="choice",
        columns=("conversations",),
        rows=(Row(label, (Cell(12),)), Row("other", (Cell(7),))),
        total=None,
    )


def report(*tables: Table) -> Report:
    return Report("2026-01", "2026-01", "Europe/Paris", 5, "2026-02-01T00:00", tables)


def test_a_chart_label_with_dollars_is_text_not_a_formula() -> None:
    svg = bars(table("by-kind", "$x^{$ and $y$"), 5, {})
    assert "<svg" in svg


def test_the_table_id_is_escaped_in_the_charts_label() -> None:
    svg = bars(table('kind" onload="alert(1)', "insults"), 5, {})
    assert 'onload="alert(1)"' not in svg
    assert 'aria-label="kind&quot; onload=&quot;alert(1)"' in svg


def test_xlsx_cells_are_defused_too() -> None:
    data = render(report(table("by-kind", ' =HYPERLINK("x")')), "xlsx")
    sheet = load_workbook(io.BytesIO(data)).worksheets[-1]
    labels = [str(c.value) for c in sheet["A"] if c.value is not None]
    assert any(v.startswith("' =HYPERLINK") for v in labels), labels


@pytest.mark.parametrize("k", [1, 2])
def test_a_k_under_three_is_refused(k: int) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, export_k=k)  # type: ignore[call-arg]
    assert Settings(_env_file=None, export_k=EXPORT_K_MIN).export_k == EXPORT_K_MIN  # type: ignore[call-arg]


def test_k_is_not_chosen_per_export() -> None:
    """Two exports of the same months with two k's hide different cells, which read
    together give small counts away: k is the deployment's EXPORT_K only."""
    with pytest.raises(SystemExit) as refused:
        main(["export", "--k", "9"])
    assert refused.value.code == 2


def test_charts_count_in_whole_numbers_even_when_everything_is_hidden() -> None:
    """An empty year used to be drawn on a 0.000-0.054 scale."""
    from bot.export.charts import ticks, trend

    hidden = Table(
        "activity",
        "t",
        "month",
        ("started", "completed", "emergency"),
        tuple(Row(f"2026-{m:02d}", (Cell(None, "small"),) * 3) for m in range(1, 13)),
        None,
    )
    svg = trend(hidden, 5, {})
    labels = re.findall(r'text-anchor="end">([^<]*)<', svg)
    assert labels and all(label.isdigit() for label in labels)
    assert (
        ticks(0) == [0, 1]
        and ticks(5) == [0, 1, 2, 3, 4, 5]
        and ticks(47) == [0, 10, 20, 30, 40, 50]
    )


def test_the_trend_draws_conversations_only_not_answers_in_groups() -> None:
    """Its axis counts conversations: answers in groups (the fourth column, mostly under
    k) are neither drawn nor mark a month as hidden."""
    from bot.export.charts import trend

    shown = (Cell(40), Cell(30), Cell(12), Cell(None, "small"))
    table = Table(
        "activity",
        "t",
        "month",
        ("started", "completed", "emergency", "group_crisis"),
        tuple(Row(f"2026-{m:02d}", shown) for m in range(1, 4)),
        None,
    )
    svg = trend(table, 5, {})
    assert "group_crisis" not in svg
    assert ">×</text>" not in svg  # no month marked hidden
    assert svg.count("<circle") == 9  # three lines of three months
