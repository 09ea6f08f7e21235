"""Faults: Telegram and the database misbehave, and nobody is left in silence.

The real Application talks HTTP to the fake Bot API, which injects each fault the way
Telegram produces it (status, description, ``retry_after``, a hang, refused connections).
The rule checked throughout: the bot retries or degrades, never crashes, never loses
the person's place; when things come back, everyone waiting gets their answer.

Retry pauses are shortened here (``FAST``) so the suite stays quick; production waits
about a minute for Telegram and 2.5 s for the database (``bot.channels.telegram.retry``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path

import pytest

from bot.channels.telegram.retry import RetryPolicy
from bot.content.catalog import Catalog
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.privacy import pseudonym
from bot.storage.sqlite import SqliteStorage
from tests.conftest import SECRET
from tests.crowd import PATH, Teen, eventually, watching
from tests.fakebotapi import FakeBotApi, builders
from tests.harness import relais
from tests.process import Process
from tests.texts import french, shipped

FAST = RetryPolicy(telegram=(0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0), storage=(0.2, 0.4))
ROOT = Path(__file__).resolve().parents[2]
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def key(user_id: int) -> str:
    return pseudonym(SECRET, "telegram", user_id)


def texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [m.text or "" for m in api.messages(chat_id)]


async def stored_step(db: Path, user_id: int) -> str | None:
    """The step saved for ``user_id``, read through a connection of our own."""
    async with SqliteStorage(db) as storage:
        stored = await storage.load(key(user_id))
    return None if stored is None or not stored.conversation.active else stored.conversation.step


def no_ids_in(caplog: pytest.LogCaptureFixture, *ids: int) -> None:
    logged = caplog.text
    for user_id in ids:
        assert str(user_id) not in logged, "a Telegram id reached the log"


# --------------------------------------------------------------------------- Telegram


async def test_429_waits_for_retry_after_even_past_the_rate_limiters_retries(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    async with relais(api, dialogue_factory(), retry=FAST):
        teen = api.user(3101)
        api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        api.push_update(builders.private_command(3101, "/start"))
        await eventually(lambda: len(teen.messages) == 2, what="welcome and first question")
        sends = api.calls_of("sendMessage")
        assert [c.status for c in sends] == [429, 200, 200]
        assert sends[1].at - sends[0].at >= 1.0  # Telegram's retry_after was respected
        assert "3018" in teen.messages[0].text

        # Five 429s in a row: more than the rate limiter's own three retries.
        api.fail_next("editMessageText", 429, "Too Many Requests: retry after 0", times=5)
        api.push_update(builders.callback(3101, teen.last_message, "start:1:who:me"))
        await eventually(
            lambda: teen.last_message.text == french("victim.danger.question"), what="edit"
        )
        edits = api.calls_of("editMessageText")
        assert [c.status for c in edits] == [429] * 5 + [200]
        assert len(teen.messages) == 2


async def test_5xx_are_retried_and_nothing_is_doubled(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    async with relais(api, dialogue_factory(), retry=FAST):
        teen = api.user(3201)
        api.fail_next("sendMessage", 500, "Internal Server Error", times=2)
        api.push_update(builders.private_command(3201, "/start"))
        await eventually(lambda: len(teen.messages) == 2, what="welcome and first question")
        api.fail_next("editMessageText", 502, "Bad Gateway")
        api.push_update(builders.callback(3201, teen.last_message, "start:1:who:me"))
        await eventually(
            lambda: teen.last_message.text == french("victim.danger.question"), what="edit"
        )
    assert [c.status for c in api.calls_of("sendMessage")] == [500, 500, 200, 200]
    assert [c.status for c in api.calls_of("editMessageText")] == [502, 200]
    assert len(teen.messages) == 2  # each message once
    assert "sendMessage failed (NetworkError); retry 2" in caplog.text
    assert "editMessageText failed (NetworkError); retry 1" in caplog.text
    assert "update failed" not in caplog.text
    no_ids_in(caplog, 3201)


async def test_a_reply_lost_after_every_retry_leaves_the_step_saved(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = tmp_path / "lost.sqlite3"
    brief = RetryPolicy(telegram=(0.05, 0.05))
    async with relais(api, dialogue_factory(db), retry=brief):
        teen = api.user(3251)
        await teen.send("/start")
        api.fail_next("editMessageText", 500, "Internal Server Error", times=3)
        api.push_update(builders.callback(3251, teen.last_message, "start:1:who:me"))
        await eventually(lambda: "reply not delivered" in caplog.text, what="the loss logged")
        assert await stored_step(db, 3251) == "danger"  # the answer counted all the same
        replies = await teen.send("ok")  # the next message shows where the teen is
        assert replies[-1].text == french("victim.danger.question")
    assert "update failed" not in caplog.text


async def test_a_hung_request_does_not_make_anyone_else_wait(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    """Telegram takes 30 s to answer one send: that teen's request times out (2 s here,
    5 s in production) and is retried; another teen is answered meanwhile."""
    async with relais(api, dialogue_factory(), retry=FAST, api_timeout=2.0):
        api.hang_next("sendMessage", 30)
        api.push_update(builders.private_command(3301, "/start"))
        await eventually(
            lambda: any(c.method == "sendMessage" and not c.status for c in api.calls),
            what="a send hanging",
        )
        hung = api.calls_of("sendMessage")[0]
        api.push_update(builders.private_command(3302, "/start"))
        await eventually(lambda: len(api.messages(3302)) == 2, what="the other teen")
        # While the first still waits for its timeout: its retry has not even been sent.
        assert not hung.status and api.messages(3301) == []
        assert len([c for c in api.calls_of("sendMessage") if c.params["chat_id"] == 3301]) == 1
        await eventually(lambda: len(api.messages(3301)) == 2, what="the hung teen")
        assert "3018" in texts(api, 3301)[0]

        # Telegram may apply a request whose answer never came back: the retry then
        # shows the message twice. Accepted: a repeated 3018 costs less than a missing one.
        api.hang_next("sendMessage", 30, process_first=True)
        api.push_update(builders.private_command(3303, "/start"))
        await eventually(lambda: len(api.messages(3303)) == 3, what="welcome twice, question")
        welcome = texts(api, 3303)
        assert welcome[0] == welcome[1] and "3018" in welcome[0]


async def test_refused_connections_then_every_pending_teen_is_answered(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path
) -> None:
    db = tmp_path / "outage.sqlite3"
    teens = range(3401, 3411)
    async with relais(api, dialogue_factory(db), retry=FAST):
        api.hang_next("sendMessage", 0.5, times=len(teens))
        for user_id in teens:
            api.push_update(builders.private_command(user_id, "/start"))
        # Every teen's welcome is on its way when Telegram becomes unreachable for 1.5 s:
        # open connections are dropped, new ones refused.
        await eventually(lambda: len(api.calls_of("sendMessage")) >= len(teens), what="sends")
        await api.refuse_connections(1.5)
        await eventually(
            lambda: all(len(api.messages(u)) == 2 for u in teens), 20, "everyone answered"
        )
    for user_id in teens:
        welcome, question = texts(api, user_id)
        assert "3018" in welcome and question == french("start.who.question")
        assert await stored_step(db, user_id) == "who"


async def test_a_teen_who_blocked_the_bot_has_their_conversation_closed(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    db = tmp_path / "blocked.sqlite3"
    async with relais(api, dialogue_factory(db), retry=FAST):
        teen = api.user(3501)
        await teen.send("/start")
        await teen.press(PATH[0])
        assert await stored_step(db, 3501) == "danger"
        api.block(3501)
        await teen.press(french("victim.danger.no"))  # it reached the bot before the block did
        assert await stored_step(db, 3501) is None  # closed: nothing to resume or remind
        assert "blocked the bot; their conversation is closed" in caplog.text
        assert "update failed" not in caplog.text
        # Nobody else notices.
        other = api.user(3502)
        assert "3018" in (await other.send("/start"))[0].text
        # Coming back later starts afresh.
        api.block(3501, blocked=False)
        assert "3018" in (await teen.send("/start"))[0].text
        assert await stored_step(db, 3501) == "who"
    no_ids_in(caplog, 3501, 3502)


async def test_message_not_modified_is_not_an_error(
    api: FakeBotApi,
    dialogue_factory: Callable[..., Dialogue],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    db = tmp_path / "not_modified.sqlite3"
    async with relais(api, dialogue_factory(db), retry=FAST):
        teen = api.user(3601)
        await teen.send("/start")
        await teen.press(PATH[0])
        api.fail_next("editMessageText", 400, NOT_MODIFIED)
        sends = len(api.calls_of("sendMessage"))
        await teen.press(french("victim.danger.no"))
        # Telegram says the message already shows it: nothing resent, the step is saved.
        assert len(api.calls_of("sendMessage")) == sends
        assert await stored_step(db, 3601) == "what"
        # The screen still asks the old question: pressing it shows where the teen is.
        replies = await teen.press(french("victim.danger.no"))
        assert replies[0].text == french("nudge.stale")
        assert replies[-1].text == french("victim.what.question")
    assert "update failed" not in caplog.text


async def test_message_to_edit_not_found_becomes_a_new_message(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    async with relais(api, dialogue_factory(), retry=FAST):
        teen = api.user(3701)
        await teen.send("/start")
        await teen.press(PATH[0])
        before = len(teen.messages)
        api.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
        await teen.press(french("victim.danger.no"))
        assert len(teen.messages) == before + 1
        assert teen.last_message.text == french("victim.what.question")
        await teen.press(french("victim.what.threats"))  # the new message's buttons work
        assert teen.last_message.text == french("victim.where.question")


# --------------------------------------------------------------------------- database


@asynccontextmanager
async def locked(db: Path) -> AsyncIterator[sqlite3.Connection]:
    """Another process's connection holding the write lock (``BEGIN EXCLUSIVE``)."""
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("COMMIT")
        other.close()


