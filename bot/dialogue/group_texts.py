"""Every text and keyboard the bot shows in a group, in the group's language.

Nothing said in a group names, quotes or replies to the person who asked, and every
answer a member gets there carries a button to a *private* chat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.content.catalog import EMERGENCY_RESOURCES, Catalog
from bot.dialogue.crisis_answer import answer_locale, copy_buttons, crisis_text
from bot.dialogue.render import help_line, resource_block
from bot.domain.conversation import Button, Keyboard
from bot.domain.crisis import CrisisHit
from bot.domain.disclosure import MonthCount
from bot.domain.group import (
    CONFIG_PREFIX,
    LANG_CHOICE,
    TOGGLES,
    BotRights,
    GroupSettings,
    deep_link,
    missing_rights,
)

# Every locale key the group texts use, so ``relais check`` proves each language has them.
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


class GroupTexts:
    """Every text and keyboard the bot shows in a group, in the group's language."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def t(self, locale: str, key: str, **values: object) -> str:
        return self.catalog.locales.text(locale, key, **values)

    def unavailable(self, now: dt.datetime, locale: str | None = None) -> str:
        """The database does not answer: the calm message with 3018, which needs none
        (in the deployment's language: the group's own is stored in that database)."""
        locale = locale or self.catalog.locales.default
        return self.t(locale, "error.storage", help=help_line(self.catalog, locale, now))

    def crisis(
        self, settings: GroupSettings, hit: CrisisHit, now: dt.datetime
    ) -> tuple[str, tuple[Button, ...]]:
        """The answer to words of crisis, as in a private chat: the tier's text and numbers
        in the words' language (else the group's), and buttons to copy the numbers."""
        locale = answer_locale(self.catalog, hit, settings.locale)
        text = crisis_text(self.catalog, hit.tier, locale, now)
        return text, copy_buttons(self.catalog, hit.tier, locale)

    def private_button(self, settings: GroupSettings, bot_username: str) -> Keyboard:
        """The way out of the group: a URL button opening the private chat. Pressing it
        shows nothing to the group."""
        label = self.t(settings.locale, "group.button.private")
        return ((Button(label, url=deep_link(bot_username, settings.token)),),)

    def help(self, settings: GroupSettings, now: dt.datetime) -> str:
        return self.t(
            settings.locale, "group.help", help=help_line(self.catalog, settings.locale, now)
        )

    def emergency(
        self, settings: GroupSettings, now: dt.datetime
    ) -> tuple[str, tuple[Button, ...]]:
        """/urgence, as in a private chat: every emergency number, and buttons to copy
        112 and 3114 (Telegram refuses ``tel:`` links)."""
        block = resource_block(self.catalog, EMERGENCY_RESOURCES, settings.locale, now)
        text = self.t(settings.locale, "emergency.text") + "\n\n" + block
        return text, copy_buttons(self.catalog, None, settings.locale)

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
                data=LANG_CHOICE + code,
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

    def stats(self, settings: GroupSettings, months: Sequence[MonthCount], k: int) -> str:
        """Per closed month, most recent first: the count, "fewer than k", or "hidden" (a
        count that would let a small one elsewhere be worked out: ``bot.domain.disclosure``)."""
        loc = settings.locale

        def shown(m: MonthCount) -> str:
            if m.count is not None:
                return str(m.count)
            return self.t(
                loc, "group.hidden" if m.hidden == "complementary" else "group.fewer_than", k=k
            )

        lines = [
            self.t(loc, "group.stats_line", month=f"{m.label[5:]}/{m.label[:4]}", count=shown(m))
            for m in months
        ]
        return self.t(loc, "group.stats", months="\n".join(lines), k=k)
