"""The database fails at the moments the attack run found silent: a group command, and the
group lookup of a private /start coming from a group's card. Both get the calm message."""

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
GROUP, MEMBER, TEEN = -6001, 6002, 6003


async def down(*_: Any, **__: Any) -> Any:
    raise StorageError("postgresql: ConnectionDoesNotExistError")


async def test_a_group_command_while_the_database_is_down_gets_3018(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue = dialogue_factory()
    api.add_chat(GROUP, chat_type="group")
    api.set_chat_member(GROUP, MEMBER, "member")
    async with relais(api, dialogue, retry=FAST):
        monkeypatch.setattr(dialogue.storage, "get_group", down)
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
        monkeypatch.setattr(dialogue.storage, "group_by_token", down)
        api.push_update(builders.private_command(TEEN, "start", "g" + "0" * 24))
        await eventually(lambda: len(teen.messages) == 1, what="the calm message")
        calm = teen.messages[0].text or ""
        assert shipped("fr").starts(calm, "error.storage") and "3018" in calm
