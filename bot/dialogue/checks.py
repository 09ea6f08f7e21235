"""Cross-file checks run at start-up and by ``relais check``.

Each file is valid on its own by the time these run; here we check what only the whole
catalog can tell: a flow naming a text or a resource that does not exist, a button too
long for Telegram, a message too long once rendered in some language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.content.catalog import (
    CRISIS_COPY,
    CRISIS_RESOURCES,
    EMERGENCY_COPY,
    EMERGENCY_RESOURCES,
    MAIN_RESOURCE,
    Catalog,
    read_catalog,
)
from bot.content.flows import BACK, SKIP, LoadedFlow
from bot.content.locales import REFERENCE_LOCALE
from bot.dialogue.crisis_answer import CRISIS_KEYS
from bot.dialogue.group_texts import GROUP_KEYS
from bot.dialogue.menus import MENU_KEYS, menu_problems
from bot.dialogue.render import MAX_TEXT, step_text, summary_text
from bot.domain.conversation import COPY_TEXT_LIMIT
from bot.errors import ConfigError, Problem

MAX_CALLBACK_BYTES = 64
# Texts the engine itself uses, beyond those the flows name.
ENGINE_KEYS = (
    "meta.name",
    "welcome",
    "flow.updated",
    "command.help",
    "command.stop",
    "command.language",
    "command.unknown",
    "command.privacy",
    "command.forget_confirm",
    "command.privacy_reminder",
    "command.reminders_on",
    "command.reminders_off",
    "button.reminders_off",
    "button.reminders_on",
    "command.forgotten",
    "command.forget_cancelled",
    "command.erased",
    "command.erase_failed",
    "button.forget_yes",
    "button.forget_no",
    "language.changed",
    "emergency.text",
    "nudge.stale",
    "nudge.reminder",
    "nudge.buttons",
    "nudge.start",
    "nudge.photo",
    "nudge.unsupported",
    "error.storage",
    "button.start",
    "button.resume",
    "button.back",
    "button.skip",
    "button.restart",
    "button.summary",
    "button.copy_number",
    "button.chat",
    "summary.text",
    "status.always",
    "status.open",
    "status.closed",
    "status.closed_unknown",
    "status.today",
    "status.tomorrow",
    "resource.line",
    "resource.phone",
    "resource.sms",
    "resource.chat",
    "resource.url",
    *MENU_KEYS.values(),
)
# Instants at which texts are rendered for the length check: open, closed, and a DST day.
_SAMPLE_NOW = (
    dt.datetime(2026, 3, 29, 12, 0, tzinfo=ZoneInfo("Europe/Paris")),
    dt.datetime(2026, 1, 5, 3, 0, tzinfo=ZoneInfo("Europe/Paris")),
)


def used_keys(catalog: Catalog) -> set[str]:
    keys = set(ENGINE_KEYS) | set(GROUP_KEYS) | set(CRISIS_KEYS)
    for loaded in catalog.flows.values():
        for step in loaded.flow.steps.values():
            keys.add(step.text)
            if step.prompt:
                keys.add(step.prompt)
            keys.update(c.label for c in step.choices)
            keys.update(a.text for a in (*step.lead, *step.advice))
    for resource in catalog.resources.by_id.values():
        keys.update((resource.name_key, resource.hours_key))
    return keys


def _flow_problems(catalog: Catalog, loaded: LoadedFlow) -> Iterator[Problem]:
    flow = loaded.flow
    reference = catalog.locales.by_code.get("fr")
    recorded = {s.record for s in flow.steps.values() if s.record}
    for name, step in flow.steps.items():
        keys = [("text",), *[("choices", i, "label") for i in range(len(step.choices))]]
        values = [step.text, *[c.label for c in step.choices]]
        for section in ("lead", "advice"):
            blocks = getattr(step, section)
            keys += [(section, i, "text") for i in range(len(blocks))]
            values += [a.text for a in blocks]
        if step.prompt:
            keys.append(("prompt",))
            values.append(step.prompt)
        for i, dim in enumerate(step.summary):
            if dim not in recorded:
                yield loaded.problem(
                    name, f"summary names '{dim}', which no step records", "summary", i
                )
        for loc, key in zip(keys, values, strict=True):
            if reference is not None and key not in reference.texts:
                yield loaded.problem(name, f"text '{key}' is not in locales/fr.yaml", *loc)
        for i, rid in enumerate(step.resources):
            if rid not in catalog.resources:
                yield loaded.problem(name, f"resource '{rid}' is not defined", "resources", i)
        for section in ("lead", "advice"):
            for i, advice in enumerate(getattr(step, section)):
                for dim in advice.when:
                    if dim not in recorded:
                        yield loaded.problem(
                            name, f"advice condition on '{dim}', which no step records", section, i
                        )
                for j, rid in enumerate(advice.resources):
                    if rid not in catalog.resources:
                        yield loaded.problem(
                            name, f"resource '{rid}' is not defined", section, i, "resources", j
                        )
        for i, choice in enumerate(step.choices):
            if choice.next.startswith("@") and catalog.flow(choice.next[1:]) is None:
                yield loaded.problem(
                    name, f"next '{choice.next}' names no flow", "choices", i, "next"
                )
        for i, choice_id in enumerate([*(c.id for c in step.choices), BACK, SKIP]):
            data = f"{flow.id}:{flow.version}:{name}:{choice_id}"
            if len(data.encode()) > MAX_CALLBACK_BYTES:
                loc = ("choices", i, "id") if i < len(step.choices) else ()
                yield loaded.problem(
                    name,
                    f"button data '{data}' is {len(data.encode())} bytes, Telegram allows "
                    f"{MAX_CALLBACK_BYTES}: shorten the flow, step or choice id",
                    *loc,
                )


def _length_problems(catalog: Catalog, loaded: LoadedFlow) -> Iterator[Problem]:
    """Render each step with every advice block (the longest case) in every language."""
    flow = loaded.flow
    for name, step in flow.steps.items():
        everything = step.model_copy(
            update={
                section: [a.model_copy(update={"when": {}}) for a in getattr(step, section)]
                for section in ("lead", "advice")
            }
        )
        for code in catalog.locales.codes:
            for now in _SAMPLE_NOW:
                text = step_text(catalog, everything, code, {}, now)
                if len(text) > MAX_TEXT:
                    yield loaded.problem(
                        name,
                        f"in '{code}' the message is {len(text)} characters, Telegram allows "
                        f"{MAX_TEXT}: shorten the texts or split the step",
                    )
                    break


def _summary_problems(catalog: Catalog, loaded: LoadedFlow) -> Iterator[Problem]:
    """The summary for 3018 with the longest answer to each question, in every language:
    Telegram copies at most 256 characters, and a cut would drop the French line."""
    flow = loaded.flow
    for name, step in flow.steps.items():
        choices = [
            [c.label for s in flow.steps.values() if s.record == dimension for c in s.choices]
            for dimension in step.summary
        ]
        for code in catalog.locales.codes:

            def length(key: str, code: str = code) -> int:
                texts = catalog.locales
                return len(texts.text(code, key)) + len(texts.text(REFERENCE_LOCALE, key))

            longest = [max(labels, key=length) for labels in choices if labels]
            size = len(summary_text(catalog, code, longest))
            if longest and size > COPY_TEXT_LIMIT:
                yield loaded.problem(
                    name,
                    f"in '{code}' the summary for 3018 can reach {size} characters, Telegram "
                    f"copies at most {COPY_TEXT_LIMIT}: list fewer answers in `summary`",
                    "summary",
                )
                break


def _unreached_files(catalog: Catalog) -> Iterator[Problem]:
    """A resources file (a country) whose lines no end step shows: no path leads a child
    there to help. Lines shown only under a condition do not count."""
    shown = {
        rid
        for loaded in catalog.flows.values()
        for step in loaded.flow.steps.values()
        if step.end
        for rid in step.shown_resources({})
    }
    by_file: dict[Path, list[str]] = {}
    for rid, doc in catalog.resources.docs.items():
        by_file.setdefault(doc.path, []).append(rid)
    for ids in by_file.values():
        if not shown.intersection(ids):
            first = sorted(ids)[0]
            yield catalog.resources.docs[first].problem(
                (first,),
                f"no end step shows any of {', '.join(sorted(ids))}: no path leads to this "
                "country's help (add its step to flows/abroad.yaml)",
            )


def check_catalog(
    catalog: Catalog, *, today: dt.date | None = None, max_age_days: int | None = None
) -> list[Problem]:
    """Every cross-file problem; warnings (``Problem.warning``) do not stop the bot."""
    problems = catalog.locales.check(used_keys(catalog))
    crisis = [rid for ids in (*CRISIS_RESOURCES.values(), *CRISIS_COPY.values()) for rid in ids]
    for rid in dict.fromkeys((MAIN_RESOURCE, *EMERGENCY_RESOURCES, *EMERGENCY_COPY, *crisis)):
        if rid not in catalog.resources:
            problems.append(Problem("flows/resources/", 1, f"resource '{rid}' is required"))
    for loaded in catalog.flows.values():
        problems.extend(_flow_problems(catalog, loaded))
    problems.extend(_unreached_files(catalog))
    problems.extend(menu_problems(catalog))
    if not [p for p in problems if not p.warning]:
        for loaded in catalog.flows.values():
            problems.extend(_length_problems(catalog, loaded))
            problems.extend(_summary_problems(catalog, loaded))
    if today is not None and max_age_days is not None:
        problems.extend(catalog.resources.stale(today, max_age_days))
    return sorted(problems)


def load_catalog(flows_dir: Path, locales_dir: Path, default_locale: str = "fr") -> Catalog:
    """Load and cross-check all data; raise ``ConfigError`` listing every problem."""
    catalog = read_catalog(flows_dir, locales_dir, default_locale)
    errors = [p for p in check_catalog(catalog) if not p.warning]
    if errors:
        raise ConfigError(errors)
    return catalog
