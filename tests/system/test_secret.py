"""PSEUDONYM_SECRET: a bot facing Telegram never runs on a missing, public or short one,
and the console on a laptop still needs no settings at all."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import (
    EXAMPLE_SECRET,
    MAKE_SECRET,
    PROJECT_ROOT,
    InsecureSecret,
    Settings,
    local_secret,
    pseudonym_secret_problem,
)

GOOD = "x" * 32
TOKEN = "123456:ABCdefGhIJKlmnoPQRstuVWXyz0123456789"


@pytest.mark.parametrize("secret", [None, "", "   ", EXAMPLE_SECRET, "y" * 31])
def test_a_missing_public_or_short_secret_is_refused_with_the_command_to_make_one(
    secret: str | None,
) -> None:
    problem = pseudonym_secret_problem(secret)
    assert problem is not None and MAKE_SECRET in problem
    assert "\n" not in problem
    if secret and secret.strip():
        assert secret not in problem  # the value itself is never repeated
    with pytest.raises(InsecureSecret):
        Settings(_env_file=None, pseudonym_secret=secret).bot_secret()  # type: ignore[arg-type]


def test_a_long_secret_is_accepted() -> None:
    assert pseudonym_secret_problem(GOOD) is None
    assert Settings(_env_file=None, pseudonym_secret=GOOD).bot_secret() == GOOD  # type: ignore[arg-type]


def test_the_console_makes_its_own_secret_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relais.sqlite3'}"
    first = local_secret(url)
    kept = tmp_path / "relais.sqlite3.secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert pseudonym_secret_problem(first) is None
    assert local_secret(url) == first  # the same person is recognised next time
    assert local_secret(f"sqlite:///{tmp_path / 'other.sqlite3'}") != first
    settings = Settings(_env_file=None, database_url=url)
    assert settings.console_secret() == first


def relais(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "PSEUDONYM"))
    }
    environment.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "BOT_API_URL": "http://127.0.0.1:9/bot",  # never reached: refused before
            "PYTHONPATH": str(PROJECT_ROOT),
            **env,
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("secret", [None, EXAMPLE_SECRET, "short"])
@pytest.mark.parametrize("webhook", [False, True])
def test_relais_run_refuses_to_start_without_a_real_secret(
    tmp_path: Path, secret: str | None, webhook: bool
) -> None:
    env = {"PSEUDONYM_SECRET": secret} if secret is not None else {}
    if webhook:
        env.update(WEBHOOK_URL="https://example.org/telegram", WEBHOOK_SECRET="s" * 32)
    result = relais(["run", *(["--webhook"] if webhook else [])], tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PSEUDONYM_SECRET" in lines[0] and MAKE_SECRET in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "bot.sqlite3").exists()  # refused before touching anything


def test_the_console_runs_without_any_secret(tmp_path: Path) -> None:
    result = relais(["console"], tmp_path, TELEGRAM_BOT_TOKEN="")
    assert result.returncode == 0, result.stderr
    assert "3018" in result.stdout
    assert stat.S_IMODE((tmp_path / "bot.sqlite3.secret").stat().st_mode) == 0o600


def test_docker_compose_requires_the_secret() -> None:
    compose = (PROJECT_ROOT / "docs" / "docker-compose.yml").read_text(encoding="utf-8")
    assert "${PSEUDONYM_SECRET:?" in compose
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    assert f"PSEUDONYM_SECRET={EXAMPLE_SECRET}" not in example
