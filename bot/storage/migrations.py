"""Numbered SQL migrations, shared by every backend's own folder of ``NNNN_name.sql``.

Applied in order at start-up and recorded in ``schema_migrations``, so an upgraded bot
brings an old database forward by itself and never runs a migration twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def migrations_for(backend: str) -> list[Migration]:
    """The migrations of ``backend`` (a folder name: ``sqlite``, ``postgres``), in order."""
    found = []
    for path in sorted((MIGRATIONS_DIR / backend).glob("*.sql")):
        number, _, name = path.stem.partition("_")
        found.append(Migration(int(number), name, path.read_text(encoding="utf-8")))
    numbers = [m.number for m in found]
    if numbers != list(range(1, len(found) + 1)):
        raise RuntimeError(f"{backend} migrations must be numbered 1..n without gaps: {numbers}")
    return found
