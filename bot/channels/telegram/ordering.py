"""Many chats at once, each chat in order, and no chat able to hold up the others.

By default python-telegram-bot handles one update at a time, so every update waits for
the previous one's Telegram round trips (two or three per turn, ~50 ms each in
production): one slow or hung request to Telegram would stall every child writing to
the bot. Handling updates concurrently fixes that, but two presses of the *same* person
must still be applied in the order they were made, or an answer could land on the wrong
question.

``PerChatUpdateProcessor`` serialises the updates of one chat (or, for updates without a
chat, one user) behind an ``asyncio.Lock``, and only an update that holds its chat's lock
takes one of the ``max_concurrent_updates`` slots. So a chat with 500 updates queued holds
one slot, never all of them: every other chat is still answered at once. PTB's own
semaphore (taken before our code runs) is sized so that it never makes anyone wait. Order
is kept because PTB starts the update tasks in arrival order and nothing awaits between a
task's start and its queueing on the lock, whose waiters are served first-in first-out.

A chat's waiting updates are also bounded (``backlog``): repeated commands, stickers and
texts beyond a few are dropped before they queue; presses and crisis texts never are.

The lock table holds raw Telegram ids in memory only, for as long as an update of that
chat is in flight; they are never stored or logged.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from telegram import Chat, Message, Update
from telegram.ext import BaseUpdateProcessor

from bot.channels.telegram.backlog import Arrival, Backlog, Kind
from bot.domain.conversation import command_of

# PTB's semaphore is taken before ``do_process_update`` runs, while the update may still
# have to wait for its chat: sized so that it never blocks (the slots are ours, below).
UNBOUNDED = 1_000_000
GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
MEDIA = (
    "sticker",
    "photo",
    "voice",
    "video",
    "video_note",
    "document",
    "audio",
    "animation",
    "location",
    "contact",
    "poll",
)


def ordering_key(update: object) -> int | None:
    """The chat whose updates must stay in order (``None``: no ordering needed)."""
    if not isinstance(update, Update):
        return None
    chat = update.effective_chat
    if chat is not None:
        return chat.id
    user = update.effective_user
    return user.id if user is not None else None


def arrival_of(update: Update, chat: int) -> Arrival:
    """What the backlog rule needs: the kind of update, whether in a group, which command."""
    group = update.effective_chat is not None and update.effective_chat.type in GROUP_TYPES
    if update.callback_query is not None:
        return Arrival(chat, Kind.PRESS, group)
    if update.my_chat_member is not None or update.chat_member is not None:
        return Arrival(chat, Kind.MEMBER, group)
    message = update.message
    if message is None:
        return Arrival(chat, Kind.OTHER, group)
    if message.text is not None:
        if message.text.startswith("/"):
            return Arrival(chat, Kind.COMMAND, group, _command(message.text))
        return Arrival(chat, Kind.TEXT, group)
    if any(getattr(message, kind, None) for kind in MEDIA):
        return Arrival(chat, Kind.MEDIA, group)
    return Arrival(chat, Kind.OTHER, group)


def arrival_of_data(data: Mapping[str, Any]) -> Arrival | None:
    """``arrival_of`` read from the update as Telegram sent it, before python-telegram-bot
    builds its objects (half a millisecond each): a doomed repeat is refused for less.
    ``None`` for an update that needs no ordering or is not understood."""
    try:
        query = data.get("callback_query")
        if query is not None:
            chat = (query.get("message") or {}).get("chat") or {}
            key = chat.get("id", query["from"]["id"])
            return Arrival(int(key), Kind.PRESS, chat.get("type") in GROUP_TYPES)
        for name in ("my_chat_member", "chat_member"):
            change = data.get(name)
            if change is not None:
                chat = change["chat"]
                return Arrival(int(chat["id"]), Kind.MEMBER, chat.get("type") in GROUP_TYPES)
        message = data.get("message")
        if message is None:
            return None
        chat = message["chat"]
        key, group = int(chat["id"]), chat.get("type") in GROUP_TYPES
        text = message.get("text")
        if isinstance(text, str):
            if text.startswith("/"):
                return Arrival(key, Kind.COMMAND, group, _command(text))
            return Arrival(key, Kind.TEXT, group)
        if any(message.get(kind) for kind in MEDIA):
            return Arrival(key, Kind.MEDIA, group)
        return Arrival(key, Kind.OTHER, group)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _command(text: str) -> str:
    command = command_of(text)
    return command.name[:32] if command is not None else ""


def _text(update: Update) -> str:
    """The words an update carries: a text or command, or a caption under media."""
    message: Message | None = update.message or update.edited_message
    return (message.text or message.caption or "") if message is not None else ""


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat, a bounded backlog per chat.

    ``urgent(text)`` says whether a text speaks of danger (the crisis detector): such a
    text is never dropped. ``group_once`` maps group command names to what they show;
    each is answered at most once a minute per group (``backlog``)."""

    def __init__(
        self,
        max_concurrent_updates: int,
        *,
        urgent: Callable[[str], bool] = lambda _: False,
        group_once: Mapping[str, str] | None = None,
        backlog: Backlog | None = None,
    ) -> None:
        super().__init__(UNBOUNDED)
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be at least 1")
        self.slots = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self.backlog = backlog or Backlog(group_once=group_once)
        self._urgent = urgent
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}  # updates holding or waiting for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None or not isinstance(update, Update):
            async with self._slots:
                await coroutine
            return
        arrival = arrival_of(update, key)
        if not self.backlog.admit(arrival, lambda: self._urgent(_text(update))):
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started: nothing to undo
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        waiting = True
        try:
            async with lock:
                waiting = False
                self.backlog.started(arrival)
                async with self._slots:  # only now: waiting for one's chat holds no slot
                    await coroutine
        finally:
            if waiting:  # cancelled in the queue
                self.backlog.started(arrival)
            left = self._users[key] - 1
            if left:
                self._users[key] = left
            else:  # nobody else queued for this chat: forget it
                del self._users[key]
                del self._locks[key]

    def would_admit(self, data: Mapping[str, Any]) -> bool:
        """Whether an update, still as JSON, would be handled rather than dropped."""
        arrival = arrival_of_data(data)
        if arrival is None:
            return True

        def urgent() -> bool:  # as ``_text``: a text or command, or a caption under media
            message = data.get("message") or data.get("edited_message") or {}
            text = message.get("text") or message.get("caption")
            return isinstance(text, str) and self._urgent(text)

        return self.backlog.would_admit(arrival, urgent)

    def speaks_of_danger(self, update: Update) -> bool:
        """Whether ``update``'s words may speak of danger (the crisis detector)."""
        return self._urgent(_text(update))

    def queued_behind(self, update: object) -> bool:
        """Whether ``update`` would wait for another update of its chat."""
        key = ordering_key(update)
        return key is not None and key in self._users

    @property
    def chats_in_flight(self) -> int:
        """How many chats have an update being handled or waiting (for tests, metrics)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for running updates itself."""
