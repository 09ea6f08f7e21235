"""Reading ``locales/crisis/<code>.yaml`` into the detector's lists, refusing a broken file
with file, line and reason at start-up (and in ``relais check``) rather than at the first
message a teen types.

Inflected forms of the harm words ("mourir" → "meurs", "mourrai") come from
``locales/crisis/forms/<code>.txt``, written by ``python bench/crisis_forms.py`` from the
simplemma lemmatiser's dictionaries, so the bot needs neither simplemma nor its
dictionaries at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.content.crisis import TYPO_FROM, CrisisWords, Intent, Language
from bot.content.crisis_model import load_model
from bot.content.crisis_text import normalise
from bot.content.yamlfile import Loc, YamlDocument, read_yaml
from bot.domain.crisis import Tier
from bot.errors import ConfigError, Problem, display_path

MIN_LETTERS = 3  # "a" or "il" would match almost every message
_LISTS = ("self", "others", "threats", "cries", "calm", "typos", "common")
_KEYS = (*_LISTS, "intent", "concepts", "together")

MODEL_FILE = "model.json"


def load_crisis_words(directory: Path, *, model: bool = True) -> CrisisWords:
    """Every list in ``directory`` (``locales/crisis``) and the statistical model beside
    them (``model.json``, required: without it the detector quietly misses more); no lists
    at all is refused too (typed words of crisis would never bring the emergency numbers).
    ``model=False`` gives the rules alone (what the model's training compares against)."""
    languages: list[Language] = []
    problems: list[Problem] = []
    paths = sorted(directory.glob("*.yaml"))
    for path in paths:
        try:
            doc = read_yaml(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        reader = _Reader(doc, read_forms(directory / "forms" / f"{path.stem}.txt"))
        language = reader.language(path.stem)
        problems.extend(reader.problems)
        if language is not None:
            languages.append(language)
    if not paths:
        problems.append(
            Problem(
                display_path(directory),
                1,
                "no crisis word lists (*.yaml): copy the shipped locales/crisis here",
            )
        )
    learned = None
    if model:
        try:
            learned = load_model(directory / MODEL_FILE)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return CrisisWords(tuple(languages), learned)


def read_forms(path: Path) -> dict[str, tuple[str, ...]]:
    """``lemma: form form ...`` lines, folded; a missing file means no inflected forms."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    forms: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        word, colon, rest = line.partition(":")
        if colon and not line.startswith("#"):
            forms[normalise(word).strip()] = tuple(normalise(f).strip() for f in rest.split())
    return forms


class _Reader:
    def __init__(self, doc: YamlDocument, forms: dict[str, tuple[str, ...]]) -> None:
        self.doc = doc
        self.forms = forms
        self.problems: list[Problem] = []
        self.harm_listed = 0

    def language(self, code: str) -> Language | None:
        data = self.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("self"), list):
            self._problem((), "expected 'self:' followed by a list of phrases")
            return None
        for key in data:
            if key not in _KEYS:
                self._problem((key,), f"unknown key {key!r}: expected one of {', '.join(_KEYS)}")
        phrases: dict[str, Tier] = {}
        for tier in Tier:
            for phrase in self._phrases((tier.value,)):
                phrases.setdefault(phrase, tier)
        typos = tuple(phrase.strip() for phrase in self._phrases(("typos",)))
        for i, word in enumerate(typos):
            if " " in word or len(word) < TYPO_FROM:
                self._problem(
                    ("typos", i),
                    f"typo-tolerant word {word!r} must be one word of {TYPO_FROM}+ letters: "
                    "shorter words are one letter away from ordinary ones",
                )
        intents = self._intents()
        concepts = self._concepts()
        together = self._together({name for name, _ in concepts})
        threats = self._phrases(("threats",))
        cries = self._phrases(("cries",))
        calm = self._phrases(("calm",), min_letters=2)
        listed = sum(len(i.want) + len(i.calm_before) for i in intents) + self.harm_listed
        listed += len(threats) + len(cries) + len(calm)
        return Language(
            code=code,
            phrases=tuple(phrases.items()),
            intents=intents,
            threats=threats,
            cries=cries,
            calm=calm,
            typos=typos,
            common=frozenset(p.strip() for p in self._phrases(("common",), min_letters=1)),
            listed=len(phrases) + listed + len(typos) + sum(len(w) for _, w in concepts),
            concepts=concepts,
            together=together,
        )

    def _concepts(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``concepts:`` name → words; a word ending in ``*`` matches the start of a word."""
        found = self.doc.data.get("concepts", {})
        if not isinstance(found, dict):
            self._problem(("concepts",), "expected 'concepts:' with a list of words per name")
            return ()
        concepts = []
        for name, words in found.items():
            if not isinstance(words, list):
                self._problem(("concepts", name), f"expected '{name}:' and a list of words")
                continue
            keys: dict[str, None] = {}
            for i, word in enumerate(words):
                text = word if isinstance(word, str) else ""
                folded = normalise(text.removesuffix("*"))
                if len(folded.replace(" ", "")) < 2:
                    self._problem(
                        ("concepts", name, i),
                        f"concept word {word!r} is too short: under 2 letters "
                        "it would be found in ordinary messages",
                    )
                    continue
                keys[folded.rstrip() if text.endswith("*") else folded] = None
            concepts.append((name, tuple(keys)))
        return tuple(concepts)

    def _together(self, names: set[str]) -> tuple[tuple[Tier, tuple[str, ...]], ...]:
        """``together:`` tier → lists of concept names that, found close together, bring
        that tier's answer."""
        found = self.doc.data.get("together", {})
        rules: list[tuple[Tier, tuple[str, ...]]] = []
        if not isinstance(found, dict):
            self._problem(("together",), "expected 'together:' with 'self:' and/or 'others:'")
            return ()
        for key, lists in found.items():
            if key not in (Tier.SELF.value, Tier.OTHERS.value) or not isinstance(lists, list):
                self._problem(("together", key), "expected 'self:' or 'others:' and a list")
                continue
            for i, rule in enumerate(lists):
                if not isinstance(rule, list) or len(rule) < 2:
                    self._problem(("together", key, i), "expected a list of 2+ concept names")
                    continue
                unknown = [name for name in rule if name not in names]
                if unknown:
                    self._problem(
                        ("together", key, i), f"unknown concept(s) {', '.join(map(str, unknown))}"
                    )
                    continue
                rules.append((Tier(key), tuple(rule)))
        return tuple(rules)

    def _intents(self) -> tuple[Intent, ...]:
        found = self.doc.data.get("intent", {})
        if not isinstance(found, dict):
            self._problem(("intent",), "expected 'intent:' with 'self:' and/or 'others:'")
            return ()
        intents: list[Intent] = []
        for key in found:
            if key not in (Tier.SELF.value, Tier.OTHERS.value):
                self._problem(("intent", key), f"unknown intent {key!r}: expected self, others")
                continue
            keys = set(found[key]) if isinstance(found[key], dict) else set()
            if not {"want", "harm"} <= keys <= {"want", "harm", "calm_before"}:
                self._problem(
                    ("intent", key), "expected 'want:' and 'harm:' lists (and 'calm_before:')"
                )
                continue
            want = self._phrases(("intent", key, "want"), min_letters=1)
            harm = self._phrases(("intent", key, "harm"), min_letters=2)
            before = self._phrases(("intent", key, "calm_before"), min_letters=2)
            self.harm_listed += len(harm)
            intents.append(Intent(Tier(key), want, self._inflected(harm), before))
        return tuple(intents)

    def _inflected(self, harm: tuple[str, ...]) -> tuple[str, ...]:
        """Each harm phrase with its last word in every form the lemmatiser knows."""
        found: dict[str, None] = {}
        for phrase in harm:
            found[phrase] = None
            *head, last = phrase.split()
            for form in self.forms.get(last, ()):
                found[" " + " ".join([*head, form]) + " "] = None
        return tuple(found)

    def _phrases(self, loc: Loc, min_letters: int = MIN_LETTERS) -> tuple[str, ...]:
        """The list at ``loc`` (absent: empty), each phrase folded and padded with spaces."""
        node: Any = self.doc.data
        for key in loc:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return ()
        if not isinstance(node, list):
            self._problem(loc, f"expected '{loc[-1]}:' followed by a list of phrases")
            return ()
        phrases: dict[str, None] = {}
        for i, phrase in enumerate(node):
            if not isinstance(phrase, str):
                self._problem(
                    (*loc, i),
                    f"expected text, found {phrase!r}: quote it (YAML reads a bare yes, no, "
                    "on or off as true or false)",
                )
                continue
            folded = normalise(phrase)
            if len(folded.replace(" ", "")) < min_letters:
                self._problem(
                    (*loc, i),
                    f"phrase {phrase!r} is too short: under {min_letters} letters it "
                    "would match ordinary messages",
                )
            else:
                phrases[folded] = None
        return tuple(phrases)

    def _problem(self, loc: Loc, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message))
