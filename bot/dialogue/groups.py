"""What the bot does in a group, decided without Telegram or a database.

``GroupRules.decide`` is to groups what ``Engine.advance`` is to private chats: a group
event and what is known about the group (its settings, whether the sender is an admin,
the bot's own rights, the time) go in; the actions to take come out, in order. The group
service (``bot.dialogue.group_service``) gathers those facts and carries out the storage
actions; a channel adapter carries out the rest and never decides anything itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from bot.dialogue.group_texts import GroupTexts
from bot.domain.conversation import Keyboard
from bot.domain.crisis import CrisisHit, Tier
from bot.domain.disclosure import MonthCount
from bot.domain.group import DEFAULT_STATS_K, BotRights, GroupSettings, apply_choice

# Command names (with their English aliases) and what each does in a group.
HELP = ("aide", "help", "start")
EMERGENCY = ("urgence", "emergency")
CARD = ("carte", "card")
CONFIG = ("config", "settings")
STATS = ("stats",)
ADMIN_ONLY = frozenset(CARD + CONFIG + STATS)
COMMANDS = HELP + EMERGENCY + CARD + CONFIG + STATS


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupCommand:
    """One of ``COMMANDS`` posted in the group, addressed to the bot."""

    name: str
    topic: int | None = None  # the forum topic it was posted in
    args: str = ""  # what was typed after it: read for words of crisis, never kept
    message_id: int | None = None  # the member's message, to answer its words once
    edited: bool = False  # the member changed it: only words of crisis are answered


@dataclass(frozen=True)
class ConfigPress:
    """A button pressed on a message in the group (``/config`` buttons, or forged data)."""

    data: str


@dataclass(frozen=True)
class MembersJoined:
    """People (not bots) joined the group."""


@dataclass(frozen=True)
class BotAdded:
    """The bot was added; ``language_code`` is that of the admin who added it."""

    language_code: str | None


@dataclass(frozen=True)
class BotRemoved:
    """The bot left or was removed: the group is forgotten."""


@dataclass(frozen=True)
class ChatMigrated:
    """The group became a supergroup: its settings follow the new key."""

    new_key: str


@dataclass(frozen=True)
class CardPosted:
    """The card of a ``PostCard`` went out as ``message_id``."""

    card: PostCard
    message_id: int


@dataclass(frozen=True)
class CardMissing:
    """The card of a ``RewriteCard`` is gone (an admin deleted it)."""

    card: RewriteCard


GroupEvent = (
    GroupCommand
    | ConfigPress
    | MembersJoined
    | BotAdded
    | BotRemoved
    | ChatMigrated
    | CardPosted
    | CardMissing
)


@dataclass(frozen=True)
class Facts:
    """What is known about the group when an event arrives.

    ``known``: ``settings`` were read from storage (otherwise they are defaults, saved
    only when the event keeps them). ``admin``, ``rights`` and ``counts`` are looked up
    only when the event needs them (``needs_admin``, ``needs_rights``, ``needs_counts``).
    """

    settings: GroupSettings
    known: bool = True
    admin: bool = False
    rights: BotRights | None = None
    counts: tuple[MonthCount, ...] = ()  # conversations opened, per closed month (/stats)
    card_current: bool = True  # this process has written the card since it started
    greeted_recently: bool = False
    bot_username: str = ""
    removed: bool = False  # the bot was removed from the group: a late or redelivered update
    # The tiers of words of crisis already answered for this command's message (in memory).
    answered: frozenset[Tier] = frozenset()


# -- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Post in the group, never as a reply to anyone (that would point at who asked)."""

    text: str
    keyboard: Keyboard = ()
    topic: int | None = None


@dataclass(frozen=True)
class PostCard:
    """Post the help card; the channel reports its message id back (``CardPosted``)."""

    text: str
    keyboard: Keyboard
    topic: int | None
    settings: GroupSettings


