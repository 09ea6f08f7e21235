"""The storage protocol: a few async methods every backend implements.

Conveniences belong to callers, not here, so a new backend stays small and the shared
contract tests (``tests/storage/test_storage_contract.py``) cover all of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from bot.domain.conversation import Conversation, Stat
from bot.domain.group import GroupSettings
from bot.domain.policy import SENT_RETENTION
from bot.errors import StorageError
from bot.storage.sent import FLUSH_AFTER, PendingSent, SentRow

log = logging.getLogger(__name__)

HOUR = 3600
LEDGER_RETENTION = 24 * HOUR  # Telegram keeps an undelivered update for at most a day


@dataclass(frozen=True)
class Stored:
    """A conversation as read, with the version to hand back when saving it."""

    conversation: Conversation
    version: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class Reminder:
    """A claimed reminder: the conversation to remind, and its sealed chat id."""

    user_key: str
    reach: str
    conversation: Conversation


@dataclass(frozen=True)
class Nudge:
    """The one reminder a save arms: when it may be sent, and the chat id sealed
    (``bot.privacy.seal``), the only way the bot can write first."""

    at: dt.datetime
    reach: str


class EventRow(NamedTuple):
    """One anonymous statistics event as read back for exports (never a user key).

    ``session`` lets exports count distinct conversations; it never leaves the process.
    A named tuple, not a dataclass: exports read hundreds of thousands of them and a
    tuple is built about five times faster.
    """

    at_hour: int  # unix seconds, rounded down to the hour
    kind: str
    flow: str | None
    step: str | None
    dimension: str | None
    choice: str | None
    locale: str | None
    origin: str | None
    session: str | None


# Plain SQL that runs unchanged on SQLite and PostgreSQL; backends only substitute their
# placeholders ({start}, {end}). Ordered so readers can stream it chunk after chunk.
FETCH_EVENTS_SQL = (
    "SELECT at_hour, kind, flow, step, dimension, choice, locale, origin, session "
    "FROM events WHERE at_hour >= {start} AND at_hour < {end} ORDER BY at_hour, id"
)


# Group settings, in SQL both backends run as is (placeholders substituted, like above).
_GROUP_COLUMNS = "group_key, link_token, locale, pin_card, discreet, greet, card_message_id"
GROUP_BY_KEY_SQL = f"SELECT {_GROUP_COLUMNS} FROM group_settings WHERE group_key = {{key}}"
GROUP_BY_TOKEN_SQL = f"SELECT {_GROUP_COLUMNS} FROM group_settings WHERE link_token = {{token}}"
# The link token is never updated: cards already posted keep working.
SAVE_GROUP_SQL = (
    f"INSERT INTO group_settings ({_GROUP_COLUMNS}, updated_at) "
    "VALUES ({p1}, {p2}, {p3}, {p4}, {p5}, {p6}, {p7}, {p8}) "
    "ON CONFLICT (group_key) DO UPDATE SET locale = excluded.locale, "
    "pin_card = excluded.pin_card, discreet = excluded.discreet, greet = excluded.greet, "
    "card_message_id = excluded.card_message_id, updated_at = excluded.updated_at"
)
DELETE_GROUP_SQL = "DELETE FROM group_settings WHERE group_key = {key}"
# A move, in one transaction: the old group's settings win over any row the new chat got
# meanwhile, and its statistics follow it, so /stats counts from before the upgrade.
# Each statement names {new}, then {old}, exactly once (positional placeholders).
MOVE_GROUP_SQL = (
    "DELETE FROM group_settings WHERE group_key = {new} "
    "AND EXISTS (SELECT 1 FROM group_settings WHERE group_key = {old})",
    # Message ids are per chat: the old group's card id means nothing in the supergroup.
    "UPDATE group_settings SET group_key = {new}, card_message_id = NULL WHERE group_key = {old}",
    "UPDATE events SET origin = {new} WHERE origin = {old}",
)
# A turn's save, as both backends run it ($n placeholders; SQLite's are ?n). The reminder
# stays armed while the person answers (first arming stands, no index write per turn),
# is never re-armed for a session already reminded, and any turn without one cancels it.
INSERT_CONVERSATION_SQL = (
    "INSERT INTO conversations (user_key, state, version, updated_at, nudge_at, reach) "
    "VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (user_key) DO NOTHING"
)
UPDATE_CONVERSATION_SQL = (
    "UPDATE conversations SET state = $1, version = version + 1, updated_at = $2, "
    "nudge_at = CASE WHEN CAST($3 AS BIGINT) IS NULL OR nudged = $4 THEN NULL "
    "ELSE coalesce(nudge_at, $3) END, "
    "reach = CASE WHEN CAST($3 AS BIGINT) IS NULL OR nudged = $4 THEN NULL "
    "ELSE coalesce(reach, $5) END "
    "WHERE user_key = $6 AND version = $7"
)
# Reminders due ($1) of conversations quiet since $2, oldest first, at most $3.
DUE_REMINDERS_SQL = (
    "SELECT user_key, reach FROM conversations "
    "WHERE nudge_at <= $1 AND updated_at <= $2 AND reach IS NOT NULL "
    "ORDER BY nudge_at LIMIT $3"
)
# One conversation's statistics ($2: its session), read through the time index from the
# hour it began ($1; 0 for conversations saved before it was recorded).
FORGET_EVENTS_SQL = "DELETE FROM events WHERE at_hour >= $1 AND session = $2"
SENT_SINCE_SQL = (
    "SELECT message_id FROM sent_messages WHERE user_key = $1 AND sent_at >= $2 ORDER BY message_id"
)
DROP_SENT_SQL = "DELETE FROM sent_messages WHERE user_key = $1"
INSERT_EVENTS_SQL = (
    "INSERT INTO events (at_hour, kind, flow, step, dimension, choice, locale, origin, "
    "session) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
# The purge, one statement per kind of row, each with its one parameter ($1) as
# ``purge_params`` gives them: old statistics, idle conversations, then message ids and
# the update ledger past their retention, counted back from their newest row (no clock).
PURGE_SQL = (
    "DELETE FROM events WHERE at_hour < $1",
    "DELETE FROM conversations WHERE updated_at < $1",
    "DELETE FROM sent_messages WHERE sent_at < (SELECT max(sent_at) FROM sent_messages) - $1",
    "DELETE FROM processed_updates WHERE processed_at < "
    "(SELECT max(processed_at) FROM processed_updates) - $1",
)
INSERT_SENT_SQL = (
    "INSERT INTO sent_messages (user_key, message_id, sent_at) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"
)


# Private conversations opened from a group: distinct sessions, however often restarted.
COUNT_ORIGIN_SQL = (
    "SELECT COUNT(DISTINCT session) FROM events "
    "WHERE origin = {key} AND kind = 'flow_started' AND at_hour >= {since}"
)


def group_of(row: Sequence[Any]) -> GroupSettings:
    """A ``group_settings`` row (in ``_GROUP_COLUMNS`` order) as settings."""
    key, token, locale, pin_card, discreet, greet, card = row
    return GroupSettings(
        str(key),
        str(token),
        str(locale),
        bool(pin_card),
        bool(discreet),
        bool(greet),
        None if card is None else int(card),
    )


def group_params(settings: GroupSettings, now: dt.datetime) -> tuple[object, ...]:
    """The parameters of ``SAVE_GROUP_SQL``, in order."""
    return (
        settings.key,
        settings.token,
        settings.locale,
        settings.pin_card,
        settings.discreet,
        settings.greet,
        settings.card_message_id,
        int(now.timestamp()),
    )


def hour_of(moment: dt.datetime) -> int:
    """Unix time rounded down to the hour: statistics never need (nor get) more."""
    seconds = int(moment.timestamp())
    return seconds - seconds % HOUR


def event_rows(
    conversation: Conversation, stats: Sequence[Stat], now: dt.datetime
) -> list[tuple[Any, ...]]:
    """A turn's statistics as ``INSERT_EVENTS_SQL`` rows: the hour, never the minute."""
    hour = hour_of(now)
    c = conversation
    return [
        (hour, s.kind, s.flow, s.step, s.dimension, s.choice, c.locale, c.origin, c.session)
        for s in stats
    ]


