"""`relais graph`: one offline SVG per flow, checked as XML and opened in headless Chromium."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy
import pytest
from PIL import Image

from bot.content.catalog import Catalog
from bot.domain.conversation import Stat
from bot.domain.months import Month
from bot.export.flowmap import NOT_PUBLISHED, SKIPPED, arrow_counts, arrows_of, flow_svg
from bot.export.layout import layout_from_catalog
from bot.export.queries import build_report
from bot.export.tables import Table
from bot.export.to_html import to_html
from bot.storage.sqlite import SqliteStorage
from tests.export.test_export_html import chromium
from tests.export_seed import FEB, JAN, PARIS, save, seed
from tests.system.test_cli import run

SVG = "{http://www.w3.org/2000/svg}"
END_FILL = (0xE6, 0xF4, 0xEA)  # end steps' boxes (bot/export/flowmap.py FILL)


def parts(svg: str) -> tuple[dict[str, ET.Element], dict[str, ET.Element]]:
    """The map's boxes by step and its arrows by 'step->target'."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    groups = list(root.iter(f"{SVG}g"))
    boxes = {g.attrib["data-step"]: g for g in groups if "data-step" in g.attrib}
    arrows = {g.attrib["data-edge"]: g for g in groups if "data-edge" in g.attrib}
    return boxes, arrows


def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def shown(table: Table) -> dict[str, str]:
    """Row label -> the cell as displayed (the first column)."""
    rows = [*table.rows, *([table.total] if table.total else [])]
    return {row.label: row.cells[0].display(5) for row in rows}


