"""One contract for every storage backend: SQLite and the real PostgreSQL server.

Whatever the deployment chooses, the dialogue relies on exactly this behaviour: optimistic
versions, atomic state + statistics, the update ledger, forgetting, purging, health.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from bot.domain.conversation import Conversation, Stat
from bot.domain.group import GroupSettings
from bot.domain.months import Month
from bot.domain.policy import HOUR
from bot.errors import AlreadyProcessed, ConflictError, StorageError
from bot.storage import postgres, storage_from_url
from bot.storage.base import Nudge, Storage
from bot.storage.migrations import migrations_for
from bot.storage.sent import FLUSH_AFTER
from bot.storage.sql import INSERT_CONVERSATION_SQL
from tests.harness import EVER
from tests.pg import TEST_DATABASE_URL, fresh_schema

DAY = dt.timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgres"])
async def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/contract.sqlite3"
    else:
        async with fresh_schema() as url:
            yield url


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    async with storage_from_url(storage_url) as opened:
        yield opened


def conv(step: str = "danger", session: str = "s1", **answers: str) -> Conversation:
    return Conversation(
        locale="fr", flow="victim", flow_version=1, step=step, answers=answers, session=session
    )


async def events(storage: Storage) -> list[tuple[str, str | None]]:
    return [(e.kind, e.session) for e in await storage.fetch_events(*EVER)]


async def test_someone_new_has_nothing(storage: Storage) -> None:
    assert await storage.load("nobody") is None


async def test_save_then_load_round_trips(storage: Storage, noon: dt.datetime) -> None:
    original = conv("where", harassment_kind="insults")
    assert await storage.save("u1", original, expected_version=None, now=noon) == 1
    stored = await storage.load("u1")
    assert stored is not None
    assert stored.conversation == original
    assert stored.version == 1
    assert stored.updated_at == noon.astimezone(dt.UTC)


async def test_versions_count_up(storage: Storage, noon: dt.datetime) -> None:
    await storage.save("u1", conv("danger"), expected_version=None, now=noon)
    assert await storage.save("u1", conv("what"), expected_version=1, now=noon) == 2
    assert await storage.save("u1", conv("where"), expected_version=2, now=noon) == 3
    stored = await storage.load("u1")
    assert stored is not None and stored.version == 3 and stored.conversation.step == "where"


async def test_stale_version_is_a_conflict_and_writes_nothing(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save("u1", conv("danger"), expected_version=None, now=noon)
    await storage.save("u1", conv("what"), expected_version=1, now=noon)
    with pytest.raises(ConflictError):
        await storage.save(
            "u1", conv("since"), expected_version=1, stats=[Stat("flow_started")], now=noon
        )
    with pytest.raises(ConflictError):  # "new" while someone else created it meanwhile
        await storage.save("u1", conv("since"), expected_version=None, now=noon)
    stored = await storage.load("u1")
    assert stored is not None and stored.version == 2 and stored.conversation.step == "what"
    assert await events(storage) == []


async def test_two_writers_of_one_version_one_wins(storage: Storage, noon: dt.datetime) -> None:
    await storage.save("u1", conv("danger"), expected_version=None, now=noon)
    results = await asyncio.gather(
        storage.save("u1", conv("what"), expected_version=1, now=noon),
        storage.save("u1", conv("emergency"), expected_version=1, now=noon),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["ConflictError", "int"]
    stored = await storage.load("u1")
    assert stored is not None and stored.version == 2


async def test_turns_saved_at_once_fail_alone(storage: Storage, noon: dt.datetime) -> None:
    """Many chats' turns reach the database together (SQLite commits them as one batch):
    a stale version and a redelivered update fail on their own; every other turn, its
    statistics and its ledger claim are kept, and the failed ones leave nothing."""
    await storage.save("u0", conv(), expected_version=None, now=noon, update_id=1)

    def turn(user: str, expected: int | None, update_id: int) -> Awaitable[int]:
        c = conv("what", session=user)
        stats = [Stat("step_answered")]
        return storage.save(
            user, c, expected_version=expected, stats=stats, now=noon, update_id=update_id
        )

    saves = [turn(f"u{i}", None, 100 + i) for i in range(1, 20)]
    saves.append(turn("u0", 5, 200))  # stale version: a conflict
    saves.append(turn("u21", None, 1))  # update 1 again: a redelivery
    results = await asyncio.gather(*saves, return_exceptions=True)
    assert results[:19] == [1] * 19
    assert isinstance(results[19], ConflictError)
    assert isinstance(results[20], AlreadyProcessed)
    assert sorted(s for _, s in await events(storage)) == sorted(f"u{i}" for i in range(1, 20))
    assert await storage.load("u21") is None
    assert await storage.claim_update(200, noon)  # the conflicting turn's claim was undone
    assert not await storage.claim_update(119, noon)


async def test_statistics_are_saved_with_the_state(storage: Storage, noon: dt.datetime) -> None:
    stats = [
        Stat("flow_started", flow="victim"),
        Stat("step_answered", flow="victim", step="danger", dimension="danger", choice="no"),
    ]
    c = conv("what", session="abc").with_(origin="group-key")
    await storage.save("u1", c, expected_version=None, stats=stats, now=noon)
    rows = await storage.fetch_events(*EVER)
    assert [(r.kind, r.step, r.dimension, r.choice) for r in rows] == [
        ("flow_started", None, None, None),
        ("step_answered", "danger", "danger", "no"),
    ]
    hour = int(noon.timestamp()) - int(noon.timestamp()) % HOUR
    assert {(r.at_hour, r.locale, r.origin, r.session, r.flow) for r in rows} == {
        (hour, "fr", "group-key", "abc", "victim")
    }


async def test_forget_removes_state_and_that_conversations_events(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save(
        "u1", conv(session="mine"), expected_version=None, stats=[Stat("a"), Stat("b")], now=noon
    )
    await storage.save(
        "u2", conv(session="other"), expected_version=None, stats=[Stat("c")], now=noon
    )
    assert await storage.forget("u1") == 3  # the state and its two events
    assert await storage.load("u1") is None
    assert await events(storage) == [("c", "other")]
    assert await storage.load("u2") is not None
    assert await storage.forget("u1") == 0


async def test_forget_finds_events_from_the_hour_the_conversation_began(
    storage: Storage, noon: dt.datetime
) -> None:
    """Events are looked up by time from ``since``: every hour of a long conversation."""
    began = noon - 3 * DAY
    c = conv(session="long").with_(since=int(began.timestamp()))
    await storage.save("u1", c, expected_version=None, stats=[Stat("a")], now=began)
    await storage.save("u1", c, expected_version=1, stats=[Stat("b")], now=began + DAY)
    await storage.save("u1", c, expected_version=2, stats=[Stat("c")], now=noon)
    await storage.save("u2", conv(session="x"), expected_version=None, stats=[Stat("d")], now=began)
    assert await storage.forget("u1") == 4
    assert await events(storage) == [("d", "x")]


async def test_purge_drops_old_events_and_idle_conversations(
    storage: Storage, noon: dt.datetime
) -> None:
    long_ago = noon - 40 * DAY
    await storage.save("old", conv(session="o"), expected_version=None, now=long_ago)
    await storage.save("old-stats", conv(session="x"), expected_version=None, now=long_ago)
    await storage.save(
        "old-stats", conv(session="x"), expected_version=1, stats=[Stat("old")], now=long_ago
    )
    await storage.save(
        "new", conv(session="n"), expected_version=None, stats=[Stat("new")], now=noon
    )
    gone = await storage.purge(events_before=noon - 30 * DAY, idle_before=noon - 7 * DAY)
    assert gone == 3  # one event, two idle conversations
    assert await storage.load("old") is None and await storage.load("old-stats") is None
    assert await storage.load("new") is not None
    assert await events(storage) == [("new", "n")]


async def test_ping_answers_while_open_and_fails_once_closed(storage_url: str) -> None:
    storage = storage_from_url(storage_url)
    async with storage:
        await storage.ping()
    with pytest.raises(StorageError):
        await storage.ping()


async def test_reopening_keeps_data_and_migrates_once(storage_url: str, noon: dt.datetime) -> None:
    async with storage_from_url(storage_url) as first:
        await first.save("u1", conv(), expected_version=None, now=noon)
        assert await first.claim_update(7, noon)
    async with storage_from_url(storage_url) as again:
        stored = await again.load("u1")
        assert stored is not None and stored.version == 1
        assert not await again.claim_update(7, noon)


# --------------------------------------------------------------------------- update ledger


async def test_an_update_is_applied_once(storage: Storage, noon: dt.datetime) -> None:
    await storage.save("u1", conv("danger"), expected_version=None, now=noon, update_id=100)
    with pytest.raises(AlreadyProcessed):
        await storage.save(
            "u1", conv("what"), expected_version=1, stats=[Stat("x")], now=noon, update_id=100
        )
    stored = await storage.load("u1")
    assert stored is not None and stored.version == 1 and stored.conversation.step == "danger"
    assert await events(storage) == []


async def test_a_conflicting_save_does_not_claim_its_update(
    storage: Storage, noon: dt.datetime
) -> None:
    """The claim is rolled back with the failed write, so the retry can claim it."""
    await storage.save("u1", conv("danger"), expected_version=None, now=noon, update_id=1)
    await storage.save("u1", conv("what"), expected_version=1, now=noon, update_id=2)
    with pytest.raises(ConflictError):
        await storage.save("u1", conv("where"), expected_version=1, now=noon, update_id=3)
    assert await storage.save("u1", conv("where"), expected_version=2, now=noon, update_id=3) == 3


async def test_a_claimed_update_is_refused_by_a_later_claim_or_save(
    storage: Storage, noon: dt.datetime
) -> None:
    assert await storage.claim_update(5, noon)
    assert not await storage.claim_update(5, noon)
    await storage.save("u1", conv(), expected_version=None, now=noon, update_id=6)
    assert not await storage.claim_update(6, noon)
    with pytest.raises(AlreadyProcessed):
        await storage.save("u2", conv(), expected_version=None, now=noon, update_id=5)
    assert await storage.load("u2") is None


async def test_the_same_update_saved_twice_at_once(storage: Storage, noon: dt.datetime) -> None:
    """Two replicas handling one redelivered update: the second waits for the first's
    ledger row and then sees it, rather than re-applying the event."""
    await storage.save("u1", conv("danger"), expected_version=None, now=noon)
    results = await asyncio.gather(
        storage.save("u1", conv("what"), expected_version=1, now=noon, update_id=9),
        storage.save("u1", conv("what"), expected_version=1, now=noon, update_id=9),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["AlreadyProcessed", "int"]


async def test_purge_keeps_a_day_of_ledger(storage: Storage, noon: dt.datetime) -> None:
    assert await storage.claim_update(1, noon - 3 * DAY)
    assert await storage.claim_update(2, noon - DAY + dt.timedelta(minutes=1))
    assert await storage.claim_update(3, noon)
    gone = await storage.purge(events_before=noon - 400 * DAY, idle_before=noon - 400 * DAY)
    assert gone == 1
    assert await storage.claim_update(1, noon)  # forgotten: old enough never to come back
    assert not await storage.claim_update(2, noon)
    assert not await storage.claim_update(3, noon)


# --------------------------------------------------------------------------- groups


def group(key: str = "gk1", token: str = "g" + "1" * 24, **changes: object) -> GroupSettings:
    return GroupSettings(key, token, "fr").with_(**changes)


async def test_group_settings_round_trip_and_keep_their_token(
    storage: Storage, noon: dt.datetime
) -> None:
    assert await storage.get_group("gk1") is None
    assert await storage.group_by_token("g" + "1" * 24) is None
    await storage.save_group(group(), noon)
    assert await storage.get_group("gk1") == group()
    changed = group(locale="en", pin_card=False, discreet=False, greet=True, card_message_id=42)
    await storage.save_group(changed.with_(token="g" + "2" * 24), noon)
    # Every setting is replaced, but never the link token: posted cards keep working.
    assert await storage.get_group("gk1") == changed
    assert await storage.group_by_token("g" + "1" * 24) == changed
    assert await storage.group_by_token("g" + "2" * 24) is None


async def test_deleting_a_group(storage: Storage, noon: dt.datetime) -> None:
    await storage.save_group(group(), noon)
    await storage.save_group(group("gk2", "g" + "2" * 24), noon)
    assert await storage.delete_group("gk1", noon) is True
    assert await storage.delete_group("gk1", noon) is False
    assert await storage.get_group("gk1") is None
    assert await storage.group_by_token("g" + "1" * 24) is None
    assert await storage.get_group("gk2") is not None


async def test_a_removed_group_gets_no_row_until_the_bot_is_added_again(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save_group(group(), noon)
    await storage.save_group(group("gk2", "g" + "2" * 24), noon)
    assert await storage.group_removed("gk1") is False
    await storage.delete_group("gk1", noon)
    assert await storage.group_removed("gk1") is True
    assert await storage.group_removed("gk2") is False
    # A late update's save, claiming its update or not: no row, no link, update claimed.
    await storage.save_group(group(), noon)
    await storage.save_group(group(), noon, update_id=5)
    assert await storage.get_group("gk1") is None
    assert await storage.group_by_token("g" + "1" * 24) is None
    assert await storage.claim_update(5, noon) is False
    # The bot added again: the removal is lifted and the row written, in one transaction.
    await storage.save_group(group(locale="en"), noon, update_id=6, added=True)
    assert await storage.group_removed("gk1") is False
    assert await storage.get_group("gk1") == group(locale="en")
    # A removal of a group never saved is remembered too.
    assert await storage.delete_group("gk3", noon) is False
    assert await storage.group_removed("gk3") is True


async def test_the_purge_forgets_removals_after_a_day(storage: Storage, noon: dt.datetime) -> None:
    await storage.delete_group("old", noon - DAY - dt.timedelta(seconds=1))
    await storage.delete_group("recent", noon - DAY + dt.timedelta(minutes=1))
    await storage.purge(events_before=noon - 30 * DAY, idle_before=noon - 30 * DAY, now=noon)
    assert await storage.group_removed("old") is False
    assert await storage.group_removed("recent") is True
    await storage.save_group(group("old", "g" + "3" * 24), noon)
    assert await storage.get_group("old") is not None


async def test_moving_a_group_moves_settings_and_statistics(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save_group(group(greet=True).with_(card_message_id=42), noon)
    await storage.save_group(group("new", "g" + "9" * 24), noon)  # made meanwhile: replaced
    opened = Conversation(locale="fr", origin="gk1", session="s1")
    await storage.save("u1", opened, expected_version=None, stats=[Stat("flow_started")], now=noon)
    assert await storage.move_group("gk1", "new") is True
    assert await storage.get_group("gk1") is None
    # The card's message id stays behind: ids are per chat, 42 is another message there.
    assert await storage.get_group("new") == group("new", greet=True)
    assert await storage.group_by_token("g" + "9" * 24) is None
    assert [e.origin for e in await storage.fetch_events(*EVER)] == ["new"]
    # Nothing to move: nothing changes.
    assert await storage.move_group("gk1", "other") is False
    assert await storage.get_group("new") is not None
    assert await storage.get_group("other") is None


# -- monthly roll-ups ---------------------------------------------------------------------


async def test_a_month_is_rolled_up_once_and_never_moves(
    storage: Storage, noon: dt.datetime
) -> None:
    paris = ZoneInfo("Europe/Paris")
    november = Month(2026, 11)
    stats = [
        Stat("flow_started", flow="victim"),
        Stat("step_answered", flow="victim", step="where", dimension="platform", choice="tiktok"),
        Stat("step_answered", flow="victim", step="where", dimension="platform", choice="tiktok"),
        Stat("flow_completed", flow="victim", step="result"),
    ]
    for i, origin in enumerate(["gk1", "gk1", None]):
        conversation = Conversation(locale="fr", origin=origin, session=f"s{i}")
        await storage.save(f"u{i}", conversation, expected_version=None, stats=stats, now=noon)
    december = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    assert await storage.close_months(paris, december) == ["2026-11"]
    assert await storage.close_months(paris, december) == []  # once
    counts = {(r.table, r.label, r.column): (r.n, r.link) for r in
              await storage.period_counts("2026-11", "2026-11")}  # fmt: skip
    assert counts[("activity", "", "started")] == (3, None)
    assert counts[("answers:platform", "tiktok", "conversations")] == (3, None)  # distinct
    assert counts[("funnel:victim", "where", "conversations")] == (3, "platform")
    assert counts[("funnel:victim", "result", "conversations")] == (3, "(end)")
    assert counts[("origin", "gk1", "conversations")] == (2, None)
    assert counts[("origin", "direct", "conversations")] == (1, None)
    assert await storage.origin_counts("gk1", "2026-01", "2026-12") == {"2026-11": 2}
    # Forgetting a conversation erases its events, not the month's anonymous counts.
    assert await storage.forget("u0") > 0
    start, end = november.start(paris), november.end(paris)
    assert await storage.roll_up("2026-11", start, end, december) is False
    assert await storage.origin_counts("gk1", "2026-11", "2026-11") == {"2026-11": 2}
    assert await storage.closed_periods("2026-01", "2026-12") == {"2026-11"}
    # A group that becomes a supergroup takes its monthly counts along.
    await storage.save_group(group(), noon)
    assert await storage.move_group("gk1", "new") is True
    assert await storage.origin_counts("new", "2026-11", "2026-11") == {"2026-11": 2}


async def test_events_of_no_conversation_claim_their_update_and_count_one_by_one(
    storage: Storage, noon: dt.datetime
) -> None:
    """Answers to words of crisis in a group: the tier, the hour, nothing else; each its
    own session (counted once, tied to nothing); claimed with their update."""
    answer = Stat("emergency_shown", dimension="group", choice="self")
    await storage.record_events([answer], noon, update_id=81)
    assert not await storage.claim_update(81, noon)  # claimed with the event
    with pytest.raises(AlreadyProcessed):
        await storage.record_events([answer], noon, update_id=81)
    await storage.record_events([answer], noon)
    rows = await storage.fetch_events(*EVER)
    hour = int(noon.timestamp()) - int(noon.timestamp()) % HOUR
    assert [(r.at_hour, r.kind, r.flow, r.step, r.dimension, r.choice) for r in rows] == [
        (hour, "emergency_shown", None, None, "group", "self")
    ] * 2  # the redelivery wrote nothing
    assert {(r.locale, r.origin) for r in rows} == {(None, None)}
    assert len({r.session for r in rows}) == 2 and all(r.session for r in rows)
    # A conversation shown the numbers, beside them: the month counts each where it belongs.
    shown = [Stat("emergency_shown", flow="victim", step="danger")]
    c = Conversation(locale="fr", session="s1")
    await storage.save("u1", c, expected_version=None, stats=shown, now=noon)
    december = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    assert await storage.close_months(ZoneInfo("Europe/Paris"), december) == ["2026-11"]
    counts = {(r.table, r.label, r.column): r.n for r in
              await storage.period_counts("2026-11", "2026-11")}  # fmt: skip
    assert counts[("activity", "", "group_crisis")] == 2
    assert counts[("activity", "", "emergency")] == 1


async def test_the_answers_at_each_step_are_rolled_up_per_flow(
    storage: Storage, noon: dt.datetime
) -> None:
    """Two flows ask "danger": each flow's answers get rows of their own, linked to the
    question, beside the answers of all flows together."""

    def danger(flow: str, choice: str) -> list[Stat]:
        answer = Stat("step_answered", flow=flow, step="danger", dimension="danger", choice=choice)
        return [Stat("flow_started", flow=flow), answer]

    answers = [("victim", "yes"), ("victim", "no"), ("victim", "no"), ("witness", "no")]
    for i, (flow, choice) in enumerate(answers):
        conversation = Conversation(locale="fr", session=f"s{i}")
        stats = danger(flow, choice)
        await storage.save(f"u{i}", conversation, expected_version=None, stats=stats, now=noon)
    december = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
    assert await storage.close_months(ZoneInfo("Europe/Paris"), december) == ["2026-11"]
    rows = await storage.period_counts("2026-11", "2026-11")
    counts = {(r.table, r.label): (r.n, r.link) for r in rows if r.table != "activity"}
    assert {key: v for key, v in counts.items() if key[0].startswith("choices:")} == {
        ("choices:victim:danger", "yes"): (1, "danger"),
        ("choices:victim:danger", "no"): (2, "danger"),
        ("choices:witness:danger", "no"): (1, "danger"),
    }
    assert counts[("answers:danger", "no")] == (3, None)
    assert counts[("funnel:witness", "danger")] == (1, "danger")


async def test_a_month_not_over_is_not_rolled_up(storage: Storage, noon: dt.datetime) -> None:
    conversation = Conversation(locale="fr", session="s1")
    await storage.save(
        "u1", conversation, expected_version=None, stats=[Stat("flow_started")], now=noon
    )
    paris = ZoneInfo("Europe/Paris")
    assert await storage.close_months(paris, noon) == []  # November is still on
    settling = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 December, Paris
    assert await storage.close_months(paris, settling) == []
    settled = dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)
    assert await storage.close_months(paris, settled) == ["2026-11"]


# -- /effacer message ids and the single reminder ---------------------------------------


async def test_sent_message_ids_are_kept_48_hours_and_forgotten(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save("u1", conv(), expected_version=None, now=noon)
    storage.record_sent("u1", [5, 6], noon)
    storage.record_sent("u1", [6, 7], noon)
    assert await storage.sent_messages("u1", noon - dt.timedelta(hours=1)) == [5, 6, 7]
    assert await storage.sent_messages("u1", noon + dt.timedelta(hours=1)) == []
    later = noon + dt.timedelta(hours=49)
    await storage.save("u2", conv(), expected_version=None, now=later)
    storage.record_sent("u2", [1], later)
    await storage.purge(events_before=noon - dt.timedelta(days=1), idle_before=noon, now=later)
    assert await storage.sent_messages("u1", noon - dt.timedelta(hours=1)) == []
    assert await storage.sent_messages("u2", later) == [1]
    await storage.drop_sent("u2")
    assert await storage.sent_messages("u2", later) == []
    storage.record_sent("u2", [2], later)
    await storage.forget("u2")
    assert await storage.sent_messages("u2", later) == []


async def test_recorded_ids_are_written_in_one_batch_by_the_background_flush(
    storage: Storage, noon: dt.datetime
) -> None:
    for i in range(50):
        storage.record_sent(f"u{i}", [i, 1000 + i], noon)
    count = "SELECT count(*) FROM sent_messages"
    assert await storage.query(count) == [(0,)]  # nothing written per turn
    # Due FLUSH_AFTER seconds later; a loaded machine may take longer to write, so wait for
    # the rows rather than for a fixed time. The first count seen is all of them: one batch.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FLUSH_AFTER + 30
    written = await storage.query(count)
    while written == [(0,)] and loop.time() < deadline:
        await asyncio.sleep(0.05)
        written = await storage.query(count)
    assert written == [(100,)]


async def test_ids_pending_for_someone_forgotten_are_never_written(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save("u1", conv(), expected_version=None, now=noon)
    storage.record_sent("u1", [1, 2], noon)
    storage.record_sent("u2", [3], noon)
    await storage.forget("u1")
    await storage.flush_sent()
    rows = await storage.query("SELECT user_key, message_id FROM sent_messages")
    assert rows == [("u2", 3)]


async def test_ids_whose_write_failed_are_written_next_time(
    storage: Storage, noon: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage.record_sent("u1", [1, 2], noon)
    write = storage._write_sent

    async def down(rows: object) -> None:
        raise StorageError("database unavailable")

    monkeypatch.setattr(storage, "_write_sent", down)
    with pytest.raises(StorageError):
        await storage.flush_sent()
    storage.record_sent("u1", [3], noon)
    monkeypatch.setattr(storage, "_write_sent", write)
    assert await storage.sent_messages("u1", noon) == [1, 2, 3]


async def test_pending_ids_are_written_when_the_storage_closes(
    storage_url: str, noon: dt.datetime
) -> None:
    async with storage_from_url(storage_url) as storage:
        storage.record_sent("u1", [7], noon)
    async with storage_from_url(storage_url) as again:
        assert await again.sent_messages("u1", noon) == [7]


def nudge(at: dt.datetime) -> Nudge:
    return Nudge(at, "sealed")


async def test_a_reminder_is_claimed_once_and_never_armed_twice(
    storage: Storage, noon: dt.datetime
) -> None:
    due = noon + dt.timedelta(minutes=15)
    await storage.save("u1", conv(session="s1"), expected_version=None, now=noon, nudge=nudge(due))
    assert await storage.claim_reminders(noon, quiet_since=noon) == []  # not yet due
    first, second = await asyncio.gather(
        storage.claim_reminders(due, quiet_since=noon),
        storage.claim_reminders(due, quiet_since=noon),
    )
    claimed = first + second
    assert [(r.user_key, r.reach, r.conversation.session) for r in claimed] == [
        ("u1", "sealed", "s1")
    ]
    # Arming again for the same conversation does nothing: one reminder, ever.
    await storage.save("u1", conv(session="s1"), expected_version=1, now=due, nudge=nudge(due))
    later = due + dt.timedelta(hours=1)
    assert await storage.claim_reminders(later, quiet_since=later) == []
    # A new conversation (a new session) may be reminded again.
    await storage.save("u1", conv(session="s2"), expected_version=2, now=due, nudge=nudge(due))
    assert [r.user_key for r in await storage.claim_reminders(later, quiet_since=later)] == ["u1"]


async def test_a_turn_without_a_nudge_cancels_a_pending_reminder(
    storage: Storage, noon: dt.datetime
) -> None:
    due = noon + dt.timedelta(minutes=15)
    await storage.save("u1", conv(), expected_version=None, now=noon, nudge=nudge(due))
    await storage.save("u1", conv(), expected_version=1, now=noon)
    assert await storage.claim_reminders(due, quiet_since=due) == []
    assert await storage.query("SELECT reach FROM conversations") == [(None,)]


async def test_a_reminder_waits_until_the_person_is_quiet(
    storage: Storage, noon: dt.datetime
) -> None:
    minute = dt.timedelta(minutes=1)
    await storage.save(
        "u1", conv(), expected_version=None, now=noon, nudge=nudge(noon + 15 * minute)
    )
    # Still answering 20 minutes later: the first arming stands, but is not claimed.
    still = noon + 20 * minute
    await storage.save(
        "u1", conv(), expected_version=1, now=still, nudge=nudge(still + 15 * minute)
    )
    assert await storage.claim_reminders(noon + 25 * minute, quiet_since=noon + 10 * minute) == []
    quiet = still + 15 * minute
    claimed = await storage.claim_reminders(quiet, quiet_since=still)
    assert [r.user_key for r in claimed] == ["u1"]


async def test_both_backends_keep_the_same_indexes(tmp_path: Path) -> None:
    """An index costs a write on every turn: each backend keeps only the ones some query
    needs, and the same ones, so a migration on one is not forgotten on the other."""
    path = tmp_path / "indexes.sqlite3"
    async with storage_from_url(f"sqlite:///{path}"):
        pass
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
    on_sqlite = sorted(name for (name,) in rows)
    async with fresh_schema() as url:
        async with storage_from_url(url):
            pass
        schema = url.rpartition("search_path=")[2]
        conn = await asyncpg.connect(TEST_DATABASE_URL)
        try:
            rows = await conn.fetch(
                # Indexes backing a primary key or a UNIQUE constraint are part of their
                # table, as SQLite's automatic ones are (those have no sql above).
                "SELECT c.relname AS indexname FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = $1"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
                schema,
            )
        finally:
            await conn.close()
    on_postgres = sorted(row["indexname"] for row in rows)
    assert on_sqlite == on_postgres
    assert "conversations_updated_at" not in on_postgres  # a HOT update needs it gone


async def test_a_postgres_upgrade_waits_for_a_turn_in_flight(
    noon: dt.datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new replica migrating while one of the previous version is mid-turn: both finish,
    neither deadlocks, and the turn is kept. The turn holds its ledger row, the migration
    starts, then the turn writes its conversation and commits."""
    monkeypatch.setattr(postgres, "MIGRATION_LOCK_WAIT", "10s")  # no retry gap to fall in
    async with fresh_schema() as url:
        schema = url.rpartition("search_path=")[2]
        old = await asyncpg.connect(TEST_DATABASE_URL, server_settings={"search_path": schema})
        try:
            await old.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
            )
            for migration in migrations_for("postgres")[:4]:  # the previous version's schema
                await old.execute(migration.sql)
                await old.execute(
                    "INSERT INTO schema_migrations VALUES ($1, $2)",
                    migration.number,
                    migration.name,
                )
            seconds = int(noon.timestamp())
            turn = old.transaction()
            await turn.start()
            await old.execute("INSERT INTO processed_updates VALUES ($1, $2)", 7, seconds)
            upgraded = storage_from_url(url)
            opening = asyncio.create_task(upgraded.__aenter__())
            for _ in range(500):  # until the migration waits for a lock the turn holds
                waiting = await old.fetchval(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE NOT l.granted AND n.nspname = $1",
                    schema,
                )
                if waiting:
                    break
                await asyncio.sleep(0.01)
            assert waiting, "the migration never waited for the turn"
            await old.execute(
                INSERT_CONVERSATION_SQL, "teen", conv().to_json(), seconds, None, None
            )
            await turn.commit()
            await asyncio.wait_for(opening, 30)
        finally:
            await old.close()
        try:
            stored = await upgraded.load("teen")
            assert stored is not None and stored.conversation == conv()
            assert not await upgraded.claim_update(7, noon)  # the turn's ledger row is kept
        finally:
            await upgraded.close()


