"""Spotting words of crisis in free text: which danger (``Tier``) and in which language.

A miss can cost a life and a false alarm costs one extra message, so the detector leans
towards answering. Every language's lists (``locales/crisis/<code>.yaml``, read by
``bot.content.crisis_lists``) are checked against every message, since a teen may write
in a language other than the one the bot speaks. From the text folded by
``bot.content.crisis_text``, six ways in:

- phrases that alone mean suicide, self-harm, a plan, a farewell (``self``) or danger
  from someone (``others``): never silenced;
- intent: a first-person wish or plan ("je veux", "i wanna", "хочу") followed within a few
  words by a harm word in any of its inflected forms ("mourir", "meurs", "mourrai"), or a
  threat by someone else ("il va", "he's gonna") followed by "me tuer", "kill me"; silenced
  when a hyperbole follows the harm words ("mourir de rire"), or when the one who threatens
  is one teens use in hyperbole (``calm_before``: "ma mère va me tuer");
- threats ("il m'a menacé", "he's stalking me"), silenced when a calm word follows
  ("il m'a menacé **de me signaler**");
- cries for help ("au secours", "help me"), silenced when the message says what for
  ("homework");
- a few distinctive words ("suicide", "scarifier") recognised with one letter wrong;
- concepts together: words of two or more kinds within a few words of each other, in any
  order and phrasing ("pris" or "avalé" near "cachets" or "médocs": a plan; "nudes" or
  "photos" near "publier" or "sinon": sextortion).

Every phrase of every language sits in two Aho-Corasick automata (one over the spaced
words, one over the text without spaces), so a message is read once per automaton
whatever the number of phrases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any

import ahocorasick
from rapidfuzz.distance import OSA

from bot.content.crisis_model import CrisisModel
from bot.content.crisis_text import normalise, squash
from bot.domain.crisis import CrisisHit, Tier

__all__ = ["CrisisWords", "Intent", "Language", "normalise"]

INTENT_WINDOW = 4  # words between "je veux" and "mourir": "je veux vraiment juste mourir"
CALM_WINDOW = 3  # words after the harm words that may make them a hyperbole
SUBJECT_GAP = 2  # words between "my mom" and "gonna": "my mom is gonna kill me"
TOGETHER_SPAN = 8  # words between concepts that make one thought ("pris toute la boîte de
# cachets"); wider spans join unrelated sentences of a long message
SQUASH_FROM = 7  # letters; shorter phrases would match inside ordinary words
TYPO_FROM = 6  # letters; one letter off a shorter word is often another word
READ_CHARS = 10_000  # a message longer than this is read up to here


@dataclass(frozen=True)
class Intent:
    """A wish or plan (``want``) then, within ``INTENT_WINDOW`` words, a harm phrase
    (``harm``, every inflected form included); phrases folded and padded with spaces."""

    tier: Tier
    want: tuple[str, ...]
    harm: tuple[str, ...]
    calm_before: tuple[str, ...] = ()


@dataclass(frozen=True)
class Language:
    """One language's lists, folded the way messages are, each phrase padded with spaces."""

    code: str
    phrases: tuple[tuple[str, Tier], ...]
    intents: tuple[Intent, ...]
    threats: tuple[str, ...]
    cries: tuple[str, ...]
    calm: tuple[str, ...]
    typos: tuple[str, ...]  # bare words
    common: frozenset[str]  # everyday words that tell this language apart
    listed: int  # phrases as written in the file, inflected forms not counted
    # name → words (" mot " whole, " mot" as the start of a word), and the tiers they bring
    concepts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    together: tuple[tuple[Tier, tuple[str, ...]], ...] = ()


class _Kind(Enum):
    PHRASE = 1
    WANT = 2
    HARM = 3
    CRY = 4
    CALM = 5
    THREAT = 6
    SUBJECT = 7
    CONCEPT = 8


# language, what the phrase is, its tier, its words, and the concept it stands for
_Payload = tuple[str, _Kind, Tier, int, str]


