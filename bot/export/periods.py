"""The months an export covers: whole calendar months that are over, nothing else.

Why only those (README, "What a figure can be used for"): a month's figures are counted
once, when it is over, and never change; any other cut of time (a day, a week, a range
starting on the 2nd, the month so far) could be subtracted from a month to count the few
conversations in between.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.months import Month, last_closed

DEFAULT_MONTHS = 12


def default_range(now: dt.datetime, tz: ZoneInfo) -> tuple[Month, Month]:
    """The last ``DEFAULT_MONTHS`` closed months: what the dashboard and ``relais export``
    show when asked for no range."""
    last = last_closed(now, tz)
    return _back(last, DEFAULT_MONTHS - 1), last


def _back(month: Month, count: int) -> Month:
    for _ in range(count):
        month = month.previous()
    return month


def closed_range(
    first: Month | None, last: Month | None, now: dt.datetime, tz: ZoneInfo
) -> tuple[Month, Month]:
    """``first``..``last`` (defaults: ``default_range``), ending at the last closed month.
    ``ValueError`` when it ends before it starts, or starts with a month not over yet."""
    closed = last_closed(now, tz)
    last = min(last or closed, closed)
    if first is None:
        first = _back(last, DEFAULT_MONTHS - 1)
    if first > closed:
        raise ValueError(
            f"{first} is not over yet: a month is published once it has ended "
            f"(the latest is {closed})"
        )
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    return first, last
