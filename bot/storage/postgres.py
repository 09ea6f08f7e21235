"""PostgreSQL storage through asyncpg: for several replicas sharing one database.

Same tables, same numbered migrations and same contract as the SQLite backend
(``tests/storage/test_storage_contract.py`` runs both). What differs is only what sharing needs:

- A connection pool per replica (``POOL_MAX`` connections each: an update holds one for a
  few milliseconds, so a handful serves Telegram's whole delivery rate).
- Migrations run under a PostgreSQL advisory lock, so replicas starting together apply
  each migration once while the others wait, instead of racing on ``CREATE TABLE``.
- ``save`` relies on row locks: two replicas saving the same conversation serialise on
  its row, and the loser's ``version`` check fails (``ConflictError``), so it re-reads.

A schema other than ``public`` is chosen in the URL: ``postgresql://…/relais?search_path=bot``
(asyncpg passes unknown query parameters to the server as settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg
import asyncpg.exceptions

from bot.domain.conversation import Conversation, Stat
from bot.domain.group import GroupSettings
from bot.errors import AlreadyProcessed, ConflictError, StorageError
from bot.storage.base import EventRow, Nudge, PeriodCount, Reminder, Stored
from bot.storage.migrations import Migration, migrations_for
from bot.storage.periods import (
    CLOSED_PERIODS_SQL,
    MARK_PERIOD_SQL,
    OLDEST_EVENT_SQL,
    ORIGIN_COUNTS_SQL,
    PERIOD_COUNTS_SQL,
    ROLL_UP_SQL,
)
from bot.storage.sent import BatchedSent, SentRow
from bot.storage.sql import (
    DELETE_GROUP_SQL,
    DROP_SENT_SQL,
    DUE_REMINDERS_SQL,
    FETCH_EVENTS_SQL,
    FORGET_EVENTS_SQL,
    GROUP_BY_KEY_SQL,
    GROUP_BY_TOKEN_SQL,
    GROUP_REMOVED_SQL,
    INSERT_CONVERSATION_SQL,
    INSERT_EVENTS_SQL,
    INSERT_SENT_SQL,
    MOVE_GROUP_SQL,
    PURGE_SQL,
    READD_GROUP_SQL,
    SAVE_GROUP_SQL,
    SENT_SINCE_SQL,
    TOMBSTONE_SQL,
    UPDATE_CONVERSATION_SQL,
    event_rows,
    group_of,
    group_params,
    loose_event_rows,
    purge_params,
)

log = logging.getLogger(__name__)

# Tables /oubli, the purge or a group's removal delete from (``_vacuum``).
VACUUMED = (
    "conversations",
    "events",
    "sent_messages",
    "processed_updates",
    "group_settings",
    "removed_groups",
)
POOL_MAX = 5
MIGRATION_LOCK_WAIT = "1s"  # per try; a turn holds its locks for about a millisecond
MIGRATION_ATTEMPTS = 10
MIGRATIONS_WAIT = 120.0  # seconds a starting replica waits for another one's migrations
COMMAND_TIMEOUT = 10.0  # seconds; a stuck query becomes a StorageError, never a hang
CLOSE_TIMEOUT = 10.0

# One lock per schema, so deployments sharing a server in different schemas don't wait
# for each other. hashtext() maps the name to the integer key advisory locks take.
_LOCK_KEY = "hashtext('relais.migrations:' || coalesce(current_schema(), ''))"

_CLAIM = (
    "INSERT INTO processed_updates (update_id, processed_at) VALUES ($1, $2) "
    "ON CONFLICT (update_id) DO NOTHING RETURNING 1"
)

# What asyncpg raises when the server refuses or cannot be reached (TimeoutError is an
# OSError); all of it becomes StorageError, the one failure callers handle.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)

if TYPE_CHECKING:  # generic only in the stubs
    Connection = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except _DRIVER_ERRORS as exc:
        raise StorageError(f"postgresql: {type(exc).__name__}: {exc}") from exc


async def _keep_session(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """Return a connection to the pool as it is. asyncpg's default reset (unlock advisory
    locks, close cursors, UNLISTEN, RESET ALL) is one more round trip per query or turn,
    and undoes nothing here: the bot never LISTENs, never SETs, and releases its one
    advisory lock itself. A transaction left open is still rolled back by asyncpg."""


def _count(status: str) -> int:
    """Rows touched, from a command status such as ``UPDATE 1`` or ``INSERT 0 1``."""
    return int(status.rsplit(" ", 1)[-1])


async def _apply_migrations(conn: Connection) -> None:
    # Longer than COMMAND_TIMEOUT: another replica may hold it through its retries.
    await conn.execute(f"SELECT pg_advisory_lock({_LOCK_KEY})", timeout=MIGRATIONS_WAIT)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
        )
        done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in migrations_for("postgres"):
            if migration.number not in done:
                await _apply(conn, migration)
    finally:
        # Should this fail, ``open`` terminates the pool: the session ends, and its lock.
        await conn.execute(f"SELECT pg_advisory_unlock({_LOCK_KEY})")


async def _apply(conn: Connection, migration: Migration) -> None:
    """One script, one transaction (DDL is transactional in PostgreSQL), tried again when
    it cannot get its table locks at once: replicas still running the previous version
    keep saving turns while a new one starts, and a DDL lock queued behind them would
    hold all their turns, or deadlock with one (the loser would be this start-up)."""
    for attempt in range(1, MIGRATION_ATTEMPTS + 1):
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_WAIT}'")
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2)",
                    migration.number,
                    migration.name,
                )
            return
        except (
            asyncpg.exceptions.LockNotAvailableError,
            asyncpg.exceptions.DeadlockDetectedError,
        ) as exc:
            if attempt == MIGRATION_ATTEMPTS:
                raise
            log.info(
                "migration %04d waits for its tables (%s); try %d of %d",
                migration.number,
                type(exc).__name__,
                attempt + 1,
                MIGRATION_ATTEMPTS,
            )
            await asyncio.sleep(0.2 * attempt)


class PostgresStorage(BatchedSent):
    """Storage in PostgreSQL (``postgresql://`` or ``postgres://`` URLs)."""

    def __init__(self, url: str, *, pool_max: int = POOL_MAX) -> None:
        super().__init__()
        self.url = url
        self.pool_max = pool_max
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    async def open(self) -> None:
        with _translated():
            pool = await asyncpg.create_pool(
                self.url,
                min_size=1,
                max_size=self.pool_max,
                command_timeout=COMMAND_TIMEOUT,
                reset=_keep_session,
            )
            try:
                async with pool.acquire() as conn:
                    await _apply_migrations(conn)
            except BaseException:
                pool.terminate()
                raise
        self._pool = pool

    async def close(self) -> None:
        """Wait for connections in use to come back (in-flight saves finish), then close."""
        if self._pool is None:
            return
        await self.close_pending()
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            pool.terminate()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        if self._pool is None:
            raise StorageError("storage is not open")
        with _translated():
            async with self._pool.acquire(timeout=COMMAND_TIMEOUT) as conn:
                yield conn

    async def load(self, user_key: str) -> Stored | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT state, version, updated_at FROM conversations WHERE user_key = $1",
                user_key,
            )
        if row is None:
            return None
        state, version, updated = row
        return Stored(
            Conversation.from_json(state), version, dt.datetime.fromtimestamp(updated, dt.UTC)
        )

    async def save(
        self,
        user_key: str,
        conversation: Conversation,
        *,
        expected_version: int | None,
        stats: Sequence[Stat] = (),
        now: dt.datetime,
        update_id: int | None = None,
        nudge: Nudge | None = None,
    ) -> int:
        seconds = int(now.timestamp())
        nudge_at = int(nudge.at.timestamp()) if nudge else None
        reach = nudge.reach if nudge else None
        events = event_rows(conversation, stats, now)
        state = conversation.to_json()
        async with self._connection() as conn, conn.transaction():
            # Claim first (see ``Storage.save``): a replica handling the same update
            # waits here on the other's uncommitted ledger row, then finds it.
            if update_id is not None and await conn.fetchval(_CLAIM, update_id, seconds) is None:
                raise AlreadyProcessed(f"update {update_id} was processed already")
            if expected_version is None:
                status = await conn.execute(
                    INSERT_CONVERSATION_SQL, user_key, state, seconds, nudge_at, reach
                )
                version = 1
            else:
                # Under READ COMMITTED, a concurrent writer's row lock makes this wait, then
                # re-check ``version`` against the committed row: the loser matches 0 rows.
                status = await conn.execute(
                    UPDATE_CONVERSATION_SQL,
                    state,
                    seconds,
                    nudge_at,
                    conversation.session,
                    reach,
                    user_key,
                    expected_version,
                )
                version = expected_version + 1
            if _count(status) != 1:
                raise ConflictError("conversation changed since it was read")
            if events:
                await conn.executemany(INSERT_EVENTS_SQL, events)
        return version

    async def record_events(
        self, stats: Sequence[Stat], now: dt.datetime, *, update_id: int | None = None
    ) -> None:
        rows = loose_event_rows(stats, now)
        async with self._connection() as conn, conn.transaction():
            if update_id is not None:
                claimed = await conn.fetchval(_CLAIM, update_id, int(now.timestamp()))
                if claimed is None:
                    raise AlreadyProcessed(f"update {update_id} was processed already")
            await conn.executemany(INSERT_EVENTS_SQL, rows)

    async def claim_update(self, update_id: int, now: dt.datetime) -> bool:
        async with self._connection() as conn:
            return await conn.fetchval(_CLAIM, update_id, int(now.timestamp())) is not None

    async def _forget(self, user_key: str) -> int:
        async with self._connection() as conn, conn.transaction():
            state = await conn.fetchval(
                "DELETE FROM conversations WHERE user_key = $1 RETURNING state", user_key
            )
            if state is None:
                return 0
            gone = 1 + _count(await conn.execute(DROP_SENT_SQL, user_key))
            conversation = Conversation.from_json(state)
            if conversation.session:
                status = await conn.execute(
                    FORGET_EVENTS_SQL, conversation.since, conversation.session
                )
                gone += _count(status)
            return gone

    async def purge(
        self,
        *,
        events_before: dt.datetime,
        idle_before: dt.datetime,
        now: dt.datetime | None = None,
    ) -> int:
        await self.flush_sent()  # pending ids are purged with the others
        params = purge_params(events_before, idle_before, now)
        async with self._connection() as conn:
            async with conn.transaction():
                gone = sum(
                    [
                        _count(await conn.execute(sql, p))
                        for sql, p in zip(PURGE_SQL, params, strict=True)
                    ]
                )
            await self._vacuum(conn)
        return gone

    @staticmethod
    async def _vacuum(conn: Connection) -> None:
        """A deleted row stays in its table as a dead tuple until VACUUM: without this,
        a key erased by /oubli or the purge could be read back from the table's pages
        until autovacuum passes. Once a day, after the purge; its failure (the bot's
        role does not own the tables) costs a warning, not the purge."""
        try:
            with _translated():
                await conn.execute(f"VACUUM {', '.join(VACUUMED)}")
        except StorageError as exc:
            log.warning("the purge could not VACUUM (%s); autovacuum will", exc)

    async def fetch_events(self, start: dt.datetime, end: dt.datetime) -> list[EventRow]:
        sql = FETCH_EVENTS_SQL.format(start="$1", end="$2")
        async with self._connection() as conn:
            rows = await conn.fetch(sql, int(start.timestamp()), int(end.timestamp()))
        return [EventRow(*row) for row in rows]

    async def get_group(self, group_key: str) -> GroupSettings | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(GROUP_BY_KEY_SQL.format(key="$1"), group_key)
        return None if row is None else group_of(tuple(row))

    async def group_by_token(self, token: str) -> GroupSettings | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(GROUP_BY_TOKEN_SQL.format(token="$1"), token)
        return None if row is None else group_of(tuple(row))

    async def save_group(
        self,
        settings: GroupSettings,
        now: dt.datetime,
        *,
        update_id: int | None = None,
        added: bool = False,
    ) -> None:
        sql = SAVE_GROUP_SQL.format(**{f"p{i}": f"${i}" for i in range(1, 9)})
        async with self._connection() as conn, conn.transaction():
            if update_id is not None:
                claimed = await conn.fetchval(_CLAIM, update_id, int(now.timestamp()))
                if claimed is None:
                    raise AlreadyProcessed(f"update {update_id} was processed already")
            if added:
                await conn.execute(READD_GROUP_SQL, settings.key)
            await conn.execute(sql, *group_params(settings, now))

    async def delete_group(self, group_key: str, now: dt.datetime) -> bool:
        async with self._connection() as conn, conn.transaction():
            status = await conn.execute(DELETE_GROUP_SQL, group_key)
            await conn.execute(TOMBSTONE_SQL, group_key, int(now.timestamp()))
        return _count(status) > 0

    async def group_removed(self, group_key: str) -> bool:
        async with self._connection() as conn:
            return await conn.fetchval(GROUP_REMOVED_SQL, group_key) is not None

    async def move_group(self, old_key: str, new_key: str) -> bool:
        async with self._connection() as conn, conn.transaction():
            # FOR UPDATE: a concurrent move or save of the old group waits for this one.
            sql = GROUP_BY_KEY_SQL.format(key="$1") + " FOR UPDATE"
            if await conn.fetchrow(sql, old_key) is None:
                return False
            for statement in MOVE_GROUP_SQL:
                await conn.execute(statement.format(new="$1", old="$2"), new_key, old_key)
            return True

    async def roll_up(
        self, period: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
    ) -> bool:
        mark = MARK_PERIOD_SQL.format(period="$1", now="$2")
        roll = ROLL_UP_SQL.format(period="$1", start="$2", end="$3")
        async with self._connection() as conn, conn.transaction():
            # A second replica waits here for the first one's commit, then finds the row.
            if _count(await conn.execute(mark, period, int(now.timestamp()))) == 0:
                return False
            # Distinct counts sort in memory rather than on disk (a month: ~1M rows).
            await conn.execute("SET LOCAL work_mem = '64MB'")
            await conn.execute(roll, period, int(start.timestamp()), int(end.timestamp()))
            return True

    async def closed_periods(self, first: str, last: str) -> set[str]:
        async with self._connection() as conn:
            rows = await conn.fetch(CLOSED_PERIODS_SQL.format(first="$1", last="$2"), first, last)
        return {row[0] for row in rows}

    async def period_counts(self, first: str, last: str) -> list[PeriodCount]:
        async with self._connection() as conn:
            rows = await conn.fetch(PERIOD_COUNTS_SQL.format(first="$1", last="$2"), first, last)
        return [PeriodCount(*row) for row in rows]

    async def origin_counts(self, group_key: str, first: str, last: str) -> dict[str, int]:
        sql = ORIGIN_COUNTS_SQL.format(key="$1", first="$2", last="$3")
        async with self._connection() as conn:
            rows = await conn.fetch(sql, group_key, first, last)
        return {row[0]: int(row[1]) for row in rows}

    async def oldest_event(self) -> dt.datetime | None:
        async with self._connection() as conn:
            value = await conn.fetchval(OLDEST_EVENT_SQL)
        return None if value is None else dt.datetime.fromtimestamp(value, dt.UTC)

    async def _write_sent(self, rows: list[SentRow]) -> None:
        async with self._connection() as conn:
            await conn.executemany(INSERT_SENT_SQL, rows)

    async def _sent_messages(self, user_key: str, since: dt.datetime) -> list[int]:
        async with self._connection() as conn:
            rows = await conn.fetch(SENT_SINCE_SQL, user_key, int(since.timestamp()))
        return [row[0] for row in rows]

    async def _drop_sent(self, user_key: str) -> None:
        async with self._connection() as conn:
            await conn.execute(DROP_SENT_SQL, user_key)

    async def claim_reminders(
        self, now: dt.datetime, *, quiet_since: dt.datetime, limit: int = 50
    ) -> list[Reminder]:
        # SKIP LOCKED: replicas polling at once each take different rows, none waits.
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"WITH due AS ({DUE_REMINDERS_SQL} FOR UPDATE SKIP LOCKED) "
                "UPDATE conversations c SET nudge_at = NULL, reach = NULL, "
                "nudged = (c.state::json ->> 'session') FROM due "
                "WHERE c.user_key = due.user_key "
                "RETURNING c.user_key, due.reach, c.state",
                int(now.timestamp()),
                int(quiet_since.timestamp()),
                limit,
            )
        return [Reminder(r[0], r[1], Conversation.from_json(r[2])) for r in rows]

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for exports and tests, with PostgreSQL's ``$1`` placeholders."""
        async with self._connection() as conn:
            return [tuple(row) for row in await conn.fetch(sql, *params)]
