"""The fake Bot API without HTTP: a ``telegram.request.BaseRequest`` that hands each call
straight to :meth:`FakeBotApi.call`.

Why: most tests are about what the bot decides and says, not about HTTP. Skipping the
socket, the long poll and the JSON round trip makes them several times faster and takes
the scheduling of a loaded machine out of them, while the answers, the recorded calls,
the world state (messages, edits, deletions, pins) and ``fail_next`` stay those of the
HTTP server. Polling, webhook, timeouts and dropped connections keep the real server.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from telegram.request import RequestData

from .offline import OfflineRequest
from .server import _coerce

if TYPE_CHECKING:
    from .server import FakeBotApi

__all__ = ["InProcessRequest"]


class InProcessRequest(OfflineRequest):
    """PTB's request object for ``ApplicationBuilder().request(...)``: every parameter is
    encoded as ``HTTPXRequest`` would send it (strings raw, the rest as JSON), then decoded
    by the fake server's own rules."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        prefix, _, endpoint = url.rpartition("/")
        token = prefix.rpartition("/bot")[2]
        encoded = request_data.json_parameters if request_data is not None else {}
        params = {key: _coerce(key, value) for key, value in encoded.items()}
        status, payload = await self.api.call(token, endpoint, params)
        return status, json.dumps(payload).encode()
