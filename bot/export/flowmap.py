"""Each flow drawn as a map: steps as boxes with their text, choices as arrows, end steps
with the help they show, hand-overs to other flows. ``relais graph`` writes one SVG per
flow; the dashboard shows the same map with each arrow's count of conversations.

With a report (``arrow_counts``), an arrow carries the conversations that took it, built
only from figures the report already publishes, so it follows the same small-count rules:
the answers to a question asked in this flow alone (summed over the arrow's buttons, as
``12+`` when one was hidden); for a question whose every button leads to the same step,
the funnel row of conversations that got through it; otherwise the answers given at that
step of this flow (``choices:<flow>:<step>``, a question several flows ask). An arrow
reads "—" only when no month of the range has that figure: months rolled up before the
per-flow answers existed (over a range mixing both, the count reads ``N+``).

The layout is plain layers (a step sits one row below the first step that leads to it),
enough for flows of a dozen steps; the SVG is self-contained (no script, no font or image
fetched), so it opens offline in any browser.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape

from bot.content.catalog import Catalog
from bot.content.flows import FLOW_JUMP, Flow
from bot.domain.conversation import SKIPPED
from bot.domain.disclosure import CHOICES
from bot.export.queries import combine
from bot.export.tables import Cell, Report, Table

BOX_WIDTH = 280
LINE_HEIGHT = 15
WRAP = 40  # characters a box line holds at its font size
MAX_LINES = 6
COLUMN_GAP = 90
ROW_GAP = 80
MARGIN = 20
LABEL_CHARS = 44
NOT_PUBLISHED = "—"

# An arrow: (step, target) inside the flow, or (step, "@flow") for a hand-over.
Edge = tuple[str, str]
# What the dashboard gives for each arrow: the count as published (a number, "<5"...).
EdgeCounts = Mapping[Edge, str]


@dataclass
class _Box:
    key: str  # a step name, or "@flow" for a hand-over
    lines: list[str]
    kind: str  # "step", "end" or "jump"
    row: int = 0
    x: float = 0
    y: float = 0

    @property
    def height(self) -> float:
        return 16 + LINE_HEIGHT * len(self.lines)


@dataclass
class _Arrow:
    source: str
    target: str
    labels: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    skip: bool = False


def _wrap(text: str, limit: int = MAX_LINES) -> list[str]:
    lines: list[str] = []
    for paragraph in text.replace("*", "").replace("_", "").splitlines():
        lines.extend(textwrap.wrap(paragraph, WRAP) or [])
    if len(lines) > limit:
        lines = [*lines[: limit - 1], lines[limit - 1][: WRAP - 1] + "…"]
    return lines


def arrows_of(flow: Flow) -> dict[Edge, list[str]]:
    """Each arrow of the map and the choice ids it carries (``skipped`` for the skip)."""
    found: dict[Edge, list[str]] = {}
    for name, step in flow.steps.items():
        for choice in step.choices:
            found.setdefault((name, choice.next), []).append(choice.id)
        if step.skip:
            found.setdefault((name, step.skip), []).append(SKIPPED)
    return found


def _cells(report: Report, table_id: str) -> dict[str, Cell] | None:
    found: list[Table] = [t for t in report.tables if t.id == table_id]
    return {row.label: row.cells[0] for row in found[0].rows} if found else None


def arrow_counts(catalog: Catalog, flow_id: str, report: Report) -> dict[Edge, str]:
    """Each arrow's published count, as displayed (see the module's docstring)."""
    flow = catalog.flows[flow_id].flow
    asked_in: dict[str, set[str]] = {}
    for other, loaded in catalog.flows.items():
        for step in loaded.flow.steps.values():
            if step.record:
                asked_in.setdefault(step.record, set()).add(other)
    funnel = _cells(report, f"funnel:{flow_id}") or {}
    arrows = arrows_of(flow)
    counts: dict[Edge, str] = {}
    for (name, target), choices in arrows.items():
        step = flow.steps[name]
        answers = _cells(report, f"answers:{step.record}") if step.record else None
        per_flow = _cells(report, f"{CHOICES}{flow_id}:{name}") if step.record else None
        if step.record and asked_in[step.record] == {flow_id}:
            found = answers or {}
            cell = combine([found.get(c, Cell(None, "small")) for c in choices])
        elif not step.end and [t for n, t in arrows if n == name] == [target] and name in funnel:
            cell = funnel[name]
        elif per_flow is not None:
            cell = combine([per_flow.get(c, Cell(None, "small")) for c in choices])
        else:
            continue
        counts[(name, target)] = cell.display(report.k)
    return counts


def _boxes(catalog: Catalog, flow: Flow, say: Callable[[str], str]) -> dict[str, _Box]:
    boxes: dict[str, _Box] = {}
    for name, step in flow.steps.items():
        lines = [f"[{name}]", *_wrap(say(step.text))]
        if step.resources:
            names = [say(f"resources.{r}.name") for r in step.resources]
            lines += _wrap("Aide : " + ", ".join(names), 4)
        if step.advice:
            lines += [f"+ {len(step.advice)} conseil(s) selon les réponses"]
        boxes[name] = _Box(name, lines, "end" if step.end else "step")
    for step in flow.steps.values():
        for jump in step.jumps():
            key = FLOW_JUMP + jump
            target = catalog.flow(jump)
            start = f" (commence par {target.start})" if target else ""
            boxes.setdefault(key, _Box(key, [f"→ parcours {jump}{start}"], "jump"))
    return boxes


def _layout(flow: Flow, boxes: dict[str, _Box], arrows: list[_Arrow]) -> tuple[float, float]:
    """Rows by distance from the start; returns the drawing's width and height."""
    rows = {flow.start: 0}
    queue = [flow.start]
    while queue:
        current = queue.pop(0)
        for arrow in arrows:
            if arrow.source == current and arrow.target not in rows:
                rows[arrow.target] = rows[current] + 1
                queue.append(arrow.target)
    last = max(rows.values(), default=0)
    for key in boxes:  # unreachable steps (relais check refuses them) go last
        rows.setdefault(key, last + 1)
    by_row: dict[int, list[_Box]] = {}
    for key, box in boxes.items():
        box.row = rows[key]
        by_row.setdefault(box.row, []).append(box)
    widest = max(len(row) for row in by_row.values())
    width = 2 * MARGIN + widest * BOX_WIDTH + (widest - 1) * COLUMN_GAP
    y = float(MARGIN)
    for row in sorted(by_row):
        boxes_here = by_row[row]
        used = len(boxes_here) * BOX_WIDTH + (len(boxes_here) - 1) * COLUMN_GAP
        x = (width - used) / 2
        for box in boxes_here:
            box.x, box.y = x, y
            x += BOX_WIDTH + COLUMN_GAP
        y += max(b.height for b in boxes_here) + ROW_GAP
    return width, y - ROW_GAP + MARGIN


