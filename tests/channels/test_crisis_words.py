"""Every word a child sends is read, through the real Telegram path (the PTB Application
talking HTTP to the local Bot API server): a photo's caption, a command's arguments, a
``/start`` payload, an edited message. Words of crisis in any of them bring the answer
that fits first, counted in ``/metrics`` and in the event log by tier and source, never
with the words. Also: the emergency numbers stay on screen after "yes, in danger", and a
crisis text still gets its answer while the database is failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.backlog import Arrival, Backlog, Kind
from bot.channels.telegram.ordering import PerChatUpdateProcessor
from bot.channels.telegram.retry import RetryPolicy
from bot.content.catalog import Catalog
from bot.dialogue.engine import Engine
from bot.dialogue.service import Dialogue
from bot.metrics import Metrics
from bot.storage.sqlite import SqliteStorage
from tests.crowd import eventually
from tests.fakebotapi import FakeBotApi, builders
from tests.fakebotapi.server import SentMessage
from tests.harness import EVER, relais

FAST = RetryPolicy(telegram=(0.1, 0.2, 0.4), storage=(0.2, 0.4))
WORDS = "je veux mourir"  # today's word lists hold it (tier "self")


def copied(message: SentMessage) -> list[str]:
    keyboard = message.inline_keyboard
    return [b["copy_text"]["text"] for row in keyboard for b in row if "copy_text" in b]


def is_self_answer(catalog: Catalog, message: SentMessage, locale: str = "fr") -> bool:
    text = message.text or ""
    return text.startswith(catalog.locales.text(locale, "crisis.self")) and copied(message) == [
        "3114",
        "112",
    ]


@pytest.fixture
def counted(catalog: Catalog, tmp_path: Path) -> tuple[Dialogue, Metrics]:
    metrics = Metrics()
    storage = SqliteStorage(tmp_path / "crisis.sqlite3")
    return Dialogue(Engine(catalog), storage, observer=metrics), metrics


async def test_words_in_a_caption_a_command_a_start_payload_and_an_edit_are_answered(
    api: FakeBotApi, catalog: Catalog, counted: tuple[Dialogue, Metrics]
) -> None:
    dialogue, metrics = counted
    async with relais(api, dialogue):
        caption = api.user(4101)
        replies = await caption.send_photo(caption=WORDS)
        assert is_self_answer(catalog, replies[0])

        command = api.user(4102)
        await command.send("/start")
        replies = await command.send(f"/aide {WORDS}")
        assert is_self_answer(catalog, replies[0])
        # Then what the command asked for: the help, with 3018.
        assert replies[1].text.startswith(catalog.locales.text("fr", "command.help")[:30])

        payload = api.user(4103)  # a t.me/<bot>?start=je-veux-mourir link
        replies = await payload.send("/start je-veux-mourir")
        assert is_self_answer(catalog, replies[0])
        assert payload.last_message.text == catalog.locales.text("fr", "start.who.question")

        edited = api.user(4104)
        await edited.send("/start")
        await edited.send("bonjour")
        typed = edited.last_sent_message_id
        assert typed is not None
        replies = await edited.edit(typed, WORDS)
        assert is_self_answer(catalog, replies[0])
        # An edit without words of crisis says nothing.
        assert await edited.edit(typed, "bonjour !") == []

        events = await dialogue.storage.fetch_events(*EVER)
    counts = {
        source: metrics.value("relais_crisis_answers_total", tier="self", source=source)
        for source in ("caption", "command", "start", "edited", "text")
    }
    assert counts == {"caption": 1, "command": 1, "start": 1, "edited": 1, "text": 0}
    assert metrics.value("relais_emergency_shown_total") == 4
    crisis = sorted(
        (e.dimension, e.choice) for e in events if e.kind == "emergency_shown" and e.choice
    )
    assert crisis == [
        ("caption", "self"),
        ("command", "self"),
        ("edited", "self"),
        ("start", "self"),
    ]
    assert b"relais_crisis_answers_total{source=" in metrics.render()
    assert all(call.ok for call in api.calls if call.method != "getUpdates")


async def test_edited_messages_are_asked_for(
    api: FakeBotApi, dialogue_factory: Callable[..., Dialogue]
) -> None:
    """Telegram sends no edits to a bot that does not list them in ``allowed_updates``."""
    async with relais(api, dialogue_factory()):
        teen = api.user(4105)
        await teen.send("/start")
        api.push_update(builders.edited_text(4105, WORDS, message_id=teen.last_sent_message_id))
        await eventually(lambda: len(teen.messages) == 3, what="the answer to the edit")


@pytest.mark.parametrize("locale", ["fr", "en", "es", "ar", "uk"])
async def test_unrecognised_text_gets_the_safety_line_with_the_question(
    api: FakeBotApi, catalog: Catalog, dialogue_factory: Callable[..., Dialogue], locale: str
) -> None:
    texts = catalog.locales
    async with relais(api, dialogue_factory()):
        teen = api.user(4200, language_code=locale)
        await teen.send("/start")
        await teen.press(texts.text(locale, "start.who.me"))
        replies = await teen.send("qsdfgh")
        assert texts.text(locale, "crisis.safety") in (replies[0].text or "")
        assert replies[-1].text == texts.text(locale, "victim.danger.question")


async def test_after_yes_in_danger_pressing_on_leaves_the_numbers_on_screen(
    api: FakeBotApi, catalog: Catalog, dialogue_factory: Callable[..., Dialogue]
) -> None:
    texts = catalog.locales
    async with relais(api, dialogue_factory()):
        teen = api.user(4300)
        await teen.send("/start")
        await teen.press(texts.text("fr", "start.who.me"))
        await teen.press(texts.text("fr", "victim.danger.yes"))
        numbers = teen.last_message
        assert (numbers.text or "").startswith(texts.text("fr", "victim.emergency.text"))
        shown = numbers.text
        edits_before = len(api.calls_of("editMessageText"))
        replies = await teen.press(texts.text("fr", "common.continue"))
        assert [m.text for m in replies] == [texts.text("fr", "victim.what.question")]
        assert replies[0].message_id != numbers.message_id
        edited = [
            c
            for c in api.calls_of("editMessageText")[edits_before:]
            if c.params.get("message_id") == numbers.message_id
        ]
        assert edited == []  # the Bot API server saw no edit of the numbers
        still = api.message(teen.chat_id, numbers.message_id)
        assert still is not None and not still.deleted and still.text == shown


async def test_a_crisis_text_while_the_database_fails_gets_its_answer_first(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    """Read-only, the way a full disk makes it: every write refused (as in test_faults)."""
    metrics = Metrics()
    storage = SqliteStorage(tmp_path / "down.sqlite3")
    dialogue = Dialogue(Engine(catalog), storage, observer=metrics)
    async with relais(api, dialogue, retry=FAST):
        teen = api.user(4400, language_code="fr")
        await teen.send("/start")
        await storage.query("PRAGMA query_only = ON")
        api.push_update(builders.private_text(4400, WORDS))
        await eventually(lambda: len(teen.messages) == 4, what="the answer and the apology")
        answer, apology = teen.messages[2:]
        assert is_self_answer(catalog, answer)
        assert (apology.text or "").startswith(texts_start(catalog, "error.storage"))
        await storage.query("PRAGMA query_only = OFF")
    assert metrics.value("relais_crisis_answers_total", tier="self", source="text") == 1


def texts_start(catalog: Catalog, key: str) -> str:
    return catalog.locales.text("fr", key, help="")[:40]


async def test_a_flooding_chat_never_loses_words_of_crisis_in_a_caption_or_a_command(
    catalog: Catalog,
) -> None:
    """The per-chat backlog drops repeated updates of a flooding chat; a caption or a
    command's arguments holding words of crisis are kept, like a crisis text."""
    processor = PerChatUpdateProcessor(
        1, urgent=lambda text: catalog.crisis.detect(text) is not None
    )
    release = asyncio.Event()
    ran: list[int] = []

    async def work(n: int) -> None:
        await release.wait()
        ran.append(n)

    flooder = 4500
    updates = [builders.photo(flooder, caption="regarde") for _ in range(10)]
    updates += [builders.private_command(flooder, "aide", "") for _ in range(10)]
    updates += [
        builders.photo(flooder, caption=WORDS),
        builders.private_command(flooder, "aide", WORDS),
    ]
    tasks = []
    for n, data in enumerate(updates, start=1):
        parsed = Update.de_json({"update_id": n, **data}, None)
        assert parsed is not None
        tasks.append(asyncio.create_task(processor.process_update(parsed, work(n))))
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(*tasks)
    assert ran[-2:] == [21, 22]  # both kept, after the few ordinary ones let through
    assert len(ran) < 10


