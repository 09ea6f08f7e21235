"""Texts by locale key, for tests that assert which text was said rather than its words.

Why: a volunteer rewording a sentence in ``locales/fr.yaml`` must not break a test of the
logic. Tests press buttons by the label of a key (``teen.press(fr("start.who.me"))``) and
check that a reply is the text of a key (``fr.said(reply, "nudge.stale")``); the wording
itself is checked by ``relais check`` and a few end-to-end tests labelled as such.
"""

from __future__ import annotations

import re
import string
from functools import cache
from typing import Any

from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.content.locales import Locales, load_locales


class Texts:
    """The texts of one locale: ``texts(key, **values)`` and which key a text is."""

    def __init__(self, texts: Catalog | Locales, locale: str = "fr") -> None:
        self.locales = texts.locales if isinstance(texts, Catalog) else texts
        self.locale = locale

    def __call__(self, key: str, **values: Any) -> str:
        """The text of ``key``, placeholders filled with ``values`` (left as is otherwise)."""
        assert self.locales.has(key), f"no text key {key!r}"
        return self.locales.text(self.locale, key, **values)

    def template(self, key: str) -> str:
        return self.__call__(key)

    def said(self, text: str | None, key: str) -> bool:
        """Whether ``text`` contains the text of ``key``, whatever fills its placeholders."""
        return text is not None and _pattern(self.template(key)).search(text) is not None

    def starts(self, text: str | None, key: str) -> bool:
        """Whether ``text`` begins with the text of ``key``."""
        return text is not None and _pattern(self.template(key)).match(text) is not None

    def value(self, text: str, key: str, name: str) -> str:
        """What fills placeholder ``{name}`` of ``key`` in ``text``."""
        found = _pattern(self.template(key)).search(text)
        assert found is not None, f"{key!r} not said in {text!r}"
        return found.group(name)

    def keys(self, text: str | None, prefix: str = "") -> set[str]:
        """Every key (under ``prefix``) whose text ``text`` contains."""
        if text is None:
            return set()
        reference = self.locales.by_code["fr"].texts
        return {k for k in reference if k.startswith(prefix) and self.said(text, k)}


@cache
def _shipped() -> Locales:
    return load_locales(PROJECT_ROOT / "locales")


def shipped(locale: str) -> Texts:
    """The texts of ``locales/`` for module-level constants (before any fixture)."""
    return Texts(_shipped(), locale)


def french(key: str, **values: Any) -> str:
    """The shipped French text of ``key``."""
    return shipped("fr")(key, **values)


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field:
            name = field if field.isidentifier() and f"(?P<{field}>" not in "".join(parts) else ""
            parts.append(f"(?P<{name}>.*?)" if name else "(?:.*?)")
    return re.compile("".join(parts), re.DOTALL)
