"""`relais graph`: one offline SVG per flow, checked as XML and opened in headless Chromium."""

from __future__ import annotations

import datetime as dt
import re
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
from bot.export.to_html import to_html
from bot.storage.sqlite import SqliteStorage
from tests.export.test_export_html import chromium
from tests.export_seed import JAN, PARIS, save, seed
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
    # "danger" is asked in several flows: its answers are not published per flow.
    assert ("danger", "what") not in counts and ("danger", "emergency") not in counts
    # Asked in this flow alone: its answers, with the small count still hidden.
    assert counts[("age", "closing")] in ("<5", "0+")

    html = to_html(report, layout_from_catalog(catalog))
    assert html.count('class="flowmap"') == len(catalog.flows)
    maps = re.findall(r'<div class="map">(<svg .*?</svg>)', html, flags=re.S)
    (victim,) = [svg for svg in maps if 'aria-label="Parcours victim ' in svg]
    _, arrows = parts(victim)
    assert text_of(arrows["what->where"]).endswith("— 12")
    assert text_of(arrows["danger->what"]).endswith(f"— {NOT_PUBLISHED}")


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
