"""One group event for any channel: gather the facts, decide, save, then hand back what
to do in the chat.

The channel names the chat and passes the two lookups only it can make (is the sender an
admin, what may the bot do there); they are asked only when the decision needs them.
Groups are stored under a pseudonym of the chat id, nothing about members. What is kept
in memory here (when newcomers were last greeted, whose card this process wrote, which
messages' words of crisis were answered) is never stored. An answer to words of crisis is
logged as an event with its tier alone: no group key, no language, no message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.dialogue.group_stats import group_months
from bot.dialogue.groups import (
    BotAdded,
    CardMissing,
    CardPosted,
    ChannelAction,
    ChatMigrated,
    Claim,
    CountCrisis,
    Facts,
    ForgetGroup,
    GroupAction,
    GroupCommand,
    GroupEvent,
    GroupRules,
    MoveGroup,
    NoteCardCurrent,
    NoteGreeted,
    PostCard,
    RewriteCard,
    SaveSettings,
    Say,
    needs_admin,
    needs_counts,
    needs_rights,
    needs_settings,
)
from bot.domain.conversation import Source, Stat
from bot.domain.crisis import Tier
from bot.domain.disclosure import MonthCount
from bot.domain.group import BotRights, GroupSettings, group_key, new_settings
from bot.errors import AlreadyProcessed, StorageError
from bot.storage.base import Storage

log = logging.getLogger(__name__)

GREET_INTERVAL = 300.0  # at most one greeting per group in this many seconds
# Messages whose words of crisis were answered, remembered so an edit repeating them says
# nothing more: the most recent ones (an edit comes soon after, if ever), in memory only.
ANSWERED_KEPT = 4096

Lookup = Callable[[], Awaitable[bool]]
RightsLookup = Callable[[], Awaitable[BotRights]]


async def _no() -> bool:
    return False


async def _none() -> BotRights:
    return BotRights(admin=False, pin=False, delete=False)


PARIS = ZoneInfo("Europe/Paris")


class CrisisCounter(Protocol):
    """Where answers to words of crisis are counted (``bot.metrics.Metrics``)."""

    def crisis_answer(self, tier: str, source: str) -> None: ...


class GroupService:
    """The group rules bound to storage; what a channel's group handlers call."""

    def __init__(
        self,
        storage: Storage,
        rules: GroupRules,
        secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        months_tz: ZoneInfo = PARIS,
        observer: CrisisCounter | None = None,
    ) -> None:
        self.storage, self.rules, self.secret, self.clock = storage, rules, secret, clock
        self.observer = observer
        self.months_tz = months_tz  # /stats months are cut where the exports cut them
        self._greeted: dict[int, float] = {}
        self._cards_written: set[int] = set()  # chats whose card this process wrote
        # (chat, message) -> tiers of words of crisis answered for it, oldest first.
        self._answered: OrderedDict[tuple[int, int], frozenset[Tier]] = OrderedDict()

    async def handle(
        self,
        chat_id: int,
        event: GroupEvent,
        now: dt.datetime,
        *,
        update_id: int | None = None,
        bot_username: str = "",
        is_admin: Lookup = _no,
        rights: RightsLookup = _none,
    ) -> list[ChannelAction]:
        """Decide ``event`` in ``chat_id`` and save what it changes; return what to do in
        the chat, in order. Nothing when ``update_id`` was handled before; only safety
        answers in a group the bot was removed from (the database remembers it for a day,
        for every replica)."""
        settings, known = await self._settings(chat_id, event)
        # Only a group without a row can have been removed: one more read, for a group's
        # first event (or a late one), never for a known group's.
        removed = not known and needs_settings(event) and not isinstance(event, BotAdded)
        removed = removed and await self.storage.group_removed(settings.key)
        admin = needs_admin(event) and await is_admin()
        counts: tuple[MonthCount, ...] = ()
        if needs_counts(event, admin):
            k = self.rules.stats_k
            counts = tuple(await group_months(self.storage, settings.key, self.months_tz, now, k))
        last = self._greeted.get(chat_id)
        facts = Facts(
            settings,
            known=known,
            admin=admin,
            rights=await rights() if needs_rights(event, admin) else None,
            counts=counts,
            card_current=chat_id in self._cards_written,
            greeted_recently=last is not None and self.clock() - last < GREET_INTERVAL,
            bot_username=bot_username,
            removed=removed,
            answered=self._answered_for(chat_id, event),
        )
        return await self._carry_out(chat_id, self.rules.decide(event, facts, now), now, update_id)

    def unavailable(
        self, chat_id: int, event: GroupEvent, now: dt.datetime, *, bot_username: str = ""
    ) -> list[Say]:
        """What a group gets when the database does not answer: the answer to words of
        crisis first (it needs no storage), then the calm message with 3018 (not for an
        edit: it asked for nothing else). The group's own language is stored in that
        database: the deployment's is used. Nothing is logged: the log is in that database."""
        defaults = new_settings(self.secret, chat_id, self.rules.texts.catalog.locales.default)
        answered = self._answered_for(chat_id, event)
        crisis = self.rules.crisis(event, defaults, bot_username, now, answered)
        topic = event.topic if isinstance(event, GroupCommand) else None
        calm = Say(self.rules.texts.unavailable(now), topic=topic)
        for action in crisis:
            if isinstance(action, CountCrisis):
                self._count(action)
                self._note_answered(chat_id, action)
        said = [a for a in crisis if isinstance(a, Say)]
        edited = isinstance(event, GroupCommand) and event.edited
        return said if edited else [*said, calm]

    def speaks_of_danger(self, event: GroupEvent) -> bool:
        """Whether words of crisis came with ``event`` (see ``Dialogue.speaks_of_danger``)."""
        return self.rules.speaks_of_danger(event)

    def _count(self, action: CountCrisis) -> None:
        if self.observer is not None:
            self.observer.crisis_answer(action.tier, Source.GROUP)

    def _answered_for(self, chat_id: int, event: GroupEvent) -> frozenset[Tier]:
        if not isinstance(event, GroupCommand) or event.message_id is None:
            return frozenset()
        return self._answered.get((chat_id, event.message_id), frozenset())

    def _note_answered(self, chat_id: int, action: CountCrisis) -> None:
        if action.message_id is None:
            return
        key = (chat_id, action.message_id)
        self._answered[key] = self._answered.pop(key, frozenset()) | {action.tier}
        while len(self._answered) > ANSWERED_KEPT:
            self._answered.popitem(last=False)

    async def card_posted(
        self, chat_id: int, card: PostCard, message_id: int, now: dt.datetime
    ) -> list[ChannelAction]:
        """The channel posted ``card`` as ``message_id``: remember it, pin it if asked."""
        return await self.handle(chat_id, CardPosted(card, message_id), now)

    async def card_missing(
        self, chat_id: int, card: RewriteCard, now: dt.datetime
    ) -> list[ChannelAction]:
        """The card to rewrite is gone: forget its id, or try again at the next start."""
        with contextlib.suppress(StorageError):
            return await self.handle(chat_id, CardMissing(card), now)
        return []

    async def migrated(self, old_chat_id: int, new_chat_id: int, now: dt.datetime) -> None:
        """The group became a supergroup: its settings and statistics follow it."""
        await self.handle(old_chat_id, ChatMigrated(group_key(self.secret, new_chat_id)), now)

    async def _settings(self, chat_id: int, event: GroupEvent) -> tuple[GroupSettings, bool]:
        """The group's settings and whether they were stored; else defaults, in the
        language of the admin who added the bot or the deployment's."""
        locales = self.rules.texts.catalog.locales
        if needs_settings(event):
            stored = await self.storage.get_group(group_key(self.secret, chat_id))
            if stored is not None:
                return stored, True
        language = event.language_code if isinstance(event, BotAdded) else None
        locale = locales.resolve(language) if language else locales.default
        return new_settings(self.secret, chat_id, locale), False

    async def _carry_out(
        self,
        chat_id: int,
        actions: list[GroupAction],
        now: dt.datetime,
        update_id: int | None,
    ) -> list[ChannelAction]:
        """Take the storage and memory actions now; return the others, in order.

        The update is claimed with the work, as a private turn is: with the first settings
        saved after the claim, or the answer to words of crisis logged, in one
        transaction, else alone. A database failure before then leaves it unclaimed, so
        Telegram's redelivery is answered."""
        channel: list[ChannelAction] = []
        claim = None
        for n, action in enumerate(actions):
            match action:
                case Claim():
                    if update_id is None:
                        continue
                    if any(isinstance(a, SaveSettings | CountCrisis) for a in actions[n + 1 :]):
                        claim = update_id  # with that save, or that event
                    elif not await self.storage.claim_update(update_id, now):
                        return []  # a redelivery: it was answered the first time
                case SaveSettings():
                    try:
                        await self.storage.save_group(
                            action.settings, now, update_id=claim, added=action.added
                        )
                    except AlreadyProcessed:
                        return []
                    claim = None
                case ForgetGroup():
                    await self.storage.delete_group(action.key, now)
                    self._greeted.pop(chat_id, None)
                    self._cards_written.discard(chat_id)
                case MoveGroup():
                    if await self.storage.move_group(action.old_key, action.new_key):
                        log.info("a group became a supergroup; its settings followed it")
                case NoteCardCurrent():
                    self._cards_written.add(chat_id)
                case NoteGreeted():
                    self._greeted[chat_id] = self.clock()
                case CountCrisis():
                    # The tier alone, as a private answer's (dimension: the source).
                    stat = Stat("emergency_shown", dimension=Source.GROUP, choice=action.tier)
                    try:
                        await self.storage.record_events([stat], now, update_id=claim)
                    except AlreadyProcessed:
                        return []
                    claim = None
                    self._count(action)
                    self._note_answered(chat_id, action)
                case _:
                    channel.append(action)
        return channel
