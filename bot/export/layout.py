"""What the flows say about how to lay figures out: step order, choice order, labels.

Exports work from the event log alone; the catalog only makes them easier to read (steps
in the order a young person meets them, choices in the order of the buttons, every known
choice listed even when nobody picked it). Rows are never ordered by count, because the
position of a hidden cell among sorted ones would hint at its size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.content.catalog import Catalog
from bot.domain.conversation import SKIPPED


@dataclass(frozen=True)
class Layout:
    steps: dict[str, list[str]] = field(default_factory=dict)  # flow -> steps, in order
    choices: dict[str, list[str]] = field(default_factory=dict)  # dimension -> choice ids
    labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (dimension, id) -> text
    step_names: dict[tuple[str, str], str] = field(default_factory=dict)  # (flow, step) -> text
    resource_names: dict[str, str] = field(default_factory=dict)  # resource id -> its name
    # (flow, step) -> the question the step records and its choice ids, in button order
    questions: dict[tuple[str, str], tuple[str, list[str]]] = field(default_factory=dict)
    # The flows themselves, for their maps (bot.export.flowmap); None: no maps.
    catalog: Catalog | None = field(default=None, compare=False, repr=False)
    locale: str = "fr"

    def order_steps(self, flow: str, seen: Iterable[str]) -> list[str]:
        known = self.steps.get(flow, [])
        return [s for s in known if s in set(seen)] + sorted(set(seen) - set(known))

    def order_choices(self, dimension: str, seen: Iterable[str]) -> list[str]:
        """Known choices (all of them), then unknown ones seen in the log, ``skipped`` last."""
        known = self.choices.get(dimension, [])
        extra = sorted(set(seen) - set(known), key=lambda c: (c == SKIPPED, c))
        return known + extra

    def label(self, dimension: str, choice: str) -> str:
        return self.labels.get((dimension, choice), choice)


def short(text: str, limit: int = 60) -> str:
    """The first line of a step's text, cut to ``limit`` characters: a funnel row's name."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def layout_from_catalog(catalog: Catalog, locale: str = "fr") -> Layout:
    """Walk each flow from its start (breadth first, buttons in order)."""
    steps: dict[str, list[str]] = {}
    choices: dict[str, list[str]] = {}
    labels: dict[tuple[str, str], str] = {}
    step_names: dict[tuple[str, str], str] = {}
    questions: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for flow_id, loaded in catalog.flows.items():
        flow = loaded.flow
        order, queue = [flow.start], [flow.start]
        while queue:
            step = flow.steps[queue.pop(0)]
            targets = [c.next for c in step.choices] + ([step.skip] if step.skip else [])
            for target in targets:
                if target in flow.steps and target not in order:
                    order.append(target)
                    queue.append(target)
        order += [s for s in flow.steps if s not in order]
        steps[flow_id] = order
        for name in order:
            step = flow.steps[name]
            step_names[(flow_id, name)] = short(catalog.locales.text(locale, step.text))
            if not step.record:
                continue
            buttons = [c.id for c in step.choices] + ([SKIPPED] if step.skip else [])
            questions[(flow_id, name)] = (step.record, buttons)
            ids = choices.setdefault(step.record, [])
            for choice in step.choices:
                if choice.id not in ids:
                    ids.append(choice.id)
                    labels[(step.record, choice.id)] = catalog.locales.text(locale, choice.label)
            if step.skip and SKIPPED not in ids:
                ids.append(SKIPPED)
    for ids in choices.values():  # "skipped" after every real answer
        if SKIPPED in ids:
            ids.remove(SKIPPED)
            ids.append(SKIPPED)
    resource_names = {
        rid: catalog.locales.text(locale, f"resources.{rid}.name")
        for rid in catalog.resources.by_id
        if catalog.locales.has(f"resources.{rid}.name")
    }
    return Layout(
        steps,
        choices,
        labels,
        step_names,
        resource_names,
        questions,
        catalog=catalog,
        locale=locale,
    )
