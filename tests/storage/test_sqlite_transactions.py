"""SQLite's write transactions (``_immediate``): every write that must be all or nothing
(a claim with its events, a group saved with its update, a month's roll-up) goes
through it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.storage.sqlite import _immediate


def test_a_write_that_fails_midway_leaves_nothing_and_the_error_goes_on(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "t.sqlite3", isolation_level=None)) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError, match="midway"), _immediate(conn):
            conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("midway")
        assert not conn.in_transaction
        with _immediate(conn):
            conn.execute("INSERT INTO t VALUES (2)")
        assert not conn.in_transaction
        assert conn.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_a_write_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: another process cannot start writing, even before the first write."""
    path = tmp_path / "t.sqlite3"
    with (
        closing(sqlite3.connect(path, isolation_level=None)) as conn,
        closing(sqlite3.connect(path, isolation_level=None, timeout=0)) as other,
    ):
        conn.execute("CREATE TABLE t (x INTEGER)")
        with _immediate(conn), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
