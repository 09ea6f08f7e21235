"""One Relais replica in webhook mode, in the test's process, against the fake Bot API.

The same wiring as ``relais run --webhook`` (``bot.bootstrap.webhook``) minus
the signal handling: tests start and stop it themselves, several at once if they like.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.telegram.app import API_TIMEOUT, build_application
from bot.channels.telegram.webhook import WebhookConfig, WebhookServer
from bot.content.catalog import Catalog
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.metrics import Metrics
from bot.storage.base import Storage
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi

WEBHOOK_SECRET = "webhook-Secret_0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def replica(
    api: FakeBotApi,
    catalog: Catalog,
    storage: Storage,
    *,
    dashboard: web.Application | None = None,
    api_timeout: float = API_TIMEOUT,
    **config: Any,
) -> AsyncIterator[WebhookServer]:
    """A started replica whose webhook is registered with ``api``; drained on exit.
    ``config``: more ``WebhookConfig`` fields (e.g. ``idle_timeout``)."""
    port = free_port()
    metrics = Metrics()
    dialogue = Dialogue(Engine(catalog), storage, observer=metrics)
    application = build_application(
        api.token, dialogue, SECRET, base_url=api.base_url, api_timeout=api_timeout
    )
    config = WebhookConfig(
        url=f"http://127.0.0.1:{port}/telegram", secret=WEBHOOK_SECRET, port=port, **config
    )
    server = WebhookServer(application, dialogue.ping, metrics, config, dashboard=dashboard)
    await server.start()
    processor = application.update_processor
    # settle() waits for updates handled after their 200 (queued behind their chat's) too,
    # instead of trusting a quiet window a loaded machine's pause between two can outlast.
    api.busy = lambda: (
        bool(server._queued) or server._inflight > 0 or getattr(processor, "chats_in_flight", 0) > 0
    )
    try:
        yield server
    finally:
        api.busy = None
        await server.stop()


async def get(url: str) -> tuple[int, str]:
    """GET ``url``; its status and body."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()
