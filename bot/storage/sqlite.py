"""SQLite storage: the default, enough for one machine.

The standard library's ``sqlite3`` with one thread of its own for what may wait; WAL mode
lets readers (exports, health checks) run beside the writer. What a turn costs is mostly
what it writes, so (figures: ``bench/run.py``, ``bench/storage_turn.py``):

- One commit per turn: state, statistics, update-ledger claim and reminder together;
  message ids for /effacer are batched (``bot.storage.sent``). No index exists for the
  daily purge's sake alone: each would cost a write on every turn.
- Group commit: the saves of other chats' turns that reach the database during the same
  turn of the event loop share one transaction (``save``); a turn that fails (a version
  conflict, a redelivered update) leaves nothing and fails alone.
- 1 KB pages for new databases (SQLite's default is 4 KB): a turn dirties about five
  pages, so a quarter of the bytes to log and to sync; with the checkpoint every 16,000
  pages (16 MB of log) a turn's share of the checkpoint halves. An existing database
  keeps its page size (``VACUUM`` outside WAL mode would convert it).
- A turn's own operations run right on the event loop when the thread is idle (the hop
  to a thread cost more than the write, and on a busy loop a single hop could take
  seconds, the thread starved of the GIL), with SQLite's busy timeout at zero so they
  never wait for a lock there: if another process holds it, they go to the thread, which
  waits ``busy_timeout``. Long operations (exports, purges) always go to the thread.
- The checkpoint runs on the loop, in the commit that passes the threshold (tens of ms,
  once every few thousand turns): from a thread of its own it contends for the GIL with
  the loop and costs more throughput than the pause it saves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.domain.conversation import Conversation, Stat
from bot.domain.group import GroupSettings
from bot.errors import AlreadyProcessed, ConflictError, StorageError
from bot.storage.base import EventRow, Nudge, PeriodCount, Reminder, Stored
from bot.storage.migrations import migrations_for
from bot.storage.periods import (
    AGGREGATE_SQL,
    CLOSED_PERIODS_SQL,
    INSERT_COUNTS_SQL,
    MARK_PERIOD_SQL,
    OLDEST_EVENT_SQL,
    ORIGIN_COUNTS_SQL,
    PERIOD_COUNTS_SQL,
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

T = TypeVar("T")
PAGE_SIZE = 1024

_NUMBERED = re.compile(r"\$(\d+)")


def _qmark(sql: str) -> tuple[str, tuple[int, ...]]:
    """The shared SQL's ``$n`` placeholders as SQLite's plain ``?`` (Python 3.12 deprecates
    binding a sequence to numbered ``?n``), and the parameter each ``?`` takes, in order."""
    return _NUMBERED.sub("?", sql), tuple(int(n) - 1 for n in _NUMBERED.findall(sql))


def _in_order(sql: str) -> str:
    """``_qmark`` for SQL that names ``$1..$n`` once each, in order (checked at import)."""
    plain, order = _qmark(sql)
    if order != tuple(range(len(order))):
        raise ValueError(f"placeholders out of order: {sql}")
    return plain


_INSERT_CONVERSATION = _in_order(INSERT_CONVERSATION_SQL)
# Names $3 three times and $4 twice: its parameters are laid out by _UPDATE_ORDER.
_UPDATE_CONVERSATION, _UPDATE_ORDER = _qmark(UPDATE_CONVERSATION_SQL)
_DUE_REMINDERS = _in_order(DUE_REMINDERS_SQL)
_INSERT_SENT = _in_order(INSERT_SENT_SQL)
_INSERT_EVENTS = _in_order(INSERT_EVENTS_SQL)
_FORGET_EVENTS = _in_order(FORGET_EVENTS_SQL)
_SENT_SINCE = _in_order(SENT_SINCE_SQL)
_DROP_SENT = _in_order(DROP_SENT_SQL)
_PURGE = tuple(_in_order(sql) for sql in PURGE_SQL)
_DELETE_GROUP = _in_order(DELETE_GROUP_SQL)
_TOMBSTONE = _in_order(TOMBSTONE_SQL)
_READD_GROUP = _in_order(READD_GROUP_SQL)
_GROUP_REMOVED = _in_order(GROUP_REMOVED_SQL)


def _apply_migrations(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    for migration in migrations_for("sqlite"):
        if migration.number in done:
            continue
        # One script, one transaction: a migration is applied whole or not at all.
        record = f"INSERT INTO schema_migrations VALUES ({migration.number}, '{migration.name}');"
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}\n{record}\nCOMMIT;")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


@dataclass(frozen=True)
class _Write:
    """One turn's save, as plain values for whichever thread runs it."""

    user_key: str
    state: str
    expected: int | None
    now: int
    events: list[tuple[Any, ...]]
    update_id: int | None
    nudge_at: int | None
    session: str
    reach: str | None


