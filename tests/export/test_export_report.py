"""Exports of a seeded event log, checked cell by cell, on SQLite and the real PostgreSQL.

The seed (``tests/export_seed.py``) is written through the real storage; the figures below
are worked out by hand from it, including which cells suppression must hide. Figures are
per closed month, rolled up once: a month reads the same in every range and forever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.domain.conversation import Command, Press
from bot.domain.months import Month
from bot.domain.policy import Policy
from bot.export import layout_from_catalog
from bot.export.queries import build_report
from bot.export.tables import Report, Table
from bot.storage import storage_from_url
from bot.storage.base import Storage
from tests.export_seed import FEB, JAN, PARIS, save, seed, victim_stats

JANUARY, FEBRUARY, MARCH = Month(2026, 1), Month(2026, 2), Month(2026, 3)
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgres"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "sqlite":
        async with storage_from_url(f"sqlite:///{tmp_path}/export.sqlite3") as opened:
            yield opened
    else:
        from tests.pg import fresh_schema

        async with fresh_schema() as url, storage_from_url(url) as opened:
            yield opened


def shown(table: Table, k: int = 5) -> dict[str, list[str]]:
    """What a reader sees: row label -> displayed cells (total row under "total")."""
    rows = [*table.rows, *([table.total] if table.total else [])]
    return {row.label: [cell.display(k) for cell in row.cells] for row in rows}


@pytest.fixture
async def report(storage: Storage) -> Report:
    await seed(storage)
    return await build_report(storage, JANUARY, MARCH, PARIS, k=5, now=NOW)


async def test_activity_per_month_and_the_months_added_up(report: Report) -> None:
    table = report.table("activity")
    assert table.columns == ("started", "completed", "emergency", "group_crisis")
    assert shown(table) == {
        "2026-01": ["12", "8", "<5", "<5"],
        # February's 6 answers in groups: each counted, none as a conversation's emergency.
        "2026-02": ["6", "6", "<5", "6"],
        "2026-03": ["<5", "<5", "<5", "<5"],  # nobody: zero is a small count too
        "total": ["18+", "14+", "0+", "6+"],  # the months shown, added up: at least
    }


async def test_one_month_hides_what_its_ties_would_give_away(storage: Storage) -> None:
    """January: 2 of 12 said they were in danger. Hidden, and "no" (10) with it, or the
    total 12 (which is also the funnel's "danger" row) would give 2 back."""
    await seed(storage)
    report = await build_report(storage, JANUARY, JANUARY, PARIS, now=NOW)
    assert shown(report.table("answers:danger")) == {"no": ["x"], "yes": ["<5"], "total": ["12"]}
    assert shown(report.table("answers:platform")) == {
        "instagram": ["x"],
        "tiktok": ["<5"],
        "total": ["12"],
    }
    # two small cells of at most 4 adding up to 6 cannot be told apart: nothing more to hide
    assert shown(report.table("answers:harassment_kind")) == {
        "images": ["<5"],
        "insults": ["6"],
        "threats": ["<5"],
        "total": ["12"],
    }
    assert shown(report.table("origin")) == {"g1": ["7"], "direct": ["5"], "total": ["12"]}
    assert shown(report.table("locale")) == {"en": ["<5"], "fr": ["x"], "total": ["12"]}
    assert shown(report.table("funnel:victim"))["result"] == ["8"]


async def test_a_month_reads_the_same_in_every_range(storage: Storage) -> None:
    await seed(storage)
    alone = await build_report(storage, JANUARY, JANUARY, PARIS, now=NOW)
    for first, last in ((JANUARY, FEBRUARY), (Month(2025, 11), MARCH), (JANUARY, Month(2026, 5))):
        wider = await build_report(storage, first, last, PARIS, now=NOW)
        assert (
            shown(wider.table("activity"))["2026-01"] == shown(alone.table("activity"))["2026-01"]
        )


async def test_a_month_never_changes_once_counted(storage: Storage) -> None:
    """Forgetting a conversation (/oubli) or a late event does not move a closed month:
    the difference would single out exactly that conversation."""
    await seed(storage)
    before = await build_report(storage, JANUARY, JANUARY, PARIS, now=NOW)
    assert await storage.forget("user-sess-j0") > 0
    await save(
        storage, "late", victim_stats("insults", "tiktok", completed=True, danger=False), JAN
    )
    after = await build_report(storage, JANUARY, JANUARY, PARIS, now=NOW)
    assert after == before


async def test_the_month_in_progress_is_never_published(storage: Storage) -> None:
    await seed(storage)
    mid_february = dt.datetime(2026, 2, 15, 12, tzinfo=dt.UTC)
    report = await build_report(storage, JANUARY, FEBRUARY, PARIS, now=mid_february)
    assert report.last == "2026-01"
    assert [r.label for r in report.table("activity").rows] == ["2026-01"]
    with pytest.raises(ValueError, match="not over yet"):
        await build_report(storage, FEBRUARY, FEBRUARY, PARIS, now=mid_february)
    # February ends at midnight in Paris; it is counted an hour later (turns in flight)
    settling = dt.datetime(2026, 2, 28, 23, 30, tzinfo=dt.UTC)  # 00:30 on 1 March in Paris
    with pytest.raises(ValueError, match="not over yet"):
        await build_report(storage, FEBRUARY, FEBRUARY, PARIS, now=settling)
    settled = dt.datetime(2026, 3, 1, 0, 5, tzinfo=dt.UTC)
    report = await build_report(storage, FEBRUARY, FEBRUARY, PARIS, now=settled)
    assert report.last == "2026-02"


async def test_months_follow_paris_time(storage: Storage) -> None:
    """00:30 on 1 February in Paris is still 31 January in UTC: it counts for February."""
    late = dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)
    for i in range(5):
        await save(
            storage, f"s{i}", victim_stats("insults", "tiktok", completed=True, danger=False), late
        )
    report = await build_report(storage, JANUARY, FEBRUARY, PARIS, now=NOW)
    assert shown(report.table("activity"))["2026-02"][0] == "5"
    assert shown(report.table("activity"))["2026-01"][0] == "<5"


