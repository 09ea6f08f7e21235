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
from dataclasses import dataclass

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.conversation import Command, Event, Outcome, Press, Text, Unsupported
from bot.errors import AlreadyProcessed
from bot.groups import Origin
from bot.privacy import pseudonym
from bot.service import Dialogue
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
        try:
            outcome = await self.dialogue.handle(
                self.user_key(user.id),
                user.language_code,
                event,
                dt.datetime.now(dt.UTC),
                update_id=update.update_id,
                origin=await self.origin_of(event),
            )
        except AlreadyProcessed:  # a redelivery: it was answered the first time
            return
        await send(context, message.chat_id, outcome, pressed=None)

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
        data = query.data or ""
        message = query.message if isinstance(query.message, Message) else None
        try:
            outcome = await self.dialogue.handle(
                self.user_key(query.from_user.id),
                query.from_user.language_code,
                Press(data[:64]),
                dt.datetime.now(dt.UTC),
                update_id=update.update_id,
            )
        except AlreadyProcessed:  # a redelivery: it was answered the first time
            return
        with contextlib.suppress(BadRequest):  # "query is too old": nothing left to do
            await query.answer()
        chat_id = message.chat_id if message is not None else query.from_user.id
        await send(context, chat_id, outcome, pressed=message)


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
) -> None:
    """Deliver replies in order. An edit replaces the pressed message when it can."""
    bot = context.bot
    for reply in outcome.replies:
        keyboard = markup(reply.keyboard)
        if reply.edit and pressed is not None:
            try:
                await bot.edit_message_text(
                    reply.text,
                    chat_id=chat_id,
                    message_id=pressed.message_id,
                    reply_markup=keyboard,
                )
                pressed = None  # only the first edit replaces it; later replies are new
                continue
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    pressed = None
                    continue
                log.info("edit failed (%s); sending a new message instead", exc.message)
        try:
            await bot.send_message(chat_id, reply.text, reply_markup=keyboard)
        except Forbidden:
            log.info("a user blocked the bot; reply dropped")
            return