@dataclass(frozen=True)
class Pin:
    """Pin ``message_id`` quietly; if that fails, ``otherwise``; if it works, unpin
    ``then_unpin`` (the previous card)."""

    message_id: int
    otherwise: Say | None = None
    then_unpin: int | None = None


@dataclass(frozen=True)
class Unpin:
    message_id: int


@dataclass(frozen=True)
class DeleteCommand:
    """Delete the member's command once answered; if that fails, ``otherwise``."""

    otherwise: Say | None = None


@dataclass(frozen=True)
class RewriteCard:
    """Edit the card already posted; when it is gone, the channel reports ``CardMissing``."""

    message_id: int
    text: str
    keyboard: Keyboard
    settings: GroupSettings


@dataclass(frozen=True)
class AnswerPress:
    """Answer the button press (stops the spinner); ``alert`` shows a dialog."""

    text: str
    alert: bool = False


@dataclass(frozen=True)
class ShowConfig:
    """Replace the pressed /config message with the settings as they are now."""

    text: str
    keyboard: Keyboard


@dataclass(frozen=True)
class Claim:
    """Claim the update in the ledger; stop here if it was handled before."""


@dataclass(frozen=True)
class SaveSettings:
    settings: GroupSettings
    added: bool = False  # the bot was added: lifts the group's removal


@dataclass(frozen=True)
class ForgetGroup:
    key: str


@dataclass(frozen=True)
class MoveGroup:
    old_key: str
    new_key: str


@dataclass(frozen=True)
class NoteCardCurrent:
    """Remember (in memory) that this process wrote the group's card."""


@dataclass(frozen=True)
class NoteGreeted:
    """Remember (in memory) that newcomers were just greeted."""


@dataclass(frozen=True)
class CountCrisis:
    """Count an answer to words of crisis (metrics and the event log: tier, source
    "group"), and remember which message it answered; never the words."""

    tier: Tier
    message_id: int | None = None


ChannelAction = (
    Say | PostCard | Pin | Unpin | DeleteCommand | RewriteCard | AnswerPress | ShowConfig
)
ServiceAction = (
    Claim | SaveSettings | ForgetGroup | MoveGroup | NoteCardCurrent | NoteGreeted | CountCrisis
)
GroupAction = ChannelAction | ServiceAction


def needs_settings(event: GroupEvent) -> bool:
    """Whether ``decide`` reads ``Facts.settings`` for this event (or only its key)."""
    return not isinstance(event, BotRemoved | ChatMigrated | CardPosted | CardMissing)


def needs_admin(event: GroupEvent) -> bool:
    return isinstance(event, ConfigPress) or (
        isinstance(event, GroupCommand) and event.name in ADMIN_ONLY
    )


def needs_rights(event: GroupEvent, admin: bool) -> bool:
    """The bot's rights are shown on the settings, to admins only."""
    return admin and (
        isinstance(event, ConfigPress) or (isinstance(event, GroupCommand) and event.name in CONFIG)
    )


def needs_counts(event: GroupEvent, admin: bool) -> bool:
    return admin and isinstance(event, GroupCommand) and event.name in STATS