def _apply(conn: sqlite3.Connection, w: _Write) -> int:
    """One save's statements inside the caller's transaction; return the new version.

    A turn that fails leaves nothing behind without a savepoint: a refused claim or a
    version mismatch writes no row, the claim of a turn whose version then mismatches is
    deleted again, and the statistics come last."""
    # The ledger claim comes first (see ``Storage.save``).
    if w.update_id is not None and not _claim(conn, w.update_id, w.now):
        raise AlreadyProcessed(f"update {w.update_id} was processed already")
    if w.expected is None:
        params: tuple[Any, ...] = (w.user_key, w.state, w.now, w.nudge_at, w.reach)
        cursor = conn.execute(_INSERT_CONVERSATION, params)
        version = 1
    else:
        params = (w.state, w.now, w.nudge_at, w.session, w.reach, w.user_key, w.expected)
        cursor = conn.execute(_UPDATE_CONVERSATION, [params[i] for i in _UPDATE_ORDER])
        version = w.expected + 1
    if cursor.rowcount != 1:
        if w.update_id is not None:  # so the turn, decided again, can claim it
            conn.execute("DELETE FROM processed_updates WHERE update_id = ?", (w.update_id,))
        raise ConflictError("conversation changed since it was read")
    if w.events:
        conn.executemany(_INSERT_EVENTS, w.events)
    return version


def _save_batch(conn: sqlite3.Connection, writes: list[_Write]) -> list[int | Exception]:
    """Several turns' saves, one transaction: a conflict or a redelivered update fails
    that turn alone (``_apply`` leaves nothing of it), and one commit (one write of each
    page they share) makes the others durable. A version, or the turn's error, each."""
    results: list[int | Exception] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for write in writes:
            try:
                results.append(_apply(conn, write))
            except (ConflictError, AlreadyProcessed) as exc:
                results.append(exc)
        conn.execute("COMMIT")
        return results
    except (sqlite3.OperationalError, asyncio.CancelledError, KeyboardInterrupt):
        if conn.in_transaction:  # the database itself failed: every turn of the batch
            conn.execute("ROLLBACK")
        raise
    except Exception:
        # One turn's own values broke it (an update_id past SQLite's integers...): no
        # savepoint to undo just that turn, so each is written alone, and fails alone.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if len(writes) == 1:
            raise
        return [_save_alone(conn, write) for write in writes]


