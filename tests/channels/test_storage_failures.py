"""The database fails at the moments the attack run found silent: a group command, and the
group lookup of a private /start coming from a group's card. Both get the calm message.
Words of crisis get their answer after one failed attempt, not after every retry; and a
turn whose own first attempt was saved before failing is not taken for a redelivery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.channels.telegram.retry import RetryPolicy
from bot.dialogue.service import Dialogue
from bot.errors import StorageError
from tests.crowd import eventually
from tests.fakebotapi import FakeBotApi, builders
from tests.harness import relais
from tests.texts import shipped

FAST = RetryPolicy(telegram=(0.1,), storage=(0.05, 0.1))
RETRIES = RetryPolicy(telegram=(0.1,), storage=(0.05, 0.05, 0.05))
GROUP, MEMBER, TEEN = -6001, 6002, 6003
WORDS = "je veux mourir"  # in the French lists (tier "self")


class Down:
    """A storage method that always fails, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, *_: Any, **__: Any) -> Any:
        self.calls += 1
        raise StorageError("postgresql: ConnectionDoesNotExistError")


async def test_a_group_command_while_the_database_is_down_gets_3018(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue = dialogue_factory()
    api.add_chat(GROUP, chat_type="group")
    api.set_chat_member(GROUP, MEMBER, "member")
    async with relais(api, dialogue, retry=FAST):
        monkeypatch.setattr(dialogue.storage, "get_group", Down())
        api.push_update(builders.group_command(GROUP, MEMBER, "urgence"))
        await eventually(lambda: len(api.messages(GROUP)) == 1, what="the calm message")
        calm = api.messages(GROUP)[0].text or ""
        assert shipped("fr").starts(calm, "error.storage") and "3018" in calm


async def test_a_start_from_a_groups_card_while_the_database_is_down_gets_3018(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue = dialogue_factory()
    async with relais(api, dialogue, retry=FAST):
        teen = api.user(TEEN)
        monkeypatch.setattr(dialogue.storage, "group_by_token", Down())
        api.push_update(builders.private_command(TEEN, "start", "g" + "0" * 24))
        await eventually(lambda: len(teen.messages) == 1, what="the calm message")
        calm = teen.messages[0].text or ""
        assert shipped("fr").starts(calm, "error.storage") and "3018" in calm


@pytest.mark.parametrize(("text", "attempts"), [(WORDS, 1), ("bonjour", 4)])
async def test_words_of_crisis_while_the_database_fails_are_answered_without_retries(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    attempts: int,
) -> None:
    dialogue = dialogue_factory()
    load = Down()
    async with relais(api, dialogue, retry=RETRIES):
        teen = api.user(TEEN)
        monkeypatch.setattr(dialogue.storage, "load", load)
        api.push_update(builders.private_text(TEEN, text))
        apology = shipped("fr")
        await eventually(
            lambda: any(apology.starts(m.text or "", "error.storage") for m in teen.messages),
            what="the calm message",
        )
    assert load.calls == attempts  # an ordinary text is retried three times


@pytest.mark.parametrize(("args", "attempts"), [(WORDS, 1), ("", 3)])
async def test_a_group_command_with_words_of_crisis_is_answered_without_retries(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    monkeypatch: pytest.MonkeyPatch,
    args: str,
    attempts: int,
) -> None:
    dialogue = dialogue_factory()
    api.add_chat(GROUP, chat_type="group")
    api.set_chat_member(GROUP, MEMBER, "member")
    get_group = Down()
    async with relais(api, dialogue, retry=FAST):
        monkeypatch.setattr(dialogue.storage, "get_group", get_group)
        api.push_update(builders.group_command(GROUP, MEMBER, "urgence", args=args))
        calm = shipped("fr")
        await eventually(
            lambda: any(calm.starts(m.text or "", "error.storage") for m in api.messages(GROUP)),
            what="the calm message",
        )
    assert get_group.calls == attempts


async def test_a_forget_that_fails_after_the_save_gets_the_calm_message(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry finds the update claimed by the failed attempt itself: not a redelivery."""
    dialogue = dialogue_factory()
    async with relais(api, dialogue, retry=FAST):
        teen = api.user(TEEN)
        await teen.send("/start")
        await teen.send("/oubli")
        monkeypatch.setattr(dialogue.storage, "forget", Down())
        before = len(teen.messages)
        await teen.press_data(teen.last_message.message_id, "forget:yes")
        await eventually(lambda: len(teen.messages) > before, what="a reply")
        calm = teen.messages[-1].text or ""
        assert shipped("fr").starts(calm, "error.storage") and "3018" in calm
