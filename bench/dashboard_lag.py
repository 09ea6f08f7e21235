"""How long the event loop stalls while the operator dashboard counts a year.

    python bench/dashboard_lag.py [conversations]

In webhook mode the dashboard is served by the same process, on the same loop, as the
bot: every stall here delays every teen's reply by as much. A SQLite database gets
``conversations`` (default 100,000) whole conversations of six events each, spread over
a year; then a task that wakes every 5 ms measures how late it wakes, first with the loop
idle (the baseline), then while ``build_report`` counts the year as the dashboard does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.export.periods import DateRange
from bot.export.queries import build_report
from bot.storage import storage_from_url
from bot.storage.sql import INSERT_EVENTS_SQL

NOW = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
TICK = 0.005
ANSWERS = (
    ("danger", "danger", "no"),
    ("what", "harassment_kind", "insults"),
    ("where", "platform", "instagram"),
    ("since", "duration", "days"),
)


def seed(path: Path, conversations: int) -> int:
    """Write the events straight to SQLite (the storage's own schema), a year's worth."""
    start = int((NOW - dt.timedelta(days=365)).timestamp())
    rng = random.Random(1)
    rows: list[tuple[Any, ...]] = []
    for n in range(conversations):
        hour = (start + rng.randrange(365 * 86400)) // 3600 * 3600
        session = f"s{n}"
        rows.append((hour, "flow_started", "victim", None, None, None, "fr", None, session))
        for step, dimension, choice in ANSWERS:
            rows.append(
                (hour, "step_answered", "victim", step, dimension, choice, "fr", None, session)
            )
        rows.append((hour, "flow_completed", "victim", "result", None, None, "fr", None, session))
    with sqlite3.connect(path) as conn:
        conn.executemany(INSERT_EVENTS_SQL.replace("$", "?"), rows)
    return len(rows)


async def lateness(work: Awaitable[Any] | None, seconds: float = 2.0) -> list[float]:
    """How late a 5 ms timer fires, in ms, while ``work`` runs (or for ``seconds``)."""
    late: list[float] = []
    done = False

    async def ticker() -> None:
        while not done:
            started = time.perf_counter()
            await asyncio.sleep(TICK)
            late.append((time.perf_counter() - started - TICK) * 1000)

    task = asyncio.create_task(ticker())
    if work is None:
        await asyncio.sleep(seconds)
    else:
        await work
    done = True
    await task
    return sorted(late)


def line(name: str, late: list[float], extra: str = "") -> str:
    p99 = late[int(len(late) * 0.99)]
    return f"{name:<28}{late[len(late) // 2]:>8.1f}{p99:>8.1f}{late[-1]:>8.1f}  {extra}"


async def main(conversations: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/dashboard.sqlite3"
        async with storage_from_url(url):
            pass  # creates the schema
        events = seed(Path(tmp) / "dashboard.sqlite3", conversations)
        gc.collect()
        gc.freeze()  # as `relais run` does once the bot is built
        async with storage_from_url(url) as storage:
            year = DateRange(dt.date(2025, 11, 30), dt.date(2026, 11, 29), ZoneInfo("Europe/Paris"))
            idle = await lateness(None)
            started = time.perf_counter()
            busy = await lateness(build_report(storage, year, by="month", now=NOW, progress=False))
            took = time.perf_counter() - started
    print(f"{events:,} events over a year; a timer every {TICK * 1000:.0f} ms, lateness in ms")
    print(f"{'loop':<28}{'p50':>8}{'p99':>8}{'max':>8}")
    print(line("idle (baseline)", idle))
    print(line("dashboard counting a year", busy, f"report built in {took:.2f} s"))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
