"""Private chats: every update becomes one engine event, and its replies are sent back.

What happens when Telegram misbehaves is decided here: an edit that fails becomes a new
message, "not modified" is ignored, a user who blocked the bot is logged (without any id)
and left alone. Nothing here reads or logs what the person wrote beyond handing it to
the engine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass, replace

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.conversation import Command, Event, Outcome, Press, Reply, Text, Unsupported
from bot.errors import AlreadyProcessed
from bot.groups import Origin
from bot.privacy import pseudonym, seal
from bot.service import Dialogue
from bot.storage.base import SENT_RETENTION
from bot.telegram.groups import find_origin
from bot.telegram.keyboards import markup

log = logging.getLogger(__name__)


@dataclass
class PrivateChat:
    """Handlers for one-to-one chats, sharing the dialogue service and the secret."""

    dialogue: Dialogue
    secret: str

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
            origin=await self.origin_of(event),
        )

    async def origin_of(self, event: Event) -> Origin | None:
        """The group whose card or /aide button opened this chat (``/start <token>``).

        An unknown or forged token is no error: the chat simply starts without an origin.
        """
        if not isinstance(event, Command) or event.name != "start":
            return None
        return await find_origin(self.dialogue.storage, event.args)

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
        origin: Origin | None = None,
    ) -> None:
        """One update: decide and save, answer the press, reply, then record the ids."""
        user_key = self.user_key(user_id)
        now = dt.datetime.now(dt.UTC)
        try:
            outcome = await self.dialogue.handle(
                user_key, language_code, event, now, update_id=update_id, origin=origin
            )
        except AlreadyProcessed:  # a redelivery: it was answered the first time
            return
        if query is not None:
            with contextlib.suppress(BadRequest):  # "query is too old": nothing left to do
                await query.answer()
        if outcome.erase_messages:
            sent = await self.erase(context, user_key, outcome, chat_id, now, incoming)
        else:
            sent = await send(context, chat_id, outcome, pressed=pressed)
        ids = [*sent, *([incoming] if incoming is not None else [])]
        await self.dialogue.after_send(
            user_key, outcome, ids, now, reach=seal(self.secret, chat_id)
        )

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
        say how many went and what could not (a phone may be seen by someone else)."""
        storage = self.dialogue.storage
        since = now - dt.timedelta(seconds=SENT_RETENTION)
        ids = await storage.sent_messages(user_key, since)
        if incoming is not None:
            ids.append(incoming)
        deleted = failed = 0
        for message_id in sorted(set(ids)):
            try:
                await context.bot.delete_message(chat_id, message_id)
                deleted += 1
            except (BadRequest, Forbidden):
                failed += 1
        await storage.drop_sent(user_key)
        texts = self.dialogue.engine.catalog.locales
        locale = outcome.conversation.locale
        text = texts.text(locale, "command.erased", deleted=deleted)
        if failed:
            text += "\n" + texts.text(locale, "command.erase_failed", failed=failed)
        # The confirmation itself is recorded, so the next /effacer removes it too.
        return await send(context, chat_id, replace(outcome, replies=(Reply(text),)), None)


def event_of(message: Message) -> Event:
    """Classify a message; text is passed on for the engine to read, never kept."""
    text = message.text
    if text is not None:
        if text.startswith("/"):
            head, _, args = text[1:].partition(" ")
            return Command(head.split("@")[0].lower(), args.strip())
        return Text(text)
    for kind in (
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
    ):
        if getattr(message, kind, None):
            return Unsupported(kind)
    return Unsupported("other")


async def send(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, outcome: Outcome, pressed: Message | None
) -> list[int]:
    """Deliver replies in order; return the ids of the messages now showing them.

    An edit replaces the pressed message when it can."""
    bot = context.bot
    shown: list[int] = []
    for reply in outcome.replies:
        keyboard = markup(reply.keyboard)
        if reply.edit and pressed is not None:
            pressed_id = pressed.message_id
            try:
                await bot.edit_message_text(
                    reply.text, chat_id=chat_id, message_id=pressed_id, reply_markup=keyboard
                )
                shown.append(pressed_id)
                pressed = None  # only the first edit replaces it; later replies are new
                continue
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    shown.append(pressed_id)
                    pressed = None
                    continue
                log.info("edit failed (%s); sending a new message instead", exc.message)
        try:
            sent = await bot.send_message(chat_id, reply.text, reply_markup=keyboard)
        except Forbidden:
            log.info("a user blocked the bot; reply dropped")
            return shown
        shown.append(sent.message_id)
    return shown
