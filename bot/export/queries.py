"""From the event log to tables of counts: read in chunks, count distinct conversations.

Counting happens here in Python over rows read by ``Storage.fetch_events``, so SQLite and
PostgreSQL give the same figures by construction. A "conversation" is a ``session`` (random
per conversation); it is used to count each conversation once and is dropped afterwards.

Definitions (written again in README, "Operator export"):
- activity, per period: conversations that started a flow / reached an end step / were
  shown the emergency numbers in that period; the total row is the sum of the periods
  (a conversation active in two periods counts in both).
- answers, per recorded dimension: conversations that gave each answer in the range.
- funnel, per flow: conversations that started it, then that got through each step
  (answered it, or reached it when it is an end step). Drop-out = the fall between rows.
- origin / locale: conversations started, by group of origin (its key) and by language.
- resources: conversations shown each help resource (no total: one sees several).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TextIO

from tqdm import tqdm

from bot.export.layout import Layout
from bot.export.periods import DateRange, Granularity, period_of
from bot.export.suppression import suppress
from bot.export.tables import RawTable, Report
from bot.storage.base import EventRow, Storage

CHUNK_DAYS = 7
# Events counted between two turns of the event loop. The dashboard is built on the loop
# that also answers teens in webhook mode: a week of a busy year is ~12,000 events, which
# held every reply for 130 ms; 1,000 hold them for about 10 ms.
YIELD_EVERY = 1000
DIRECT = "direct"  # conversations not opened from a group's card
ACTIVITY = ("started", "completed", "emergency")

# Distinct conversations per label, as the keys of a plain dict rather than a set: a
# dict of strings is never tracked by the garbage collector, a set always is, and every
# full collection then walked each session of a year (100 ms pauses of the bot's loop
# while the dashboard counted, measured with 600,000 events).
Sessions = defaultdict[str, dict[str, None]]


def _sessions() -> Sessions:
    return defaultdict(dict)


@dataclass
class Tally:
    """Distinct conversations per thing counted; fed one event at a time."""

    range: DateRange
    by: Granularity
    activity: dict[str, Sessions] = field(
        default_factory=lambda: {a: _sessions() for a in ACTIVITY}
    )
    answers: defaultdict[str, Sessions] = field(default_factory=lambda: defaultdict(_sessions))
    started: Sessions = field(default_factory=_sessions)  # per flow
    through: defaultdict[str, Sessions] = field(default_factory=lambda: defaultdict(_sessions))
    origins: Sessions = field(default_factory=_sessions)
    locales: Sessions = field(default_factory=_sessions)
    resources: Sessions = field(default_factory=_sessions)
    _anonymous: itertools.count[int] = field(default_factory=itertools.count)
    _periods: dict[int, str] = field(default_factory=dict)  # hour -> period, computed once

    def add(self, event: EventRow) -> None:
        # An event without a session (should not happen) counts as a conversation of its own.
        session = event.session or f"\0{next(self._anonymous)}"
        period = self._periods.get(event.at_hour)
        if period is None:
            period = period_of(self.range.local_day(event.at_hour), self.by)
            self._periods[event.at_hour] = period
        kind, flow = event.kind, event.flow or "?"
        if kind == "flow_started":
            self.activity["started"][period][session] = None
            self.started[flow][session] = None
            self.origins[event.origin or DIRECT][session] = None
            self.locales[event.locale or "?"][session] = None
        elif kind == "flow_completed":
            self.activity["completed"][period][session] = None
            self.through[flow][event.step or "?"][session] = None
        elif kind == "emergency_shown":
            self.activity["emergency"][period][session] = None
        elif kind == "step_answered":
            self.through[flow][event.step or "?"][session] = None
            if event.dimension:
                self.answers[event.dimension][event.choice or "?"][session] = None
        elif kind == "resource_shown":
            self.resources[event.choice or "?"][session] = None


def _counts(sessions: Sessions, labels: list[str]) -> tuple[tuple[int, ...], ...]:
    return tuple((len(sessions.get(label, ())),) for label in labels)


def raw_tables(tally: Tally, layout: Layout) -> list[RawTable]:
    """The true counts, table by table, in the order exports show them."""
    periods = tally.range.periods(tally.by)
    tables = [
        RawTable(
            "activity",
            "Conversations per period",
            "period",
            ACTIVITY,
            tuple(periods),
            tuple(tuple(len(tally.activity[a].get(p, ())) for a in ACTIVITY) for p in periods),
        )
    ]
    for dimension in sorted(set(tally.answers) | set(layout.choices)):
        choices = layout.order_choices(dimension, tally.answers[dimension])
        tables.append(
            RawTable(
                f"answers:{dimension}",
                f"Answers: {dimension}",
                "choice",
                ("conversations",),
                tuple(choices),
                _counts(tally.answers[dimension], choices),
                group=dimension,
            )
        )
    for flow in sorted(set(tally.started) | set(tally.through)):
        steps = layout.order_steps(flow, tally.through[flow])
        tables.append(
            RawTable(
                f"funnel:{flow}",
                f"Funnel: {flow}",
                "step",
                ("conversations",),
                ("(started)", *steps),
                ((len(tally.started[flow]),), *_counts(tally.through[flow], steps)),
                totals=False,  # each row counts the same conversations again: no sum
                group=flow,
            )
        )
    for table_id, title, header, sessions, totals in (
        ("origin", "Conversations per group of origin", "origin", tally.origins, True),
        ("locale", "Conversations per language", "locale", tally.locales, True),
        ("resources", "Conversations shown each resource", "resource", tally.resources, False),
    ):
        labels = sorted(sessions, key=lambda s: (s == DIRECT, s))
        tables.append(
            RawTable(
                table_id,
                title,
                header,
                ("conversations",),
                tuple(labels),
                _counts(sessions, labels),
                totals=totals,
            )
        )
    return tables


async def read_events(
    storage: Storage,
    date_range: DateRange,
    *,
    progress: bool | None = None,
    stream: TextIO | None = None,
) -> AsyncIterator[EventRow]:
    """Every event of the range, read a week at a time so memory stays flat.

    ``progress``: draw a bar on ``stream`` (stderr); ``None`` means "when stderr is a
    terminal", and the bar appears only once reading has taken more than half a second.
    """
    out = stream or sys.stderr
    if progress is None:
        progress = out.isatty()
    chunks = date_range.chunks(CHUNK_DAYS)
    bar = tqdm(
        total=len(chunks),
        desc="reading events",
        unit="week",
        file=out,
        disable=not progress,
        delay=0.5 if stream is None else 0,
        leave=False,
    )
    try:
        for start, end in chunks:
            for i, event in enumerate(await storage.fetch_events(start, end), 1):
                yield event
                if i % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            bar.update(1)
    finally:
        bar.close()


async def build_report(
    storage: Storage,
    date_range: DateRange,
    *,
    by: Granularity = "month",
    k: int = 5,
    layout: Layout | None = None,
    progress: bool | None = None,
    stream: TextIO | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Read, count and suppress: the one report every format is written from.

    The range stops at today (``now``): days to come are empty for everyone, and listing
    them would only hide real figures (their zeros are small counts to protect).
    """
    moment = now or dt.datetime.now(dt.UTC)
    today = moment.astimezone(date_range.tz).date()
    if date_range.first > today:
        raise ValueError(f"the range starts after today ({today})")
    if date_range.last > today:
        date_range = DateRange(date_range.first, today, date_range.tz)
    tally = Tally(date_range, by)
    async for event in read_events(storage, date_range, progress=progress, stream=stream):
        tally.add(event)
    tables = tuple(suppress(raw, k) for raw in raw_tables(tally, layout or Layout()))
    stamp = moment.astimezone(dt.UTC).replace(second=0, microsecond=0)
    return Report(
        first=date_range.first.isoformat(),
        last=date_range.last.isoformat(),
        by=by,
        timezone=date_range.tz.key,
        k=k,
        generated_at=stamp.isoformat().replace("+00:00", "Z"),
        tables=tables,
    )
