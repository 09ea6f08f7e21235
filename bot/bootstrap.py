"""Builds the bot from settings: catalog, storage, dialogue, and the channel that carries it.

The one module that knows every layer, so each command (polling, webhook, console) is put
together the same way and no layer has to reach into another to find its parts.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from zoneinfo import ZoneInfo

from telegram.error import TelegramError

from bot.channels.console import chat
from bot.config import Settings
from bot.content.catalog import Catalog
from bot.dialogue.checks import load_catalog
from bot.dialogue.conversation_cache import ConversationCache
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue, DialogueObserver
from bot.errors import StorageError
from bot.metrics import Metrics
from bot.storage import storage_from_url
from bot.storage.base import Storage

log = logging.getLogger(__name__)


def catalog_from(settings: Settings) -> Catalog:
    """Flows, locales and resources, checked; ``ConfigError`` lists every problem."""
    return load_catalog(settings.flows_dir, settings.locales_dir, settings.default_locale)


def dialogue_from(
    settings: Settings,
    catalog: Catalog,
    storage: Storage,
    *,
    cached: bool = False,
    observer: DialogueObserver | None = None,
) -> Dialogue:
    # Only a process that is the sole writer of its conversations may cache them (polling:
    # Telegram lets one process fetch updates; see bot/dialogue/conversation_cache.py).
    cache = ConversationCache() if cached else None
    return Dialogue(Engine(catalog, settings.policy()), storage, cache=cache, observer=observer)


async def console(settings: Settings, language: str | None) -> int:
    catalog = catalog_from(settings)
    if language is not None and catalog.locales.find(language) is None:
        codes = ", ".join(catalog.locales.codes)
        print(f"relais console: no '{language}' texts; languages: {codes}", file=sys.stderr)
        return 2
    async with storage_from_url(settings.database_url) as storage:
        dialogue = dialogue_from(settings, catalog, storage)
        await chat(dialogue, settings.console_secret(), language=language)
    return 0


def polling(settings: Settings, token: str) -> int:
    """``relais run`` with a token: one process fetching updates from Telegram."""
    from bot.channels.telegram.app import allowed_updates, build_application

    secret = settings.bot_secret()
    catalog = catalog_from(settings)
    storage = storage_from_url(settings.database_url)
    application = build_application(
        token,
        dialogue_from(settings, catalog, storage, cached=True),
        secret,
        base_url=settings.bot_api_url,
        group_stats_k=settings.export_k,
        messages_per_second=settings.messages_per_second,
    )
    # What is built by now lives as long as the process: frozen, Python's full garbage
    # collections no longer scan it (under load they paused the loop for tens of ms each).
    gc.freeze()
    application.run_polling(allowed_updates=allowed_updates())
    return 0


def webhook(settings: Settings) -> int:
    """``relais run --webhook``: the bot as one replica of a webhook deployment."""
    from bot.channels.telegram.app import build_application
    from bot.channels.telegram.webhook import WebhookConfig, WebhookServer, serve

    token = settings.token
    if not token:
        log.error("webhook mode needs TELEGRAM_BOT_TOKEN")
        return 1
    secret = settings.bot_secret()
    catalog = catalog_from(settings)
    try:
        config = WebhookConfig.from_settings(settings)
        storage = storage_from_url(settings.database_url)
    except ValueError as exc:
        log.error("cannot start the webhook: %s", exc)
        return 1
    metrics = Metrics()
    dialogue = dialogue_from(settings, catalog, storage, observer=metrics)
    application = build_application(
        token,
        dialogue,
        secret,
        base_url=settings.bot_api_url,
        group_stats_k=settings.export_k,
        messages_per_second=settings.messages_per_second,
    )
    dashboard = None
    if settings.dashboard_token is not None:
        # Imported here: the operator page needs the `export` extra, the bot does not.
        from bot.export.dashboard import dashboard_app
        from bot.export.layout import layout_from_catalog

        try:
            dashboard = dashboard_app(
                storage,
                settings.dashboard_token.get_secret_value(),
                k=settings.export_k,
                tz=ZoneInfo(settings.export_timezone),
                layout=layout_from_catalog(catalog),
            )
        except ValueError as exc:
            log.error("cannot start the webhook: %s", exc)
            return 1
    server = WebhookServer(application, dialogue.ping, metrics, config, dashboard=dashboard)
    gc.freeze()  # as in polling()
    try:
        asyncio.run(serve(server))
    except (StorageError, TelegramError) as exc:  # at start-up: say why, without a traceback
        log.error("cannot start the webhook: %s: %s", type(exc).__name__, exc)
        return 1
    return 0
