"""Calendar months, the one period every published figure is counted in.

A month is cut in the association's time zone (``EXPORT_TIMEZONE``, Europe/Paris) and is
published only once it is over: its figures then never change. Publishing a month still in
progress, or any other cut of time (days, weeks, a rolling 30 days), would let two readings
be subtracted to count the conversations in between (README, "What a figure can be used for").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# A month is rolled up this long after it ends: a turn that began at 23:59 has committed
# its statistics by then, so nothing lands in a month after its figures are fixed.
SETTLE = dt.timedelta(hours=1)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"no month {self.month}")

    @property
    def label(self) -> str:
        """``2026-03``: sorts like the months themselves."""
        return f"{self.year:04d}-{self.month:02d}"

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-03`` (or a date in that month, ``2026-03-14``)."""
        parts = text.strip().split("-")
        if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
            raise ValueError(f"not a month: {text!r} (expected YYYY-MM)")
        if len(parts) == 3:
            dt.date.fromisoformat(text.strip())  # a real date, or ValueError
        return cls(int(parts[0]), int(parts[1]))

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def last_day(self) -> dt.date:
        return self.next().first_day() - dt.timedelta(days=1)

    def start(self, tz: ZoneInfo) -> dt.datetime:
        """Local midnight of the first day."""
        return dt.datetime.combine(self.first_day(), dt.time(), tz)

    def end(self, tz: ZoneInfo) -> dt.datetime:
        """Local midnight of the next month's first day (excluded)."""
        return self.next().start(tz)


def months(first: Month, last: Month) -> list[Month]:
    """``first``..``last``, both included."""
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = month.next()
    return out


def last_closed(now: dt.datetime, tz: ZoneInfo) -> Month:
    """The latest month whose figures are fixed at ``now`` (over, and settled)."""
    month = Month.of((now - SETTLE).astimezone(tz).date()).previous()
    return month
