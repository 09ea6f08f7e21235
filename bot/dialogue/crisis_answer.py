"""What is said to words of crisis: the numbers that fit the danger, in the words' language.

Shared by the private engine, the group texts and the answer given while the database is
down: none of them needs storage, so a child in danger is answered whatever else fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from bot.content.catalog import CRISIS_COPY, CRISIS_RESOURCES, EMERGENCY_COPY, Catalog
from bot.dialogue.render import resource_block
from bot.domain.conversation import Button
from bot.domain.crisis import CrisisHit, Tier

# Every locale key used here, so ``relais check`` proves each language has them.
CRISIS_KEYS = (*(f"crisis.{tier}" for tier in Tier), "crisis.safety", "crisis.copy")


def answer_locale(catalog: Catalog, hit: CrisisHit, chat_locale: str) -> str:
    """The language the words were typed in when the bot speaks it, else the chat's: a
    child writing Arabic in a French chat is answered in Arabic."""
    if hit.locale is not None and hit.locale in catalog.locales.by_code:
        return hit.locale
    return chat_locale


def crisis_text(catalog: Catalog, tier: Tier, locale: str, now: dt.datetime) -> str:
    """A first line that fits the danger, then its numbers in the order to call them."""
    block = resource_block(catalog, CRISIS_RESOURCES[tier], locale, now)
    return catalog.locales.text(locale, f"crisis.{tier}") + "\n\n" + block


def copy_buttons(catalog: Catalog, tier: Tier | None, locale: str) -> tuple[Button, ...]:
    """One button per number to copy (``None``: the full emergency block of /urgence)."""
    ids = EMERGENCY_COPY if tier is None else CRISIS_COPY[tier]
    return tuple(_copy(catalog, ids, locale))


def _copy(catalog: Catalog, ids: Iterable[str], locale: str) -> Iterable[Button]:
    for rid in ids:
        phone = catalog.resources[rid].phone
        if phone:
            yield Button(catalog.locales.text(locale, "crisis.copy", number=phone), copy=phone)


def safety_line(catalog: Catalog, locale: str) -> str:
    """One short line for typed text that was not understood: never a brush-off."""
    return catalog.locales.text(locale, "crisis.safety")
