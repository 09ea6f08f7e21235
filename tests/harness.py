"""Running the real Relais Application against the fake Bot API, as production does."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.app import allowed_updates, build_application
from bot.dialogue.service import Dialogue
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi, running
from tests.fakebotapi.inprocess import InProcessRequest

# Every instant the tests can produce, for reading all statistics back.
EVER = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))

App = Application[Any, Any, Any, Any, Any, Any]


@asynccontextmanager
async def relais(api: FakeBotApi, dialogue: Dialogue, **options: Any) -> AsyncIterator[App]:
    """Our real Application polling the fake server, started the way ``run_polling`` does
    (``initialize``, then ``post_init``; ``shutdown``, then ``post_shutdown``).
    ``options`` go to ``build_application`` (e.g. ``group_stats_k``)."""
    app = build_application(api.token, dialogue, SECRET, base_url=api.base_url, **options)
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    processor = app.update_processor
    try:
        async with running(app, api, allowed_updates=allowed_updates()):
            # Settle only once no update is queued or being handled, not merely quiet.
            api.busy = lambda: (
                app.update_queue.qsize() > 0 or (getattr(processor, "chats_in_flight", 0) > 0)
            )
            yield app
    finally:
        api.busy = None
        await app.post_shutdown(app)


@asynccontextmanager
async def relais_in_process(
    api: FakeBotApi, dialogue: Dialogue, **options: Any
) -> AsyncIterator[App]:
    """Our real Application answered by the fake server without HTTP: each update the
    test sends goes straight to ``process_update`` and each Bot API call to
    :meth:`FakeBotApi.call`. For tests of what the bot says and stores; polling, webhook
    and network faults need :func:`relais`."""
    app = build_application(api.token, dialogue, SECRET, request=InProcessRequest(api), **options)
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    await app.start()

    async def deliver(update: dict[str, Any]) -> None:
        await app.process_update(Update.de_json(update, app.bot))

    api.deliver = deliver
    try:
        yield app
    finally:
        api.deliver = None
        await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)
