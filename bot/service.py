"""One turn of a conversation for any channel: load, decide, save, then reply.

State is saved *before* the channel sends anything, so a crash after the save replays
nothing and a crash before it loses nothing: the person's next press finds them where
they were. A concurrent write by another replica (``ConflictError``) makes us re-read
and decide again, so no answer is lost and no step skipped.
"""

from __future__ import annotations

import datetime as dt
import logging

from bot.conversation import Event, Outcome
from bot.engine import Engine
from bot.errors import ConflictError
from bot.privacy import new_session_id
from bot.storage.base import Storage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class Dialogue:
    """The engine bound to storage; what every channel adapter calls."""

    def __init__(self, engine: Engine, storage: Storage) -> None:
        self.engine = engine
        self.storage = storage

    async def handle(
        self, user_key: str, language_code: str | None, event: Event, now: dt.datetime
    ) -> Outcome:
        """Apply ``event`` for ``user_key`` and persist the result; return what to say."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            stored = await self.storage.load(user_key)
            if stored is None:
                conversation = self.engine.new_conversation(language_code, new_session_id())
            else:
                conversation = stored.conversation
            outcome = self.engine.advance(conversation, event, now)
            try:
                await self.storage.save(
                    user_key,
                    outcome.conversation,
                    expected_version=stored.version if stored else None,
                    stats=outcome.stats,
                    now=now,
                )
            except ConflictError:
                log.info("conversation changed concurrently; re-applying (attempt %d)", attempt)
                continue
            return outcome
        raise ConflictError(f"gave up after {MAX_ATTEMPTS} concurrent changes")

    async def forget(self, user_key: str) -> int:
        return await self.storage.forget(user_key)
