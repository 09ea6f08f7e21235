"""Two replicas on one PostgreSQL database, racing on the same conversations.

Each round, every teen presses a button (delivered to one replica) and types a message
(delivered to the other) at the same instant. Both replicas read the same version; the
loser of the save re-reads and re-applies. The proof that nothing is lost or skipped:
every teen ends exactly where a teen who did the same things one at a time ends (same
step, answers, history, statistics, number of replies), and the version counts every
update once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from bot.channels.telegram.webhook import WebhookServer
from bot.content.catalog import Catalog
from bot.privacy import pseudonym
from bot.storage.base import Storage
from bot.storage.postgres import PostgresStorage
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi, builders
from tests.replica import replica

TEENS = range(4001, 4011)
ROUNDS = 4
EVER = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
REFERENCE = 4000


def key(user_id: int) -> str:
    return pseudonym(SECRET, "telegram", user_id)  # what the bot stores instead of the id


def replies_to(api: FakeBotApi, chat_id: int) -> int:
    return sum(
        1
        for c in api.calls
        if c.method in {"sendMessage", "editMessageText"} and c.params.get("chat_id") == chat_id
    )


async def where(storage: Storage, user_id: int) -> tuple[Any, ...]:
    stored = await storage.load(key(user_id))
    assert stored is not None
    c = stored.conversation
    return (c.flow, c.step, c.history, c.answers, stored.version)


async def statistics(storage: Storage, user_id: int) -> Counter[tuple[Any, ...]]:
    stored = await storage.load(key(user_id))
    assert stored is not None
    session = stored.conversation.session
    return Counter(
        (e.kind, e.flow, e.step, e.choice)
        for e in await storage.fetch_events(*EVER)
        if e.session == session
    )


def press(api: FakeBotApi, user_id: int, data: str) -> dict[str, Any]:
    """A press of ``data`` on the teen's latest keyboard message."""
    message = api.user(user_id).keyboard_message()
    assert message is not None
    return builders.callback(user_id, message, data)


async def test_two_replicas_racing_on_the_same_teens_lose_nothing(
    api: FakeBotApi, catalog: Catalog, postgres_url: str
) -> None:
    a_storage, b_storage = PostgresStorage(postgres_url), PostgresStorage(postgres_url)
    async with replica(api, catalog, a_storage) as a, replica(api, catalog, b_storage) as b:
        send = _sender(api)

        # The reference teen does everything one at a time, on one replica.
        choices: list[str] = []
        assert await send(a, builders.private_command(REFERENCE, "/start")) == 200
        for _ in range(ROUNDS):
            keyboard = api.user(REFERENCE).keyboard_message()
            assert keyboard is not None
            choices.append(keyboard.inline_keyboard[0][0]["callback_data"])
            assert await send(a, press(api, REFERENCE, choices[-1])) == 200
            assert await send(a, builders.private_text(REFERENCE, "bonjour")) == 200
        await api.settle()

        # The others: the same choices, each press racing a message on the other replica.
        starts = [send(a, builders.private_command(t, "/start")) for t in TEENS]
        assert set(await asyncio.gather(*starts)) == {200}
        for n, choice in enumerate(choices):
            racing = []
            for i, teen in enumerate(TEENS):
                first, second = (a, b) if (i + n) % 2 else (b, a)
                racing.append(send(first, press(api, teen, choice)))
                racing.append(send(second, builders.private_text(teen, "bonjour")))
            assert set(await asyncio.gather(*racing)) == {200}
        await api.settle()

        expected = await where(a_storage, REFERENCE)
        assert expected[4] == 1 + 2 * ROUNDS  # one save per update
        expected_stats = await statistics(a_storage, REFERENCE)
        for teen in TEENS:
            assert await where(b_storage, teen) == expected, f"teen {teen}"
            assert await statistics(b_storage, teen) == expected_stats, f"teen {teen}"
            assert replies_to(api, teen) == replies_to(api, REFERENCE), f"teen {teen}"

        conflicts = sum(r.metrics.value("relais_version_conflicts_total") for r in (a, b))
        assert conflicts > 0, "the replicas never raced: the test proved nothing"
        handled = sum(r.metrics.value("relais_updates_total", result="ok") for r in (a, b))
        assert handled == (1 + 2 * ROUNDS) * (len(TEENS) + 1)


def _sender(api: FakeBotApi) -> Callable[[WebhookServer, dict[str, Any]], Any]:
    async def send(server: WebhookServer, update: dict[str, Any]) -> int:
        return await api.deliver_webhook(update, url=server.config.url)

    return send
