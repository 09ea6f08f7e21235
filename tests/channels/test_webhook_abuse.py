"""The webhook port sheds abuse: slow connections, undecodable headers, floods of refusals.

Everything stays on the loopback interface and every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import pytest

from bot.channels.telegram.webhook import WebhookServer
from bot.content.catalog import Catalog
from bot.export.dashboard import dashboard_app
from bot.logs import Throttle
from bot.storage.sqlite import SqliteStorage
from tests.crowd import eventually
from tests.fakebotapi import FakeBotApi
from tests.replica import get, replica

SLOW = 500
LIMIT = 100  # the replica's connection limit here, well under SLOW


async def raw(port: int, request: bytes) -> bytes:
    """Send ``request`` as is; the status line answered (or b"" if the server closed)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def slow_connection(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that starts a request and never finishes its headers."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /telegram HTTP/1.1\r\nHost: relais\r\nX-Slow: ")
    await writer.drain()
    return reader, writer


def open_connections(server: WebhookServer) -> int:
    assert server._runner is not None and server._runner.server is not None
    return len(server._runner.server.connections)


async def test_500_slow_connections_never_stop_real_updates_nor_health(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    async with replica(api, catalog, storage, connection_limit=LIMIT, idle_timeout=1.0) as server:
        base = f"http://127.0.0.1:{server.port}"
        slow = []
        most = 0
        for n in range(SLOW):
            with contextlib.suppress(OSError):
                slow.append(await slow_connection(server.port))
            most = max(most, open_connections(server))
            if n % 100 == 99:  # real traffic in the middle of the attack
                teen = api.user(8000 + n)
                replies = await asyncio.wait_for(teen.send("/start"), 30)
                assert "3018" in replies[0].text
                assert await asyncio.wait_for(get(f"{base}/healthz"), 30) == (200, "ok\n")
        assert most <= LIMIT  # never more open than the limit, whatever arrives
        # The slow ones still held are closed once idle too long: the server hangs up.
        await eventually(lambda: open_connections(server) == 0, 30, "slow connections closed")
        assert server.guard is not None and server.guard.shed >= SLOW - LIMIT
        for _, writer in slow:
            writer.close()


async def test_an_undecodable_secret_header_is_refused_not_a_server_error(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    async with replica(api, catalog, SqliteStorage(tmp_path / "bot.sqlite3")) as server:
        status = await raw(
            server.port,
            b"POST /telegram HTTP/1.1\r\nHost: relais\r\n"
            b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\xc3\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}",
        )
        assert status.split()[1] == b"403"


async def test_an_undecodable_dashboard_authorization_is_refused_not_a_server_error(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    dashboard = dashboard_app(storage, "dashboard-token-0123456789")
    async with replica(api, catalog, storage, dashboard=dashboard) as server:
        status = await raw(
            server.port,
            b"GET /dashboard/ HTTP/1.1\r\nHost: relais\r\n"
            b"Authorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n",
        )
        assert status.split()[1] == b"401"


async def test_a_body_that_never_comes_is_cut_off(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.channels.telegram.webhook.BODY_TIMEOUT", 0.3)
    async with replica(api, catalog, SqliteStorage(tmp_path / "bot.sqlite3")) as server:
        from tests.replica import WEBHOOK_SECRET

        status = await raw(
            server.port,
            b"POST /telegram HTTP/1.1\r\nHost: relais\r\n"
            + f"X-Telegram-Bot-Api-Secret-Token: {WEBHOOK_SECRET}\r\n".encode()
            + b"Content-Length: 1000\r\n\r\n{",
        )
        assert status.split()[1] == b"400"


async def test_refused_requests_log_one_warning_a_minute(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with replica(api, catalog, SqliteStorage(tmp_path / "bot.sqlite3")) as server:
        url = f"http://127.0.0.1:{server.port}/telegram"
        with caplog.at_level(logging.WARNING):
            for _ in range(30):
                assert await api.deliver_webhook({"update_id": 1}, secret="wrong", url=url) == 403
    refused = [r for r in caplog.records if "refused a webhook request" in r.getMessage()]
    assert len(refused) == 1


def test_a_throttled_warning_says_how_many_were_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    throttle = Throttle(logging.getLogger("test"), interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for _ in range(10):
            throttle.warning("refused %s", "x")
        now[0] = 61
        throttle.warning("refused %s", "x")
    assert [r.getMessage() for r in caplog.records] == [
        "refused x",
        "refused x (and 9 more like it since)",
    ]
