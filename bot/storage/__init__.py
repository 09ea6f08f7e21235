"""Where conversations and anonymous statistics are kept.

``storage_from_url(url)`` picks the backend from ``DATABASE_URL``: ``sqlite:///file`` (default)
or ``postgresql://...`` (scale-out, extra ``postgres``).
"""

from __future__ import annotations

from bot.storage.base import Storage

__all__ = ["storage_from_url"]


def storage_from_url(url: str) -> Storage:
    """The backend for ``url``; not yet opened (use ``async with``)."""
    if url.startswith("sqlite://"):
        # Imported here, like PostgreSQL: code that only needs the interface
        # (``bot.storage.base``) loads no backend.
        from bot.storage.sqlite import SqliteStorage

        path = url.removeprefix("sqlite://")
        path = path.removeprefix("/") if path.startswith("/") else path
        return SqliteStorage(path or ":memory:")
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from bot.storage.postgres import PostgresStorage
        except ImportError as exc:  # asyncpg is the optional extra "postgres"
            raise ValueError(
                "DATABASE_URL is PostgreSQL but asyncpg is missing: pip install 'relais[postgres]'"
            ) from exc
        return PostgresStorage(url)
    raise ValueError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]}")
