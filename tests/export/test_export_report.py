"""Exports of a seeded event log, checked cell by cell, on SQLite and the real PostgreSQL.

The seed (``tests/export_seed.py``) is written through the real storage; the figures below
are worked out by hand from it, including which cells suppression must hide.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.domain.conversation import Command, Press
from bot.export import DateRange, layout_from_catalog
from bot.export.layout import Layout
from bot.export.queries import Tally, build_report, raw_tables, read_events
from bot.export.tables import Report, Table
from bot.storage import storage_from_url
from bot.storage.base import Storage
from tests.export_seed import FEB, GROUP, PARIS, save, seed, victim_stats

Q1 = DateRange(dt.date(2026, 1, 1), dt.date(2026, 3, 31), PARIS)
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
    return await build_report(storage, Q1, by="month", k=5, progress=False, now=NOW)


async def test_activity_per_month(report: Report) -> None:
    table = report.table("activity")
    assert table.columns == ("started", "completed", "emergency")
    # March is 0 (small) under a published total: February is hidden too, or March's
    # count would be total - January - February = 0 exactly. Emergency: 2 in all, so the
    # total itself is small and hidden, and nothing else needs to be.
    assert shown(table) == {
        "2026-01": ["12", "8", "<5"],
        "2026-02": ["x", "x", "<5"],
        "2026-03": ["<5", "<5", "<5"],
        "total": ["18", "14", "<5"],
    }


async def test_answers_per_dimension(report: Report) -> None:
    assert [t.id for t in report.tables_of("answers:")] == [
        "answers:danger",
        "answers:harassment_kind",
        "answers:platform",
    ]
    # Two small cells (3 and 3) under a total: their sum is 6, so each is anywhere in
    # 2..4; no need for a complementary cell.
    assert shown(report.table("answers:harassment_kind")) == {
        "images": ["<5"],
        "insults": ["12"],
        "threats": ["<5"],
        "total": ["18"],
    }
    # One small cell alone under a total would be total - instagram: instagram is hidden.
    assert shown(report.table("answers:platform")) == {
        "instagram": ["x"],
        "tiktok": ["<5"],
        "total": ["18"],
    }
    assert shown(report.table("answers:danger")) == {"no": ["x"], "yes": ["<5"], "total": ["18"]}


async def test_funnel_counts_distinct_conversations_per_step(report: Report) -> None:
    funnel = report.table("funnel:victim")
    assert funnel.total is None  # rows overlap: no sum is published
    assert shown(funnel) == {
        "(started)": ["18"],
        "danger": ["18"],
        "result": ["14"],
        "what": ["18"],
        "where": ["18"],
    }


async def test_origin_locale_and_resources(report: Report) -> None:
    assert shown(report.table("origin")) == {GROUP: ["7"], "direct": ["11"], "total": ["18"]}
    assert shown(report.table("locale")) == {"en": ["<5"], "fr": ["x"], "total": ["18"]}
    resources = report.table("resources")
    assert resources.total is None
    assert shown(resources) == {"fr-3018": ["14"]}


async def test_a_smaller_k_shows_more(storage: Storage) -> None:
    await seed(storage)
    report = await build_report(storage, Q1, by="month", k=2, progress=False, now=NOW)
    # Emergency: 2, 0, 0 under a total of 2. The two zeros add up to 0, which pins them;
    # hiding January's 2 is not enough (then x + 0 + 0 = 2 with x >= 2), so the total goes.
    assert shown(report.table("activity"), k=2) == {
        "2026-01": ["12", "8", "x"],
        "2026-02": ["x", "x", "<2"],
        "2026-03": ["<2", "<2", "<2"],
        "total": ["18", "14", "x"],
    }
    assert shown(report.table("locale"), k=2) == {"en": ["2"], "fr": ["16"], "total": ["18"]}


async def test_periods_follow_paris_time_and_cover_the_range(storage: Storage) -> None:
    # 31 January 23:30 UTC is 1 February 00:30 in Paris: February, ISO week 5, that day.
    late = dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC)
    for i in range(5):
        stats = victim_stats("raid", "x", completed=False, danger=False)
        await save(storage, f"late{i}", stats, late)
    days = DateRange(dt.date(2026, 1, 30), dt.date(2026, 2, 2), PARIS)
    expected = {"day": ["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"],
                "week": ["2026-W05", "2026-W06"], "month": ["2026-01", "2026-02"]}  # fmt: skip
    for by, labels in expected.items():
        tally = Tally(days, by)  # type: ignore[arg-type]
        async for event in read_events(storage, days, progress=False):
            tally.add(event)
        activity = raw_tables(tally, Layout())[0]
        assert activity.labels == tuple(labels)
        started = dict(zip(activity.labels, (row[0] for row in activity.rows), strict=True))
        assert started == {label: 5 if label in ("2026-02-01", "2026-W05", "2026-02") else 0
                           for label in labels}  # fmt: skip


async def test_the_range_stops_today(storage: Storage) -> None:
    await seed(storage)
    mid_feb = dt.datetime(2026, 2, 14, 12, tzinfo=PARIS)
    report = await build_report(storage, Q1, by="month", progress=False, now=mid_feb)
    assert (report.first, report.last) == ("2026-01-01", "2026-02-14")
    assert shown(report.table("activity")) == {
        "2026-01": ["12", "8", "<5"],
        "2026-02": ["6", "6", "<5"],  # no empty March to protect: February is shown
        "total": ["18", "14", "<5"],
    }
    with pytest.raises(ValueError, match="after today"):
        await build_report(storage, Q1, now=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))


async def test_a_range_outside_the_events_is_all_hidden(storage: Storage) -> None:
    await seed(storage)
    april = DateRange(dt.date(2026, 4, 1), dt.date(2026, 4, 30), PARIS)
    report = await build_report(storage, april, by="month", progress=False, now=NOW)
    assert shown(report.table("activity")) == {"2026-04": ["<5"] * 3, "total": ["<5"] * 3}
    assert report.tables_of("funnel:") == []


async def test_layout_from_the_flows_orders_steps_and_lists_every_choice(
    storage: Storage, catalog: Catalog
) -> None:
    await seed(storage)
    layout = layout_from_catalog(catalog)
    report = await build_report(storage, Q1, by="month", layout=layout, progress=False, now=NOW)
    steps = [r.label for r in report.table("funnel:victim").rows]
    assert (
        steps.index("danger") < steps.index("what") < steps.index("where") < steps.index("result")
    )
    kinds = shown(report.table("answers:harassment_kind"))
    assert kinds["insults"] == ["12"]
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
    events = [e async for e in read_events(storage, Q1, progress=False)]
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
    tally = Tally(Q1, "month")
    for event in events:
        tally.add(event)
    activity = raw_tables(tally, Layout())[0]
    assert activity.rows[activity.labels.index("2026-02")] == (1, 1, 1)


async def test_progress_bar_is_drawn_when_asked_and_silent_otherwise(storage: Storage) -> None:
    await seed(storage)
    drawn = io.StringIO()
    await build_report(storage, Q1, progress=True, stream=drawn, now=NOW)
    assert "reading events" in drawn.getvalue()
    assert "0/13" in drawn.getvalue()  # 90 days read in 13 chunks of 7 days
    quiet = io.StringIO()  # not a terminal: no bar by default
    await build_report(storage, Q1, stream=quiet, now=NOW)
    assert quiet.getvalue() == ""
