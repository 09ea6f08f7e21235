"""Channels reach the dialogue through its methods, never through its attributes: an
import contract (pyproject.toml) cannot see ``dialogue.storage.save(...)``, this can."""

from __future__ import annotations

import re
from pathlib import Path

import bot.channels

CHANNELS = Path(bot.channels.__file__).parent
REACHING_THROUGH = re.compile(r"(?<!bot\.)\b(?:dialogue|service)\.(?:storage|engine|rules|cache)\b")


def test_no_channel_reaches_through_the_dialogue_to_storage_or_engine() -> None:
    found = [
        f"{path.relative_to(CHANNELS)}:{n}: {line.strip()}"
        for path in sorted(CHANNELS.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if REACHING_THROUGH.search(line)
    ]
    assert found == []
