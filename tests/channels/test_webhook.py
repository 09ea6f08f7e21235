"""Webhook mode end to end: the fake Bot API POSTs updates to a real replica over HTTP.

Covers what an operator relies on: the secret token, health and metrics, an update that
arrives twice (Telegram redelivers) changing state once and answering once, and a
database outage answered 500 so that Telegram's redelivery loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path

import pytest

from bot.channels.telegram.webhook import WebhookConfig
from bot.config import Settings
from bot.content.catalog import Catalog
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.privacy import pseudonym
from bot.storage.base import Storage
from bot.storage.sqlite import SqliteStorage
from tests.conftest import SECRET
from tests.crowd import eventually
from tests.fakebotapi import FakeBotApi, builders
from tests.harness import relais
from tests.replica import WEBHOOK_SECRET, get, replica

EVER = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))


def replies_to(api: FakeBotApi, chat_id: int) -> list[str]:
    """Methods of the messages the bot sent or edited in ``chat_id``, in order."""
    return [
        c.method
        for c in api.calls
        if c.method in {"sendMessage", "editMessageText"} and c.params.get("chat_id") == chat_id
    ]


def key(user_id: int) -> str:
    return pseudonym(SECRET, "telegram", user_id)  # what the bot stores instead of the id


async def kinds(storage: Storage) -> list[str]:
    return sorted(e.kind for e in await storage.fetch_events(*EVER))


@pytest.fixture
async def storage(tmp_path: Path) -> SqliteStorage:
    return SqliteStorage(tmp_path / "bot.sqlite3")  # opened and closed by the replica


async def test_conversation_over_webhook_with_health_and_metrics(
    api: FakeBotApi, catalog: Catalog, storage: Storage
) -> None:
    async with replica(api, catalog, storage) as server:
        base = f"http://127.0.0.1:{server.port}"
        assert api.webhook_url == f"{base}/telegram"
        assert api.webhook_secret == WEBHOOK_SECRET
        assert api.webhook_allowed_updates and "callback_query" in api.webhook_allowed_updates

        teen = api.user(3001)
        first = await teen.send("/start")
        assert "3018" in first[0].text
        await teen.press(teen.buttons()[0][0])
        await teen.send("/urgence")
        stored = await storage.load(key(3001))
        assert stored is not None and stored.version == 3

        assert await get(f"{base}/healthz") == (200, "ok\n")
        status, text = await get(f"{base}/metrics")
        assert status == 200
        assert 'relais_updates_total{result="ok"} 3.0' in text
        assert "relais_update_seconds_count 3.0" in text
        assert 'relais_flows_started_total{flow="start"} 1.0' in text
        assert "relais_emergency_shown_total 1.0" in text
        assert "relais_duplicate_updates_total 0.0" in text
        # prometheus_client's standard collectors: the process, the GC, the interpreter.
        assert "process_resident_memory_bytes " in text and "process_open_fds " in text
        assert 'python_gc_collections_total{generation="0"}' in text
        assert "python_info{" in text


async def test_requests_without_the_secret_are_refused_and_logged_without_it(
    api: FakeBotApi, catalog: Catalog, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with replica(api, catalog, storage) as server:
        update = builders.private_command(3002, "/start")
        assert await api.deliver_webhook(update, secret=None) == 403
        assert await api.deliver_webhook(update, secret="guess-" + WEBHOOK_SECRET) == 403
        assert replies_to(api, 3002) == []
        assert await storage.load(key(3002)) is None
        assert server.metrics.value("relais_updates_total", result="refused") == 2
        assert await api.deliver_webhook(update) == 200  # the genuine one still works
        assert len(replies_to(api, 3002)) == 2
    refusals = [r for r in caplog.records if "refused a webhook request" in r.getMessage()]
    assert [r.levelname for r in refusals] == ["WARNING", "WARNING"]
    assert WEBHOOK_SECRET not in caplog.text and "guess-" not in caplog.text


async def test_an_update_delivered_twice_changes_state_once_and_answers_once(
    api: FakeBotApi, catalog: Catalog, storage: Storage
) -> None:
    async with replica(api, catalog, storage) as server:
        start = builders.private_command(3003, "/start")
        start["update_id"] = 700
        assert await api.deliver_webhook(start) == 200
        assert await api.deliver_webhook(start) == 200  # Telegram retried: still a 200
        assert len(replies_to(api, 3003)) == 2  # welcome + first question, once

        # A button press redelivered while the first copy is still being handled.
        keyboard = api.user(3003).keyboard_message()
        assert keyboard is not None
        data = keyboard.inline_keyboard[0][0]["callback_data"]
        press = builders.callback(3003, keyboard, data)
        press["update_id"] = 701
        statuses = await asyncio.gather(api.deliver_webhook(press), api.deliver_webhook(press))
        assert statuses == [200, 200]
        # A copy queued behind the first is acknowledged at once and handled afterwards:
        # wait until it was (found a duplicate), then check it changed and sent nothing.
        duplicates = "relais_duplicate_updates_total"
        await eventually(lambda: server.metrics.value(duplicates) == 2, what="the second copy")
        await api.settle()
        assert replies_to(api, 3003) == ["sendMessage", "sendMessage", "editMessageText"]
        assert len(api.calls_of("answerCallbackQuery")) == 1

        stored = await storage.load(key(3003))
        assert stored is not None and stored.version == 2
        assert (await kinds(storage)).count("flow_started") == 2  # start menu, then its flow
        assert server.metrics.value(duplicates) == 2


async def test_a_database_outage_answers_500_and_the_redelivery_is_applied(
    api: FakeBotApi, catalog: Catalog, storage: Storage
) -> None:
    async with replica(api, catalog, storage) as server:
        base = f"http://127.0.0.1:{server.port}"
        update = builders.private_command(3004, "/start")
        update["update_id"] = 800
        await storage.close()  # the database goes away
        assert await api.deliver_webhook(update) == 500
        assert (await get(f"{base}/healthz"))[0] == 503
        # Not silence meanwhile: after a few retries, one calm message that gives 3018.
        assert replies_to(api, 3004) == ["sendMessage"]
        assert "3018" in api.calls_of("sendMessage")[-1].params["text"]
        assert server.metrics.value("relais_updates_total", result="retry") == 1
        assert server.metrics.value("relais_errors_total", type="StorageError") == 1

        await storage.open()  # it is back; Telegram delivers the update again
        assert await get(f"{base}/healthz") == (200, "ok\n")
        assert await api.deliver_webhook(update) == 200
        assert len(replies_to(api, 3004)) == 1 + 2
        stored = await storage.load(key(3004))
        assert stored is not None and stored.version == 1


async def test_not_json_is_a_400(api: FakeBotApi, catalog: Catalog, storage: Storage) -> None:
    import aiohttp

    async with replica(api, catalog, storage) as server:
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        async with (
            aiohttp.ClientSession() as session,
            session.post(api.webhook_url, data=b"{not json", headers=headers) as response,
        ):
            assert response.status == 400
        assert server.metrics.value("relais_updates_total", result="invalid") == 1


async def test_polling_too_ignores_an_update_seen_before(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    """A bot that stopped before confirming its last updates gets them again at restart."""
    path = tmp_path / "polling.sqlite3"
    update = builders.private_command(3005, "/start")
    update["update_id"] = 900
    for _ in range(2):
        async with relais(api, Dialogue(Engine(catalog), SqliteStorage(path))):
            api.push_update(update)
            await api.settle()
    assert len(replies_to(api, 3005)) == 2
    async with SqliteStorage(path) as storage:
        stored = await storage.load(key(3005))
        assert stored is not None and stored.version == 1


def test_webhook_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"WEBHOOK_URL is not set.*WEBHOOK_SECRET must be"):
        WebhookConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("WEBHOOK_URL", "https://relais.example.org/hook/x")
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces")
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        WebhookConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("WEBHOOK_SECRET", "ok_Secret-1")
    config = WebhookConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    assert (config.path, config.secret, config.port) == ("/hook/x", "ok_Secret-1", 8080)


async def test_the_operator_page_is_mounted_behind_its_token(
    api: FakeBotApi, catalog: Catalog, storage: Storage
) -> None:
    from bot.export.dashboard import dashboard_app

    token = "operator-token-0123456789"
    async with replica(api, catalog, storage, dashboard=dashboard_app(storage, token)) as server:
        base = f"http://127.0.0.1:{server.port}/dashboard/"
        teen = api.user(3101)
        await teen.send("/start")
        status, body = await get(base)
        assert status == 401 and "3018" not in body
        assert (await get(base + "?token=wrong-token-0123456789"))[0] == 401
        status, body = await get(base + f"?token={token}")
        assert status == 200 and "<svg" in body
        assert (await get(f"http://127.0.0.1:{server.port}/healthz"))[0] == 200
