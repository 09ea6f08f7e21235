"""SQLite's short operations run on the event loop, and fall back to the thread safely.

A turn's load and save run right on the loop when the storage's thread is idle; when another
process holds the lock they must not block the loop but wait in the thread; and the one
connection must never be used by both threads at once (a long export running in the
thread while turns go on).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from bot.domain.conversation import Conversation
from bot.errors import StorageError
from bot.storage.sqlite import SqliteStorage

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


async def test_a_lock_held_elsewhere_is_waited_for_in_the_thread_not_on_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    async with SqliteStorage(path, busy_timeout=2.0) as storage:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        ticks = 0

        async def ticker() -> None:  # proves the loop keeps running meanwhile
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        started = time.monotonic()
        version = await storage.save("teen", Conversation("fr"), expected_version=None, now=NOW)
        waited = time.monotonic() - started
        task.cancel()
        other.close()
        assert version == 1 and 0.25 < waited < 2.0
        assert ticks >= 10  # the loop ran throughout the wait


async def test_a_lock_held_too_long_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with SqliteStorage(path, busy_timeout=0.1) as storage:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StorageError, match="database is locked"):
                await storage.save("teen", Conversation("fr"), expected_version=None, now=NOW)
        finally:
            other.execute("COMMIT")
            other.close()
        assert await storage.load("teen") is None  # nothing half-written
        assert await storage.save("teen", Conversation("fr"), expected_version=None, now=NOW)


async def test_turns_during_a_long_read_in_the_thread_stay_consistent(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with SqliteStorage(path) as storage:

        def slow_read(conn: sqlite3.Connection) -> int:
            time.sleep(0.2)  # an export reading a year of events
            return int(conn.execute("SELECT count(*) FROM conversations").fetchone()[0])

        async def walk(user: str) -> int:
            version = None
            for _ in range(20):
                version = await storage.save(
                    user, Conversation("fr"), expected_version=version, now=NOW
                )
                await asyncio.sleep(0)
            return version or 0

        read = asyncio.create_task(storage._run(slow_read))
        versions = await asyncio.gather(*(walk(f"teen{n}") for n in range(10)), read)
        assert versions[:10] == [20] * 10
        for n in range(10):
            stored = await storage.load(f"teen{n}")
            assert stored is not None and stored.version == 20
        with closing(sqlite3.connect(path)) as check:
            assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("bad_first", [True, False])
async def test_one_bad_save_in_a_group_commit_fails_alone(tmp_path: Path, bad_first: bool) -> None:
    """An update_id past SQLite's integers breaks its own turn, not the other chat's turn
    that shared its commit (which would otherwise be answered and lost)."""
    async with SqliteStorage(tmp_path / "db.sqlite3") as storage:

        async def save(user: str, update_id: int) -> int:
            conv = Conversation("fr")
            return await storage.save(
                user, conv, expected_version=None, now=NOW, update_id=update_id
            )

        good, bad = save("good", 5), save("bad", 2**63)
        results = await asyncio.gather(
            *((bad, good) if bad_first else (good, bad)), return_exceptions=True
        )
        bad_result, good_result = results if bad_first else results[::-1]
        assert good_result == 1
        assert isinstance(bad_result, Exception)
        assert await storage.load("good") is not None
        assert await storage.load("bad") is None
        assert not await storage.claim_update(5, NOW)  # the good turn's claim committed
