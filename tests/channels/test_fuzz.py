"""Bad input: random sequences of updates never crash the bot nor corrupt a conversation.

Hypothesis draws a few teens' worth of updates, one at a time: commands (known, unknown,
with arguments, addressed to the bot), any Unicode text (emoji, right-to-left, zero-width,
10,000 characters), button presses with data that is random, forged or replayed from a
keyboard the bot really sent, stickers, photos and other media, edited messages, updates
missing optional fields, channel posts and group messages. After each update:

- no exception reached PTB's error handler;
- every request the bot made was accepted by the fake Bot API, which refuses what
  Telegram refuses (over-long texts, bad buttons, unknown chats), except the refusals
  the bot is built to handle ("message to edit not found", "not modified", deletions);
- no reply, button or log line carries a raw Telegram id or the bot token;
- every stored conversation is valid for its flow (step, history, answers, locale).

Running each example through polling would be too slow, so each update is queued at the
fake server (which learns chats and open button presses from it, as Telegram would) and
handed straight to the real ``Application.process_update``, whose Bot API calls the fake
answers in-process. One server, one bot and one
database serve the whole module; each example meets new people, but should one fail,
Hypothesis may call it flaky when shrinking (the bot's state outlives examples): the
failing update is in the report all the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.channels.telegram.app import build_application
from bot.channels.telegram.retry import RetryPolicy
from bot.content.catalog import Catalog
from bot.content.flows import BACK, SKIP
from bot.dialogue.conversation_cache import ConversationCache
from bot.dialogue.engine import SKIPPED, Engine
from bot.dialogue.service import Dialogue
from bot.domain.conversation import Conversation
from bot.privacy import pseudonym
from bot.storage.sqlite import SqliteStorage
from tests.conftest import SECRET
from tests.fakebotapi import FakeBotApi, builders
from tests.fakebotapi.inprocess import InProcessRequest

App = Application[Any, Any, Any, Any, Any, Any]
# Each example meets people, a group and a channel the bot has never seen (so that a
# failure replays the same way), with ids no text of the bot contains.
FIRST_ID, STEP = 731_000_117, 1_009
LANGUAGES = (None, "fr", "en", "en-GB", "ar", "es", "uk", "de", "")
# Refusals the bot handles by design (a new message instead of an edit; a message that
# /effacer can no longer delete; a teen who blocked the bot); anything else is a bug.
HANDLED = ("message to edit not found", "message is not modified", "message to delete not")
HANDLED += ("bot was blocked by the user",)
COMMANDS = (
    "start",
    "recommencer",
    "aide",
    "help",
    "urgence",
    "stop",
    "langue",
    "confidentialite",
    "oubli",
    "effacer",
    "carte",
    "config",
    "stats",
)
FORGED = ("victim:2:danger:nope", "start:1:who:me", "victim:9:what:threats", "lang:xx")
FORGED += ("forget:yes", "nav:start", "victim:2:where:<", "victim:2:since:-", "x" * 64)


@dataclass(repr=False)
class Rig:
    """The module's event loop, fake Bot API, bot and database, and what went wrong."""

    loop: asyncio.AbstractEventLoop
    api: FakeBotApi
    app: App
    storage: SqliteStorage
    catalog: Catalog
    errors: list[BaseException] = field(default_factory=list)
    logs: list[str] = field(default_factory=list)
    next_update: int = 1
    next_id: int = FIRST_ID

    def __repr__(self) -> str:  # Hypothesis prints the strategies' arguments
        return "Rig()"

    def strangers(self) -> People:
        """Three teens, a group and a channel the bot has never met. The teens have a
        private chat with the bot, as anyone pressing its buttons has."""
        first, self.next_id = self.next_id, self.next_id + 5 * STEP
        teens = (first, first + STEP, first + 2 * STEP)
        for teen in teens:
            self.api.add_chat(teen, chat_type="private")
        return People(teens, -(first + 3 * STEP), -(10**12 + first + 4 * STEP))

    def run(self, update: dict[str, Any]) -> None:
        """Queue ``update`` at the fake Telegram, then have the bot handle it."""
        update = {**update, "update_id": self.next_update}
        self.next_update += 1
        self.api.push_update(update)
        decoded = Update.de_json(json.loads(json.dumps(update)), self.app.bot)
        self.loop.run_until_complete(self.app.process_update(decoded))


