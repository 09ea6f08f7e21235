"""Builds the bot from settings: catalog, storage, dialogue, and the channel that carries it.

The one module that knows every layer, so each command (polling, webhook, console) is put
together the same way and no layer has to reach into another to find its parts.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram.error import InvalidToken, TelegramError

from bot.channels.console import chat
from bot.config import Settings, pseudonym_secret_problem
from bot.content.catalog import Catalog
from bot.dialogue.checks import load_catalog
from bot.dialogue.conversation_cache import ConversationCache
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue, DialogueObserver
from bot.errors import SettingsError, StorageError
from bot.metrics import Metrics
from bot.storage import storage_from_url
from bot.storage.base import Storage

log = logging.getLogger(__name__)

REJECTED_TOKEN = "TELEGRAM_BOT_TOKEN was rejected by Telegram — check it with @BotFather"
# Start-up calls to Telegram that fail on the network are tried again this many times
# (python-telegram-bot's bootstrap retries: 1 s, then up to 30 s apart, about 2 minutes).
BOOTSTRAP_RETRIES = 10
DATABASE_TIMEOUT = 5.0


def content_problems(settings: Settings) -> list[str]:
    """FLOWS_DIR and LOCALES_DIR point at folders holding flows and the French texts."""
    problems = []
    flows, locales = settings.flows_dir, settings.locales_dir
    unset = "or unset it to use the flows and texts shipped with Relais"
    if not flows.is_dir():
        problems.append(f"FLOWS_DIR={flows}: no such folder; point it at your flows, {unset}")
    elif not any(flows.glob("*.yaml")):
        problems.append(f"FLOWS_DIR={flows}: no flow (.yaml file) in it; {unset}")
    if not locales.is_dir():
        problems.append(f"LOCALES_DIR={locales}: no such folder; point it at your texts, {unset}")
    elif not (locales / "fr.yaml").is_file():
        problems.append(f"LOCALES_DIR={locales}: no fr.yaml (the reference texts) in it; {unset}")
    elif not (locales / f"{settings.default_locale}.yaml").is_file():
        codes = ", ".join(sorted(p.stem for p in locales.glob("*.yaml")))
        problems.append(
            f"DEFAULT_LOCALE={settings.default_locale}: no texts in that language; "
            f"use one of {codes}"
        )
    return problems


def catalog_from(settings: Settings) -> Catalog:
    """Flows, locales and resources, checked; ``ConfigError`` lists every problem, and
    ``SettingsError`` says when FLOWS_DIR or LOCALES_DIR point at the wrong place."""
    problems = content_problems(settings)
    if problems:
        raise SettingsError(problems)
    return load_catalog(settings.flows_dir, settings.locales_dir, settings.default_locale)


def _sqlite_problem(url: str) -> str | None:
    """Can the process write the database file and, beside it, its journal?"""
    raw = url.removeprefix("sqlite://")
    raw = raw.removeprefix("/") if raw.startswith("/") else raw
    if raw in ("", ":memory:"):
        return None
    path = Path(raw)
    folder = path.parent
    fix = "point DATABASE_URL at a file in a folder this user can write"
    if not folder.is_dir():
        return f"DATABASE_URL: the folder {folder} does not exist; create it, or {fix}"
    if path.is_dir():
        return f"DATABASE_URL: {path} is a folder, not a file; {fix}"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass  # SQLite writes its journal and WAL files beside the database
        if path.exists():
            path.open("r+b").close()
    except OSError as exc:
        return f"DATABASE_URL: cannot write {path} ({exc.strerror}); {fix}"
    return None


async def _postgres_problem(url: str) -> str | None:
    """Does PostgreSQL answer and let us in? (The password is never repeated.)"""
    try:
        import asyncpg
    except ImportError:
        return "DATABASE_URL is PostgreSQL but asyncpg is missing: pip install 'relais[postgres]'"
    try:
        parts = urlsplit(url)
        where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
    except ValueError:
        return "DATABASE_URL is not a valid PostgreSQL URL: postgresql://user:password@host:5432/db"
    fix = "start PostgreSQL, or fix DATABASE_URL"
    try:
        conn = await asyncpg.connect(url, timeout=DATABASE_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        reason = "no answer"
        if isinstance(exc, ConnectionRefusedError):
            reason = "connection refused"
        elif isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
        return f"DATABASE_URL: cannot reach PostgreSQL at {where} ({reason}); {fix}"
    except asyncpg.PostgresError as exc:  # wrong password, unknown database or user...
        return (
            f"DATABASE_URL: PostgreSQL at {where} refused the connection ({exc}); fix DATABASE_URL"
        )
    except ValueError:
        return "DATABASE_URL is not a valid PostgreSQL URL: postgresql://user:password@host:5432/db"
    await conn.close()
    return None


async def database_problem(settings: Settings) -> str | None:
    url = settings.database_url
    if url.startswith("sqlite://"):
        return _sqlite_problem(url)
    return await _postgres_problem(url)


def preflight(settings: Settings) -> None:
    """What can be checked before starting: the content folders and the database. Raises
    ``SettingsError`` with one line per problem (the static checks ran in ``load_settings``)."""
    problems = content_problems(settings)
    if settings.token:  # facing Telegram (the console without a token makes its own)
        secret = pseudonym_secret_problem(settings.pseudonym_secret)
        if secret:
            problems.append(secret)
    database = asyncio.run(database_problem(settings))
    if database:
        problems.append(database)
    if problems:
        raise SettingsError(problems)


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
    # collections skip it (scanning it paused the loop for tens of ms each under load).
    gc.freeze()
    try:
        application.run_polling(
            allowed_updates=allowed_updates(), bootstrap_retries=BOOTSTRAP_RETRIES
        )
    except InvalidToken:
        raise SettingsError([REJECTED_TOKEN]) from None
    return 0


def webhook(settings: Settings) -> int:
    """``relais run --webhook``: the bot as one replica of a webhook deployment."""
    from bot.channels.telegram.app import build_application
    from bot.channels.telegram.webhook import WebhookConfig, WebhookServer, serve

    token = settings.token
    if not token:
        raise SettingsError(
            ["webhook mode needs TELEGRAM_BOT_TOKEN: put the token from @BotFather in it"]
        )
    secret = settings.bot_secret()
    catalog = catalog_from(settings)
    try:
        config = WebhookConfig.from_settings(settings)
    except ValueError as exc:  # WEBHOOK_URL, WEBHOOK_SECRET: one line each
        raise SettingsError(str(exc).split("; ")) from None
    storage = storage_from_url(settings.database_url)
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
        except ValueError as exc:  # DASHBOARD_TOKEN too short
            raise SettingsError([str(exc)]) from None
    server = WebhookServer(application, dialogue.ping, metrics, config, dashboard=dashboard)
    gc.freeze()  # as in polling()
    try:
        asyncio.run(serve(server))
    except InvalidToken:
        raise SettingsError([REJECTED_TOKEN]) from None
    except (StorageError, TelegramError) as exc:  # at start-up: say why, without a traceback
        log.error("cannot start the webhook: %s: %s", type(exc).__name__, exc)
        return 1
    return 0
