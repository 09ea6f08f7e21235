"""The yardstick: the same conversation written by hand with PTB's ``ConversationHandler``.

What a competent developer would write without Relais: one state per question, texts and
keyboards built once at start-up, answers in ``context.user_data``, ``if`` statements for
the advice. It sends exactly the messages Relais sends on the benchmark's path (welcome
and first question; an answer and an edit per press; a new message after the result), so
the two do the same Telegram work and differ only in how they decide.

Its texts are taken from Relais's French locale once, at build time, so the messages have
the same length; the opening hours are frozen at start-up (a hand-written bot rarely
computes "open now").
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BasePersistence,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
)
from telegram.request import BaseRequest
from telegram.warnings import PTBUserWarning

from bot.content.catalog import Catalog
from bot.dialogue.render import help_line

App = Application[Any, Any, Any, Any, Any, Any]
BACK = "<"

# (question key, record as, [(choice id, label key)], next step)
QUESTIONS: dict[str, tuple[str, str, list[tuple[str, str]], str]] = {
    "who": (
        "start.who.question",
        "role",
        [("me", "start.who.me"), ("witness", "start.who.witness"), ("adult", "start.who.adult")],
        "danger",
    ),
    "danger": (
        "victim.danger.question",
        "danger",
        [("yes", "victim.danger.yes"), ("no", "victim.danger.no")],
        "what",
    ),
    "what": (
        "victim.what.question",
        "kind",
        [(c, f"victim.what.{c}") for c in ("insults", "threats", "images", "fake", "raid")],
        "where",
    ),
    "where": (
        "victim.where.question",
        "platform",
        [
            (p, f"platform.{p}")
            for p in ("instagram", "tiktok", "snapchat", "whatsapp", "discord", "youtube", "x")
        ],
        "since",
    ),
    "since": (
        "victim.since.question",
        "duration",
        [(d, f"victim.since.{d}") for d in ("days", "weeks", "months")],
        "result",
    ),
    "result": (
        "victim.adult.question",
        "adult",
        [("yes", "victim.adult.yes"), ("no", "victim.adult.no")],
        "age",
    ),
    "age": (
        "victim.age.question",
        "age",
        [
            ("under13", "victim.age.under13"),
            ("13-14", "victim.age.13_14"),
            ("15-17", "victim.age.15_17"),
            ("18plus", "victim.age.18plus"),
        ],
        "closing",
    ),
}
ORDER = list(QUESTIONS)
KIND_ADVICE = {"images": "advice.sextortion", "threats": "advice.threats", "fake": "advice.fake"}


class Texts:
    """Every string and keyboard, built once."""

    def __init__(self, catalog: Catalog) -> None:
        def t(key: str, **values: object) -> str:
            return catalog.locales.text("fr", key, **values)

        self.t = t
        self.help = help_line(catalog, "fr", dt.datetime.now(dt.UTC))
        self.welcome = t("welcome", help=self.help)
        self.questions = {step: t(q[0]) for step, q in QUESTIONS.items()}
        self.keyboards = {}
        for index, (step, (_, _, choices, _)) in enumerate(QUESTIONS.items()):
            rows = [
                [InlineKeyboardButton(t(label), callback_data=f"{step}:{choice}")]
                for choice, label in choices
            ]
            nav = [InlineKeyboardButton(t("button.skip"), callback_data=f"{step}:-")]
            if index:
                nav.insert(0, InlineKeyboardButton(t("button.back"), callback_data=f"{step}:<"))
            rows.append(nav)
            self.keyboards[step] = InlineKeyboardMarkup(rows)
        self.end_rows = [
            [
                InlineKeyboardButton(t("button.copy_number"), copy_text=CopyTextButton("3018")),
                InlineKeyboardButton(t("button.chat"), url="https://3018.fr"),
            ],
            [InlineKeyboardButton(t("button.restart"), callback_data="restart")],
        ]
        self.labels = {
            (step, choice): t(label) for step, q in QUESTIONS.items() for choice, label in q[2]
        }
        self.platform_advice = {
            p: t(f"advice.platform.{p}") for p, _ in QUESTIONS["where"][2] if p != "other"
        }
        self.advice = {key: t(key) for key in ("advice.evidence", "advice.dont_reply")}
        self.kind_advice = {k: t(v) for k, v in KIND_ADVICE.items() if v != "advice.fake"}
        self.kind_advice["fake"] = t("advice.fake_account")
        self.law, self.law_school = t("advice.law"), t("advice.law_school")
        self.long_running, self.not_your_fault = (
            t("advice.long_running"),
            t("advice.not_your_fault"),
        )
        self.result_intro = t("victim.result.intro")
        self.closing = t("victim.closing.text")
        self.no_adult, self.young = t("advice.no_adult_yet"), t("advice.young")

    def result(self, answers: dict[str, str]) -> str:
        kind, platform = answers.get("kind", ""), answers.get("platform", "")
        parts = [self.result_intro]
        if kind in self.kind_advice:
            parts.append(self.kind_advice[kind])
        parts += [self.advice["advice.evidence"], self.advice["advice.dont_reply"]]
        if platform in self.platform_advice:
            parts.append(self.platform_advice[platform])
        if answers.get("duration") in ("weeks", "months"):
            parts.append(self.long_running)
        parts.append(self.law_school if kind == "school" else self.law)
        parts += [self.not_your_fault, self.help, self.questions["result"]]
        return "\n\n".join(parts)

    def result_keyboard(self, answers: dict[str, str]) -> InlineKeyboardMarkup:
        """The result's buttons: its question, a summary to copy, 3018, start again."""
        picked = [("what", answers.get("kind")), ("where", answers.get("platform"))]
        picked.append(("since", answers.get("duration")))
        summary = " · ".join(self.labels[(s, c)] for s, c in picked if (s, c) in self.labels)
        copy = CopyTextButton(f"Résumé Relais pour le 3018 :\n{summary}")
        rows = [list(row) for row in self.keyboards["result"].inline_keyboard]
        rows.append([InlineKeyboardButton(self.t("button.summary"), copy_text=copy)])
        return InlineKeyboardMarkup(rows + self.end_rows)

    def closing_text(self, answers: dict[str, str]) -> str:
        parts = [self.closing]
        if answers.get("adult") != "yes":
            parts.append(self.no_adult)
        if answers.get("age") in ("under13", "13-14"):
            parts.append(self.young)
        parts.append(self.help)
        return "\n\n".join(parts)


