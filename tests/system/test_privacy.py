"""Privacy and care through the real Telegram path: /effacer, /oubli, the single reminder,
expiry and purge. Database contents are checked with SQL, not through the code under test.
The Bot API is the fake server answering in-process (HTTP is not the subject here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from bot.channels.telegram.housekeeping import Housekeeping
from bot.dialogue.service import Dialogue
from bot.privacy import pseudonym
from bot.storage.base import Nudge
from bot.storage.sqlite import SqliteStorage
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi
from tests.harness import relais_in_process as relais
from tests.texts import Texts


def key(user_id: int) -> str:
    return pseudonym(SECRET, "telegram", user_id)


async def rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    async with SqliteStorage(db) as storage:
        return await storage.query(sql, params)


async def kept_for(db: Path, table: str, user_id: int) -> int:
    """How many rows of ``table`` belong to this Telegram user."""
    found = await rows(db, f"SELECT count(*) FROM {table} WHERE user_key = ?", key(user_id))
    return int(str(found[0][0]))


async def test_effacer_deletes_both_sides_and_reports(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    db = tmp_path / "erase.sqlite3"
    async with relais(api, dialogue_factory(db)):
        teen = api.user(3001)
        await teen.send("/start")
        await teen.press("Ça m'arrive à moi")
        await teen.send("bonjour")  # typed text: the bot may delete it in a private chat
        visible = [m.message_id for m in teen.messages]
        api.mark()
        replies = await teen.send("/effacer")
        deleted = {c.params["message_id"] for c in api.calls_of("deleteMessage", since_mark=True)}
        # Every bot message and every message the teen typed (/start, bonjour, /effacer).
        assert set(visible) <= deleted
        assert len(deleted) == len(visible) + 3
        assert all(api.is_deleted(3001, mid) for mid in visible)
        assert teen.messages == replies  # only the confirmation is left on screen
        assert replies[0].text == fr("command.erased", deleted=len(deleted))
        # The confirmation is itself recorded, so a second /effacer removes it.
        api.mark()
        await teen.send("/effacer")
        again = {c.params["message_id"] for c in api.calls_of("deleteMessage", since_mark=True)}
        assert replies[0].message_id in again
    # Ids are written in batches, and the last ones when the bot stops: the second
    # confirmation and its /effacer are in the file, nothing else.
    assert await rows(db, "SELECT count(*) FROM sent_messages") == [(2,)]


async def test_effacer_says_what_it_could_not_delete(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    async with relais(api, dialogue_factory()):
        teen = api.user(3002)
        await teen.send("/start")
        api.fail_next("deleteMessage", 400, "Bad Request: message can't be deleted", times=2)
        replies = await teen.send("/effacer")
        assert fr("command.erase_failed", failed=2) in replies[0].text


async def test_oubli_leaves_nothing_for_that_user(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    db = tmp_path / "forget.sqlite3"
    async with relais(api, dialogue_factory(db)):
        teen, other = api.user(3003), api.user(3004)
        for person in (teen, other):
            await person.send("/start")
            await person.press(fr("start.who.me"))
            await person.press(fr("victim.danger.no"))
        (session,) = await rows(
            db,
            "SELECT json_extract(state, '$.session') FROM conversations WHERE user_key = ?",
            key(3003),
        )
        assert (await rows(db, "SELECT count(*) FROM events WHERE session = ?", session[0]))[0][0]
        await teen.send("/oubli")
        done = await teen.press(fr("button.forget_yes"))
        # The chat's messages go first (and are counted), then everything stored.
        assert fr.starts(done[0].text, "command.erased")
        assert fr.said(done[0].text, "command.forgotten")
    for table in ("conversations", "sent_messages"):
        assert await kept_for(db, table, 3003) == 0
    assert await rows(db, "SELECT count(*) FROM events WHERE session = ?", session[0]) == [(0,)]
    # The other teen is untouched.
    assert await kept_for(db, "conversations", 3004) == 1


async def test_oubli_deletes_the_chat_then_effacer_still_works(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    """Forgetting erases the ids /effacer needs, so /oubli deletes the messages first."""
    db = tmp_path / "forget-erase.sqlite3"
    async with relais(api, dialogue_factory(db)):
        teen = api.user(3006)
        await teen.send("/start")
        await teen.press(fr("start.who.me"))
        await teen.send("/oubli")
        visible = [m.message_id for m in teen.messages]
        api.mark()
        done = await teen.press(fr("button.forget_yes"))
        deleted = {c.params["message_id"] for c in api.calls_of("deleteMessage", since_mark=True)}
        assert set(visible) <= deleted  # the /oubli question and its button included
        assert all(api.is_deleted(3006, mid) for mid in visible)
        erased = fr("command.erased", deleted=len(deleted))
        assert done[0].text.startswith(erased + "\n" + fr("command.forgotten"))
        assert teen.messages == done
        api.mark()
        again = await teen.send("/effacer")  # nothing left to delete but the command
        assert again[0].text == fr("command.erased", deleted=1)
        assert len(api.calls_of("deleteMessage", since_mark=True)) == 1


async def test_oubli_can_be_cancelled(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    db = tmp_path / "keep.sqlite3"
    async with relais(api, dialogue_factory(db)):
        teen = api.user(3005)
        await teen.send("/start")
        await teen.send("/oubli")
        kept = await teen.press(fr("button.forget_no"))
        assert kept[0].text == fr("command.forget_cancelled")
    assert await kept_for(db, "conversations", 3005) == 1


async def test_one_gentle_reminder_only(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    db = tmp_path / "remind.sqlite3"
    dialogue = dialogue_factory(db)
    async with relais(api, dialogue) as app:
        teen, done = api.user(3006), api.user(3007)
        await teen.send("/start")
        await teen.press(fr("start.who.me"))  # then stops answering
        await done.send("/start")
        for key_ in ("start.who.me", "victim.danger.no", "victim.what.threats"):
            await done.press(fr(key_))
        for key_ in ("platform.discord", "victim.since.months"):
            await done.press(fr(key_))  # reached help: no reminder needed
        housekeeping = Housekeeping(dialogue, SECRET)
        now = dt.datetime.now(dt.UTC)
        assert await housekeeping.send_reminders(app.bot, now) == 0  # not due yet
        later = now + dt.timedelta(minutes=16)
        assert await housekeeping.send_reminders(app.bot, later) == 1
        await api.settle()
        assert fr.starts(teen.last_message.text, "nudge.reminder")
        assert "3018" in teen.last_message.text
        assert fr.starts(done.messages[-1].text, "victim.result.intro")  # no reminder
        # The sealed chat id is gone once used; answering again arms no second reminder.
        assert await rows(db, "SELECT count(*) FROM conversations WHERE reach IS NOT NULL") == [
            (0,)
        ]
        await teen.press(fr("button.resume"))
        await teen.press(fr("victim.danger.no"))
        assert await housekeeping.send_reminders(app.bot, later + dt.timedelta(hours=1)) == 0


async def test_reminder_switched_off_in_privacy_is_never_sent(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path
) -> None:
    db = tmp_path / "no-reminder.sqlite3"
    dialogue = dialogue_factory(db)
    async with relais(api, dialogue) as app:
        teen = api.user(3008)
        await teen.send("/start")
        await teen.send("/confidentialite")
        await teen.press("🔕 Pas de rappel")
        await teen.press("▶️ Reprendre")
        await teen.press("Ça m'arrive à moi")  # then stops answering
        housekeeping = Housekeeping(dialogue, SECRET)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
        assert await housekeeping.send_reminders(app.bot, later) == 0
        # Nothing sealed to write first with, either.
        assert await rows(db, "SELECT count(*) FROM conversations WHERE reach IS NOT NULL") == [
            (0,)
        ]


async def test_reminder_claimed_by_one_replica_only(
    dialogue_factory: Callable[..., Dialogue], tmp_path: Path
) -> None:
    from bot.domain.conversation import Conversation

    db = tmp_path / "replicas.sqlite3"
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    async with SqliteStorage(db) as a, SqliteStorage(db) as b:
        for i in range(20):
            conv = Conversation(
                locale="fr", flow="victim", flow_version=2, step="what", session=f"s{i}"
            )
            nudge = Nudge(now, "sealed")
            await a.save(f"u{i}", conv, expected_version=None, now=now, nudge=nudge)
        import asyncio

        claims = (s.claim_reminders(now, quiet_since=now, limit=3) for s in [a, b] * 10)
        got = await asyncio.gather(*claims)
        claimed = [r.user_key for batch in got for r in batch]
        assert sorted(claimed) == sorted(f"u{i}" for i in range(20))  # each exactly once


async def test_idle_conversation_expires_and_purge_removes_it(
    dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    from bot.domain.conversation import Command, Press

    db = tmp_path / "expire.sqlite3"
    dialogue = dialogue_factory(db)
    then = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    async with dialogue.storage:
        await dialogue.handle("k", "fr", Command("start"), then)
        await dialogue.handle("k", "fr", Press("start:1:who:me"), then)
        await dialogue.handle("idle", "fr", Command("start"), then)
        # 25 hours later the person is treated as new: the old button is stale.
        later = then + dt.timedelta(hours=25)
        outcome = await dialogue.handle("k", "fr", Press("victim:2:danger:no"), later)
        assert outcome.replies[0].text == fr("nudge.stale")
        gone = await Housekeeping(dialogue, SECRET).purge(later)
        assert gone >= 1
    assert await rows(db, "SELECT user_key FROM conversations") == [("k",)]
