"""Folding typed text to bare comparable words, before the crisis detector reads it.

Case, accents, stretched letters, digits for letters, spaced-out letters and invisible
characters are folded away. Scripts other than Latin get the same treatment: Arabic loses
its vowel marks, hamza seats and the tatweel that stretches words ("انتحـــار"), and
letters written interchangeably (ة/ه, ى/ي) are merged; Cyrillic letters that look like
Latin ones are folded to them, so "суицид" typed half on a Latin keyboard still matches,
and Ukrainian/Russian spellings of the same sound (і/и/ы, є/э/е, ґ/г) are merged, since
teens mix them.
"""

from __future__ import annotations

import re
import unicodedata

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
# A number of 2+ digits standing alone is a count ("j'ai pris 20 cachets"), not leet: it
# folds to "9" (which no leet spelling uses), so a list's "pris 20 cachets" means any count.
_NUMBER = re.compile(r"(?<!\w)\d{2,}(?!\w)")
_REPEATS = re.compile(r"(\w)\1+")


def normalise(text: str) -> str:
    """Fold text to bare lowercase words: 'SuIcIiide', 's u 1 c 1 d e' → comparable forms."""
    counted = _NUMBER.sub("9", unicodedata.normalize("NFKD", text.casefold()))
    folded = counted.translate(_FOLD)
    words = _NOT_LETTER.sub(" ", folded)
    return " " + _REPEATS.sub(r"\1", words).strip() + " "


def squash(spaced: str) -> str:
    """Without spaces, letters repeated across a former gap merged too: "k i l l" is
    "kil", as "kill" is once normalised."""
    return _REPEATS.sub(r"\1", spaced.replace(" ", ""))
