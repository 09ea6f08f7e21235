"""A local HTTP server that impersonates the Telegram Bot API, for end-to-end tests.

Why a real HTTP server rather than mocking ``telegram.Bot``: the behaviour that breaks
bots in production lives *between* the bot code and Telegram — PTB's request
serialisation, long-polling and its timeouts, retries on ``429``, what
``Forbidden``/``BadRequest`` look like after PTB parsed them, webhook secrets.
Mocks skip all of that.  Pointing the real ``telegram.ext.Application`` at this
server (``ApplicationBuilder().base_url(api.base_url)``) exercises the whole stack.

It models only the methods Relais calls (``METHODS``; a run of the whole suite recording
what the server received lists exactly these), with just enough state to answer like
Telegram does: per-chat bot messages (with edits, deletions and pins), the update queue
with ``offset`` confirmation and ``allowed_updates`` filtering, chat membership (blocked
users, kicked bots, migrated groups), webhook registration and bot commands.  Where
Telegram refuses a request (unknown message, unchanged edit, bad markup, an
``inline keyboard button URL`` with ``tel:``...), the fake refuses it with the same
status and (as far as known) the same description.  Any other method is answered
``404 Not Found``, as Telegram answers a method it does not know, and ``parse_mode`` or
``entities`` (Relais sends plain text) are refused: a bot that starts using them fails
its tests until the fake models them.  Faults — errors, slow answers, refused
connections — can be injected per method.

Everything runs on the test's event loop; nothing here is thread-safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import inspect
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal, Self

import aiohttp
from aiohttp import web

from . import builders
from .builders import utf16_len
from .user import WAIT, SimulatedUser

__all__ = [
    "DEFAULT_ALLOWED_UPDATES",
    "DEFAULT_TOKEN",
    "METHODS",
    "ApiCall",
    "BotApiError",
    "FakeBotApi",
    "SentMessage",
]

JSON = dict[str, Any]

HOST: Final = "127.0.0.1"
#: The Bot API methods Relais calls, and so the only ones modelled.
METHODS: Final = frozenset(
    {
        "getMe",
        "getUpdates",
        "setWebhook",
        "deleteWebhook",
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
        "deleteMessage",
        "pinChatMessage",
        "unpinChatMessage",
        "getChatMember",
        "getChatAdministrators",
        "setMyCommands",
    }
)
DEFAULT_TOKEN: Final = "123456:TEST-TOKEN"

#: Every update type of Bot API 9.x.
ALL_UPDATE_TYPES: Final = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
#: What Telegram sends when ``allowed_updates`` was never specified (or set to ``[]``).
DEFAULT_ALLOWED_UPDATES: Final = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

# Parameters that are strings in the Bot API.  PTB form-encodes every *other* value as
# JSON (numbers, booleans, objects), but sends strings raw — so "123" as ``text`` must
# stay a string while "123" as ``chat_id`` is the number 123.
_STRING_PARAMS: Final = frozenset(
    {"callback_query_id", "language_code", "parse_mode", "secret_token", "text", "url"}
)
_BUTTON_URL_SCHEMES: Final = frozenset({"http", "https", "tg", "ton"})
_SCHEME_RE: Final = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_COMMAND_RE: Final = re.compile(r"^[a-z0-9_]{1,32}$")

# Error descriptions, as Telegram words them.
NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
EDIT_NOT_FOUND: Final = "Bad Request: message to edit not found"
DELETE_NOT_FOUND: Final = "Bad Request: message to delete not found"
QUERY_INVALID: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
CHAT_NOT_FOUND: Final = "Bad Request: chat not found"
BLOCKED: Final = "Forbidden: bot was blocked by the user"
GETUPDATES_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
WEBHOOK_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)


class _Default(enum.Enum):
    REGISTERED = enum.auto()


# --------------------------------------------------------------------------- records


@dataclass
class ApiCall:
    """One request received by the fake server."""

    method: str
    """Canonical method name (``sendMessage`` even if the client wrote ``sendmessage``)."""
    params: dict[str, Any]
    """Decoded parameters: JSON-encoded values parsed."""
    at: float
    """``time.monotonic()`` at arrival."""
    status: int = 0
    """HTTP status answered; 0 while in flight (or if the client went away)."""
    response: Any = None
    """``result`` on success, the whole error payload on failure."""

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(eq=False)
class SentMessage:
    """A message the bot sent, as the fake server currently holds it."""

    message_id: int
    chat_id: int
    text: str
    reply_markup: JSON | None = None
    deleted: bool = False
    pinned: bool = False
    date: int = 0
    edit_date: int | None = None
    edits: int = 0
    revision: int = 0
    """Server revision of the last send/edit (see :attr:`FakeBotApi.revision`)."""
    params: JSON = field(default_factory=dict)
    """Parameters of the request that created the message."""
    chat: JSON = field(default_factory=dict)
    sender: JSON = field(default_factory=dict)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """Rows of inline buttons (empty when the message has no inline keyboard)."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard")
        return rows if isinstance(rows, list) else []

    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return [[str(b.get("text", "")) for b in row] for row in self.inline_keyboard]

    def button(self, label: str) -> JSON | None:
        """The inline button with exactly this label, if any."""
        for row in self.inline_keyboard:
            for b in row:
                if b.get("text") == label:
                    return b
        return None

    def to_dict(self) -> JSON:
        """The Bot API ``Message`` object for this message (what Telegram would return)."""
        msg: JSON = {
            "message_id": self.message_id,
            "from": dict(self.sender),
            "chat": dict(self.chat),
            "date": self.date,
        }
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        msg["text"] = self.text
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            # Telegram only echoes inline keyboards back.
            msg["reply_markup"] = json.loads(json.dumps(self.reply_markup))
        return msg


