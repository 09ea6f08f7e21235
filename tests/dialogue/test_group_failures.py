"""Groups when the database fails or updates come late: a command is never lost to a short
outage, and a group the bot left does not come back from an old update."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.group_service import GroupService
from bot.dialogue.group_texts import GroupTexts
from bot.dialogue.groups import BotAdded, BotRemoved, GroupCommand, GroupRules, Say
from bot.domain.group import GroupSettings, group_key
from bot.errors import StorageError
from bot.storage.sqlite import SqliteStorage
from tests.texts import shipped

SECRET = "group-failures-secret-0123456789abcdef"
CHAT = -5001
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def service(sqlite_storage: SqliteStorage, catalog: Catalog) -> AsyncIterator[GroupService]:
    yield GroupService(sqlite_storage, GroupRules(GroupTexts(catalog)), SECRET)


def said(actions: list[object]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Say)]


async def test_a_group_command_failed_by_the_database_is_answered_when_delivered_again(
    service: GroupService, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = service.storage
    save = storage.save_group
    calls = 0

    async def save_once_failing(
        settings: GroupSettings, now: dt.datetime, *, update_id: int | None = None
    ) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("disk I/O error")
        await save(settings, now, update_id=update_id)

    monkeypatch.setattr(storage, "save_group", save_once_failing)
    with pytest.raises(StorageError):
        await service.handle(CHAT, GroupCommand("urgence"), NOW, update_id=42)
    actions = await service.handle(CHAT, GroupCommand("urgence"), NOW, update_id=42)
    assert said(actions), "the redelivered command was taken for a duplicate"
    assert await service.handle(CHAT, GroupCommand("urgence"), NOW, update_id=42) == []


async def test_a_late_update_does_not_bring_a_removed_group_back(service: GroupService) -> None:
    storage, key = service.storage, group_key(SECRET, CHAT)
    await service.handle(CHAT, BotAdded("fr"), NOW, update_id=10)
    added = await storage.get_group(key)
    assert added is not None
    await service.handle(CHAT, BotRemoved(), NOW, update_id=20)
    assert await storage.get_group(key) is None
    # A command sent before the removal, delivered after it (or delivered again).
    assert await service.handle(CHAT, GroupCommand("aide"), NOW, update_id=15) == []
    assert await storage.get_group(key) is None
    # Added again later: a new start, with its link.
    await service.handle(CHAT, BotAdded("fr"), NOW, update_id=30)
    assert await storage.get_group(key) is not None


def test_the_calm_message_for_a_group_gives_3018(service: GroupService) -> None:
    (calm,) = service.unavailable(-4900, GroupCommand("aide", topic=3), NOW)
    assert shipped("fr").starts(calm.text, "error.storage")
    assert "3018" in calm.text and calm.topic == 3
