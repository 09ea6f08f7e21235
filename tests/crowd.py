"""Many simulated teens at once, for the fault, crash and load tests.

``SimulatedUser`` waits for the whole bot to go quiet after each action, which is right
for one conversation and useless for a thousand. A ``Teen`` here waits only for *its*
chat: one ``Watch`` task follows the fake server's calls as they complete and wakes the
teens whose chat got a reply. Each teen walks the victim flow by button labels, on
whatever message it was shown last, so it can also resume after a crash: when no answer
comes, it types a word, the bot shows the current question again, and it goes on.

Latency is measured on one clock (both ends run in the test's process): from the moment
an update is queued at the fake Telegram to the arrival there of the turn's last reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from tests.fakebotapi import ApiCall, FakeBotApi, SentMessage, builders
from tests.fakebotapi.user import WAIT
from tests.texts import french

# The victim flow, answered by label: who, danger, what, where, since.
PATH_KEYS = (
    "start.who.me",
    "victim.danger.no",
    "victim.what.threats",
    "platform.discord",
    "victim.since.months",
)
PATH = tuple(french(key) for key in PATH_KEYS)
FINAL_MARK = "discord.com/safety"  # in the result message only
REPLY_METHODS = frozenset({"sendMessage", "editMessageText"})


async def eventually(
    check: Callable[[], bool],
    timeout: float = WAIT,  # noqa: ASYNC109 - a test helper's deadline
    what: str = "",
) -> None:
    """Wait until ``check()`` is true; ``AssertionError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        await asyncio.sleep(0.01)


class Watch:
    """Follows ``api.calls`` and wakes whoever waits on a chat when a reply to it lands."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self._seen = 0
        self._events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.replies: dict[int, list[ApiCall]] = defaultdict(list)  # chat -> ok replies

    def event(self, chat_id: int) -> asyncio.Event:
        return self._events[chat_id]

    def scan(self) -> None:
        calls = self.api.calls
        while self._seen < len(calls):
            call = calls[self._seen]
            if not call.status and call.method != "getUpdates":
                break  # in flight: later calls are looked at once it completes
            self._seen += 1
            if call.method in REPLY_METHODS and call.ok:
                chat_id = int(call.params["chat_id"])
                self.replies[chat_id].append(call)
                self._events[chat_id].set()

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.003)


@asynccontextmanager
async def watching(api: FakeBotApi) -> AsyncIterator[Watch]:
    """A ``Watch`` running for the duration of the block."""
    watch = Watch(api)
    task = asyncio.create_task(watch.run())
    try:
        yield watch
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        watch.scan()


class Teen:
    """One person walking ``path`` by button labels in a private chat."""

    def __init__(
        self,
        api: FakeBotApi,
        watch: Watch,
        user_id: int,
        path: Sequence[str] = PATH,
        patience: float = 10.0,
    ) -> None:
        self.api = api
        self.watch = watch
        self.user_id = user_id
        self.path = tuple(path)
        self.patience = patience
        self.latencies: list[float] = []
        self.sent = 0  # updates this teen sent
        self.resumed = 0  # times it had to ask where it was

    # -- what is on screen ---------------------------------------------------------------

    def messages(self) -> list[SentMessage]:
        return self.api.messages(self.user_id)

    def keyboard_message(self) -> SentMessage | None:
        for message in reversed(self.messages()):
            if message.inline_keyboard:
                return message
        return None

    def labels(self) -> list[str]:
        message = self.keyboard_message()
        return [label for row in message.buttons() for label in row] if message else []

    @property
    def finished(self) -> bool:
        return any(FINAL_MARK in (m.text or "") for m in self.messages())

    def shows(self, label: str) -> bool:
        return label in self.labels()

    def next_label(self) -> str | None:
        """The furthest label of the path offered on screen (``None``: lost)."""
        shown = set(self.labels())
        for label in reversed(self.path):
            if label in shown:
                return label
        return None

    # -- acting --------------------------------------------------------------------------

    async def act(self, update: dict[str, Any], done: Callable[[], bool]) -> bool:
        """Queue ``update``; wait until ``done()``; record the latency. ``False`` when
        nothing came within ``patience`` (the reply may have been lost in a crash)."""
        event = self.watch.event(self.user_id)
        before = len(self.watch.replies[self.user_id])
        event.clear()
        queued = time.monotonic()
        self.api.push_update(update)
        self.sent += 1
        deadline = queued + self.patience
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
            event.clear()
        new = self.watch.replies[self.user_id][before:]
        if new:
            self.latencies.append(max(c.at for c in new) - queued)
        return True

    async def start(self) -> bool:
        update = builders.private_command(self.user_id, "/start")
        return await self.act(update, lambda: self.shows(self.path[0]))

    async def press(self, label: str) -> bool:
        message = self.keyboard_message()
        button = message.button(label) if message is not None else None
        assert message is not None and button is not None, (self.user_id, label)
        index = self.path.index(label)
        following = self.path[index + 1] if index + 1 < len(self.path) else None

        def done() -> bool:
            return self.finished if following is None else self.shows(following)

        update = builders.callback(self.user_id, message, str(button["callback_data"]))
        return await self.act(update, done)

    async def where_am_i(self) -> bool:
        """Type a word: the bot answers with the current question (or a way to start)."""
        count = len(self.watch.replies[self.user_id])
        self.resumed += 1
        update = builders.private_text(self.user_id, "?")

        def done() -> bool:  # the last reply carries the buttons to go on with
            new = self.watch.replies[self.user_id][count:]
            return bool(new) and "reply_markup" in new[-1].params

        return await self.act(update, done)

    async def walk(self, *, start: bool = True) -> None:
        """To the final message (from /start, or from what is on screen), resuming after
        any silence."""
        if start and not await self.start() and self.next_label() is None:
            await self.where_am_i()
        for _ in range(4 * len(self.path)):
            if self.finished:
                return
            label = self.next_label()
            if label is None:  # nothing to press: ask (a lost /start shows "Commencer")
                if not await self.where_am_i():
                    continue
                if self.shows("▶️ Commencer") or self.shows("▶️ Reprendre"):
                    await self.start()
                continue
            if not await self.press(label):
                await self.where_am_i()
        raise AssertionError(f"teen {self.user_id} never reached the end: {self.labels()}")


def texts_of(calls: Sequence[ApiCall]) -> list[str]:
    return [str(c.params.get("text", "")) for c in calls]
