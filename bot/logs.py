"""Logging that cannot leak the bot token nor what people send.

httpx logs every request URL at INFO, and Telegram URLs contain the token, so httpx is
kept at WARNING; a filter also masks the token in any record, whatever logger wrote it.
python-telegram-bot logs every update and every API call with its parameters and answer
at DEBUG (typed texts, names, usernames), so it is kept at INFO: ``LOG_LEVEL=DEBUG`` is
for Relais's own lines.
"""

from __future__ import annotations

import logging

LIBRARY_LEVELS = {"httpx": logging.WARNING, "httpcore": logging.WARNING, "telegram": logging.INFO}


class RedactToken(logging.Filter):
    """Replace the token by ``<token>`` in every message and argument."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = ()
        return True


def setup_logging(level: str, token: str | None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if token:
        handler.addFilter(RedactToken(token))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name, ceiling in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(max(ceiling, root.level))
