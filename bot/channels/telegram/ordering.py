"""Many chats at once, each chat in order: PTB's concurrency with a per-chat queue.

By default python-telegram-bot handles one update at a time, so every update waits for
the previous one's Telegram round trips (two or three per turn, ~50 ms each in
production): one slow or hung request to Telegram would stall every child writing to
the bot. Handling updates concurrently fixes that, but two presses of the *same* person
must still be applied in the order they were made, or an answer could land on the wrong
question.

``PerChatUpdateProcessor`` runs up to ``max_concurrent_updates`` updates at once and
serialises those of one chat (or, for updates without a chat, one user) behind an
``asyncio.Lock``. Order is kept because PTB starts the update tasks in arrival order,
its semaphore wakes waiters first-in first-out, and nothing awaits between taking the
semaphore and queueing on the lock, whose waiters are also served first-in first-out.

The lock table holds raw Telegram ids in memory only, for as long as an update of that
chat is in flight; they are never stored or logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> int | None:
    """The chat whose updates must stay in order (``None``: no ordering needed)."""
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return user.id if user is not None else None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # updates holding or waiting for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            left = self._users[key] - 1
            if left:
                self._users[key] = left
            else:  # nobody else queued for this chat: forget it
                del self._users[key]
                del self._locks[key]

    @property
    def chats_in_flight(self) -> int:
        """How many chats have an update being handled or waiting (for tests, metrics)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for running updates itself."""
