"""The real PostgreSQL server for tests: one fresh schema per test, dropped afterwards.

Why a schema rather than a database: creating one is instant, and tests of several people
(and pytest-xdist workers) can share the one server without seeing each other's tables.
The storage is pointed at it with ``?search_path=<schema>`` in its URL.

Without a server at ``TEST_DATABASE_URL`` a developer's run skips these tests, saying
why; under CI (``CI=true``) they fail instead, so CI never passes without them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """Yield a database URL whose tables live in a new, empty schema."""
    schema = f"relais_test_{secrets.token_hex(6)}"
    try:
        conn = await asyncpg.connect(TEST_DATABASE_URL, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(
            f"PostgreSQL not reachable at TEST_DATABASE_URL={TEST_DATABASE_URL} ({exc}); "
            "start it or set TEST_DATABASE_URL (CI=true requires it)"
        )
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    try:
        yield with_search_path(TEST_DATABASE_URL, schema)
    finally:
        conn = await asyncpg.connect(TEST_DATABASE_URL)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()
