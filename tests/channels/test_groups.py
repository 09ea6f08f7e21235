"""Relais in a group, through the real PTB Application and the fake Bot API (in-process).

A group with an admin (the creator) and a member. Each command by each, the deep link
from the group opening a private conversation that counts for the group (and names
nobody), the permission errors, the upgrade to a supergroup and the bot's removal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from bot.dialogue.service import Dialogue
from bot.domain.conversation import Conversation, Stat
from bot.domain.group import group_key
from bot.errors import StorageError
from bot.storage.base import Storage
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi, SentMessage, SimulatedUser, builders
from tests.harness import EVER, relais_in_process
from tests.texts import Texts

GROUP = -4001  # a basic group
SUPER = -1004001  # the same group once upgraded to a supergroup
ADMIN, MEMBER, TEEN = 501, 502, 503
# Seconds without a request before the bot counts as done. In-process, an update is
# handled when ``dispatch`` returns; what it starts in the background (a card rewrite after
# the answer) still needs a moment.
QUIET = 0.05


def bot(api: FakeBotApi, dialogue: Dialogue, **options: Any) -> AbstractAsyncContextManager[Any]:
    """Relais on the fake server. Telegram allows 20 messages a minute in a group, and PTB's
    limiter counts every call naming the group: the tests make far more, so the limit is
    lifted here (the limiter would only delay them), and so is the one help card a minute
    (``test_backlog`` has it)."""
    return relais_in_process(
        api, dialogue, group_messages_per_minute=100_000, group_help_window=0, **options
    )


class Group:
    """A group seen from the test: people post commands, we read what the bot posted."""

    def __init__(self, api: FakeBotApi, chat_id: int = GROUP, chat_type: str = "group") -> None:
        self.api, self.chat_id, self.chat_type = api, chat_id, chat_type
        self.last_command_id = 0

    def seat(self, *, pin: bool = True, delete: bool = True) -> None:
        """The creator, a member, and the bot as an administrator with these rights."""
        self.api.add_chat(self.chat_id, chat_type=self.chat_type)
        self.api.set_chat_member(self.chat_id, ADMIN, "creator")
        self.api.set_chat_member(self.chat_id, MEMBER, "member")
        self.api.set_chat_member(
            self.chat_id,
            self.api.bot_id,
            "administrator",
            can_pin_messages=pin,
            can_delete_messages=delete,
        )

    @property
    def messages(self) -> list[SentMessage]:
        return self.api.messages(self.chat_id)

    async def push(self, update: dict[str, Any], expect: int = 0) -> list[SentMessage]:
        """Deliver an update; return the bot messages posted or edited in the group, once
        there are at least ``expect`` of them and the bot has gone quiet."""
        revision = self.api.revision
        await self.api.dispatch(update)
        await self.api.settle(quiet=QUIET)
        for _ in range(250):  # a loaded machine can be slower than QUIET; up to 5 s more
            if len(self.api.messages_changed_since(self.chat_id, revision)) >= expect:
                break
            await asyncio.sleep(0.02)
        await self.api.settle(quiet=QUIET)
        return self.api.messages_changed_since(self.chat_id, revision)

    async def command(
        self,
        user_id: int,
        command: str,
        *,
        to: str | None = "relais_test_bot",
        sender_chat: int | None = None,
        topic: int | None = None,
        expect: int = 1,
    ) -> list[SentMessage]:
        """``/command@to`` by ``user_id`` (or as ``sender_chat``), in a forum ``topic``;
        ``expect``: how many bot messages it should bring (see ``push``)."""
        self.last_command_id = self.api.allocate_message_id(self.chat_id)
        update = builders.group_command(
            self.chat_id,
            user_id,
            command,
            chat_type=self.chat_type,
            bot_username=to,
            sender_chat=sender_chat,
            message_id=self.last_command_id,
        )
        if topic is not None:
            update["message"].update(message_thread_id=topic, is_topic_message=True)
        return await self.push(update, expect)

    async def press(self, user_id: int, message: SentMessage, label: str) -> dict[str, Any]:
        """Tap a button of a bot message in the group; return the callback's answer."""
        button = message.button(label)
        assert button is not None, f"no {label!r} in {message.buttons()}"
        update = builders.callback(user_id, message, str(button["callback_data"]))
        query_id = str(update["callback_query"]["id"])
        await self.push(update)
        for _ in range(250):
            if query_id in self.api.callback_answers:
                break
            await asyncio.sleep(0.02)
        await self.api.settle(quiet=QUIET)
        return self.api.callback_answers[query_id]

    def command_deleted(self) -> bool:
        return self.api.is_deleted(self.chat_id, self.last_command_id)


