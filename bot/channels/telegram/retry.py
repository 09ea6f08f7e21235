"""How long to keep trying when Telegram or the database fails, and the trying itself.

Telegram: PTB's ``AIORateLimiter`` retries only ``429 Too Many Requests``. A ``5xx``, a
timeout or a refused connection would otherwise lose the reply for good, although the
person's step was saved. So each request is retried with growing pauses for about a
minute (``RetryPolicy.telegram``), then given up: the state is right, and the person's
next message shows the current question again. Only failures that may heal are retried;
``400 Bad Request`` and ``403 Forbidden`` are answers, not accidents.

A request that *timed out* may have reached Telegram all the same, so its retry can show
a message twice. We accept that: a repeated help message costs a child nothing, a missing
one may cost them the number they needed.

The database: a locked or read-only file usually heals within seconds. A turn is tried
again after each pause of ``RetryPolicy.storage``, then the person gets a calm message with
3018 rather than silence (``bot.channels.telegram.private``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)
T = TypeVar("T")


TELEGRAM_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # a minute in all
STORAGE_DELAYS = (0.5, 2.0)  # then the calm message: the person is waiting


@dataclass(frozen=True)
class RetryPolicy:
    """Pauses, in seconds, before each new attempt (as many attempts as pauses, plus one)."""

    telegram: tuple[float, ...] = TELEGRAM_DELAYS
    storage: tuple[float, ...] = STORAGE_DELAYS


async def retrying(call: Callable[[], Awaitable[T]], delays: Sequence[float], what: str) -> T:
    """``await call()``, again after each pause while Telegram fails in a way that may heal.

    ``what`` names the request in the log (a method name: never an id, never text)."""
    attempt = 0
    while True:
        try:
            return await call()
        except RetryAfter as exc:  # the rate limiter already waited, and it is still 429
            error: Exception = exc
            wait = retry_after_seconds(exc)
        except NetworkError as exc:  # 5xx, timeouts, refused or dropped connections
            if isinstance(exc, BadRequest):  # a subclass of NetworkError, and final
                raise
            error, wait = exc, 0.0
        if attempt >= len(delays):
            log.warning("%s failed %d times (%s); giving up", what, attempt + 1, name(error))
            raise error
        pause = max(delays[attempt], wait)
        attempt += 1
        log.warning("%s failed (%s); retry %d in %.1f s", what, name(error), attempt, pause)
        await asyncio.sleep(pause)


def retry_after_seconds(exc: RetryAfter) -> float:
    """Telegram's ``retry_after`` in seconds. The property is an int that warns of its
    deprecation, or a timedelta when ``PTB_TIMEDELTA`` is set: both are read, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def name(exc: BaseException) -> str:
    return type(exc).__name__


def storage_reason(exc: BaseException) -> str:
    """What went wrong with the database, fit for a log line: SQLite's own words (they
    never contain data), otherwise only the kind of error."""
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        return f"{name(cause)}: {cause}"
    return name(cause) if cause is not None else name(exc)
