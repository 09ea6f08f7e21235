"""An in-process Bot API: a ``telegram.request.BaseRequest`` that answers at once
(``tests.fakebotapi.offline.OfflineRequest``).

Why: a benchmark through real HTTP measures the network stack and the fake server as much
as the bot. Replacing the HTTP client with canned answers leaves exactly the bot's own
work: PTB encoding each request (done here as ``HTTPXRequest`` would: every parameter
JSON-encoded, then form-encoded), the handlers, and PTB parsing each answer into
``Message`` objects. Every bot under test gets the same object, so they pay the same.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from telegram.request import RequestData

from tests.fakebotapi.offline import OfflineRequest

BOT_ID = 123456
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Relais", "username": "relais_bench_bot"}
ME = {
    **BOT_USER,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class CannedRequest(OfflineRequest):
    """Answers ``sendMessage``/``editMessageText`` with the message as Telegram would
    (text and keyboard echoed back), ``getMe`` with the bot, anything else with ``true``.

    ``sent`` counts the messages sent or edited, so a benchmark can check nothing was
    skipped; ``log`` (when given) records ``(method, chat_id, monotonic time)``."""

    def __init__(self, log: list[tuple[str, int, float]] | None = None) -> None:
        self._ids = itertools.count(1_000)
        self.sent = 0
        self.log = log

    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        await asyncio.sleep(0)  # a real request lets the event loop run other tasks
        endpoint = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = {}
        if request_data is not None:
            urlencode(request_data.json_parameters)  # the body HTTPXRequest would send
            params = request_data.parameters
        result: Any = True
        if endpoint == "getMe":
            result = ME
        elif endpoint in ("sendMessage", "editMessageText"):
            self.sent += 1
            chat_id = int(params.get("chat_id", 0))
            result = {
                "message_id": int(params.get("message_id") or next(self._ids)),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private", "first_name": "Teen"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            markup = params.get("reply_markup")
            if isinstance(markup, str):  # sent pre-encoded (Relais does)
                markup = json.loads(markup)
            if markup is not None:
                result["reply_markup"] = markup
            if self.log is not None:
                self.log.append((endpoint, chat_id, time.perf_counter()))
        return 200, json.dumps({"ok": True, "result": result}).encode()