def person(api: FakeBotApi, user_id: int, language_code: str = "fr") -> SimulatedUser:
    """Someone in their private chat with the bot."""
    return SimulatedUser(api, user_id, language_code=language_code, quiet=QUIET)


def private_link(message: SentMessage) -> str:
    """The deep-link token behind the "talk privately" button."""
    url = next(b["url"] for row in message.inline_keyboard for b in row if "url" in b)
    parsed = urlparse(url)
    assert parsed.netloc == "t.me" and parsed.path == "/relais_test_bot"
    return parse_qs(parsed.query)["start"][0]


async def origins(storage: Storage) -> set[str | None]:
    return {e.origin for e in await storage.fetch_events(*EVER)}


async def test_a_member_asks_for_help_and_talks_privately(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts, en: Texts
) -> None:
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    async with bot(api, dialogue):
        # The admin switches the group to English.
        config = await group.command(ADMIN, "config")
        assert fr.starts(config[0].text, "group.config.title")
        answer = await group.press(ADMIN, config[0], en("meta.name"))
        assert answer["text"] == en("group.config.saved")
        assert en.starts(group.messages[-1].text, "group.config.title")
        assert [b for b in group.messages[-1].buttons()[0] if "✓" in b] == [f"✓ {en('meta.name')}"]

        replies = await group.command(MEMBER, "aide")
        assert len(replies) == 1
        public = replies[0]
        assert en.starts(public.text, "group.help") and "3018" in public.text
        assert public.buttons() == [[en("group.button.private")]]
        # Not a reply to the member's message (that would point at them), and gone.
        assert not {"reply_parameters", "reply_to_message_id"} & set(public.params)
        assert group.command_deleted()

        token = private_link(public)
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token)
        assert str(abs(GROUP)) not in token and token not in group_key(SECRET, GROUP)

        # The member opens the private chat: it starts in the group's language (their own
        # Telegram is French) and its statistics count for the group.
        teen = person(api, MEMBER, language_code="fr")
        first = await teen.send(f"/start {token}")
        assert en.starts(first[0].text, "welcome") and "3018" in first[0].text
        await teen.press(teen.buttons()[0][0])
        assert await origins(dialogue.storage) == {group_key(SECRET, GROUP)}
        # Nothing about it was said in the group.
        assert group.messages[-1] is public

        # /stats: the last three closed months; this month's conversation shows once it ends
        stats = await group.command(ADMIN, "stats")
        assert en.starts(stats[0].text, "group.stats")
        assert stats[0].text.count(en("group.fewer_than", k=5)) == 1 + 3  # legend, 3 months


