"""Which updates of a flooding chat are worth handling: a pure rule, no Telegram, no asyncio.

Anyone can send a bot hundreds of stickers or commands, or create a group and type /aide
sixty times. Each chat's updates are handled one at a time (``ordering``), so a flood only
slows its own chat; but every queued update would still be answered, minutes late, and a
group's replies are paced at 20 a minute. So a chat's *waiting* updates (admitted, not yet
started) are bounded: beyond ``PER_KIND`` of one kind (the same command, stickers and other
media, texts), or ``PER_CHAT`` such repeatable updates in all, a new one is dropped: the
answers already on their way say the same thing. A button press, a membership change and
words the crisis detector flags (a text, a command's arguments, a caption) are never
dropped, and neither is any update of a chat with nothing waiting. In a group, the help
card (/aide and its aliases) goes out at most once per ``GROUP_WINDOW`` seconds: the one
posted a moment ago is still on screen (unless words of crisis came with the command).

Chat ids are held in memory only, while a chat has updates waiting (the group window: at
most ``GROUP_WINDOW`` seconds after the card), never stored or logged.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

PER_KIND = 3  # waiting updates of one repeatable kind in one chat
PER_CHAT = 8  # waiting repeatable updates in one chat, all kinds together
GROUP_WINDOW = 60.0  # seconds between two help cards in one group


class Kind(Enum):
    PRESS = "press"  # a button: the person chose something; never dropped
    MEMBER = "member"  # the bot or someone joined or left; never dropped
    COMMAND = "command"
    TEXT = "text"
    MEDIA = "media"  # stickers, photos, voice...: each gets the same "I can't read that"
    OTHER = "other"  # service messages (a group migrated...); never dropped


REPEATABLE = frozenset({Kind.COMMAND, Kind.TEXT, Kind.MEDIA})


@dataclass(frozen=True)
class Arrival:
    """What the rule needs to know of one update."""

    chat: int
    kind: Kind
    group: bool = False
    command: str = ""  # the command's name, without / or @bot

    @property
    def slot(self) -> tuple[Kind, str]:
        return (self.kind, self.command)


class Backlog:
    """The waiting updates of every chat, counted by kind; ``admit`` then ``started``."""

    def __init__(
        self,
        *,
        per_kind: int = PER_KIND,
        per_chat: int = PER_CHAT,
        group_once: Mapping[str, str] | None = None,
        window: float = GROUP_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_kind, self.per_chat, self.window, self.clock = per_kind, per_chat, window, clock
        # Group commands answered at most once per window, by name -> what they show.
        self.group_once = dict(group_once or {})
        self._waiting: dict[int, Counter[tuple[Kind, str]]] = {}
        self._shown: dict[tuple[int, str], float] = {}  # (group, what) -> when admitted
        self.dropped = 0

    def admit(self, arrival: Arrival, urgent: Callable[[], bool] = lambda: False) -> bool:
        """Whether to handle ``arrival``; if so it counts as waiting until ``started``.
        ``urgent()`` (the crisis detector) is asked only for an update that would be
        dropped: a text, a command (its arguments) or media (its caption)."""
        if not self._worth_handling(arrival, urgent):
            self.dropped += 1
            return False
        self._waiting.setdefault(arrival.chat, Counter())[arrival.slot] += 1
        return True

    def would_admit(self, arrival: Arrival, urgent: Callable[[], bool] = lambda: False) -> bool:
        """What ``admit`` would say, changing nothing (to skip decoding a doomed update)."""
        return self._worth_handling(arrival, urgent, record=False)

    def started(self, arrival: Arrival) -> None:
        """``arrival`` (admitted) is now being handled: it no longer counts as waiting."""
        waiting = self._waiting.get(arrival.chat)
        if waiting is None:
            return
        waiting[arrival.slot] -= 1
        if waiting[arrival.slot] <= 0:
            del waiting[arrival.slot]
        if not waiting:
            del self._waiting[arrival.chat]

    def _worth_handling(
        self, arrival: Arrival, urgent: Callable[[], bool], record: bool = True
    ) -> bool:
        if arrival.kind not in REPEATABLE:
            return True
        if arrival.group and arrival.command in self.group_once:
            what = self.group_once[arrival.command]
            return self._first_in_window(arrival.chat, what, record) or urgent()
        waiting = self._waiting.get(arrival.chat)
        if waiting is None:
            return True
        same = waiting[arrival.slot]
        repeatable = sum(n for slot, n in waiting.items() if slot[0] in REPEATABLE)
        if same < self.per_kind and repeatable < self.per_chat:
            return True
        return urgent()  # words of crisis in a text, a command's arguments or a caption

    def _first_in_window(self, chat: int, what: str, record: bool = True) -> bool:
        now = self.clock()
        self._forget_before(now - self.window)
        key = (chat, what)
        if key in self._shown:
            return False
        if record:
            self._shown[key] = now
        return True

    def _forget_before(self, moment: float) -> None:
        # Entries go in in time order, so the oldest are first.
        while self._shown:
            key, when = next(iter(self._shown.items()))
            if when > moment:
                return
            del self._shown[key]

    @property
    def chats_waiting(self) -> int:
        return len(self._waiting)
