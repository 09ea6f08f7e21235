"""The storage protocol: a few async methods every backend implements.

Conveniences belong to callers, not here, so a new backend stays small and the shared
contract tests (``tests/test_storage_contract.py``) cover all of it.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from bot.conversation import Conversation, Stat

HOUR = 3600
LEDGER_RETENTION = 24 * HOUR  # Telegram keeps an undelivered update for at most a day


@dataclass(frozen=True)
class Stored:
    """A conversation as read, with the version to hand back when saving it."""

    conversation: Conversation
    version: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class EventRow:
    """One anonymous statistics event as read back for exports (never a user key).

    ``session`` lets exports count distinct conversations; it never leaves the process.
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


def hour_of(moment: dt.datetime) -> int:
    """Unix time rounded down to the hour: statistics never need (nor get) more."""
    seconds = int(moment.timestamp())
    return seconds - seconds % HOUR


class Storage(ABC):
    """Conversation state with optimistic locking, and the anonymous event log."""

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
        """

    @abstractmethod
    async def forget(self, user_key: str) -> int:
        """Erase the person's state and the events of their conversation; return rows gone."""

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

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``StorageError`` if the database does not answer (health checks)."""
