"""Wiring: the python-telegram-bot ``Application`` with every handler in its place.

Only wiring lives here; each feature is its own module. Handler order matters where noted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.telegram.backlog import GROUP_WINDOW, Backlog
from bot.channels.telegram.groups import GroupChats, PrivateCallbacks, add_group_handlers
from bot.channels.telegram.housekeeping import Housekeeping
from bot.channels.telegram.ordering import PerChatUpdateProcessor
from bot.channels.telegram.private import PrivateChat
from bot.channels.telegram.retry import RetryPolicy
from bot.dialogue.groups import HELP
from bot.dialogue.service import Dialogue
from bot.domain.group import DEFAULT_STATS_K
from bot.logs import frames

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 16  # chats handled at once (each chat's updates stay in order)
API_TIMEOUT = 5.0  # seconds for one request to Telegram before it counts as failed
MESSAGES_PER_SECOND = 30.0  # Telegram's bulk limit across all chats
GROUP_MESSAGES_PER_MINUTE = 20.0  # Telegram's limit in one group

# Where each menu of bot.dialogue.menus is shown.
MENU_SCOPES: dict[str, Callable[[], BotCommandScope]] = {
    "private": BotCommandScopeAllPrivateChats,
    "group": BotCommandScopeAllGroupChats,
    "group_admins": BotCommandScopeAllChatAdministrators,
}


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log where the failure happened (types and frames), never the update nor the
    exception's message: either may carry ids or what the person typed."""
    error = context.error
    if error is None:
        log.error("update failed: unknown error")
        return
    log.error("update failed: %s\n%s", type(error).__name__, frames(error))


async def set_menus(bot: Bot, dialogue: Dialogue) -> None:
    """Telegram's command menu in every shipped language (``language_code``), from the
    locale files, and in the default language for everyone else."""
    for menu in dialogue.menus():
        commands = [BotCommand(name, text) for name, text in menu.commands]
        try:
            await bot.set_my_commands(
                commands, scope=MENU_SCOPES[menu.scope](), language_code=menu.language
            )
        except TelegramError as exc:  # a comfort, not a reason to refuse to start
            log.warning("could not set a command menu: %s", type(exc).__name__)


def build_application(
    token: str,
    dialogue: Dialogue,
    secret: str,
    *,
    base_url: str | None = None,
    group_stats_k: int = DEFAULT_STATS_K,
    concurrent_updates: int = CONCURRENT_UPDATES,
    api_timeout: float = API_TIMEOUT,
    messages_per_second: float = MESSAGES_PER_SECOND,
    group_messages_per_minute: float = GROUP_MESSAGES_PER_MINUTE,
    group_help_window: float = GROUP_WINDOW,
    request: BaseRequest | None = None,
    retry: RetryPolicy | None = None,
) -> Application:  # type: ignore[type-arg]
    """The bot, ready for ``run_polling`` (or to be driven by tests).

    Updates of different chats are handled concurrently, those of one chat in order
    (``bot.channels.telegram.ordering``), so a slow answer from Telegram to one child never makes
    the others wait. ``api_timeout`` bounds each request to Telegram (read, write and
    connect, in seconds); ``messages_per_second`` is the flood limit the rate limiter
    keeps under, ``group_messages_per_minute`` the one per group (Telegram: 20/min; tests
    raise it to run fast), ``group_help_window`` the seconds between two help cards in one
    group (``backlog``). ``request`` replaces the HTTP client (benchmarks answer in-process).
    ``retry``: how long to keep trying when Telegram or the database fails (tests shorten it).

    Under ``run_polling``/``run_webhook`` the application owns the storage's lifetime
    (``post_init`` opens it before the first update, ``post_shutdown`` closes it after the
    last). Code that drives ``initialize()``/``start()`` itself opens the storage itself.
    """

    housekeeping = Housekeeping(dialogue, secret)

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        await dialogue.connect()
        await set_menus(application.bot, dialogue)
        housekeeping.start(application.bot)

    async def post_shutdown(_: Application) -> None:  # type: ignore[type-arg]
        await housekeeping.stop()
        await dialogue.disconnect()

    builder = (
        ApplicationBuilder()
        .token(token)
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        # Retries a 429 after Telegram's retry_after; keeps us under the flood limits.
        # Every call naming a group (sends, deletes, pins, getChatMember) counts towards
        # that group's limit.
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=messages_per_second,
                group_max_rate=group_messages_per_minute,
                max_retries=3,
            )
        )
        .concurrent_updates(
            PerChatUpdateProcessor(
                concurrent_updates,
                backlog=Backlog(
                    group_once=dict.fromkeys(HELP, "help"),  # one help card at a time
                    window=group_help_window,
                ),
                urgent=dialogue.urgent,
            )
        )
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
    else:
        builder = builder.read_timeout(api_timeout).write_timeout(api_timeout)
        builder = builder.connect_timeout(api_timeout)
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_url.replace("/bot", "/file/bot"))
    application = builder.build()
    # Private chats first (nearly every update): each then skips the group handlers'
    # checks. A press on a group message is refused here and lands in the group handlers.
    private = PrivateChat(dialogue, secret, retry or RetryPolicy())
    in_private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(in_private, private.on_message))
    edited = filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE
    application.add_handler(MessageHandler(edited, private.on_edit))
    application.add_handler(PrivateCallbacks(private.on_press))
    groups = GroupChats(dialogue.groups(secret, group_stats_k), retry=retry or RetryPolicy())
    add_group_handlers(application, groups)
    application.add_error_handler(on_error)
    return application


def allowed_updates() -> list[str]:
    # Edited messages: words of crisis added to a message after it was sent count too.
    return [
        Update.MESSAGE,
        Update.EDITED_MESSAGE,
        Update.CALLBACK_QUERY,
        Update.MY_CHAT_MEMBER,
        Update.CHAT_MEMBER,
    ]
