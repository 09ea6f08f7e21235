"""Every setting checked before anything starts: one line each, exit code 2, no traceback,
and the token never printed (real subprocesses, as an operator runs them)."""

from __future__ import annotations

import asyncio
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.storage.sqlite import SqliteStorage
from tests.fakebotapi import FakeBotApi
from tests.process import Process
from tests.replica import replica
from tests.system.test_cli import run

LONG_SECRET = "a-long-enough-pseudonym-secret-for-these-tests-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def refused(result: subprocess.CompletedProcess[str], command: str, setting: str) -> str:
    """The one line a refused start prints, after checking how it was refused."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"relais {command}: {setting}"), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("DATABASE_URL", "mysql://relais:hunter2-password@db/relais"),
        ("LOG_LEVEL", "LOUD"),
        ("LOG_FORMAT", "xml"),
        ("NUDGE_MINUTES", "abc"),
        ("NUDGE_MINUTES", "-5"),
        ("MESSAGES_PER_SECOND", "fast"),
        ("EXPORT_TIMEZONE", "Mars/Olympus"),
        ("WEBHOOK_PORT", "99999"),
        ("BOT_API_URL", "ftp://example.org/bot"),
    ],
)
@pytest.mark.parametrize("command", ["check", "run", "console"])
def test_a_wrong_setting_is_one_line_and_exit_code_2(
    tmp_path: Path, command: str, setting: str, value: str
) -> None:
    line = refused(run([command], tmp_path, **{setting: value}), command, setting)
    assert "hunter2" not in line  # a database password is never repeated


def test_every_wrong_setting_is_reported_at_once(tmp_path: Path) -> None:
    result = run(["check"], tmp_path, LOG_LEVEL="LOUD", NUDGE_MINUTES="abc")
    assert result.returncode == 2
    assert [line.split(":")[1].split("=")[0].strip() for line in result.stderr.splitlines()] == [
        "LOG_LEVEL",
        "NUDGE_MINUTES",
    ]


def test_postgresql_refusing_connections_is_one_line(tmp_path: Path) -> None:
    url = "postgresql://relais:hunter2@127.0.0.1:1/relais"  # nothing listens on port 1
    for command in ("check", "run"):
        line = refused(run([command], tmp_path, DATABASE_URL=url), command, "DATABASE_URL")
        assert "127.0.0.1:1" in line and "connection refused" in line and "hunter2" not in line


@pytest.mark.parametrize("where", ["missing-folder/relais.sqlite3", "a-file/relais.sqlite3"])
def test_an_unwritable_sqlite_path_is_one_line(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / where}"
    for command in ("check", "run", "purge"):
        line = refused(run([command], tmp_path, DATABASE_URL=url), command, "DATABASE_URL")
        assert "does not exist" in line


def test_content_folders_that_hold_nothing_name_their_setting(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run(["check"], tmp_path, FLOWS_DIR=str(tmp_path / "empty"), LOCALES_DIR="nowhere")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [line.split("=")[0] for line in result.stderr.splitlines()] == [
        "relais check: FLOWS_DIR",
        "relais check: LOCALES_DIR",
    ]


def test_webhook_settings_and_the_default_language_are_one_line_each(tmp_path: Path) -> None:
    result = run(
        ["run", "--webhook"],
        tmp_path,
        TELEGRAM_BOT_TOKEN="123456:ABC",
        PSEUDONYM_SECRET=LONG_SECRET,
        WEBHOOK_URL="",
        WEBHOOK_SECRET="",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert [line.split(" ")[2] for line in result.stderr.splitlines()] == [
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
    ]
    line = refused(run(["check"], tmp_path, DEFAULT_LOCALE="zz"), "check", "DEFAULT_LOCALE")
    assert "fr" in line


def test_run_without_a_token_and_without_a_terminal_refuses(tmp_path: Path) -> None:
    """Under systemd or CI there is nobody to chat with: say so instead of exiting 0."""
    line = refused(run(["run"], tmp_path, stdin="1\n"), "run", "TELEGRAM_BOT_TOKEN")
    assert "relais console" in line


def test_run_without_a_token_at_a_terminal_is_the_console(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'tty.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": "",
        "PSEUDONYM_SECRET": LONG_SECRET,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    os.write(leader, b"\x04")  # Ctrl-D: the console greets, then ends
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed its side
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0
    assert b"No TELEGRAM_BOT_TOKEN" in output and b"3018" in output


async def test_a_rejected_token_is_one_line_that_never_shows_it(tmp_path: Path) -> None:
    token = "987654:THIS-TOKEN-MUST-NEVER-BE-PRINTED"
    async with FakeBotApi() as api:  # it knows another token: Telegram's 401
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            cwd=tmp_path,
            env={
                **os.environ,
                "TELEGRAM_BOT_TOKEN": token,
                "BOT_API_URL": api.base_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
                "PSEUDONYM_SECRET": LONG_SECRET,
                "PYTHONPATH": str(ROOT),
            },
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "THIS-TOKEN" not in out.decode() + err.decode()
    assert err.decode().splitlines()[-1] == (
        "relais run: TELEGRAM_BOT_TOKEN was rejected by Telegram — check it with @BotFather"
    )


async def test_telegram_unreachable_at_start_up_is_waited_out(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        reopened = api.refuse_connections(3)
        process = Process(api, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
        process.env["PSEUDONYM_SECRET"] = LONG_SECRET
        try:
            await process.start()  # waits until it polls
            await reopened
            assert process.process is not None and process.process.returncode is None
        finally:
            await process.stop()
    assert "Traceback" not in (tmp_path / "bot.log").read_text()


async def test_telegram_unreachable_at_a_replicas_start_up_is_waited_out(
    api: FakeBotApi, catalog: Catalog, sqlite_storage: SqliteStorage
) -> None:
    reopened = api.refuse_connections(2)
    async with replica(api, catalog, sqlite_storage) as server:  # getMe fails, then works
        assert api.webhook_url == f"http://127.0.0.1:{server.port}/telegram"
    await reopened
