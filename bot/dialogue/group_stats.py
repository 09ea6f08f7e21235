"""A group's /stats: conversations opened from its card, per closed calendar month.

The figure is the ``origin`` cell of the month as every export publishes it (the same
roll-up, the same suppression: ``bot.domain.disclosure``), so an admin reading /stats
day after day, or beside the operator dashboard, learns nothing a month does not say.
Never a rolling window: "the last 7 days" read on two days in a row counts one day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from bot.domain.disclosure import CONVERSATIONS, MonthCount, month_hidden
from bot.domain.months import last_closed
from bot.storage.base import PeriodCount, Storage

STATS_MONTHS = 3


async def group_months(
    storage: Storage,
    group_key: str,
    tz: ZoneInfo,
    now: dt.datetime,
    k: int,
    count: int = STATS_MONTHS,
) -> list[MonthCount]:
    """The last ``count`` closed months, most recent first."""
    last = last_closed(now, tz)
    first = last
    for _ in range(count - 1):
        first = first.previous()
    await storage.close_months(tz, now, since=first, upto=last)
    by_period: defaultdict[str, list[PeriodCount]] = defaultdict(list)
    for row in await storage.period_counts(first.label, last.label):
        by_period[row.period].append(row)
    out = []
    month = last
    for _ in range(count):
        values, hidden = month_hidden(by_period[month.label], k)
        key = ("origin", group_key, CONVERSATIONS)
        mark = hidden.get(key, "small" if values.get(key, 0) < k else None)
        out.append(MonthCount(month.label, None if mark else values[key], mark))
        month = month.previous()
    return out
