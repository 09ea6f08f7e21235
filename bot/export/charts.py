"""Charts as inline SVG, written by hand: a trend line and horizontal bars.

Two chart types with integer axes do not need a plotting library: written by hand they take
about a millisecond each, where a plotting library costs about a second to import and half
a second a chart, on the dashboard's first paint. The page opens offline (no script, nothing
fetched) and every label is ``<text>``, searchable and read by screen readers.

Hidden counts are never drawn as bars or points: a bar of height 4 for ``<5`` would state a
count we refused to publish. They appear as a grey ``<5`` / ``x`` mark instead; a sum over
months that leaves hidden months out (``41+``) is drawn to its known part and labelled so.
"""

from __future__ import annotations

import math
from html import escape

from bot.export.tables import Cell, Table

WIDTH = 900  # the page's column, in SVG units (it scales with the page)
LABEL_MAX = 42  # characters of a bar label before it is cut with "…"
BLUE, GREEN, RED, GREY = "#1f5fa8", "#2e8540", "#c0392b", "#8a8a8a"
FONT = 'font-family="system-ui,sans-serif" font-size="13"'
CHAR = 7.5  # the width of an average character at that size, to lay the legend out


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def ticks(top: int) -> list[int]:
    """Whole-number ticks from 0 covering ``top``: 1, 2 or 5 times a power of ten apart."""
    top = max(top, 1)
    raw = top / 5
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return list(range(0, top + step, step))


def _svg(name: str, height: int, body: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(name)}" '
        f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        + "".join(body)
        + "</svg>"
    )


def _shown(cells: list[Cell]) -> list[int]:
    return [c.value for c in cells if c.value is not None]


def trend(table: Table, k: int, names: dict[str, str]) -> str:
    """Conversations started / completed / shown emergency numbers, month by month: the
    table's first three columns (answers in groups, after them, are no conversations)."""
    left, right, top_pad, bottom, plot_h = 60, 20, 40, 60, 220
    height = top_pad + plot_h + bottom
    rows = table.rows
    colours = (BLUE, GREEN, RED)
    values = [c for r in rows for c in r.cells[: len(colours)]]
    scale = ticks(max([k, *_shown(values)]))
    y_max = scale[-1]
    span = WIDTH - left - right

    def x(i: int) -> float:
        return left + (span * (i + 0.5) / max(len(rows), 1))

    def y(v: float) -> float:
        return top_pad + plot_h - plot_h * v / y_max

    axes = f"M{left} {top_pad}V{top_pad + plot_h}H{WIDTH - right}"
    body = [f'<path d="{axes}" stroke="#555" fill="none"/>']
    for t in scale:
        body.append(f'<path d="M{left - 4} {y(t):.1f}H{WIDTH - right}" stroke="#ddd"/>')
        body.append(f'<text x="{left - 8}" y="{y(t) + 4:.1f}" text-anchor="end">{t}</text>')
    step = max(1, len(rows) // 12)
    for i, row in enumerate(rows):
        if i % step == 0:
            body.append(
                f'<text x="{x(i):.1f}" y="{top_pad + plot_h + 18}" text-anchor="middle">'
                f"{escape(row.label)}</text>"
            )
    lx = float(left)  # the legend, entry after entry
    for j, (column, colour) in enumerate(zip(table.columns, colours, strict=False)):
        points = [
            (x(i), y(value)) for i, r in enumerate(rows) if (value := r.cells[j].value) is not None
        ]
        if points:
            d = "M" + "L".join(f"{px:.1f} {py:.1f}" for px, py in points)
            body.append(f'<path d="{d}" stroke="{colour}" stroke-width="2" fill="none"/>')
            body += [
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in points
            ]
        name = names.get(column, column)
        body.append(f'<path d="M{lx} 16H{lx + 18}" stroke="{colour}" stroke-width="3"/>')
        body.append(f'<text x="{lx + 24}" y="20">{escape(name)}</text>')
        lx += 24 + CHAR * len(name) + 24
    for i, row in enumerate(rows):
        if any(c.hidden for c in row.cells[: len(colours)]):
            at = f'x="{x(i):.1f}" y="{y(0) - 4:.1f}"'
            body.append(f'<text {at} text-anchor="middle" fill="{GREY}">×</text>')
    mid = top_pad + plot_h / 2
    body.append(
        f'<text x="{lx:.0f}" y="20" fill="{GREY}">× masqué (&lt;{k} ou x)</text>'
        f'<text x="14" y="{mid}" transform="rotate(-90 14 {mid})" '
        f'text-anchor="middle">conversations</text>'
    )
    return _svg(table.id, height, body)


def bars(table: Table, k: int, labels: dict[str, str], colour: str = BLUE) -> str:
    """One horizontal bar per row (first row on top); hidden rows get a grey mark."""
    label_w, right, row_h, top_pad, bottom = 320, 60, 26, 10, 40
    rows = table.rows
    height = top_pad + row_h * max(len(rows), 1) + bottom
    cells = [r.cells[0] for r in rows]
    scale = ticks(max([k, *_shown(cells)]))
    span = WIDTH - label_w - right

    def x(v: float) -> float:
        return label_w + span * v / scale[-1]

    axis_y = top_pad + row_h * max(len(rows), 1)
    body = []
    for t in scale:
        body.append(f'<path d="M{x(t):.1f} {top_pad}V{axis_y + 4}" stroke="#ddd"/>')
        body.append(f'<text x="{x(t):.1f}" y="{axis_y + 18}" text-anchor="middle">{t}</text>')
    body.append(
        f'<path d="M{label_w} {top_pad}V{axis_y}H{WIDTH - right}" stroke="#555" fill="none"/>'
    )
    for i, (row, cell) in enumerate(zip(rows, cells, strict=True)):
        mid = top_pad + row_h * i + row_h / 2
        name = _cut(labels.get(row.label, row.label))
        body.append(
            f'<text x="{label_w - 8}" y="{mid + 4:.1f}" text-anchor="end">{escape(name)}</text>'
        )
        shown = escape(cell.display(k))
        if cell.value is None:
            body.append(f'<text x="{label_w + 4}" y="{mid + 4:.1f}" fill="{GREY}">{shown}</text>')
            continue
        w = x(cell.value) - label_w
        opacity = ' fill-opacity="0.55"' if cell.partial else ""
        body.append(
            f'<path d="M{label_w} {mid - 8:.1f}h{w:.1f}v16h{-w:.1f}z" fill="{colour}"{opacity}/>'
        )
        body.append(f'<text x="{label_w + w + 4:.1f}" y="{mid + 4:.1f}">{shown}</text>')
    centre = label_w + span / 2
    body.append(
        f'<text x="{centre:.1f}" y="{height - 4}" text-anchor="middle">conversations</text>'
    )
    return _svg(table.id, height, body)
