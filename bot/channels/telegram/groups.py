"""Groups and supergroups: admin commands, the help card, and a private way out.

A teacher or club admin adds the bot to a group. Members get a public answer that names
nobody and a button to a *private* chat; admins get ``/config``, ``/carte`` and ``/stats``.
Telegram decides who is an admin (``getChatAdministrators``); the list is kept in memory
for a few minutes and dropped whenever a membership changes.

The bot runs in privacy mode: here it reads commands and service messages, never the
conversation. It stores the group's settings under a pseudonym of the chat id, nothing
about members. Every group message goes through PTB's rate limiter (20/min per group).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    Message,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.channels.telegram.keyboards import markup
from bot.dialogue.group_texts import GroupTexts
from bot.domain.conversation import Keyboard
from bot.domain.group import (
    DEFAULT_STATS_K,
    STATS_DAYS,
    BotRights,
    GroupSettings,
    Origin,
    apply_choice,
    group_key,
    looks_like_token,
    new_settings,
)
from bot.errors import StorageError
from bot.storage.base import Storage

log = logging.getLogger(__name__)

ADMIN_TTL = 300.0  # seconds an admin list is trusted without asking Telegram again
GREET_INTERVAL = 300.0  # at most one greeting per group in this many seconds
GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
GONE = (ChatMember.LEFT, ChatMember.BANNED)

# Command names (with their English aliases) and what each does in a group.
HELP = ("aide", "help", "start")
EMERGENCY = ("urgence", "emergency")
CARD = ("carte", "card")
CONFIG = ("config", "settings")
STATS = ("stats",)
ADMIN_ONLY = frozenset(CARD + CONFIG + STATS)
COMMANDS = HELP + EMERGENCY + CARD + CONFIG + STATS

# Telegram's command menus in groups (French, the default language, like the private one).
MEMBER_MENU = (("aide", "Parler en privé avec Relais"), ("urgence", "Numéros d'urgence"))
ADMIN_MENU = (
    *MEMBER_MENU,
    ("carte", "Publier et épingler la carte d'aide"),
    ("config", "Réglages de Relais dans ce groupe"),
    ("stats", "Conversations ouvertes depuis ce groupe (anonyme)"),
)


class AdminCache:
    """Who administers each group, for ``ttl`` seconds. In memory only, never stored."""

    def __init__(self, ttl: float = ADMIN_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.clock = ttl, clock
        self._lists: dict[int, tuple[float, frozenset[int]]] = {}

    def get(self, chat_id: int) -> frozenset[int] | None:
        found = self._lists.get(chat_id)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def put(self, chat_id: int, admin_ids: Iterable[int]) -> None:
        self._lists[chat_id] = (self.clock() + self.ttl, frozenset(admin_ids))

    def drop(self, *chat_ids: int) -> None:
        for chat_id in chat_ids:
            self._lists.pop(chat_id, None)


async def find_origin(storage: Storage, payload: str) -> Origin | None:
    """The group a ``/start <payload>`` deep link comes from, or ``None`` (no payload,
    a forged or unknown token, a group the bot has left): then the chat starts as usual."""
    if not looks_like_token(payload):
        return None
    settings = await storage.group_by_token(payload)
    return None if settings is None else Origin(settings.key, settings.locale)


def command_name(text: str) -> str:
    """``/Aide@relais_bot args`` → ``aide``."""
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower() if text.startswith("/") else ""


def _in_group(update: object) -> bool:
    chat = update.effective_chat if isinstance(update, Update) else None
    return chat is not None and chat.type in GROUP_TYPES


class _GroupCallbacks(CallbackQueryHandler[Any, Any]):
    """Every button press on a message in a group, whatever its data: a press there must
    never reach the private dialogue, whose answers would then be posted to the group."""

    def check_update(self, update: object) -> bool | object | None:
        return _in_group(update) and super().check_update(update)


class _GroupMembers(ChatMemberHandler[Any, Any]):
    """Membership changes in groups only (a private ``my_chat_member`` is a block)."""

    def check_update(self, update: object) -> bool:
        return _in_group(update) and super().check_update(update)


@dataclass
class GroupChats:
    """The handlers for groups, sharing storage, texts and the pseudonym secret."""

    storage: Storage
    texts: GroupTexts
    secret: str
    stats_k: int = DEFAULT_STATS_K
    admins: AdminCache = field(default_factory=AdminCache)
    _greeted: dict[int, float] = field(default_factory=dict)
    # Groups whose card this process has written or rewritten. A card pinned by an
    # earlier version keeps that version's words (an "open now" that went stale, texts
    # reviewed since) until rewritten: once per group, at its first command after a start.
    _cards_written: set[int] = field(default_factory=set)

    # -- settings and rights ------------------------------------------------------------

    async def settings_for(
        self, chat_id: int, now: dt.datetime, *, keep: bool = True
    ) -> GroupSettings:
        """The group's settings; defaults (in the deployment's language) the first time,
        saved when ``keep`` (a deep link handed out must resolve). A refused command
        passes ``keep=False``: it changes nothing, not even that."""
        key = group_key(self.secret, chat_id)
        settings = await self.storage.get_group(key)
        if settings is None:
            locale = self.texts.catalog.locales.default
            settings = new_settings(self.secret, chat_id, locale)
            if keep:
                await self.storage.save_group(settings, now)
        return settings

    async def is_admin(self, bot: Bot, message: Message) -> bool:
        """Telegram's word: the creator and administrators, including an anonymous admin
        posting as the group itself. A channel posting into the group is not an admin."""
        if message.sender_chat is not None:
            return message.sender_chat.id == message.chat.id
        user = message.from_user
        return user is not None and await self.user_is_admin(bot, message.chat.id, user.id)

    async def user_is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        admins = self.admins.get(chat_id)
        if admins is None:
            try:
                members = await bot.get_chat_administrators(chat_id)
            except TelegramError:  # ask about this one person instead; no answer: no
                try:
                    member = await bot.get_chat_member(chat_id, user_id)
                except TelegramError:
                    return False
                return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)
            admins = frozenset(m.user.id for m in members)
            self.admins.put(chat_id, admins)
        return user_id in admins

    async def rights(self, bot: Bot, chat_id: int) -> BotRights:
        """What the bot itself may do here, to tell admins which right is missing."""
        try:
            me = await bot.get_chat_member(chat_id, bot.id)
        except TelegramError:
            return BotRights(admin=False, pin=False, delete=False)
        if isinstance(me, ChatMemberOwner):
            return BotRights(admin=True, pin=True, delete=True)
        if isinstance(me, ChatMemberAdministrator):
            return BotRights(True, bool(me.can_pin_messages), bool(me.can_delete_messages))
        return BotRights(admin=False, pin=False, delete=False)

    # -- sending ------------------------------------------------------------------------

    async def say(
        self,
        bot: Bot,
        chat_id: int,
        text: str,
        keyboard: Keyboard = (),
        *,
        topic: int | None = None,
    ) -> Message | None:
        """Post in the group (in the forum ``topic`` asked from); never raises. Not a
        reply to anyone: a reply would point at the member who asked."""
        try:
            return await bot.send_message(
                chat_id, text, reply_markup=markup(keyboard), message_thread_id=topic
            )
        except ChatMigrated as exc:  # the service message may not have reached us yet
            await self.migrate(chat_id, exc.new_chat_id)
            with contextlib.suppress(TelegramError):
                return await bot.send_message(exc.new_chat_id, text, reply_markup=markup(keyboard))
        except Forbidden:
            log.info("the bot may no longer write in a group; message dropped")
        except TelegramError as exc:
            log.warning("a group message was refused: %s", type(exc).__name__)
        return None

    async def tidy(
        self,
        bot: Bot,
        message: Message,
        settings: GroupSettings,
        admin: bool,
        topic: int | None = None,
    ) -> None:
        """Discretion: delete the command once answered, so the group keeps no trace of
        who asked. Only admins hear about a missing right (they can grant it)."""
        if not settings.discreet:
            return
        try:
            await message.delete()
        except TelegramError:
            log.info("could not delete a command in a group (missing right?)")
            if admin:
                text = self.texts.t(settings.locale, "group.delete_failed")
                await self.say(bot, message.chat.id, text, topic=topic)

    async def pin(self, bot: Bot, chat_id: int, message_id: int, *, on: bool = True) -> bool:
        try:
            if on:
                await bot.pin_chat_message(chat_id, message_id, disable_notification=True)
            else:
                await bot.unpin_chat_message(chat_id, message_id)
        except TelegramError:
            return False
        return True

    def private_button(self, bot: Bot, settings: GroupSettings) -> Keyboard:
        return self.texts.private_button(settings, bot.username)

    async def rewrite_card(
        self, bot: Bot, chat_id: int, settings: GroupSettings, now: dt.datetime
    ) -> None:
        """Put the card already posted in the group's language and current words."""
        if settings.card_message_id is None:
            return
        text = self.texts.card(settings)
        try:
            await bot.edit_message_text(
                text,
                chat_id=chat_id,
                message_id=settings.card_message_id,
                reply_markup=markup(self.private_button(bot, settings)),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("the help card could not be rewritten: %s", exc.message)
                if "not found" in exc.message.lower():  # an admin deleted it: forget it
                    with contextlib.suppress(StorageError):  # or try again next start
                        await self.storage.save_group(settings.with_(card_message_id=None), now)
        except TelegramError as exc:
            log.info("the help card could not be rewritten: %s", type(exc).__name__)

    # -- commands -----------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any of our commands in a group, addressed to us (``/aide@otherbot`` never gets
        here: PTB's CommandHandler checks the bot name)."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.text:
            return
        now = dt.datetime.now(dt.UTC)
        if not await self.storage.claim_update(update.update_id, now):
            return  # a redelivery: it was answered the first time
        bot = context.bot
        name = command_name(message.text)
        admin = name in ADMIN_ONLY and await self.is_admin(bot, message)
        refused = name in ADMIN_ONLY and not admin
        settings = await self.settings_for(chat.id, now, keep=not refused)
        topic = message.message_thread_id if message.is_topic_message else None
        private = self.private_button(bot, settings)
        if refused:
            text = self.texts.t(settings.locale, "group.admins_only")
            await self.say(bot, chat.id, text, topic=topic)
        elif name in HELP or name in EMERGENCY:
            if name in HELP:
                text = self.texts.help(settings, now)
            else:
                text = self.texts.emergency(settings, now)
            await self.say(bot, chat.id, text, private, topic=topic)
        elif name in CARD:
            await self.post_card(bot, chat.id, settings, now, topic=topic)
        elif name in CONFIG:
            text, keyboard = self.texts.config(settings, await self.rights(bot, chat.id))
            await self.say(bot, chat.id, text, keyboard, topic=topic)
        elif name in STATS:
            week, month = [
                await self.storage.count_origin(settings.key, now - dt.timedelta(days=days))
                for days in STATS_DAYS
            ]
            text = self.texts.stats(settings, week, month, self.stats_k)
            await self.say(bot, chat.id, text, topic=topic)
        # /config shows missing rights itself; elsewhere an admin is told once it fails.
        await self.tidy(bot, message, settings, admin=admin and name not in CONFIG, topic=topic)
        if chat.id not in self._cards_written and not refused and name not in CARD:
            self._cards_written.add(chat.id)  # after the answer, which must not wait for it
            await self.rewrite_card(bot, chat.id, settings, now)

    async def post_card(
        self,
        bot: Bot,
        chat_id: int,
        settings: GroupSettings,
        now: dt.datetime,
        *,
        topic: int | None = None,
    ) -> None:
        """Post the help card, pin it (replacing the previous card's pin) if asked to."""
        text = self.texts.card(settings)
        sent = await self.say(bot, chat_id, text, self.private_button(bot, settings), topic=topic)
        if sent is None:
            return
        previous = settings.card_message_id
        await self.storage.save_group(settings.with_(card_message_id=sent.message_id), now)
        self._cards_written.add(chat_id)
        if not settings.pin_card:
            return
        if not await self.pin(bot, chat_id, sent.message_id):
            notice = self.texts.t(settings.locale, "group.pin_failed")
            await self.say(bot, chat_id, notice, topic=topic)
        elif previous is not None and previous != sent.message_id:
            await self.pin(bot, chat_id, previous, on=False)

    # -- /config buttons ----------------------------------------------------------------

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button pressed in a group. Only admins change anything; everyone gets an
        answer, so nobody's app is left with a spinner."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        now = dt.datetime.now(dt.UTC)
        if not await self.storage.claim_update(update.update_id, now):
            return
        bot = context.bot
        settings = await self.settings_for(chat.id, now, keep=False)  # saved if changed
        if not await self.user_is_admin(bot, chat.id, query.from_user.id):
            notice = self.texts.t(settings.locale, "group.config.admins_only")
            with contextlib.suppress(TelegramError):
                await query.answer(notice, show_alert=True)
            return
        changed = apply_choice(settings, query.data or "", self.texts.catalog.locales.codes)
        if changed != settings:
            await self.storage.save_group(changed, now)
            await self.follow_up(bot, chat.id, settings, changed, now)
        with contextlib.suppress(TelegramError):
            await query.answer(self.texts.t(changed.locale, "group.config.saved"))
        if isinstance(query.message, Message):
            text, keyboard = self.texts.config(changed, await self.rights(bot, chat.id))
            try:
                await query.message.edit_text(text, reply_markup=markup(keyboard))
            except TelegramError as exc:  # "not modified" after a stale press, mostly
                log.info("the settings message was not updated: %s", type(exc).__name__)

    async def follow_up(
        self,
        bot: Bot,
        chat_id: int,
        before: GroupSettings,
        after: GroupSettings,
        now: dt.datetime,
    ) -> None:
        """Make the existing card match new settings: pinned or not, in the new language."""
        card = after.card_message_id
        if card is None:
            return
        if before.pin_card != after.pin_card:
            await self.pin(bot, chat_id, card, on=after.pin_card)  # /config shows rights
        if before.locale != after.locale:
            await self.rewrite_card(bot, chat_id, after, now)

    # -- membership and service messages ------------------------------------------------

    async def on_my_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was added to a group (introduce itself) or removed (forget the group)."""
        change = update.my_chat_member
        if change is None:
            return
        chat_id = change.chat.id
        self.admins.drop(chat_id)
        now = dt.datetime.now(dt.UTC)
        old, new = change.old_chat_member.status, change.new_chat_member.status
        if new in GONE:
            await self.storage.delete_group(group_key(self.secret, chat_id))
            self._greeted.pop(chat_id, None)
            self._cards_written.discard(chat_id)
            return
        if old not in GONE or not await self.storage.claim_update(update.update_id, now):
            return  # a promotion or a change of rights: nothing to say
        settings = await self.storage.get_group(group_key(self.secret, chat_id))
        if settings is None:  # the group's language: that of the admin who added the bot
            locale = self.texts.catalog.locales.resolve(change.from_user.language_code)
            settings = new_settings(self.secret, chat_id, locale)
            await self.storage.save_group(settings, now)
        await self.say(context.bot, chat_id, self.texts.t(settings.locale, "group.added"))

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone's status changed (promoted, demoted, left): re-ask who the admins are."""
        if update.chat_member is not None:
            self.admins.drop(update.chat_member.chat.id)

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The group became a supergroup (a new chat id): its settings follow it. Both
        service messages (old chat, new chat) arrive; the second finds nothing to move."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            await self.migrate(message.chat.id, message.migrate_to_chat_id)
        elif message.migrate_from_chat_id is not None:
            await self.migrate(message.migrate_from_chat_id, message.chat.id)

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        old, new = group_key(self.secret, old_chat_id), group_key(self.secret, new_chat_id)
        if await self.storage.move_group(old, new):
            log.info("a group became a supergroup; its settings followed it")
        self.admins.drop(old_chat_id, new_chat_id)

    async def on_new_members(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Newcomers (people, not bots): one line pointing to help, if the admins want it.
        It names nobody, and comes at most once every few minutes."""
        message = update.effective_message
        if message is None or not any(not u.is_bot for u in message.new_chat_members):
            return
        chat_id = message.chat.id
        now = dt.datetime.now(dt.UTC)
        settings = await self.settings_for(chat_id, now)
        last = self._greeted.get(chat_id)
        if not settings.greet or (last is not None and time.monotonic() - last < GREET_INTERVAL):
            return
        if not await self.storage.claim_update(update.update_id, now):
            return
        self._greeted[chat_id] = time.monotonic()
        bot = context.bot
        await self.say(
            bot, chat_id, self.texts.greeting(settings), self.private_button(bot, settings)
        )


def add_group_handlers(application: Application, groups: GroupChats) -> None:  # type: ignore[type-arg]
    """Register the group handlers. They only ever see group and supergroup chats; add
    them before the private ones so that every press on a group message lands here."""
    in_groups = filters.ChatType.GROUPS
    application.add_handler(
        CommandHandler(COMMANDS, groups.on_command, filters=in_groups & filters.UpdateType.MESSAGE)
    )
    application.add_handler(
        MessageHandler(in_groups & filters.StatusUpdate.MIGRATE, groups.on_migrate)
    )
    application.add_handler(
        MessageHandler(in_groups & filters.StatusUpdate.NEW_CHAT_MEMBERS, groups.on_new_members)
    )
    application.add_handler(_GroupCallbacks(groups.on_press))
    application.add_handler(_GroupMembers(groups.on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(_GroupMembers(groups.on_member, ChatMemberHandler.CHAT_MEMBER))


async def set_group_menus(bot: Bot) -> None:
    """Telegram's command menu in groups: /aide and /urgence for all, admin commands for
    admins. A comfort, never a reason to refuse to start."""
    try:
        await bot.set_my_commands(
            [BotCommand(c, d) for c, d in MEMBER_MENU], scope=BotCommandScopeAllGroupChats()
        )
        await bot.set_my_commands(
            [BotCommand(c, d) for c, d in ADMIN_MENU], scope=BotCommandScopeAllChatAdministrators()
        )
    except TelegramError as exc:
        log.warning("could not set the group command menus: %s", type(exc).__name__)
