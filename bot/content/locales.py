"""User-facing text, one YAML file per language in ``locales/``.

Nested YAML keys are flattened to dotted keys (``victim.what.question``) so flows can name
a text without knowing how the file is laid out. French is the reference language: a key
missing elsewhere falls back to French at run time, and ``relais check`` reports it.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content.yamlfile import Loc, YamlDocument, read_yaml
from bot.errors import ConfigError, Problem

REFERENCE_LOCALE = "fr"
DIRECTIONS = ("ltr", "rtl")
# Telegram gives each line the direction of its first strong letter, so a right-to-left
# line that starts with a number, an emoji or a Latin name (3018, Instagram) would be laid
# out left to right. A RIGHT-TO-LEFT MARK in front of each line makes it right to left.
RLM = "\u200f"


def right_to_left(text: str) -> str:
    """``text`` with a right-to-left mark at the start of every line that has text."""
    return "\n".join(
        RLM + line if line and not line.startswith(RLM) else line for line in text.split("\n")
    )


def placeholders(text: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in a text (what a translation must keep)."""
    names: set[str] = set()
    for _, field_name, _, _ in string.Formatter().parse(text):
        if field_name:
            names.add(field_name)
    return frozenset(names)


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class Locale:
    """The texts of one language and where each was defined."""

    code: str
    texts: dict[str, str]
    doc: YamlDocument | None = None
    key_locs: dict[str, Loc] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.texts.get("meta.name", self.code)

    @property
    def direction(self) -> str:
        """``meta.direction``: ``ltr``, or ``rtl`` for Arabic, Hebrew, Persian..."""
        return self.texts.get("meta.direction", "ltr")

    def problem(self, key: str, message: str, *, warning: bool = False) -> Problem:
        if self.doc is None:
            return Problem(f"locales/{self.code}.yaml", 1, message, warning)
        # A missing key is located at its nearest existing parent section.
        loc = self.key_locs.get(key) or tuple(key.split(".")) if key else ()
        return self.doc.problem(loc, message, warning=warning)


@dataclass
class Locales:
    """All shipped languages; looks texts up with a French fallback."""

    by_code: dict[str, Locale]
    default: str = REFERENCE_LOCALE

    @property
    def codes(self) -> list[str]:
        """Shipped locale codes, the reference first."""
        return sorted(self.by_code, key=lambda c: (c != REFERENCE_LOCALE, c))

    def resolve(self, language_code: str | None) -> str:
        """Pick the shipped locale for a Telegram ``language_code`` (``en-GB`` → ``en``)."""
        return self.find(language_code) or self.default

    def find(self, language_code: str | None) -> str | None:
        """The shipped locale for ``language_code``, or None when there is none."""
        base = (language_code or "").split("-")[0].split("_")[0].lower()
        return base if base in self.by_code else None

    def has(self, key: str) -> bool:
        return key in self.by_code[REFERENCE_LOCALE].texts

    def text(self, locale: str, key: str, **values: Any) -> str:
        """The text for ``key`` in ``locale`` with placeholders filled; never raises, so a
        missing translation degrades to French rather than to silence."""
        for code in (locale, self.default, REFERENCE_LOCALE):
            found = self.by_code.get(code)
            if found is not None and key in found.texts:
                template = found.texts[key]
                break
        else:
            return key
        text = template
        if values:
            text = template.format_map(_Missing({k: str(v) for k, v in values.items()}))
        return right_to_left(text) if found.direction == "rtl" else text

    def check(self, used_keys: Iterable[str] = ()) -> list[Problem]:
        """Keys missing from a language, and placeholders that differ from French."""
        problems: list[Problem] = []
        reference = self.by_code.get(REFERENCE_LOCALE)
        if reference is None:
            return [Problem("locales/", 1, f"the reference locale '{REFERENCE_LOCALE}' is missing")]
        for key in sorted(set(used_keys) - set(reference.texts)):
            problems.append(
                reference.problem(key, f"missing key '{key}' used by a flow or the bot")
            )
        for code in self.codes:
            locale = self.by_code[code]
            if locale.direction not in DIRECTIONS:
                problems.append(
                    locale.problem("meta.direction", "meta.direction must be ltr or rtl")
                )
            if code == REFERENCE_LOCALE:
                continue
            for key, ref_text in reference.texts.items():
                if key not in locale.texts:
                    problems.append(locale.problem(key, f"missing key '{key}' (present in fr)"))
                    continue
                want, got = placeholders(ref_text), placeholders(locale.texts[key])
                if want != got:
                    problems.append(
                        locale.problem(
                            key,
                            f"key '{key}': placeholders {sorted(got)} "
                            f"differ from fr {sorted(want)}",
                        )
                    )
            for key in sorted(set(locale.texts) - set(reference.texts)):
                problems.append(
                    locale.problem(key, f"key '{key}' is not in fr (typo?)", warning=True)
                )
        return problems


def _flatten(
    data: Mapping[str, Any], prefix: Loc, doc: YamlDocument, out: Locale, problems: list[Problem]
) -> None:
    for key, value in data.items():
        loc = (*prefix, key)
        dotted = ".".join(str(p) for p in loc)
        if isinstance(value, Mapping):
            _flatten(value, loc, doc, out, problems)
        elif isinstance(value, str):
            out.texts[dotted] = value.rstrip("\n")
            out.key_locs[dotted] = loc
        else:
            problems.append(doc.problem(loc, f"key '{dotted}' must be text, got {value!r}"))


def load_locale(path: Path) -> Locale:
    """Read one ``locales/<code>.yaml``."""
    doc = read_yaml(path)
    locale = Locale(path.stem, {}, doc)
    if not isinstance(doc.data, Mapping):
        raise ConfigError([doc.problem((), "a locale file must be a mapping of keys to texts")])
    problems: list[Problem] = []
    _flatten(doc.data, (), doc, locale, problems)
    for key, text in locale.texts.items():
        try:
            placeholders(text)
        except ValueError as exc:
            problems.append(doc.problem(locale.key_locs[key], f"key '{key}': {exc}"))
    if problems:
        raise ConfigError(problems)
    return locale


def load_locales(directory: Path, default: str = REFERENCE_LOCALE) -> Locales:
    """Read every ``*.yaml`` in ``directory``; collect every problem before raising."""
    by_code: dict[str, Locale] = {}
    problems: list[Problem] = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            by_code[path.stem] = load_locale(path)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    if default not in by_code:
        default = REFERENCE_LOCALE
    return Locales(by_code, default)
