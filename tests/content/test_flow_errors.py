"""Broken flows, locales and resources are refused with file, line and reason.

Each fixture in ``tests/fixtures/broken/`` says in its first two lines which shipped file
it replaces and the exact message a volunteer must see. The test copies the shipped data
to a temporary folder, swaps that one file, and loads everything as the bot does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.dialogue.checks import load_catalog
from bot.errors import ConfigError
from tests.conftest import FIXTURES

BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))


def header(path: Path) -> tuple[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    target = lines[0].removeprefix("# target: ")
    expect = lines[1].removeprefix("# expect: ")
    return target, expect


def shipped_copy(root: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "flows", root / "flows")
    shutil.copytree(PROJECT_ROOT / "locales", root / "locales")
    return root


@pytest.mark.parametrize("fixture", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_is_refused_with_file_line_and_reason(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target, expect = header(fixture)
    root = shipped_copy(tmp_path)
    shutil.copyfile(fixture, root / target)
    monkeypatch.chdir(root)
    with pytest.raises(ConfigError) as caught:
        load_catalog(Path("flows"), Path("locales"))
    reported = [str(p) for p in caught.value.problems]
    if "NNNN" in expect:  # a length that depends on rendering: compare around it
        before, after = expect.split("NNNN")
        assert any(r.startswith(before) and r.endswith(after) for r in reported), reported
    else:
        assert expect in reported


def test_there_is_a_fixture_per_error_kind() -> None:
    assert len(BROKEN) >= 17


def test_shipped_data_loads_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shipped_copy(tmp_path))
    catalog = load_catalog(Path("flows"), Path("locales"))
    assert "victim" in catalog.flows
