"""The operator page over real HTTP (aiohttp's test server on 127.0.0.1).

Without the right token: a bare 401 and nothing else, whatever the path or parameters.
With it: the HTML report, and the CSV/JSON/XLSX downloads of the same figures. It also
mounts under a prefix in another aiohttp app, as the webhook server will.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import jsonschema
import openpyxl
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import PROJECT_ROOT
from bot.export.dashboard import SafeAccessLogger, dashboard_app
from bot.storage.sqlite import SqliteStorage
from tests.export_seed import seed

TOKEN = "operator-token-0123456789"
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
SCHEMA = json.loads((PROJECT_ROOT / "docs" / "export-schema-v2.json").read_text("utf-8"))
BEARER = {"Authorization": f"Bearer {TOKEN}"}
Q1 = {"from": "2026-01", "to": "2026-03"}


@pytest.fixture
async def client(
    sqlite_storage: SqliteStorage,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    await seed(sqlite_storage)
    app = dashboard_app(sqlite_storage, TOKEN, clock=lambda: NOW)
    server = TestServer(app)
    # As `relais dashboard` runs it: with the access logger that drops query strings.
    await server.start_server(access_log_class=SafeAccessLogger)
    async with TestClient(server) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/", {}),
        ("/export.csv", {}),
        ("/export.json?from=2026-01&to=2026-03", {}),
        ("/", {"Authorization": "Bearer wrong-token-0123456789"}),
        ("/", {"Authorization": f"Basic {TOKEN}"}),
        ("/", {"Authorization": "Bearer "}),
        ("/?token=wrong", {}),
        (f"/?token={TOKEN[:-1]}", {}),
        ("/export.xlsx?from=nonsense", {}),  # a bad request is still unauthorised first
        ("/nowhere", {}),
    ],
)
async def test_without_the_token_nothing_but_401(
    client: TestClient[web.Request, web.Application], path: str, headers: dict[str, str]
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status == 401
    assert await response.text() == "401: Unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_the_page_with_a_bearer_token(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/", headers=BEARER, params=Q1)
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    html = await response.text()
    assert html.count('<svg class="chart"') == 5
    assert 'href="export.csv?from=2026-01&amp;to=2026-03"' in html
    assert TOKEN not in html  # came by header: no reason to write it into the page


async def test_the_page_with_the_token_in_the_url_keeps_it_in_links(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/", params={**Q1, "token": TOKEN})
    assert response.status == 200
    html = await response.text()
    assert f"export.json?from=2026-01&amp;to=2026-03&amp;token={TOKEN}" in html
    assert f'<input type="hidden" name="token" value="{TOKEN}">' in html


async def test_downloads_carry_the_same_figures(
    client: TestClient[web.Request, web.Application],
) -> None:
    csv = await client.get("/export.csv", headers=BEARER, params=Q1)
    assert csv.status == 200
    assert csv.headers["Content-Disposition"] == (
        'attachment; filename="relais-2026-01-2026-03.csv"'
    )
    body = await csv.read()
    assert body.startswith(b"\xef\xbb\xbf") and b"2026-01;12;8;<5;<5\r\n" in body

    data = await (await client.get("/export.json", headers=BEARER, params=Q1)).json()
    jsonschema.validate(data, SCHEMA, cls=jsonschema.Draft202012Validator)
    activity = data["tables"][0]
    assert [c["display"] for c in activity["total"]["cells"]] == ["18+", "14+", "0+", "6+"]

    xlsx = await client.get("/export.xlsx", headers=BEARER, params=Q1)
    book = openpyxl.load_workbook(io.BytesIO(await xlsx.read()))
    assert book["activity"]["B3"].value == 12


async def test_default_range_is_the_last_twelve_closed_months(
    client: TestClient[web.Request, web.Application],
) -> None:
    data = await (await client.get("/export.json", headers=BEARER)).json()
    assert data["range"] == {"from": "2025-06", "to": "2026-05", "timezone": "Europe/Paris"}


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13"},
        {"from": "2026-03", "to": "2026-01"},
        {"from": "2010-01", "to": "2026-01"},
        {"from": "2030-01", "to": "2030-02"},  # not over yet
    ],
)
async def test_bad_parameters_are_a_400_once_authorised(
    client: TestClient[web.Request, web.Application], params: dict[str, str]
) -> None:
    response = await client.get("/export.json", headers=BEARER, params=params)
    assert response.status == 400


async def test_access_log_never_shows_the_token(
    client: TestClient[web.Request, web.Application], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="aiohttp.access"):
        await client.get("/export.csv", params={**Q1, "token": TOKEN})
        await client.get("/", params={"token": "a-guess"})
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any("GET /export.csv 200" in line for line in lines)
    assert any("GET / 401" in line for line in lines)
    assert not any("token" in line for line in lines)


async def test_it_mounts_under_a_prefix_beside_other_routes(sqlite_storage: SqliteStorage) -> None:
    await seed(sqlite_storage)

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    parent = web.Application()
    parent.router.add_get("/healthz", health)
    parent.add_subapp("/dashboard/", dashboard_app(sqlite_storage, TOKEN, clock=lambda: NOW))
    async with TestClient(TestServer(parent)) as c:
        assert (await c.get("/healthz")).status == 200  # the parent's routes stay open
        assert (await c.get("/dashboard/")).status == 401
        page = await c.get("/dashboard/", headers=BEARER, params=Q1)
        assert page.status == 200
        csv = await c.get("/dashboard/export.csv", headers=BEARER, params=Q1)
        assert csv.status == 200


def test_a_short_or_missing_token_is_refused(sqlite_storage: SqliteStorage) -> None:
    for token in ("", "short"):
        with pytest.raises(ValueError, match="DASHBOARD_TOKEN"):
            dashboard_app(sqlite_storage, token)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_relais_dashboard_serves_until_stopped(tmp_path: Path) -> None:
    """The command as an operator runs it: its own process, storage opened by the app."""
    database = tmp_path / "relais.sqlite3"
    async with SqliteStorage(database) as storage:
        await seed(storage)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DASHBOARD_TOKEN": TOKEN}
    relais = [sys.executable, "-m", "bot.cli", "dashboard", "--port", str(port)]
    process = await asyncio.create_subprocess_exec(
        *relais, env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            for _ in range(600):  # up to a minute to start: imports crawl on a loaded machine
                assert process.returncode is None, "relais dashboard exited"
                try:
                    async with http.get("/") as response:
                        assert response.status == 401
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("relais dashboard did not start")
            async with http.get("/export.csv", headers=BEARER, params=Q1) as response:
                assert response.status == 200
                assert b"2026-01;12;8;<5;<5" in await response.read()
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 10)
    assert TOKEN not in output.decode()
    no_token = {k: v for k, v in env.items() if k != "DASHBOARD_TOKEN"}
    refused = await asyncio.create_subprocess_exec(
        *relais, env=no_token, cwd=tmp_path, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(refused.communicate(), 30)
    assert refused.returncode == 1 and b"DASHBOARD_TOKEN" in out
