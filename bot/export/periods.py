"""Reporting periods: which day, ISO week or month an event's hour belongs to.

Periods are cut in the association's time zone (Europe/Paris by default), not UTC, so a
conversation at 00:30 on 1 March in Paris counts for March. Every period of the range is
listed, even an empty one, so a trend shows quiet weeks instead of skipping them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

Granularity = Literal["day", "week", "month"]
GRANULARITIES: tuple[Granularity, ...] = ("day", "week", "month")


def period_of(day: dt.date, by: Granularity) -> str:
    """The label of the period holding ``day``: ``2026-03-14``, ``2026-W11`` or ``2026-03``."""
    if by == "day":
        return day.isoformat()
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


@dataclass(frozen=True)
class DateRange:
    """Whole local days ``first``..``last`` (both included) in time zone ``tz``."""

    first: dt.date
    last: dt.date
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the range ends ({self.last}) before it starts ({self.first})")

    @property
    def start(self) -> dt.datetime:
        """The first instant of the range (local midnight of ``first``)."""
        return dt.datetime.combine(self.first, dt.time(), self.tz)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the range (local midnight after ``last``)."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), self.tz)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def local_day(self, unix_hour: int) -> dt.date:
        """The local date of an event stored as unix seconds rounded to the hour."""
        return dt.datetime.fromtimestamp(unix_hour, self.tz).date()

    def periods(self, by: Granularity) -> list[str]:
        """Every period label touching the range, in order."""
        labels: list[str] = []
        day = self.first
        while day <= self.last:
            label = period_of(day, by)
            if not labels or labels[-1] != label:
                labels.append(label)
            day += dt.timedelta(days=1)
        return labels

    def chunks(self, days: int) -> list[tuple[dt.datetime, dt.datetime]]:
        """The range cut into spans of ``days`` local days, to read a long range bit by bit."""
        spans = []
        day = self.first
        while day <= self.last:
            upto = min(day + dt.timedelta(days=days), self.last + dt.timedelta(days=1))
            spans.append(
                (
                    dt.datetime.combine(day, dt.time(), self.tz),
                    dt.datetime.combine(upto, dt.time(), self.tz),
                )
            )
            day = upto
        return spans
