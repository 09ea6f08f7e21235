"""Every path through the shipped flows, generated from the graph (never hand-listed), so a
new choice or step is covered by the tests the moment it is added."""

from __future__ import annotations

from collections.abc import Iterator

from bot.content.catalog import Catalog
from bot.content.flows import FLOW_JUMP, SKIP
from bot.dialogue.engine import callback_data


def paths(catalog: Catalog, flow_id: str | None = None) -> Iterator[list[str]]:
    """Sequences of callback data from the entry flow's start to an end step.

    Every path to the first end step (where help is shown) is produced. The optional
    follow-up questions after an end step depend only on their own answers, so they are
    walked in full once per end step rather than once per way of reaching it (which would
    multiply the paths by 16 and test nothing more).
    """
    flow_id = flow_id or catalog.entry_flow
    followed: set[str] = set()

    def walk(
        flow_id: str, step_name: str, trail: list[str], seen: frozenset[str]
    ) -> Iterator[list[str]]:
        flow = catalog.flows[flow_id].flow
        step = flow.steps[step_name]
        if step.end:
            yield trail
            if f"{flow_id}:{step_name}" in followed:
                return
            followed.add(f"{flow_id}:{step_name}")
        options = [(c.id, c.next) for c in step.choices]
        if step.skip:
            options.append((SKIP, step.skip))
        for choice_id, target in options:
            data = callback_data(flow, step_name, choice_id)
            if target.startswith(FLOW_JUMP):
                other = catalog.flows[target[1:]].flow
                yield from walk(other.id, other.start, [*trail, data], frozenset())
            elif f"{flow_id}:{target}" not in seen:
                yield from walk(flow_id, target, [*trail, data], seen | {f"{flow_id}:{target}"})

    start = catalog.flows[flow_id].flow.start
    yield from walk(flow_id, start, [], frozenset({f"{flow_id}:{start}"}))
