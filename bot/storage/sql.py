"""The SQL both backends run, and the rows it reads and writes.

Plain SQL that runs unchanged on SQLite and PostgreSQL: backends only substitute their
placeholders (``{name}`` ones with ``str.format``, ``$n`` ones as they are on PostgreSQL,
as ``?n`` on SQLite).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from bot.domain.conversation import Conversation, Stat
from bot.domain.group import GroupSettings
from bot.domain.policy import HOUR, SENT_RETENTION, hour_of
from bot.privacy import new_session_id
from bot.storage.periods import MOVE_ORIGIN_COUNTS_SQL

LEDGER_RETENTION = 24 * HOUR  # Telegram keeps an undelivered update for at most a day

# Events in a time range ({start}, {end}), ordered so readers can stream it chunk by chunk.
FETCH_EVENTS_SQL = (
    "SELECT at_hour, kind, flow, step, dimension, choice, locale, origin, session "
    "FROM events WHERE at_hour >= {start} AND at_hour < {end} ORDER BY at_hour, id"
)


# Group settings, in SQL both backends run as is (placeholders substituted, like above).
_GROUP_COLUMNS = "group_key, link_token, locale, pin_card, discreet, greet, card_message_id"
GROUP_BY_KEY_SQL = f"SELECT {_GROUP_COLUMNS} FROM group_settings WHERE group_key = {{key}}"
GROUP_BY_TOKEN_SQL = f"SELECT {_GROUP_COLUMNS} FROM group_settings WHERE link_token = {{token}}"
# The link token is never updated: cards already posted keep working. A group the bot
# was removed from (a tombstone) gets no row, whichever replica a late update reaches.
SAVE_GROUP_SQL = (
    f"INSERT INTO group_settings ({_GROUP_COLUMNS}, updated_at) "
    "SELECT {p1}, {p2}, {p3}, {p4}, {p5}, {p6}, {p7}, {p8} "
    "WHERE NOT EXISTS (SELECT 1 FROM removed_groups WHERE group_key = {p1}) "
    "ON CONFLICT (group_key) DO UPDATE SET locale = excluded.locale, "
    "pin_card = excluded.pin_card, discreet = excluded.discreet, greet = excluded.greet, "
    "card_message_id = excluded.card_message_id, updated_at = excluded.updated_at"
)
# The bot's removal, in one transaction: the settings go, a tombstone stays ($1 the key,
# $2 unix seconds). The bot added again lifts it (``READD_GROUP_SQL``, before the save).
DELETE_GROUP_SQL = "DELETE FROM group_settings WHERE group_key = $1"
TOMBSTONE_SQL = (
    "INSERT INTO removed_groups (group_key, removed_at) VALUES ($1, $2) "
    "ON CONFLICT (group_key) DO UPDATE SET removed_at = excluded.removed_at"
)
READD_GROUP_SQL = "DELETE FROM removed_groups WHERE group_key = $1"
GROUP_REMOVED_SQL = "SELECT 1 FROM removed_groups WHERE group_key = $1"
# A move, in one transaction: the old group's settings win over any row the new chat got
# meanwhile, and its statistics follow it, so /stats counts from before the upgrade.
# Each statement names {new}, then {old}, exactly once (positional placeholders).
MOVE_GROUP_SQL = (
    "DELETE FROM group_settings WHERE group_key = {new} "
    "AND EXISTS (SELECT 1 FROM group_settings WHERE group_key = {old})",
    # Message ids are per chat: the old group's card id means nothing in the supergroup.
    "UPDATE group_settings SET group_key = {new}, card_message_id = NULL WHERE group_key = {old}",
    "UPDATE events SET origin = {new} WHERE origin = {old}",
    MOVE_ORIGIN_COUNTS_SQL,
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
# the update ledger past their retention: message ids by the wall clock (Telegram's 48 h
# to delete a message are real hours, however quiet the bot), the ledger counted back from
# its newest row (Telegram stops redelivering within a day of sending, whatever our clock).
PURGE_SQL = (
    "DELETE FROM events WHERE at_hour < $1",
    "DELETE FROM conversations WHERE updated_at < $1",
    "DELETE FROM sent_messages WHERE sent_at < $1",
    "DELETE FROM processed_updates WHERE processed_at < "
    "(SELECT max(processed_at) FROM processed_updates) - $1",
    # A tombstone outlives what Telegram could still redeliver, then goes.
    "DELETE FROM removed_groups WHERE removed_at < $1",
)
INSERT_SENT_SQL = (
    "INSERT INTO sent_messages (user_key, message_id, sent_at) VALUES ($1, $2, $3) "
    "ON CONFLICT DO NOTHING"
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


def loose_event_rows(stats: Sequence[Stat], now: dt.datetime) -> list[tuple[Any, ...]]:
    """Statistics of no conversation as ``INSERT_EVENTS_SQL`` rows (``record_events``):
    the hour, no language, no origin, a fresh random session each."""
    hour = hour_of(now)
    return [
        (hour, s.kind, s.flow, s.step, s.dimension, s.choice, None, None, new_session_id())
        for s in stats
    ]


def purge_params(
    events_before: dt.datetime, idle_before: dt.datetime, now: dt.datetime | None = None
) -> tuple[int, ...]:
    """The parameters of ``PURGE_SQL``, statement by statement (``now``: the wall clock)."""
    now = now or dt.datetime.now(dt.UTC)
    return (
        hour_of(events_before),
        int(idle_before.timestamp()),
        int(now.timestamp()) - SENT_RETENTION,
        LEDGER_RETENTION,
        int(now.timestamp()) - LEDGER_RETENTION,
    )