def _arrow_svg(arrow: _Arrow, boxes: dict[str, _Box], count: str | None, marker: str) -> str:
    a, b = boxes[arrow.source], boxes[arrow.target]
    x1, y1 = a.x + BOX_WIDTH / 2, a.y + a.height
    x2, y2 = b.x + BOX_WIDTH / 2, b.y
    if b.row == a.row:  # side by side: straight across
        left, right = (a, b) if a.x < b.x else (b, a)
        y1 = y2 = max(a.y, b.y) + min(a.height, b.height) / 2
        x1, x2 = left.x + BOX_WIDTH, right.x
        if left is b:  # pointing leftwards
            x1, x2 = x2, x1
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2, y1 - 6
    elif b.row < a.row:  # back up the map: around the right-hand side
        x1, y1 = a.x + BOX_WIDTH, a.y + a.height / 2
        x2, y2 = b.x + BOX_WIDTH, b.y + b.height / 2
        side = max(x1, x2) + 60
        path = f"M{x1:.0f},{y1:.0f} C{side:.0f},{y1:.0f} {side:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = side - 10, (y1 + y2) / 2
    else:
        bend = (y2 - y1) / 2
        path = (
            f"M{x1:.0f},{y1:.0f} C{x1:.0f},{y1 + bend:.0f} {x2:.0f},{y2 - bend:.0f} "
            f"{x2:.0f},{y2:.0f}"
        )
        lx, ly = (x1 + x2) / 2, (y1 + y2) / 2
    label = ", ".join(arrow.labels)
    if len(label) > LABEL_CHARS:
        label = label[: LABEL_CHARS - 1] + "…"
    if count is not None:
        label = f"{label} — {count}"
    dash = ' stroke-dasharray="5 4"' if arrow.skip else ""
    edge = f"{arrow.source}->{arrow.target}"
    return (
        f'<g class="arrow" data-edge="{escape(edge)}">'
        f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.4"{dash} '
        f'marker-end="url(#{marker})"/>'
        f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="middle" font-size="11" fill="#222" '
        f'stroke="#fff" stroke-width="3" paint-order="stroke">{escape(label)}</text></g>'
    )


