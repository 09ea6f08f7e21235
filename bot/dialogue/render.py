"""Turning catalog data into words: resource lines with live opening status, step texts.

Kept apart from the engine's decisions so ``relais check`` can render every step in every
language to prove it fits in one Telegram message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from babel.dates import format_date, format_time

from bot.content.catalog import MAIN_RESOURCE, Catalog
from bot.content.flows import Advice, Step
from bot.content.locales import REFERENCE_LOCALE
from bot.content.resources import OpenStatus, Resource

MAX_TEXT = 4096  # Telegram's limit for one message, in characters after entities


def _time(moment: dt.datetime, locale: str) -> str:
    return format_time(moment, format="short", locale=locale)


def open_status(
    catalog: Catalog,
    resource: Resource,
    locale: str,
    now: dt.datetime,
    status: OpenStatus | None = None,
) -> str:
    """Say "open now, until 23:00", "closed now, opens tomorrow at 09:00" or "24/7"."""
    texts = catalog.locales
    status = status or resource.status(now)
    if status.always:
        return texts.text(locale, "status.always")
    if status.is_open and status.closes_at is not None:
        return texts.text(locale, "status.open", time=_time(status.closes_at, locale))
    if status.opens_at is None:
        return texts.text(locale, "status.closed_unknown")
    local_today = now.astimezone(resource.zone).date()
    days = (status.opens_at.date() - local_today).days
    if days == 0:
        day = texts.text(locale, "status.today")
    elif days == 1:
        day = texts.text(locale, "status.tomorrow")
    else:
        day = format_date(status.opens_at.date(), format="EEEE", locale=locale)
    return texts.text(locale, "status.closed", day=day, time=_time(status.opens_at, locale))


_line_cache: dict[tuple[int, int, str, str], str] = {}


def resource_line(catalog: Catalog, resource_id: str, locale: str, now: dt.datetime | None) -> str:
    """One line a child can act on: name, how to reach it, hours and whether it is open
    (not said when ``now`` is None: see ``help_line``).

    Hours are whole minutes, so the line cannot change within a minute: it is built once
    per minute, resource and language (3018's line is in most replies, and computing the
    opening status was most of the engine's time per update)."""
    minute = -1 if now is None else int(now.timestamp()) // 60
    key = (id(catalog), minute, resource_id, locale)
    line = _line_cache.get(key)
    if line is None:
        if len(_line_cache) > 4096:
            _line_cache.clear()
        line = _line_cache[key] = _resource_line(catalog, resource_id, locale, now)
    return line


def _resource_line(catalog: Catalog, resource_id: str, locale: str, now: dt.datetime | None) -> str:
    resource = catalog.resources[resource_id]
    texts = catalog.locales
    parts = [texts.text(locale, resource.name_key)]
    if resource.phone:
        parts.append(texts.text(locale, "resource.phone", phone=resource.phone))
    if resource.sms:
        parts.append(texts.text(locale, "resource.sms", sms=resource.sms))
    parts.append(texts.text(locale, resource.hours_key))
    status = None
    if now is not None:
        status = resource.status(now)
        if not status.always:  # otherwise its hours text already says "24/7"
            parts.append(open_status(catalog, resource, locale, now, status))
    if resource.chat:
        parts.append(texts.text(locale, "resource.chat", url=str(resource.chat)))
    elif resource.url:
        parts.append(texts.text(locale, "resource.url", url=str(resource.url)))
    line = texts.text(locale, "resource.line", details=" · ".join(parts[1:]), name=parts[0])
    # Closed: say what to do meanwhile (another line open at all hours, the chat form...).
    meanwhile = f"resources.{resource_id}.meanwhile"
    if texts.has(meanwhile) and status is not None and not status.is_open:
        line += "\n" + texts.text(locale, meanwhile)
    return line


def resource_block(
    catalog: Catalog, resource_ids: Iterable[str], locale: str, now: dt.datetime
) -> str:
    return "\n".join(resource_line(catalog, rid, locale, now) for rid in resource_ids)


def help_line(catalog: Catalog, locale: str, now: dt.datetime | None) -> str:
    """The 3018 line that ends every message where the person might stop reading.

    ``now=None`` leaves out "open now / closed": for a message that stays pinned, where
    that status would be wrong within hours and a child could call a closed line."""
    return resource_line(catalog, MAIN_RESOURCE, locale, now)


def step_text(
    catalog: Catalog, step: Step, locale: str, answers: dict[str, str], now: dt.datetime
) -> str:
    """The full message of a step: its text, the advice that fits the answers, resources."""
    texts = catalog.locales
    parts = [texts.text(locale, step.text)]
    for advice in step.lead:
        if advice.applies(answers):
            parts.append(_advice_text(catalog, advice, locale, now))
    if step.resources:
        parts.append(resource_block(catalog, step.resources, locale, now))
    for advice in step.advice:
        if advice.applies(answers):
            parts.append(_advice_text(catalog, advice, locale, now))
    if step.prompt:
        parts.append(texts.text(locale, step.prompt))
    return "\n\n".join(parts)


def _advice_text(catalog: Catalog, advice: Advice, locale: str, now: dt.datetime) -> str:
    text = catalog.locales.text(locale, advice.text)
    if advice.resources:
        text += "\n" + resource_block(catalog, advice.resources, locale, now)
    return text


def summary_text(catalog: Catalog, locale: str, labels: Sequence[str]) -> str:
    """What the teen pastes into the 3018 chat: their answers (``labels`` are the chosen
    buttons' label keys) in their language, and again in French when that is another one,
    since 3018's counsellors work in French."""
    texts = catalog.locales
    answers = " · ".join(texts.text(locale, key) for key in labels)
    text = texts.text(locale, "summary.text", answers=answers)
    if locale != REFERENCE_LOCALE:
        text += "\n🇫🇷 " + " · ".join(texts.text(REFERENCE_LOCALE, key) for key in labels)
    return text