async def test_sent_message_ids_go_after_48_hours_of_wall_clock_on_a_quiet_bot(
    storage: Storage, noon: dt.datetime
) -> None:
    """Nobody wrote since: the newest ids are 49 hours old all the same, and go."""
    await storage.save("u1", conv(), expected_version=None, now=noon)
    storage.record_sent("u1", [5, 6], noon)
    await storage.purge(
        events_before=noon - dt.timedelta(days=1),
        idle_before=noon - dt.timedelta(days=1),
        now=noon + dt.timedelta(hours=49),
    )
    assert await storage.sent_messages("u1", noon - dt.timedelta(hours=1)) == []


async def test_the_postgres_purge_vacuums_what_was_deleted(noon: dt.datetime) -> None:
    """After /oubli, the erased key must not wait in a dead tuple for autovacuum."""
    async with fresh_schema() as url, storage_from_url(url) as storage:
        assert isinstance(storage, postgres.PostgresStorage)
        await storage.save("forget-me", conv(), expected_version=None, now=noon)
        await storage.forget("forget-me")

        async def vacuums() -> dict[str, int]:
            rows = await storage.query(
                "SELECT relname, vacuum_count FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema()"
            )
            return {str(name): int(count) for name, count in rows}

        before = await vacuums()
        await storage.purge(events_before=noon, idle_before=noon, now=noon)
        after = await vacuums()
        for table in postgres.VACUUMED:
            assert after[table] > before.get(table, 0), table


async def test_a_group_save_claims_its_update_in_the_same_transaction(
    storage: Storage, noon: dt.datetime
) -> None:
    await storage.save_group(group("g-claim", "g" + "7" * 24), noon, update_id=77)
    assert not await storage.claim_update(77, noon)  # claimed with the save
    changed = group("g-claim", "g" + "7" * 24, greet=True)
    with pytest.raises(AlreadyProcessed):
        await storage.save_group(changed, noon, update_id=77)
    stored = await storage.get_group("g-claim")
    assert stored is not None and not stored.greet  # the duplicate wrote nothing
