"""A python-telegram-bot request object that never opens a connection: subclasses answer
each call themselves (``respond``). The in-process fake Bot API, the sender's tests and the
benchmark's canned Telegram share it, so PTB's request interface is written once."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from telegram.request import BaseRequest, RequestData


class OfflineRequest(BaseRequest):
    """Nothing to open or close; ``timeout`` is what PTB reads as the read timeout."""

    timeout: float = 5.0

    @property
    def read_timeout(self) -> float | None:
        return self.timeout

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        return await self.respond(url, request_data)

    @abstractmethod
    async def respond(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """The HTTP status and body Telegram would answer to a call of ``url``."""
