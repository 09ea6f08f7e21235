"""``GroupRules.decide`` without Telegram or a database: who may do what in a group, and
what is saved, posted, pinned and deleted, in which order. Texts are compared with what
``GroupTexts`` renders for a locale key, never with a sentence."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.group_service import GroupService
from bot.dialogue.group_texts import GroupTexts
from bot.dialogue.groups import (
    ADMIN_ONLY,
    AnswerPress,
    BotAdded,
    BotRemoved,
    CardMissing,
    CardPosted,
    ChatMigrated,
    Claim,
    ConfigPress,
    DeleteCommand,
    Facts,
    ForgetGroup,
    GroupAction,
    GroupCommand,
    GroupRules,
    MembersJoined,
    MoveGroup,
    NoteCardCurrent,
    NoteGreeted,
    Pin,
    PostCard,
    RewriteCard,
    SaveSettings,
    Say,
    ShowConfig,
    Unpin,
    needs_admin,
    needs_counts,
    needs_rights,
)
from bot.domain.disclosure import MonthCount
from bot.domain.group import BotRights, GroupSettings, group_key, new_settings
from bot.storage.sqlite import SqliteStorage

CHAT = -1001234567890
BOT = "relais_test_bot"
ALL_RIGHTS = BotRights(admin=True, pin=True, delete=True)


@pytest.fixture
def texts(catalog: Catalog) -> GroupTexts:
    return GroupTexts(catalog)


@pytest.fixture
def rules(texts: GroupTexts) -> GroupRules:
    return GroupRules(texts, stats_k=5)


@pytest.fixture
def settings() -> GroupSettings:
    return new_settings("secret", CHAT, "fr")


def kinds(actions: list[GroupAction]) -> list[str]:
    return [type(a).__name__ for a in actions]


def facts(settings: GroupSettings, **known: object) -> Facts:
    return Facts(settings, bot_username=BOT, **known)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(ADMIN_ONLY))
def test_a_members_admin_command_is_refused_and_saves_nothing(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime, name: str
) -> None:
    stale = settings.with_(card_message_id=9)
    actions = rules.decide(
        GroupCommand(name, topic=3), facts(stale, known=False, card_current=False), noon
    )
    assert actions == [
        Claim(),
        Say(texts.t("fr", "group.admins_only"), topic=3),
        DeleteCommand(otherwise=None),  # a member is not told about the bot's rights
    ]


def test_first_help_saves_defaults_answers_then_rewrites_a_stale_card_once(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    stale = settings.with_(card_message_id=9)
    private = texts.private_button(stale, BOT)
    actions = rules.decide(
        GroupCommand("aide"), facts(stale, known=False, card_current=False), noon
    )
    assert actions == [
        Claim(),
        SaveSettings(stale),
        Say(texts.help(stale, noon), private),
        DeleteCommand(otherwise=None),
        NoteCardCurrent(),
        RewriteCard(9, texts.card(stale), private, stale),
    ]
    again = rules.decide(GroupCommand("aide"), facts(stale), noon)
    assert kinds(again) == ["Claim", "Say", "DeleteCommand"]


def test_emergency_answers_in_the_topic_with_numbers_to_copy_and_the_private_button(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    actions = rules.decide(GroupCommand("urgence", topic=77), facts(settings), noon)
    [said] = [a for a in actions if isinstance(a, Say)]
    assert said.text == texts.emergency(settings, noon)[0] and said.topic == 77
    copy, private = said.keyboard
    # As in a private chat (Telegram refuses tel: links): 112 and 3114 to copy.
    assert [b.copy for b in copy] == ["112", "3114"]
    [button] = private
    assert button.url is not None and button.url.endswith(f"?start={settings.token}")


def test_an_admin_hears_of_a_failed_delete_except_under_config(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    told = DeleteCommand(Say(texts.t("fr", "group.delete_failed")))
    assert rules.decide(GroupCommand("stats"), facts(settings, admin=True), noon)[-1] == told
    config = rules.decide(
        GroupCommand("config"), facts(settings, admin=True, rights=ALL_RIGHTS), noon
    )
    assert config[-1] == DeleteCommand(otherwise=None)
    loud = settings.with_(discreet=False)
    assert "DeleteCommand" not in kinds(rules.decide(GroupCommand("aide"), facts(loud), noon))


def test_config_shows_the_bots_missing_rights(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    nothing = BotRights(admin=False, pin=False, delete=False)
    actions = rules.decide(
        GroupCommand("config"), facts(settings, admin=True, rights=nothing), noon
    )
    text, keyboard = texts.config(settings, nothing)
    assert Say(text, keyboard) in actions
    assert texts.t("fr", "group.rights.not_admin") in text


def test_stats_say_each_closed_month_as_published(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    months = (
        MonthCount("2026-10", 7),
        MonthCount("2026-09", None, "small"),
        MonthCount("2026-08", None, "complementary"),
    )
    actions = rules.decide(GroupCommand("stats"), facts(settings, admin=True, counts=months), noon)
    text = texts.stats(settings, months, 5)
    assert Say(text) in actions
    lines = [
        texts.t("fr", "group.stats_line", month="10/2026", count="7"),
        texts.t(
            "fr", "group.stats_line", month="09/2026", count=texts.t("fr", "group.fewer_than", k=5)
        ),
        texts.t("fr", "group.stats_line", month="08/2026", count=texts.t("fr", "group.hidden")),
    ]
    assert text == texts.t("fr", "group.stats", months="\n".join(lines), k=5)


def test_a_card_is_posted_then_saved_pinned_and_the_old_one_unpinned(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    old = settings.with_(card_message_id=4)
    actions = rules.decide(GroupCommand("carte", topic=5), facts(old, admin=True), noon)
    card = PostCard(texts.card(old), texts.private_button(old, BOT), 5, old)
    assert actions[:2] == [Claim(), card]
    assert "RewriteCard" not in kinds(actions)  # the new card is current already

    posted = rules.decide(CardPosted(card, 8), facts(old), noon)
    assert posted == [
        SaveSettings(old.with_(card_message_id=8)),
        NoteCardCurrent(),
        Pin(8, otherwise=Say(texts.t("fr", "group.pin_failed"), topic=5), then_unpin=4),
    ]
    unpinned = old.with_(pin_card=False)
    card = PostCard(texts.card(unpinned), (), None, unpinned)
    assert "Pin" not in kinds(rules.decide(CardPosted(card, 8), facts(unpinned), noon))


def test_a_members_press_changes_nothing_and_gets_an_alert(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    actions = rules.decide(ConfigPress("cfg:discreet"), facts(settings, admin=False), noon)
    assert actions == [Claim(), AnswerPress(texts.t("fr", "group.config.admins_only"), True)]


def test_an_admins_press_saves_and_makes_the_card_follow(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    pinned = settings.with_(card_message_id=4)
    known = facts(pinned, admin=True, rights=ALL_RIGHTS)
    unpin = rules.decide(ConfigPress("cfg:pin"), known, noon)
    after = pinned.with_(pin_card=False)
    assert unpin == [
        Claim(),
        SaveSettings(after),
        Unpin(4),
        AnswerPress(texts.t("fr", "group.config.saved")),
        ShowConfig(*texts.config(after, ALL_RIGHTS)),
    ]
    english = rules.decide(ConfigPress("cfg:lang:en"), known, noon)
    moved = pinned.with_(locale="en")
    assert RewriteCard(4, texts.card(moved), texts.private_button(moved, BOT), moved) in english
    assert AnswerPress(texts.t("en", "group.config.saved")) in english


def test_a_forged_press_saves_nothing_but_is_answered(
    rules: GroupRules, settings: GroupSettings, noon: dt.datetime
) -> None:
    actions = rules.decide(ConfigPress("victim:1:danger:yes"), facts(settings, admin=True), noon)
    assert kinds(actions) == ["Claim", "AnswerPress", "ShowConfig"]


def test_newcomers_are_greeted_only_when_asked_and_not_too_often(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    assert rules.decide(MembersJoined(), facts(settings, known=False), noon) == [
        SaveSettings(settings)
    ]
    greet = settings.with_(greet=True)
    assert rules.decide(MembersJoined(), facts(greet, greeted_recently=True), noon) == []
    assert rules.decide(MembersJoined(), facts(greet), noon) == [
        Claim(),
        NoteGreeted(),
        Say(texts.greeting(greet), texts.private_button(greet, BOT)),
    ]


def test_the_bot_added_introduces_itself_removed_forgets_migrated_moves(
    rules: GroupRules, texts: GroupTexts, noon: dt.datetime
) -> None:
    english = new_settings("secret", CHAT, "en")
    added = rules.decide(BotAdded("en"), facts(english, known=False), noon)
    assert added == [
        Claim(),
        SaveSettings(english, added=True),
        Say(texts.t("en", "group.added")),
    ]
    assert rules.decide(BotRemoved(), facts(english), noon) == [ForgetGroup(english.key)]
    assert rules.decide(ChatMigrated("new"), facts(english), noon) == [
        MoveGroup(english.key, "new")
    ]
    card = RewriteCard(4, "", (), english.with_(card_message_id=4))
    assert rules.decide(CardMissing(card), facts(english), noon) == [SaveSettings(english)]


def test_a_group_the_bot_was_removed_from_gets_safety_answers_and_nothing_saved(
    rules: GroupRules, texts: GroupTexts, settings: GroupSettings, noon: dt.datetime
) -> None:
    removed = facts(settings.with_(greet=True), known=False, removed=True, card_current=False)
    urgent = rules.decide(GroupCommand("urgence", topic=2), removed, noon)
    text, copy = texts.emergency(settings, noon)
    assert urgent == [Claim(), Say(text, (copy, *texts.private_button(settings, BOT)), 2)]
    for name in sorted(ADMIN_ONLY):
        assert rules.decide(GroupCommand(name), replace(removed, admin=True), noon) == []
    assert rules.decide(MembersJoined(), removed, noon) == []
    assert rules.decide(ConfigPress("cfg:pin"), replace(removed, admin=True), noon) == []
    # The bot added again: saved, lifting the removal.
    added = rules.decide(BotAdded("fr"), removed, noon)
    assert SaveSettings(settings.with_(greet=True), added=True) in added


def test_admin_rights_and_counts_are_looked_up_only_when_needed() -> None:
    assert not needs_admin(GroupCommand("aide")) and not needs_admin(MembersJoined())
    assert needs_admin(GroupCommand("stats")) and needs_admin(ConfigPress("cfg:pin"))
    assert needs_rights(GroupCommand("config"), admin=True)
    assert not needs_rights(GroupCommand("config"), admin=False)
    assert not needs_rights(GroupCommand("stats"), admin=True)
    assert needs_counts(GroupCommand("stats"), admin=True)
    assert not needs_counts(GroupCommand("stats"), admin=False)


async def test_the_service_saves_once_and_ignores_a_redelivery(
    rules: GroupRules, tmp_path: Path, noon: dt.datetime
) -> None:
    async with SqliteStorage(str(tmp_path / "groups.db")) as storage:
        service = GroupService(storage, rules, "secret")
        first = await service.handle(CHAT, GroupCommand("aide"), noon, update_id=1)
        assert kinds(first) == ["Say", "DeleteCommand"]  # storage actions taken, not returned
        assert await storage.get_group(group_key("secret", CHAT)) is not None
        assert await service.handle(CHAT, GroupCommand("aide"), noon, update_id=1) == []