def test_a_group_help_command_with_words_of_crisis_passes_the_one_card_a_minute_rule() -> None:
    backlog = Backlog(group_once={"aide": "card"})
    aide = Arrival(-4600, Kind.COMMAND, group=True, command="aide")
    assert backlog.admit(aide, lambda: False)
    assert not backlog.admit(aide, lambda: False)
    assert backlog.admit(aide, lambda: True)


# -- groups ------------------------------------------------------------------------------------

CLASS = -4700  # a class group with the bot as an admin, a member who types after /aide
PUPIL = 4701


def seat_class(api: FakeBotApi) -> None:
    api.add_chat(CLASS, chat_type="group")
    api.set_chat_member(CLASS, PUPIL, "member")
    api.set_chat_member(
        CLASS, api.bot_id, "administrator", can_pin_messages=True, can_delete_messages=True
    )


def pupil_command(api: FakeBotApi, command: str, args: str) -> dict[str, object]:
    update = builders.group_command(CLASS, PUPIL, command, args=args, bot_username=api.bot_username)
    update["message"]["from"].update(first_name="Zoé", username="zoe_2011")  # type: ignore[index]
    return update


async def group_posts(api: FakeBotApi, update: dict[str, object], expect: int) -> list[SentMessage]:
    revision = api.revision
    await api.dispatch(update)
    await eventually(
        lambda: len(api.messages_changed_since(CLASS, revision)) >= expect, what="group answer"
    )
    await api.settle(quiet=0.1)
    return api.messages_changed_since(CLASS, revision)


