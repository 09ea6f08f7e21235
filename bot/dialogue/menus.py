"""Telegram's command menus, one per language and scope, written in the locale files.

A menu is a locale text with one command a line, ``name — description`` (the name one of
the commands the bot answers), so a translator sets the words and the bot registers them
with ``setMyCommands`` for that ``language_code``; the default language's menu is also
registered without one, for every other language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.content.catalog import Catalog
from bot.content.locales import RLM
from bot.dialogue.engine import COMMAND_ALIASES
from bot.dialogue.groups import COMMANDS as GROUP_COMMANDS
from bot.dialogue.groups import EMERGENCY, HELP
from bot.errors import Problem

# Telegram: a command is 1-32 of a-z, 0-9 and _; its description 1-256 characters.
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_DESCRIPTION = 256
SEPARATOR = " — "
# Which menu each scope shows, and the commands it may name.
MENU_KEYS = {
    "private": "menu.private",
    "group": "menu.group",
    "group_admins": "menu.group_admins",
}
KNOWN = {
    "private": frozenset(COMMAND_ALIASES),
    "group": frozenset(HELP + EMERGENCY),
    "group_admins": frozenset(GROUP_COMMANDS),
}


@dataclass(frozen=True)
class Menu:
    """What one ``setMyCommands`` call registers; ``language`` None is the fallback."""

    scope: str
    language: str | None
    commands: tuple[tuple[str, str], ...]


def parse_menu(text: str, known: frozenset[str]) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """The (command, description) pairs of a menu text, and what is wrong with it."""
    commands: list[tuple[str, str]] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        # An rtl locale's lines start with a right-to-left mark (bot.content.locales).
        name, sep, description = line.strip().lstrip(RLM).removeprefix("/").partition(SEPARATOR)
        if not sep or not _COMMAND.match(name) or not description.strip():
            errors.append(f"line {number}: write '/command{SEPARATOR}what it does'")
        elif name not in known:
            errors.append(f"line {number}: '/{name}' is not a command the bot answers")
        elif len(description.strip()) > MAX_DESCRIPTION:
            errors.append(f"line {number}: the description is over {MAX_DESCRIPTION} characters")
        else:
            commands.append((name, description.strip()))
    if not commands and not errors:
        errors.append("the menu is empty")
    return tuple(commands), errors


def menus(catalog: Catalog) -> list[Menu]:
    """Every menu to register: each scope in each shipped language, then the fallback."""
    texts = catalog.locales
    found: list[Menu] = []
    for scope, key in MENU_KEYS.items():
        for language in (*texts.codes, None):
            code = language or texts.default
            commands, _ = parse_menu(texts.text(code, key), KNOWN[scope])
            found.append(Menu(scope, language, commands))
    return found


def menu_problems(catalog: Catalog) -> Iterator[Problem]:
    """Menus Telegram would refuse, or naming a command the bot does not answer."""
    for scope, key in MENU_KEYS.items():
        for code in catalog.locales.codes:
            locale = catalog.locales.by_code[code]
            if key not in locale.texts:
                continue  # reported as a missing key
            _, errors = parse_menu(locale.texts[key], KNOWN[scope])
            for error in errors:
                yield locale.problem(key, f"key '{key}': {error}")
