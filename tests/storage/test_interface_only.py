"""``bot/storage/base.py`` is the interface only: code that needs it (the dialogue) loads
no SQL, no backend, no texts."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "bot.storage.sql",
    "bot.storage.periods",
    "bot.storage.sqlite",
    "bot.storage.postgres",
    "bot.storage.sent",
)
HEAVY += ("bot.content", "bot.dialogue", "asyncpg", "babel", "yaml", "telegram")


def test_importing_the_storage_interface_loads_no_sql_backend_or_texts() -> None:
    code = "import sys, bot.storage.base; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "bot.storage.base" in loaded
    assert [m for m in loaded if m.startswith(HEAVY)] == []
