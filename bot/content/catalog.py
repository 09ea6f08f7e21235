"""Everything the engine reads: flows, locales and resources, loaded together.

Loading is all-or-nothing: the bot refuses to start on a broken file rather than showing
a child a half-working conversation, and ``ConfigError`` lists every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot.content.crisis import CrisisWords
from bot.content.crisis_lists import load_crisis_words
from bot.content.flows import Flow, LoadedFlow, load_flows
from bot.content.locales import Locales, load_locales
from bot.content.resources import Resources, load_resources
from bot.domain.crisis import Tier
from bot.errors import ConfigError, Problem

T = TypeVar("T")

ENTRY_FLOW = "start"
# Shown in the very first reply, on /aide, /stop and whenever something goes wrong.
MAIN_RESOURCE = "fr-3018"
EMERGENCY_RESOURCES = ("fr-112", "fr-17", "fr-114", "fr-3114", "fr-119")
# The answer to typed words of crisis, per tier, in the order to call: a life at risk
# from oneself needs 3114 first, danger from someone the police first.
CRISIS_RESOURCES: dict[Tier, tuple[str, ...]] = {
    Tier.SELF: ("fr-3114", "fr-112", "fr-15"),
    Tier.OTHERS: ("fr-17", "fr-112", "fr-114", "fr-3018", "fr-119"),
}
# Numbers given a copy button (Telegram refuses ``tel:`` links), per answer.
CRISIS_COPY: dict[Tier, tuple[str, ...]] = {
    Tier.SELF: ("fr-3114", "fr-112"),
    Tier.OTHERS: ("fr-17", "fr-112"),
}
EMERGENCY_COPY = ("fr-112", "fr-3114")


@dataclass(eq=False)  # hashed by identity: the engine caches keyboards per catalog
class Catalog:
    """Validated data the engine works from; immutable once loaded."""

    flows: dict[str, LoadedFlow]
    locales: Locales
    resources: Resources
    entry_flow: str
    crisis: CrisisWords

    def flow(self, flow_id: str) -> Flow | None:
        loaded = self.flows.get(flow_id)
        return loaded.flow if loaded else None


def _attempt(problems: list[Problem], load: Callable[[], T]) -> T | None:
    """Run one loader, keeping its problems so all files are reported in one go."""
    try:
        return load()
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def read_catalog(flows_dir: Path, locales_dir: Path, default_locale: str = "fr") -> Catalog:
    """Load every file, each validated on its own; raise ``ConfigError`` listing every
    problem. The checks across files (``bot.dialogue.checks.load_catalog``) come after."""
    problems: list[Problem] = []
    flows = _attempt(problems, lambda: load_flows(flows_dir))
    locales = _attempt(problems, lambda: load_locales(locales_dir, default_locale))
    resources = _attempt(problems, lambda: load_resources(flows_dir / "resources"))
    crisis = _attempt(problems, lambda: load_crisis_words(locales_dir / "crisis"))
    if flows is None or locales is None or resources is None or crisis is None:
        if locales is not None:  # still report translation problems in the same run
            problems.extend(p for p in locales.check() if not p.warning)
        raise ConfigError(problems)
    entry = ENTRY_FLOW if ENTRY_FLOW in flows else (sorted(flows)[0] if flows else "")
    return Catalog(flows, locales, resources, entry, crisis)
