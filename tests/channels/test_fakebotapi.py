"""Tests of the fake Telegram Bot API, driven by the real python-telegram-bot.

Why: every end-to-end test of Relais trusts this fake.  If it answered in a shape PTB
cannot parse, or mis-modelled a Telegram error, those tests would pass for the wrong
reasons.  So each behaviour here is observed through PTB itself (``telegram.Bot`` /
``Application`` over real HTTP), never by calling the server's internals.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommandScopeAllGroupChats,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberOwner,
    ChatMemberRestricted,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.fakebotapi import FakeBotApi, application_builder, builders, running
from tests.fakebotapi.inprocess import InProcessRequest

USER = 1001
GROUP = -4001


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns (PTBDeprecationWarning) every time it builds a ``RetryAfter`` unless
    ``PTB_TIMEDELTA`` opts in to timedelta periods; under ``-W error`` a 429 would then
    surface as that warning instead of ``RetryAfter``."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(bot_username="relais_test_bot") as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    """A bare PTB ``Bot`` on the fake, for one-request checks."""
    async with Bot(api.token, base_url=api.base_url) as b:
        yield b


def _keyboard(*labels_and_data: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in labels_and_data]
    )


# --------------------------------------------------------------------------- full PTB loop


async def test_application_echo_and_button_over_real_polling(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"Bienvenue {context.args}", reply_markup=_keyboard(("Encore", "more"))
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(
            f"echo: {update.effective_message.text}",
            reply_markup=_keyboard(("Encore", "more"), ("Fini", "done")),
        )

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"pressed {query.data}")

    app = application_builder(api).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))

    async with running(app, api):
        user = api.user(USER, language_code="en")

        replies = await user.send("/start promo")
        assert [m.text for m in replies] == ["Bienvenue ['promo']"]

        replies = await user.send("bonjour <b>")
        assert [m.text for m in replies] == ["echo: bonjour <b>"]
        assert user.buttons() == [["Encore"], ["Fini"]]
        echo_msg = user.last_message

        edited = await user.press("Fini")
        assert [(m.message_id, m.text) for m in edited] == [(echo_msg.message_id, "pressed done")]
        assert user.last_answer is not None and user.last_answer["text"] == "ok"
        # Like Telegram: editing the text without reply_markup removed the keyboard...
        assert echo_msg.reply_markup is None
        # ...so the latest keyboard is the /start one again.
        assert user.buttons() == [["Encore"]]

    sends = api.calls_of("sendMessage")
    assert [c.params["chat_id"] for c in sends] == [USER, USER]
    assert sends[0].params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more"
    # Incoming and outgoing ids share one per-chat sequence, as in Telegram.
    ids = [m.message_id for m in api.messages(USER)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_stale_button_arrives_as_inaccessible_message(api: FakeBotApi) -> None:
    seen: list[Any] = []

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        seen.append(update.callback_query.message)
        await update.callback_query.answer()

    app = application_builder(api).build()
    app.add_handler(CallbackQueryHandler(on_button))
    async with running(app, api):
        user = api.user(USER)
        await user.send("hello")  # makes the chat known; no handler answers
        await user.press_data(424242, "forged:data")
    # PTB 22 parses it as a Message whose date is the epoch: is_accessible is False.
    assert seen[0].message_id == 424242 and seen[0].is_accessible is False


# --------------------------------------------------------------------------- fault injection


async def test_retry_after_is_honoured_by_aio_rate_limiter(api: FakeBotApi) -> None:
    api.add_chat(USER)
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    app = application_builder(api).rate_limiter(AIORateLimiter(max_retries=1)).build()
    async with app:
        started = time.monotonic()
        message = await app.bot.send_message(USER, "hello")
        elapsed = time.monotonic() - started

    assert message.text == "hello"
    first, second = api.calls_of("sendMessage")
    assert first.status == 429
    assert first.response["parameters"] == {"retry_after": 1}
    assert second.ok
    assert second.at - first.at >= 1.0
    assert 1.0 <= elapsed < 2.5


async def test_retry_after_surfaces_without_rate_limiter(api: FakeBotApi, bot: Bot) -> None:
    api.add_chat(USER)
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "hello")
    assert info.value.retry_after == dt.timedelta(seconds=7)  # PTB_TIMEDELTA=1


async def test_forbidden_raises_forbidden(api: FakeBotApi, bot: Bot) -> None:
    api.add_chat(USER)
    api.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "hello")
    # Only the next call fails.
    assert (await bot.send_message(USER, "again")).text == "again"


async def test_blocking_user_makes_sends_forbidden(api: FakeBotApi, bot: Bot) -> None:
    user = api.user(USER)
    api.push_update(builders.private_text(USER, "hi"))
    api.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(user.chat_id, "hello")
    api.block(USER, blocked=False)
    assert (await bot.send_message(user.chat_id, "hello")).chat.type == "private"


async def test_a_500_is_a_network_error_and_a_hang_times_out_sent_or_not(api: FakeBotApi) -> None:
    api.add_chat(USER)
    # A timeout long enough for an ordinary answer on a loaded machine; the hangs outlast it.
    request = HTTPXRequest(read_timeout=2.0)
    async with Bot(api.token, base_url=api.base_url, request=request) as bot:
        api.fail_next("sendMessage", 500, "Internal Server Error")
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "boom")
        api.hang_next("sendMessage", 30)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "slow")
        assert [m.text for m in api.messages(USER)] == []  # the slow one never took effect
        # Telegram often *did* send the message when the client timed out:
        api.hang_next("sendMessage", 30, process_first=True)
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "sent anyway")
        assert (await bot.send_message(USER, "fine")).text == "fine"
    assert [m.text for m in api.messages(USER)] == ["sent anyway", "fine"]
    statuses = [c.status for c in api.calls_of("sendMessage")]
    # Calls the client gave up on stay recorded with status 0.
    assert statuses == [500, 0, 0, 200]


async def test_refuse_connections_then_recover(api: FakeBotApi, bot: Bot) -> None:
    api.add_chat(USER)
    assert (await bot.send_message(USER, "before")).text == "before"  # keep-alive opened
    back = api.refuse_connections(0.3)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "during")
    await back
    assert (await bot.send_message(USER, "after")).text == "after"


async def test_polling_survives_an_outage(api: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("one")
        await asyncio.sleep(0.02)  # settle waits for the handler, however long this takes
        await update.effective_message.reply_text("two")

    app = application_builder(api).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with running(app, api):
        user = api.user(USER)
        assert [m.text for m in await user.send("before")] == ["one", "two"]
        await api.refuse_connections(0.2)
        # PTB's polling loop backs off ~1 s after a network error, then resumes;
        # settle() waits for the pushed update to be fetched.
        assert [m.text for m in await user.send("after")] == ["one", "two"]
        assert any(c.status == 0 for c in api.calls_of("getUpdates"))


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    other = Bot("999:WRONG", base_url=api.base_url)
    with pytest.raises(InvalidToken):
        await other.initialize()  # getMe
    await other.shutdown()
    assert api.calls_of("getMe")[-1].status == 401


# --------------------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret(api: FakeBotApi, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def receive(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        received.append((secret, await request.json()))
        return web.Response(status=200 if secret == "s3cret" else 403)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret")
        assert (api.webhook_url, api.webhook_secret) == (url, "s3cret")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()

        assert await api.deliver_webhook(builders.private_text(USER, "via hook")) == 200
        assert await api.deliver_webhook(builders.private_text(USER, "no"), secret=None) == 403
    finally:
        await runner.cleanup()

    (secret1, update1), (secret2, _) = received
    assert secret1 == "s3cret" and secret2 is None
    assert update1["message"]["text"] == "via hook"
    assert Update.de_json(update1, bot).effective_user.id == USER  # type: ignore[union-attr]
    await bot.delete_webhook()
    assert api.webhook_url == ""


# --------------------------------------------------------------------------- message state


async def test_delete_unknown_message_is_bad_request(api: FakeBotApi, bot: Bot) -> None:
    api.add_chat(USER)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, 999)
    sent = await bot.send_message(USER, "bye")
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert api.messages(USER) == [] and api.is_deleted(USER, sent.message_id)


async def test_an_unchanged_edit_is_refused_and_one_without_keyboard_drops_it(
    api: FakeBotApi, bot: Bot
) -> None:
    api.add_chat(USER)
    keyboard = _keyboard(("A", "a"))
    sent = await bot.send_message(USER, "v1", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("v1", USER, sent.message_id, reply_markup=keyboard)
    edited = await bot.edit_message_text("v2", USER, sent.message_id, reply_markup=keyboard)
    assert isinstance(edited, type(sent)) and edited.text == "v2"
    assert edited.edit_date is not None
    await bot.edit_message_text("v3", USER, sent.message_id)
    assert api.messages(USER)[0].reply_markup is None
    await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v4", USER, sent.message_id)


async def test_telegram_refusals_for_bad_content(api: FakeBotApi, bot: Bot) -> None:
    api.add_chat(USER)
    with pytest.raises(BadRequest, match=r"(?i)unsupported url protocol"):
        await bot.send_message(
            USER,
            "Appeler",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("3018", url="tel:3018")]]),
        )
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "x", reply_markup=_keyboard(("long", "x" * 65)))
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "who?")
    assert api.messages(USER) == []


async def test_what_relais_does_not_use_is_refused_not_faked(api: FakeBotApi, bot: Bot) -> None:
    """Formatting and methods Relais never calls are not modelled: using them fails loudly
    (Telegram answers 404 to an unknown method; PTB calls that an invalid token)."""
    api.add_chat(USER)
    with pytest.raises(BadRequest, match="does not model parse_mode"):
        await bot.send_message(USER, "<b>3018</b>", parse_mode="HTML")
    with pytest.raises(InvalidToken):
        await bot.get_chat(USER)
    assert api.calls_of("getChat")[-1].status == 404


# --------------------------------------------------------------------------- groups


async def test_group_members_and_bot_rights_parse_in_ptb_and_are_enforced(
    api: FakeBotApi, bot: Bot
) -> None:
    api.push_update(builders.group_command(GROUP, USER, "aide", bot_username="relais_test_bot"))
    api.set_chat_member(GROUP, 1, "creator")
    api.set_chat_member(GROUP, 2, "administrator")
    api.set_chat_member(GROUP, 3, "restricted")
    api.set_chat_member(GROUP, 4, "left")
    api.set_chat_member(GROUP, 5, "kicked")
    api.set_bot_rights(GROUP, can_pin_messages=False, can_delete_messages=False)

    kinds = [type(await bot.get_chat_member(GROUP, uid)) for uid in (1, 2, 3, 4, 5)]
    assert kinds == [
        ChatMemberOwner,
        ChatMemberAdministrator,
        ChatMemberRestricted,
        ChatMemberLeft,
        ChatMemberBanned,
    ]
    me = await bot.get_chat_member(GROUP, api.bot_id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_pin_messages is False
    admins = await bot.get_chat_administrators(GROUP)
    assert {a.user.id for a in admins} == {1, 2, api.bot_id}

    sent = await bot.send_message(GROUP, "Ressources")
    with pytest.raises(BadRequest, match=r"(?i)not enough rights"):
        await bot.pin_chat_message(GROUP, sent.message_id)
    command_id = api.pending_updates()[0]["message"]["message_id"]
    with pytest.raises(BadRequest, match=r"(?i)can't be deleted"):
        await bot.delete_message(GROUP, command_id)
    assert await bot.delete_message(GROUP, sent.message_id)  # its own: always allowed

    api.set_bot_rights(GROUP, can_pin_messages=True, can_delete_messages=True)
    again = await bot.send_message(GROUP, "Épinglé")
    assert await bot.pin_chat_message(GROUP, again.message_id)
    assert api.pinned(GROUP) == [again.message_id] and api.messages(GROUP)[-1].pinned
    assert await bot.unpin_chat_message(GROUP, again.message_id)
    assert api.pinned(GROUP) == [] and not api.messages(GROUP)[-1].pinned
    assert await bot.delete_message(GROUP, command_id)


async def test_a_migrated_group_raises_chat_migrated_and_a_kicked_bot_forbidden(
    api: FakeBotApi, bot: Bot
) -> None:
    api.push_update(builders.group_command(GROUP, USER, "aide"))
    api.push_update(builders.migrate(GROUP, -1001234567890))
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(GROUP, "hello")
    assert info.value.new_chat_id == -1001234567890
    assert (await bot.send_message(-1001234567890, "hello")).chat.type == "supergroup"

    api.push_update(
        builders.chat_member_update(-1001234567890, api.bot_id, "member", "kicked", is_bot=True)
    )
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.send_message(-1001234567890, "hello")


async def test_commands_are_kept_per_scope_and_language_and_checked(
    api: FakeBotApi, bot: Bot
) -> None:
    assert await bot.set_my_commands([("start", "Commencer"), ("aide", "Obtenir de l'aide")])
    assert await bot.set_my_commands([("start", "Start")], language_code="en")
    assert await bot.set_my_commands([("aide", "Aide")], scope=BotCommandScopeAllGroupChats())
    assert [c["command"] for c in api.commands()] == ["start", "aide"]
    assert [c["description"] for c in api.commands(language_code="en")] == ["Start"]
    assert [c["command"] for c in api.commands(scope={"type": "all_group_chats"})] == ["aide"]
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Aide-moi", "x")])


# --------------------------------------------------------------------------- polling


async def test_long_poll_wakes_up_confirms_and_filters(api: FakeBotApi, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for("getUpdates")
    started = time.monotonic()
    first = api.push_update(builders.private_text(USER, "un"))
    updates = await poll
    assert time.monotonic() - started < 0.5
    assert [u.update_id for u in updates] == [first]

    # Not confirmed yet: returned again; confirmed by offset: gone.
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first]
    assert await bot.get_updates(offset=first + 1, timeout=0) == ()

    # chat_member updates are withheld unless asked for, like Telegram does.
    api.push_update(builders.chat_member_update(GROUP, 7, "left", "member"))
    assert await bot.get_updates(timeout=0) == ()
    assert len(api.dropped_updates) == 1
    api.push_update(builders.chat_member_update(GROUP, 8, "left", "member"))
    got = await bot.get_updates(timeout=0, allowed_updates=["message", "chat_member"])
    assert got[0].chat_member is not None and got[0].chat_member.new_chat_member.user.id == 8


async def test_newer_poll_terminates_older_one(api: FakeBotApi) -> None:
    url = f"{api.base_url}{api.token}/getUpdates"
    async with aiohttp.ClientSession() as session:

        async def poll() -> dict[str, Any]:
            async with session.post(url, json={"timeout": 3}) as resp:
                body: dict[str, Any] = await resp.json()
                return body

        older = asyncio.create_task(poll())
        await api.wait_for("getUpdates")
        async with session.post(url, data={"timeout": "0"}) as resp:
            assert (await resp.json())["ok"] is True
        answer = await older
    assert answer["error_code"] == 409 and "terminated by other getUpdates" in answer["description"]


def test_builders_produce_updates_ptb_can_parse() -> None:
    bot = Bot(FakeBotApi().token)
    sent = {
        "message_id": 3,
        "date": 0,
        "chat": {"id": USER, "type": "private", "first_name": "T"},
        "text": "x",
    }
    samples = [
        builders.private_text(USER, "salut"),
        builders.private_command(USER, "start", "abc"),
        builders.callback(USER, sent, "menu:1"),
        builders.sticker(USER),
        builders.photo(USER, caption="preuve"),
        builders.voice(USER),
        builders.document(USER),
        builders.edited_text(USER, "corrigé"),
        builders.group_command(GROUP, USER, "aide", bot_username="relais_test_bot"),
        builders.group_command(-1009, USER, "aide", chat_type="supergroup", sender_chat=-1009),
        builders.chat_member_update(USER, 123456, "member", "kicked", is_bot=True),
        builders.chat_member_update(GROUP, USER, "left", "administrator"),
        builders.migrate(GROUP, -1001),
        builders.channel_post(-1002, "annonce"),
        builders.new_members(GROUP, [USER, 1002]),
    ]
    for number, sample in enumerate(samples, start=1):
        update = Update.de_json({"update_id": number, **sample}, bot)
        assert update.update_id == number

    command = Update.de_json({"update_id": 1, **builders.private_command(USER, "start", "x")}, bot)
    assert command.effective_message is not None
    assert command.effective_message.parse_entities() == {
        command.effective_message.entities[0]: "/start"
    }
    anonymous = builders.group_command(-1009, USER, "aide", sender_chat=-1009)["message"]
    assert anonymous["from"]["id"] == builders.ANONYMOUS_ADMIN_ID


# --------------------------------------------------------------------------- in-process


async def test_in_process_answers_and_faults_are_the_http_servers(api: FakeBotApi) -> None:
    """``InProcessRequest`` skips only the socket: the same calls give the same messages,
    the same errors and the same recorded parameters as over HTTP."""

    async def session(bot: Bot) -> list[object]:
        seen: list[object] = []
        sent = await bot.send_message(USER, "123", reply_markup=_keyboard(("A", "a")))
        seen.append((sent.text, sent.reply_markup))
        api.fail_next("editMessageText", 429, "Too Many Requests: retry after 3", retry_after=3)
        for attempt in range(2):
            try:
                edited = await bot.edit_message_text("v2", USER, sent.message_id)
                seen.append((attempt, edited.text, edited.reply_markup))
            except RetryAfter as exc:
                seen.append((attempt, exc.retry_after))
        with pytest.raises(BadRequest, match=r"(?i)message to delete not found") as info:
            await bot.delete_message(USER, 999)
        seen.append(info.value.message)
        return seen

    def recorded() -> list[tuple[str, dict[str, Any], int]]:
        """Calls as the server decoded them (the message's own id differs per run)."""
        found = [(c.method, c.params, c.status) for c in api.calls if c.method != "getMe"]
        api.calls.clear()
        for _, params, _ in found:
            if params.get("message_id") != 999:
                params.pop("message_id", None)
        return found

    api.add_chat(USER)
    async with Bot(api.token, base_url=api.base_url) as bot:
        over_http = await session(bot)
    http_calls = recorded()
    async with Bot(api.token, request=InProcessRequest(api)) as bot:
        in_process = await session(bot)
    assert in_process == over_http
    assert recorded() == http_calls
    assert http_calls[0][1]["text"] == "123"  # a string that looks like a number stays one
