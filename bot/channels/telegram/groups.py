"""Groups and supergroups on Telegram: updates in, Bot API calls out.

What to do is decided in ``bot.dialogue.groups`` (members get a public answer that names
nobody and a button to a *private* chat; admins get ``/config``, ``/carte``, ``/stats``).
Here: Telegram's word on who is an admin (``getChatAdministrators``, kept in memory for a
few minutes and dropped whenever a membership changes), what the bot may do, and the
calls. The bot runs in privacy mode: it reads commands and service messages, never the
conversation. Every group message goes through PTB's rate limiter (20/min per group).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
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
from bot.channels.telegram.retry import RetryPolicy, storage_reason
from bot.dialogue.group_service import GroupService
from bot.dialogue.groups import (
    COMMANDS,
    AnswerPress,
    BotAdded,
    BotRemoved,
    ChannelAction,
    ConfigPress,
    DeleteCommand,
    GroupCommand,
    GroupEvent,
    MembersJoined,
    Pin,
    PostCard,
    RewriteCard,
    Say,
    ShowConfig,
    Unpin,
)
from bot.domain.conversation import command_of
from bot.domain.group import BotRights
from bot.errors import StorageError

log = logging.getLogger(__name__)

ADMIN_TTL = 300.0  # seconds an admin list is trusted without asking Telegram again
GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)
GONE = (ChatMember.LEFT, ChatMember.BANNED)


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


def _in_group(update: object) -> bool:
    chat = update.effective_chat if isinstance(update, Update) else None
    return chat is not None and chat.type in GROUP_TYPES


class _GroupCallbacks(CallbackQueryHandler[Any, Any]):
    """Every button press on a message in a group, whatever its data: a press there must
    never reach the private dialogue, whose answers would then be posted to the group."""

    def check_update(self, update: object) -> bool | object | None:
        return _in_group(update) and super().check_update(update)


class PrivateCallbacks(CallbackQueryHandler[Any, Any]):
    """Every button press outside groups: a press on a group message must never reach the
    private dialogue, whose answers would then be posted to the group."""

    def check_update(self, update: object) -> bool | object | None:
        return not _in_group(update) and super().check_update(update)


class _GroupMembers(ChatMemberHandler[Any, Any]):
    """Membership changes in groups only (a private ``my_chat_member`` is a block)."""

    def check_update(self, update: object) -> bool:
        return _in_group(update) and super().check_update(update)


@dataclass
class GroupChats:
    """The group handlers: each update becomes a group event for the service, and the
    actions it returns become Bot API calls."""

    service: GroupService
    admins: AdminCache = field(default_factory=AdminCache)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    # -- what only Telegram knows -------------------------------------------------------

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

    # -- carrying out the actions -------------------------------------------------------

    async def carry_out(
        self,
        bot: Bot,
        chat_id: int,
        actions: list[ChannelAction],
        *,
        command: Message | None = None,
        query: CallbackQuery | None = None,
    ) -> None:
        """Each action as Bot API calls, in order; a Telegram failure never raises (a
        database failure noting a posted card does). ``command``: the member's message
        being answered; ``query``: the button press being answered."""
        now = dt.datetime.now(dt.UTC)
        for action in actions:
            match action:
                case Say():
                    await self.say(bot, chat_id, action)
                case PostCard():
                    sent = await self.say(
                        bot, chat_id, Say(action.text, action.keyboard, action.topic)
                    )
                    if sent is not None:
                        more = await self.service.card_posted(chat_id, action, sent.message_id, now)
                        await self.carry_out(bot, chat_id, more)
                case Pin():
                    if not await self.pin(bot, chat_id, action.message_id):
                        if action.otherwise is not None:
                            await self.say(bot, chat_id, action.otherwise)
                    elif action.then_unpin is not None:
                        await self.pin(bot, chat_id, action.then_unpin, on=False)
                case Unpin():
                    await self.pin(bot, chat_id, action.message_id, on=False)
                case DeleteCommand():
                    failed = command is not None and not await self.delete(command)
                    if failed and action.otherwise is not None:
                        await self.say(bot, chat_id, action.otherwise)
                case RewriteCard():
                    if not await self.rewrite_card(bot, chat_id, action):
                        await self.carry_out(
                            bot, chat_id, await self.service.card_missing(chat_id, action, now)
                        )
                case AnswerPress():
                    if query is not None:
                        with contextlib.suppress(TelegramError):
                            await query.answer(action.text, show_alert=action.alert)
                case ShowConfig():
                    if query is not None and isinstance(query.message, Message):
                        try:
                            await query.message.edit_text(
                                action.text, reply_markup=markup(action.keyboard)
                            )
                        except TelegramError as exc:  # "not modified" after a stale press
                            log.info("the settings message was not updated: %s", type(exc).__name__)

    async def say(self, bot: Bot, chat_id: int, say: Say) -> Message | None:
        """Post in the group (in the forum topic asked from); never raises."""
        keyboard = markup(say.keyboard)
        try:
            return await bot.send_message(
                chat_id, say.text, reply_markup=keyboard, message_thread_id=say.topic
            )
        except ChatMigrated as exc:  # the service message may not have reached us yet
            await self.migrate(chat_id, exc.new_chat_id)
            with contextlib.suppress(TelegramError):
                return await bot.send_message(exc.new_chat_id, say.text, reply_markup=keyboard)
        except Forbidden:
            log.info("the bot may no longer write in a group; message dropped")
        except TelegramError as exc:
            log.warning("a group message was refused: %s", type(exc).__name__)
        return None

    async def delete(self, message: Message) -> bool:
        try:
            await message.delete()
        except TelegramError:
            log.info("could not delete a command in a group (missing right?)")
            return False
        return True

    async def pin(self, bot: Bot, chat_id: int, message_id: int, *, on: bool = True) -> bool:
        try:
            if on:
                await bot.pin_chat_message(chat_id, message_id, disable_notification=True)
            else:
                await bot.unpin_chat_message(chat_id, message_id)
        except TelegramError:
            return False
        return True

    async def rewrite_card(self, bot: Bot, chat_id: int, card: RewriteCard) -> bool:
        """Edit the card; ``False`` only when it is gone (any other failure: try later)."""
        try:
            await bot.edit_message_text(
                card.text,
                chat_id=chat_id,
                message_id=card.message_id,
                reply_markup=markup(card.keyboard),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.info("the help card could not be rewritten: %s", exc.message)
                return "not found" not in exc.message.lower()
        except TelegramError as exc:
            log.info("the help card could not be rewritten: %s", type(exc).__name__)
        return True

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        await self.service.migrated(old_chat_id, new_chat_id, dt.datetime.now(dt.UTC))
        self.admins.drop(old_chat_id, new_chat_id)

    # -- updates ------------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any of our commands in a group, addressed to us (``/aide@otherbot`` never gets
        here: PTB's CommandHandler checks the bot name)."""
        await self._command(update, context, edited=False)

    async def on_edited_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One of our commands, changed by the member: its words are read again for
        crisis (``bot.dialogue.groups``: answered once per message and tier); without
        them nothing is said, and the database is not asked."""
        await self._command(update, context, edited=True)

    async def _command(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, *, edited: bool
    ) -> None:
        message, chat = update.effective_message, update.effective_chat
        command = command_of(message.text or "") if message is not None else None
        if message is None or chat is None or command is None:
            return
        bot = context.bot
        topic = message.message_thread_id if message.is_topic_message else None
        now = dt.datetime.now(dt.UTC)
        # The args: read, never kept.
        event = GroupCommand(command.name, topic, command.args, message.message_id, edited)
        if edited and not self.service.speaks_of_danger(event):
            return
        for pause in (*self.retry.storage, None):
            try:
                actions = await self.service.handle(
                    chat.id,
                    event,
                    now,
                    update_id=update.update_id,
                    bot_username=bot.username,
                    is_admin=partial(self.is_admin, bot, message),
                    rights=partial(self.rights, bot, chat.id),
                )
                break
            except StorageError as exc:
                # As in a private chat: never silence, 3018 instead, and words of crisis
                # answered without waiting for the retries.
                if pause is None or self.service.speaks_of_danger(event):
                    log.error(
                        "database unavailable (%s); sent 3018 to a group", storage_reason(exc)
                    )
                    fallback = self.service.unavailable(
                        chat.id, event, now, bot_username=bot.username
                    )
                    for say in fallback:  # words of crisis answered first, then 3018
                        await self.say(bot, chat.id, say)
                    raise  # nothing was claimed: Telegram's redelivery is answered
                log.warning(
                    "database unavailable (%s); retry in %.1f s", storage_reason(exc), pause
                )
                await asyncio.sleep(pause)
        await self.carry_out(bot, chat.id, actions, command=message)

    async def on_press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button pressed on a message in a group."""
        query, chat = update.callback_query, update.effective_chat
        if query is None or chat is None:
            return
        bot = context.bot
        try:
            actions = await self.service.handle(
                chat.id,
                ConfigPress(query.data or ""),
                dt.datetime.now(dt.UTC),
                update_id=update.update_id,
                bot_username=bot.username,
                is_admin=partial(self.user_is_admin, bot, chat.id, query.from_user.id),
                rights=partial(self.rights, bot, chat.id),
            )
        except StorageError:  # nothing changed: stop the spinner; the press can be redone
            with contextlib.suppress(TelegramError):
                await query.answer()
            raise
        await self.carry_out(bot, chat.id, actions, query=query)

    async def on_my_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was added to a group (introduce itself) or removed (forget the group);
        a promotion or a change of rights says nothing."""
        change = update.my_chat_member
        if change is None:
            return
        chat_id = change.chat.id
        self.admins.drop(chat_id)
        old, new = change.old_chat_member.status, change.new_chat_member.status
        event: GroupEvent
        if new in GONE:
            event = BotRemoved()
        elif old in GONE:
            event = BotAdded(change.from_user.language_code)
        else:
            return
        now = dt.datetime.now(dt.UTC)
        actions = await self.service.handle(chat_id, event, now, update_id=update.update_id)
        await self.carry_out(context.bot, chat_id, actions)

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone's status changed (promoted, demoted, left): re-ask who the admins are."""
        if update.chat_member is not None:
            self.admins.drop(update.chat_member.chat.id)

    async def on_migrate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The group became a supergroup (a new chat id). Both service messages (old chat,
        new chat) arrive; the second finds nothing to move."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            await self.migrate(message.chat.id, message.migrate_to_chat_id)
        elif message.migrate_from_chat_id is not None:
            await self.migrate(message.migrate_from_chat_id, message.chat.id)

    async def on_new_members(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Newcomers (people, not bots) may be greeted."""
        message = update.effective_message
        if message is None or not any(not u.is_bot for u in message.new_chat_members):
            return
        bot, chat_id = context.bot, message.chat.id
        actions = await self.service.handle(
            chat_id,
            MembersJoined(),
            dt.datetime.now(dt.UTC),
            update_id=update.update_id,
            bot_username=bot.username,
        )
        await self.carry_out(bot, chat_id, actions)


def add_group_handlers(application: Application, groups: GroupChats) -> None:  # type: ignore[type-arg]
    """Register the group handlers. They only ever see group and supergroup chats."""
    in_groups = filters.ChatType.GROUPS
    application.add_handler(
        CommandHandler(COMMANDS, groups.on_command, filters=in_groups & filters.UpdateType.MESSAGE)
    )
    # Edited commands: words of crisis added after sending count too (``allowed_updates``
    # asks Telegram for ``edited_message``).
    edited = in_groups & filters.UpdateType.EDITED_MESSAGE
    application.add_handler(CommandHandler(COMMANDS, groups.on_edited_command, filters=edited))
    application.add_handler(
        MessageHandler(in_groups & filters.StatusUpdate.MIGRATE, groups.on_migrate)
    )
    application.add_handler(
        MessageHandler(in_groups & filters.StatusUpdate.NEW_CHAT_MEMBERS, groups.on_new_members)
    )
    application.add_handler(_GroupCallbacks(groups.on_press))
    application.add_handler(_GroupMembers(groups.on_my_member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(_GroupMembers(groups.on_member, ChatMemberHandler.CHAT_MEMBER))
