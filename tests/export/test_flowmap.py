"""`relais graph`: one offline SVG per flow, checked as XML and opened in headless Chromium."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy
import pytest
from PIL import Image

from bot.content.catalog import Catalog
from bot.export.flowmap import SKIPPED, arrows_of, flow_svg
from tests.export.test_export_html import chromium
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
    assert text_of(arrows["what->where"]).endswith("— 0")


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
