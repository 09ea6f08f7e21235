"""Factories for incoming Telegram updates, as plain Bot API JSON dicts.

Why plain dicts rather than ``telegram.Update`` objects: the fake server hands
updates to the bot over real HTTP (``getUpdates`` or a webhook POST), exactly
like Telegram does, so the bot's own PTB instance does the parsing.  Building
the JSON by hand keeps the tests honest about the wire format: a field PTB
requires but a factory forgets makes ``de_json`` blow up in the test, not in
production.

Every factory returns an update *without* ``update_id``;
:meth:`FakeBotApi.push_update` assigns one.  Incoming message ids come from a
module-wide counter starting high (1_000_000) so they never collide with the
small per-chat ids the fake server gives to bot messages; pass ``message_id``
explicitly (``SimulatedUser`` does, drawing from the server's per-chat counter)
to get realistic interleaved ids.

Private chat id == user id, as in Telegram.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import SentMessage

JSON = dict[str, Any]

#: Telegram's "GroupAnonymousBot": the ``from`` of messages sent by anonymous group admins.
ANONYMOUS_ADMIN_ID = 1087968824
#: Telegram's "Channel_Bot": the ``from`` of messages sent on behalf of a channel.
CHANNEL_BOT_ID = 136817688

_message_ids = itertools.count(1_000_000)
_callback_ids = itertools.count(5_000_000_000_000_000)
_file_ids = itertools.count(1)

MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")


def now() -> int:
    """Unix time in whole seconds, as Telegram stamps ``date`` fields."""
    return int(time.time())


def next_message_id() -> int:
    """A fresh id for an incoming message (module-wide, starts at 1_000_000)."""
    return next(_message_ids)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram entity offsets/lengths."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- shapes


def user_dict(
    user_id: int,
    *,
    first_name: str = "Test",
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "fr",
    is_bot: bool = False,
) -> JSON:
    """A Bot API ``User`` object."""
    user: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if language_code is not None and not is_bot:
        user["language_code"] = language_code
    return user


def default_chat_type(chat_id: int) -> str:
    """Guess a chat type from the id, following Telegram's id ranges."""
    if chat_id > 0:
        return "private"
    if chat_id <= -1_000_000_000_000:
        return "supergroup"
    return "group"


def chat_dict(
    chat_id: int,
    *,
    chat_type: str | None = None,
    title: str | None = None,
    first_name: str = "Test",
    username: str | None = None,
) -> JSON:
    """A Bot API ``Chat`` object (the short form embedded in messages)."""
    kind = chat_type or default_chat_type(chat_id)
    chat: JSON = {"id": chat_id, "type": kind}
    if kind == "private":
        chat["first_name"] = first_name
    else:
        chat["title"] = title or f"Test {kind} {chat_id}"
    if username is not None:
        chat["username"] = username
    return chat


def chat_member_dict(user: JSON, status: str, **overrides: Any) -> JSON:
    """A complete ``ChatMember`` object for ``status`` (PTB requires every listed field).

    ``overrides`` replaces individual fields, e.g. ``can_pin_messages=False``.
    """
    if status not in MEMBER_STATUSES:
        raise ValueError(
            f"unknown chat member status {status!r}; expected one of {MEMBER_STATUSES}"
        )
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
            can_manage_topics=False,
        )
    elif status == "restricted":
        member.update(
            is_member=True,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_send_messages=False,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_manage_topics=False,
            until_date=0,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=False,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_edit_tag=False,
            can_react_to_messages=False,
        )
    elif status == "kicked":
        member["until_date"] = 0
    member.update(overrides)
    return member


def _message(
    chat: JSON,
    sender: JSON | None,
    *,
    message_id: int | None = None,
    date: int | None = None,
    **content: Any,
) -> JSON:
    message: JSON = {
        "message_id": message_id if message_id is not None else next_message_id(),
        "date": date if date is not None else now(),
        "chat": chat,
    }
    if sender is not None:
        message["from"] = sender
    message.update(content)
    return message


