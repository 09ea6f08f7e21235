"""Private chats: every update becomes one engine event, and its replies are sent back.

What happens when Telegram misbehaves is decided here: an edit that fails becomes a new
message, "not modified" is ignored, a request that fails on the way is tried again
(``bot.channels.telegram.retry``), and a person who blocked the bot has their conversation closed
(logged without any id). When the database fails, the turn is tried again, then the
person gets a calm message with 3018 rather than silence. Nothing here reads or logs what
the person wrote beyond handing it to the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.ordering import MEDIA
from bot.channels.telegram.retry import RetryPolicy, name, storage_reason
from bot.channels.telegram.sender import answer, send
from bot.dialogue.service import Dialogue
from bot.domain.conversation import (
    Command,
    Event,
    Outcome,
    Press,
    Text,
    Unsupported,
    command_of,
)
from bot.domain.group import Origin
from bot.errors import AlreadyProcessed, StorageError
from bot.privacy import pseudonym, seal

log = logging.getLogger(__name__)


@lru_cache(maxsize=10_000)
def sealed(secret: str, chat_id: int) -> str:
    """The chat id sealed for the reminder, once per person among the last 10,000 (Fernet's
    random IV and MAC cost more than the rest of a turn's reminder bookkeeping). In memory
    only, like every update PTB holds."""
    return seal(secret, chat_id)


@dataclass
class PrivateChat:
    """Handlers for one-to-one chats, sharing the dialogue service and the secret."""

    dialogue: Dialogue
    secret: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def user_key(self, user_id: int) -> str:
        return pseudonym(self.secret, "telegram", user_id)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in a private chat: a command, text, or something we cannot read."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            return
        event = event_of(message)
        await self.turn(
            context,
            user.id,
            user.language_code,
            event,
            message.chat_id,
            update_id=update.update_id,
            incoming=message.message_id,
        )

    async def on_edit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message the person changed: its new words are read for crisis (words added
        later count as much as the first ones); otherwise nothing is said."""
        message = update.edited_message
        user = update.effective_user
        if message is None or user is None:
            return
        words = message.text or message.caption
        if not words:
            return
        await self.turn(
            context,
            user.id,
            user.language_code,
            Text(words, edited=True),
            message.chat_id,
            update_id=update.update_id,
        )

    async def origin_of(self, event: Event) -> Origin | None:
        """The group whose card or /aide button opened this chat (``/start <token>``).

        An unknown or forged token is no error: the chat simply starts without an origin.
        """
        if not isinstance(event, Command) or event.name != "start":
            return None
        return await self.dialogue.origin(event.args)

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press. Always answered, or the person's app shows a spinner."""
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        await self.turn(
            context,
            query.from_user.id,
            query.from_user.language_code,
            Press((query.data or "")[:64]),
            message.chat_id if message is not None else query.from_user.id,
            update_id=update.update_id,
            pressed=message,
            query=query,
        )

    async def turn(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        user_id: int,
        language_code: str | None,
        event: Event,
        chat_id: int,
        *,
        update_id: int,
        incoming: int | None = None,
        pressed: Message | None = None,
        query: CallbackQuery | None = None,
    ) -> None:
        """One update: decide and save (reminder included), answer the press, reply,
        then note the ids of the messages shown (written in the next batch)."""
        user_key = self.user_key(user_id)
        now = dt.datetime.now(dt.UTC)
        failed = False  # an attempt of this turn failed on the database
        for pause in (*self.retry.storage, None):
            try:
                # The deep link's group is read inside the retries too: a database
                # failure there gets the calm message like any other.
                origin = await self.origin_of(event)
                outcome = await self.dialogue.handle(
                    user_key,
                    language_code,
                    event,
                    now,
                    update_id=update_id,
                    origin=origin,
                    reach=sealed(self.secret, chat_id),
                )
                break
            except AlreadyProcessed:
                if failed:
                    # Our own failed attempt had claimed the update (the database failed
                    # after saving, or in /oubli's forget): its replies are lost, so the
                    # calm message rather than silence.
                    fallback = self.dialogue.unavailable(language_code, event, now)
                    await self.apologise(context, chat_id, fallback, query)
                return  # otherwise a redelivery: it was answered the first time
            except StorageError as exc:
                failed = True
                # Words of crisis are answered at once: retrying first could keep them
                # waiting for seconds (a hung database times out after 10 s each time).
                if pause is None or self.dialogue.speaks_of_danger(event):
                    log.error("database unavailable (%s); sent 3018 instead", storage_reason(exc))
                    fallback = self.dialogue.unavailable(language_code, event, now)
                    await self.apologise(context, chat_id, fallback, query)
                    raise  # the webhook answers 500: Telegram delivers the update again
                log.warning(
                    "database unavailable (%s); retry in %.1f s", storage_reason(exc), pause
                )
                await asyncio.sleep(pause)
        if query is not None:
            await answer(query)
        try:
            if outcome.erase_messages:
                sent = await self.erase(context, user_key, outcome, chat_id, now, incoming)
            else:
                sent = await send(context, chat_id, outcome, pressed, self.retry.telegram)
        except Forbidden:
            log.info("a user blocked the bot; their conversation is closed")
            await self.dialogue.close(user_key, now)
            return
        except TelegramError as exc:  # refused, or still failing after every retry
            # The step is saved: the person's next message shows the current question.
            log.warning("reply not delivered (%s); the step is saved", name(exc))
            return
        if not outcome.forget:  # after /oubli, nothing new is recorded
            ids = [*sent, *([incoming] if incoming is not None else [])]
            self.dialogue.record_sent(user_key, ids, now)

    async def apologise(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        fallback: Outcome,
        query: CallbackQuery | None,
    ) -> None:
        """The database is down: the answer to words of crisis if there were any, then a
        calm apology with 3018 (``Dialogue.unavailable``; neither needs the database)."""
        if query is not None:
            await answer(query)
        with contextlib.suppress(TelegramError):
            await send(context, chat_id, fallback, None, self.retry.telegram)

    async def erase(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        user_key: str,
        outcome: Outcome,
        chat_id: int,
        now: dt.datetime,
        incoming: int | None,
    ) -> list[int]:
        """/effacer: delete both sides of this chat that Telegram still allows (48 h), then
        say how many went and what could not."""

        async def delete(message_id: int) -> bool:
            try:
                await context.bot.delete_message(chat_id, message_id)
            except (BadRequest, Forbidden):
                return False
            return True

        also = [incoming] if incoming is not None else []
        confirmation = await self.dialogue.erase(user_key, outcome, now, delete, also)
        # The confirmation itself is recorded, so the next /effacer removes it too.
        return await send(context, chat_id, confirmation, None, self.retry.telegram)


def event_of(message: Message) -> Event:
    """Classify a message; text is passed on for the engine to read, never kept."""
    text = message.text
    if text is not None:
        return command_of(text) or Text(text)
    caption = message.caption or ""  # words under a photo, a video, a file...
    for kind in MEDIA:
        if getattr(message, kind, None):
            return Unsupported(kind, caption)
    return Unsupported("other", caption)
