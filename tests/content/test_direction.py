"""Right-to-left texts carry their direction: Telegram lays out each line by its first
strong letter, so every line of an ``rtl`` locale starts with a RIGHT-TO-LEFT MARK."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.content.locales import RLM, Locale, Locales, load_locales


def test_every_line_of_every_arabic_text_starts_with_the_mark(catalog: Catalog) -> None:
    locales = catalog.locales
    assert locales.by_code["ar"].direction == "rtl"
    for key in locales.by_code["ar"].texts:
        for line in locales.text("ar", key, hour="09:00", time="23:00").split("\n"):
            assert not line or (line.startswith(RLM) and not line.startswith(RLM * 2)), key


def test_left_to_right_texts_get_no_mark(catalog: Catalog) -> None:
    for code in ("fr", "en", "es", "uk"):
        assert catalog.locales.by_code[code].direction == "ltr"
        for key in catalog.locales.by_code[code].texts:
            assert RLM not in catalog.locales.text(code, key), (code, key)


def test_a_french_fallback_inside_arabic_stays_left_to_right() -> None:
    locales = Locales(
        {
            "fr": Locale("fr", {"meta.direction": "ltr", "only.fr": "3018\nFrançais"}),
            "ar": Locale("ar", {"meta.direction": "rtl", "both": "3018\nعربي"}),
        }
    )
    assert locales.text("ar", "only.fr") == "3018\nFrançais"
    assert locales.text("ar", "both") == f"{RLM}3018\n{RLM}عربي"


def test_an_unknown_direction_is_a_problem(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "locales", tmp_path / "locales")
    en = tmp_path / "locales" / "en.yaml"
    en.write_text(en.read_text("utf-8").replace("direction: ltr", "direction: sideways"), "utf-8")
    problems = load_locales(tmp_path / "locales").check()
    assert [p.message for p in problems if "direction" in p.message] == [
        "meta.direction must be ltr or rtl"
    ]
    assert all(p.file.endswith("en.yaml") for p in problems if "direction" in p.message)
