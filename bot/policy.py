"""Deployment choices that the bot must be able to tell people about (/confidentialite)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """How long things are kept and when the single reminder comes; from ``Settings``."""

    state_idle_hours: int = 24
    events_retention_days: int = 395
    nudge_minutes: int = 15
