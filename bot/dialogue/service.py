"""One turn of a conversation for any channel: load, decide, save, then reply.

State is saved *before* the channel sends anything, so a crash after the save replays
nothing and a crash before it loses nothing: the person's next press finds them where
they were. A concurrent write by another replica (``ConflictError``) makes us re-read
and decide again, so no answer is lost and no step skipped.

Given the Telegram ``update_id``, the save also claims it in the update ledger, in the
same transaction: a redelivered update raises ``AlreadyProcessed`` instead of being
applied twice, and its channel sends nothing. The one window left is a crash after the
commit and before the replies went out: then the redelivery is recognised and says
nothing, and the person's next message finds them where they were (a lost reply, never
a doubled one nor a skipped step).

With a ``ConversationCache`` (polling mode: one process writes), a turn starts from the
conversation this process saved last instead of reading it back; the version check of
the save still catches any other writer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.dialogue.conversation_cache import ConversationCache
from bot.dialogue.engine import Engine, words_of
from bot.dialogue.group_service import GroupService
from bot.dialogue.group_texts import GroupTexts
from bot.dialogue.groups import GroupRules
from bot.dialogue.menus import Menu, menus
from bot.domain.conversation import Event, Outcome, Reply
from bot.domain.group import DEFAULT_STATS_K, Origin, looks_like_token
from bot.domain.policy import SENT_RETENTION, hour_of
from bot.errors import AlreadyProcessed, ConflictError, StorageError
from bot.privacy import new_session_id
from bot.storage.base import Nudge, Storage, Stored

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8


class DialogueObserver(Protocol):
    """What turns report, for metrics (``bot.metrics.Metrics`` implements it)."""

    def saved(self, outcome: Outcome) -> None:
        """A turn was saved; its replies are about to be sent."""

    def unsaved(self, outcome: Outcome) -> None:
        """The database failed; these replies (crisis answer, apology) go out unsaved."""

    def crisis_answer(self, tier: str, source: str) -> None:
        """Words of crisis were answered outside a conversation (after a group command)."""

    def conflict(self) -> None:
        """Another writer saved the conversation first; the turn is re-applied."""

    def duplicate(self) -> None:
        """A redelivered update was recognised and ignored."""


@dataclass(frozen=True)
class DueReminder:
    """A reminder to send now: to the chat sealed in ``reach``, for ``user_key``."""

    user_key: str
    reach: str
    reply: Reply


class Dialogue:
    """The engine bound to storage; what every channel adapter calls."""

    def __init__(
        self,
        engine: Engine,
        storage: Storage,
        observer: DialogueObserver | None = None,
        *,
        cache: ConversationCache | None = None,
    ) -> None:
        self.engine = engine
        self.storage = storage
        self.observer = observer
        self.cache = cache if cache is not None else ConversationCache(size=0)

    async def handle(
        self,
        user_key: str,
        language_code: str | None,
        event: Event,
        now: dt.datetime,
        *,
        update_id: int | None = None,
        origin: Origin | None = None,
        reach: str | None = None,
    ) -> Outcome:
        """Apply ``event`` for ``user_key`` and persist the result; return what to say.

        ``origin``: the conversation was opened from a group's link; it continues in the
        group's language and its statistics count for that group (never naming anyone).
        ``reach``: the chat id sealed, to arm the one reminder when the person is left
        mid-flow (any other turn cancels a pending one).
        Raise ``AlreadyProcessed`` when ``update_id`` was handled before (say nothing)."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            stored = self.cache.get(user_key) if attempt == 1 else None
            if stored is None:
                stored = await self.storage.load(user_key)
            if stored is None or self.expired(stored, now):
                # Idle too long: start afresh, as promised in /confidentialite (the row is
                # overwritten below, and `relais purge` deletes the ones never touched again).
                conversation = self.engine.new_conversation(
                    language_code, new_session_id(), hour_of(now)
                )
            else:
                conversation = stored.conversation
            if origin is not None:
                locale = self.engine.catalog.locales.resolve(origin.locale)
                conversation = conversation.with_(origin=origin.group_key, locale=locale)
            outcome = self.engine.advance(conversation, event, now)
            try:
                version = await self.storage.save(
                    user_key,
                    outcome.conversation,
                    expected_version=stored.version if stored else None,
                    stats=outcome.stats,
                    now=now,
                    update_id=update_id,
                    nudge=self.nudge(outcome, now, reach),
                )
            except ConflictError:
                self.cache.drop(user_key)
                log.info("conversation changed concurrently; re-applying (attempt %d)", attempt)
                if self.observer:
                    self.observer.conflict()
                continue
            except AlreadyProcessed:
                log.info("update delivered twice; the second copy is ignored")
                if self.observer:
                    self.observer.duplicate()
                raise
            except StorageError:
                self.cache.drop(user_key)
                raise
            if outcome.erase_messages:
                outcome = replace(outcome, erase_ids=await self.erasable(user_key, now))
            if outcome.forget:
                self.cache.drop(user_key)
                await self.storage.forget(user_key)
            else:
                self.cache.put(user_key, Stored(outcome.conversation, version, now))
            if self.observer:
                self.observer.saved(outcome)
            return outcome
        raise ConflictError(f"gave up after {MAX_ATTEMPTS} concurrent changes")

    def urgent(self, text: str) -> bool:
        """Whether ``text`` may speak of danger (the crisis detector): never to be dropped."""
        return self.engine.catalog.crisis.detect(text) is not None

    def speaks_of_danger(self, event: Event) -> bool:
        """Whether ``event`` carries words of crisis: their answer needs no database, so a
        failing one is not retried before it (``unavailable``)."""
        words = words_of(event)
        return words is not None and self.urgent(words[0])

    def menus(self) -> list[Menu]:
        """Telegram's command menus, one per language and scope (``setMyCommands``)."""
        return menus(self.engine.catalog)

    def locale(self, language_code: str | None) -> str:
        """The language the bot speaks for ``language_code`` (the default if it has none)."""
        return self.engine.catalog.locales.resolve(language_code)

    # -- the ids of the messages a private chat shows, for /effacer ---------------------

    def record_sent(self, user_key: str, message_ids: Sequence[int], now: dt.datetime) -> None:
        """Note the ids of messages the person's chat now shows (written in a batch)."""
        self.storage.record_sent(user_key, message_ids, now)

    async def erase(
        self,
        user_key: str,
        outcome: Outcome,
        now: dt.datetime,
        delete: Callable[[int], Awaitable[bool]],
        also: Sequence[int] = (),
    ) -> Outcome:
        """/effacer, and /oubli before it forgets: ``delete`` each message of this chat
        that can still go (``outcome.erase_ids``, read by ``handle`` within Telegram's 48 h
        and before a forget erased them, and ``also``), then forget their ids. Return the
        outcome with its confirmation first: how many went and how many could not (a phone
        may be seen by someone else)."""
        ids = {*outcome.erase_ids, *also}
        deleted = failed = 0
        for message_id in sorted(ids):
            if await delete(message_id):
                deleted += 1
            else:
                failed += 1
        if not outcome.forget:  # a forget dropped them already
            await self.storage.drop_sent(user_key)
        texts, locale = self.engine.catalog.locales, outcome.conversation.locale
        text = texts.text(locale, "command.erased", deleted=deleted)
        if failed:
            text += "\n" + texts.text(locale, "command.erase_failed", failed=failed)
        replies = [Reply(text)]
        if outcome.replies:  # after /oubli: what the engine said, in the same message
            first, *rest = outcome.replies
            replies = [Reply(text + "\n" + first.text, first.keyboard), *rest]
        return replace(outcome, replies=tuple(replies))

    # -- housekeeping -------------------------------------------------------------------

    async def due_reminders(self, now: dt.datetime) -> list[DueReminder]:
        """Claim the reminders due at ``now`` (each goes to one replica only) of people
        still left with a question and quiet since they were armed."""
        quiet_since = now - dt.timedelta(minutes=self.engine.policy.nudge_minutes)
        return [
            DueReminder(r.user_key, r.reach, self.engine.reminder(r.conversation, now))
            for r in await self.storage.claim_reminders(now, quiet_since=quiet_since)
            if self.engine.waiting_for_answer(r.conversation)
        ]

    async def close_months(self, now: dt.datetime) -> list[str]:
        """Count the months that are over and not counted yet (``Storage.close_months``):
        hourly, so /stats and the dashboard find a month ready soon after it ends. A bad
        EXPORT_TIMEZONE is logged, not raised: the purge after this keeps its promise."""
        tz = self._months_tz()
        return [] if tz is None else await self.storage.close_months(tz, now)

    def _months_tz(self) -> ZoneInfo | None:
        """EXPORT_TIMEZONE as a zone, or ``None`` (logged) when it is not one."""
        try:
            return ZoneInfo(self.engine.policy.months_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("EXPORT_TIMEZONE is not a time zone: months not counted")
            return None

    async def purge(self, now: dt.datetime) -> int:
        """Delete what the retention policy no longer allows to keep; return rows gone.
        Months that are over are counted first, before their events can go
        (``bot/storage/periods.py``)."""
        await self.close_months(now)
        events_before, idle_before = self.engine.policy.purge_before(now)
        return await self.storage.purge(
            events_before=events_before, idle_before=idle_before, now=now
        )

    async def connect(self) -> None:
        """Open the storage (connect, migrate) before the first turn."""
        await self.storage.open()

    async def disconnect(self) -> None:
        """Write what is pending and close the storage, after the last turn."""
        await self.storage.close()

    def groups(self, secret: str, stats_k: int = DEFAULT_STATS_K) -> GroupService:
        """The group service on the same storage and catalog."""
        rules = GroupRules(GroupTexts(self.engine.catalog), stats_k)
        tz = self._months_tz() or ZoneInfo("Europe/Paris")  # /stats still answers
        return GroupService(self.storage, rules, secret, months_tz=tz, observer=self.observer)

    async def origin(self, payload: str) -> Origin | None:
        """The group a ``/start <payload>`` deep link comes from, or ``None`` (no payload,
        a forged or unknown token, a group the bot has left): then the chat starts as usual."""
        if not looks_like_token(payload):
            return None
        settings = await self.storage.group_by_token(payload)
        return None if settings is None else Origin(settings.key, settings.locale)

    def unavailable(self, language_code: str | None, event: Event, now: dt.datetime) -> Outcome:
        """What to say when ``handle`` failed for want of a database: the answer to words
        of crisis first (detecting them needs no storage), then a calm apology with 3018."""
        outcome = self.engine.unavailable(language_code, event, now)
        if self.observer:
            self.observer.unsaved(outcome)
        return outcome

    async def ping(self) -> None:
        """Raise ``StorageError`` while the database does not answer (health checks)."""
        await self.storage.ping()

    async def forget(self, user_key: str) -> int:
        self.cache.drop(user_key)
        return await self.storage.forget(user_key)

    async def close(self, user_key: str, now: dt.datetime) -> None:
        """End the conversation, as /stop does, without a word: the person blocked the bot.

        Nothing is left to resume or to remind them of; if they come back, they start again.
        """
        self.cache.drop(user_key)
        for _ in range(MAX_ATTEMPTS):
            stored = await self.storage.load(user_key)
            if stored is None or not stored.conversation.active:
                return
            closed = stored.conversation.with_(flow=None, step=None, history=(), answers={})
            try:
                await self.storage.save(user_key, closed, expected_version=stored.version, now=now)
                return
            except ConflictError:
                continue

    async def erasable(self, user_key: str, now: dt.datetime) -> tuple[int, ...]:
        """Ids of the messages of this chat that Telegram still lets a bot delete (48 h).

        A failure here leaves the messages on screen but never stops a forget."""
        since = now - dt.timedelta(seconds=SENT_RETENTION)
        try:
            return tuple(await self.storage.sent_messages(user_key, since))
        except StorageError as exc:
            log.warning("could not read the messages to delete (%s)", type(exc).__name__)
            return ()

    def expired(self, stored: Stored, now: dt.datetime) -> bool:
        idle = dt.timedelta(hours=self.engine.policy.state_idle_hours)
        return stored.updated_at < now - idle

    def nudge(self, outcome: Outcome, now: dt.datetime, reach: str | None) -> Nudge | None:
        """The reminder this turn arms: only when the person is left with a question."""
        minutes = self.engine.policy.nudge_minutes
        if minutes <= 0 or reach is None or outcome.forget:
            return None
        if not self.engine.waiting_for_answer(outcome.conversation):
            return None
        return Nudge(now + dt.timedelta(minutes=minutes), reach)
