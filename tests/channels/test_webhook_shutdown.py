"""SIGTERM in the middle of a burst: the real ``relais run --webhook``, as a process.

Telegram's promise is at-least-once: an update not answered 200 is delivered again. Ours
is that a 200 means done. So we fire a burst of teens at the bot, send SIGTERM while
most of them are still being answered (the rate limiter holds their replies), then check
that every update answered 200 is in the database, replies sent; that the others were
refused rather than half-done; and that after a restart their redelivery completes
everyone, each exactly once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.privacy import pseudonym
from bot.storage.postgres import PostgresStorage
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi, builders
from tests.replica import WEBHOOK_SECRET, free_port, get

BURST = range(5001, 5061)  # in flight when SIGTERM arrives
LATE = range(5061, 5081)  # sent just after it
START_TIMEOUT = 30.0
ROOT = Path(__file__).resolve().parents[2]


def key(user_id: int) -> str:
    return pseudonym(SECRET, "telegram", user_id)  # what the bot stores instead of the id


def start_update(user_id: int) -> dict[str, Any]:
    update = builders.private_command(user_id, "/start")
    update["update_id"] = 100_000 + user_id
    return update


class Bot:
    """``relais run --webhook`` in a child process, configured only by its environment."""

    def __init__(self, api: FakeBotApi, database_url: str, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/telegram"
        self.log = workdir / "relais.log"
        self.workdir = workdir
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "DATABASE"))},
            "TELEGRAM_BOT_TOKEN": api.token,
            "BOT_API_URL": api.base_url,
            "DATABASE_URL": database_url,
            "PSEUDONYM_SECRET": SECRET,
            "WEBHOOK_URL": self.url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(self.port),
            "LOG_LEVEL": "INFO",
            "PTB_TIMEDELTA": "1",
            "PYTHONPATH": str(ROOT),  # the code under test, whatever is installed
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, api: FakeBotApi) -> None:
        relais = Path(sys.executable).with_name("relais")
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(relais),
                "run",
                "--webhook",
                cwd=self.workdir,  # no stray .env
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.returncode is None, f"relais exited:\n{self.log.read_text()}"
            if api.webhook_url == self.url:
                try:
                    if (await get(f"http://127.0.0.1:{self.port}/healthz"))[0] == 200:
                        return
                except aiohttp.ClientError:
                    pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"relais did not become healthy:\n{self.log.read_text()}")

    async def logged(self, line: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while line not in self.log.read_text():
            assert time.monotonic() < deadline, f"never logged {line!r}:\n{self.log.read_text()}"
            await asyncio.sleep(0.01)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    async def wait(self) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), 40)


async def test_sigterm_during_a_burst_loses_nothing(
    api: FakeBotApi, postgres_url: str, tmp_path: Path
) -> None:
    bot = Bot(api, postgres_url, tmp_path)
    statuses: dict[int, int] = {}
    finished: dict[int, float] = {}
    ten_answered = asyncio.Event()

    async def deliver(user_id: int) -> None:
        try:
            status = await api.deliver_webhook(start_update(user_id), url=bot.url)
        except aiohttp.ClientError:  # connection refused or dropped: not delivered
            status = 0
        statuses[user_id] = status
        finished[user_id] = time.monotonic()
        if sum(1 for s in statuses.values() if s == 200) >= 10:
            ten_answered.set()

    await bot.start(api)
    try:
        burst = [asyncio.create_task(deliver(u)) for u in BURST]
        await asyncio.wait_for(ten_answered.wait(), 20)
        bot.terminate()
        signalled = time.monotonic()
        await bot.logged("stop signal received")  # from here on it takes nothing new
        late = [asyncio.create_task(deliver(u)) for u in LATE]
        await asyncio.gather(*burst, *late)
        assert await bot.wait() == 0
    finally:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()

    log = bot.log.read_text()
    ok = [u for u, s in statuses.items() if s == 200]
    refused = [u for u, s in statuses.items() if s != 200]
    assert set(statuses.values()) <= {200, 503, 0}, statuses  # never a half-done 500
    drained = [u for u in ok if finished[u] > signalled]
    assert drained, "no update was in flight at SIGTERM: the drain was not exercised"
    assert set(LATE) <= set(refused), "updates sent after SIGTERM must be refused"
    assert "stop signal received" in log and "webhook server stopped" in log
    assert api.token not in log and WEBHOOK_SECRET not in log

    async with PostgresStorage(postgres_url) as storage:
        for user_id in ok:
            stored = await storage.load(key(user_id))
            assert stored is not None and stored.version == 1, f"user {user_id} lost"
            assert api.messages(user_id), f"user {user_id} got no reply"
            update_id = start_update(user_id)["update_id"]
            assert not await storage.claim_update(update_id, dt.datetime.now(dt.UTC))

    # Telegram delivers the refused ones again, once a replica is up.
    bot = Bot(api, postgres_url, tmp_path)
    await bot.start(api)
    try:
        again = [api.deliver_webhook(start_update(u), url=bot.url) for u in refused]
        assert set(await asyncio.gather(*again)) <= {200}
        await api.settle()
        bot.terminate()
        assert await bot.wait() == 0
    finally:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()

    async with PostgresStorage(postgres_url) as storage:
        for user_id in (*BURST, *LATE):
            stored = await storage.load(key(user_id))
            assert stored is not None and stored.version == 1, f"user {user_id}"
    welcomes = [c for c in api.calls_of("sendMessage") if "3018" in str(c.params.get("text"))]
    assert len(welcomes) == len(BURST) + len(LATE)  # everyone welcomed, no one twice
