"""Another child's wait while one chat floods the bot, polling and webhook.

    .venv/bin/python bench/backlog.py            # ~1 minute

One chat queues 500 updates at once (private: stickers, /start, texts, presses; group:
/aide, /urgence and texts, with Telegram's real 20-messages-a-minute group limit), then 100
other children each send /start, one every 100 ms. Reported: how long each of those children
waited for the first reply (update queued -> reply received by the fake Bot API), p50, p99,
max. Target (issue #13): p99 <= 1 s.

The real ``build_application`` with SQLite, against the fake Bot API of the tests
(``tests/fakebotapi``, which answers at once). Polling: the updates wait in the fake's
``getUpdates`` queue. Webhook: the fake delivers them in order over at most 40 connections
at a time, as Telegram does with ``max_connections=40``; a child's wait includes the queue.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PTB_TIMEDELTA", "1")

import aiohttp  # noqa: E402

from bot.content.catalog import Catalog  # noqa: E402
from bot.dialogue.checks import load_catalog  # noqa: E402
from bot.dialogue.engine import Engine  # noqa: E402
from bot.dialogue.service import Dialogue  # noqa: E402
from bot.storage.sqlite import SqliteStorage  # noqa: E402
from tests.fakebotapi import FakeBotApi, builders  # noqa: E402
from tests.harness import relais  # noqa: E402
from tests.replica import replica  # noqa: E402

FLOODER, GROUP, FIRST_CHILD = 900_001, -900_002, 1_000_000
# Children come at 10 a second: with two messages each, under Telegram's 30 a second.
FLOOD, CHILDREN, EVERY = 500, 100, 0.1
LANES = 40  # Telegram's default max_connections to a webhook


def private_flood() -> list[dict[str, Any]]:
    shown = {"message_id": 2, "date": 0, "chat": builders.chat_dict(FLOODER)}
    kinds: list[Callable[[int], dict[str, Any]]] = [
        lambda n: builders.sticker(FLOODER, message_id=n),
        lambda n: builders.private_command(FLOODER, "start", message_id=n),
        lambda n: builders.private_text(FLOODER, "allo ?", message_id=n),
        lambda n: builders.callback(FLOODER, shown, "start:1:who:me"),
    ]
    return [kinds[n % len(kinds)](100 + n) for n in range(FLOOD)]


def group_flood() -> list[dict[str, Any]]:
    kinds: list[Callable[[int], dict[str, Any]]] = [
        lambda n: builders.group_command(GROUP, FLOODER, "aide", message_id=n),
        lambda n: builders.group_command(GROUP, FLOODER, "urgence", message_id=n),
        lambda n: builders.group_text(GROUP, FLOODER, "allo ?", message_id=n),
    ]
    return [kinds[n % len(kinds)](100 + n) for n in range(FLOOD)]


def child(n: int) -> dict[str, Any]:
    return builders.private_command(FIRST_CHILD + n, "start")


async def measure(
    api: FakeBotApi, send: Callable[[dict[str, Any]], None], flood: list[Any]
) -> list[float]:
    """Queue the flood, then the children; each child's wait for its first reply."""
    queued: dict[int, float] = {}
    for update in flood:
        send(update)
    for n in range(CHILDREN):
        queued[FIRST_CHILD + n] = time.monotonic()
        send(child(n))
        await asyncio.sleep(EVERY)
    waits: dict[int, float] = {}
    deadline = time.monotonic() + 60
    while len(waits) < CHILDREN and time.monotonic() < deadline:
        for call in api.calls:
            chat = call.params.get("chat_id")
            if call.method == "sendMessage" and chat in queued and chat not in waits:
                waits[chat] = call.at - queued[chat]
        await asyncio.sleep(0.05)
    missing = CHILDREN - len(waits)
    return sorted(waits.values()) + [float("inf")] * missing


@asynccontextmanager
async def polling(
    api: FakeBotApi, catalog: Catalog, db: Path
) -> AsyncIterator[Callable[[dict[str, Any]], None]]:
    from bot.dialogue.conversation_cache import ConversationCache

    dialogue = Dialogue(Engine(catalog), SqliteStorage(db), cache=ConversationCache())
    async with relais(api, dialogue):

        def send(update: dict[str, Any]) -> None:
            api.push_update(update)

        yield send


@asynccontextmanager
async def webhook(
    api: FakeBotApi, catalog: Catalog, db: Path
) -> AsyncIterator[Callable[[dict[str, Any]], None]]:
    async with (
        replica(api, catalog, SqliteStorage(db)),
        # Like Telegram: at most LANES connections, kept alive between updates.
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LANES)) as session,
    ):
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        headers = {"X-Telegram-Bot-Api-Secret-Token": api.webhook_secret or ""}

        async def lane() -> None:
            while True:
                update = api._prepare_update(await queue.get())  # the fake learns the chat
                async with session.post(api.webhook_url, json=update, headers=headers) as r:
                    await r.read()

        lanes = [asyncio.create_task(lane()) for _ in range(LANES)]
        try:
            yield queue.put_nowait
        finally:
            for task in lanes:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)


def line(name: str, waits: list[float]) -> str:
    p99 = waits[max(0, round(len(waits) * 0.99) - 1)]
    return (
        f"{name:<20} p50 {statistics.median(waits) * 1000:7.0f} ms   p99 {p99 * 1000:7.0f} ms   "
        f"max {waits[-1] * 1000:7.0f} ms   ({len(waits)} children)"
    )


async def main(args: argparse.Namespace) -> None:
    catalog = load_catalog(ROOT / "flows", ROOT / "locales")
    modes = {"polling": polling, "webhook": webhook}
    floods = {"none": list, "private": private_flood, "group": group_flood}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in args.modes:
            for kind in args.floods:
                async with FakeBotApi() as api:
                    api.add_chat(GROUP, chat_type="group")
                    api.set_chat_member(GROUP, FLOODER, "member")
                    db = Path(tmp) / f"{mode}-{kind}.sqlite3"
                    async with modes[mode](api, catalog, db) as send:
                        waits = await measure(api, send, floods[kind]())
                    print(line(f"{mode}, {kind} flood", waits), flush=True)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--modes", nargs="+", default=["polling", "webhook"])
    p.add_argument("--floods", nargs="+", default=["none", "private", "group"])
    return p.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(parse()))