class CrisisWords:
    """Every shipped language's lists, compiled for one pass over a message."""

    def __init__(self, languages: tuple[Language, ...], model: CrisisModel | None = None) -> None:
        self.languages = languages
        self.model = model
        self._common = {lang.code: lang.common for lang in languages}
        spaced: dict[str, list[tuple[str, _Kind, Tier, str]]] = defaultdict(list)
        squashed: dict[str, list[tuple[str, _Kind, Tier, str]]] = defaultdict(list)
        for lang in languages:
            for phrase, tier in lang.phrases:
                compact = squash(phrase)
                if len(compact) >= SQUASH_FROM:
                    # Also catches spaced-out letters and attached prefixes ("بالانتحار").
                    squashed[compact].append((lang.code, _Kind.PHRASE, tier, ""))
                else:
                    spaced[phrase].append((lang.code, _Kind.PHRASE, tier, ""))
            for intent in lang.intents:
                for want in intent.want:
                    spaced[want].append((lang.code, _Kind.WANT, intent.tier, ""))
                for harm in intent.harm:
                    spaced[harm].append((lang.code, _Kind.HARM, intent.tier, ""))
                for subject in intent.calm_before:
                    spaced[subject].append((lang.code, _Kind.SUBJECT, intent.tier, ""))
            for threat in lang.threats:
                spaced[threat].append((lang.code, _Kind.THREAT, Tier.OTHERS, ""))
            for cry in lang.cries:
                spaced[cry].append((lang.code, _Kind.CRY, Tier.OTHERS, ""))
            for calm in lang.calm:
                spaced[calm].append((lang.code, _Kind.CALM, Tier.SELF, ""))
            for name, words in lang.concepts:
                for word in words:
                    spaced[word].append((lang.code, _Kind.CONCEPT, Tier.SELF, name))
        self._together = {lang.code: lang.together for lang in languages if lang.together}
        self._spaced = _automaton(spaced)
        self._squashed = _automaton(squashed)
        self._typos = _TypoIndex(languages)

    def __len__(self) -> int:
        """Phrases written in the lists (what ``relais check`` reports)."""
        return sum(lang.listed for lang in self.languages)

    def mentions(self, text: str) -> bool:
        """True when ``text`` may speak of suicide, self-harm or immediate danger."""
        return self.detect(text) is not None

    def detect(self, text: str) -> CrisisHit | None:
        """Which danger ``text`` may speak of, and in which shipped language, or ``None``.
        Danger to oneself wins over danger from others: its answer carries 112 as well."""
        spaced = normalise(text[:READ_CHARS])
        found: dict[str, Tier] = {}

        def add(code: str, tier: Tier) -> None:
            if found.get(code) is not Tier.SELF:
                found[code] = tier

        for _, payloads in self._squashed.iter(squash(spaced)):
            for code, _, tier, _, _ in payloads:
                add(code, tier)
        events: list[tuple[int, _Payload]] = []
        for end, payloads in self._spaced.iter(spaced):
            for payload in payloads:
                if payload[1] is _Kind.PHRASE:
                    add(payload[0], payload[2])
                else:
                    events.append((end, payload))
        if events:
            for code, tier in _Events(spaced, events).hits(self._together):
                add(code, tier)
        for code in self._typos.codes(spaced):
            add(code, Tier.SELF)
        if not found:
            if self.model is None:
                return None
            reading = self.model.read(spaced)
            if reading.probability < self.model.threshold:
                return None
            # Danger to oneself unless the model is sure: that answer also carries 112,
            # while the answer to danger from someone lacks 3114.
            sure = reading.others >= self.model.others_threshold
            tier = Tier.OTHERS if sure else Tier.SELF
            return CrisisHit(tier, self._locale(text, spaced, self._common))
        tier = Tier.SELF if Tier.SELF in found.values() else Tier.OTHERS
        return CrisisHit(tier, self._locale(text, spaced, found))

    def _locale(self, text: str, spaced: str, found: Collection[str]) -> str | None:
        """The language whose lists matched; when several did ("suicide" is French and
        English), the script, then the language with the most everyday words."""
        if len(found) == 1:
            return next(iter(found))
        if not found:
            return None
        script = _script(text)
        if script in found:
            return script
        tokens = set(spaced.split())
        scores = sorted(((len(tokens & self._common[c]), c) for c in found), reverse=True)
        return scores[0][1] if scores[0][0] > scores[1][0] else None