def test_graph_writes_one_map_per_flow(tmp_path: Path, catalog: Catalog) -> None:
    result = run(["graph", "-o", str(tmp_path / "maps")], tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == [
        f"{flow}.svg" for flow in sorted(catalog.flows)
    ]
    for flow_id, loaded in catalog.flows.items():
        boxes, arrows = parts((tmp_path / "maps" / f"{flow_id}.svg").read_text("utf-8"))
        assert set(loaded.flow.steps) <= set(boxes)
        assert set(arrows) == {f"{a}->{b}" for a, b in arrows_of(loaded.flow)}
        svg = (tmp_path / "maps" / f"{flow_id}.svg").read_text("utf-8")
        assert "<script" not in svg and "href=" not in svg  # nothing to fetch or run


def test_the_map_shows_texts_help_and_hand_overs(catalog: Catalog) -> None:
    boxes, arrows = parts(flow_svg(catalog, "victim"))
    assert "est-ce que toi ou quelqu'un" in text_of(boxes["danger"])  # the French question
    assert "3018" in text_of(boxes["result"])  # an end step names its help
    assert boxes["result"].attrib["class"] == "step end"
    assert "Instagram" in text_of(arrows["where->since"])  # choices label their arrow
    start_boxes, start_arrows = parts(flow_svg(catalog, "start"))
    assert {"@victim", "@witness", "@adult"} <= set(start_boxes)  # hand-overs
    assert "who->@witness" in start_arrows


def test_arrows_carry_the_counts_given(catalog: Catalog) -> None:
    assert ("danger", "what") in arrows_of(catalog.flows["victim"].flow)
    assert arrows_of(catalog.flows["victim"].flow)[("danger", "what")] == ["no", SKIPPED]
    _, arrows = parts(flow_svg(catalog, "victim", counts={("danger", "what"): "<5"}))
    assert text_of(arrows["danger->what"]).endswith("— <5")
    assert text_of(arrows["what->where"]).endswith(f"— {NOT_PUBLISHED}")


async def test_the_page_maps_each_flow_with_counts_it_already_publishes(
    sqlite_storage: SqliteStorage, catalog: Catalog
) -> None:
    await seed(sqlite_storage)  # January: 12 victims through "what" and "where"
    for n in range(3):  # three answer the age question: a small count
        age = Stat("step_answered", flow="victim", step="age", dimension="age_band", choice="13-14")
        await save(sqlite_storage, f"sess-age{n}", [Stat("flow_started", flow="victim"), age], JAN)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    report = await build_report(sqlite_storage, Month(2026, 1), Month(2026, 1), PARIS, now=now)
    funnel = {
        row.label: row.cells[0].display(report.k) for row in report.table("funnel:victim").rows
    }

    counts = arrow_counts(catalog, "victim", report)
    # Every button of "what" leads to "where": the funnel row of "what", as published.
    assert counts[("what", "where")] == funnel["what"] == "12"
    # "danger" is asked in several flows: its answers in this flow, as published (2 yes).
    per_flow = {row.label: row.cells[0] for row in report.table("choices:victim:danger").rows}
    assert counts[("danger", "emergency")] == per_flow["yes"].display(report.k) == "<5"
    # Asked in this flow alone: its answers, with the small count still hidden.
    assert counts[("age", "closing")] in ("<5", "0+")

    html = to_html(report, layout_from_catalog(catalog))
    assert html.count('class="flowmap"') == len(catalog.flows)
    maps = re.findall(r'<div class="map">(<svg .*?</svg>)', html, flags=re.S)
    (victim,) = [svg for svg in maps if 'aria-label="Parcours victim ' in svg]
    _, arrows = parts(victim)
    assert text_of(arrows["what->where"]).endswith("— 12")
    assert text_of(arrows["danger->emergency"]).endswith("— <5")


async def shared_question(storage: SqliteStorage, month: dt.datetime) -> None:
    """Victims and witnesses answer "danger" (a question both flows ask): victims 5 yes,
    9 no; witnesses 6 yes, 7 no."""
    for flow, yes, no in (("victim", 5, 9), ("witness", 6, 7)):
        for n in range(yes + no):
            choice = "yes" if n < yes else "no"
            answer = Stat(
                "step_answered", flow=flow, step="danger", dimension="danger", choice=choice
            )
            stats = [Stat("flow_started", flow=flow), answer]
            await save(storage, f"sess-{month:%m}-{flow}-{n}", stats, month)


async def test_a_question_several_flows_ask_is_counted_per_flow(
    sqlite_storage: SqliteStorage, catalog: Catalog
) -> None:
    await shared_question(sqlite_storage, JAN)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    layout = layout_from_catalog(catalog)
    report = await build_report(
        sqlite_storage, Month(2026, 1), Month(2026, 1), PARIS, now=now, layout=layout
    )
    assert shown(report.table("answers:danger"))["yes"] == "11"  # all flows together
    victim, witness = (
        arrow_counts(catalog, "victim", report),
        arrow_counts(catalog, "witness", report),
    )
    assert victim[("danger", "emergency")] == "5" and witness[("danger", "emergency")] == "6"
    # "no" and "I'd rather not say" lead to the same step; nobody skipped: "at least".
    assert victim[("danger", "what")] == "9+" and witness[("danger", "what")] == "7+"
    # Each flow's answers, published as a table of their own, add up to its funnel row.
    assert shown(report.table("choices:witness:danger")) == {"yes": "6", "no": "7", "skipped": "<5"}
    assert shown(report.table("funnel:witness"))["danger"] == "13"
    html = to_html(report, layout)
    maps = re.findall(r'<div class="map">(<svg .*?</svg>)', html, flags=re.S)
    (drawn,) = [svg for svg in maps if 'aria-label="Parcours witness ' in svg]
    assert text_of(parts(drawn)[1]["danger->emergency"]).endswith("— 6")


async def test_months_counted_before_per_flow_answers_read_as_not_published(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A database whose January was rolled up by an earlier version (no per-flow rows):
    January is not counted again; its arrows read "—" alone and "N+" beside February."""
    database = tmp_path / "old.sqlite3"
    layout = layout_from_catalog(catalog)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    async with SqliteStorage(database) as storage:
        await shared_question(storage, JAN)
        january = Month(2026, 1)
        assert await storage.close_months(PARIS, now, since=january, upto=january) == ["2026-01"]
    with sqlite3.connect(database) as conn:  # what the earlier version left
        conn.execute("DELETE FROM period_counts WHERE tbl LIKE 'choices:%'")
    conn.close()
    async with SqliteStorage(database) as storage:
        await shared_question(storage, FEB)
        old = await build_report(
            storage, Month(2026, 1), Month(2026, 1), PARIS, now=now, layout=layout
        )
        both = await build_report(
            storage, Month(2026, 1), Month(2026, 2), PARIS, now=now, layout=layout
        )
    assert old.tables_of("choices:") == []
    assert ("danger", "emergency") not in arrow_counts(catalog, "victim", old)
    assert shown(old.table("answers:danger")) == {
        "yes": "11",
        "no": "16",
        "skipped": "<5",
        "total": "27",
    }
    # January is not counted again (its published cells could change): no rows added.
    with sqlite3.connect(database) as conn:
        added = conn.execute(
            "SELECT period, COUNT(*) FROM period_counts WHERE tbl LIKE 'choices:%' GROUP BY period"
        ).fetchall()
    conn.close()
    assert added == [("2026-02", 2 + 2)]
    # February's 5 victims in danger, and January's, which were never counted per flow.
    assert arrow_counts(catalog, "victim", both)[("danger", "emergency")] == "5+"


def test_graph_refuses_a_language_without_texts(tmp_path: Path) -> None:
    result = run(["graph", "--lang", "zz", "-o", str(tmp_path)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("relais graph: --lang zz: no such texts")


@pytest.mark.chromium
def test_chromium_draws_the_map(tmp_path: Path, catalog: Catalog) -> None:
    page = tmp_path / "victim.svg"
    page.write_text(flow_svg(catalog, "victim"), "utf-8")
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "parsererror" not in dom and 'data-step="result"' in dom
    shot = tmp_path / "victim.png"
    chromium(tmp_path, "--window-size=900,1400", f"--screenshot={shot}", page.as_uri())
    pixels = numpy.asarray(Image.open(shot).convert("RGB"))
    near_end_fill = (numpy.abs(pixels.astype(int) - END_FILL).sum(axis=2) < 12).sum()
    assert near_end_fill > 5_000  # the end steps' boxes were painted
