"""What the engine consumes and produces: conversation state, user events, replies.

Plain frozen dataclasses with no Telegram types, so the engine stays pure and the console
and Telegram adapters translate to and from them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SKIPPED = "skipped"  # the recorded value when someone prefers not to answer


@dataclass(frozen=True)
class Conversation:
    """Where one person is. Holds choice ids only: never text they typed, never who they are."""

    locale: str
    flow: str | None = None
    flow_version: int = 0
    step: str | None = None
    history: tuple[str, ...] = ()
    answers: dict[str, str] = field(default_factory=dict)
    origin: str | None = None  # pseudonymous key of the group whose card opened this chat
    session: str = ""  # random; ties statistics of one conversation together, not to a person
    # The hour (unix seconds) the session began: its statistics are all from then on, so
    # /oubli finds them through the time index (no index on sessions to update per turn).
    since: int = 0
    # The person switched the one reminder off (/rappels, or the button in /confidentialite).
    reminders: bool = True

    @property
    def active(self) -> bool:
        return self.flow is not None and self.step is not None

    def with_(self, **changes: Any) -> Conversation:
        """A copy with ``changes``. Not ``dataclasses.replace``, which re-runs ``__init__``
        through keyword matching: a turn makes two copies, and this is four times faster."""
        copy = object.__new__(Conversation)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

    def to_json(self) -> str:
        # Not ``asdict``: its deep copy was a fifth of the time of saving a turn.
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Conversation:
        data = json.loads(raw)
        data["history"] = tuple(data.get("history", ()))
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


# --- events: what the person did -------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """A slash command (name without slash, lower case) and its argument text."""

    name: str
    args: str = ""


def command_of(text: str) -> Command | None:
    """``/Aide@relais_bot je veux mourir`` → ``Command("aide", "je veux mourir")``;
    ``None`` for text that is no command. Any whitespace ends the name: ``/aide`` then a
    new line has arguments too."""
    if not text.startswith("/"):
        return None
    head, *rest = text[1:].split(maxsplit=1) or [""]
    return Command(head.split("@")[0].lower(), rest[0].strip() if rest else "")


@dataclass(frozen=True)
class Press:
    """A button press carrying its ``callback_data``."""

    data: str


@dataclass(frozen=True)
class Text:
    """Free text. Read to react (crisis words, a nudge to use buttons), never stored.
    ``edited``: the person changed an earlier message; read for crisis words only."""

    text: str
    edited: bool = False


@dataclass(frozen=True)
class Unsupported:
    """A sticker, photo, voice note... something the bot cannot read, and the words
    typed under it (a photo's caption), read like any text."""

    kind: str
    caption: str = ""


Event = Command | Press | Text | Unsupported


class Source(StrEnum):
    """Where words of crisis were read: a label of the metrics and of the event log,
    never the words themselves."""

    TEXT = "text"
    CAPTION = "caption"
    COMMAND = "command"  # a command's arguments (``/aide je veux mourir``)
    START = "start"  # a ``/start`` payload that is not a group's token
    EDITED = "edited"
    GROUP = "group"  # a command's arguments in a group


# --- replies: what the bot says --------------------------------------------------------


COPY_TEXT_LIMIT = 256  # Telegram's limit for a copy_text button's text


@dataclass(frozen=True)
class Button:
    """An inline button: exactly one of ``data`` (callback), ``url`` or ``copy``."""

    label: str
    data: str | None = None
    url: str | None = None
    copy: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Reply:
    """One message. ``edit`` asks the adapter to replace the message whose button was
    pressed (fewer messages on a phone others may see); it falls back to sending."""

    text: str
    keyboard: Keyboard = ()
    edit: bool = False


@dataclass(frozen=True)
class Stat:
    """An anonymous statistics event: what happened, never who."""

    # flow_started, step_answered, flow_completed, emergency_shown, resource_shown. For
    # emergency_shown after words of crisis: dimension is the Source, choice the Tier.
    kind: str
    flow: str | None = None
    step: str | None = None
    dimension: str | None = None
    choice: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The engine's answer: the state to save, the replies, anonymous statistics."""

    conversation: Conversation
    replies: tuple[Reply, ...]
    stats: tuple[Stat, ...] = ()
    forget: bool = False  # the person asked (and confirmed) to erase everything stored
    erase_messages: bool = False  # delete this chat's messages (/effacer, and /oubli first)
    # Filled by the dialogue service, not the engine: the ids of the messages to delete,
    # read before a forget erases them with everything else.
    erase_ids: tuple[int, ...] = ()