def build_handwritten(
    token: str,
    catalog: Catalog,
    request: BaseRequest,
    persistence: BasePersistence[Any, Any, Any] | None = None,
) -> App:
    """The hand-written bot on ``request``; with ``persistence``, a persistent one."""
    texts = Texts(catalog)

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.effective_chat is not None and context.user_data is not None
        context.user_data.clear()
        context.user_data["history"] = []
        bot = context.bot
        await bot.send_message(update.effective_chat.id, texts.welcome)
        await bot.send_message(
            update.effective_chat.id, texts.questions["who"], reply_markup=texts.keyboards["who"]
        )
        return ORDER.index("who")

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        assert query is not None and query.data and context.user_data is not None
        data = context.user_data
        step, _, choice = query.data.partition(":")
        await query.answer()
        history: list[str] = data.setdefault("history", [])
        if choice == BACK and history:
            target = history.pop()
            data.pop(QUESTIONS[target][1], None)
        else:
            data[QUESTIONS[step][1]] = choice
            history.append(step)
            target = QUESTIONS[step][3]
        if target == "closing":
            await query.edit_message_text(texts.closing_text(data))
            return ConversationHandler.END
        text = texts.result(data) if target == "result" else texts.questions[target]
        keyboard = texts.result_keyboard(data) if target == "result" else texts.keyboards[target]
        if step == "result" and choice != BACK:  # the help stays on screen
            assert query.message is not None
            await context.bot.send_message(query.message.chat.id, text, reply_markup=keyboard)
        else:
            await query.edit_message_text(text, reply_markup=keyboard)
        return ORDER.index(target)

    with warnings.catch_warnings():  # "per_message=False": intended, one state per user
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CommandHandler("start", start)],
            states={
                ORDER.index(step): [CallbackQueryHandler(press, pattern=f"^{step}:")]
                for step in ORDER
            },
            fallbacks=[CommandHandler("start", start)],
            name="victim",
            persistent=persistence is not None,
        )
    builder = ApplicationBuilder().token(token).request(request).updater(None)
    if persistence is not None:
        builder = builder.persistence(persistence)
    application = builder.build()
    application.add_handler(conversation)
    return application