async def test_database_locked_for_a_while_retries_then_answers(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "locked.sqlite3"
    dialogue = Dialogue(Engine(catalog), SqliteStorage(db, busy_timeout=0.2))
    async with relais(api, dialogue, retry=FAST):
        teen = api.user(3801)
        await teen.send("/start")
        async with locked(db):
            api.push_update(builders.callback(3801, teen.last_message, "start:1:who:me"))
            await eventually(lambda: "database is locked" in caplog.text, what="a log line")
        await eventually(
            lambda: teen.last_message.text == french("victim.danger.question"), what="answer"
        )
    assert "database unavailable (OperationalError: database is locked); retry in" in caplog.text
    assert "3018 instead" not in caplog.text  # it healed before the calm message was due
    assert await stored_step(db, 3801) == "danger"


async def test_database_read_only_too_long_gets_a_calm_message_with_3018(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Read-only the way a full disk or a remount makes it: every write refused. (``chmod``
    cannot do it here: tests run as root, and an open file keeps its write access.)"""
    db = tmp_path / "read_only.sqlite3"
    storage = SqliteStorage(db)
    async with relais(api, Dialogue(Engine(catalog), storage), retry=FAST):
        teen = api.user(3901, language_code="en")
        await storage.query("PRAGMA query_only = ON")
        api.push_update(builders.private_command(3901, "/start", language_code="en"))
        await eventually(lambda: len(teen.messages) == 1, what="the calm message")
        calm = teen.messages[0].text
        assert shipped("en").starts(calm, "error.storage") and "3018" in calm
        assert "https://3018.fr" in calm
        await storage.query("PRAGMA query_only = OFF")
        replies = await teen.send("/start")  # back to normal, nothing half-saved
        assert shipped("en").starts(replies[0].text, "welcome") and len(replies) == 2
    assert "attempt to write a readonly database" in caplog.text
    assert "sent 3018 instead" in caplog.text
    async with SqliteStorage(db) as check:
        stored = await check.load(key(3901))
        assert stored is not None and stored.version == 1
    no_ids_in(caplog, 3901)


# --------------------------------------------------------------------------- crash


STEPS = ("who", "danger", "what", "where", "since", "result")


async def test_sigkill_mid_burst_then_everyone_resumes_where_they_were(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    db = tmp_path / "crash.sqlite3"
    bot = Process(api, db, tmp_path / "relais.log")
    keys = ("start.who", "victim.danger", "victim.what", "victim.where", "victim.since")
    questions = {
        catalog.locales.text("fr", f"{k}.question"): step
        for k, step in zip(keys, STEPS[:-1], strict=True)
    }
    await bot.start()
    try:
        async with watching(api) as watch:
            teens = [Teen(api, watch, 4000 + n, patience=3.0) for n in range(40)]
            walks = [asyncio.create_task(t.walk()) for t in teens]
            total = sum(len(t.path) + 2 for t in teens)  # replies on a full walk
            await eventually(
                lambda: sum(len(r) for r in watch.replies.values()) >= total // 3,
                30,
                "a third of the replies",
            )
            await bot.kill()  # mid-burst: updates in flight, replies half sent
            for walk in walks:
                walk.cancel()
            await asyncio.gather(*walks, return_exceptions=True)
            midway = sum(1 for t in teens if not t.finished)
            assert midway, "everyone had finished: the kill came too late to test anything"

            # The file is intact, and each teen's saved step is the question on their
            # screen, or the next one (saved, then killed before the reply went out).
            with closing(sqlite3.connect(db)) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            order = (None, *STEPS)
            for teen in teens:
                message = teen.keyboard_message()
                shown = questions.get(message.text or "") if message else None
                if teen.finished:
                    shown = "result"
                saved = await stored_step(db, teen.user_id)
                at = order.index(shown)
                assert saved in order[at : at + 2], (teen.user_id, shown, saved)

            await bot.start()  # the same database; Telegram redelivers what was unconfirmed
            await asyncio.gather(*(t.walk(start=False) for t in teens))
    finally:
        await bot.stop()

    log = (tmp_path / "relais.log").read_text()
    resumed = sum(t.resumed for t in teens)
    print(f"\nkilled with {midway} teens mid-flow; {resumed} times a teen asked where it was")
    assert api.token not in log
    for teen in teens:
        async with SqliteStorage(db) as storage:
            stored = await storage.load(key(teen.user_id))
        assert stored is not None and stored.conversation.step == "result"
        # Every answer once, in order, nothing skipped: the answers are the path's.
        assert stored.conversation.answers == {
            "role": "me",
            "danger": "no",
            "harassment_kind": "threats",
            "platform": "discord",
            "duration": "months",
        }
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