class _Events:
    """Wishes, harm words, threats, cries and calm words found in one message, each as
    (position of its first word, position of the word after it)."""

    def __init__(self, spaced: str, events: list[tuple[int, _Payload]]) -> None:
        found: dict[tuple[str, _Kind, Tier], list[tuple[int, int]]] = defaultdict(list)
        self.concepts: dict[tuple[str, str], list[int]] = defaultdict(list)
        counted, spaces = 0, 0
        for end, (code, kind, tier, words, name) in events:  # in the order of ``end``
            # ``end`` is the padding space after the phrase: the number of spaces up to it
            # is the position of the word that follows (counted on from the last event).
            spaces += spaced.count(" ", counted, end + 1)
            counted = end + 1
            after = spaces - 1
            if kind is _Kind.CONCEPT:
                self.concepts[code, name].append(after)
                continue
            found[code, kind, tier].append((after - words, after))
        self.found = found

    def _at(self, code: str, kind: _Kind, tier: Tier) -> list[tuple[int, int]]:
        return self.found.get((code, kind, tier), [])

    def hits(
        self, together: dict[str, tuple[tuple[Tier, tuple[str, ...]], ...]]
    ) -> list[tuple[str, Tier]]:
        hits = []
        for code, rules in together.items():
            hits += [(code, tier) for tier, names in rules if self._together(code, names)]
        for code, kind, tier in list(self.found):
            if (
                (
                    kind is _Kind.WANT
                    and any(
                        self._follows(code, tier, want, harm)
                        for want in self._at(code, kind, tier)
                        for harm in self._at(code, _Kind.HARM, tier)
                    )
                )
                or (
                    kind is _Kind.THREAT
                    and any(not self._calmed(code, end) for _, end in self._at(code, kind, tier))
                )
                or (kind is _Kind.CRY and not self._at(code, _Kind.CALM, Tier.SELF))
            ):
                hits.append((code, tier))
        return hits

    def _follows(self, code: str, tier: Tier, want: tuple[int, int], harm: tuple[int, int]) -> bool:
        """The harm words start within the window after the wish, no calm word follows
        them, and the wish is not a hyperbole's subject's ("ma mère va me tuer")."""
        if not want[1] <= harm[0] < want[1] + INTENT_WINDOW or self._calmed(code, harm[1]):
            return False
        subjects = self._at(code, _Kind.SUBJECT, tier)
        return not any(want[0] - SUBJECT_GAP <= end <= want[0] for _, end in subjects)

    def _together(self, code: str, names: tuple[str, ...]) -> bool:
        """Every concept named is in the message, all within ``TOGETHER_SPAN`` words of the
        first one's each occurrence."""
        spots = [self.concepts.get((code, name), []) for name in names]
        if not all(spots):
            return False
        return any(
            all(any(abs(p - first) <= TOGETHER_SPAN for p in other) for other in spots[1:])
            for first in spots[0]
        )

    def _calmed(self, code: str, end: int) -> bool:
        calms = self._at(code, _Kind.CALM, Tier.SELF)
        return any(end <= start < end + CALM_WINDOW for start, _ in calms)


class _TypoIndex:
    """Distinctive words recognised one letter off: two words one edit apart share a
    deletion (SymSpell's trick), confirmed by rapidfuzz's edit distance, so a typo costs a
    few dictionary look-ups per word rather than a comparison with every listed word."""

    def __init__(self, languages: tuple[Language, ...]) -> None:
        index: dict[str, dict[tuple[str, str], None]] = defaultdict(dict)
        for lang in languages:
            for word in lang.typos:
                for variant in _deletions(word):
                    index[variant][word, lang.code] = None
        self.index = {variant: tuple(entries) for variant, entries in index.items()}
        words = [word for lang in languages for word in lang.typos]
        # One edit leaves a word of 5+ letters either its first two or its last two letters.
        self.heads = {word[:2] for word in words}
        self.tails = {word[-2:] for word in words}
        self.lengths = range(
            min(map(len, words), default=1) - 1, max(map(len, words), default=0) + 2
        )

    def codes(self, spaced: str) -> set[str]:
        codes: set[str] = set()
        for token in set(spaced.split()):
            if len(token) not in self.lengths:
                continue
            if token[:2] not in self.heads and token[-2:] not in self.tails:
                continue
            for variant in _deletions(token):
                for word, code in self.index.get(variant, ()):
                    if OSA.distance(token, word) <= 1:
                        codes.add(code)
        return codes


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _automaton(phrases: dict[str, list[tuple[str, _Kind, Tier, str]]]) -> Any:
    automaton = ahocorasick.Automaton()
    for phrase, payloads in phrases.items():
        words = phrase.count(" ") - 1  # padded: " je veux " is two words
        automaton.add_word(
            phrase, tuple((code, kind, tier, words, name) for code, kind, tier, name in payloads)
        )
    automaton.make_automaton()
    return automaton


def _script(text: str) -> str | None:
    """'ar' or 'uk' when the message is written in Arabic or Cyrillic letters."""
    for char in text:
        if "\u0600" <= char <= "\u06ff":
            return "ar"
        if "\u0400" <= char <= "\u04ff":
            return "uk"
    return None
