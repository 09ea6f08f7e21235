"""Another child's wait while one chat floods the bot, polling and webhook.

    .venv/bin/python bench/backlog.py            # ~1 minute

One chat queues 500 updates at once (private: stickers, /start, texts, presses; group:
/aide, /urgence and texts, with Telegram's real 20-messages-a-minute group limit), then 100
other children each send /start, one every 100 ms. Reported: how long each of those children
waited for the first reply (update queued -> reply received by the fake Bot API), p50, p99,
max. Target (issue #13): p99 <= 1 s.

The real ``build_application`` with SQLite, against the fake Bot API of the tests
(``tests/fakebotapi``, which answers at once). Polling: the updates wait in the fake's
``getUpdates`` queue. Webhook: a process standing for Telegram delivers them in order over
at most 40 connections at a time, as Telegram does with ``max_connections=40``; a child's
wait includes that queue.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
    """Telegram's side runs in a process of its own (``deliver``), so that posting the
    updates costs the bot's process nothing, as with the real Telegram."""
    async with replica(api, catalog, SqliteStorage(db)):
        telegram = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--deliver",
            api.webhook_url,
            api.webhook_secret or "",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert telegram.stdin is not None and telegram.stdout is not None
        pipe = telegram.stdin
        await telegram.stdout.readline()  # started: its imports are not the bot's wait

        def send(update: dict[str, Any]) -> None:
            prepared = api._prepare_update(update)  # the fake learns the chat
            pipe.write(json.dumps(prepared).encode() + b"\n")

        try:
            yield send
        finally:
            pipe.close()
            await telegram.wait()


async def deliver(url: str, secret: str) -> None:
    """Telegram's stand-in: each update read on stdin is posted in order, over at most
    ``LANES`` connections kept alive, until stdin closes and the queue is empty."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin.buffer:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        for _ in range(LANES):
            loop.call_soon_threadsafe(queue.put_nowait, None)

    headers = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LANES)) as session:

        async def lane() -> None:
            while (body := await queue.get()) is not None:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()

        print("ready", flush=True)
        reader = loop.run_in_executor(None, read)
        await asyncio.gather(*(lane() for _ in range(LANES)))
        await reader


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
    p.add_argument("--deliver", nargs=2, metavar=("URL", "SECRET"), help=argparse.SUPPRESS)
    p.add_argument("--modes", nargs="+", default=["polling", "webhook"])
    p.add_argument("--floods", nargs="+", default=["none", "private", "group"])
    return p.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    arguments = parse()
    if arguments.deliver:
        asyncio.run(deliver(*arguments.deliver))
    else:
        asyncio.run(main(arguments))
