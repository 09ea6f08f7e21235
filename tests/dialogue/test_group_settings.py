"""``bot/domain/group.py`` without a bot: links, settings changes, rights, group texts."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.content.catalog import Catalog
from bot.dialogue.group_texts import GroupTexts
from bot.dialogue.render import MAX_TEXT
from bot.domain.disclosure import MonthCount
from bot.domain.group import (
    BotRights,
    apply_choice,
    deep_link,
    group_key,
    link_token,
    looks_like_token,
    missing_rights,
    new_settings,
)

CHAT = -1001234567890
ANSWER_LIMIT = 200  # answerCallbackQuery text, in characters


def test_link_token_is_short_stable_and_says_nothing_about_the_group() -> None:
    token = link_token("secret", CHAT)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token) and looks_like_token(token)
    assert token == link_token("secret", CHAT)  # two replicas agree
    assert token != link_token("other secret", CHAT)  # unforgeable without the secret
    assert token != link_token("secret", CHAT - 1)
    assert "1234567890" not in token and token[1:] not in group_key("secret", CHAT)
    assert deep_link("relais_bot", token) == f"https://t.me/relais_bot?start={token}"


@pytest.mark.parametrize("payload", ["", "g", "g123", "G" + "a" * 24, "g" + "a" * 25, "x" * 64])
def test_other_payloads_are_not_tokens(payload: str) -> None:
    assert not looks_like_token(payload)


def test_settings_change_only_through_known_buttons() -> None:
    settings = new_settings("secret", CHAT, "fr")
    assert (settings.pin_card, settings.discreet, settings.greet) == (True, True, False)
    codes = ["fr", "en"]
    assert apply_choice(settings, "cfg:greet", codes).greet is True
    assert apply_choice(settings, "cfg:pin", codes).pin_card is False
    assert apply_choice(settings, "cfg:discreet", codes).discreet is False
    assert apply_choice(settings, "cfg:lang:en", codes).locale == "en"
    for forged in ("cfg:lang:xx", "cfg:token", "cfg:key", "cfg:", "victim:1:danger:yes"):
        assert apply_choice(settings, forged, codes) == settings


def test_missing_rights_only_for_what_the_settings_need() -> None:
    settings = new_settings("secret", CHAT, "fr")
    everything = BotRights(admin=True, pin=True, delete=True)
    assert missing_rights(settings, everything) == []
    assert missing_rights(settings, BotRights(True, False, False)) == [
        "group.rights.pin",
        "group.rights.delete",
    ]
    assert missing_rights(settings, BotRights(False, False, False)) == ["group.rights.not_admin"]
    quiet = settings.with_(pin_card=False, discreet=False)
    assert missing_rights(quiet, BotRights(False, False, False)) == []


def test_small_counts_are_hidden(catalog: Catalog) -> None:
    texts = GroupTexts(catalog)
    assert [texts.count("fr", n, 5) for n in (0, 1, 4, 5, 12)] == [
        "moins de 5",
        "moins de 5",
        "moins de 5",
        "5",
        "12",
    ]


def test_every_group_text_fits_telegram_in_every_language(
    catalog: Catalog, noon: dt.datetime
) -> None:
    texts = GroupTexts(catalog)
    nothing = BotRights(admin=False, pin=False, delete=False)
    for code in catalog.locales.codes:
        settings = new_settings("secret", CHAT, code).with_(card_message_id=7)
        text, keyboard = texts.config(settings, nothing)
        for message in (
            text,
            texts.card(settings),
            texts.help(settings, noon),
            texts.emergency(settings, noon)[0],
            texts.greeting(settings),
            texts.stats(
                settings,
                (
                    MonthCount("2026-10", 40),
                    MonthCount("2026-09", None, "small"),
                    MonthCount("2026-08", None, "complementary"),
                ),
                5,
            ),
        ):
            assert 0 < len(message) <= MAX_TEXT
            assert "{" not in message, f"{code}: a placeholder was left unfilled"
        for button in (b for row in keyboard for b in row):
            assert button.data is not None and len(button.data.encode()) <= 64
        # Button-press answers are toasts and alerts: Telegram cuts them at 200 characters.
        for key in ("group.config.saved", "group.config.admins_only"):
            assert len(texts.t(code, key)) <= ANSWER_LIMIT, f"{code}: {key} too long"
