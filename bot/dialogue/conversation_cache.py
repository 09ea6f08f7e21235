"""The conversations this process wrote last, so a turn need not read them back.

Reading a conversation before each turn was a third of the database's share of a turn.
The cache is write-through (a conversation enters it only once saved) and checked by the
database itself: every save still names the version it started from, so if anyone else
wrote in between, the save fails with ``ConflictError``, the entry is dropped and the turn
is decided again from a fresh read.

That check cannot see one thing: a row deleted and created again by *another* process,
back at the same version number (a conversation forgotten and restarted on another
replica). So the cache is for a process that is the only one writing its users'
conversations: ``relais run`` in polling mode, which Telegram allows only once per bot.
Replicas behind a webhook run without it. Entries hold choice ids only, like the rows.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.storage.base import Stored

DEFAULT_SIZE = 10_000  # conversations kept; about 1 KB each


class ConversationCache:
    """Least recently used conversations, by user key (``size`` 0 keeps nothing)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[str, Stored] = OrderedDict()

    def get(self, user_key: str) -> Stored | None:
        stored = self._entries.get(user_key)
        if stored is not None:
            self._entries.move_to_end(user_key)
        return stored

    def put(self, user_key: str, stored: Stored) -> None:
        if self.size <= 0:
            return
        self._entries[user_key] = stored
        self._entries.move_to_end(user_key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, user_key: str) -> None:
        self._entries.pop(user_key, None)

    def __len__(self) -> int:
        return len(self._entries)
