"""The Telegram channel: the real PTB Application, answered by the fake Bot API.

A simulated teen presses real buttons; we assert what appears on their screen, and that
restarts, stickers, forged buttons and very long texts never leave them without an answer.
Texts are checked by their locale key (``tests/texts.py``), buttons by key or callback
data. The first test is the exception: end to end over HTTP polling, it checks the French
copy itself, so a wording change there is expected to need it updated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.content.catalog import Catalog
from bot.dialogue.service import Dialogue
from tests.fakebotapi import FakeBotApi, builders
from tests.harness import relais, relais_in_process
from tests.texts import Texts


def keyboard_data(message: Any) -> list[str]:
    return [
        b["callback_data"] for row in message.inline_keyboard for b in row if "callback_data" in b
    ]


async def test_start_to_help_in_five_taps_with_the_french_copy(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    """Copy check, end to end: five taps from /start to 3018's help, in French words."""
    async with relais(api, dialogue_factory()):
        teen = api.user(2001, language_code="fr")
        first = await teen.send("/start")
        # The very first reply already carries 3018, its hours and the chat link.
        assert "3018" in first[0].text and "https://3018.fr" in first[0].text
        assert "9h–23h" in first[0].text
        assert first[1].text == "Pour qui viens-tu ?"
        await teen.press("Ça m'arrive à moi")
        assert teen.last_message.text.startswith("D'abord")
        assert ["← Retour", "Je préfère ne pas dire"] in teen.buttons()
        await teen.press("Non")
        assert teen.last_message.text == "Qu'est-ce qui se passe ?"
        assert ["← Retour", "Je préfère ne pas dire"] in teen.buttons()
        await teen.press("Menaces")
        await teen.press("Discord")
        final = await teen.press("Des mois")
        text = final[-1].text
        assert "3018" in text and "https://3018.fr" in text
        assert "discord.com/safety" in text  # platform-specific reporting
        assert "17" in text  # threats advice names the police
        assert ("ouvert maintenant" in text) or ("fermé maintenant" in text)
        assert "un adulte de confiance est-il au courant" in text
        assert teen.buttons() == [
            ["Oui", "Pas encore"],
            ["← Retour", "Je préfère ne pas dire"],
            ["📋 Copier mon résumé pour le 3018"],
            ["📋 Copier le numéro 3018", "💬 Chat du 3018"],
            ["🔁 Recommencer"],
        ]
        keyboard = teen.last_message.inline_keyboard
        assert keyboard[2][0]["copy_text"]["text"] == (
            "Résumé Relais pour le 3018 :\nMenaces · Discord · Des mois"
        )
        assert keyboard[3][0]["copy_text"]["text"] == "3018"
        assert keyboard[3][1]["url"] == "https://3018.fr"
        # Every press was answered (no spinner left on the teen's phone).
        assert len(api.calls_of("answerCallbackQuery")) == 5
        # The keyboard was replaced in place: one message per step, not a pile of them.
        assert len(teen.messages) == 2
        # The optional follow-up keeps the help on screen and asks in a new message.
        await teen.press("Pas encore")
        assert len(teen.messages) == 3 and "3018" in teen.messages[1].text
        closing = await teen.press("15–17 ans")
        assert "les écoutants du 3018 peuvent être cet adulte" in closing[-1].text


async def test_english_speaker_gets_english_until_choosing_french(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], catalog: Catalog, fr: Texts
) -> None:
    en = Texts(catalog, "en")
    async with relais_in_process(api, dialogue_factory()):
        teen = api.user(2002, language_code="en-GB")
        first = await teen.send("/start")
        assert en.starts(first[0].text, "welcome")
        assert en("resources.fr-3018.hours") in first[0].text
        await teen.send("/langue")
        await teen.press(fr("meta.name"))
        assert any(fr.said(m.text, "language.changed") for m in teen.messages)
        assert teen.last_message.text == fr("start.who.question")


async def test_restart_mid_flow_resumes_at_same_step(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], tmp_path: Path, fr: Texts
) -> None:
    db = tmp_path / "restart.sqlite3"
    teen = api.user(2003)
    async with relais_in_process(api, dialogue_factory(db)):
        await teen.send("/start")
        await teen.press(fr("start.who.me"))
        await teen.press(fr("victim.danger.no"))
        await teen.press(fr("victim.what.insults"))
        assert teen.last_message.text == fr("victim.where.question")
    # A brand-new Application and storage object: only the database file remains.
    async with relais_in_process(api, dialogue_factory(db)):
        await teen.press(fr("platform.snapchat"))
        assert teen.last_message.text == fr("victim.since.question")
        final = await teen.press(fr("victim.since.days"))
        assert fr.said(final[-1].text, "advice.platform.snapchat")


