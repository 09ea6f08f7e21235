"""A Telegram group as the bot knows it: its settings and the rules around them.

Plain data and pure rules, so what protects a child in front of a group is tested without
a bot:

- a group is known by a keyed hash of its chat id (``key``), never by the id itself;
- its deep link carries a second keyed hash (``token``): it tells nobody which group it
  belongs to, and nobody without the deployment secret can make one for another group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from bot.privacy import pseudonym

GROUP_NAMESPACE = "group"  # pseudonym namespace of group keys (Conversation.origin)
LINK_NAMESPACE = "group-link"  # a different one, so a token is not the key
_TOKEN_HEX = 24  # 96 bits: unguessable, and "g" + 24 fits Telegram's 64-char start payload
_TOKEN = re.compile(rf"^g[0-9a-f]{{{_TOKEN_HEX}}}$")
CONFIG_PREFIX = "cfg:"  # callback data of /config buttons; the private handler skips it
LANG_CHOICE = CONFIG_PREFIX + "lang:"
# /config buttons that flip one setting: callback suffix -> GroupSettings field.
TOGGLES = {"pin": "pin_card", "discreet": "discreet", "greet": "greet"}
DEFAULT_STATS_K = 5  # counts below this are shown as "fewer than k"


@dataclass(frozen=True)
class GroupSettings:
    """What a group's admins chose. Nothing about any member, not even the chat id."""

    key: str  # pseudonym of the chat id; follows the group when it becomes a supergroup
    token: str  # the deep-link payload ("g" + keyed hash); kept across a migration
    locale: str
    pin_card: bool = True
    discreet: bool = True  # delete member commands once answered (when the bot may)
    greet: bool = False
    card_message_id: int | None = None  # the bot's own card, to re-pin, unpin or refresh

    def with_(self, **changes: Any) -> GroupSettings:
        return replace(self, **changes)


@dataclass(frozen=True)
class Origin:
    """Where a private conversation was opened from: a group's card or /aide button."""

    group_key: str
    locale: str


@dataclass(frozen=True)
class BotRights:
    """What the bot may do in a group, as Telegram reports it (``getChatMember``)."""

    admin: bool
    pin: bool
    delete: bool


def group_key(secret: str, chat_id: int) -> str:
    return pseudonym(secret, GROUP_NAMESPACE, chat_id)


def link_token(secret: str, chat_id: int) -> str:
    """Deterministic, so two replicas creating the same group agree on its link."""
    return "g" + pseudonym(secret, LINK_NAMESPACE, chat_id)[:_TOKEN_HEX]


def new_settings(secret: str, chat_id: int, locale: str) -> GroupSettings:
    return GroupSettings(group_key(secret, chat_id), link_token(secret, chat_id), locale)


def looks_like_token(payload: str) -> bool:
    """Cheap shape check before any database read (a deep link's payload is untrusted)."""
    return bool(_TOKEN.match(payload))


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def apply_choice(settings: GroupSettings, data: str, locale_codes: list[str]) -> GroupSettings:
    """The settings after a /config button press. Unknown or forged data changes nothing
    (the same settings come back), so a stale button can never corrupt a group."""
    if data.startswith(LANG_CHOICE):
        code = data.removeprefix(LANG_CHOICE)
        return settings.with_(locale=code) if code in locale_codes else settings
    field = TOGGLES.get(data.removeprefix(CONFIG_PREFIX))
    if field is None:
        return settings
    return settings.with_(**{field: not getattr(settings, field)})


def missing_rights(settings: GroupSettings, rights: BotRights) -> list[str]:
    """Locale keys of the warnings to show admins: the rights their settings need."""
    if not rights.admin and (settings.pin_card or settings.discreet):
        return ["group.rights.not_admin"]
    keys = []
    if settings.pin_card and not rights.pin:
        keys.append("group.rights.pin")
    if settings.discreet and not rights.delete:
        keys.append("group.rights.delete")
    return keys
