"""How memory and the SQLite file grow with the number of people.

    python bench/storage_size.py              # 10,000, 30,000 and 100,000 people
    python bench/storage_size.py --sizes 1000 # a quick look

For each size, a fresh process (so its peak memory is its own) runs that many people
through the real ``Dialogue`` (engine, write-through cache as in ``relais run``, SQLite,
update ledger, after-send bookkeeping), each with the first turns of the victim flow:
/start, "it's happening to me", not in danger, what is happening. Telegram is left out:
this measures what the bot keeps, not what it sends.

Reported: peak resident memory of the process, the database file (after a checkpoint),
bytes per stored conversation and per statistics event, and what 100,000 of each take.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dialogue.checks import load_catalog  # noqa: E402
from bot.dialogue.conversation_cache import ConversationCache  # noqa: E402
from bot.dialogue.engine import Engine  # noqa: E402
from bot.dialogue.service import Dialogue  # noqa: E402
from bot.domain.conversation import Command, Press  # noqa: E402
from bot.privacy import pseudonym  # noqa: E402
from bot.storage.sqlite import SqliteStorage  # noqa: E402

TURNS = (Command("start"), Press("start:1:who:me"), Press("victim:2:danger:no"))
KINDS = ("insults", "threats", "images", "fake", "raid", "school")
NOW = dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC)


async def fill(path: Path, people: int) -> int:
    """``people`` conversations, four turns each; the number of turns."""
    catalog = load_catalog(ROOT / "flows", ROOT / "locales")
    update_id = 0
    async with SqliteStorage(path) as storage:
        dialogue = Dialogue(Engine(catalog), storage, cache=ConversationCache())
        for n in range(people):
            key = pseudonym("bench", "telegram", n)
            kind = Press(f"victim:2:what:{KINDS[n % len(KINDS)]}")
            for event in (*TURNS, kind):
                update_id += 1
                await dialogue.handle(key, "fr", event, NOW, update_id=update_id)
                storage.record_sent(key, [update_id], NOW)
    return update_id


def one(path: Path, people: int) -> dict[str, Any]:
    """Fill a database for ``people``; what it took and what it weighs."""
    started = time.perf_counter()
    turns = asyncio.run(fill(path, people))
    seconds = time.perf_counter() - started
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        tables = dict(conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        conversations = conn.execute("SELECT count(*) FROM conversations").fetchone()[0]
    return {
        "people": people,
        "turns": turns,
        "turns_per_s": turns / seconds,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "file": path.stat().st_size,
        "conversations": conversations,
        "events": events,
        # Each table with its indexes (named after the table, or sqlite_autoindex_<table>).
        "conversation_bytes": sum(v for k, v in tables.items() if "conversations" in k),
        "event_bytes": sum(v for k, v in tables.items() if k.startswith("events")),
    }


def measure(people: int) -> dict[str, Any]:
    """Run ``fill`` in a child process: its peak memory is then its own."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(people), "--db", f"{tmp}/size.sqlite3"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def mb(n: float) -> str:
    return f"{n / 1_000_000:.1f} MB"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)
    p.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.db, args.one)))
        return
    print(
        f"{'people':>8} {'events':>9} {'peak memory':>12} {'database':>10} "
        f"{'B/conversation':>15} {'B/event':>8} {'turns/s':>8}"
    )
    rows = [measure(n) for n in args.sizes]
    for r in rows:
        print(
            f"{r['people']:>8,} {r['events']:>9,} {mb(r['peak_rss']):>12} {mb(r['file']):>10} "
            f"{r['conversation_bytes'] / r['conversations']:>15.0f} "
            f"{r['event_bytes'] / r['events']:>8.0f} {r['turns_per_s']:>8.0f}"
        )
    last = rows[-1]
    per_conversation = last["conversation_bytes"] / last["conversations"]
    per_event = last["event_bytes"] / last["events"]
    print(
        f"\n100,000 stored conversations: {mb(100_000 * per_conversation)} on disk; "
        f"100,000 events: {mb(100_000 * per_event)}; peak memory at {last['people']:,} people: "
        f"{mb(last['peak_rss'])} (the cache keeps at most {ConversationCache().size:,} "
        "conversations in memory)"
    )


if __name__ == "__main__":
    main()