async def test_sticker_forged_button_and_long_text_get_calm_answers(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    async with relais_in_process(api, dialogue_factory()):
        teen = api.user(2004)
        await teen.send("/start")
        await teen.press(fr("start.who.me"))
        question = teen.last_message

        replies = await teen.send_sticker()
        assert replies[0].text == fr("nudge.unsupported")
        assert replies[-1].text == question.text  # the question again, with its buttons

        replies = await teen.press_data(question.message_id, "victim:2:danger:nope")
        assert replies[0].text == fr("nudge.stale")
        assert keyboard_data(replies[-1])[0] == "victim:2:danger:yes"

        replies = await teen.press_data(question.message_id, "x" * 64)
        assert replies[0].text == fr("nudge.stale")

        replies = await teen.send("a" * 5000)
        assert replies[0].text == fr("nudge.buttons") + "\n" + fr("crisis.safety")
        assert replies[-1].text == question.text

        replies = await teen.send_photo()
        assert replies[0].text == fr("nudge.photo")
        # Nothing failed on the way: every call the bot made was accepted.
        assert all(call.ok for call in api.calls)


async def test_stale_button_after_restart_command(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    async with relais_in_process(api, dialogue_factory()):
        teen = api.user(2005)
        await teen.send("/start")
        await teen.press(fr("start.who.me"))
        old = teen.last_message
        await teen.press(fr("victim.danger.no"))
        await teen.send("/recommencer")
        replies = await teen.press_data(old.message_id, "victim:2:what:insults")
        assert replies[0].text == fr("nudge.stale")
        assert replies[-1].text == fr("start.who.question")


async def test_help_stop_emergency_and_typed_text_each_give_3018_or_the_numbers(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], catalog: Catalog, fr: Texts
) -> None:
    async with relais_in_process(api, dialogue_factory()):
        teen = api.user(2006)
        help_ = await teen.send("/aide")
        assert fr.said(help_[0].text, "command.help") and "3018" in help_[0].text
        urgent = await teen.send("/urgence")
        assert fr.starts(urgent[0].text, "emergency.text")
        for rid in ("fr-112", "fr-17", "fr-114", "fr-3114", "fr-119"):
            number = catalog.resources[rid].phone or catalog.resources[rid].sms
            assert number and number in urgent[0].text, rid
        stop = await teen.send("/stop")
        assert fr.starts(stop[0].text, "command.stop") and "3018" in stop[0].text
        assert teen.buttons() == [[fr("button.start")]]
        text = await teen.send("bonjour")
        assert fr.starts(text[0].text, "nudge.start") and "3018" in text[0].text
        # The command menu was registered at start.
        assert api.calls_of("setMyCommands")


async def test_blocked_user_does_not_crash_the_bot(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue], fr: Texts
) -> None:
    async with relais_in_process(api, dialogue_factory()):
        teen = api.user(2007)
        await teen.send("/start")
        api.block(2007)
        await api.dispatch(builders.private_text(2007, "hello"))
        assert api.calls[-1].status == 403  # the answer was refused: the teen blocked us
        api.block(2007, blocked=False)
        other = api.user(2008)
        replies = await other.send("/start")
        assert fr.starts(replies[0].text, "welcome") and "3018" in replies[0].text


async def test_a_flow_changed_mid_conversation_apologises_and_resumes_nearby(
    api: FakeBotApi, tmp_path: Path, fr: Texts
) -> None:
    """A volunteer removes a question and restarts the bot: people in the middle of it
    get a short apology and the nearest question that still exists, never a dead button."""
    import shutil

    from bot.config import PROJECT_ROOT
    from bot.dialogue.checks import load_catalog
    from bot.dialogue.engine import Engine
    from bot.storage.sqlite import SqliteStorage

    shutil.copytree(PROJECT_ROOT / "flows", tmp_path / "flows")
    db = tmp_path / "versions.sqlite3"

    def dialogue() -> Dialogue:
        catalog = load_catalog(tmp_path / "flows", PROJECT_ROOT / "locales")
        return Dialogue(Engine(catalog), SqliteStorage(db))

    teen = api.user(2009)
    async with relais_in_process(api, dialogue()):
        await teen.send("/start")
        await teen.press(fr("start.who.me"))
        await teen.press(fr("victim.danger.no"))
        await teen.press(fr("victim.what.insults"))
        assert teen.last_message.text == fr("victim.where.question")
    victim = tmp_path / "flows" / "victim.yaml"
    text = victim.read_text(encoding="utf-8").replace("version: 2", "version: 3")
    # The question "where" is renamed "app": the old buttons point at a step that is gone.
    text = text.replace("next: where", "next: app").replace("skip: where", "skip: app")
    victim.write_text(text.replace("  where:\n", "  app:\n"), encoding="utf-8")
    async with relais_in_process(api, dialogue()):
        replies = await teen.press(fr("platform.snapchat"))  # a button of the removed question
        assert replies[0].text == fr("flow.updated")
        assert teen.last_message.text == fr("victim.what.question")
        await teen.press(fr("victim.what.threats"))
        assert teen.last_message.text == fr("victim.where.question")
        await teen.press(fr("platform.snapchat"))
        assert teen.last_message.text == fr("victim.since.question")
        final = await teen.press(fr("victim.since.months"))
        assert fr.said(final[-1].text, "victim.result.intro") and "3018" in final[-1].text
