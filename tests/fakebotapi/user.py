"""A simulated Telegram user, for writing end-to-end tests as conversations.

Why: the flows of Relais are conversations ("/start", read, press a button, read the
edited message...).  Tests that push raw update dicts and dig through API calls bury
that story.  ``SimulatedUser`` does what a person in the Telegram app does — type a
message, tap a visible inline button by its label — then waits for the bot to go quiet
and returns what changed on screen.  Pressing only *visible* buttons by label also
catches regressions a raw ``callback_data`` test would miss (renamed labels, a keyboard
that disappeared after an edit); :meth:`SimulatedUser.press_data` remains for forged or
stale data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import builders

if TYPE_CHECKING:
    from .server import FakeBotApi, SentMessage

JSON = dict[str, Any]
# Default bound of every wait on the bot (settle, wait_for...): a wait ends as soon as its
# condition holds, so a generous bound costs nothing, and a loaded machine needs it.
WAIT = 30.0  # seconds


class SimulatedUser:
    """One user in a private chat with the bot (chat id == user id)."""

    def __init__(
        self,
        api: FakeBotApi,
        user_id: int,
        *,
        language_code: str | None = "fr",
        first_name: str = "Test",
        username: str | None = None,
        quiet: float = 0.05,
        timeout: float = WAIT,
    ) -> None:
        """``quiet`` (default per action) and ``timeout`` are passed to :meth:`FakeBotApi.settle`
        after every action; raise ``quiet`` for bots that pause between two sends."""
        self.api = api
        self.user_id = user_id
        self.language_code = language_code
        self.first_name = first_name
        self.username = username
        self.quiet = quiet
        self.timeout = timeout
        self.last_query_id: str | None = None
        self.last_sent_message_id: int | None = None

    @property
    def chat_id(self) -> int:
        return self.user_id

    # ------------------------------------------------------------------ reading the chat

    @property
    def messages(self) -> list[SentMessage]:
        """Bot messages currently visible in the chat."""
        return self.api.messages(self.chat_id)

    @property
    def last_message(self) -> SentMessage:
        """The most recent visible bot message; ``AssertionError`` if there is none."""
        msgs = self.messages
        if not msgs:
            raise AssertionError(f"the bot has no message in the chat with user {self.user_id}")
        return msgs[-1]

    def keyboard_message(self) -> SentMessage | None:
        """The most recent visible bot message carrying an inline keyboard."""
        for msg in reversed(self.messages):
            if msg.inline_keyboard:
                return msg
        return None

    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard of :meth:`keyboard_message` (``[]`` if none)."""
        msg = self.keyboard_message()
        return msg.buttons() if msg else []

    @property
    def last_answer(self) -> JSON | None:
        """Parameters of ``answerCallbackQuery`` for the last press (``None`` if unanswered)."""
        if self.last_query_id is None:
            return None
        return self.api.callback_answers.get(self.last_query_id)

    # ------------------------------------------------------------------ acting

    async def _dispatch(self, update: JSON, quiet: float | None) -> list[SentMessage]:
        revision = self.api.revision
        await self.api.dispatch(update)
        await self.api.settle(quiet=self.quiet if quiet is None else quiet, timeout=self.timeout)
        return self.api.messages_changed_since(self.chat_id, revision)

    def _who(self) -> JSON:
        return {
            "language_code": self.language_code,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _next_id(self) -> int:
        mid = self.api.allocate_message_id(self.chat_id)
        self.last_sent_message_id = mid
        return mid

    async def send(self, text: str, *, quiet: float | None = None) -> list[SentMessage]:
        """Type ``text`` (a ``/command`` gets its ``bot_command`` entity); wait for the bot to
        settle; return bot messages sent or edited in this chat meanwhile."""
        if text.startswith("/"):
            command, _, args = text.partition(" ")
            update = builders.private_command(
                self.user_id, command, args, message_id=self._next_id(), **self._who()
            )
        else:
            update = builders.private_text(
                self.user_id, text, message_id=self._next_id(), **self._who()
            )
        return await self._dispatch(update, quiet)

    async def press(self, label: str, *, quiet: float | None = None) -> list[SentMessage]:
        """Tap the inline button labelled exactly ``label`` on the latest keyboard message."""
        msg = self.keyboard_message()
        if msg is None:
            raise AssertionError(f"no bot message with an inline keyboard for user {self.user_id}")
        button = msg.button(label)
        if button is None:
            raise AssertionError(
                f"no button {label!r} on message {msg.message_id}; buttons: {msg.buttons()}"
            )
        data = button.get("callback_data")
        if data is None:
            kind = sorted(set(button) - {"text"})
            raise AssertionError(f"button {label!r} is not a callback button ({kind})")
        return await self.press_data(msg.message_id, str(data), quiet=quiet)

    async def press_data(
        self,
        message_id: int,
        data: str,
        *,
        quiet: float | None = None,
    ) -> list[SentMessage]:
        """Send a callback query with arbitrary ``data`` from message ``message_id``.

        An unknown or deleted message is sent as Telegram does for old messages: an
        *inaccessible* message (``date`` 0); PTB 22 then gives a ``Message`` whose
        ``is_accessible`` is False.
        """
        msg = self.api.message(self.chat_id, message_id)
        target: SentMessage | JSON
        if msg is not None and not msg.deleted:
            target = msg
        else:
            target = {
                "message_id": message_id,
                "date": 0,
                "chat": builders.chat_dict(self.chat_id, first_name=self.first_name),
            }
        update = builders.callback(self.user_id, target, data, **self._who())
        self.last_query_id = str(update["callback_query"]["id"])
        return await self._dispatch(update, quiet)

    async def send_sticker(self, *, quiet: float | None = None) -> list[SentMessage]:
        """Send a sticker."""
        return await self._dispatch(
            builders.sticker(self.user_id, message_id=self._next_id()), quiet
        )

    async def send_photo(
        self, caption: str | None = None, *, quiet: float | None = None
    ) -> list[SentMessage]:
        """Send a photo (e.g. a screenshot of harassment)."""
        return await self._dispatch(
            builders.photo(self.user_id, caption=caption, message_id=self._next_id()), quiet
        )

    async def edit(
        self, message_id: int, text: str, *, quiet: float | None = None
    ) -> list[SentMessage]:
        """Edit one of the user's own earlier messages."""
        update = builders.edited_text(
            self.user_id,
            text,
            message_id=message_id,
            language_code=self.language_code,
            first_name=self.first_name,
        )
        return await self._dispatch(update, quiet)

    async def block(self, *, quiet: float | None = None) -> list[SentMessage]:
        """Block the bot: Telegram sends ``my_chat_member`` (member -> kicked); later sends 403."""
        update = builders.chat_member_update(
            self.chat_id,
            self.api.bot_id,
            "member",
            "kicked",
            is_bot=True,
            bot_username=self.api.bot_username,
        )
        return await self._dispatch(update, quiet)
