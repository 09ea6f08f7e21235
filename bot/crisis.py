"""Spotting words of crisis (suicide, self-harm, immediate danger) in free text.

A miss can cost a life and a false alarm costs one extra message, so matching is
deliberately loose: case, accents, repeated letters, digit-for-letter spellings and
spaced-out letters are all folded away before comparing. The phrases live in
``locales/crisis/<code>.yaml`` and every language's list is checked against every message,
since a teen may write in a language other than the one the bot speaks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT

CRISIS_DIR = PROJECT_ROOT / "locales" / "crisis"
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "€": "e",
        "!": "i",
        "|": "i",
        "8": "b",
    }
)
_NOT_LETTER = re.compile(r"[^\w]+|_")
_REPEATS = re.compile(r"(\w)\1+")
_INVISIBLE = {"Cf", "Mn", "Me"}  # zero-width joiners, combining accents, marks


def normalise(text: str) -> str:
    """Fold text to bare lowercase words: 'SuIcIiide', 's u 1 c 1 d e' → comparable forms."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) not in _INVISIBLE)
    bare = bare.translate(_LEET)
    words = _NOT_LETTER.sub(" ", bare)
    return " " + _REPEATS.sub(r"\1", words).strip() + " "


@cache
def _phrases(directory: Path = CRISIS_DIR) -> tuple[tuple[str, str], ...]:
    """(spaced, squashed) normalised forms of every phrase of every language."""
    out: list[tuple[str, str]] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out.extend(_forms(data.get("phrases", [])))
    return tuple(out)


def _forms(phrases: Iterable[str]) -> list[tuple[str, str]]:
    forms = []
    for phrase in phrases:
        spaced = normalise(phrase)
        forms.append((spaced, spaced.replace(" ", "")))
    return forms


def mentions_crisis(text: str) -> bool:
    """True when ``text`` may speak of suicide, self-harm or immediate danger."""
    spaced = normalise(text[:10_000])
    squashed = spaced.replace(" ", "")
    for phrase, compact in _phrases():
        if phrase in spaced:
            return True
        # Spaced-out letters ("s u i c i d e"): compare without spaces, long phrases only,
        # since short ones would match inside ordinary words.
        if len(compact) >= 7 and compact in squashed:
            return True
    return False
