"""What one conversation turn costs in the database: ``load`` then ``save`` (with its
statistics and its update-ledger claim), on SQLite and on PostgreSQL.

    .venv/bin/python bench/storage_turn.py [turns]

PostgreSQL is ``TEST_DATABASE_URL`` (default: the local test server), in a throw-away
schema. One turn at a time: this is latency, not the throughput of several replicas.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.conversation import Conversation, Stat
from bot.storage import storage_from_url
from tests.pg import fresh_schema

USERS = 200


async def measure(url: str, turns: int) -> str:
    conversation = Conversation(locale="fr", flow="victim", flow_version=1, step="what")
    stats = [Stat("step_answered", flow="victim", step="danger", choice="no")]
    now = dt.datetime.now(dt.UTC)
    took: list[float] = []
    async with storage_from_url(url) as storage:
        for i in range(turns):
            user = f"user-{i % USERS}"
            started = time.perf_counter()
            stored = await storage.load(user)
            await storage.save(
                user,
                conversation,
                expected_version=stored.version if stored else None,
                stats=stats,
                now=now,
                update_id=i,
            )
            took.append(time.perf_counter() - started)
    took.sort()
    ms = [1000 * took[int(q * (turns - 1))] for q in (0.5, 0.99, 1.0)]
    return f"p50 {ms[0]:.2f} ms  p99 {ms[1]:.2f} ms  max {ms[2]:.2f} ms  ({turns} turns)"


async def main(turns: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        print("sqlite     ", await measure(f"sqlite:///{folder}/bench.sqlite3", turns))
    async with fresh_schema() as url:
        print("postgresql ", await measure(url, turns))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
