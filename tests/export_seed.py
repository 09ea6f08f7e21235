"""A small event log with counts known by heart, written through the real storage.

18 victim conversations: 12 in January 2026 and 6 in February (Paris time), none in March.

January, sessions sess-j0..sess-j11 (user keys user-sess-j0...): kind insults×6,
threats×3, images×3; platform instagram×9, tiktok×3; j0..j7 complete (shown 3018); j0, j1
say they are in danger (emergency shown); j10, j11 speak English; j0..j6 come from "g1".
February, sess-f0..sess-f5: insults, instagram, all complete, French, direct.
Answers to words of crisis in groups (no conversation): 2 in January, 6 in February.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.domain.conversation import Conversation, Stat
from bot.storage.base import Storage

PARIS = ZoneInfo("Europe/Paris")
JAN = dt.datetime(2026, 1, 15, 10, 20, tzinfo=PARIS)
FEB = dt.datetime(2026, 2, 10, 18, 5, tzinfo=PARIS)
GROUP = "g1"


def victim_stats(kind: str, platform: str, *, completed: bool, danger: bool) -> list[Stat]:
    stats = [
        Stat("flow_started", flow="victim"),
        Stat(
            "step_answered",
            flow="victim",
            step="danger",
            dimension="danger",
            choice="yes" if danger else "no",
        ),
    ]
    if danger:
        stats.append(Stat("emergency_shown", flow="victim", step="danger"))
    stats += [
        Stat("step_answered", flow="victim", step="what", dimension="harassment_kind", choice=kind),
        Stat("step_answered", flow="victim", step="where", dimension="platform", choice=platform),
    ]
    if completed:
        stats += [
            Stat("flow_completed", flow="victim", step="result"),
            Stat("resource_shown", flow="victim", step="result", choice="fr-3018"),
        ]
    return stats


async def save(
    storage: Storage,
    session: str,
    stats: list[Stat],
    now: dt.datetime,
    *,
    locale: str = "fr",
    origin: str | None = None,
) -> None:
    """One save per conversation: state and its statistics, as the dialogue writes them."""
    conversation = Conversation(locale=locale, origin=origin, session=session)
    await storage.save(f"user-{session}", conversation, expected_version=None, stats=stats, now=now)


async def seed(storage: Storage) -> None:
    kinds = ["insults"] * 6 + ["threats"] * 3 + ["images"] * 3
    platforms = ["instagram"] * 9 + ["tiktok"] * 3
    for i in range(12):
        stats = victim_stats(kinds[i], platforms[i], completed=i < 8, danger=i < 2)
        locale = "en" if i >= 10 else "fr"
        origin = GROUP if i < 7 else None
        await save(storage, f"sess-j{i}", stats, JAN, locale=locale, origin=origin)
    for i in range(6):
        stats = victim_stats("insults", "instagram", completed=True, danger=False)
        await save(storage, f"sess-f{i}", stats, FEB)
    for at, answers, tier in ((JAN, 2, "others"), (FEB, 6, "self")):
        for _ in range(answers):  # as the group service logs them, one update each
            await storage.record_events([group_crisis(tier)], at)


def group_crisis(tier: str) -> Stat:
    """An answer to words of crisis in a group, as the group service logs it."""
    return Stat("emergency_shown", dimension="group", choice=tier)
