"""Fake Telegram Bot API for end-to-end tests of Relais.

Why this exists: Relais must work when Telegram misbehaves (rate limits, blocked users,
slow or unreachable API) — exactly the situations that cannot be produced against the real
Telegram in CI.  This package runs a local HTTP server speaking the Bot API, against which
the *real* python-telegram-bot ``Application`` runs unmodified, with per-method fault
injection and a :class:`SimulatedUser` to write tests as conversations. It models only the
Bot API methods Relais calls (``METHODS``). Tests where HTTP is not the subject give the
Application an ``inprocess.InProcessRequest`` instead (``tests.harness.relais_in_process``):
same answers and faults, no socket::

    async with FakeBotApi() as api:
        app = application_builder(api).build()
        ...  # add the bot's handlers
        async with running(app, api):
            user = api.user(1001, language_code="fr")
            replies = await user.send("/start")
            await user.press("Continuer →")
"""

from . import builders
from .builders import ANONYMOUS_ADMIN_ID
from .ptb import application_builder, running
from .server import (
    DEFAULT_TOKEN,
    METHODS,
    ApiCall,
    FakeBotApi,
    SentMessage,
)
from .user import SimulatedUser

__all__ = [
    "ANONYMOUS_ADMIN_ID",
    "DEFAULT_TOKEN",
    "METHODS",
    "ApiCall",
    "FakeBotApi",
    "SentMessage",
    "SimulatedUser",
    "application_builder",
    "builders",
    "running",
]