async def test_words_of_crisis_after_a_group_command_are_answered_in_the_group(
    api: FakeBotApi, catalog: Catalog, counted: tuple[Dialogue, Metrics]
) -> None:
    dialogue, metrics = counted
    seat_class(api)
    async with relais(api, dialogue, group_messages_per_minute=100_000, group_help_window=0):
        update = pupil_command(api, "aide", WORDS)
        command_id = update["message"]["message_id"]  # type: ignore[index]
        posts = await group_posts(api, update, 1)
        answer = posts[0]
        assert is_self_answer(catalog, answer)
        # Never quoting the words, naming or pointing at anyone.
        text = answer.text or ""
        assert WORDS not in text and "Zoé" not in text and "zoe_2011" not in text
        sent = [c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == CLASS]
        assert not any(
            "reply_parameters" in c.params or "reply_to_message_id" in c.params for c in sent
        )
        private = [b["url"] for row in answer.inline_keyboard for b in row if "url" in b]
        assert len(private) == 1 and private[0].startswith(
            f"https://t.me/{api.bot_username}?start=g"
        )
        # The crisis answer carries the private button: no second /aide card after it.
        assert len(posts) == 1
        assert api.is_deleted(CLASS, command_id)  # discretion: the words leave the group

        # /urgence still gives the full block after the answer.
        posts = await group_posts(api, pupil_command(api, "urgence", WORDS), 2)
        assert is_self_answer(catalog, posts[0])
        assert (posts[1].text or "").startswith(catalog.locales.text("fr", "emergency.text"))

        # Without words of crisis, /aide is the usual card.
        posts = await group_posts(api, pupil_command(api, "aide", "svp"), 1)
        assert not is_self_answer(catalog, posts[0])
        events = await dialogue.storage.fetch_events(*EVER)
    assert metrics.value("relais_crisis_answers_total", tier="self", source="group") == 2
    # Logged as a private answer is, by tier and source, and nothing that leads to the
    # group or the member: no group key (origin), no language, no conversation.
    assert [(e.kind, e.dimension, e.choice, e.origin, e.locale) for e in events] == [
        ("emergency_shown", "group", "self", None, None)
    ] * 2
    assert len({e.session for e in events}) == 2  # each answer alone, tied to nothing


async def test_group_emergency_and_crisis_answers_have_numbers_to_copy_and_the_private_button(
    api: FakeBotApi, catalog: Catalog, dialogue_factory: Callable[..., Dialogue]
) -> None:
    """Telegram refuses tel: links: in a group too, the numbers come as copy_text buttons,
    as in a private chat, above the button to the private chat."""
    seat_class(api)
    async with relais(api, dialogue_factory(), group_messages_per_minute=100_000):
        [urgence] = await group_posts(api, pupil_command(api, "urgence", ""), 1)
        # A member's /carte is refused, after the answer to the danger it speaks of.
        crisis, _ = await group_posts(api, pupil_command(api, "carte", "il m'a menacé de mort"), 2)
    assert (urgence.text or "").startswith(catalog.locales.text("fr", "emergency.text"))
    assert copied(urgence) == ["112", "3114"]
    assert (crisis.text or "").startswith(catalog.locales.text("fr", "crisis.others"))
    assert copied(crisis) == ["17", "112"]
    for answer in (urgence, crisis):
        *_, last_row = answer.inline_keyboard
        [private] = [b["url"] for b in last_row]
        assert private.startswith(f"https://t.me/{api.bot_username}?start=g")


