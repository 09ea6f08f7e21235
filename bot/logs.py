"""Logging that helps an operator without leaking a secret or what people send.

- Libraries that print payloads stay at WARNING whatever ``LOG_LEVEL``: httpx and httpcore
  log every request URL (Telegram's contain the token), python-telegram-bot logs every
  update and API call with its parameters at DEBUG (typed texts, names, usernames, and
  ``setWebhook``'s secret), aiohttp's access log prints addresses and paths.
- One filter masks the bot token and the webhook secret in every record, whatever logger
  wrote it, its traceback included.
- A failure is logged with its traceback's frames (file, line, function) and exception
  types, never the exceptions' messages (they can quote an update, a URL or a header) nor
  local values: enough to find the line, nothing about the person.
- ``LOG_FORMAT=json`` writes one JSON object a line, for log collectors in containers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

LIBRARY_LEVELS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "aiohttp.client": logging.WARNING,
    "aiohttp.server": logging.WARNING,
    "aiohttp.web": logging.WARNING,
    "hpack": logging.WARNING,
}
MASK = "<secret>"
_PREFIX = str(Path(__file__).resolve().parent.parent) + "/"


def frames(error: BaseException) -> str:
    """``error``'s traceback as types and frames only: each exception of the chain (causes
    first, as Python prints them) by type, then ``file:line in function`` per frame."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    lines: list[str] = []
    for exc in reversed(chain):
        if lines:
            lines.append("  which led to")
        lines.append(f"  {type(exc).__module__}.{type(exc).__qualname__}")
        for frame in traceback.extract_tb(exc.__traceback__):
            where = frame.filename.removeprefix(_PREFIX)
            lines.append(f"    {where}:{frame.lineno} in {frame.name}")
    return "\n".join(lines)


class Redact(logging.Filter):
    """Mask ``secrets`` (the bot token, the webhook secret) in every record, and render its
    traceback as frames only (``frames``), itself masked."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.mask(frames(record.exc_info[1]))
            record.exc_info = None  # the formatter would print the messages again
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: ``time`` (UTC), ``level``, ``logger``, ``message``, and
    ``traceback`` (the frames ``Redact`` left) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    level: str, token: str | None, *secrets: str | None, json_lines: bool = False
) -> None:
    """Log to stderr at ``level``; ``token`` and any other ``secrets`` are masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonLines()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(Redact((token, *secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, ceiling in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(max(ceiling, root.level))


class Throttle:
    """Warnings an attacker can trigger at will (refused requests, shed connections), at
    most one line per message every ``interval`` seconds, saying how many were held back."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.interval, self.clock = logger, interval, clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, message: str, *args: object) -> None:
        key = message % args  # the arguments name a kind (missing, wrong...), never data
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        self._last[key] = now
        if held:
            message, args = message + " (and %d more like it since)", (*args, held)
        self.logger.warning(message, *args)
