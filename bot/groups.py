"""Relais in a Telegram group: what a group keeps, and every text it shows there.

Pure on purpose (no Telegram types, no I/O, no clock reads), so the rules that protect a
child in front of a group live in one place and are tested without a bot:

- nothing said in a group names, quotes or replies to the person who asked;
- every answer a member gets in the group carries a button to a *private* chat;
- a group is known by a keyed hash of its chat id (``key``), never by the id itself;
- its deep link carries a second keyed hash (``token``): it tells nobody which group it
  belongs to, and nobody without the deployment secret can make one for another group.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

from bot.catalog import EMERGENCY_RESOURCES, Catalog
from bot.conversation import Button, Keyboard
from bot.privacy import pseudonym
from bot.render import help_line, resource_block

GROUP_NAMESPACE = "group"  # pseudonym namespace of group keys (Conversation.origin)
LINK_NAMESPACE = "group-link"  # a different one, so a token is not the key
_TOKEN_HEX = 24  # 96 bits: unguessable, and "g" + 24 fits Telegram's 64-char start payload
_TOKEN = re.compile(rf"^g[0-9a-f]{{{_TOKEN_HEX}}}$")
CONFIG_PREFIX = "cfg:"  # callback data of /config buttons; the private handler skips it
_LANG = CONFIG_PREFIX + "lang:"
# /config buttons that flip one setting: callback suffix -> GroupSettings field.
TOGGLES = {"pin": "pin_card", "discreet": "discreet", "greet": "greet"}
STATS_DAYS = (7, 30)
DEFAULT_STATS_K = 5  # counts below this are shown as "fewer than k"

# Every locale key this module uses, so ``relais check`` proves each language has them.
GROUP_KEYS = (
    "group.help",
    "group.card",
    "group.button.private",
    "group.greet",
    "group.greet_pinned",
    "group.added",
    "group.admins_only",
    "group.pin_failed",
    "group.delete_failed",
    "group.config.title",
    "group.config.explain",
    "group.config.hint",
    "group.config.pin",
    "group.config.discreet",
    "group.config.greet",
    "group.config.on",
    "group.config.off",
    "group.config.saved",
    "group.config.admins_only",
    "group.rights.not_admin",
    "group.rights.pin",
    "group.rights.delete",
    "group.stats",
    "group.fewer_than",
    "emergency.text",
)


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
    if data.startswith(_LANG):
        code = data.removeprefix(_LANG)
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


class GroupTexts:
    """Every text and keyboard the bot shows in a group, in the group's language."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def t(self, locale: str, key: str, **values: object) -> str:
        return self.catalog.locales.text(locale, key, **values)

    def private_button(self, settings: GroupSettings, bot_username: str) -> Keyboard:
        """The way out of the group: a URL button opening the private chat. Pressing it
        shows nothing to the group."""
        label = self.t(settings.locale, "group.button.private")
        return ((Button(label, url=deep_link(bot_username, settings.token)),),)

    def help(self, settings: GroupSettings, now: dt.datetime) -> str:
        return self.t(
            settings.locale, "group.help", help=help_line(self.catalog, settings.locale, now)
        )

    def emergency(self, settings: GroupSettings, now: dt.datetime) -> str:
        block = resource_block(self.catalog, EMERGENCY_RESOURCES, settings.locale, now)
        return self.t(settings.locale, "emergency.text") + "\n\n" + block

    def card(self, settings: GroupSettings) -> str:
        """The pinned card: hours but no "open now", which would be wrong by tonight."""
        return self.t(
            settings.locale, "group.card", help=help_line(self.catalog, settings.locale, None)
        )

    def greeting(self, settings: GroupSettings) -> str:
        pinned = settings.pin_card and settings.card_message_id is not None
        return self.t(settings.locale, "group.greet_pinned" if pinned else "group.greet")

    def config(self, settings: GroupSettings, rights: BotRights) -> tuple[str, Keyboard]:
        """The /config message: what each setting does, warnings, and one button each."""
        loc = settings.locale
        lines = [self.t(loc, "group.config.title"), self.t(loc, "group.config.explain")]
        lines += [self.t(loc, key) for key in missing_rights(settings, rights)]
        lines.append(self.t(loc, "group.config.hint"))

        def value(flag: bool) -> str:
            return self.t(loc, "group.config.on" if flag else "group.config.off")

        languages = tuple(
            Button(
                ("✓ " if code == loc else "") + self.catalog.locales.by_code[code].name,
                data=_LANG + code,
            )
            for code in self.catalog.locales.codes
        )
        toggles = tuple(
            (
                Button(
                    self.t(loc, f"group.config.{name}", value=value(getattr(settings, field))),
                    data=CONFIG_PREFIX + name,
                ),
            )
            for name, field in TOGGLES.items()
        )
        return "\n\n".join(lines), (languages, *toggles)

    def count(self, locale: str, count: int, k: int) -> str:
        """A count, or "fewer than k" below the k-anonymity threshold (zero included, so
        "nobody" and "one child" look the same)."""
        return self.t(locale, "group.fewer_than", k=k) if count < k else str(count)

    def stats(self, settings: GroupSettings, week: int, month: int, k: int) -> str:
        loc = settings.locale
        return self.t(
            loc, "group.stats", week=self.count(loc, week, k), month=self.count(loc, month, k), k=k
        )
