"""From monthly roll-ups to the published report.

Every figure is built from months, never from events: ``Storage.close_months`` counts
each month once it is over (a ``GROUP BY`` in the database), each month is suppressed on
its own (``bot.export.suppression``), and a figure over several months is the sum of the
months where it was published. So the same month reads the same in every export, and a
figure over a range tells nothing the single months do not.

Definitions (written again in README, "Operator export"):
- activity, per month: conversations that started a flow / reached an end step / were
  shown the emergency numbers in that month; and answers to words of crisis given in
  groups (each counted alone: a group answer is no conversation).
- answers, per recorded question: conversations that gave each answer.
- funnel, per flow: conversations that started it, then that got through each step
  (answered it, or reached it when it is an end step). Drop-out = the fall between rows.
- origin / locale: conversations started, by group of origin (its key) and by language.
- resources: conversations shown each help resource (no total: one sees several).
- choices, per flow and step that records an answer: conversations that gave each answer
  there (no total: it is the funnel row of the step). Months counted before these rows
  existed have none: a range that includes them reads ``N+``.
A conversation counts once per row and month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.domain.conversation import SKIPPED
from bot.domain.disclosure import (
    ACTIVITY,
    CHOICES,
    CONVERSATIONS,
    STARTED_ROW,
    TOTAL,
    Hidden,
    Key,
    month_hidden,
)
from bot.domain.months import Month, months
from bot.export.layout import Layout
from bot.export.periods import closed_range
from bot.export.tables import Cell, Report, Row, Table
from bot.storage.base import PeriodCount, Storage

DIRECT = "direct"  # conversations not opened from a group's card


@dataclass(frozen=True)
class MonthFigures:
    """One closed month: its true counts and which of them are hidden."""

    period: str
    values: dict[Key, int]
    hidden: dict[Key, Hidden]
    # choices:<flow>:<step> -> the question it records
    questions: dict[str, str] = field(default_factory=dict)
    # Whether the month has its per-flow answers (False: rolled up before they existed).
    per_flow: bool = True

    def cell(self, key: Key) -> Cell:
        """The published cell; a row the month does not have is a small count (zero)."""
        if key not in self.values:
            return Cell(None, "small")
        mark = self.hidden.get(key)
        return Cell(None, mark) if mark else Cell(self.values[key])


def month_figures(period: str, rows: Iterable[PeriodCount], k: int) -> MonthFigures:
    rows = list(rows)
    questions = {r.table: r.link for r in rows if r.table.startswith(CHOICES) and r.link}
    # Both come from the same answers: a month with answers and no per-flow rows was
    # rolled up before these existed (and is not counted again).
    per_flow = bool(questions) or not any(r.table.startswith("answers:") for r in rows)
    return MonthFigures(period, *month_hidden(rows, k), questions, per_flow)


def combine(cells: Sequence[Cell]) -> Cell:
    """A figure over several months (or buttons): one as published; several, the sum of
    those published, marked ``partial`` when any was hidden or is itself partial."""
    if len(cells) == 1:
        return cells[0]
    shown = [c.value for c in cells if c.value is not None]
    return Cell(sum(shown), partial=len(shown) < len(cells) or any(c.partial for c in cells))


def _labels(figures: Sequence[MonthFigures], table: str) -> set[str]:
    return {key[1] for f in figures for key in f.values if key[0] == table and key[1] != TOTAL}


def _table(
    figures: Sequence[MonthFigures],
    table: str,
    title: str,
    header: str,
    labels: Sequence[str],
    *,
    total: bool,
    group: str = "",
) -> Table:
    def row(label: str) -> Row:
        return Row(label, (combine([f.cell((table, label, CONVERSATIONS)) for f in figures]),))

    return Table(
        table,
        title,
        header,
        (CONVERSATIONS,),
        tuple(row(label) for label in labels),
        row(TOTAL) if total else None,
        group,
    )


def tables(figures: Sequence[MonthFigures], layout: Layout) -> list[Table]:
    """The published tables, in the order exports show them."""
    activity = Table(
        "activity",
        "Conversations per month",
        "month",
        ACTIVITY,
        tuple(Row(f.period, tuple(f.cell(("activity", "", c)) for c in ACTIVITY)) for f in figures),
        Row(
            TOTAL,
            tuple(combine([f.cell(("activity", "", c)) for f in figures]) for c in ACTIVITY),
        ),
    )
    out = [activity]
    tables_seen = {key[0] for f in figures for key in f.values}
    dimensions = sorted(
        {t.removeprefix("answers:") for t in tables_seen if t.startswith("answers:")}
        | set(layout.choices)
    )
    for dimension in dimensions:
        table = f"answers:{dimension}"
        choices = layout.order_choices(dimension, _labels(figures, table))
        out.append(
            _table(
                figures,
                table,
                f"Answers: {dimension}",
                "choice",
                choices,
                total=True,
                group=dimension,
            )
        )
    flows = sorted({t.removeprefix("funnel:") for t in tables_seen if t.startswith("funnel:")})
    for flow in flows:
        table = f"funnel:{flow}"
        steps = layout.order_steps(flow, _labels(figures, table) - {STARTED_ROW})
        out.append(
            _table(
                figures,
                table,
                f"Funnel: {flow}",
                "step",
                [STARTED_ROW, *steps],
                total=False,
                group=flow,
            )
        )
    out += _choices_tables(figures, layout)
    for table, title, header, total in (
        ("origin", "Conversations per group of origin", "origin", True),
        ("locale", "Conversations per language", "locale", True),
        ("resources", "Conversations shown each resource", "resource", False),
    ):
        labels = sorted(_labels(figures, table), key=lambda s: (s == DIRECT, s))
        out.append(_table(figures, table, title, header, labels, total=total))
    return out


def _choices_tables(figures: Sequence[MonthFigures], layout: Layout) -> list[Table]:
    """The answers at each step of each flow, when a month of the range has them."""
    counted = [f for f in figures if f.per_flow]
    if not counted:
        return []
    steps: set[tuple[str, str]] = set(layout.questions)
    for f in counted:
        for table in f.questions:
            flow, _, step = table.removeprefix(CHOICES).partition(":")
            steps.add((flow, step))
    out = []
    for flow in sorted({flow for flow, _ in steps}):
        for step in layout.order_steps(flow, {s for f, s in steps if f == flow}):
            table = f"{CHOICES}{flow}:{step}"
            question, known = layout.questions.get((flow, step), ("", []))
            question = question or next(
                (f.questions[table] for f in counted if table in f.questions), ""
            )
            seen = _labels(counted, table) - set(known)
            labels = [*known, *sorted(seen, key=lambda c: (c == SKIPPED, c))]
            title = f"Answers at {flow}/{step}" + (f" ({question})" if question else "")
            rows = tuple(_choices_row(figures, table, label) for label in labels)
            out.append(Table(table, title, "choice", (CONVERSATIONS,), rows, None, question))
    return out


def _choices_row(figures: Sequence[MonthFigures], table: str, label: str) -> Row:
    # A month rolled up before per-flow answers existed publishes no cell: the sum leaves
    # it out and reads "at least" (its placeholder is never shown alone: such a month
    # alone has no choices tables).
    cells = [f.cell((table, label, CONVERSATIONS)) if f.per_flow else Cell(None) for f in figures]
    return Row(label, (combine(cells),))


def group_rows(rows: Iterable[PeriodCount]) -> Mapping[str, list[PeriodCount]]:
    by_period: defaultdict[str, list[PeriodCount]] = defaultdict(list)
    for row in rows:
        by_period[row.period].append(row)
    return by_period


async def build_report(
    storage: Storage,
    first: Month,
    last: Month,
    tz: ZoneInfo,
    *,
    k: int = 5,
    layout: Layout | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Roll up what is not yet, read the months, suppress, combine: the one report every
    format is written from. The range is cut to closed months (``closed_range``)."""
    moment = now or dt.datetime.now(dt.UTC)
    first, last = closed_range(first, last, moment, tz)
    await storage.close_months(tz, moment, since=first, upto=last)
    by_period = group_rows(await storage.period_counts(first.label, last.label))
    figures = [
        month_figures(month.label, by_period.get(month.label, ()), k)
        for month in months(first, last)
    ]
    stamp = moment.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return Report(
        first=first.label,
        last=last.label,
        timezone=tz.key,
        k=k,
        generated_at=stamp.isoformat().replace("+00:00", "Z"),
        tables=tuple(tables(figures, layout or Layout())),
    )
