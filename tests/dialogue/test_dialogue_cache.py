"""The write-through conversation cache: fewer reads, and never a stale decision.

Two ``Dialogue`` objects on one SQLite file stand for this process and another writer.
Loads are counted by a storage that records them (the real SQLite storage underneath).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.content.catalog import Catalog
from bot.dialogue.conversation_cache import ConversationCache
from bot.dialogue.engine import FORGET_YES, Engine
from bot.dialogue.service import Dialogue
from bot.domain.conversation import Command, Press
from bot.storage.base import Stored
from bot.storage.sqlite import SqliteStorage

WHO_ME = "start:1:who:me"
DANGER_NO = "victim:2:danger:no"
WHAT_THREATS = "victim:2:what:threats"


class CountingSqlite(SqliteStorage):
    """SQLite storage that counts how often a conversation is read."""

    loads = 0

    async def load(self, user_key: str) -> Stored | None:
        self.loads += 1
        return await super().load(user_key)


async def test_a_cached_turn_does_not_read_the_database(
    catalog: Catalog, tmp_path: Path, noon: dt.datetime
) -> None:
    async with CountingSqlite(tmp_path / "db.sqlite3") as storage:
        dialogue = Dialogue(Engine(catalog), storage, cache=ConversationCache())
        await dialogue.handle("teen", "fr", Command("start"), noon)
        await dialogue.handle("teen", "fr", Press(WHO_ME), noon)
        await dialogue.handle("teen", "fr", Press(DANGER_NO), noon)
        assert storage.loads == 1  # only the first turn, to learn the person is new
        stored = await storage.load("teen")
        assert stored is not None and stored.version == 3 and stored.conversation.step == "what"


async def test_another_writer_is_caught_by_the_version_check(
    catalog: Catalog, tmp_path: Path, noon: dt.datetime
) -> None:
    path = tmp_path / "db.sqlite3"
    async with CountingSqlite(path) as mine, SqliteStorage(path) as theirs:
        cached = Dialogue(Engine(catalog), mine, cache=ConversationCache())
        other = Dialogue(Engine(catalog), theirs)
        await cached.handle("teen", "fr", Command("start"), noon)
        await cached.handle("teen", "fr", Press(WHO_ME), noon)
        await other.handle("teen", "fr", Press(DANGER_NO), noon)  # behind the cache's back
        outcome = await cached.handle("teen", "fr", Press(WHAT_THREATS), noon)
        # The cached copy was at "danger", where "threats" is no answer: had it been used,
        # the teen would be told the button is stale. It was re-read and applied instead.
        assert outcome.conversation.step == "where"
        assert outcome.conversation.answers["danger"] == "no"
        stored = await mine.load("teen")
        assert stored is not None and stored.version == 4


async def test_forgetting_empties_the_cache(
    catalog: Catalog, tmp_path: Path, noon: dt.datetime
) -> None:
    async with SqliteStorage(tmp_path / "db.sqlite3") as storage:
        dialogue = Dialogue(Engine(catalog), storage, cache=ConversationCache())
        await dialogue.handle("teen", "fr", Command("start"), noon)
        await dialogue.handle("teen", "fr", Press(WHO_ME), noon)
        await dialogue.handle("teen", "fr", Command("oubli"), noon)
        await dialogue.handle("teen", "fr", Press(FORGET_YES), noon)
        assert len(dialogue.cache) == 0 and await storage.load("teen") is None
        # What comes next starts from nothing, not from a remembered copy.
        outcome = await dialogue.handle("teen", "fr", Press(DANGER_NO), noon)
        assert outcome.conversation.step is None and outcome.conversation.answers == {}


def test_the_least_recently_used_conversation_goes_first(noon: dt.datetime) -> None:
    from bot.domain.conversation import Conversation

    cache = ConversationCache(size=2)
    for key in ("a", "b"):
        cache.put(key, Stored(Conversation(locale="fr"), 1, noon))
    assert cache.get("a") is not None  # "a" used again: "b" is now the oldest
    cache.put("c", Stored(Conversation(locale="fr"), 1, noon))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    ConversationCache(size=0).put("x", Stored(Conversation(locale="fr"), 1, noon))
