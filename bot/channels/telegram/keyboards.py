"""Engine keyboards to Telegram inline keyboards (the one place that knows both)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.conversation import COPY_TEXT_LIMIT, Button, Keyboard


def _button(button: Button) -> InlineKeyboardButton:
    if button.url is not None:
        return InlineKeyboardButton(button.label, url=button.url)
    if button.copy is not None:
        return InlineKeyboardButton(
            button.label, copy_text=CopyTextButton(button.copy[:COPY_TEXT_LIMIT])
        )
    return InlineKeyboardButton(button.label, callback_data=button.data)


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in keyboard])


def _button_json(button: Button) -> dict[str, Any]:
    if button.url is not None:
        return {"text": button.label, "url": button.url}
    if button.copy is not None:
        return {"text": button.label, "copy_text": {"text": button.copy[:COPY_TEXT_LIMIT]}}
    return {"text": button.label, "callback_data": button.data}


@lru_cache(maxsize=4096)
def markup_json(keyboard: Keyboard) -> str | None:
    """The same keyboard as ``reply_markup`` JSON, ready for the request body.

    Most keyboards recur (one per step and language), so each is encoded once: building
    PTB objects and encoding them again for every message was a tenth of a turn's time."""
    if not keyboard:
        return None
    rows = [[_button_json(b) for b in row] for row in keyboard]
    return json.dumps({"inline_keyboard": rows}, ensure_ascii=False, separators=(",", ":"))