async def test_a_group_command_with_words_of_crisis_is_answered_while_the_database_fails(
    api: FakeBotApi, catalog: Catalog, tmp_path: Path
) -> None:
    metrics = Metrics()
    storage = SqliteStorage(tmp_path / "group-down.sqlite3")
    dialogue = Dialogue(Engine(catalog), storage, observer=metrics)
    seat_class(api)
    async with relais(api, dialogue, retry=FAST, group_messages_per_minute=100_000):
        await storage.query("PRAGMA query_only = ON")
        posts = await group_posts(api, pupil_command(api, "aide", WORDS), 2)
        await storage.query("PRAGMA query_only = OFF")
    assert is_self_answer(catalog, posts[0])
    assert (posts[1].text or "").startswith(texts_start(catalog, "error.storage"))
    assert metrics.value("relais_crisis_answers_total", tier="self", source="group") == 1


# -- edited commands in a group ------------------------------------------------------------

CORNER = -4900  # a group where the bot is a plain member: the members' commands stay
TEEN = 4901


def corner_command(api: FakeBotApi, args: str, *, edit_of: int | None = None) -> dict[str, Any]:
    if edit_of is None:
        return builders.group_command(
            CORNER, TEEN, "aide", args=args, bot_username=api.bot_username
        )
    return builders.edited_group_command(
        CORNER, TEEN, "aide", args=args, message_id=edit_of, bot_username=api.bot_username
    )


async def corner_posts(api: FakeBotApi, update: dict[str, Any]) -> list[SentMessage]:
    """What the bot posts in the group for ``update``, once every update is handled."""
    revision = api.revision
    await api.dispatch(update)
    await api.settle(quiet=0.2)
    return api.messages_changed_since(CORNER, revision)


async def test_an_edited_group_command_is_read_for_words_of_crisis_and_answered_once(
    api: FakeBotApi, catalog: Catalog, counted: tuple[Dialogue, Metrics]
) -> None:
    """``/aide bonjour`` edited into ``/aide je veux mourir``: the answer to the danger, in
    the group, once. Retouching the same message repeats nothing (the numbers are on
    screen just above); words of another danger get their own numbers; an edit without
    words of crisis says nothing (the card was given when it was sent)."""
    dialogue, metrics = counted
    api.add_chat(CORNER, chat_type="group")
    api.set_chat_member(CORNER, TEEN, "member")
    async with relais(api, dialogue, group_messages_per_minute=100_000, group_help_window=0):
        sent = corner_command(api, "bonjour")
        message_id = sent["message"]["message_id"]
        [card] = await corner_posts(api, sent)
        assert not is_self_answer(catalog, card)

        [answer] = await corner_posts(api, corner_command(api, WORDS, edit_of=message_id))
        assert is_self_answer(catalog, answer)
        [private] = [b["url"] for b in answer.inline_keyboard[-1]]
        assert private.startswith(f"https://t.me/{api.bot_username}?start=g")
        text = answer.text or ""
        assert WORDS not in text and "bonjour" not in text

        # The same words retouched: nothing more in the group.
        again = corner_command(api, f"{WORDS} vraiment", edit_of=message_id)
        assert await corner_posts(api, again) == []
        # Danger from someone, in the same message: its own numbers, once.
        others = corner_command(api, "il m'a menacé de mort", edit_of=message_id)
        [threat] = await corner_posts(api, others)
        assert (threat.text or "").startswith(catalog.locales.text("fr", "crisis.others"))
        assert (
            await corner_posts(
                api, corner_command(api, "il m'a menacé de mort !", edit_of=message_id)
            )
            == []
        )
        # Words of crisis sent at once, then retouched: answered when sent, not again.
        first = corner_command(api, WORDS)
        [sent_answer] = await corner_posts(api, first)
        assert is_self_answer(catalog, sent_answer)
        retouched = corner_command(api, WORDS + " !", edit_of=first["message"]["message_id"])
        assert await corner_posts(api, retouched) == []
        # An edit without words of crisis: silence, no second card.
        calm = corner_command(api, "merci", edit_of=first["message"]["message_id"])
        assert await corner_posts(api, calm) == []
        events = await dialogue.storage.fetch_events(*EVER)
    answered = {
        tier: metrics.value("relais_crisis_answers_total", tier=tier, source="group")
        for tier in ("self", "others")
    }
    assert answered == {"self": 2, "others": 1}
    assert sorted(e.choice or "" for e in events if e.dimension == "group") == [
        "others",
        "self",
        "self",
    ]
    assert all(call.ok for call in api.calls if call.method not in ("getUpdates", "deleteMessage"))
