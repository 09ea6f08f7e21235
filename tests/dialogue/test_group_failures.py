"""Groups when the database fails or updates come late: a command is never lost to a short
outage, and a group the bot left does not come back from an old update."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.group_service import GroupService
from bot.dialogue.group_texts import GroupTexts
from bot.dialogue.groups import (
    BotAdded,
    BotRemoved,
    GroupCommand,
    GroupRules,
    MembersJoined,
    PostCard,
    Say,
)
from bot.domain.group import GroupSettings, group_key, link_token
from bot.errors import StorageError
from bot.storage import storage_from_url
from bot.storage.sqlite import SqliteStorage
from tests.pg import fresh_schema
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
        settings: GroupSettings, now: dt.datetime, *, update_id: int | None = None, added: bool
    ) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise StorageError("disk I/O error")
        await save(settings, now, update_id=update_id, added=added)

    monkeypatch.setattr(storage, "save_group", save_once_failing)
    with pytest.raises(StorageError):
        await service.handle(CHAT, GroupCommand("urgence"), NOW, update_id=42)
    actions = await service.handle(CHAT, GroupCommand("urgence"), NOW, update_id=42)
    assert said(actions), "the redelivered command was taken for a duplicate"
    assert await service.handle(CHAT, GroupCommand("urgence"), NOW, update_id=42) == []


async def test_a_late_update_does_not_bring_a_removed_group_back(service: GroupService) -> None:
    storage, key = service.storage, group_key(SECRET, CHAT)
    await service.handle(CHAT, BotAdded("fr"), NOW, update_id=10)
    assert await storage.get_group(key) is not None
    await service.handle(CHAT, BotRemoved(), NOW, update_id=20)
    assert await storage.get_group(key) is None
    # A command sent before the removal, delivered after it (or delivered again): a
    # member's /aide is still answered, nothing is saved, no card is posted.
    helped = await service.handle(CHAT, GroupCommand("aide"), NOW, update_id=15)
    assert said(helped) and not [a for a in helped if isinstance(a, PostCard)]
    assert await service.handle(CHAT, GroupCommand("carte"), NOW, update_id=16) == []
    assert await service.handle(CHAT, MembersJoined(), NOW, update_id=17) == []
    assert await storage.get_group(key) is None
    # Added again later: a new start, with its link.
    await service.handle(CHAT, BotAdded("fr"), NOW, update_id=30)
    assert await storage.get_group(key) is not None
    assert await storage.group_removed(key) is False


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/replicas.sqlite3"
    else:
        async with fresh_schema() as url:
            yield url


async def test_a_replica_does_not_bring_back_a_group_another_replica_was_removed_from(
    database: str, catalog: Catalog
) -> None:
    rules, key = GroupRules(GroupTexts(catalog)), group_key(SECRET, CHAT)
    async with storage_from_url(database) as one, storage_from_url(database) as other:
        first, second = GroupService(one, rules, SECRET), GroupService(other, rules, SECRET)
        await first.handle(CHAT, BotAdded("fr"), NOW, update_id=10)
        await first.handle(CHAT, GroupCommand("carte"), NOW, update_id=11, is_admin=_yes)
        await second.handle(CHAT, BotRemoved(), NOW, update_id=20)
        assert await one.get_group(key) is None
        # Late updates reach the replica that never saw the removal.
        urgent = await first.handle(CHAT, GroupCommand("urgence"), NOW, update_id=12)
        assert said(urgent), "a member's /urgence went unanswered"
        assert await first.handle(CHAT, MembersJoined(), NOW, update_id=13) == []
        assert await one.get_group(key) is None
        assert await other.group_by_token(link_token(SECRET, CHAT)) is None
        # Added again, through either replica: the group is back.
        await first.handle(CHAT, BotAdded("en"), NOW, update_id=30)
        back = await other.get_group(key)
        assert back is not None and back.locale == "en"
        await second.handle(CHAT, GroupCommand("aide"), NOW, update_id=31)
        assert await one.get_group(key) == back


async def _yes() -> bool:
    return True


def test_the_calm_message_for_a_group_gives_3018(service: GroupService) -> None:
    (calm,) = service.unavailable(-4900, GroupCommand("aide", topic=3), NOW)
    assert shipped("fr").starts(calm.text, "error.storage")
    assert "3018" in calm.text and calm.topic == 3
