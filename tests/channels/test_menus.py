"""Telegram's command menus: one per shipped language and scope, written in the locale
files, registered at start-up (the fake Bot API server sees each ``setMyCommands``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bot.content.catalog import Catalog
from bot.dialogue.engine import COMMAND_ALIASES
from bot.dialogue.menus import KNOWN, MENU_KEYS, parse_menu
from bot.dialogue.service import Dialogue
from tests.fakebotapi import FakeBotApi
from tests.harness import relais

SCOPES = {
    "private": "all_private_chats",
    "group": "all_group_chats",
    "group_admins": "all_chat_administrators",
}


async def test_one_set_my_commands_per_language_and_scope(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], catalog: Catalog
) -> None:
    async with relais(api, dialogue_factory()):
        pass
    calls = Counter(
        (call.params.get("scope", {}).get("type"), call.params.get("language_code"))
        for call in api.calls_of("setMyCommands")
        if call.params.get("scope", {}).get("type") in SCOPES.values()
    )
    languages = [*catalog.locales.codes, None]
    wanted = {(scope, language) for scope in SCOPES.values() for language in languages}
    assert set(calls) == wanted
    assert set(calls.values()) == {1}
    # Each language's menu is the one its locale file writes; the fallback is French.
    english = api.commands(scope={"type": "all_private_chats"}, language_code="en")
    assert [c["command"] for c in english][:3] == ["start", "emergency", "help"]
    french = api.commands(scope={"type": "all_private_chats"}, language_code="")
    assert [c["command"] for c in french][:3] == ["start", "urgence", "aide"]
    admins = api.commands(scope={"type": "all_chat_administrators"}, language_code="en")
    assert [c["command"] for c in admins] == ["help", "emergency", "card", "settings", "stats"]


def test_every_menu_names_commands_the_bot_answers(catalog: Catalog) -> None:
    for code in catalog.locales.codes:
        for scope, key in MENU_KEYS.items():
            commands, errors = parse_menu(catalog.locales.text(code, key), KNOWN[scope])
            assert not errors and commands, (code, scope, errors)
        private, _ = parse_menu(catalog.locales.text(code, "menu.private"), KNOWN["private"])
        assert {name for name, _ in private} <= set(COMMAND_ALIASES) and len(private) == 9


def test_a_menu_line_telegram_would_refuse_is_reported() -> None:
    known = frozenset({"aide"})
    assert parse_menu("/aide — Aide", known) == ((("aide", "Aide"),), [])
    _, errors = parse_menu("/aide — Aide\n/Aide-moi — x\n/carte — y\n/aide — " + "x" * 257, known)
    assert errors == [
        "line 2: write '/command — what it does'",
        "line 3: '/carte' is not a command the bot answers",
        "line 4: the description is over 256 characters",
    ]