class BotApiError(Exception):
    """Raised by method handlers; becomes ``{"ok": false, ...}``."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str, **parameters: Any) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}", parameters or None)


def _coerce(key: str, value: str) -> Any:
    """Decode one form value the way PTB encoded it (see ``_STRING_PARAMS``)."""
    if key in _STRING_PARAMS:
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return value
    if isinstance(parsed, float) and parsed != parsed:  # NaN
        return value
    return value if isinstance(parsed, str) else parsed


def _same_method(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _update_type(update: Mapping[str, Any]) -> str:
    for key in update:
        if key != "update_id":
            return key
    return ""


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSON | None

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


Handler = Callable[[JSON], Any]


# --------------------------------------------------------------------------- server


class FakeBotApi:
    """An in-process fake of ``https://api.telegram.org`` bound to ``127.0.0.1:<free port>``.

    Use as ``async with FakeBotApi() as api:`` or ``await api.start()`` / ``await api.stop()``.
    """

    def __init__(
        self,
        bot_username: str = "relais_test_bot",
        *,
        token: str = DEFAULT_TOKEN,
        bot_first_name: str = "Relais",
        strict_chats: bool = True,
        enforce_allowed_updates: bool = True,
    ) -> None:
        """Create the fake (not listening until :meth:`start`).

        ``strict_chats``: like Telegram, refuse to talk to a chat the bot has never seen in an
        update (``400 chat not found``); register chats with :meth:`add_chat` otherwise.
        ``enforce_allowed_updates``: like Telegram, withhold ``chat_member`` and reaction
        updates unless the bot asked for them via ``allowed_updates`` (withheld updates are
        kept in :attr:`dropped_updates`).
        """
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_chats = strict_chats
        self.enforce_allowed_updates = enforce_allowed_updates
        self.port = 0

        self.calls: list[ApiCall] = []
        self.dropped_updates: list[JSON] = []
        self.callback_answers: dict[str, JSON] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_allowed_updates: list[str] | None = None

        self._mark = 0
        self._revision = 0
        self._pending: list[JSON] = []
        self._undelivered: set[int] = set()
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._poll_seen = False

        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._bot_status: dict[int, str] = {}
        self._bot_rights: dict[int, dict[str, bool]] = {}
        self._members: dict[int, dict[int, JSON]] = defaultdict(dict)
        self._migrated: dict[int, int] = {}
        self._messages: dict[int, dict[int, SentMessage]] = defaultdict(dict)
        self._incoming: dict[int, dict[int, JSON]] = defaultdict(dict)
        self._deleted_incoming: set[tuple[int, int]] = set()
        self._pins: dict[int, list[int]] = defaultdict(list)
        self._next_message_id: dict[int, int] = defaultdict(lambda: 1)
        self._open_queries: dict[str, JSON] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}

        self._fails: dict[str, deque[_Fault]] = defaultdict(deque)
        self._hangs: dict[str, deque[tuple[float, bool]]] = defaultdict(deque)

        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._reopen_task: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._unhang = asyncio.Event()  # set (and replaced) to end the current hangs
        self._update_event = asyncio.Event()
        self._call_event = asyncio.Event()
        self._inflight = 0
        self._last_activity = time.monotonic()
        # Optional probe of the bot under test: while it returns True the bot is still
        # working on an update, and ``settle`` keeps waiting (quiet alone is a guess that
        # a loaded machine can defeat).
        self.busy: Callable[[], bool] | None = None
        # In-process runs (``InProcessRequest``): hands each dispatched update straight to
        # the bot instead of queueing it for ``getUpdates``.
        self.deliver: Callable[[JSON], Awaitable[None]] | None = None

        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in self._method_table().items():
            self._handlers[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: PTB appends ``{token}/{method}``."""
        return f"http://{HOST}:{self.port}/bot"

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and start answering."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi already started")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a client that goes away (PTB cancelling a long poll on
        # shutdown, refuse_connections) cancels its handler, as a real server would drop it.
        runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await runner.setup()
        self._runner = runner
        self._closing.clear()
        self._listener = await self._listen(0)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, release pending long polls and hung requests, close connections."""
        if self._runner is None:
            return
        self._closing.set()
        self.release_hangs()
        self._wake_pollers()
        self._notify_calls()
        if self._reopen_task is not None:
            self._reopen_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reopen_task
            self._reopen_task = None
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _listen(self, port: int) -> asyncio.Server:
        assert self._runner is not None and self._runner.server is not None
        loop = asyncio.get_running_loop()
        return await loop.create_server(self._runner.server, HOST, port, reuse_address=True)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        parameters: Mapping[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with this error instead of the result.

        ``retry_after`` fills ``parameters.retry_after`` (PTB raises ``RetryAfter``);
        ``parameters`` adds anything else (e.g. ``{"migrate_to_chat_id": -100...}``).
        """
        params: JSON = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = retry_after
        for _ in range(times):
            self._fails[method.lower()].append(_Fault(status, description, params or None))

    def hang_next(
        self, method: str, seconds: float, times: int = 1, *, process_first: bool = False
    ) -> None:
        """Delay the answer to the next ``times`` calls of ``method`` by ``seconds``.

        By default the request takes effect only after the delay — and not at all if the
        client gives up first (a cancelled call stays recorded with ``status == 0``).
        ``process_first=True`` applies it *before* the delay: the message is sent although the
        client times out, as happens with Telegram (a retry then duplicates it).
        Combined with :meth:`fail_next`, the delayed answer is the error.
        """
        for _ in range(times):
            self._hangs[method.lower()].append((seconds, process_first))

    def release_hangs(self) -> None:
        """End every hang under way now (as if its ``seconds`` were over): a test can hang a
        call for longer than a loaded machine could need, then let it go once it checked
        what happened meanwhile. Hangs queued by ``hang_next`` but not started yet stay."""
        event, self._unhang = self._unhang, asyncio.Event()
        event.set()

    def refuse_connections(self, seconds: float) -> asyncio.Task[None]:
        """Stop listening *now* and drop open connections; listen again after ``seconds``.

        Returns the task that re-opens the port; await it to wait for the server to be back.
        Calling it again during an outage restarts the countdown.
        """
        if self._runner is None:
            raise RuntimeError("FakeBotApi not started")
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner.server is not None:
            for conn in self._runner.server.connections:
                conn.force_close()
        if self._reopen_task is not None:
            self._reopen_task.cancel()
        self._reopen_task = asyncio.create_task(self._reopen_after(seconds))
        return self._reopen_task

    async def _reopen_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self._runner is not None and self._listener is None:
            self._listener = await self._listen(self.port)
        self._reopen_task = None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up when the server stops or ``release_hangs`` is called."""
        if seconds <= 0 or self._closing.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._unhang.wait(), seconds)

    # ------------------------------------------------------------------ world state

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str | None = None,
        title: str | None = None,
        username: str | None = None,
        bot_status: str | None = None,
    ) -> JSON:
        """Make a chat known to the bot (as if it had received an update from it)."""
        chat = builders.chat_dict(chat_id, chat_type=chat_type, title=title, username=username)
        self._remember_chat(chat)
        if bot_status is not None:
            self._bot_status[chat_id] = bot_status
        return self._chats[chat_id]

    def set_chat_member(self, chat_id: int, user_id: int, status: str, **overrides: Any) -> None:
        """What ``getChatMember(chat_id, user_id)`` answers; ``user_id == bot_id`` sets the bot's
        own status (``"kicked"``/``"left"`` then make sending to that chat fail with 403)."""
        if chat_id not in self._chats:
            self.add_chat(chat_id)
        if user_id == self.bot_id:
            self._bot_status[chat_id] = status
            rights = {k: v for k, v in overrides.items() if k.startswith("can_")}
            if rights:
                self._bot_rights.setdefault(chat_id, {}).update(rights)
            return
        user = self._users.get(user_id) or builders.user_dict(user_id)
        self._members[chat_id][user_id] = builders.chat_member_dict(user, status, **overrides)

    def set_bot_rights(
        self,
        chat_id: int,
        *,
        can_pin_messages: bool | None = None,
        can_delete_messages: bool | None = None,
        **other_rights: bool,
    ) -> None:
        """Grant/withdraw the bot's admin rights in a group (default: everything allowed).

        ``can_pin_messages=False``: pin/unpin answer 400 "not enough rights to manage pinned
        messages in the chat".  ``can_delete_messages=False``: deleting *other people's*
        messages answers 400 "message can't be deleted" (a bot may always delete its own).
        """
        if chat_id not in self._chats:
            self.add_chat(chat_id)
        rights = self._bot_rights.setdefault(chat_id, {})
        if can_pin_messages is not None:
            rights["can_pin_messages"] = can_pin_messages
        if can_delete_messages is not None:
            rights["can_delete_messages"] = can_delete_messages
        rights.update(other_rights)

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot, silently (no ``my_chat_member`` update).

        Use ``SimulatedUser.block()`` to also deliver the update like Telegram does.
        """
        if user_id not in self._chats:
            self.add_chat(user_id, chat_type="private")
        self._bot_status[user_id] = "kicked" if blocked else "member"

    def allocate_message_id(self, chat_id: int) -> int:
        """Next message id in ``chat_id`` — shared by bot and incoming messages, like Telegram."""
        mid = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = mid + 1
        return mid

    @property
    def revision(self) -> int:
        """Counter bumped at every bot message sent or edited."""
        return self._revision

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Bot messages in ``chat_id`` as they are now, ordered by ``message_id``."""
        msgs = sorted(self._messages.get(chat_id, {}).values(), key=lambda m: m.message_id)
        return msgs if include_deleted else [m for m in msgs if not m.deleted]

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """One bot message (even if deleted), or ``None``."""
        return self._messages.get(chat_id, {}).get(message_id)

    def messages_changed_since(self, chat_id: int, revision: int) -> list[SentMessage]:
        """Non-deleted bot messages in ``chat_id`` sent or edited after ``revision``."""
        return [m for m in self.messages(chat_id) if m.revision > revision]

    def is_deleted(self, chat_id: int, message_id: int) -> bool:
        """Whether the bot deleted this message (its own or an incoming one)."""
        msg = self.message(chat_id, message_id)
        if msg is not None:
            return msg.deleted
        return (chat_id, message_id) in self._deleted_incoming

    def pinned(self, chat_id: int) -> list[int]:
        """Ids of pinned messages in ``chat_id``, oldest pin first."""
        return list(self._pins.get(chat_id, []))

    def commands(
        self, *, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[JSON]:
        """Commands stored by ``setMyCommands`` for that scope/language."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by an ``offset``."""
        return list(self._pending)

    def user(
        self,
        user_id: int = 1001,
        *,
        language_code: str | None = "fr",
        first_name: str = "Test",
        username: str | None = None,
    ) -> SimulatedUser:
        """A :class:`SimulatedUser` talking to the bot in its private chat."""
        return SimulatedUser(
            self, user_id, language_code=language_code, first_name=first_name, username=username
        )

    # ------------------------------------------------------------------ calls

    def mark(self) -> int:
        """Remember the current end of :attr:`calls`; :meth:`wait_for` counts from here."""
        self._mark = len(self.calls)
        return self._mark

    def calls_of(self, method: str, *, since_mark: bool = False) -> list[ApiCall]:
        """Calls of ``method`` (case-insensitive), in arrival order."""
        calls = self.calls[self._mark :] if since_mark else self.calls
        return [c for c in calls if _same_method(c.method, method)]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = WAIT,  # noqa: ASYNC109 - part of the requested API
    ) -> list[ApiCall]:
        """Wait until ``count`` calls of ``method`` matching ``predicate`` arrived since
        :meth:`mark`; return all those matching calls.  Raises ``TimeoutError``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [
                c
                for c in self.calls[self._mark :]
                if _same_method(c.method, method) and (predicate is None or predicate(c))
            ]
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [c.method for c in self.calls[self._mark :] if c.method != "getUpdates"]
                raise TimeoutError(
                    f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                    f"calls since mark: {seen}"
                )
            event = self._call_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_polling(self, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Wait until the bot under test sent its first ``getUpdates``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._poll_seen:
            if loop.time() >= deadline:
                raise TimeoutError(f"the bot did not poll within {timeout}s")
            await asyncio.sleep(0.005)

    async def settle(self, quiet: float = 0.05, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        """Wait until the bot is idle: every pushed update was fetched and confirmed by the next
        poll (when the bot polls), ``busy`` is false, no request is being answered, and nothing
        but ``getUpdates`` arrived for ``quiet`` seconds.  Raises ``TimeoutError`` if that does
        not happen within ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            idle = time.monotonic() - self._last_activity
            waiting_poll = bool(self._undelivered) and self._poll_seen and not self.webhook_url
            working = self.busy is not None and self.busy()
            if not self._inflight and not waiting_poll and not working and idle >= quiet:
                return
            if loop.time() >= deadline:
                if waiting_poll:
                    why = f"{len(self._undelivered)} update(s) not fetched and confirmed by a poll"
                elif self._inflight:
                    why = f"{self._inflight} request(s) still being answered"
                elif working:
                    why = "the bot is still handling an update"
                else:
                    why = "the bot kept sending requests"
                raise TimeoutError(f"bot did not settle within {timeout}s: {why}")
            await asyncio.sleep(max(0.005, min(0.02, quiet - idle)))

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _notify_calls(self) -> None:
        event, self._call_event = self._call_event, asyncio.Event()
        event.set()

    def _wake_pollers(self) -> None:
        event, self._update_event = self._update_event, asyncio.Event()
        event.set()

    # ------------------------------------------------------------------ updates

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for ``getUpdates``; assigns ``update_id`` if missing; returns it."""
        upd = self._prepare_update(update)
        self._pending.append(upd)
        self._pending.sort(key=lambda u: int(u["update_id"]))
        self._undelivered.add(int(upd["update_id"]))
        self._touch()
        self._wake_pollers()
        return int(upd["update_id"])

    async def deliver_webhook(
        self,
        update: Mapping[str, Any],
        *,
        secret: str | Literal[_Default.REGISTERED] | None = _Default.REGISTERED,
        url: str | None = None,
    ) -> int:
        """POST ``update`` to the webhook like Telegram does; return the HTTP status.

        ``secret`` defaults to the ``secret_token`` given to ``setWebhook``; ``None`` sends
        no ``X-Telegram-Bot-Api-Secret-Token`` header.  ``url`` overrides the registered URL.
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook registered (setWebhook not called) and no url given")
        upd = self._prepare_update(update)
        token = self.webhook_secret if secret is _Default.REGISTERED else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token is not None else {}
        self._touch()
        async with (
            aiohttp.ClientSession() as session,
            session.post(target, json=upd, headers=headers) as resp,
        ):
            await resp.read()
            self._touch()
            return resp.status

    async def dispatch(self, update: Mapping[str, Any]) -> int:
        """Deliver ``update`` the way the bot is listening: webhook if one is registered (an
        update type outside ``allowed_updates`` is withheld, as Telegram does), else the
        ``getUpdates`` queue; in-process, :attr:`deliver`.  Returns the ``update_id``."""
        if self.deliver is not None:
            upd = self._prepare_update(update)
            self._touch()
            await self.deliver(upd)
            self._touch()
            return int(upd["update_id"])
        if not self.webhook_url:
            return self.push_update(update)
        upd = self._prepare_update(update)
        allowed = self._allowed_updates or DEFAULT_ALLOWED_UPDATES
        if self.enforce_allowed_updates and _update_type(upd) not in allowed:
            self.dropped_updates.append(upd)
            return int(upd["update_id"])
        status = await self.deliver_webhook(upd)
        if status != 200:
            raise AssertionError(f"webhook answered HTTP {status} to update {upd['update_id']}")
        return int(upd["update_id"])

    def _prepare_update(self, update: Mapping[str, Any]) -> JSON:
        upd: JSON = json.loads(json.dumps(dict(update)))  # own copy; proves it is JSON
        if upd.get("update_id") is None:
            upd["update_id"] = self._next_update_id
        uid = int(upd["update_id"])
        self._next_update_id = max(self._next_update_id, uid + 1)
        self._observe(upd)
        return upd

    def _observe(self, update: JSON) -> None:
        """Learn chats, users, memberships, callback queries from an incoming update."""
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            msg = update.get(key)
            if isinstance(msg, dict):
                self._observe_message(msg)
        query = update.get("callback_query")
        if isinstance(query, dict):
            self._remember_user(query.get("from"))
            self._open_queries[str(query["id"])] = query
            inner = query.get("message")
            if isinstance(inner, dict) and isinstance(inner.get("chat"), dict):
                self._remember_chat(inner["chat"])
        for key in ("my_chat_member", "chat_member"):
            change = update.get(key)
            if not isinstance(change, dict):
                continue
            chat = change["chat"]
            self._remember_chat(chat)
            self._remember_user(change.get("from"))
            new = change["new_chat_member"]
            member_id = int(new["user"]["id"])
            if key == "my_chat_member" or member_id == self.bot_id:
                self._bot_status[int(chat["id"])] = str(new["status"])
                rights = {k: v for k, v in new.items() if k.startswith("can_")}
                if rights:
                    self._bot_rights.setdefault(int(chat["id"]), {}).update(rights)
            else:
                self._remember_user(new["user"])
                self._members[int(chat["id"])][member_id] = new
        join = update.get("chat_join_request")
        if isinstance(join, dict):
            self._remember_chat(join["chat"])
            self._remember_user(join.get("from"))

    def _observe_message(self, msg: JSON) -> None:
        chat = msg["chat"]
        chat_id = int(chat["id"])
        self._remember_chat(chat)
        self._remember_user(msg.get("from"))
        mid = int(msg["message_id"])
        self._incoming[chat_id][mid] = msg
        if mid < 1_000_000 and self._next_message_id[chat_id] <= mid:
            self._next_message_id[chat_id] = mid + 1
        if chat.get("type") == "private":
            self._bot_status.setdefault(chat_id, "member")
        new_id = msg.get("migrate_to_chat_id")
        if new_id is not None:
            self._migrated[chat_id] = int(new_id)
            self._remember_chat({**chat, "id": int(new_id), "type": "supergroup"})
            if chat_id in self._bot_status:
                self._bot_status.setdefault(int(new_id), self._bot_status[chat_id])
        for member in msg.get("new_chat_members") or []:
            self._remember_user(member)
            if int(member["id"]) == self.bot_id:
                self._bot_status[chat_id] = "member"
            else:
                self._members[chat_id][int(member["id"])] = builders.chat_member_dict(
                    member, "member"
                )
        left = msg.get("left_chat_member")
        if isinstance(left, dict):
            if int(left["id"]) == self.bot_id:
                self._bot_status[chat_id] = "left"
            else:
                self._members[chat_id][int(left["id"])] = builders.chat_member_dict(left, "left")

    def _remember_chat(self, chat: Mapping[str, Any]) -> None:
        chat_id = int(chat["id"])
        self._chats[chat_id] = {**self._chats.get(chat_id, {}), **dict(chat)}

    def _remember_user(self, user: Any) -> None:
        if isinstance(user, dict) and "id" in user:
            self._users[int(user["id"])] = user

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> JSON:
        params: JSON = {k: _coerce(k, v) for k, v in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            for key, value in body.items():
                params[key] = _coerce(key, value) if isinstance(value, str) else value
            return params
        form = await request.post()  # Relais uploads no file
        for key, value in form.items():
            params[key] = _coerce(key, str(value))
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        try:
            params = await self._read_params(request)
            parse_error: str | None = None
        except ValueError as exc:
            params, parse_error = {}, f"Bad Request: can't parse request: {exc}"
        status, payload = await self.call(
            request.match_info["token"], request.match_info["method"], params, parse_error
        )
        return web.json_response(payload, status=status)

    async def call(
        self, token: str, method: str, params: JSON, parse_error: str | None = None
    ) -> tuple[int, JSON]:
        """Answer one Bot API request (already decoded) as the HTTP server does: recorded in
        :attr:`calls`, with the injected faults; returns the HTTP status and the payload.
        ``InProcessRequest`` calls it directly, without HTTP."""
        canonical, handler = self._handlers.get(method.lower(), (method, self._m_unknown))
        call = ApiCall(canonical, params, time.monotonic())
        self.calls.append(call)
        polling = canonical == "getUpdates"
        if not polling:
            self._inflight += 1
            self._touch()
        self._notify_calls()
        try:
            if parse_error is not None:
                status, payload = 400, BotApiError(400, parse_error).payload()
            else:
                status, payload = await self._answer(token, canonical, handler, params)
        finally:
            if not polling:
                self._inflight -= 1
                self._touch()
        call.status = status
        call.response = payload["result"] if payload.get("ok") else payload
        self._notify_calls()
        return status, payload

    async def _answer(
        self, token: str, method: str, handler: Handler, params: JSON
    ) -> tuple[int, JSON]:
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        key = method.lower()
        delay, process_first = self._hangs[key].popleft() if self._hangs.get(key) else (0, False)
        if self._fails.get(key):
            await self._pause(delay)
            fault = self._fails[key].popleft()
            return fault.status, fault.payload()
        if not process_first:
            await self._pause(delay)
        try:
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
        except BotApiError as exc:
            status, payload = exc.status, exc.payload()
        else:
            status, payload = 200, {"ok": True, "result": result}
        if process_first:
            await self._pause(delay)
        return status, payload

    # ------------------------------------------------------------------ param helpers

    @staticmethod
    def _required(p: JSON, name: str) -> Any:
        value = p.get(name)
        if value is None or value == "":
            raise _bad(f"{name} is empty")
        return value

    @staticmethod
    def _int(p: JSON, name: str) -> int:
        value = FakeBotApi._required(p, name)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def _chat_id(self, p: JSON, name: str = "chat_id") -> int:
        try:
            return int(self._required(p, name))
        except (TypeError, ValueError):  # Relais never names a chat by its @username
            raise _bad("chat not found") from None

    def _chat(self, chat_id: int) -> JSON:
        if chat_id in self._chats:
            return self._chats[chat_id]
        return builders.chat_dict(chat_id)

    def _short_chat(self, chat_id: int) -> JSON:
        chat = self._chat(chat_id)
        keys = ("id", "type", "title", "username", "first_name", "last_name", "is_forum")
        return {k: chat[k] for k in keys if k in chat}

    def _known_chat(self, p: JSON, name: str = "chat_id") -> int:
        chat_id = self._chat_id(p, name)
        if chat_id in self._migrated:
            raise _bad(
                "group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._migrated[chat_id],
            )
        if self.strict_chats and chat_id not in self._chats:
            raise BotApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def _writable_chat(self, p: JSON) -> int:
        """Chat id of a request that acts in the chat; raises 403 like Telegram when the bot
        was blocked/kicked."""
        chat_id = self._known_chat(p)
        status = self._bot_status.get(chat_id)
        kind = self._chat(chat_id).get("type", builders.default_chat_type(chat_id))
        if status == "kicked":
            if kind == "private":
                raise BotApiError(403, BLOCKED)
            if kind == "channel":
                raise BotApiError(403, "Forbidden: bot is not a member of the channel chat")
            raise BotApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if status == "left" and kind != "private":
            raise BotApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        return chat_id

    def _bot_can(self, chat_id: int, right: str) -> bool:
        if self._chat(chat_id).get("type") == "private":
            return True
        return self._bot_rights.get(chat_id, {}).get(right, True)

    @staticmethod
    def _plain(p: JSON) -> None:
        """Relais sends plain text; formatting is not modelled, so it is refused rather
        than accepted unchecked."""
        if p.get("parse_mode") is not None or p.get("entities") is not None:
            raise _bad("the fake Bot API does not model parse_mode or entities")

    def _check_markup(self, markup: Any) -> JSON | None:
        if markup is None:
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise _bad("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
        for row in rows:
            for button in row:
                self._check_button(button)
        return markup

    @staticmethod
    def _check_button(button: Any) -> None:
        if not isinstance(button, dict) or not str(button.get("text", "")).strip():
            raise _bad("can't parse inline keyboard button: Text must be non-empty")
        actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
        if not actions:
            raise _bad(
                "can't parse inline keyboard button: Text buttons are unallowed in "
                "the inline keyboard"
            )
        if "callback_data" in button:
            data = str(button["callback_data"])
            if not 1 <= len(data.encode("utf-8")) <= 64:
                raise _bad("BUTTON_DATA_INVALID")
        if "url" in button:
            url = str(button["url"])
            m = _SCHEME_RE.match(url)
            scheme = m.group(1).lower() if m else ""
            has_scheme = m is not None and (url[m.end() :].startswith("//") or "." not in scheme)
            if has_scheme and scheme not in _BUTTON_URL_SCHEMES:
                raise _bad(
                    f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
                )
            if not url.strip() or " " in url.strip():
                raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _message_exists(self, chat_id: int, message_id: int) -> bool:
        msg = self.message(chat_id, message_id)
        if msg is not None:
            return not msg.deleted
        return message_id in self._incoming.get(chat_id, {}) and (
            (chat_id, message_id) not in self._deleted_incoming
        )

    def _store(self, chat_id: int, p: JSON, **fields: Any) -> SentMessage:
        self._revision += 1
        msg = SentMessage(
            message_id=self.allocate_message_id(chat_id),
            chat_id=chat_id,
            date=builders.now(),
            revision=self._revision,
            params=dict(p),
            chat=self._short_chat(chat_id),
            sender=self._bot_user(),
            **fields,
        )
        self._messages[chat_id][msg.message_id] = msg
        return msg

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _editable(self, p: JSON) -> SentMessage:
        chat_id = self._writable_chat(p)
        mid = self._int(p, "message_id")
        msg = self.message(chat_id, mid)
        if msg is None or msg.deleted:
            if mid in self._incoming.get(chat_id, {}):
                raise _bad("message can't be edited")
            raise BotApiError(400, EDIT_NOT_FOUND)
        return msg

    def _touch_message(self, msg: SentMessage) -> None:
        self._revision += 1
        msg.revision = self._revision
        msg.edits += 1
        msg.edit_date = builders.now()

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_obj = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope_obj, sort_keys=True), str(language_code or "")

    def _member(self, chat_id: int, user_id: int) -> JSON:
        if user_id == self.bot_id:
            rights = self._bot_rights.get(chat_id, {})
            status = self._bot_status.get(chat_id) or ("administrator" if rights else "member")
            return builders.chat_member_dict(
                self._bot_user(), status, **(rights if status == "administrator" else {})
            )
        member = self._members.get(chat_id, {}).get(user_id)
        if member is not None:
            return member
        user = self._users.get(user_id) or builders.user_dict(user_id)
        return builders.chat_member_dict(user, "member")

    # ------------------------------------------------------------------ methods

    def _method_table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "getMe": self._m_get_me,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "answerCallbackQuery": self._m_answer_callback_query,
            "deleteMessage": self._m_delete_message,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_unpin_chat_message,
            "getChatMember": self._m_get_chat_member,
            "getChatAdministrators": self._m_get_chat_administrators,
            "setMyCommands": self._m_set_my_commands,
        }
        assert set(table) == METHODS
        return table

    def _m_unknown(self, p: JSON) -> bool:
        """A method Relais does not call: answered as Telegram answers an unknown one."""
        raise BotApiError(404, "Not Found")

    def _m_get_me(self, p: JSON) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, p: JSON) -> list[JSON]:
        if self.webhook_url:
            raise BotApiError(409, WEBHOOK_CONFLICT)
        offset = p.get("offset")
        limit = max(1, min(100, int(p.get("limit") or 100)))
        timeout = max(0.0, float(p.get("timeout") or 0))
        if "allowed_updates" in p and p["allowed_updates"] is not None:
            allowed = p["allowed_updates"]
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._poll_seen = True
        # Telegram answers 409 to an older long poll when a newer one arrives.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._confirm(offset)
            ready = self._ready_updates(limit)
            if ready or self._closing.is_set():
                break
            if generation != self._poll_generation:
                raise BotApiError(409, GETUPDATES_CONFLICT)
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            event = self._update_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        if ready:
            # They stay undelivered until the next poll confirms them (``_confirm``): until
            # then the bot may still be decoding them, and ``settle`` must keep waiting.
            self._touch()
        return ready

    def _confirm(self, offset: Any) -> None:
        if offset is None:
            return
        offset = int(offset)
        if offset < 0:
            dropped, self._pending = self._pending[:offset], self._pending[offset:]
        else:
            dropped = [u for u in self._pending if int(u["update_id"]) < offset]
            self._pending = [u for u in self._pending if int(u["update_id"]) >= offset]
        self._undelivered.difference_update(int(u["update_id"]) for u in dropped)

    def _ready_updates(self, limit: int) -> list[JSON]:
        if self.enforce_allowed_updates:
            allowed = self._allowed_updates or DEFAULT_ALLOWED_UPDATES
            kept: list[JSON] = []
            for upd in self._pending:
                if _update_type(upd) in allowed:
                    kept.append(upd)
                else:
                    self.dropped_updates.append(upd)
                    self._undelivered.discard(int(upd["update_id"]))
            self._pending = kept
        return self._pending[:limit]

    def _m_set_webhook(self, p: JSON) -> bool:
        url = str(p.get("url") or "")
        self.webhook_url = url
        self.webhook_secret = p.get("secret_token") if url else None
        allowed = p.get("allowed_updates")
        if allowed is not None:
            self.webhook_allowed_updates = list(allowed)
            self._allowed_updates = frozenset(allowed) if allowed else None
        if p.get("drop_pending_updates"):
            self._drop_pending()
        self._wake_pollers()
        return True

    def _m_delete_webhook(self, p: JSON) -> bool:
        self.webhook_url = ""
        self.webhook_secret = None
        if p.get("drop_pending_updates"):
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        self._undelivered.difference_update(int(u["update_id"]) for u in self._pending)
        self._pending = []

    def _m_send_message(self, p: JSON) -> JSON:
        chat_id = self._writable_chat(p)
        self._plain(p)
        text = str(p.get("text") or "")
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > 4096:
            raise _bad("message is too long")
        markup = self._check_markup(p.get("reply_markup"))
        return self._store(chat_id, p, text=text, reply_markup=markup).to_dict()

    def _m_edit_message_text(self, p: JSON) -> JSON:
        msg = self._editable(p)
        self._plain(p)
        text = str(p.get("text") or "")
        if not text.strip():
            raise _bad("message text is empty")
        if utf16_len(text) > 4096:
            raise _bad("message is too long")
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._check_markup(p.get("reply_markup"))
        if (text, markup) == (msg.text, msg.reply_markup):
            raise BotApiError(400, NOT_MODIFIED)
        msg.text, msg.reply_markup = text, markup
        self._touch_message(msg)
        return msg.to_dict()

    def _m_answer_callback_query(self, p: JSON) -> bool:
        query_id = str(self._required(p, "callback_query_id"))
        if query_id not in self._open_queries:
            raise BotApiError(400, QUERY_INVALID)
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        del self._open_queries[query_id]
        self.callback_answers[query_id] = dict(p)
        return True

    def _delete_one(self, chat_id: int, mid: int) -> bool:
        msg = self.message(chat_id, mid)
        if msg is not None:
            if msg.deleted:
                return False
            msg.deleted = True
            msg.pinned = False
            if mid in self._pins.get(chat_id, []):
                self._pins[chat_id].remove(mid)
            return True
        if mid in self._incoming.get(chat_id, {}) and (chat_id, mid) not in self._deleted_incoming:
            if not self._bot_can(chat_id, "can_delete_messages"):
                raise _bad("message can't be deleted")
            self._deleted_incoming.add((chat_id, mid))
            return True
        return False

    def _m_delete_message(self, p: JSON) -> bool:
        chat_id = self._writable_chat(p)
        if not self._delete_one(chat_id, self._int(p, "message_id")):
            raise BotApiError(400, DELETE_NOT_FOUND)
        return True

    def _check_pin_rights(self, chat_id: int) -> None:
        if not self._bot_can(chat_id, "can_pin_messages"):
            raise _bad("not enough rights to manage pinned messages in the chat")

    def _m_pin_chat_message(self, p: JSON) -> bool:
        chat_id = self._writable_chat(p)
        self._check_pin_rights(chat_id)
        mid = self._int(p, "message_id")
        if not self._message_exists(chat_id, mid):
            raise _bad("message to pin not found")
        pins = self._pins[chat_id]
        if mid in pins:
            pins.remove(mid)
        pins.append(mid)
        msg = self.message(chat_id, mid)
        if msg is not None:
            msg.pinned = True
        return True

    def _unpin(self, chat_id: int, mid: int) -> None:
        if mid in self._pins[chat_id]:
            self._pins[chat_id].remove(mid)
        msg = self.message(chat_id, mid)
        if msg is not None:
            msg.pinned = False

    def _m_unpin_chat_message(self, p: JSON) -> bool:
        chat_id = self._writable_chat(p)
        self._check_pin_rights(chat_id)
        if p.get("message_id") is not None:
            self._unpin(chat_id, self._int(p, "message_id"))
        elif self._pins[chat_id]:
            self._unpin(chat_id, self._pins[chat_id][-1])
        return True

    def _m_get_chat_member(self, p: JSON) -> JSON:
        chat_id = self._known_chat(p)
        return self._member(chat_id, self._int(p, "user_id"))

    def _m_get_chat_administrators(self, p: JSON) -> list[JSON]:
        chat_id = self._known_chat(p)
        if self._chat(chat_id).get("type") == "private":
            raise _bad("there are no administrators in the private chat")
        admins = [
            m
            for m in self._members.get(chat_id, {}).values()
            if m.get("status") in ("creator", "administrator")
        ]
        bot = self._member(chat_id, self.bot_id)
        if bot["status"] == "administrator":
            admins.append(bot)
        return admins

    def _m_set_my_commands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _bad("commands must be an array")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_RE.match(str(cmd.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(p.get("scope"), p.get("language_code"))] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True