class GroupRules:
    """The group decisions, with the texts they speak in."""

    def __init__(self, texts: GroupTexts, stats_k: int = DEFAULT_STATS_K) -> None:
        self.texts = texts
        self.stats_k = stats_k

    def decide(self, event: GroupEvent, facts: Facts, now: dt.datetime) -> list[GroupAction]:
        """The actions ``event`` calls for, in the order they are to be taken."""
        if facts.removed and not isinstance(event, BotAdded):
            return self._after_removal(event, facts, now)
        match event:
            case GroupCommand(edited=True):
                return self._edited(event, facts, now)
            case GroupCommand():
                return self._command(event, facts, now)
            case ConfigPress():
                return self._press(event, facts)
            case MembersJoined():
                return self._members_joined(facts)
            case BotAdded():
                keep: list[GroupAction] = (
                    [] if facts.known else [SaveSettings(facts.settings, added=True)]
                )
                added = self.texts.t(facts.settings.locale, "group.added")
                return [Claim(), *keep, Say(added)]
            case BotRemoved():
                return [ForgetGroup(facts.settings.key)]
            case ChatMigrated():
                return [MoveGroup(facts.settings.key, event.new_key)]
            case CardPosted():
                return self._card_posted(event)
            case CardMissing():
                return [SaveSettings(event.card.settings.with_(card_message_id=None))]

    def _command(self, event: GroupCommand, facts: Facts, now: dt.datetime) -> list[GroupAction]:
        name, topic, settings = event.name, event.topic, facts.settings
        admin = name in ADMIN_ONLY and facts.admin
        refused = name in ADMIN_ONLY and not admin
        actions: list[GroupAction] = [Claim()]
        if not facts.known and not refused:  # a deep link handed out must resolve
            actions.append(SaveSettings(settings))
        private = self.texts.private_button(settings, facts.bot_username)
        # Words of crisis after any of our commands are answered first, in the group
        # (never quoting them, naming no one), with the numbers and the private button.
        crisis = self.crisis(event, settings, facts.bot_username, now, facts.answered)
        actions += crisis
        if refused:  # changes nothing, not even a stale card
            actions.append(Say(self.texts.t(settings.locale, "group.admins_only"), topic=topic))
        elif name in HELP:
            if not crisis:  # the crisis answer already gives the private button
                actions.append(Say(self.texts.help(settings, now), private, topic))
        elif name in EMERGENCY:
            text, copy = self.texts.emergency(settings, now)
            actions.append(Say(text, (copy, *private), topic))
        elif name in CARD:
            actions.append(PostCard(self.texts.card(settings), private, topic, settings))
        elif name in CONFIG:
            rights = facts.rights or BotRights(admin=False, pin=False, delete=False)
            actions.append(Say(*self.texts.config(settings, rights), topic))
        elif name in STATS:
            actions.append(Say(self.texts.stats(settings, facts.counts, self.stats_k), topic=topic))
        if settings.discreet:
            # Only admins hear about a missing right (they can grant it); /config shows it.
            tell = admin and name not in CONFIG
            notice = Say(self.texts.t(settings.locale, "group.delete_failed"), topic=topic)
            actions.append(DeleteCommand(notice if tell else None))
        if not facts.card_current and not refused and name not in CARD:
            # A card pinned by an earlier version keeps its words (an "open now" gone
            # stale, texts reviewed since) until rewritten: after the answer, once.
            actions.append(NoteCardCurrent())
            actions.extend(self._rewrite(settings, facts.bot_username))
        return actions

    def _edited(self, event: GroupCommand, facts: Facts, now: dt.datetime) -> list[GroupAction]:
        """A command the member changed: what it asked for was answered when it was sent
        (a card or /config again would only repeat it), but words of crisis added or
        changed since are answered, once per message and tier: retouching an answered
        message says nothing more, a danger of another kind gets its own numbers."""
        settings = facts.settings
        crisis = self.crisis(event, settings, facts.bot_username, now, facts.answered)
        if not crisis:
            return []
        actions: list[GroupAction] = [Claim()]
        if not facts.known:  # the private button's link must resolve
            actions.append(SaveSettings(settings))
        actions += crisis
        if settings.discreet:  # the words leave the group, silently
            actions.append(DeleteCommand())
        return actions

    def _after_removal(
        self, event: GroupEvent, facts: Facts, now: dt.datetime
    ) -> list[GroupAction]:
        """An update from a group the bot was removed from, come late or again: nothing
        saved (the group's row and link would come back), no card, no settings; a member's
        /aide, /urgence or words of crisis are still answered, should the bot be there."""
        if not isinstance(event, GroupCommand):
            return []
        if event.name in ADMIN_ONLY or event.edited:
            crisis = self.crisis(event, facts.settings, facts.bot_username, now, facts.answered)
            return [Claim(), *crisis] if crisis else []
        actions = self._command(event, replace(facts, known=True, card_current=True), now)
        return [a for a in actions if isinstance(a, Claim | Say | CountCrisis)]

    def crisis(
        self,
        event: GroupEvent,
        settings: GroupSettings,
        bot_username: str,
        now: dt.datetime,
        answered: frozenset[Tier] = frozenset(),
    ) -> list[Say | CountCrisis]:
        """The answer to words of crisis typed after a command, or nothing (nor when their
        tier was ``answered`` for that message already). Needs no storage: also what a
        group gets first while the database is down."""
        hit = self._hit(event)
        if hit is None or not isinstance(event, GroupCommand) or hit.tier in answered:
            return []
        text, copy = self.texts.crisis(settings, hit, now)
        keyboard = (copy, *self.texts.private_button(settings, bot_username))
        return [Say(text, keyboard, event.topic), CountCrisis(hit.tier, event.message_id)]

    def speaks_of_danger(self, event: GroupEvent) -> bool:
        """Whether words of crisis came with a command (answered without storage)."""
        return self._hit(event) is not None

    def _hit(self, event: GroupEvent) -> CrisisHit | None:
        if not isinstance(event, GroupCommand) or not event.args.strip():
            return None
        return self.texts.catalog.crisis.detect(event.args)

    def _card_posted(self, event: CardPosted) -> list[GroupAction]:
        settings, sent = event.card.settings, event.message_id
        previous = settings.card_message_id
        actions: list[GroupAction] = [
            SaveSettings(settings.with_(card_message_id=sent)),
            NoteCardCurrent(),
        ]
        if settings.pin_card:
            notice = Say(self.texts.t(settings.locale, "group.pin_failed"), topic=event.card.topic)
            unpin = previous if previous is not None and previous != sent else None
            actions.append(Pin(sent, otherwise=notice, then_unpin=unpin))
        return actions

    def _press(self, event: ConfigPress, facts: Facts) -> list[GroupAction]:
        """Only admins change anything; everyone gets an answer, so nobody's app is left
        with a spinner. Unknown or forged data changes nothing."""
        before = facts.settings
        if not facts.admin:
            notice = self.texts.t(before.locale, "group.config.admins_only")
            return [Claim(), AnswerPress(notice, alert=True)]
        after = apply_choice(before, event.data, self.texts.catalog.locales.codes)
        actions: list[GroupAction] = [Claim()]
        if after != before:
            actions.append(SaveSettings(after))
            card = after.card_message_id
            if card is not None and before.pin_card != after.pin_card:
                actions.append(Pin(card) if after.pin_card else Unpin(card))
            if before.locale != after.locale:
                actions.extend(self._rewrite(after, facts.bot_username))
        actions.append(AnswerPress(self.texts.t(after.locale, "group.config.saved")))
        rights = facts.rights or BotRights(admin=False, pin=False, delete=False)
        actions.append(ShowConfig(*self.texts.config(after, rights)))
        return actions

    def _members_joined(self, facts: Facts) -> list[GroupAction]:
        """One line pointing to help, if the admins want it, at most every few minutes.
        It names nobody."""
        settings = facts.settings
        actions: list[GroupAction] = [] if facts.known else [SaveSettings(settings)]
        if not settings.greet or facts.greeted_recently:
            return actions
        private = self.texts.private_button(settings, facts.bot_username)
        return [*actions, Claim(), NoteGreeted(), Say(self.texts.greeting(settings), private)]

    def _rewrite(self, settings: GroupSettings, bot_username: str) -> list[GroupAction]:
        """Put the card already posted in the group's language and current words."""
        if settings.card_message_id is None:
            return []
        private = self.texts.private_button(settings, bot_username)
        return [RewriteCard(settings.card_message_id, self.texts.card(settings), private, settings)]
