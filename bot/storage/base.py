"""The storage protocol: a few async methods every backend implements.

Conveniences belong to callers, not here, so a new backend stays small and the shared
contract tests (``tests/storage/test_storage_contract.py``) cover all of it.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.domain.conversation import Conversation, Stat
from bot.domain.group import GroupSettings
from bot.domain.months import Month, last_closed, months


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


class PeriodCount(NamedTuple):
    """One true count of a closed month (suppression happens in ``bot.export``)."""

    period: str  # "2026-03"
    table: str  # activity, funnel:<flow>, answers:<dimension>, origin, locale, resources
    label: str  # the row: a step, a choice, a group key, a language, a resource id
    column: str  # "conversations", or started / completed / emergency for activity
    link: str | None  # funnel rows: the dimension the step records, or "(end)"
    n: int  # distinct conversations


class Storage(ABC):
    """Conversation state with optimistic locking, and the anonymous event log.

    Backends batch the message ids recorded for /effacer (``bot.storage.sent``).
    """

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

    @abstractmethod
    async def forget(self, user_key: str) -> int:
        """Erase the person's state, the events of their conversation and the recorded
        message ids (pending ones included); return rows gone."""

    @abstractmethod
    async def claim_update(self, update_id: int, now: dt.datetime) -> bool:
        """Record ``update_id`` in the ledger; ``False`` if it was there (a redelivery).

        For handlers that change no conversation: claim first, then act, which makes
        their side effects at-most-once. Conversation turns use ``save(update_id=...)``.
        """

    @abstractmethod
    async def purge(
        self,
        *,
        events_before: dt.datetime,
        idle_before: dt.datetime,
        now: dt.datetime | None = None,
    ) -> int:
        """Delete events older than the retention and conversations idle too long.

        Message ids for /effacer go ``SENT_RETENTION`` after they were sent, by ``now``
        (default: the wall clock).

        Also prunes the update ledger to the ``LEDGER_RETENTION`` before its newest entry
        (no clock needed: Telegram stops redelivering an update within a day), and
        groups' removals to those of the last ``LEDGER_RETENTION`` by ``now``.
        """

    @abstractmethod
    async def record_events(
        self, stats: Sequence[Stat], now: dt.datetime, *, update_id: int | None = None
    ) -> None:
        """Write statistics that belong to no conversation (an answer to words of crisis
        in a group): the hour, no language, no origin, and each event a random session of
        its own, so exports count each once and tie it to nothing else.

        ``update_id`` is claimed in the ledger first, in the same transaction, as ``save``
        does: ``AlreadyProcessed`` (and nothing written) if it was there."""

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
    async def save_group(
        self,
        settings: GroupSettings,
        now: dt.datetime,
        *,
        update_id: int | None = None,
        added: bool = False,
    ) -> None:
        """Create or replace a group's settings (its link token never changes).

        A group the bot was removed from (``delete_group``) gets no row, unless ``added``
        (the bot was added again), which lifts the removal first, in the same transaction.
        ``update_id`` is claimed in the ledger in the same transaction, as ``save`` does:
        ``AlreadyProcessed`` (and nothing written) if it was there."""

    @abstractmethod
    async def delete_group(self, group_key: str, now: dt.datetime) -> bool:
        """Forget a group (the bot left it) and record its removal, in one transaction,
        so no replica writes its row again from a late update; the purge drops the record
        after ``LEDGER_RETENTION``. ``False`` if there were no settings to forget."""

    @abstractmethod
    async def group_removed(self, group_key: str) -> bool:
        """Whether the bot was removed from the group (and not added again since)."""

    @abstractmethod
    async def move_group(self, old_key: str, new_key: str) -> bool:
        """A group became a supergroup: move its settings and its statistics' origin to
        the new key, atomically. ``False`` (and no change) if the old key has no settings."""

    # -- privacy and care: /effacer and the single reminder ------------------------------

    @abstractmethod
    def record_sent(self, user_key: str, message_ids: Sequence[int], now: dt.datetime) -> None:
        """Note the ids of messages this private chat now shows, for /effacer; written
        soon, in one transaction with every other chat's (``bot.storage.sent``)."""

    @abstractmethod
    async def flush_sent(self) -> None:
        """Write the recorded message ids now."""

    @abstractmethod
    async def sent_messages(self, user_key: str, since: dt.datetime) -> list[int]:
        """Ids of the messages of this private chat recorded since ``since``."""

    @abstractmethod
    async def drop_sent(self, user_key: str) -> None:
        """Forget the recorded message ids (after /effacer deleted them)."""

    @abstractmethod
    async def claim_reminders(
        self, now: dt.datetime, *, quiet_since: dt.datetime, limit: int = 50
    ) -> list[Reminder]:
        """Atomically take up to ``limit`` reminders due at ``now`` of conversations
        nobody touched since ``quiet_since`` (someone still answering is not reminded).

        A reminder is handed to one caller only, even with several replicas polling, and
        its sealed chat id is erased in the same statement.
        """

    # -- monthly figures: roll-ups of closed months (``bot/storage/periods.py``) ----------

    async def close_months(
        self,
        tz: ZoneInfo,
        now: dt.datetime,
        *,
        since: Month | None = None,
        upto: Month | None = None,
    ) -> list[str]:
        """Roll up every month of ``since``..``upto`` that is over (``last_closed``) and
        not rolled up yet; return those rolled up now. Default ``since``: the month of the
        oldest event; default ``upto``: the last closed month. The purge calls this before
        it deletes events, exports before they read."""
        last = min(upto or last_closed(now, tz), last_closed(now, tz))
        if since is None:
            oldest = await self.oldest_event()
            since = Month.of(oldest.astimezone(tz).date()) if oldest else last
        if since > last:
            return []
        done = await self.closed_periods(since.label, last.label)
        rolled = []
        for month in months(since, last):
            if month.label not in done and await self.roll_up(
                month.label, month.start(tz), month.end(tz), now
            ):
                rolled.append(month.label)
        return rolled

    @abstractmethod
    async def roll_up(
        self, period: str, start: dt.datetime, end: dt.datetime, now: dt.datetime
    ) -> bool:
        """Count the events of ``start <= at_hour < end`` into ``period``'s rows, once and
        for good: ``False`` (nothing written) if the period was rolled up already."""

    @abstractmethod
    async def closed_periods(self, first: str, last: str) -> set[str]:
        """The rolled-up periods between ``first`` and ``last`` (labels, included)."""

    @abstractmethod
    async def period_counts(self, first: str, last: str) -> list[PeriodCount]:
        """Every roll-up row of the periods ``first``..``last``. True counts: callers
        suppress small ones."""

    @abstractmethod
    async def origin_counts(self, group_key: str, first: str, last: str) -> dict[str, int]:
        """Conversations started from this group, per rolled-up period (absent: none)."""

    @abstractmethod
    async def oldest_event(self) -> dt.datetime | None:
        """When the oldest event kept happened (``None``: no events)."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StorageError`` if the database does not answer (health checks)."""
