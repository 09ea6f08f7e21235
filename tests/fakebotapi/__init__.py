"""Fake Telegram Bot API for end-to-end tests of Relais.

Why this exists: Relais must work when Telegram misbehaves (rate limits, blocked users,
slow or unreachable API) — exactly the situations that cannot be produced against the real
Telegram in CI.  This package runs a local HTTP server speaking the Bot API, against which
the *real* python-telegram-bot ``Application`` runs unmodified, with per-method fault
injection and a :class:`SimulatedUser` to write tests as conversations::

    async with FakeBotApi() as api:
        app = application_builder(api).build()
        ...  # add the bot's handlers
        async with running(app, api):
            user = api.user(1001, language_code="fr")
            replies = await user.send("/start")
            await user.press("J'ai besoin d'aide")
"""

from . import builders
from .builders import ANONYMOUS_ADMIN_ID, CHANNEL_BOT_ID
from .ptb import application_builder, running
from .server import (
    ALL_UPDATE_TYPES,
    DEFAULT_ALLOWED_UPDATES,
    DEFAULT_TOKEN,
    METHODS,
    ApiCall,
    BotApiError,
    FakeBotApi,
    SentMessage,
)
from .user import SimulatedUser

__all__ = [
    "ALL_UPDATE_TYPES",
    "ANONYMOUS_ADMIN_ID",
    "CHANNEL_BOT_ID",
    "DEFAULT_ALLOWED_UPDATES",
    "DEFAULT_TOKEN",
    "METHODS",
    "ApiCall",
    "BotApiError",
    "FakeBotApi",
    "SentMessage",
    "SimulatedUser",
    "application_builder",
    "builders",
    "running",
]