def _private(
    user_id: int, *, language_code: str | None, first_name: str, username: str | None = None
) -> tuple[JSON, JSON]:
    user = user_dict(user_id, first_name=first_name, language_code=language_code, username=username)
    chat = chat_dict(user_id, chat_type="private", first_name=first_name, username=username)
    return user, chat


def _file(prefix: str) -> JSON:
    n = next(_file_ids)
    return {"file_id": f"{prefix}-{n}", "file_unique_id": f"u{prefix}{n}"}


# --------------------------------------------------------------------------- private chat


def private_message(
    user_id: int,
    *,
    language_code: str | None = "fr",
    first_name: str = "Test",
    username: str | None = None,
    message_id: int | None = None,
    **content: Any,
) -> JSON:
    """A ``message`` update in the private chat with ``user_id``; ``content`` is merged in."""
    user, chat = _private(
        user_id, language_code=language_code, first_name=first_name, username=username
    )
    return {"message": _message(chat, user, message_id=message_id, **content)}


def private_text(
    user_id: int,
    text: str,
    *,
    language_code: str | None = "fr",
    first_name: str = "Test",
    username: str | None = None,
    message_id: int | None = None,
) -> JSON:
    """A plain text message from ``user_id`` in its private chat with the bot."""
    return private_message(
        user_id,
        language_code=language_code,
        first_name=first_name,
        username=username,
        message_id=message_id,
        text=text,
    )


def command_text_and_entity(
    command: str, args: str = "", bot_username: str | None = None
) -> tuple[str, JSON]:
    """``("/cmd@bot args", bot_command entity)`` for a command name with or without ``/``."""
    name = command if command.startswith("/") else f"/{command}"
    if bot_username:
        name = f"{name}@{bot_username.lstrip('@')}"
    text = f"{name} {args}" if args else name
    entity: JSON = {"type": "bot_command", "offset": 0, "length": utf16_len(name)}
    return text, entity


def private_command(
    user_id: int,
    command: str,
    args: str = "",
    *,
    language_code: str | None = "fr",
    first_name: str = "Test",
    username: str | None = None,
    message_id: int | None = None,
) -> JSON:
    """``/command args`` in a private chat, with the ``bot_command`` entity that PTB's
    ``CommandHandler`` needs."""
    text, entity = command_text_and_entity(command, args)
    return private_message(
        user_id,
        language_code=language_code,
        first_name=first_name,
        username=username,
        message_id=message_id,
        text=text,
        entities=[entity],
    )


def callback(
    user_id: int,
    message: SentMessage | Mapping[str, Any],
    data: str,
    *,
    query_id: str | None = None,
    language_code: str | None = "fr",
    first_name: str = "Test",
    username: str | None = None,
) -> JSON:
    """A ``callback_query``: ``user_id`` pressed a button of ``message`` (stored bot message
    or dict)."""
    as_dict = getattr(message, "to_dict", None)
    msg: JSON = as_dict() if callable(as_dict) else dict(message)  # type: ignore[arg-type]
    chat_id = msg["chat"]["id"]
    return {
        "callback_query": {
            "id": query_id if query_id is not None else str(next(_callback_ids)),
            "from": user_dict(
                user_id, first_name=first_name, language_code=language_code, username=username
            ),
            "chat_instance": str(abs(hash(("chat_instance", chat_id))) % 10**18),
            "message": msg,
            "data": data,
        }
    }


def sticker(user_id: int, *, emoji: str = "😀", message_id: int | None = None) -> JSON:
    """A sticker message in a private chat."""
    return private_message(
        user_id,
        message_id=message_id,
        sticker={
            **_file("sticker"),
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
            "set_name": "TestStickers",
        },
    )


def photo(user_id: int, *, caption: str | None = None, message_id: int | None = None) -> JSON:
    """A photo message (two sizes, like Telegram sends) in a private chat."""
    base = _file("photo")
    sizes = [
        {**base, "file_id": base["file_id"] + "-s", "width": 90, "height": 67, "file_size": 1200},
        {**base, "width": 1280, "height": 960, "file_size": 98000},
    ]
    content: JSON = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return private_message(user_id, message_id=message_id, **content)


