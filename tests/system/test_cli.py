"""The command line as a user types it: real subprocesses, real stdin and stdout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT
from tests.conftest import FIXTURES
from tests.texts import french, shipped

RELAIS = [sys.executable, "-m", "bot.cli"]


def run(
    args: list[str], tmp_path: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": "",
        "PSEUDONYM_SECRET": "cli-test",
        **env,
    }
    return subprocess.run(
        [*RELAIS, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=tmp_path,
    )


def test_console_reaches_the_final_message(tmp_path: Path) -> None:
    # menu: 1 = me; danger: 2 = "Non"; what: 3 = images; where: 1 = Instagram; since: 2
    result = run(["console"], tmp_path, stdin="1\n2\n3\n1\n2\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.index("3018") < out.index(french("start.who.question"))  # help comes first
    assert f"[1] {french('victim.danger.yes')}" in out
    assert french("advice.platform.instagram") in out and french("advice.sextortion") in out
    assert out.rstrip().endswith(">")


def test_console_in_english_with_commands_and_free_text(tmp_path: Path) -> None:
    result = run(["console", "--lang", "en"], tmp_path, stdin="hello\n/urgence\n/effacer\n/stop\n")
    assert result.returncode == 0, result.stderr
    english = shipped("en")
    assert english("nudge.buttons") in result.stdout
    assert english("command.erased", deleted=0) in result.stdout
    assert "3114" in result.stdout and english("command.stop") in result.stdout


def test_console_resumes_from_storage(tmp_path: Path) -> None:
    run(["console"], tmp_path, stdin="1\n2\n")
    # A second session starts with /start: the menu again, and "2" picks "witness".
    result = run(["console"], tmp_path, stdin="2\n")
    assert french("witness.danger.question") in result.stdout


def test_console_lang_wins_over_the_language_kept_from_before(tmp_path: Path) -> None:
    run(["console"], tmp_path, stdin="1\n")  # a French session, kept in the database
    result = run(["console", "--lang", "uk"], tmp_path, stdin="")
    assert result.returncode == 0, result.stderr
    assert "Що тебе сюди привело?" in result.stdout
    assert french("start.who.question") not in result.stdout


def test_console_refuses_a_language_it_has_no_texts_for(tmp_path: Path) -> None:
    result = run(["console", "--lang", "zz"], tmp_path)
    assert result.returncode == 2
    assert result.stderr == "relais console: no 'zz' texts; languages: fr, ar, en, es, uk\n"


def test_a_missing_extra_is_named_not_a_traceback(tmp_path: Path) -> None:
    """A deployment installed without the `export` extra (no openpyxl here) asking for
    a spreadsheet is told what to install."""
    shadow = tmp_path / "without-export" / "openpyxl"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError('No module named openpyxl', name='openpyxl')\n"
    )
    result = run(
        ["export", "--from", "2026-01", "--to", "2026-01", "-o", str(tmp_path / "f.xlsx")],
        tmp_path,
        PYTHONPATH=str(shadow.parent),
    )
    assert result.returncode == 1
    assert result.stderr == (
        "relais export: openpyxl is missing, it comes with the 'export' extra: "
        "pip install -e '.[export]' (make install has every extra)\n"
    )


def test_check_ok_on_shipped_files(tmp_path: Path) -> None:
    result = run(["check", "--max-age", "100000"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: ")
    assert re.search(r"\b[1-9]\d{2,} crisis phrase\(s\)", result.stdout)  # every list was read
    assert "victim" in result.stdout


def test_check_warns_about_old_facts(tmp_path: Path) -> None:
    result = run(["check", "--max-age", "1"], tmp_path)
    assert result.returncode == 0
    assert "warning: resource 'fr-3018': facts last verified 2025-11-07" in result.stdout


def test_check_lists_problems_with_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "flows", tmp_path / "flows")
    shutil.copytree(PROJECT_ROOT / "locales", tmp_path / "locales")
    shutil.copyfile(FIXTURES / "broken" / "unknown_next.yaml", tmp_path / "flows" / "victim.yaml")
    shutil.copyfile(
        FIXTURES / "broken" / "locale_placeholder.yaml", tmp_path / "locales" / "xx.yaml"
    )
    result = run(
        ["check"],
        tmp_path,
        FLOWS_DIR=str(tmp_path / "flows"),
        LOCALES_DIR=str(tmp_path / "locales"),
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "flows/victim.yaml:16: step 'what': next 'platfom' is not a step" in lines
    assert (
        "locales/xx.yaml:6: key 'status.open': placeholders ['hour'] differ from fr ['time']"
        in lines
    )
    assert "locales/xx.yaml:5: missing key 'status.always' (present in fr)" in lines
    assert lines[-1].endswith(" error(s): fix them and run `relais check` again.")


def test_relais_alone_prints_the_help(tmp_path: Path) -> None:
    result = run([], tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: relais")
    assert "harassed online" in result.stdout  # the description is for users
    for command in ("run", "console", "check", "purge", "graph", "export", "dashboard"):
        assert f"\n    {command}" in result.stdout


def test_version(tmp_path: Path) -> None:
    from bot import __version__

    result = run(["--version"], tmp_path)
    assert (result.returncode, result.stdout) == (0, f"relais {__version__}\n")


def test_every_option_of_every_command_has_help() -> None:
    import argparse

    from bot.cli import parser

    top = parser()
    (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    assert top.description and "harassed online" in top.description
    for name, sub in commands.choices.items():
        assert sub.description or sub.format_help(), name
        for action in sub._actions:
            assert action.help, f"relais {name} {'/'.join(action.option_strings)} has no help"
    assert all(action.help for action in commands._choices_actions)
