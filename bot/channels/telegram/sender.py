"""Putting a private chat's replies on the wire: send or edit, answer a press.

The one module that calls a library internal (``Bot._post``, see ``post``), so a
python-telegram-bot upgrade that changes it breaks ``tests/channels/test_sender.py``
and nothing else.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from telegram import Bot, CallbackQuery, Message
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.keyboards import markup_json
from bot.channels.telegram.retry import TELEGRAM_DELAYS, name, retrying
from bot.domain.conversation import Outcome

log = logging.getLogger(__name__)


async def answer(query: CallbackQuery) -> None:
    """Stop the spinner on the pressed button: once, and never at the cost of the reply
    ("query is too old", or Telegram unreachable: the reply's own retries will tell)."""
    try:
        await post(query.get_bot(), "answerCallbackQuery", {"callback_query_id": query.id})
    except TelegramError as exc:
        if not isinstance(exc, BadRequest):
            log.info("could not answer a button press (%s)", name(exc))


async def send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    outcome: Outcome,
    pressed: Message | None,
    delays: tuple[float, ...] = TELEGRAM_DELAYS,
) -> list[int]:
    """Deliver replies in order; return the ids of the messages now showing them.

    An edit replaces the pressed message when it can. Each request is retried after
    ``delays`` while Telegram fails in a way that may heal; ``Forbidden`` (the person
    blocked the bot) is raised at once."""
    bot = context.bot
    shown: list[int] = []
    for reply in outcome.replies:
        data: dict[str, object] = {
            "chat_id": chat_id,
            "text": reply.text,
            "link_preview_options": NO_LINK_PREVIEW,
        }
        keyboard = markup_json(reply.keyboard)
        if keyboard is not None:
            data["reply_markup"] = keyboard
        if reply.edit and pressed is not None:
            pressed_id = pressed.message_id
            try:
                edit = partial(post, bot, "editMessageText", {**data, "message_id": pressed_id})
                await retrying(edit, delays, "editMessageText")
                shown.append(pressed_id)
                pressed = None  # only the first edit replaces it; later replies are new
                continue
            except BadRequest as exc:
                if "not modified" in exc.message.lower():
                    shown.append(pressed_id)
                    pressed = None
                    continue
                log.info("edit failed (%s); sending a new message instead", exc.message)
        sent = await retrying(partial(post, bot, "sendMessage", data), delays, "sendMessage")
        shown.append(int(sent["message_id"]))
    return shown


NO_LINK_PREVIEW = '{"is_disabled":true}'  # a string goes into the request body as is


async def post(bot: Bot, method: str, data: dict[str, object]) -> Any:
    """One Bot API call, its answer left as the JSON Telegram sent.

    ``send_message`` and ``edit_message_text`` would turn each answer into a ``Message``
    object nobody reads (nearly half of a turn's time in ``bench/run.py``). ``Bot._post``
    is the call they make underneath, through the same rate limiter, errors and retries;
    the public ``do_api_request`` warns on every call to a method ``Bot`` has. What this
    relies on is pinned by ``tests/channels/test_sender.py``. Values are sent as given:
    strings as they are, anything else JSON-encoded."""
    return await bot._post(method, data)