@dataclass(frozen=True)
class People:
    teens: tuple[int, int, int]
    group: int
    channel: int

    @property
    def ids(self) -> tuple[int, ...]:
        return (*self.teens, self.group, self.channel)


class Collect(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture(scope="module")
def rig(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    loop = asyncio.new_event_loop()
    db: Path = tmp_path_factory.mktemp("fuzz") / "fuzz.sqlite3"
    storage = SqliteStorage(db)
    api = FakeBotApi()
    loop.run_until_complete(api.start())
    dialogue = Dialogue(Engine(catalog), storage, cache=ConversationCache())
    fast = RetryPolicy(telegram=(0.01,), storage=(0.01,))
    app = build_application(api.token, dialogue, SECRET, request=InProcessRequest(api), retry=fast)
    rig = Rig(loop, api, app, storage, catalog)

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            rig.errors.append(context.error)

    app.add_error_handler(on_error)
    handler = Collect(rig.logs)
    logging.getLogger().addHandler(handler)
    ours = logging.getLogger("bot")
    level = ours.level
    ours.setLevel(logging.DEBUG)  # every line the bot writes is checked
    loop.run_until_complete(app.initialize())
    assert app.post_init is not None and app.post_shutdown is not None
    loop.run_until_complete(app.post_init(app))
    try:
        yield rig
    finally:
        logging.getLogger().removeHandler(handler)
        ours.setLevel(level)
        loop.run_until_complete(app.shutdown())
        loop.run_until_complete(app.post_shutdown(app))
        loop.run_until_complete(api.stop())
        loop.close()


# --------------------------------------------------------------------------- strategies

NASTY = st.sampled_from(
    [
        "",
        " ",
        "\u200b\u200c\u200d\ufeff",  # zero-width
        "\u202eevil\u202c",  # right-to-left override
        "مرحبا، أحتاج مساعدة",  # right-to-left
        "😀" * 3000,  # 6,000 UTF-16 units
        "a" * 10_000,
        "je veux mourir",  # crisis words: the emergency numbers
        "su1c1de",
        "/",
        "/start@relais_test_bot extra words",
        "<b>bold</b> *md* _it_ [link](http://x)",
        "\x00\x01\x02",
        "💙" + "\u0301" * 500,  # combining marks
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=300))


def chat_of(user_id: int) -> dict[str, Any]:
    return builders.chat_dict(user_id, chat_type="private", first_name="Teen")


def message_in_chat(user_id: int, message_id: int) -> dict[str, Any]:
    return {"message_id": message_id, "date": 0, "chat": chat_of(user_id)}


@st.composite
def update_for(draw: st.DrawFn, rig: Rig, people: People) -> dict[str, Any]:
    """One update from one of the teens (or a channel, or a group), in any shape.

    What is drawn never depends on the bot's state (Hypothesis must be able to replay
    it): a replayed button is drawn as a number, then taken from what is on screen."""
    user = draw(st.sampled_from(people.teens))
    who = {"language_code": draw(st.sampled_from(LANGUAGES)), "first_name": "Teen"}
    kind = draw(
        st.sampled_from(
            ["command", "text", "replay", "forged", "media", "edited", "odd", "channel", "group"]
        )
    )
    if kind == "command":
        made_up = st.from_regex(r"[a-z_]{1,20}", fullmatch=True)
        name = draw(st.one_of(st.sampled_from(COMMANDS), made_up))
        args = draw(st.one_of(st.just(""), TEXT.map(lambda t: t.replace("\n", " ")[:200])))
        return builders.private_command(user, name, args, **who)
    if kind == "text":
        return builders.private_text(user, draw(TEXT), **who)
    if kind in ("replay", "forged"):
        pick = draw(st.integers(0, 10_000))
        data = draw(st.one_of(st.sampled_from(FORGED), st.text(max_size=64)))
        message_id = draw(st.integers(1, 50))
        buttons = [
            (m, str(b["callback_data"]))
            for m in rig.api.messages(user, include_deleted=True)
            for row in m.inline_keyboard
            for b in row
            if "callback_data" in b
        ]
        if kind == "replay" and buttons:  # a button the bot really showed, maybe long ago
            message, shown = buttons[pick % len(buttons)]
            return builders.callback(user, message, shown, **who)
        return builders.callback(user, message_in_chat(user, message_id), data, **who)
    if kind == "media":
        maker = draw(st.sampled_from([builders.sticker, builders.photo, builders.voice]))
        return maker(user)
    if kind == "edited":
        return builders.edited_text(user, draw(TEXT), message_id=draw(st.integers(1, 50)))
    if kind == "channel":
        return builders.channel_post(people.channel, draw(TEXT) or "post")
    if kind == "group":
        if draw(st.booleans()):
            name = draw(st.sampled_from(COMMANDS))
            return builders.group_command(people.group, user, name, bot_username="relais_test_bot")
        return builders.group_text(people.group, user, draw(TEXT) or "salut")
    # Shapes Telegram does send, with optional fields missing.
    odd = draw(st.integers(0, 5))
    if odd == 0:  # a private message with no sender
        update = builders.private_text(user, "hello")
        del update["message"]["from"]
        return update
    if odd == 1:  # a press whose message is too old to be sent along
        update = builders.callback(user, message_in_chat(user, 1), "victim:2:danger:no")
        del update["callback_query"]["message"]
        return update
    if odd == 2:  # a press without data (a game button)
        update = builders.callback(user, message_in_chat(user, 1), "x")
        del update["callback_query"]["data"]
        return update
    if odd == 3:  # a message with nothing we know in it (a dice, a story...)
        return builders.private_message(user, dice={"emoji": "🎲", "value": 3})
    if odd == 4:  # no language, no name beyond the first, no username
        return builders.private_command(user, "start", language_code=None)
    # The teen blocks the bot: Telegram tells it with a my_chat_member update.
    return builders.chat_member_update(
        user, rig.api.bot_id, "member", "kicked", is_bot=True, bot_username="relais_test_bot"
    )


# --------------------------------------------------------------------------- checks


def check_calls(rig: Rig, since: int) -> None:
    for call in rig.api.calls[since:]:
        if call.method == "getUpdates" or call.ok:
            continue
        description = str(call.response.get("description", "")) if call.response else ""
        assert any(h in description for h in HANDLED), (call.method, description)


def check_privacy(rig: Rig, since: int, people: People) -> None:
    token = rig.api.token
    for call in rig.api.calls[since:]:
        shown = json.dumps(call.params, ensure_ascii=False, default=str)
        shown = shown.replace(str(call.params.get("chat_id")), "")  # the address itself
        assert token not in shown
        for raw in people.ids:
            assert str(abs(raw)) not in shown, (call.method, "a raw id in a reply")
    for line in rig.logs:
        assert token not in line
        for raw in people.ids:
            assert str(abs(raw)) not in line, line


def check_state(rig: Rig, user: int) -> None:
    stored = rig.loop.run_until_complete(rig.storage.load(pseudonym(SECRET, "telegram", user)))
    if stored is None:
        return
    conv: Conversation = stored.conversation
    catalog = rig.catalog
    assert conv.locale in catalog.locales.by_code
    if not conv.active:
        return
    flow = catalog.flow(conv.flow or "")
    assert flow is not None and conv.step in flow.steps, (conv.flow, conv.step)
    assert conv.flow_version == flow.version
    for past in conv.history:
        if ":" in past:  # came from another flow: "flow:step"
            other_id, _, step = past.partition(":")
            other = catalog.flow(other_id)
            assert other is not None and step in other.steps, past
        else:
            assert past in flow.steps, past
    choices: dict[str, set[str]] = {}
    for loaded in catalog.flows.values():
        for step in loaded.flow.steps.values():
            if step.record:
                ids = {c.id for c in step.choices} | {SKIPPED}
                choices.setdefault(step.record, set()).update(ids)
    for dimension, answer in conv.answers.items():
        assert answer in choices.get(dimension, set()), (dimension, answer)
        assert answer not in (BACK, SKIP)


@settings(
    max_examples=100,
    deadline=None,
    database=None,  # examples run against a bot whose state outlives them: no replays
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_updates_never_crash_nor_corrupt(rig: Rig, data: st.DataObject) -> None:
    people = rig.strangers()
    rig.logs.clear()
    rig.errors.clear()
    for _ in range(data.draw(st.integers(1, 10), label="updates")):
        update = data.draw(update_for(rig, people), label="update")
        since = len(rig.api.calls)
        rig.run(update)
        assert not rig.errors, [repr(e) for e in rig.errors]
        check_calls(rig, since)
        check_privacy(rig, since, people)
        for user in people.teens:
            check_state(rig, user)
