"""Background work of a running bot: the single reminder, and the daily purge.

Both are driven from the database, not from in-memory timers, so they survive restarts
and work with several replicas: reminders are claimed atomically (one replica sends each),
and purging twice is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from telegram import Bot
from telegram.error import TelegramError

from bot.channels.telegram.keyboards import markup
from bot.dialogue.service import Dialogue
from bot.privacy import unseal

log = logging.getLogger(__name__)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


class Housekeeping:
    """A task that sends due reminders every ``interval`` seconds, counts the months just
    over hourly and purges daily."""

    def __init__(self, dialogue: Dialogue, secret: str, *, interval: float = 30.0) -> None:
        self.dialogue = dialogue
        self.secret = secret
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        self._last_purge: dt.datetime | None = None
        self._last_count: dt.datetime | None = None

    def start(self, bot: Bot) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(bot), name="relais-housekeeping")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, bot: Bot) -> None:
        while True:
            now = dt.datetime.now(dt.UTC)
            try:
                await self.send_reminders(bot, now)
                if self._last_purge is None or now - self._last_purge >= DAY:
                    await self.purge(now)
                    self._last_purge = self._last_count = now
                elif self._last_count is None or now - self._last_count >= HOUR:
                    await self.dialogue.close_months(now)  # a month just over, counted
                    self._last_count = now
            except Exception as exc:  # never let housekeeping take the bot down
                log.warning("housekeeping failed: %s", type(exc).__name__)
            await asyncio.sleep(self.interval)

    async def send_reminders(self, bot: Bot, now: dt.datetime) -> int:
        """Send every reminder due at ``now``; return how many went out."""
        sent = 0
        for due in await self.dialogue.due_reminders(now):
            chat_id = unseal(self.secret, due.reach)
            if chat_id is None:
                continue
            reply = due.reply
            try:
                message = await bot.send_message(
                    chat_id, reply.text, reply_markup=markup(reply.keyboard)
                )
            except TelegramError as exc:  # blocked, deleted account...: one try only
                log.info("reminder not delivered: %s", type(exc).__name__)
                continue
            self.dialogue.record_sent(due.user_key, [message.message_id], now)
            sent += 1
        return sent

    async def purge(self, now: dt.datetime) -> int:
        gone = await self.dialogue.purge(now)
        log.info("purge: %d old row(s) deleted", gone)
        return gone
