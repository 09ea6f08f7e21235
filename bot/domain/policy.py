"""Deployment choices that the bot must be able to tell people about (/confidentialite)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Telegram lets a bot delete messages of a private chat for 48 hours; ids older than that
# are useless to /effacer, so they are not kept longer (seconds).
SENT_RETENTION = 48 * 3600
HOUR = 3600


def hour_of(moment: dt.datetime) -> int:
    """Unix time rounded down to the hour: statistics never need (nor get) more."""
    seconds = int(moment.timestamp())
    return seconds - seconds % HOUR


@dataclass(frozen=True)
class Policy:
    """How long things are kept and when the single reminder comes; from ``Settings``."""

    state_idle_hours: int = 24
    events_retention_days: int = 395
    nudge_minutes: int = 15
    months_timezone: str = "Europe/Paris"  # where statistics months are cut (EXPORT_TIMEZONE)

    def purge_before(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """What the purge deletes at ``now``: statistics older than the first moment, and
        conversations idle since before the second (``Storage.purge``'s arguments)."""
        return (
            now - dt.timedelta(days=self.events_retention_days),
            now - dt.timedelta(hours=self.state_idle_hours),
        )