def _save_alone(conn: sqlite3.Connection, write: _Write) -> int | Exception:
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = _apply(conn, write)
    except sqlite3.OperationalError:
        conn.execute("ROLLBACK")
        raise
    except Exception as exc:
        conn.execute("ROLLBACK")
        return exc
    conn.execute("COMMIT")
    return version


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (extended codes included): someone else's lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _claim(conn: sqlite3.Connection, update_id: int, now: int) -> bool:
    cursor = conn.execute(
        "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?) "
        "ON CONFLICT (update_id) DO NOTHING",
        (update_id, now),
    )
    return cursor.rowcount == 1


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[None]:
    """One write transaction that takes SQLite's write lock first (BEGIN IMMEDIATE, so
    two processes never read the same rows to change them): committed when the block
    ends, rolled back on any exception, which goes on."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _forget(conn: sqlite3.Connection, user_key: str) -> int:
    with _immediate(conn):
        row = conn.execute(
            "SELECT state FROM conversations WHERE user_key = ?", (user_key,)
        ).fetchone()
        gone = conn.execute("DELETE FROM conversations WHERE user_key = ?", (user_key,)).rowcount
        gone += conn.execute(_DROP_SENT, (user_key,)).rowcount
        if row is not None:
            conversation = Conversation.from_json(row[0])
            if conversation.session:
                params = (conversation.since, conversation.session)
                gone += conn.execute(_FORGET_EVENTS, params).rowcount
    return gone


def _purge(conn: sqlite3.Connection, params: tuple[int, ...]) -> int:
    with conn:
        return sum(conn.execute(sql, (p,)).rowcount for sql, p in zip(_PURGE, params, strict=True))


def _claim_reminders(
    conn: sqlite3.Connection, now: int, quiet_since: int, limit: int
) -> list[tuple[str, str, str]]:
    # Under the write lock two processes never read the same due rows; `nudged` records
    # the session so the reminder is never armed again.
    with _immediate(conn):
        due = conn.execute(_DUE_REMINDERS, (now, quiet_since, limit)).fetchall()
        rows: list[tuple[str, str, str]] = [
            (
                key,
                reach,
                conn.execute(
                    "UPDATE conversations SET nudge_at = NULL, reach = NULL, "
                    "nudged = json_extract(state, '$.session') WHERE user_key = ? "
                    "RETURNING state",
                    (key,),
                ).fetchone()[0],
            )
            for key, reach in due
        ]
    return rows


def _move_group(conn: sqlite3.Connection, old: str, new: str) -> bool:
    with _immediate(conn):
        found = conn.execute(GROUP_BY_KEY_SQL.format(key="?"), (old,)).fetchone() is not None
        if found:
            for sql in MOVE_GROUP_SQL:  # each names {new}, then {old}, once
                conn.execute(sql.format(new="?", old="?"), (new, old))
    return found


def _aggregate(path: str, params: tuple[str, int, int]) -> list[tuple[Any, ...]]:
    """A month's roll-up rows, read on a connection of its own: in WAL mode the read
    takes no lock, so the bot's turns go on meanwhile (the shared connection would make
    them wait behind it)."""
    conn = sqlite3.connect(path)
    try:
        sql = AGGREGATE_SQL.format(period="?", start="?", end="?")
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _store_period(
    conn: sqlite3.Connection, period: str, now: int, rows: list[tuple[Any, ...]]
) -> bool:
    with _immediate(conn):
        cursor = conn.execute(MARK_PERIOD_SQL.format(period="?", now="?"), (period, now))
        if cursor.rowcount:
            values = "VALUES (?, ?, ?, ?, ?, ?)"
            conn.executemany(INSERT_COUNTS_SQL + values, rows)
    return bool(cursor.rowcount)


class SqliteStorage(BatchedSent):
    """Storage in one SQLite file (``sqlite:///path``; ``sqlite://:memory:`` for tests)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        """``busy_timeout``: seconds a write waits for another connection's lock before
        failing with "database is locked" (the caller then retries; tests shorten it)."""
        self.path = str(path)
        self.busy_timeout = busy_timeout
        super().__init__()
        self._conn: sqlite3.Connection | None = None
        # The one thread long or blocked operations run in; idle, it never keeps the
        # process alive.
        self._thread: ThreadPoolExecutor | None = None
        self._in_thread = 0  # operations queued or running in that thread
        # Saves waiting to join the batch being gathered (``save``); None: no batch.
        self._joining: list[tuple[_Write, asyncio.Future[int]]] | None = None

    async def open(self) -> None:
        if self._conn is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relais-sqlite")
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per save.
        # check_same_thread=False: short operations also run on the loop's thread, never
        # at the same time as the worker's (see ``_run_short``).
        connect = partial(sqlite3.connect, self.path, isolation_level=None, check_same_thread=False)
        try:
            self._conn = await self._in_worker(connect)
            await self._run(self._configure)
        except BaseException:
            await self.close()
            raise

    @staticmethod
    def _configure(conn: sqlite3.Connection) -> None:
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # new databases only (module notes)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA wal_autocheckpoint={16 * 1024 * 1024 // PAGE_SIZE}")  # 16 MB
        _apply_migrations(conn)

    async def close(self) -> None:
        if self._conn is not None:
            await self.close_pending()
            conn, self._conn = self._conn, None
            await self._in_worker(conn.close)
        if self._thread is not None:
            self._thread.shutdown(wait=False)  # nothing is queued any more
            self._thread = None

    async def _in_worker(self, call: Callable[[], T]) -> T:
        """``call()`` in the storage's thread, counted so ``_run_short`` stays off the
        connection meanwhile; SQLite's errors become ``StorageError``."""
        if self._thread is None:
            raise StorageError("storage is not open")
        self._in_thread += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, call)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite: {exc}") from exc
        finally:
            self._in_thread -= 1

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` in the storage's thread: one hop, however many
        statements, waiting up to ``busy_timeout`` for another process's lock."""
        conn = self._conn
        if conn is None:
            raise StorageError("storage is not open")
        wait = f"PRAGMA busy_timeout={int(1000 * self.busy_timeout):d}"

        def call() -> T:
            conn.execute(wait)
            try:
                return fn(conn, *args)
            finally:
                conn.execute("PRAGMA busy_timeout=0")  # what ``_run_short`` relies on

        return await self._in_worker(call)

    async def _run_short(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short ``fn(connection, *args)`` on the event loop when the connection is
        idle and the database unlocked (tens of µs, no hop); otherwise as ``_run`` does.

        Safe because the one connection is only ever used by one thread at a time: here
        when nothing is in the storage thread's queue (``_in_thread`` is counted on this
        thread), there otherwise. With the busy timeout at zero, a lock held elsewhere
        fails at once instead of blocking the loop, and the thread takes over."""
        if self._conn is None:
            raise StorageError("storage is not open")
        if not self._in_thread:
            try:
                return fn(self._conn, *args)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise StorageError(f"sqlite: {exc}") from exc
            except sqlite3.Error as exc:
                raise StorageError(f"sqlite: {exc}") from exc
        return await self._run(fn, *args)

    async def load(self, user_key: str) -> Stored | None:
        def read(conn: sqlite3.Connection) -> tuple[str, int, int] | None:
            return conn.execute(  # type: ignore[no-any-return]
                "SELECT state, version, updated_at FROM conversations WHERE user_key = ?",
                (user_key,),
            ).fetchone()

        row = await self._run_short(read)
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
        write = _Write(
            user_key,
            conversation.to_json(),
            expected_version,
            int(now.timestamp()),
            event_rows(conversation, stats, now),
            update_id,
            int(nudge.at.timestamp()) if nudge else None,
            conversation.session,
            nudge.reach if nudge else None,
        )
        if self._joining is not None:  # another turn is gathering a batch: ride along
            joined: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._joining.append((write, joined))
            return await joined
        return await self._lead(write)

    async def _lead(self, write: _Write) -> int:
        """Group commit: wait one turn of the event loop, so every other chat's turn that
        reaches its save meanwhile joins this one, then commit them all at once. Each
        reply still waits for its own state to be committed; alone, a turn pays only
        the one loop turn (microseconds)."""
        self._joining = []
        try:
            await asyncio.sleep(0)
        finally:
            joined, self._joining = self._joining, None
        writes = [write, *(w for w, _ in joined)]
        try:
            results = await self._run_short(_save_batch, writes)
        except BaseException as exc:
            for _, future in joined:
                if not future.done():
                    future.set_exception(StorageError(f"batch not committed: {exc}"))
            raise
        for (_, future), result in zip(joined, results[1:], strict=True):
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)
        if isinstance(results[0], Exception):
            raise results[0]
        return results[0]

    async def record_events(
        self, stats: Sequence[Stat], now: dt.datetime, *, update_id: int | None = None
    ) -> None:
        rows, stamp = loose_event_rows(stats, now), int(now.timestamp())

        def write(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                if update_id is not None and not _claim(conn, update_id, stamp):
                    raise AlreadyProcessed(f"update {update_id} was processed already")
                conn.executemany(_INSERT_EVENTS, rows)

        await self._run_short(write)

    async def claim_update(self, update_id: int, now: dt.datetime) -> bool:
        # One statement, so it is its own transaction (autocommit: isolation_level=None).
        return await self._run_short(_claim, update_id, int(now.timestamp()))

    async def _forget(self, user_key: str) -> int:
        return await self._run(_forget, user_key)

    async def purge(
        self,
        *,
        events_before: dt.datetime,
        idle_before: dt.datetime,
        now: dt.datetime | None = None,
    ) -> int:
        await self.flush_sent()  # pending ids are purged with the others
        return await self._run(_purge, purge_params(events_before, idle_before, now))

    async def fetch_events(self, start: dt.datetime, end: dt.datetime) -> list[EventRow]:
        sql = FETCH_EVENTS_SQL.format(start="?", end="?")
        bounds = (int(start.timestamp()), int(end.timestamp()))
        rows = await self._run(lambda conn: conn.execute(sql, bounds).fetchall())
        return [EventRow(*row) for row in rows]

    async def get_group(self, group_key: str) -> GroupSettings | None:
        sql = GROUP_BY_KEY_SQL.format(key="?")
        row = await self._run(lambda conn: conn.execute(sql, (group_key,)).fetchone())
        return None if row is None else group_of(row)

    async def group_by_token(self, token: str) -> GroupSettings | None:
        sql = GROUP_BY_TOKEN_SQL.format(token="?")
        row = await self._run(lambda conn: conn.execute(sql, (token,)).fetchone())
        return None if row is None else group_of(row)

    async def save_group(
        self,
        settings: GroupSettings,
        now: dt.datetime,
        *,
        update_id: int | None = None,
        added: bool = False,
    ) -> None:
        # Plain ``?`` in the order they appear: the key (p1) comes again last.
        sql = SAVE_GROUP_SQL.format(**{f"p{i}": "?" for i in range(1, 9)})
        params = (*group_params(settings, now), settings.key)

        def write(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                if update_id is not None and not _claim(conn, update_id, int(now.timestamp())):
                    raise AlreadyProcessed(f"update {update_id} was processed already")
                if added:
                    conn.execute(_READD_GROUP, (settings.key,))
                conn.execute(sql, params)

        await self._run(write)

    async def delete_group(self, group_key: str, now: dt.datetime) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            with _immediate(conn):
                gone = conn.execute(_DELETE_GROUP, (group_key,)).rowcount
                conn.execute(_TOMBSTONE, (group_key, int(now.timestamp())))
            return bool(gone)

        return await self._run(delete)

    async def group_removed(self, group_key: str) -> bool:
        row = await self._run(lambda conn: conn.execute(_GROUP_REMOVED, (group_key,)).fetchone())
        return row is not None

    async def move_group(self, old_key: str, new_key: str) -> bool:
        return await self._run(_move_group, old_key, new_key)

    async def roll_up(
        self, period: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
    ) -> bool:
        params = (period, int(start.timestamp()), int(end.timestamp()))
        if self.path == ":memory:":  # one connection only: read on it
            sql = AGGREGATE_SQL.format(period="?", start="?", end="?")
            rows = await self._run(lambda conn: conn.execute(sql, params).fetchall())
        else:
            try:
                rows = await asyncio.to_thread(_aggregate, self.path, params)
            except sqlite3.Error as exc:
                raise StorageError(f"sqlite: {exc}") from exc
        return await self._run(_store_period, period, int(now.timestamp()), rows)

    async def closed_periods(self, first: str, last: str) -> set[str]:
        sql = CLOSED_PERIODS_SQL.format(first="?", last="?")
        rows = await self._run(lambda conn: conn.execute(sql, (first, last)).fetchall())
        return {row[0] for row in rows}

    async def period_counts(self, first: str, last: str) -> list[PeriodCount]:
        sql = PERIOD_COUNTS_SQL.format(first="?", last="?")
        rows = await self._run(lambda conn: conn.execute(sql, (first, last)).fetchall())
        return [PeriodCount(*row) for row in rows]

    async def origin_counts(self, group_key: str, first: str, last: str) -> dict[str, int]:
        sql = ORIGIN_COUNTS_SQL.format(key="?", first="?", last="?")
        params = (group_key, first, last)
        rows = await self._run(lambda conn: conn.execute(sql, params).fetchall())
        return {period: int(n) for period, n in rows}

    async def oldest_event(self) -> dt.datetime | None:
        row = await self._run(lambda conn: conn.execute(OLDEST_EVENT_SQL).fetchone())
        return None if row[0] is None else dt.datetime.fromtimestamp(row[0], dt.UTC)

    async def _write_sent(self, rows: list[SentRow]) -> None:
        def write(conn: sqlite3.Connection) -> None:
            with _immediate(conn):
                conn.executemany(_INSERT_SENT, rows)

        await self._run_short(write)

    async def _sent_messages(self, user_key: str, since: dt.datetime) -> list[int]:
        rows = await self.query(_SENT_SINCE, (user_key, int(since.timestamp())))
        return [row[0] for row in rows]

    async def _drop_sent(self, user_key: str) -> None:
        def drop(conn: sqlite3.Connection) -> None:
            with conn:
                conn.execute(_DROP_SENT, (user_key,))

        await self._run(drop)

    async def claim_reminders(
        self, now: dt.datetime, *, quiet_since: dt.datetime, limit: int = 50
    ) -> list[Reminder]:
        rows = await self._run(
            _claim_reminders, int(now.timestamp()), int(quiet_since.timestamp()), limit
        )
        return [Reminder(key, reach, Conversation.from_json(state)) for key, reach, state in rows]

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL for exports and tests."""
        return await self._run(lambda conn: conn.execute(sql, tuple(params)).fetchall())
