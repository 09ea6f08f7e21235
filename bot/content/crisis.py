"""Spotting words of crisis (suicide, self-harm, immediate danger) in free text.

A miss can cost a life and a false alarm costs one extra message, so matching is
deliberately loose: case, accents, repeated letters, digit-for-letter spellings and
spaced-out letters are all folded away before comparing. The phrases live in
``locales/crisis/<code>.yaml`` and every language's list is checked against every message,
since a teen may write in a language other than the one the bot speaks.

Scripts other than Latin get the same treatment: Arabic loses its vowel marks, hamza seats
and the tatweel that stretches words ("انتحـــار"), and letters written interchangeably
(ة/ه, ى/ي) are merged; Cyrillic letters that look like Latin ones are folded to them, so
"суицид" typed half on a Latin keyboard still matches, and Ukrainian/Russian spellings of
the same sound (і/и/ы, є/э/е, ґ/г) are merged, since teens mix them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.content.yamlfile import read_yaml
from bot.domain.crisis import CrisisHit, Tier
from bot.errors import ConfigError, Problem, display_path

_LEET = {
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
# Applied after casefold and NFKD (so "أ" is already "ا" plus a mark, "й" is "и" plus one).
_SCRIPT_FOLDS = {
    # Arabic: tatweel (a stretching stroke, no sound) vanishes; interchangeable letters merge.
    "\u0640": "",  # ـ tatweel
    "ة": "ه",
    "ى": "ي",
    "ی": "ي",  # Persian/Urdu keyboards
    "ک": "ك",
    "ٱ": "ا",
    # Cyrillic look-alikes of Latin letters (lowercase, after casefold) become Latin.
    "а": "a",
    "в": "b",
    "е": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "ј": "j",
    "і": "i",
    # Ukrainian and Russian spellings of one sound: teens write either.
    "и": "i",
    "ы": "i",
    "є": "e",
    "э": "e",
    "ґ": "г",
    # Apostrophes vanish rather than split: Ukrainian "вб'ю" is often typed "вбю", French
    # "j'veux" "jveux"; deleting them makes both spellings one word.
    "'": "",
    "’": "",
    "‘": "",
    "ʼ": "",
    "`": "",
}
_INVISIBLE = {"Cf", "Mn", "Me"}  # zero-width joiners, combining accents, marks
_CACHE_LIMIT = 50_000  # distinct characters remembered; beyond that, computed each time


class _Fold(dict[int, str | None]):
    """``str.translate`` table doing every per-character fold in one C-level pass: leet
    digits, script folds, and deleting invisible characters. Characters not listed are
    looked up once (their Unicode category) and remembered."""

    def __missing__(self, code: int) -> str | None:
        folded = None if unicodedata.category(chr(code)) in _INVISIBLE else chr(code)
        if len(self) < _CACHE_LIMIT:
            self[code] = folded
        return folded


_FOLD = _Fold({ord(k): v or None for k, v in (_LEET | _SCRIPT_FOLDS).items()})
_NOT_LETTER = re.compile(r"[^\w]+|_")
_REPEATS = re.compile(r"(\w)\1+")


def normalise(text: str) -> str:
    """Fold text to bare lowercase words: 'SuIcIiide', 's u 1 c 1 d e' → comparable forms."""
    folded = unicodedata.normalize("NFKD", text.casefold()).translate(_FOLD)
    words = _NOT_LETTER.sub(" ", folded)
    return " " + _REPEATS.sub(r"\1", words).strip() + " "


_SQUASH_FROM = 7  # letters; shorter phrases would match inside ordinary words
_MIN_LETTERS = 3  # "a" or "il" would match almost every message


@dataclass(frozen=True)
class CrisisWords:
    """Normalised phrases of every language, split by how they are compared: short ones as
    whole words in the spaced text, long ones anywhere in the text without spaces."""

    words: tuple[str, ...]
    squashed: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.words) + len(self.squashed)

    def mentions(self, text: str) -> bool:
        """True when ``text`` may speak of suicide, self-harm or immediate danger."""
        return self.detect(text) is not None

    def detect(self, text: str) -> CrisisHit | None:
        """Which danger ``text`` may speak of, or ``None``."""
        spaced = normalise(text[:10_000])
        if any(phrase in spaced for phrase in self.words):
            return CrisisHit(Tier.SELF, None)
        squashed = _squash(spaced)
        if any(compact in squashed for compact in self.squashed):
            return CrisisHit(Tier.SELF, None)
        return None


def _crisis_words(phrases: Iterable[str]) -> CrisisWords:
    words: dict[str, None] = {}
    squashed: dict[str, None] = {}
    for phrase in phrases:
        spaced = normalise(phrase)
        compact = _squash(spaced)
        if len(compact) >= _SQUASH_FROM:
            # Also catches spaced-out letters ("s u i c i d e") and attached prefixes
            # ("بالانتحار"); a whole-word match would imply this one, so it is not repeated.
            squashed[compact] = None
        else:
            words[spaced] = None
    return CrisisWords(tuple(words), tuple(squashed))


def load_crisis_words(directory: Path) -> CrisisWords:
    """Every list in ``directory`` (``locales/crisis``), read at start-up with the flows:
    a broken list is refused with file, line and reason, rather than found out at the
    first message a teen types, and no lists at all is refused too (typed words of
    crisis would never bring the emergency numbers)."""
    phrases: list[str] = []
    problems: list[Problem] = []
    paths = sorted(directory.glob("*.yaml"))
    for path in paths:
        try:
            doc = read_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        found = doc.data.get("phrases") if isinstance(doc.data, dict) else None
        if not isinstance(found, list) or not found:
            problems.append(doc.problem((), "expected 'phrases:' followed by a list of phrases"))
            continue
        for i, phrase in enumerate(found):
            letters = normalise(phrase).replace(" ", "") if isinstance(phrase, str) else ""
            if len(letters) < _MIN_LETTERS:
                problems.append(
                    doc.problem(
                        ("phrases", i),
                        f"phrase {phrase!r} is too short: under {_MIN_LETTERS} letters it "
                        "would match ordinary messages",
                    )
                )
            else:
                phrases.append(phrase)
    if not paths:
        problems.append(
            Problem(
                display_path(directory),
                1,
                "no crisis word lists (*.yaml): copy the shipped locales/crisis here",
            )
        )
    if problems:
        raise ConfigError(problems)
    return _crisis_words(phrases)


def _squash(spaced: str) -> str:
    """Without spaces, letters repeated across a former gap merged too: "k i l l" is
    "kil", as "kill" is once normalised."""
    return _REPEATS.sub(r"\1", spaced.replace(" ", ""))
