"""Glue for running a real python-telegram-bot ``Application`` against :class:`FakeBotApi`.

Why: starting and, above all, *stopping* a PTB application in a test has an exact
order (updater, then application, then shutdown) and a few traps — a forgotten
``updater.stop()`` leaves a long poll and an httpx client behind, which ``-W error``
turns into failures in an unrelated test.  Keeping that order in one place lets the
end-to-end tests focus on behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram.ext import Application, ApplicationBuilder

from .server import FakeBotApi

__all__ = ["application_builder", "running"]


def application_builder(api: FakeBotApi) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """``ApplicationBuilder`` wired to the fake server (token and base_url)."""
    return ApplicationBuilder().token(api.token).base_url(api.base_url)


@asynccontextmanager
async def running(
    application: Application[Any, Any, Any, Any, Any, Any],
    api: FakeBotApi | None = None,
    *,
    poll_timeout: int = 1,
    poll_interval: float = 0.0,
    allowed_updates: list[str] | None = None,
    drop_pending_updates: bool | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Initialize, start and poll; on exit stop the updater, the app, and shut down.

    ``poll_timeout`` is the long-poll ``timeout`` sent to ``getUpdates``; keep it short (1 s)
    so a test never waits long for PTB's own shutdown. With ``api``, returns only once the
    first ``getUpdates`` arrived: before that, ``settle`` cannot tell that a pushed update
    is still to be fetched (on a loaded machine a test's first message then saw no reply).
    """
    probe: Callable[[], bool] | None = None
    await application.initialize()
    try:
        await application.start()
        assert application.updater is not None, "build the Application with an Updater"
        await application.updater.start_polling(
            poll_interval=poll_interval,
            timeout=poll_timeout,
            allowed_updates=allowed_updates,
            drop_pending_updates=drop_pending_updates,
        )
        if api is not None:
            await api.wait_polling()
            if api.busy is None:
                # settle() then waits for queued and running handlers instead of trusting its
                # quiet window, which a handler pausing on a loaded machine outlasts.
                processor = application.update_processor
                api.busy = lambda: (
                    application.update_queue.qsize() > 0 or processor.current_concurrent_updates > 0
                )
                probe = api.busy
        yield application
    finally:
        if api is not None and probe is not None and api.busy is probe:
            api.busy = None
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
