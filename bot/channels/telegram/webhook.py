"""Webhook mode: Telegram POSTs each update to us; several replicas can share the work.

``relais run --webhook`` serves three paths on one port (aiohttp, driven by us rather
than PTB's ``run_webhook``, which can serve neither of the last two):

- the webhook itself, at the path of ``WEBHOOK_URL``. A request without Telegram's
  ``X-Telegram-Bot-Api-Secret-Token`` header equal to ``WEBHOOK_SECRET`` gets 403 (and a
  log line, without the token): anyone can find the URL, only Telegram knows the secret.
- ``/healthz``: 200 while the database answers (``storage.ping()``), 503 otherwise and
  while stopping, so the load balancer sends updates to the replicas that can save them.
- ``/metrics``: Prometheus text format (``bot.metrics``).

An update is handled *before* its request is answered (through the application's update
processor, not PTB's usual hand-off to ``update_queue``): a 200 means the new state is
committed and the replies were sent. If the database fails, the answer is 500 and
Telegram delivers the update again later (to this or another replica); the update ledger
makes any redelivery of an update that was in fact applied change nothing and send nothing.

The port sheds abuse (``shedding``): at most ``connection_limit`` connections, each closed
after ``idle_timeout`` seconds without a complete request; a body must arrive within
``BODY_TIMEOUT``; warnings anyone can trigger are logged once a minute with a count.

SIGTERM (or Ctrl-C) drains: stop listening, answer 503 to requests still arriving on
open connections (Telegram retries them elsewhere), finish the updates in flight, then
stop the bot and close the database. The webhook stays registered with Telegram: the
other replicas are still serving it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import NetworkError
from telegram.ext import Application, ContextTypes

from bot.channels.telegram.app import allowed_updates
from bot.channels.telegram.ordering import PerChatUpdateProcessor
from bot.channels.telegram.retry import name
from bot.channels.telegram.shedding import (
    CONNECTION_LIMIT,
    IDLE_TIMEOUT,
    ConnectionGuard,
    GuardedSite,
)
from bot.config import Settings
from bot.errors import StorageError
from bot.logs import Throttle
from bot.metrics import Metrics

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts
BODY_TIMEOUT = 10.0  # seconds to read an update's body (a slow sender is cut off)
HEALTH_TIMEOUT = 2.0  # seconds for the database to answer a health check
# Longest wait for updates in flight at shutdown: a reply held by the rate limiter can take
# a few seconds. Give the orchestrator's grace period more (docker: stop_grace_period).
DRAIN_TIMEOUT = 25.0


@dataclass(frozen=True)
class WebhookConfig:
    """Where Telegram finds us, and where we listen (behind the reverse proxy)."""

    url: str
    secret: str
    listen: str = "127.0.0.1"
    port: int = 8080
    max_connections: int = 40
    connection_limit: int = CONNECTION_LIMIT  # open connections to our port (shedding)
    idle_timeout: float = IDLE_TIMEOUT  # seconds a connection may go without a request

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookConfig:
        """Validated settings; ``ValueError`` says what to fix."""
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        problems = []
        if not settings.webhook_url:
            problems.append("WEBHOOK_URL is not set (the public https URL Telegram calls)")
        elif urlsplit(settings.webhook_url).scheme not in {"https", "http"}:
            problems.append("WEBHOOK_URL must be an https:// URL (http only for a local Bot API)")
        if not SECRET_FORMAT.fullmatch(secret):
            problems.append(
                "WEBHOOK_SECRET must be 1-256 characters among A-Z a-z 0-9 _ - "
                "(without it anyone who finds the URL could post fake updates)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        assert settings.webhook_url is not None
        return cls(
            url=settings.webhook_url,
            secret=secret,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            max_connections=settings.webhook_max_connections,
        )


# Telegram out of reach for a moment at start-up (a network blip, a proxy restarting) is
# waited out, as polling's bootstrap retries do: 1 s, then up to 30 s apart, ~2 minutes.
START_RETRIES = 10


async def _initialize(app: App) -> None:
    delay = 1.0
    for attempt in range(1, START_RETRIES + 1):
        try:
            await app.initialize()
            return
        except NetworkError as exc:  # not InvalidToken: a rejected token is no blip
            if attempt == START_RETRIES:
                raise
            log.warning("Telegram unreachable at start-up (%s); again in %.0f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 1.5)


class WebhookServer:
    """The bot's ``Application`` behind an aiohttp server; ``start()`` then ``stop()``."""

    def __init__(
        self,
        application: App,
        health: Callable[[], Awaitable[None]],
        metrics: Metrics,
        config: WebhookConfig,
        *,
        dashboard: web.Application | None = None,
    ) -> None:
        self.application = application
        self.dashboard = dashboard  # the operator page, mounted at /dashboard/ when given
        self.health = health  # raises StorageError while the database does not answer
        self.metrics = metrics
        self.config = config
        self.accepting = False
        self._secret = config.secret.encode()
        self._warn = Throttle(log)  # lines anyone can cause: one a minute of each
        self.guard: ConnectionGuard | None = None
        self._runner: web.AppRunner | None = None
        self._inflight = 0
        self._queued: set[asyncio.Task[None]] = set()  # accepted while their chat was busy
        # Errors PTB handed to its error handlers, by the Update object that raised them:
        # ``process_update`` swallows them, and the HTTP status depends on them.
        self._failures: dict[int, BaseException] = {}
        application.add_error_handler(self._remember_error)

    @property
    def port(self) -> int:
        """The port actually bound (useful when configured as 0)."""
        assert self._runner is not None and self._runner.addresses, "not started"
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Open the database, start the bot, listen, then tell Telegram where we are."""
        app = self.application
        await _initialize(app)
        if app.post_init:  # PTB calls it only from its run_* methods; we are one of those
            await app.post_init(app)
        await app.start()
        web_app = web.Application()
        web_app.router.add_post(self.config.path, self._on_update)
        web_app.router.add_get("/healthz", self._on_health)
        web_app.router.add_get("/metrics", self._on_metrics)
        if self.dashboard is not None:
            # Same process, same open storage; its own token check (401 without it).
            web_app.add_subapp("/dashboard/", self.dashboard)
        self._runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=DRAIN_TIMEOUT)
        await self._runner.setup()
        assert self._runner.server is not None
        self.guard = ConnectionGuard(
            self._runner.server,
            limit=self.config.connection_limit,
            idle=self.config.idle_timeout,
            warn=self._warn,
        )
        await GuardedSite(self._runner, self.config.listen, self.config.port, self.guard).start()
        self.accepting = True
        # Every replica registers the same URL: harmless, and the last one up need not be
        # told it is not the first. Pending updates are kept, never dropped.
        await app.bot.set_webhook(
            self.config.url,
            secret_token=self.config.secret,
            allowed_updates=allowed_updates(),
            max_connections=self.config.max_connections,
        )
        log.info("webhook server listening on %s:%d", self.config.listen, self.port)

    async def stop(self) -> None:
        """Drain: no new updates, finish those in flight, stop the bot, close the database."""
        self.accepting = False
        if self._runner is not None:
            if self._inflight:
                log.info("stopping: finishing %d update(s) in flight", self._inflight)
            # Stops listening, then waits (up to DRAIN_TIMEOUT) for running handlers.
            await self._runner.cleanup()
            self._runner = None
        if self._queued:
            await asyncio.wait(set(self._queued), timeout=DRAIN_TIMEOUT)
        app = self.application
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown:  # closes the storage
            await app.post_shutdown(app)
        log.info("webhook server stopped")

    # -- requests -----------------------------------------------------------------------

    async def _on_update(self, request: web.Request) -> web.Response:
        if not self.accepting:
            self.metrics.updates.labels("unavailable").inc()
            return web.Response(status=503, text="stopping")
        # aiohttp keeps undecodable header bytes as surrogates: compared, never a 500.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            self.metrics.updates.labels("refused").inc()
            self._warn.warning(
                "refused a webhook request: secret token header %s",
                "wrong" if given else "missing",
            )
            return web.Response(status=403)
        try:
            body = await asyncio.wait_for(request.read(), BODY_TIMEOUT)
            data = json.loads(body)
            processor = self.application.update_processor
            if isinstance(processor, PerChatUpdateProcessor) and not processor.would_admit(data):
                self.metrics.updates.labels("dropped").inc()  # a repeat of what is queued
                return web.Response()
            update = Update.de_json(data, self.application.bot)
        except Exception as exc:  # not JSON, or not an update: nothing to retry
            self.metrics.updates.labels("invalid").inc()
            self._warn.warning("refused a webhook request that is not an update: %s", name(exc))
            return web.Response(status=400)
        processor = self.application.update_processor
        if (
            isinstance(processor, PerChatUpdateProcessor)
            and processor.queued_behind(update)
            and not processor.speaks_of_danger(update)
        ):
            # Its chat is busy: holding this request open would hold one of Telegram's
            # connections to us (40 at most) while it waits, and a flooding chat would take
            # them all. Accepted now, handled in its turn (a database failure then gets
            # the calm message, without Telegram's redelivery). Words of danger are the
            # exception: answered 200 only once handled, so a crash still gets them
            # delivered again (the backlog keeps a chat's waiting updates few).
            self.metrics.updates.labels("queued").inc()
            task = asyncio.create_task(self._handle_queued(update))
            self._queued.add(task)
            task.add_done_callback(self._queued.discard)
            return web.Response()
        await self._handle(update)
        error = self._failures.pop(id(update), None)
        if error is None:
            self.metrics.updates.labels("ok").inc()
            return web.Response()
        if isinstance(error, StorageError):
            # Nothing was committed: let Telegram deliver it again once the database is back.
            self.metrics.updates.labels("retry").inc()
            return web.Response(status=500)
        # A bug or a refusal from Telegram would fail again the same way: don't ask for it.
        self.metrics.updates.labels("failed").inc()
        return web.Response()

    async def _handle(self, update: Update) -> None:
        started = time.perf_counter()
        self._inflight += 1
        try:
            # Through the app's update processor, as polling does: chats concurrently, one
            # chat's updates in arrival order, at most so many at once (back-pressure).
            app = self.application
            await app.update_processor.process_update(update, app.process_update(update))
        finally:
            self._inflight -= 1
            self.metrics.latency.observe(time.perf_counter() - started)

    async def _handle_queued(self, update: Update) -> None:
        await self._handle(update)
        self._failures.pop(id(update), None)  # logged by the app; nobody to answer

    async def _remember_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Error handler (besides the app's own, which logs): note which update failed."""
        if context.error is not None:
            self.metrics.errors.labels(type(context.error).__name__).inc()
            if isinstance(update, Update):
                self._failures[id(update)] = context.error

    async def _on_health(self, request: web.Request) -> web.Response:
        if not self.accepting:
            return web.Response(status=503, text="stopping\n")
        try:
            await asyncio.wait_for(self.health(), HEALTH_TIMEOUT)
        except (StorageError, TimeoutError) as exc:
            self._warn.warning("health check: the database does not answer (%s)", name(exc))
            return web.Response(status=503, text="database unreachable\n")
        return web.Response(text="ok\n")

    async def _on_metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.render(), headers={"Content-Type": self.metrics.content_type}
        )


async def serve(server: WebhookServer) -> None:
    """Run ``server`` until SIGTERM or SIGINT, then drain it."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await server.start()
        await stopping.wait()
        log.info("stop signal received")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await server.stop()
