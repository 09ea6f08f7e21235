"""Charts as inline SVG, drawn by matplotlib (no browser script, no network).

Why matplotlib rather than plotly: the page must open offline and stay small; plotly would
inline ~3.5 MB of JavaScript in every file, while a matplotlib SVG is tens of kilobytes
and is plain markup any browser (or a mail client) shows. Text stays ``<text>`` (not
paths) for size and so the labels can be searched and read by a screen reader.

Hidden counts are never drawn as bars or points: a bar of height 4 for ``<5`` would state a
count we refused to publish. They appear as a grey ``<5`` / ``x`` mark instead.
"""

from __future__ import annotations

import io
import math
import re
import threading
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")  # never pick a GUI backend, even on an operator's desktop

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.export.tables import Cell, Table

WIDTH = 9  # inches; 100 % of the page's 1000 px column
LABEL_MAX = 42  # characters of a bar label before it is cut with "…"
BLUE, GREEN, RED, GREY = "#1f5fa8", "#2e8540", "#c0392b", "#8a8a8a"
STYLE: dict[Any, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.parse_math": False,  # a label with two "$" is text, not a formula that can fail
}


# rc_context changes matplotlib's global settings: one chart at a time (the dashboard
# renders in worker threads).
LOCK = threading.Lock()


def _svg(figure: Figure, name: str) -> str:
    out = io.StringIO()
    with matplotlib.rc_context({**STYLE, "svg.hashsalt": f"relais-{name}"}):
        figure.savefig(out, format="svg", metadata={"Date": None})
    text = out.getvalue()
    start = text.find("<svg")
    svg = text[start:]
    # Scale with the page: drop the fixed size and keep the viewBox.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)
    label = escape(name, quote=True)
    return svg.replace("<svg", f'<svg class="chart" role="img" aria-label="{label}"', 1)


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def _value(cell: Cell) -> float:
    return float(cell.value) if cell.value is not None else math.nan


def trend(table: Table, k: int, names: dict[str, str]) -> str:
    """Conversations started / completed / shown emergency numbers, period by period."""
    with LOCK, matplotlib.rc_context(STYLE):
        # Same width for every chart (and no "tight" cropping) so that, scaled to the
        # page width, all charts show text at the same size.
        figure = Figure(figsize=(WIDTH, 3.4), layout="constrained")
        ax = figure.subplots()
        labels = [r.label for r in table.rows]
        xs = list(range(len(labels)))
        for j, (column, colour) in enumerate(zip(table.columns, (BLUE, GREEN, RED), strict=False)):
            ys = [_value(r.cells[j]) for r in table.rows]
            ax.plot(xs, ys, marker="o", markersize=3, color=colour, label=names.get(column, column))
        hidden = [x for x, r in zip(xs, table.rows, strict=True) if any(c.hidden for c in r.cells)]
        if hidden:
            ax.plot(hidden, [0] * len(hidden), "x", color=GREY, label=f"masqué (<{k} ou x)")
        step = max(1, len(labels) // 12)
        ax.set_xticks(xs[::step], labels[::step], rotation=30, ha="right")
        shown = [c.value for r in table.rows for c in r.cells if c.value is not None]
        # At least 0..k, so an empty year is not drawn on a 0.00-0.05 scale.
        ax.set_ylim(0, max([k, *shown]) * 1.08)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 conversations
        ax.set_ylabel("conversations")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        return _svg(figure, table.id)


def bars(table: Table, k: int, labels: dict[str, str], colour: str = BLUE) -> str:
    """One horizontal bar per row (first row on top); hidden rows get a grey mark."""
    with LOCK, matplotlib.rc_context(STYLE):
        height = 0.9 + 0.32 * max(1, len(table.rows))
        figure = Figure(figsize=(WIDTH, height), layout="constrained")
        ax = figure.subplots()
        names = [_cut(labels.get(r.label, r.label)) for r in table.rows]
        ys = list(range(len(names)))[::-1]
        values = [r.cells[0].value for r in table.rows]
        ax.barh(ys, [v or 0 for v in values], color=colour, height=0.65)
        top = max([k, *(v for v in values if v is not None)])
        for y, row, value in zip(ys, table.rows, values, strict=True):
            if value is None:
                ax.text(0, y, " " + row.cells[0].display(k), va="center", color=GREY)
            else:  # "41+" for a sum leaving out hidden months
                ax.text(value + top * 0.01, y, row.cells[0].display(k), va="center", fontsize=9)
        ax.set_yticks(ys, names)
        ax.set_xlim(0, top * 1.12)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("conversations")
        ax.grid(axis="x", alpha=0.3)
        return _svg(figure, table.id)
