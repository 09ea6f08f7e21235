"""Shared fixtures: the catalog, storages, a fixed clock, and a bot on a fake Bot API."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# PTB 22 warns on every RetryAfter unless told to use timedeltas; warnings are errors here.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.dialogue.checks import load_catalog
from bot.dialogue.engine import Engine
from bot.storage.sqlite import SqliteStorage
from tests.fakebotapi import FakeBotApi
from tests.texts import Texts

PARIS = ZoneInfo("Europe/Paris")
FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-secret-for-pseudonyms-0123456789"  # 32+ characters, as required


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(PROJECT_ROOT / "flows", PROJECT_ROOT / "locales")


@pytest.fixture
def engine(catalog: Catalog) -> Engine:
    return Engine(catalog)


@pytest.fixture
def noon() -> dt.datetime:
    """A Monday at noon in Paris: 3018 is open."""
    return dt.datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    async with SqliteStorage(tmp_path / "relais.sqlite3") as storage:
        yield storage


@pytest.fixture
def dialogue_factory(catalog: Catalog, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Make a ``Dialogue`` on a SQLite file that survives restarts within the test."""
    from bot.dialogue.service import Dialogue

    def make(path: Path | None = None) -> Dialogue:
        return Dialogue(Engine(catalog), SqliteStorage(path or tmp_path / "bot.sqlite3"))

    return make


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """A local Bot API server; PTB talks real HTTP to it."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A URL on the real PostgreSQL server (``TEST_DATABASE_URL``), in a schema of its own
    that is dropped after the test."""
    from tests.pg import fresh_schema

    async with fresh_schema() as url:
        yield url


@pytest.fixture(scope="session")
def fr(catalog: Catalog) -> Texts:
    """French texts by key: ``fr("start.who.me")``, ``fr.said(reply, "nudge.stale")``."""
    return Texts(catalog, "fr")


@pytest.fixture(scope="session")
def en(catalog: Catalog) -> Texts:
    """English texts by key."""
    return Texts(catalog, "en")