FILL = {"step": "#eef3fb", "end": "#e6f4ea", "jump": "#fdf3e1"}


def _box_svg(box: _Box) -> str:
    text = "".join(
        f'<tspan x="{box.x + 10:.0f}" dy="{LINE_HEIGHT if i else 0}"'
        + (' font-weight="bold"' if i == 0 else "")
        + f">{escape(line)}</tspan>"
        for i, line in enumerate(box.lines)
    )
    return (
        f'<g class="step {box.kind}" data-step="{escape(box.key)}">'
        f'<rect x="{box.x:.0f}" y="{box.y:.0f}" width="{BOX_WIDTH}" height="{box.height:.0f}" '
        f'rx="8" fill="{FILL[box.kind]}" stroke="#345"/>'
        f'<text x="{box.x + 10:.0f}" y="{box.y + 20:.0f}" font-size="12" fill="#111">'
        f"{text}</text></g>"
    )


def flow_svg(
    catalog: Catalog,
    flow_id: str,
    *,
    locale: str = "fr",
    counts: EdgeCounts | None = None,
) -> str:
    """The map of one flow as a standalone SVG document (``counts``: one per arrow)."""
    loaded = catalog.flows[flow_id]
    flow = loaded.flow

    def say(key: str) -> str:
        return catalog.locales.text(locale, key)

    boxes = _boxes(catalog, flow, say)
    arrows: dict[Edge, _Arrow] = {}
    for name, step in flow.steps.items():
        for choice in step.choices:
            arrow = arrows.setdefault((name, choice.next), _Arrow(name, choice.next))
            arrow.labels.append(say(choice.label))
            arrow.choices.append(choice.id)
        if step.skip:
            arrow = arrows.setdefault((name, step.skip), _Arrow(name, step.skip))
            arrow.labels.append(say("button.skip"))
            arrow.choices.append(SKIPPED)
            arrow.skip = arrow.skip or len(arrow.choices) == 1
    width, height = _layout(flow, boxes, list(arrows.values()))
    marker = f"head-{flow.id}"  # unique when several maps share a page
    body = [_box_svg(box) for box in boxes.values()]
    body += [
        _arrow_svg(
            arrow, boxes, None if counts is None else counts.get(edge, NOT_PUBLISHED), marker
        )
        for edge, arrow in arrows.items()
    ]
    title = f"Parcours {flow.id} (version {flow.version})"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flowmap" role="img" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="DejaVu Sans, Arial, sans-serif" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>'
        f'<rect width="100%" height="100%" fill="#fff"/>{"".join(body)}</svg>\n'
    )
