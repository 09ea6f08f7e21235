"""Logging that cannot leak the bot token.

httpx logs every request URL at INFO, and Telegram URLs contain the token, so httpx is
kept at WARNING; a filter also masks the token in any record, whatever logger wrote it.
"""

from __future__ import annotations

import logging


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
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
