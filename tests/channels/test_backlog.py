"""One chat's flood never silences the bot for the others, and never loses what matters.

The rule (``bot.channels.telegram.backlog``) on its own, then the update processor with
stand-in coroutines, then the real bot on the fake Bot API, polling and webhook: a chat
with hundreds of updates queued while its first reply hangs, and another child answered
meanwhile. Speed itself is measured by ``bench/backlog.py``, not here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.backlog import PER_CHAT, PER_KIND, Arrival, Backlog, Kind
from bot.channels.telegram.ordering import (
    PerChatUpdateProcessor,
    arrival_of,
    arrival_of_data,
    ordering_key,
)
from bot.content.catalog import Catalog
from bot.dialogue.service import Dialogue
from bot.storage.sqlite import SqliteStorage
from tests.fakebotapi import FakeBotApi, builders
from tests.harness import relais
from tests.replica import replica

FLOODER, OTHER, GROUP = 7001, 7002, -7003
CRISIS = "je veux mourir"


# -- the rule ------------------------------------------------------------------------------


def test_repeated_stickers_beyond_a_few_are_dropped_but_not_another_chats() -> None:
    backlog = Backlog()
    sticker = Arrival(FLOODER, Kind.MEDIA)
    admitted = [backlog.admit(sticker) for _ in range(50)]
    assert admitted.count(True) == PER_KIND
    assert backlog.admit(Arrival(OTHER, Kind.MEDIA))
    assert backlog.dropped == 50 - PER_KIND


def test_a_press_is_never_dropped_however_long_the_backlog() -> None:
    backlog = Backlog()
    for _ in range(20):
        backlog.admit(Arrival(FLOODER, Kind.COMMAND, command="start"))
        backlog.admit(Arrival(FLOODER, Kind.TEXT))
    assert all(backlog.admit(Arrival(FLOODER, Kind.PRESS)) for _ in range(100))
    assert all(backlog.admit(Arrival(FLOODER, Kind.MEMBER)) for _ in range(10))


def test_a_crisis_text_is_kept_when_ordinary_texts_are_dropped() -> None:
    backlog = Backlog()
    text = Arrival(FLOODER, Kind.TEXT)
    for _ in range(PER_KIND):
        assert backlog.admit(text, lambda: False)
    assert not backlog.admit(text, lambda: False)
    assert backlog.admit(text, lambda: True)


def test_the_crisis_detector_is_asked_only_for_a_text_that_would_be_dropped() -> None:
    asked: list[int] = []
    backlog = Backlog()
    for _ in range(PER_KIND):
        backlog.admit(Arrival(FLOODER, Kind.TEXT), lambda: bool(asked.append(1)))
    assert asked == []


def test_all_repeatable_kinds_together_are_bounded_per_chat() -> None:
    backlog = Backlog()
    names = [f"c{i}" for i in range(20)]
    admitted = [backlog.admit(Arrival(FLOODER, Kind.COMMAND, command=n)) for n in names]
    assert admitted.count(True) == PER_CHAT


def test_a_started_update_makes_room_for_the_next() -> None:
    backlog = Backlog()
    sticker = Arrival(FLOODER, Kind.MEDIA)
    for _ in range(PER_KIND):
        backlog.admit(sticker)
    assert not backlog.admit(sticker)
    backlog.started(sticker)
    assert backlog.admit(sticker)
    for _ in range(PER_KIND):
        backlog.started(sticker)
    assert backlog.chats_waiting == 0  # no chat id kept once nothing waits


def test_a_group_gets_one_help_card_a_minute() -> None:
    now = [0.0]
    backlog = Backlog(group_once={"aide": "help", "help": "help"}, clock=lambda: now[0])
    aide = Arrival(GROUP, Kind.COMMAND, group=True, command="aide")
    assert backlog.admit(aide)
    backlog.started(aide)  # even once the first has been answered
    now[0] = 59.0
    assert not backlog.admit(aide)
    assert not backlog.admit(Arrival(GROUP, Kind.COMMAND, group=True, command="help"))
    assert backlog.admit(Arrival(GROUP - 1, Kind.COMMAND, group=True, command="aide"))
    now[0] = 61.0
    assert backlog.admit(aide)
    # A private /aide is not held to the group's window.
    assert backlog.admit(Arrival(FLOODER, Kind.COMMAND, command="aide"))


def test_updates_are_sorted_into_kinds() -> None:
    def kind(data: dict[str, Any]) -> Arrival:
        update = Update.de_json({"update_id": 1, **data}, None)
        assert update is not None
        return arrival_of(update, 1)

    assert kind(builders.sticker(FLOODER)).kind is Kind.MEDIA
    assert kind(builders.private_text(FLOODER, "hello")).kind is Kind.TEXT
    start = kind(builders.private_command(FLOODER, "Start@relais_test_bot", "tok"))
    assert (start.kind, start.command, start.group) == (Kind.COMMAND, "start", False)
    aide = kind(builders.group_command(GROUP, FLOODER, "aide"))
    assert (aide.kind, aide.command, aide.group) == (Kind.COMMAND, "aide", True)
    pressed = {"message_id": 3, "date": 0, "chat": {"id": FLOODER, "type": "private"}}
    assert kind(builders.callback(FLOODER, pressed, "x")).kind is Kind.PRESS


@pytest.mark.parametrize(
    "data",
    [
        builders.sticker(FLOODER),
        builders.photo(FLOODER),
        builders.private_text(FLOODER, "hello"),
        builders.private_command(FLOODER, "Start@relais_test_bot", "tok"),
        builders.group_command(GROUP, FLOODER, "aide"),
        builders.group_text(GROUP, FLOODER, "allo"),
        builders.callback(
            FLOODER, {"message_id": 3, "date": 0, "chat": {"id": FLOODER, "type": "private"}}, "x"
        ),
        builders.new_members(GROUP, [FLOODER]),
    ],
)
def test_the_raw_json_is_sorted_as_the_decoded_update(data: dict[str, Any]) -> None:
    """The webhook refuses a doomed repeat before decoding it: same rule, same answer."""
    decoded = Update.de_json({"update_id": 1, **data}, None)
    assert decoded is not None
    key = ordering_key(decoded)
    assert key is not None
    assert arrival_of_data({"update_id": 1, **data}) == arrival_of(decoded, key)


# -- the processor ---------------------------------------------------------------------------


def update(data: dict[str, Any], update_id: int) -> Update:
    parsed = Update.de_json({"update_id": update_id, **data}, None)
    assert parsed is not None
    return parsed


async def test_waiting_for_ones_own_chat_holds_no_slot() -> None:
    """Two slots: the flooder's first update runs (blocked), its next ones wait for their
    chat. Another chat must still get the second slot."""
    processor = PerChatUpdateProcessor(2)
    release = asyncio.Event()
    done: list[int] = []

    async def work(update_id: int, block: bool = False) -> None:
        if block:
            await release.wait()
        done.append(update_id)

    pressed = {"message_id": 3, "date": 0, "chat": {"id": FLOODER, "type": "private"}}
    tasks = [
        asyncio.create_task(
            processor.process_update(
                update(builders.callback(FLOODER, pressed, "x"), n), work(n, block=n == 1)
            )
        )
        for n in range(1, 6)
    ]
    other = update(builders.private_command(OTHER, "start"), 99)
    other_task = asyncio.create_task(processor.process_update(other, work(99)))
    await asyncio.wait_for(other_task, 5)
    assert done == [99]  # answered while the flooder's backlog still waits
    release.set()
    await asyncio.gather(*tasks)
    assert done == [99, 1, 2, 3, 4, 5]  # and the flooder's presses all ran, in order


async def test_a_dropped_update_is_never_run() -> None:
    processor = PerChatUpdateProcessor(4)
    release = asyncio.Event()
    ran: list[int] = []

    async def work(n: int) -> None:
        await release.wait()
        ran.append(n)

    tasks = [
        asyncio.create_task(processor.process_update(update(builders.sticker(FLOODER), n), work(n)))
        for n in range(1, 21)
    ]
    await asyncio.sleep(0.05)  # every task has reached the processor
    release.set()
    await asyncio.gather(*tasks)
    # The first runs at once; PER_KIND more wait; the rest were dropped.
    assert ran == list(range(1, PER_KIND + 2))
    assert processor.chats_in_flight == 0 and processor.backlog.chats_waiting == 0


# -- the real bot ------------------------------------------------------------------------------


def sent_to(api: FakeBotApi, chat_id: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in api.calls
        if c.method in {"sendMessage", "editMessageText"} and c.params.get("chat_id") == chat_id
    ]


def flood(first_message_id: int = 100) -> list[dict[str, Any]]:
    """200 stickers, 100 /start and 100 texts, with one crisis text in the middle."""
    updates: list[dict[str, Any]] = []
    for n in range(400):
        mid = first_message_id + n
        if n == 250:
            updates.append(builders.private_text(FLOODER, CRISIS, message_id=mid))
        elif n % 4 in (0, 1):
            updates.append(builders.sticker(FLOODER, message_id=mid))
        elif n % 4 == 2:
            updates.append(builders.private_command(FLOODER, "start", message_id=mid))
        else:
            updates.append(builders.private_text(FLOODER, "allo ?", message_id=mid))
    return updates


HANG = 60.0  # seconds: a reply hanging until the test releases it


def crisis_answered(api: FakeBotApi, chat_id: int) -> bool:
    return any("3114" in text for text in sent_to(api, chat_id))


async def test_polling_another_child_is_answered_while_one_chat_floods(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    # The flooder's first reply hangs until released, longer than a loaded machine can need
    # to answer the other child; the client waits as long (no timeout, no retry meanwhile).
    async with relais(api, dialogue_factory(), concurrent_updates=4, api_timeout=HANG):
        api.hang_next("sendMessage", HANG)
        api.push_update(builders.private_command(FLOODER, "start", message_id=1))
        first = await api.wait_for("sendMessage")
        for data in flood():
            api.push_update(data)
        api.mark()
        api.push_update(builders.private_command(OTHER, "start"))
        await api.wait_for(
            "sendMessage", predicate=lambda c: c.params.get("chat_id") == OTHER, timeout=HANG / 2
        )
        assert first[0].status in (0, None)  # the flooder's reply is still hanging
        api.release_hangs()
        await api.settle(quiet=0.2, timeout=30)
        assert crisis_answered(api, FLOODER)
        # Coalesced: a few answers, not one per update.
        assert len(sent_to(api, FLOODER)) < 40


async def test_webhook_another_child_is_answered_while_one_chat_floods(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    async with replica(api, catalog, storage, api_timeout=HANG):
        api.hang_next("sendMessage", HANG)  # until released, as in the polling test
        first_post = asyncio.create_task(
            api.deliver_webhook(builders.private_command(FLOODER, "start", message_id=1))
        )
        first = await api.wait_for("sendMessage")
        # Telegram keeps up to 40 connections open to a webhook (max_connections).
        lanes = asyncio.Semaphore(40)

        async def post(data: dict[str, Any]) -> int:
            async with lanes:
                return await api.deliver_webhook(data)

        posts = [asyncio.create_task(post(data)) for data in flood()]
        await asyncio.sleep(0.2)
        api.mark()
        other = post(builders.private_command(OTHER, "start"))
        assert await asyncio.wait_for(other, HANG / 2) == 200
        assert any(
            c.params.get("chat_id") == OTHER for c in api.calls_of("sendMessage", since_mark=True)
        )
        assert first[0].status in (0, None)
        api.release_hangs()
        statuses = await asyncio.gather(first_post, *posts)
        assert set(statuses) == {200}  # a dropped repeat is acknowledged, not retried
        await api.settle(quiet=0.2, timeout=30)
        assert crisis_answered(api, FLOODER)
        assert len(sent_to(api, FLOODER)) < 40


async def test_sixty_help_commands_in_a_group_bring_one_card(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    api.add_chat(GROUP, chat_type="group")
    api.set_chat_member(GROUP, FLOODER, "member")
    async with relais(api, dialogue_factory(), group_messages_per_minute=100_000):
        for _ in range(60):
            api.push_update(builders.group_command(GROUP, FLOODER, "aide"))
        teen = api.user(OTHER)
        replies = await teen.send("/start")
        assert "3018" in replies[0].text
        await api.settle(quiet=0.2, timeout=30)
        assert len(api.messages(GROUP)) == 1


async def test_webhook_a_busy_chats_crisis_text_is_acknowledged_only_once_handled(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    """A busy chat's ordinary update is accepted at once (200) and handled in its turn;
    words of danger keep their request open until handled, so a replica dying before
    that leaves Telegram to deliver them again."""
    storage = SqliteStorage(tmp_path / "bot.sqlite3")
    async with replica(api, catalog, storage, api_timeout=HANG):
        api.hang_next("sendMessage", HANG)  # the chat's first reply hangs: the chat is busy
        first_post = asyncio.create_task(
            api.deliver_webhook(builders.private_command(FLOODER, "start", message_id=1))
        )
        await api.wait_for("sendMessage")
        ordinary = await asyncio.wait_for(
            api.deliver_webhook(builders.private_text(FLOODER, "allo ?", message_id=2)), HANG / 2
        )
        assert ordinary == 200  # accepted while its chat is busy
        crisis_post = asyncio.create_task(
            api.deliver_webhook(builders.private_text(FLOODER, CRISIS, message_id=3))
        )
        await asyncio.sleep(0.5)
        assert not crisis_post.done()  # not acknowledged before it is handled
        api.release_hangs()
        assert await asyncio.wait_for(crisis_post, 30) == 200
        assert crisis_answered(api, FLOODER)
        assert await first_post == 200


def test_the_words_of_an_edited_message_are_read_for_danger() -> None:
    """An edited message is never dropped, and its new words are read for danger, so the
    webhook keeps its request open until it is handled, as for a new message."""
    processor = PerChatUpdateProcessor(4, urgent=lambda text: text == CRISIS)
    edited = builders.edited_text(FLOODER, CRISIS, message_id=5)
    assert processor.speaks_of_danger(update(edited, 1))
    assert not processor.speaks_of_danger(update(builders.edited_text(FLOODER, "ok"), 2))
    assert processor.would_admit({"update_id": 3, **edited})