def purge_params(events_before: dt.datetime, idle_before: dt.datetime) -> tuple[int, ...]:
    """The parameters of ``PURGE_SQL``, statement by statement."""
    return (
        hour_of(events_before),
        int(idle_before.timestamp()),
        SENT_RETENTION,
        LEDGER_RETENTION,
    )


class Storage(ABC):
    """Conversation state with optimistic locking, and the anonymous event log.

    Backends call ``super().__init__()`` and ``await self.close_pending()`` first thing
    in ``close``: message ids recorded for /effacer are batched here (``bot.storage.sent``).
    """

    def __init__(self) -> None:
        self._pending = PendingSent()
        self._sent_lock = asyncio.Lock()  # one writer of pending ids; forget waits for it
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Storage:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None:
        """Finish pending writes and disconnect."""

    @abstractmethod
    async def load(self, user_key: str) -> Stored | None:
        """The saved conversation, or ``None`` for someone new (or forgotten)."""

    @abstractmethod
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
        """Write state and its statistics atomically; return the new version.

        ``expected_version`` is the version that was loaded (``None`` if nothing was).
        Raise ``ConflictError`` when the stored version differs: someone else wrote first.

        ``update_id`` (the Telegram update being handled) is claimed in the ledger in the
        *same* transaction, first: if it is there already, raise ``AlreadyProcessed`` and
        write nothing. State and claim commit together or not at all, so a crash can
        neither apply an update without recording it nor record it without applying it.
        Claiming first makes a replica handling a redelivered update wait on the ledger row
        for the other's commit, then see it, instead of re-applying the event.

        ``nudge`` arms the conversation's one reminder, unless it is armed already (the
        first arming stands: ``claim_reminders`` waits for the person to be quiet) or this
        session was reminded before; ``None`` cancels a pending one. Arming with the save
        instead of after the replies keeps a turn at one commit.
        """

    async def forget(self, user_key: str) -> int:
        """Erase the person's state, the events of their conversation and the recorded
        message ids (pending ones included); return rows gone."""
        async with self._sent_lock:  # no batch holding their ids is being written now
            self._pending.drop(user_key)
            return await self._forget(user_key)

    @abstractmethod
    async def _forget(self, user_key: str) -> int:
        """``forget``, in the database."""

    @abstractmethod
    async def claim_update(self, update_id: int, now: dt.datetime) -> bool:
        """Record ``update_id`` in the ledger; ``False`` if it was there (a redelivery).

        For handlers that change no conversation: claim first, then act, which makes
        their side effects at-most-once. Conversation turns use ``save(update_id=...)``.
        """

    @abstractmethod
    async def purge(self, *, events_before: dt.datetime, idle_before: dt.datetime) -> int:
        """Delete events older than the retention and conversations idle too long.

        Also prunes the update ledger to the ``LEDGER_RETENTION`` before its newest entry
        (no clock needed: Telegram stops redelivering an update within a day).
        """

    @abstractmethod
    async def fetch_events(self, start: dt.datetime, end: dt.datetime) -> list[EventRow]:
        """Read-only: the events with ``start <= at_hour < end``, oldest first.

        The one read exports need (``bot/export``): they aggregate in Python, so both
        backends give identical figures. Callers read long ranges in chunks.
        """

    # -- groups: settings keyed by a pseudonym of the chat id (see ``bot/domain/group.py``) ----

    @abstractmethod
    async def get_group(self, group_key: str) -> GroupSettings | None:
        """A group's settings, or ``None`` if the bot has none for it."""

    @abstractmethod
    async def group_by_token(self, token: str) -> GroupSettings | None:
        """The group whose deep-link token this is (``None``: unknown or forged)."""

    @abstractmethod
    async def save_group(self, settings: GroupSettings, now: dt.datetime) -> None:
        """Create or replace a group's settings (its link token never changes)."""

    @abstractmethod
    async def delete_group(self, group_key: str) -> bool:
        """Forget a group (the bot left it); ``False`` if there was nothing to forget."""

    @abstractmethod
    async def move_group(self, old_key: str, new_key: str) -> bool:
        """A group became a supergroup: move its settings and its statistics' origin to
        the new key, atomically. ``False`` (and no change) if the old key has no settings."""

    @abstractmethod
    async def count_origin(self, group_key: str, since: dt.datetime) -> int:
        """How many conversations were started from this group's link since ``since``
        (hour precision, like the events). Exact: callers hide small counts."""

    # -- privacy and care: /effacer and the single reminder ------------------------------

    def record_sent(self, user_key: str, message_ids: Sequence[int], now: dt.datetime) -> None:
        """Note the ids of messages this private chat now shows, for /effacer; written
        within ``FLUSH_AFTER`` seconds, in one transaction with every other chat's."""
        if not message_ids:
            return
        self._pending.add(user_key, list(message_ids), int(now.timestamp()))
        if self._flush_timer is None:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(FLUSH_AFTER, self._flush_in_background)

    def _flush_in_background(self) -> None:
        self._flush_timer = None
        task = asyncio.get_running_loop().create_task(self._flush_quietly())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush_quietly(self) -> None:
        try:
            await self.flush_sent()
        except StorageError as exc:  # kept pending: the next record or read tries again
            log.warning("could not record the messages sent (%s)", type(exc).__name__)

    async def flush_sent(self) -> None:
        """Write the pending message ids now."""
        async with self._sent_lock:
            rows = self._pending.take()
            if not rows:
                return
            try:
                await self._write_sent(rows)
            except BaseException:
                self._pending.give_back(rows)
                raise

    async def close_pending(self) -> None:
        """Write what is pending before the connection goes (``close`` calls this)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        await self._flush_quietly()

    @abstractmethod
    async def _write_sent(self, rows: list[SentRow]) -> None:
        """Insert message-id rows, ignoring any already there."""

    async def sent_messages(self, user_key: str, since: dt.datetime) -> list[int]:
        """Ids of the messages of this private chat recorded since ``since``."""
        await self.flush_sent()
        return await self._sent_messages(user_key, since)

    @abstractmethod
    async def _sent_messages(self, user_key: str, since: dt.datetime) -> list[int]:
        """``sent_messages``, from the database."""

    async def drop_sent(self, user_key: str) -> None:
        """Forget the recorded message ids (after /effacer deleted them)."""
        async with self._sent_lock:
            self._pending.drop(user_key)
            await self._drop_sent(user_key)

    @abstractmethod
    async def _drop_sent(self, user_key: str) -> None:
        """``drop_sent``, in the database."""

    @abstractmethod
    async def claim_reminders(
        self, now: dt.datetime, *, quiet_since: dt.datetime, limit: int = 50
    ) -> list[Reminder]:
        """Atomically take up to ``limit`` reminders due at ``now`` of conversations
        nobody touched since ``quiet_since`` (someone still answering is not reminded).

        A reminder is handed to one caller only, even with several replicas polling, and
        its sealed chat id is erased in the same statement.
        """

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StorageError`` if the database does not answer (health checks)."""
