"""Message ids waiting to be written: recorded after a reply, written in batches.

/effacer needs the ids of the messages a private chat shows, and they are known only once
Telegram has answered, after the turn's own save committed. A second commit per turn just
for them cost as much as the save itself (``bench/run.py``), so they wait here and go to
the database together: within ``FLUSH_AFTER`` seconds, before anything reads them, and
when the storage closes. The conversation itself is never batched: it is committed before
any reply.

The price, stated in the README: a process killed outright (SIGKILL, power loss) forgets
the ids of the replies of its last second, and /effacer cannot delete those few messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from abc import abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from bot.errors import StorageError
from bot.storage.base import Storage

log = logging.getLogger(__name__)

FLUSH_AFTER = 1.0  # seconds


class SentRow(NamedTuple):
    user_key: str
    message_id: int
    sent_at: int  # unix seconds


class PendingSent:
    """The rows recorded and not written yet, in order."""

    def __init__(self) -> None:
        self._rows: list[SentRow] = []

    def add(self, user_key: str, message_ids: list[int], sent_at: int) -> None:
        self._rows.extend(SentRow(user_key, m, sent_at) for m in message_ids)

    def take(self) -> list[SentRow]:
        """All pending rows, now the caller's to write (or to ``give_back``)."""
        rows, self._rows = self._rows, []
        return rows

    def give_back(self, rows: list[SentRow]) -> None:
        """Rows whose write failed: they go first again, for the next try."""
        self._rows[:0] = rows

    def drop(self, user_key: str) -> None:
        """The person asked to be forgotten, or their messages were deleted."""
        self._rows = [row for row in self._rows if row.user_key != user_key]


class BatchedSent(Storage):
    """A backend whose message ids wait in memory and go to the database in batches.

    Backends call ``super().__init__()`` and ``await self.close_pending()`` first thing in
    ``close``, and implement the database side (``_write_sent`` and the rest)."""

    def __init__(self) -> None:
        self._pending = PendingSent()
        self._sent_lock = asyncio.Lock()  # one writer of pending ids; forget waits for it
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    async def forget(self, user_key: str) -> int:
        async with self._sent_lock:  # no batch holding their ids is being written now
            self._pending.drop(user_key)
            return await self._forget(user_key)

    @abstractmethod
    async def _forget(self, user_key: str) -> int:
        """``forget``, in the database."""

    def record_sent(self, user_key: str, message_ids: Sequence[int], now: dt.datetime) -> None:
        """Written within ``FLUSH_AFTER`` seconds, in one transaction with every other
        chat's."""
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
        await self.flush_sent()
        return await self._sent_messages(user_key, since)

    @abstractmethod
    async def _sent_messages(self, user_key: str, since: dt.datetime) -> list[int]:
        """``sent_messages``, from the database."""

    async def drop_sent(self, user_key: str) -> None:
        async with self._sent_lock:
            self._pending.drop(user_key)
            await self._drop_sent(user_key)

    @abstractmethod
    async def _drop_sent(self, user_key: str) -> None:
        """``drop_sent``, in the database."""