async def test_layout_from_the_flows_orders_steps_and_lists_every_choice(
    storage: Storage, catalog: Catalog
) -> None:
    await seed(storage)
    layout = layout_from_catalog(catalog)
    report = await build_report(storage, JANUARY, JANUARY, PARIS, layout=layout, now=NOW)
    steps = [r.label for r in report.table("funnel:victim").rows]
    assert (
        steps.index("danger") < steps.index("what") < steps.index("where") < steps.index("result")
    )
    kinds = shown(report.table("answers:harassment_kind"))
    assert kinds["insults"] == ["6"]
    assert kinds["school"] == ["<5"]  # nobody chose it: listed anyway, as small
    assert list(kinds)[-2:] == ["skipped", "total"]


async def test_the_engine_logs_what_the_export_needs(
    storage: Storage, engine: Engine, catalog: Catalog
) -> None:
    """Drive the real dialogue through the shipped flows and read the log back: flow
    started, answers as choice ids, completion, resources and emergency, with locale and
    an hour-rounded time, and nothing that names the person."""
    dialogue = Dialogue(engine, storage)
    now = FEB
    outcome = await dialogue.handle("someone", "fr", Command("start"), now)
    await dialogue.handle("someone", "fr", Command("urgence"), now)
    for _ in range(20):  # always the first button: every flow ends, so this does too
        buttons = [
            b.data
            for reply in outcome.replies
            for row in reply.keyboard
            for b in row
            if b.data and b.data.count(":") == 3
        ]
        if not buttons:
            break
        outcome = await dialogue.handle("someone", "fr", Press(buttons[0]), now)
    events = await storage.fetch_events(FEB - dt.timedelta(days=1), FEB + dt.timedelta(days=1))
    kinds = {e.kind for e in events}
    assert {"flow_started", "step_answered", "flow_completed", "emergency_shown"} <= kinds
    assert "resource_shown" in kinds
    assert all(e.at_hour % 3600 == 0 for e in events)
    assert all(e.locale == "fr" and e.origin is None for e in events)
    assert len({e.session for e in events}) == 1
    flows = {name for name in catalog.flows}
    for e in events:
        assert "someone" not in repr(e)
        if e.kind == "step_answered":
            step = catalog.flows[e.flow or ""].flow.steps[e.step or ""]
            assert e.choice in {c.id for c in step.choices} | {"skipped"}
            assert e.flow in flows
    await storage.close_months(PARIS, NOW)
    counts = {
        (r.table, r.label, r.column): r.n for r in await storage.period_counts("2026-02", "2026-02")
    }
    assert counts[("activity", "", "started")] == 1
    assert counts[("activity", "", "completed")] == 1
    assert counts[("activity", "", "emergency")] == 1


async def test_the_running_bot_counts_months_just_over_and_a_bad_zone_stops_nothing(
    storage: Storage, catalog: Catalog
) -> None:
    await seed(storage)
    dialogue = Dialogue(Engine(catalog), storage)
    assert await dialogue.close_months(NOW) == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
    ]
    assert await dialogue.close_months(NOW) == []  # once
    lost = Dialogue(Engine(catalog, Policy(months_timezone="Nowhere/Atlantis")), storage)
    assert await lost.close_months(NOW) == []
    assert await lost.purge(NOW) >= 0  # the retention purge still runs
