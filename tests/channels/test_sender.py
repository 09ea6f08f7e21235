"""What ``bot/channels/telegram/sender.py`` relies on in python-telegram-bot, pinned.

``post`` calls ``Bot._post``, a library internal: these tests fail first when an upgrade
changes what it does (its answer, the rate limiter it passes through, the errors it
raises, how values are encoded), and ``retry_after_seconds`` reads ``RetryAfter`` in every
form PTB gives it, without a warning.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import RequestData

from bot.channels.telegram.retry import retry_after_seconds
from bot.channels.telegram.sender import NO_LINK_PREVIEW, post
from tests.fakebotapi.offline import OfflineRequest

ME = {"id": 1, "is_bot": True, "first_name": "Relais", "username": "relais_test_bot"}


class Answers(OfflineRequest):
    """Answers every call with ``(status, body)``; keeps what each request carried."""

    def __init__(self, status: int = 200, body: dict[str, Any] | None = None) -> None:
        self.status = status
        self.body = body or {"ok": True, "result": {"message_id": 42, "extra": [1]}}
        self.seen: list[tuple[str, dict[str, Any]]] = []

    timeout = 1.0

    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        if endpoint == "getMe":
            return 200, json.dumps({"ok": True, "result": ME}).encode()
        self.seen.append((endpoint, dict(request_data.json_parameters if request_data else {})))
        return self.status, json.dumps(self.body).encode()


class Counting(BaseRateLimiter[None]):
    """A rate limiter that lets everything through and counts what it saw."""

    def __init__(self) -> None:
        self.endpoints: list[str] = []

    async def initialize(self) -> None:
        """Nothing to start."""

    async def shutdown(self) -> None:
        """Nothing to stop."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        self.endpoints.append(endpoint)
        return await callback(*args, **kwargs)


async def bot_on(request: Answers, limiter: Counting | None = None) -> Bot:
    bot: Bot = ExtBot("1:token", request=request, get_updates_request=request, rate_limiter=limiter)
    await bot.initialize()
    return bot


async def test_post_returns_telegrams_json_through_the_rate_limiter() -> None:
    request, limiter = Answers(), Counting()
    bot = await bot_on(request, limiter)
    data: dict[str, object] = {
        "chat_id": 7,
        "text": "x",
        "link_preview_options": NO_LINK_PREVIEW,
        "reply_markup": '{"inline_keyboard":[]}',
    }
    result = await post(bot, "sendMessage", data)
    assert result == {"message_id": 42, "extra": [1]}  # the JSON as sent, not a Message
    assert limiter.endpoints.count("sendMessage") == 1
    [(endpoint, sent)] = request.seen
    assert endpoint == "sendMessage"
    # Strings go into the body as they are; numbers are JSON-encoded.
    assert sent["link_preview_options"] == NO_LINK_PREVIEW
    assert sent["reply_markup"] == '{"inline_keyboard":[]}'
    assert sent["chat_id"] == "7" and sent["text"] == "x"


@pytest.mark.parametrize(
    ("status", "parameters", "error"),
    [
        (400, None, BadRequest),
        (403, None, Forbidden),
        (429, {"retry_after": 3}, RetryAfter),
    ],
)
async def test_post_raises_the_libraries_errors(
    status: int, parameters: dict[str, int] | None, error: type[Exception]
) -> None:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": "no"}
    if parameters:
        body["parameters"] = parameters
    bot = await bot_on(Answers(status, body))
    with pytest.raises(error) as raised:
        await post(bot, "sendMessage", {"chat_id": 7, "text": "x"})
    if isinstance(raised.value, RetryAfter):
        assert retry_after_seconds(raised.value) == 3.0


@pytest.mark.parametrize("timedelta_mode", [False, True])
def test_retry_after_is_read_in_seconds_without_a_warning(
    timedelta_mode: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if timedelta_mode:
        monkeypatch.setenv("PTB_TIMEDELTA", "1")
    else:
        monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's constructor itself warns of an int
        errors = (RetryAfter(12), RetryAfter(dt.timedelta(seconds=1.5)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [retry_after_seconds(e) for e in errors] == [12.0, 1.5]