def voice(user_id: int, *, duration: int = 3, message_id: int | None = None) -> JSON:
    """A voice note in a private chat."""
    return private_message(
        user_id,
        message_id=message_id,
        voice={**_file("voice"), "duration": duration, "mime_type": "audio/ogg", "file_size": 9000},
    )


def document(
    user_id: int, *, file_name: str = "capture.pdf", message_id: int | None = None
) -> JSON:
    """A document (file) in a private chat."""
    return private_message(
        user_id,
        message_id=message_id,
        document={**_file("document"), "file_name": file_name, "mime_type": "application/pdf"},
    )


def edited_text(
    user_id: int,
    text: str,
    *,
    message_id: int | None = None,
    language_code: str | None = "fr",
    first_name: str = "Test",
) -> JSON:
    """An ``edited_message`` update: the user edited one of their earlier text messages."""
    user, chat = _private(user_id, language_code=language_code, first_name=first_name)
    stamp = now()
    msg = _message(chat, user, message_id=message_id, date=stamp - 5, text=text, edit_date=stamp)
    return {"edited_message": msg}


# --------------------------------------------------------------------------- groups & channels


def _group_chat(chat_id: int, chat_type: str, title: str | None) -> JSON:
    return chat_dict(chat_id, chat_type=chat_type, title=title)


def _group_sender(
    chat: JSON, user_id: int, sender_chat: int | Mapping[str, Any] | None
) -> tuple[JSON, JSON | None]:
    if sender_chat is None:
        return user_dict(user_id), None
    if isinstance(sender_chat, Mapping):
        sc = dict(sender_chat)
    elif sender_chat == chat["id"]:
        sc = dict(chat)
    else:
        sc = chat_dict(sender_chat, chat_type="channel", title=f"Channel {sender_chat}")
    if sc["id"] == chat["id"]:
        bot = user_dict(
            ANONYMOUS_ADMIN_ID, first_name="Group", username="GroupAnonymousBot", is_bot=True
        )
    else:
        bot = user_dict(CHANNEL_BOT_ID, first_name="Channel", username="Channel_Bot", is_bot=True)
    return bot, sc


def group_text(
    chat_id: int,
    user_id: int,
    text: str,
    *,
    chat_type: str = "group",
    title: str | None = None,
    message_id: int | None = None,
    sender_chat: int | Mapping[str, Any] | None = None,
) -> JSON:
    """A plain text message by ``user_id`` in a group/supergroup."""
    chat = _group_chat(chat_id, chat_type, title)
    sender, sc = _group_sender(chat, user_id, sender_chat)
    content: JSON = {"text": text}
    if sc is not None:
        content["sender_chat"] = sc
    return {"message": _message(chat, sender, message_id=message_id, **content)}


def group_command(
    chat_id: int,
    user_id: int,
    command: str,
    *,
    args: str = "",
    chat_type: str = "group",
    bot_username: str | None = None,
    sender_chat: int | Mapping[str, Any] | None = None,
    title: str | None = None,
    message_id: int | None = None,
) -> JSON:
    """``/command[@bot_username] args`` sent in a group.

    ``sender_chat``: the chat id (or dict) the message is sent on behalf of.  Equal to
    ``chat_id`` means an anonymous admin (``from`` = GroupAnonymousBot); another id means a
    channel posting into the group (``from`` = Channel_Bot).
    """
    chat = _group_chat(chat_id, chat_type, title)
    sender, sc = _group_sender(chat, user_id, sender_chat)
    text, entity = command_text_and_entity(command, args, bot_username)
    content: JSON = {"text": text, "entities": [entity]}
    if sc is not None:
        content["sender_chat"] = sc
    return {"message": _message(chat, sender, message_id=message_id, **content)}


