"""The webhook port under abuse: a bounded number of connections, none of them idle for long.

Anyone can open connections to the webhook's port and send nothing, or a header a byte at a
time. aiohttp waits for them: hundreds such held every file descriptor, until real updates
and ``/healthz`` timed out and asyncio logged "Too many open files" in a loop. So:

- a connection that completes no request within ``idle`` seconds, and is not handling one,
  is closed (slow headers, or an idle keep-alive: Telegram simply opens another);
- at most ``limit`` connections are open: a new one beyond it closes the connection that
  made no progress for longest and handles no request (a slow one, usually), so real
  traffic keeps flowing; if every connection is handling a request, the new one is closed.

The bodies' read timeout is in ``webhook`` (``BODY_TIMEOUT``). aiohttp's private counters
``_request_count`` and ``_request_in_progress`` are read here; ``test_webhook_abuse`` pins
them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from bot.logs import Throttle

CONNECTION_LIMIT = 200  # open connections to the webhook port (Telegram uses up to 100)
IDLE_TIMEOUT = 10.0  # seconds a connection may go without a complete request


class _Refuse(asyncio.Protocol):
    """A connection we have no room for: closed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class ConnectionGuard:
    """Protocol factory around aiohttp's ``web.Server``, keeping its connections in check."""

    def __init__(
        self,
        server: web.Server,
        *,
        limit: int = CONNECTION_LIMIT,
        idle: float = IDLE_TIMEOUT,
        warn: Throttle,
    ) -> None:
        self.server, self.limit, self.idle, self.warn = server, limit, idle, warn
        self._progress: dict[RequestHandler, tuple[int, float]] = {}  # requests seen, since
        self._sweeper: asyncio.Task[None] | None = None
        self.shed = 0  # connections closed for being slow or beyond the limit

    def __call__(self) -> asyncio.Protocol:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())
        if len(self.server.connections) >= self.limit and not self._evict_one():
            self.shed += 1
            self.warn.warning("webhook port: %d connections open, refused a new one", self.limit)
            return _Refuse()
        handler = self.server()
        self._progress[handler] = (0, time.monotonic())
        return handler

    def _stalled(self, now: float) -> list[tuple[float, RequestHandler]]:
        """Connections handling no request, by when they last made progress."""
        stalled = []
        for handler in self.server.connections:
            count = handler._request_count
            seen, since = self._progress.get(handler, (-1, now))
            if handler._request_in_progress or count != seen:
                self._progress[handler] = (count, now)
            else:
                stalled.append((since, handler))
        return sorted(stalled, key=lambda pair: pair[0])

    def _evict_one(self) -> bool:
        stalled = self._stalled(time.monotonic())
        if not stalled:
            return False
        self._close(stalled[0][1])
        self.warn.warning("webhook port: %d connections open, closed the idlest", self.limit)
        return True

    def sweep(self) -> int:
        """Close the connections idle for longer than ``idle``; how many were closed."""
        now = time.monotonic()
        closed = 0
        for since, handler in self._stalled(now):
            if now - since >= self.idle:
                self._close(handler)
                closed += 1
        open_now = set(self.server.connections)
        for handler in [h for h in self._progress if h not in open_now]:
            del self._progress[handler]  # gone (or not yet connected: seen at the next sweep)
        if closed:
            # No count in the line: it is throttled per distinct line (see ``Throttle``).
            self.warn.warning("webhook port: closed idle or slow connections")
        return closed

    def _close(self, handler: RequestHandler) -> None:
        self.shed += 1
        self._progress.pop(handler, None)
        handler.force_close()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(max(self.idle / 4, 0.05))
            self.sweep()

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None


class GuardedSite(web.TCPSite):
    """``web.TCPSite`` whose connections go through a ``ConnectionGuard``."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard):
        super().__init__(runner, host, port)
        self.guard = guard

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with the runner
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.guard, self._host, self._port, backlog=self._backlog, reuse_address=True
        )

    async def stop(self) -> None:
        await self.guard.stop()
        await super().stop()
