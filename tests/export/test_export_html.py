"""The HTML export in a real browser: Debian's headless Chromium, offline.

The page must open from a file with no network, and its charts must actually render: we
dump the DOM Chromium built (inline SVG charts with drawn shapes and text) and take a
screenshot (kept in the test's tmp dir) whose pixels must show the charts' colours.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import numpy
import pytest
from PIL import Image

from bot.content.catalog import Catalog
from bot.domain.months import Month
from bot.export import layout_from_catalog, render
from bot.export.layout import Layout
from bot.export.queries import build_report
from bot.export.tables import Report
from bot.export.to_html import TITLES
from bot.storage.sqlite import SqliteStorage
from tests.export_seed import PARIS, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLUE = (0x1F, 0x5F, 0xA8)  # bars (bot/export/charts.py)
LAYOUT = Layout(labels={("harassment_kind", "insults"): "Insultes, moqueries"})


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )


class Charts(HTMLParser):
    """Counts, per inline chart, the shapes and texts the browser kept in the DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, int]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg" and ("class", "chart") in attrs:
            self.charts.append({"path": 0, "text": 0})
            self.depth = 1
        elif self.depth and tag == "svg":
            self.depth += 1
        elif self.depth and tag in ("path", "text"):
            self.charts[-1][tag] += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "svg":
            self.depth -= 1


@pytest.fixture
async def report(sqlite_storage: SqliteStorage) -> Report:
    await seed(sqlite_storage)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    return await build_report(sqlite_storage, Month(2026, 1), Month(2026, 1), PARIS, now=now)


async def test_html_is_one_self_contained_file(report: Report) -> None:
    html = render(report, "html", LAYOUT).decode("utf-8")
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert not re.search(r"url\((?!#)", html)  # only references inside the page
    assert len(html) < 400_000  # charts are SVG, not a plotting library's JavaScript
    assert html.count('<svg class="chart"') == 1 + 3 + 1  # trend, 3 dimensions, 1 funnel
    assert "Insultes, moqueries" in html  # labels from the flows when known
    assert "&lt;5" in html and ">12<" in html


async def test_the_offline_page_forbids_scripts_and_loads(report: Report) -> None:
    """Opened from a disk the file has no server to send a CSP header: it carries one."""
    html = render(report, "html", LAYOUT).decode("utf-8")
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';' in html


async def test_steps_and_resources_are_named_in_words(report: Report, catalog: Catalog) -> None:
    html = render(report, "html", layout_from_catalog(catalog)).decode("utf-8")
    where = catalog.locales.text("fr", catalog.flows["victim"].flow.steps["where"].text)
    assert f"<td>{escape(where)}</td>" in html  # the funnel's "where" step, in words
    resource = catalog.locales.text("fr", "resources.fr-3018.name")
    assert f"<td>{escape(resource)}</td>" in html  # fr-3018 by its name
    assert "<td>where</td>" not in html and "<td>fr-3018</td>" not in html


@pytest.mark.chromium
def test_chromium_renders_the_charts(report: Report, tmp_path: Path) -> None:
    page = tmp_path / "relais.html"
    page.write_bytes(render(report, "html", LAYOUT))
    url = page.as_uri()

    dom = chromium(tmp_path, "--dump-dom", url).stdout
    parser = Charts()
    parser.feed(dom)
    assert len(parser.charts) == 5
    for chart in parser.charts:
        assert chart["path"] >= 5, chart  # axes, ticks, bars or lines were drawn
        assert chart["text"] >= 3, chart  # tick labels and legend as real text
    assert TITLES["answers:harassment_kind"] in dom and TITLES["answers:platform"] in dom

    shot = tmp_path / "relais.png"
    chromium(tmp_path, "--window-size=1366,2600", "--hide-scrollbars", f"--screenshot={shot}", url)
    image = Image.open(shot).convert("RGB")
    assert image.size == (1366, 2600)
    pixels = numpy.asarray(image, dtype=int).reshape(-1, 3)
    blue = int((numpy.abs(pixels - BLUE).max(axis=1) < 24).sum())
    white = int((pixels == 255).all(axis=1).sum())
    assert blue > 5_000, "no bars painted"  # the bars of three bar charts
    assert white < len(pixels) * 0.97, "the page is blank"
    assert len(numpy.unique(pixels[::50], axis=0)) > 20  # text, axes, colours: not flat
