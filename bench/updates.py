"""The benchmark's traffic: every user walks the same ten-update path, interleaved.

The path is the victim flow end to end with one "back" on the way: ``/start``, "it's
happening to me", not in danger, what, where, back, where again, since when, whether an
adult knows, age. Choices vary by user so the result messages differ. Users are
interleaved round-robin (user 1's first update, user 2's first, ...), the way many
conversations at once reach a bot, so no user has two updates in flight together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KINDS = ("insults", "threats", "images", "fake", "raid", "school")
PLATFORMS = ("instagram", "tiktok", "snapchat", "whatsapp", "discord", "youtube", "x")
DURATIONS = ("days", "weeks", "months")
AGES = ("under13", "13-14", "15-17", "18plus")
BACK = "<"
FIRST_USER = 10_000_000

# (step, choice) for each press; ``None`` stands for the /start command.
Step = tuple[str, str] | None


def path(n: int) -> list[Step]:
    """User ``n``'s ten updates."""
    where = PLATFORMS[n % len(PLATFORMS)]
    return [
        None,
        ("who", "me"),
        ("danger", "no"),
        ("what", KINDS[n % len(KINDS)]),
        ("where", where),
        ("since", BACK),
        ("where", where),
        ("since", DURATIONS[n % len(DURATIONS)]),
        ("result", "yes" if n % 2 else "no"),
        ("age", AGES[n % len(AGES)]),
    ]


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Teen", "language_code": "fr"}


def _chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Teen"}


def interleaved(users: int, data: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """All updates of ``users`` users as Bot API dicts, round-robin; ``data(step, choice)``
    is the ``callback_data`` the bot under test put on that button."""
    paths = [path(n) for n in range(users)]
    updates: list[dict[str, Any]] = []
    update_id = 1
    for turn in range(len(paths[0])):
        for n, steps in enumerate(paths):
            user_id = FIRST_USER + n
            step = steps[turn]
            if step is None:
                message = {
                    "message_id": 1,
                    "date": 1_700_000_000,
                    "chat": _chat(user_id),
                    "from": _user(user_id),
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
                updates.append({"update_id": update_id, "message": message})
            else:
                pressed = {
                    "message_id": 3,
                    "date": 1_700_000_000,
                    "chat": _chat(user_id),
                    "from": {"id": 123456, "is_bot": True, "first_name": "Relais"},
                    "text": "…",
                }
                query = {
                    "id": str(update_id),
                    "from": _user(user_id),
                    "chat_instance": str(user_id),
                    "message": pressed,
                    "data": data(*step),
                }
                updates.append({"update_id": update_id, "callback_query": query})
            update_id += 1
    return updates