async def test_stats_count_conversations_from_the_group_per_closed_month(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    """Two conversations from the group last month (one restarted), two not from it:
    /stats says 2 for that month with k = 2, as the exports would. (With one conversation
    not from the group, the group's 2 is hidden too: 3 started minus 2 would give it away.)"""
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    last_month = dt.datetime.now(dt.UTC).replace(day=1) - dt.timedelta(days=3)
    key = group_key(SECRET, GROUP)
    # Written before the bot starts: its first purge counts last month, for good.
    await dialogue.connect()
    opened = (("s1", key), ("s1", key), ("s2", key), ("s3", None), ("s4", None))
    for n, (session, origin) in enumerate(opened):
        conversation = Conversation(locale="fr", origin=origin, session=session)
        started = [Stat("flow_started", flow="start")]
        await dialogue.storage.save(
            f"u{n}", conversation, expected_version=None, stats=started, now=last_month
        )
    async with bot(api, dialogue, group_stats_k=2):
        stats = await group.command(ADMIN, "stats")
        line = fr("group.stats_line", month=last_month.strftime("%m/%Y"), count="2")
        assert line in stats[0].text


async def test_admin_commands_are_refused_to_members_without_any_change(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts, en: Texts
) -> None:
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    async with bot(api, dialogue):
        for command in ("config", "carte", "stats"):
            replies = await group.command(MEMBER, command)
            assert [m.text for m in replies] == [fr("group.admins_only")]
            assert group.command_deleted()  # discretion is on by default
        assert api.pinned(GROUP) == []
        assert await dialogue.storage.get_group(group_key(SECRET, GROUP)) is None

        # A channel posting into the group is not an admin either.
        refused = await group.command(ADMIN, "config", sender_chat=-100777)
        assert refused[0].text == fr("group.admins_only")

        # The admin's card: 3018, hours, chat link, private button, pinned. No "open now":
        # it stays pinned, and would tell a child at midnight that 3018 answers.
        card = (await group.command(ADMIN, "carte"))[0]
        assert fr.starts(card.text, "group.card") and "https://3018.fr" in card.text
        assert fr("resources.fr-3018.hours") in card.text and not fr.keys(card.text, "status.")
        assert card.buttons() == [[fr("group.button.private")]]
        assert api.pinned(GROUP) == [card.message_id]
        assert group.command_deleted()

        # An anonymous admin (posting as the group) gets the settings.
        config = (await group.command(ADMIN, "config", sender_chat=GROUP))[0]
        assert fr.starts(config.text, "group.config.title")
        assert not fr.keys(config.text, "group.rights.")
        assert config.buttons()[1:] == [
            [fr("group.config.pin", value=fr("group.config.on"))],
            [fr("group.config.discreet", value=fr("group.config.on"))],
            [fr("group.config.greet", value=fr("group.config.off"))],
        ]
        # A member pressing a settings button is told no, and nothing changes.
        discretion_on = fr("group.config.discreet", value=fr("group.config.on"))
        before = await dialogue.storage.get_group(group_key(SECRET, GROUP))
        assert before is not None and before.card_message_id == card.message_id
        answer = await group.press(MEMBER, config, discretion_on)
        assert answer["show_alert"] is True
        assert answer["text"] == fr("group.config.admins_only")
        assert config.edits == 0
        assert await dialogue.storage.get_group(group_key(SECRET, GROUP)) == before

        # The admin turns discretion off: members' commands now stay.
        await group.press(ADMIN, config, discretion_on)
        assert config.buttons()[2] == [fr("group.config.discreet", value=fr("group.config.off"))]
        help_answer = (await group.command(MEMBER, "aide"))[0]
        assert not group.command_deleted()
        # The answer of the moment says whether 3018 is open; the card is left as it is.
        assert fr.keys(help_answer.text, "status.") and card.edits == 0
        # The admin unpins the card from the settings.
        await group.press(ADMIN, config, fr("group.config.pin", value=fr("group.config.on")))
        assert api.pinned(GROUP) == []
        # A new language rewrites the card already posted.
        await group.press(ADMIN, config, en("meta.name"))
        assert en.starts(card.text, "group.card") and en("resources.fr-3018.hours") in card.text
        assert card.buttons() == [[en("group.button.private")]]


async def test_a_card_pinned_by_an_earlier_version_is_rewritten_once(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    """A card keeps the words of the version that wrote it (an "open now" gone stale,
    texts reviewed since) until the group's first command after the next start."""
    group = Group(api)
    group.seat()
    async with bot(api, dialogue_factory()):
        card = (await group.command(ADMIN, "carte"))[0]
    current = card.text
    card.text = "🛟 … 3018 · tous les jours 9h–23h · 🟢 ouvert maintenant, jusqu'à 23:00"
    async with bot(api, dialogue_factory()):  # a restart, with the newer version
        await group.command(MEMBER, "config")  # refused: changes nothing, the card neither
        assert card.edits == 0
        changed = await group.command(MEMBER, "urgence", expect=2)
        [answer] = [m for m in changed if m.message_id != card.message_id]
        assert "112" in (answer.text or "")
        assert answer.revision < card.revision  # the emergency numbers first, then the card
        assert card.text == current and card.edits == 1
        assert card.buttons() == [[fr("group.button.private")]]
        await group.command(MEMBER, "aide")
        assert card.edits == 1  # once per start, not on every command


async def test_missing_rights_are_named_for_admins_only(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    group = Group(api)
    group.seat(pin=False, delete=False)
    async with bot(api, dialogue_factory()):
        replies = await group.command(ADMIN, "carte", expect=3)
        texts = [m.text for m in replies]
        assert len(texts) == 3 and "3018" in texts[0]
        assert texts[1:] == [fr("group.pin_failed"), fr("group.delete_failed")]
        assert api.pinned(GROUP) == [] and not group.command_deleted()

        config = (await group.command(ADMIN, "config"))[0].text
        assert fr("group.rights.pin") in config and fr("group.rights.delete") in config

        # A member is answered as usual, and not bothered with the bot's rights.
        replies = await group.command(MEMBER, "aide")
        assert len(replies) == 1 and "3018" in replies[0].text
        assert not group.command_deleted()

        # Not an administrator at all: say so.
        api.set_chat_member(GROUP, api.bot_id, "member")
        config = (await group.command(ADMIN, "config"))[0].text
        assert fr("group.rights.not_admin") in config


async def test_admin_list_is_refreshed_when_a_member_is_promoted(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    group = Group(api)
    group.seat()
    async with bot(api, dialogue_factory()):
        assert (await group.command(MEMBER, "stats"))[0].text == fr("group.admins_only")
        asked = len(api.calls_of("getChatAdministrators"))
        # Within the cache's lifetime Telegram is not asked again...
        assert (await group.command(MEMBER, "stats"))[0].text == fr("group.admins_only")
        assert len(api.calls_of("getChatAdministrators")) == asked
        # ...but a promotion is seen at once.
        await group.push(builders.chat_member_update(GROUP, MEMBER, "member", "administrator"))
        assert fr.starts((await group.command(MEMBER, "stats"))[0].text, "group.stats")
        await group.push(builders.chat_member_update(GROUP, MEMBER, "administrator", "member"))
        assert (await group.command(MEMBER, "stats"))[0].text == fr("group.admins_only")


async def test_upgrade_to_supergroup_keeps_settings_link_and_statistics(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], en: Texts
) -> None:
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    async with bot(api, dialogue):
        config = (await group.command(ADMIN, "config"))[0]
        await group.press(ADMIN, config, en("meta.name"))
        token = private_link((await group.command(MEMBER, "aide"))[0])
        await person(api, 601).send(f"/start {token}")

        await group.push(builders.migrate(GROUP, SUPER))
        supergroup = Group(api, SUPER, "supergroup")
        await supergroup.push(builders.migrated_from(SUPER, GROUP))
        supergroup.seat()

        assert await dialogue.storage.get_group(group_key(SECRET, GROUP)) is None
        moved = await dialogue.storage.get_group(group_key(SECRET, SUPER))
        assert moved is not None and moved.token == token and moved.locale == "en"
        assert await origins(dialogue.storage) == {group_key(SECRET, SUPER)}

        # Cards already posted keep working, and count for the supergroup.
        await person(api, 602).send(f"/start {token}")
        assert await origins(dialogue.storage) == {group_key(SECRET, SUPER)}
        stats = await supergroup.command(ADMIN, "stats")
        assert en.starts(stats[0].text, "group.stats")  # English, as set before
        assert private_link((await supergroup.command(MEMBER, "aide"))[0]) == token


async def test_an_answer_to_an_upgraded_group_follows_it(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    """Telegram refuses a message to the old group id (``migrate_to_chat_id``) when the
    upgrade's service message has not reached the bot yet: the answer and settings follow."""
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    api.add_chat(SUPER, chat_type="supergroup")
    async with bot(api, dialogue):
        token = private_link((await group.command(MEMBER, "aide"))[0])
        api.fail_next(
            "sendMessage",
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            parameters={"migrate_to_chat_id": SUPER},
        )
        await group.command(MEMBER, "aide", expect=0)  # answered in SUPER
        assert "3018" in api.messages(SUPER)[-1].text
        assert private_link(api.messages(SUPER)[-1]) == token
        assert await dialogue.storage.get_group(group_key(SECRET, GROUP)) is None
        assert await dialogue.storage.get_group(group_key(SECRET, SUPER)) is not None


async def test_removed_bot_forgets_the_group_and_its_link(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    async with bot(api, dialogue):
        token = private_link((await group.command(MEMBER, "aide"))[0])
        posted = len(group.messages)
        update = builders.chat_member_update(
            GROUP, api.bot_id, "administrator", "left", is_bot=True, actor_id=ADMIN
        )
        assert await group.push(update) == []
        assert await dialogue.storage.get_group(group_key(SECRET, GROUP)) is None
        # The old link now starts an ordinary private chat, counted for no group.
        first = await person(api, TEEN).send(f"/start {token}")
        assert "3018" in first[0].text
        assert await origins(dialogue.storage) == {None}
        assert len(group.messages) == posted


async def test_bot_added_greets_admins_then_newcomers_when_asked(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], en: Texts
) -> None:
    dialogue = dialogue_factory()
    group = Group(api)
    async with bot(api, dialogue):
        added = builders.chat_member_update(
            GROUP, api.bot_id, "left", "member", is_bot=True, actor_id=ADMIN
        )
        added["my_chat_member"]["from"]["language_code"] = "en"
        hello = await group.push(added, expect=1)
        assert [m.text for m in hello] == [en("group.added")]
        group.seat()
        settings = await dialogue.storage.get_group(group_key(SECRET, GROUP))
        assert settings is not None and settings.locale == "en" and not settings.greet

        assert await group.push(builders.new_members(GROUP, [701])) == []  # greeting is off
        config = (await group.command(ADMIN, "config"))[0]
        await group.press(ADMIN, config, en("group.config.greet", value=en("group.config.off")))
        greeting = await group.push(builders.new_members(GROUP, [702]), expect=1)
        assert [m.text for m in greeting] == [en("group.greet")]
        assert greeting[0].buttons() == [[en("group.button.private")]]
        assert "Test" not in greeting[0].text  # nobody is named
        assert await group.push(builders.new_members(GROUP, [703])) == []  # not every time

        # The command menus: members see /aide and /urgence, admins also their own.
        menus = {
            call.params["scope"]["type"]: [c["command"] for c in call.params["commands"]]
            for call in api.calls_of("setMyCommands")
            if "scope" in call.params
        }
        assert menus["all_group_chats"] == ["aide", "urgence"]
        assert menus["all_chat_administrators"] == ["aide", "urgence", "carte", "config", "stats"]


async def test_emergency_in_a_forum_topic_answers_at_once_in_that_topic(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    group = Group(api, SUPER, "supergroup")
    group.seat()
    async with bot(api, dialogue_factory()):
        replies = await group.command(MEMBER, "urgence", to=None, topic=77)
        for number in ("112", "17", "114", "3114", "119"):
            assert number in replies[0].text
        *_, private = replies[0].buttons()  # after the numbers to copy
        assert private == [fr("group.button.private")]
        assert replies[0].params["message_thread_id"] == 77
        assert group.command_deleted()


async def test_other_bots_commands_channels_and_forged_links_change_nothing(
    dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    # Telegram would not even deliver channel posts (not in allowed_updates); deliver them
    # anyway to prove the bot ignores them without failing.
    async with FakeBotApi(enforce_allowed_updates=False) as api:
        dialogue = dialogue_factory()
        group = Group(api)
        group.seat()
        async with bot(api, dialogue):
            assert await group.command(MEMBER, "aide", to="otherbot", expect=0) == []
            assert not group.command_deleted()
            assert await group.command(ADMIN, "config", to="otherbot", expect=0) == []

            post = builders.channel_post(-1005, "/aide")
            post["channel_post"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
            await api.dispatch(post)
            channel_added = builders.chat_member_update(
                -1005, api.bot_id, "left", "administrator", is_bot=True, chat_type="channel"
            )
            await api.dispatch(channel_added)
            await api.settle()
            assert api.messages(-1005) == []

            token = private_link((await group.command(MEMBER, "aide"))[0])
            forged = token[:-1] + ("0" if token[-1] != "0" else "1")
            for n, payload in enumerate((forged, "g" + "0" * 24, "g-123", "x" * 64)):
                teen = person(api, 800 + n)
                first = await teen.send(f"/start {payload}")
                assert fr.starts(first[0].text, "welcome")
            assert await origins(dialogue.storage) == {None}


async def test_a_settings_press_while_the_database_fails_is_still_answered(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    en: Texts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The admin's app stops its spinner; nothing was saved, so the press can be redone."""
    dialogue = dialogue_factory()
    group = Group(api)
    group.seat()
    async with bot(api, dialogue):
        config = await group.command(ADMIN, "config")

        async def down(*_: Any, **__: Any) -> Any:
            raise StorageError("postgresql: ConnectionDoesNotExistError")

        monkeypatch.setattr(dialogue.storage, "get_group", down)
        answer = await group.press(ADMIN, config[0], en("meta.name"))
    assert answer.get("text") in (None, "")  # answered without a word, not left spinning


def test_a_press_on_a_group_message_never_reaches_the_private_dialogue() -> None:
    """The private handlers come first (most updates are theirs); the private press handler
    must refuse a press on a group message, whatever its data, so the group handles it."""
    from telegram import Update

    from bot.channels.telegram.groups import PrivateCallbacks

    async def nothing(update: object, context: object) -> None: ...

    handler = PrivateCallbacks(nothing)
    in_group = {"message_id": 5, "date": 0, "chat": {"id": -4242, "type": "supergroup"}}
    in_private = {"message_id": 5, "date": 0, "chat": {"id": 4242, "type": "private"}}
    for message, taken in ((in_group, False), (in_private, True)):
        data = builders.callback(4242, message, "victim:1:danger:yes")
        parsed = Update.de_json({"update_id": 1, **data}, None)
        assert bool(handler.check_update(parsed)) is taken