def edited_group_command(
    chat_id: int,
    user_id: int,
    command: str,
    *,
    message_id: int,
    args: str = "",
    chat_type: str = "group",
    bot_username: str | None = None,
) -> JSON:
    """An ``edited_message`` update: ``user_id`` changed their ``/command`` in a group to
    ``/command[@bot_username] args``."""
    update = group_command(
        chat_id,
        user_id,
        command,
        args=args,
        chat_type=chat_type,
        bot_username=bot_username,
        message_id=message_id,
    )
    message = update["message"]
    message["edit_date"] = message["date"]
    message["date"] -= 5
    return {"edited_message": message}


def chat_member_update(
    chat_id: int,
    user_id: int,
    old_status: str,
    new_status: str,
    *,
    is_bot: bool = False,
    actor_id: int | None = None,
    chat_type: str | None = None,
    bot_username: str | None = None,
    new_member_overrides: Mapping[str, Any] | None = None,
) -> JSON:
    """A membership change of ``user_id`` in ``chat_id``.

    ``is_bot=True`` means ``user_id`` is the bot itself (pass ``api.bot_id``): the update is a
    ``my_chat_member`` (e.g. a user blocking the bot in private: ``chat_id=user``,
    ``"member" -> "kicked"``).  Otherwise it is a ``chat_member`` update (only delivered
    when the bot asked for it in ``allowed_updates``).

    ``actor_id`` (the ``from``) defaults to the private chat's user, else to ``user_id``.
    """
    if actor_id is None:
        actor_id = chat_id if chat_id > 0 else user_id
    member_user = (
        user_dict(user_id, first_name="Relais", username=bot_username, is_bot=True)
        if is_bot
        else user_dict(user_id)
    )
    new_member = chat_member_dict(member_user, new_status, **dict(new_member_overrides or {}))
    payload: JSON = {
        "chat": chat_dict(chat_id, chat_type=chat_type),
        "from": user_dict(actor_id),
        "date": now(),
        "old_chat_member": chat_member_dict(member_user, old_status),
        "new_chat_member": new_member,
    }
    return {"my_chat_member" if is_bot else "chat_member": payload}


def migrate(chat_id: int, new_chat_id: int, *, user_id: int = 1) -> JSON:
    """The service message a group receives when upgraded to supergroup ``new_chat_id``."""
    chat = chat_dict(chat_id, chat_type="group")
    return {"message": _message(chat, user_dict(user_id), migrate_to_chat_id=new_chat_id)}


def migrated_from(new_chat_id: int, old_chat_id: int, *, user_id: int = 1) -> JSON:
    """The companion service message in the new supergroup (``migrate_from_chat_id``)."""
    chat = chat_dict(new_chat_id, chat_type="supergroup")
    return {"message": _message(chat, user_dict(user_id), migrate_from_chat_id=old_chat_id)}


def channel_post(chat_id: int, text: str, *, title: str | None = None) -> JSON:
    """A ``channel_post`` update (no ``from``; ``sender_chat`` is the channel)."""
    chat = chat_dict(chat_id, chat_type="channel", title=title)
    return {"channel_post": _message(chat, None, sender_chat=chat, text=text)}


def new_members(
    chat_id: int,
    user_ids: Iterable[int],
    *,
    chat_type: str | None = None,
    actor_id: int | None = None,
    bot_id: int | None = None,
    bot_username: str | None = None,
) -> JSON:
    """``new_chat_members`` service message.  Ids equal to ``bot_id`` are rendered as the bot."""
    ids = list(user_ids)
    if not ids:
        raise ValueError("new_members needs at least one user id")
    members = [
        user_dict(uid, first_name="Relais", username=bot_username, is_bot=True)
        if uid == bot_id
        else user_dict(uid)
        for uid in ids
    ]
    sender = user_dict(actor_id) if actor_id is not None else members[0]
    chat = chat_dict(chat_id, chat_type=chat_type)
    return {"message": _message(chat, sender, new_chat_members=members)}
