"""What the crisis detector tells the dialogue: which danger, and in which language.

Plain data, so the engine, the metrics and the event log share one vocabulary, and the
detector behind it (``bot.content.crisis``) can change without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    """Which emergency answer fits: each has its own texts and numbers in every language."""

    SELF = "self"  # suicide, self-harm, a plan or a method, a farewell: 3114 first
    OTHERS = "others"  # danger from someone (threat, waiting outside, "he'll post"): 17, 112


@dataclass(frozen=True)
class CrisisHit:
    tier: Tier
    locale: str | None  # the shipped language the words were in, when it can be told
